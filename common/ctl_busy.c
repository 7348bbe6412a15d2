/* SPDX-License-Identifier: MIT */
/*
 * ctl_busy: the busy reply (the jobs running now) as msgpack, described by
 * field tables like the status reply, so JSON follows the same list.
 * Pure functions: no I/O, no logging.
 */
#include <stdlib.h>

#include "ctl.h"

#define BF(name, type, member) CTL_FIELD(struct ctl_busy, name, type, member)
#define JF(name, type, member) CTL_FIELD(struct ctl_busy_job, name, type, member)

const struct ctl_field ctl_busy_fields[] = {
	BF("total", CTL_F_U32, bz_total),
	BF("limit", CTL_F_U32, bz_limit),
	{ NULL, CTL_F_I32, 0, 0 },
};

const struct ctl_field ctl_busy_job_fields[] = {
	JF("jid", CTL_F_STR, bj_jid),
	JF("jobtype", CTL_F_STR, bj_jobtype),
	JF("queue", CTL_F_STR, bj_queue),
	JF("child", CTL_F_I32, bj_child),
	JF("pid", CTL_F_I32, bj_pid),
	JF("running_ms", CTL_F_U64, bj_running_ms),
	{ NULL, CTL_F_I32, 0, 0 },
};

void
ctl_busy_pack(msgpack_packer *pk, const struct ctl_busy *bz)
{
	ctl_fields_pack(pk, ctl_busy_fields, bz, 1);
	ctl_mp_pack_str(pk, "jobs");
	msgpack_pack_array(pk, bz->bz_njobs);
	for (uint32_t i = 0; i < bz->bz_njobs; i++)
		ctl_fields_pack(pk, ctl_busy_job_fields, &bz->bz_jobs[i], 0);
}

struct ctl_busy *
ctl_busy_unpack(const msgpack_object *o)
{
	struct ctl_busy *bz;
	int r = 0;

	if (o->type != MSGPACK_OBJECT_MAP || (bz = calloc(1, sizeof(*bz))) == NULL)
		return NULL;
	for (uint32_t i = 0; i < o->via.map.size && r == 0; i++) {
		const msgpack_object *k = &o->via.map.ptr[i].key;
		const msgpack_object *v = &o->via.map.ptr[i].val;
		void *rows = NULL;

		if (ctl_mp_key_is(k, "jobs")) {
			if (bz->bz_jobs != NULL) {
				r = -1;
				break;
			}
			r = ctl_rows_unpack(v, ctl_busy_job_fields, sizeof(*bz->bz_jobs), &rows,
			    &bz->bz_njobs);
			bz->bz_jobs = rows;
		} else {
			r = ctl_field_unpack(k, v, ctl_busy_fields, bz);
		}
	}
	if (r == -1) {
		ctl_busy_free(bz);
		return NULL;
	}
	return bz;
}

void
ctl_busy_free(struct ctl_busy *bz)
{
	if (bz == NULL)
		return;
	free(bz->bz_jobs);
	free(bz);
}
