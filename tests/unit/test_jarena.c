/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for common/jarena.c: jansson parses into arena blocks, reuses
 * them job after job, spills what does not fit to malloc, rejects what it
 * rejected without arenas (same error, same position), and leaves values
 * made outside a parse, or on another thread, to malloc and free.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jarena.h"
#include "unit_util.h"
#include "util.h"

#define NBLOCKS	4

static const char job_text[] =
    "{\"retry\":25,\"jid\":\"job-00000001\",\"queue\":\"default\",\"jobtype\":\"noop\","
    "\"created_at\":\"2026-12-04T01:00:50.562169542Z\","
    "\"enqueued_at\":\"2026-12-04T01:00:50.562177944Z\",\"args\":[1,\"two\",{\"x\":3.5}],"
    "\"custom\":{\"trace\":\"abc\"}}";

static void
setup(void)
{
	ck_assert_int_eq(jarena_init(NBLOCKS, JARENA_BLOCK), 0);
	ck_assert_uint_eq(jarena_free_blocks(), NBLOCKS);
}

static void
teardown(void)
{
	jarena_fini();
}

/* Parses s[0..n) the way a job is parsed: into a, which must hold no block. */
static json_t *
parse_in(struct jarena *a, const char *s, size_t n, json_error_t *e)
{
	json_t *o;

	jarena_begin(a);
	o = json_loadb(s, n, JSON_ALLOW_NUL, e);
	jarena_end(a);
	return o;
}

/* As wrk_job_clear ends a job: the tree dropped, then the block given back. */
static void
drop(struct jarena *a, json_t *o)
{
	json_decref(o);
	jarena_release(a);
	ck_assert_ptr_null(a->ja_block);
}

