/* SPDX-License-Identifier: MIT */
/*
 * brk_godec: json.Unmarshal into a Go struct, as far as clients can see it:
 * which JSON types each field accepts, null handling, key matching, and the
 * first type error's text ("json: cannot unmarshal string into Go struct
 * field Job.retry of type int").
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "brk.h"

/* "failure.retry_count": a field's path as Go names it in errors. */
static void
field_path(char *out, size_t outlen, const char *path, const char *name)
{
	snprintf(out, outlen, "%s%s%s", path ? path : "", path ? "." : "", name);
}

static int
type_err(char *err, size_t errlen, const char *what, const char *sname,
    const char *path, const char *name, const char *gotype)
{
	char fpath[160];

	field_path(fpath, sizeof(fpath), path, name);
	snprintf(err, errlen, "json: cannot unmarshal %s into Go struct field %s.%s of type %s",
	    what, sname, fpath, gotype);
	return -1;
}

/* A JSON number as Go's int (or uint8): integral and in range. */
static int
dec_int(const json_t *v, long long min, long long max, long long *out)
{
	double d = json_is_integer(v) ? (double)json_integer_value(v) : json_real_value(v);

	if (d != floor(d) || d < (double)min || d > (double)max ||
	    d >= 9223372036854775808.0)
		return -1;
	*out = (long long)d;
	return 0;
}

/*
 * path is the enclosing struct's (NULL at the top): every PUSHed job comes
 * here, so the field's own path is only built for an error.
 */
static int
dec_field(const json_t *v, const struct godec_field *f, struct godec_val *val,
    const char *sname, const char *path, char *err, size_t errlen)
{
	char what[48];
	struct buf nb;

	if (json_is_null(v)) {
		/* Pointers, slices and maps become nil; other kinds keep their value. */
		if (f->f_type == GD_INTPTR || f->f_type == GD_ANYLIST ||
		    f->f_type == GD_STRLIST || f->f_type == GD_MAP || f->f_type == GD_STRUCT)
			memset(val, 0, sizeof(*val));
		return 0;
	}
	switch (f->f_type) {
	case GD_STRING:
		if (!json_is_string(v))
			break;
		val->v_set = 1;
		val->v_str = json_string_value(v);
		val->v_len = json_string_length(v);
		return 0;
	case GD_INT:
	case GD_INTPTR:
	case GD_UINT8:
		if (!json_is_number(v))
			break;
		if (dec_int(v, f->f_type == GD_UINT8 ? 0 : INT64_MIN,
		    f->f_type == GD_UINT8 ? 255 : INT64_MAX, &val->v_int) == -1) {
			/* Go names the number: "number 1.5". */
			buf_init(&nb);
			gojson_num(&nb, json_number_value(v));
			snprintf(what, sizeof(what), "number %.*s", (int)buf_rlen(&nb),
			    buf_rptr(&nb));
			buf_free(&nb);
			return type_err(err, errlen, what, sname, path, f->f_name,
			    f->f_gotype);
		}
		val->v_set = 1;
		return 0;
	case GD_STRLIST:
		if (!json_is_array(v))
			break;
		for (size_t i = 0; i < json_array_size(v); i++) {
			const json_t *e = json_array_get(v, i);
			if (!json_is_string(e) && !json_is_null(e))
				return type_err(err, errlen, gojson_kind(e), sname, path,
				    f->f_name, "string");
		}
		val->v_set = 1;
		val->v_json = (json_t *)(uintptr_t)v;
		return 0;
	case GD_ANYLIST:
		if (!json_is_array(v))
			break;
		val->v_set = 1;
		val->v_json = (json_t *)(uintptr_t)v;
		return 0;
	case GD_MAP:
	case GD_STRUCT:
		if (!json_is_object(v))
			break;
		val->v_set = 1;
		val->v_json = (json_t *)(uintptr_t)v;
		return 0;
	case GD_TIME:
		if (!json_is_string(v))
			break;
		{
			int64_t ns;
			if (brk_rfc3339_parse(json_string_value(v), json_string_length(v),
			    &ns, err, errlen) == -1)
				return -1;
		}
		val->v_set = 1;
		return 0;
	}
	return type_err(err, errlen, gojson_kind(v), sname, path, f->f_name, f->f_gotype);
}

int
godec_struct(const json_t *o, const struct godec_struct *s, struct godec_val *vals,
    const char *path, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	memset(vals, 0, s->s_nfields * sizeof(*vals));
	json_object_foreach((json_t *)(uintptr_t)o, key, v) {
		const struct godec_field *f = NULL;
		size_t i;

		for (i = 0; i < s->s_nfields && f == NULL; i++)
			if (strcmp(s->s_fields[i].f_name, key) == 0)
				f = &s->s_fields[i];
		for (i = 0; i < s->s_nfields && f == NULL; i++)
			if (strcasecmp(s->s_fields[i].f_name, key) == 0)
				f = &s->s_fields[i];
		if (f == NULL)
			continue;
		if (dec_field(v, f, &vals[f - s->s_fields], s->s_name, path, err, errlen) == -1)
			return -1;
		if (f->f_type == GD_STRUCT && vals[f - s->s_fields].v_set) {
			/* Nested values are checked now, in document order, as Go does. */
			struct godec_val sub[16];
			char fpath[160];
			FKW_ASSERT(f->f_sub->s_nfields <= FKW_NELEM(sub));
			field_path(fpath, sizeof(fpath), path, f->f_name);
			if (godec_struct(v, f->f_sub, sub, fpath, err, errlen) == -1)
				return -1;
		}
	}
	return 0;
}