START_TEST(test_init_refuses_bad_sizes_and_a_second_setup)
{
	/* The fixture set one up: a second is refused, the first stays. */
	errno = 0;
	ck_assert_int_eq(jarena_init(2, 1024), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(jarena_free_blocks(), NBLOCKS);
	jarena_fini();
	ck_assert_int_eq(jarena_init(0, 1024), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(jarena_init(2, 0), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(jarena_init(SIZE_MAX / 64, 1 << 20), -1);
	ck_assert_uint_eq(jarena_free_blocks(), 0);
	/* Not set up: jansson allocates from malloc, an arena gets no block. */
	{
		struct jarena a = { 0 };
		json_t *o = parse_in(&a, job_text, strlen(job_text), NULL);

		ck_assert_ptr_nonnull(o);
		ck_assert_ptr_null(a.ja_block);
		ck_assert(!jarena_owns(o));
		drop(&a, o);
	}
	ck_assert_int_eq(jarena_init(NBLOCKS, JARENA_BLOCK), 0);
}
END_TEST

/* Job after job, in every order a slot finishes them: blocks are reused, none lost. */
START_TEST(test_many_jobs_reuse_the_blocks)
{
	struct jarena a[NBLOCKS] = { { 0 } }, b = { 0 };
	json_t *o[NBLOCKS] = { 0 }, *p;
	char *last = NULL;
	int bad = 0;

	/* Check writes a file per assertion: the loop counts its failures instead. */
	for (int n = 0; n < 200000; n++) {
		int k = (n * 7 + n / 3) % NBLOCKS;	/* jobs end out of order */
		json_t *v;

		if (o[k] != NULL)
			drop(&a[k], o[k]);
		o[k] = parse_in(&a[k], job_text, strlen(job_text), NULL);
		if (o[k] == NULL || a[k].ja_block == NULL) {
			ck_abort_msg("job %d: no tree or no block", n);
			break;
		}
		/* A typical job fits its block: every value is arena memory, nothing spilled. */
		bad += a[k].ja_spilled != 0 || a[k].ja_used > 4096 || !jarena_owns(o[k]);
		v = json_object_get(o[k], "enqueued_at");
		bad += !jarena_owns(v) || !jarena_owns(json_string_value(v)) ||
		    strcmp(json_string_value(v), "2026-12-04T01:00:50.562177944Z") != 0;
		bad += json_integer_value(json_object_get(o[k], "retry")) != 25;
		bad += json_real_value(json_object_get(json_array_get(json_object_get(o[k],
		    "args"), 2), "x")) != 3.5;
	}
	ck_assert_int_eq(bad, 0);
	ck_assert_uint_eq(jarena_free_blocks(), 0);
	for (int k = 0; k < NBLOCKS; k++) {
		last = a[k].ja_block;
		drop(&a[k], o[k]);
	}
	ck_assert_uint_eq(jarena_free_blocks(), NBLOCKS);
	/* The last block given back is the next taken (a stack: the cache-warm one). */
	p = parse_in(&b, job_text, strlen(job_text), NULL);
	ck_assert_ptr_eq(b.ja_block, last);
	drop(&b, p);
}
END_TEST

/* A job larger than a block: what does not fit comes from malloc, the tree is whole. */
START_TEST(test_job_bigger_than_a_block_spills_to_malloc)
{
	struct jarena a = { 0 };
	size_t big = 3 * JARENA_BLOCK, n = 0;
	char *s = malloc(big + 65536);	/* the fields below take 32 KiB */
	json_t *o, *ref, *v;

	ck_assert_ptr_nonnull(s);
	n += (size_t)sprintf(s + n, "{\"jid\":\"big-1\",\"jobtype\":\"noop\",\"args\":[");
	for (int i = 0; i < 2000; i++)
		n += (size_t)sprintf(s + n, "%s{\"k%d\":%d}", i ? "," : "", i, i);
	n += (size_t)sprintf(s + n, ",\"");
	memset(s + n, 'x', big);
	n += big;
	n += (size_t)sprintf(s + n, "\"]}");

	o = parse_in(&a, s, n, NULL);
	ck_assert_ptr_nonnull(o);
	ck_assert_ptr_nonnull(a.ja_block);
	ck_assert_uint_gt(a.ja_spilled, 0);
	ck_assert_uint_le(a.ja_used, JARENA_BLOCK);
	/* The first values are in the block, the long string (and the tail) from malloc. */
	ck_assert(jarena_owns(o));
	v = json_array_get(json_object_get(o, "args"), 2000);
	ck_assert(!jarena_owns(json_string_value(v)));
	ck_assert_uint_eq(json_string_length(v), big);
	/* The same tree as jansson builds without an arena. */
	ref = json_loadb(s, n, JSON_ALLOW_NUL, NULL);
	ck_assert(!jarena_owns(ref));
	ck_assert(json_equal(o, ref));
	json_decref(ref);
	/* The decref frees what spilled (ASan and valgrind check no leak); the block goes back. */
	drop(&a, o);
	ck_assert_uint_eq(jarena_free_blocks(), NBLOCKS);
	free(s);
}
END_TEST

/* More jobs at once than blocks: the extra ones parse into malloc, as before arenas. */
START_TEST(test_more_jobs_than_blocks)
{
	struct jarena a[NBLOCKS + 2] = { { 0 } };
	json_t *o[NBLOCKS + 2];

	for (int k = 0; k < NBLOCKS + 2; k++) {
		o[k] = parse_in(&a[k], job_text, strlen(job_text), NULL);
		ck_assert_ptr_nonnull(o[k]);
		ck_assert(k < NBLOCKS ? a[k].ja_block != NULL : a[k].ja_block == NULL);
		ck_assert(k < NBLOCKS ? jarena_owns(o[k]) : !jarena_owns(o[k]));
	}
	ck_assert_uint_eq(jarena_free_blocks(), 0);
	for (int k = NBLOCKS + 1; k >= 0; k--)
		drop(&a[k], o[k]);
	ck_assert_uint_eq(jarena_free_blocks(), NBLOCKS);
}
END_TEST

struct other {
	json_t	*ot_made;
	int	 ot_owned;
};

static void *
other_thread(void *arg)
{
	struct other *ot = arg;

	/* Another thread's jansson calls while the main thread's arena is current. */
	ot->ot_made = json_loadb(job_text, strlen(job_text), 0, NULL);
	ot->ot_owned = ot->ot_made == NULL || jarena_owns(ot->ot_made) ||
	    jarena_owns(json_object_get(ot->ot_made, "jid"));
	return NULL;
}

/*
 * Values made outside a parse (before, after, on another thread) come from
 * malloc, may go into an arena's tree, and outlive its block.
 */
START_TEST(test_values_outside_a_parse_outlive_the_block)
{
	static const char next_job[] = "{\"jid\":\"next\",\"args\":[\"overwrites the block\"]}";
	struct jarena a = { 0 }, b = { 0 };
	json_t *before = json_string("made before"), *o, *after, *copy, *other, *ref;
	struct other ot = { 0 };
	pthread_t t;
	char *dump;

	ck_assert(!jarena_owns(before));
	jarena_begin(&a);
	ck_assert_int_eq(pthread_create(&t, NULL, other_thread, &ot), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	o = json_loadb(job_text, strlen(job_text), 0, NULL);
	jarena_end(&a);
	ck_assert_ptr_nonnull(o);
	ck_assert(jarena_owns(o));
	ck_assert_ptr_nonnull(ot.ot_made);
	ck_assert_int_eq(ot.ot_owned, 0);

	/* Added to the tree after the parse: from malloc, the key table regrown from malloc. */
	after = json_string("made after");
	ck_assert(!jarena_owns(after));
	ck_assert_int_eq(json_object_set(o, "before", before), 0);
	ck_assert_int_eq(json_object_set(o, "after", after), 0);
	for (int i = 0; i < 64; i++) {
		char k[32];
		snprintf(k, sizeof(k), "extra%d", i);
		ck_assert_int_eq(json_object_set_new(o, k, json_integer(i)), 0);
	}
	copy = json_deep_copy(json_object_get(o, "args"));
	ck_assert(!jarena_owns(copy));
	dump = json_dumps(o, JSON_COMPACT);
	ck_assert(dump != NULL && !jarena_owns(dump));
	ck_assert_ptr_nonnull(strstr(dump, "\"after\":\"made after\""));
	/* Released as the C library's free releases it (plugins do): not arena memory. */
	free(dump);

	/* The job ends; its block is given back and taken by the next job. */
	drop(&a, o);
	other = parse_in(&b, next_job, strlen(next_job), NULL);
	ck_assert_ptr_nonnull(other);
	ck_assert(jarena_owns(other));

	/* What was made outside is intact: held by this test's own references. */
	ck_assert_str_eq(json_string_value(before), "made before");
	ck_assert_str_eq(json_string_value(after), "made after");
	ck_assert_int_eq(json_integer_value(json_array_get(copy, 0)), 1);
	ck_assert_str_eq(json_string_value(json_array_get(copy, 1)), "two");
	ref = json_loadb(job_text, strlen(job_text), 0, NULL);
	ck_assert(json_equal(ot.ot_made, ref));
	json_decref(ref);
	json_decref(before);
	json_decref(after);
	json_decref(copy);
	json_decref(ot.ot_made);
	drop(&b, other);
	ck_assert_uint_eq(jarena_free_blocks(), NBLOCKS);
}
END_TEST

/* Each rejected input: jansson's error with an arena is the one it gives without. */
START_TEST(test_rejects_what_it_rejected)
{
	static const char *const bad[] = {
		"",
		"{",
		"{\"jid\":\"badjson-1\",\"jobtype\":\"noop\",\"args\":[1,2",
		"{\"jid\":\"utf8-1\",\"jobtype\":\"noop\",\"args\":[\"\xff\xfe\"]}",
		"{\"jid\":\"utf8-2\",\"args\":[\"\xc3\"]}",
		"{\"jid\":\"utf8-3\",\"args\":[\"\xed\xa0\x80\"]}",	/* a surrogate, raw */
		"{\"jid\":\"esc-1\",\"args\":[\"\\ud800\"]}",	/* a lone surrogate, escaped */
		"{\"jid\":\"ctl-1\",\"args\":[\"a\tb\"]}",
		"{\"jid\":\"int-1\",\"args\":[123456789012345678901234567890]}",
		"{\"jid\":\"trail-1\",\"args\":[]} x",
		"{\"jid\":\"two-1\"}{\"jid\":\"two-2\"}",
		"{\"jid\":\"key-1\",args:[]}",
		"{\"jid\":\"comma-1\",\"args\":[1,],}",
		"{\"jid\":\"nan-1\",\"args\":[NaN]}",
		"[1,2,3",
		"\"just a string",
	};
	struct jarena a = { 0 };
	json_error_t e, ref;
	char deep[3000 * 2 + 64];
	size_t n;

	for (size_t i = 0; i <= FKW_NELEM(bad); i++) {
		const char *s = bad[i < FKW_NELEM(bad) ? i : 0];
		size_t len = strlen(s);

		if (i == FKW_NELEM(bad)) {
			/* Deeper than jansson's nesting limit. */
			n = (size_t)sprintf(deep, "{\"jid\":\"deep-1\",\"args\":");
			memset(deep + n, '[', 3000);
			memset(deep + n + 3000, ']', 3000);
			n += 6000;
			deep[n++] = '}';
			s = deep;
			len = n;
		}
		jarena_fini();
		ck_assert_ptr_null(json_loadb(s, len, JSON_ALLOW_NUL, &ref));
		ck_assert_int_eq(jarena_init(NBLOCKS, JARENA_BLOCK), 0);
		ck_assert_ptr_null(parse_in(&a, s, len, &e));
		ck_assert_msg(strcmp(e.text, ref.text) == 0 && e.position == ref.position,
		    "input %zu: \"%s\" at %d with an arena, \"%s\" at %d without", i, e.text,
		    e.position, ref.text, ref.position);
		ck_assert_ptr_nonnull(a.ja_block);
		jarena_release(&a);
		ck_assert_uint_eq(jarena_free_blocks(), NBLOCKS);
	}
	/* And what it accepted: "\u0000" inside a string (Faktory passes it through). */
	{
		const char *s = "{\"jid\":\"nul-1\",\"args\":[\"a\\u0000b\"]}";
		json_t *o = parse_in(&a, s, strlen(s), &e);

		ck_assert_ptr_nonnull(o);
		ck_assert_uint_eq(json_string_length(json_array_get(json_object_get(o, "args"), 0)),
		    3);
		drop(&a, o);
	}
}
END_TEST

int
main(void)
{
	const TTest *tests[] = {
		test_init_refuses_bad_sizes_and_a_second_setup, test_many_jobs_reuse_the_blocks,
		test_job_bigger_than_a_block_spills_to_malloc, test_more_jobs_than_blocks,
		test_values_outside_a_parse_outlive_the_block, test_rejects_what_it_rejected,
		NULL,
	};

	return unit_main("jarena", "core", setup, teardown, 0, tests);
}
