/* SPDX-License-Identifier: MIT */
/*
 * test_plugin: loads real plugins (the example .so from the build, and small
 * ones compiled here with $CC against worker/fkworker.h) and runs jobs
 * through them on a real loop. unit_job.c stands in for wrk_job.c: its
 * wrk_job_done records each result and, as wrk_job_clear does, drops the
 * job's JSON; a timeout is played as wrk_job_abort does it (hd_cancel, then
 * FAIL "Timeout").
 */
#include <check.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ev.h"
#include "util.h"
#include "wrk_job.h"
#include "unit_job.h"
#include "unit_util.h"

static char root[1024];
static char example_so[1200];
static char tmp_dir[64];

static void
setup(void)
{
	const char *r = getenv("FKW_ROOT"), *b = getenv("FKW_BUILD");
	char path[1200];

	ck_assert_ptr_nonnull(realpath(r != NULL ? r : ".", root));
	snprintf(path, sizeof(path), "%s/plugins/example.so", b != NULL ? b : "build");
	ck_assert_msg(realpath(path, example_so) != NULL, "%s: build it first", path);
	unit_tmpdir(tmp_dir, sizeof(tmp_dir), "fkw-plugin");
	ck_assert_ptr_nonnull(unit_loop = ev_loop_new());
	unit_job_clears = 1;
}

static void
teardown(void)
{
	wrk_plugin_unload_all();
	unit_tmpdir_remove(tmp_dir);
	ev_loop_free(unit_loop);
	unit_loop = NULL;
}

/* ==== Plugins compiled for the test ==== */

static const char probe_src[] =
    "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include <unistd.h>\n"
    "#include \"fkworker.h\"\n"
    "const int fkw_plugin_api_version = FKW_PLUGIN_API_VERSION;\n"
    "int init_calls, late_rc = 1, reg_checks = -1;\n"
    "static struct fkw_plugin *self;\n"
    "static const char *n(const char *s) { return s != NULL ? s : \"(null)\"; }\n"
    "static int probe(struct fkw_job *j, void *u) {\n"
    "  long long i = 0, k = 0; double d = 0; size_t len = 0; const char *js = fkw_job_json(j, &len);\n"
    "  int ri = fkw_job_arg_int(j, 0, &i), rd = fkw_job_arg_double(j, 1, &d), rk = fkw_job_arg_int(j, 2, &k);\n"
    "  fkw_job_set_data(j, u);\n"
    "  fkw_job_set_error(j, \"Probe\", \"jid=%s type=%s queue=%s nargs=%zu int0=%d:%lld dbl1=%d:%g \"\n"
    "    \"str2=%s int2=%d custom=%s nocustom=%s args=%s json=%d data=%s oob=%s latereg=%d\",\n"
    "    fkw_job_jid(j), fkw_job_type(j), fkw_job_queue(j), fkw_job_nargs(j), ri, i, rd, d,\n"
    "    n(fkw_job_arg_string(j, 2)), rk, n(fkw_job_custom_string(j, \"trace\")),\n"
    "    n(fkw_job_custom_string(j, \"nope\")), fkw_job_args_json(j),\n"
    "    len == strlen(js) && strstr(js, fkw_job_jid(j)) != NULL, (char *)fkw_job_get_data(j),\n"
    "    n(fkw_job_arg_string(j, 9)), fkw_register(self, \"late\", probe, NULL, NULL));\n"
    "  return FKW_FAIL;\n}\n"
    "static int inl(struct fkw_job *j, void *u) {\n"
    "  (void)u; fkw_job_fail(j, \"Inline\", \"first\"); return fkw_job_ack(j) == -1 ? FKW_ACK : 99;\n}\n"
    "static int bad(struct fkw_job *j, void *u) { (void)j; (void)u; return 7; }\n"
    "static int longmsg(struct fkw_job *j, void *u) {\n"
    "  char e[128]; (void)u; memset(e, 'E', 99); memcpy(e + 99, \"\\xc3\\xa9\", 3);\n"
    "  fkw_job_set_error(j, e, \"%0999d\\xc3\\xa9tail\", 0); return FKW_FAIL;\n}\n"
    "static int plainfail(struct fkw_job *j, void *u) { (void)j; (void)u; return FKW_FAIL; }\n"
    "static int star(struct fkw_job *j, void *u) {\n"
    "  (void)u; fkw_job_set_error(j, \"Star\", \"star got %s\", fkw_job_type(j)); return FKW_FAIL;\n}\n"
    "static void later(struct fkw_timer *t, void *a) { (void)t; fkw_job_fail(a, \"Later\", \"after the timer\"); }\n"
    "static int asyncfail(struct fkw_job *j, void *u) {\n"
    "  (void)u; return fkw_timer_start(10, later, j) != NULL ? FKW_ASYNC : FKW_ACK;\n}\n"
    "static void late(struct fkw_timer *t, void *a) { (void)t; late_rc = fkw_job_ack(a); }\n"
    "static int nocancel(struct fkw_job *j, void *u) {\n"
    "  long long ms = 300; (void)u; fkw_job_arg_int(j, 0, &ms);\n"
    "  return fkw_timer_start((uint64_t)ms, late, j) != NULL ? FKW_ASYNC : FKW_ACK;\n}\n"
    "struct w { int fd[2]; struct fkw_job *job; };\n"
    "static void wr(struct fkw_timer *t, void *a) { struct w *w = a; (void)t; (void)!write(w->fd[1], \"ping\", 4); }\n"
    "static void rd(struct fkw_watch *x, int fd, unsigned ev, void *a) {\n"
    "  struct w *w = a; char b[16] = { 0 }; (void)!read(fd, b, sizeof(b) - 1);\n"
    "  fkw_unwatch_fd(x); close(w->fd[0]); close(w->fd[1]);\n"
    "  fkw_job_fail(w->job, \"Watched\", \"got %s ev=%u\", b, ev); free(w);\n}\n"
    "static int watch(struct fkw_job *j, void *u) {\n"
    "  struct w *w = malloc(sizeof(*w)); (void)u; w->job = j; if (pipe(w->fd) == -1) return 99;\n"
    "  if (fkw_watch_fd(w->fd[0], FKW_EV_READ, rd, w) == NULL) return 99;\n"
    "  fkw_timer_start(20, wr, w); return FKW_ASYNC;\n}\n"
    "int fkw_plugin_init(struct fkw_plugin *p) {\n"
    "  self = p; init_calls++;\n"
    "  reg_checks = fkw_register(p, \"probe\", probe, NULL, \"udata\") == 0 &&\n"
    "    fkw_register(p, \"probe\", probe, NULL, NULL) == -1 && fkw_register(p, \"\", probe, NULL, NULL) == -1 &&\n"
    "    fkw_register(p, \"x\", NULL, NULL, NULL) == -1;\n"
    "  fkw_register(p, \"inline\", inl, NULL, NULL); fkw_register(p, \"bad\", bad, NULL, NULL);\n"
    "  fkw_register(p, \"plainfail\", plainfail, NULL, NULL); fkw_register(p, \"*\", star, NULL, NULL);\n"
    "  fkw_register(p, \"asyncfail\", asyncfail, NULL, NULL); fkw_register(p, \"nocancel\", nocancel, NULL, NULL);\n"
    "  fkw_register(p, \"watch\", watch, NULL, NULL);\n"
    "  fkw_register(p, \"long\", longmsg, NULL, NULL);\n"
    "  return 0;\n}\n"
    "void fkw_plugin_fini(void) {\n"
    "  const char *m = getenv(\"PROBE_MARK\"); FILE *f = m != NULL ? fopen(m, \"w\") : NULL; if (f != NULL) { fputs(\"fini\", f); fclose(f); }\n}\n";

/* Compiles src into tmp_dir/name.so; returns its path. */
static const char *
build_so(const char *name, const char *src)
{
	static char so[8][256];
	static int nso;
	const char *cc = getenv("CC") != NULL ? getenv("CC") : "cc", *c;
	char file[256], cmd[2048], *out = so[nso++ % 8];

	snprintf(file, sizeof(file), "%s.c", name);
	c = unit_write_file(tmp_dir, file, src);
	snprintf(out, 256, "%s/%s.so", tmp_dir, name);
	snprintf(cmd, sizeof(cmd), "%s -std=c11 -Wall -Werror -shared -fPIC -I%s/worker -o %s %s",
	    cc, root, out, c);
	ck_assert_msg(system(cmd) == 0, "cannot compile %s", c);
	return out;
}

static int *
probe_int(const char *so, const char *sym)
{
	void *dl = dlopen(so, RTLD_NOW | RTLD_NOLOAD);
	int *p;

	ck_assert_ptr_nonnull(dl);
	p = dlsym(dl, sym);
	dlclose(dl);
	ck_assert_ptr_nonnull(p);
	return p;
}

/* ==== Configuration and jobs ==== */

static struct conf_handler handlers[8];
static struct fkw_conf conf;

/* Routes: 0 echo, 1 delay, 2 "*" to path; 3 a builtin; then extra entries. */
static void
conf_make(const char *path)
{
	static const char *const types[] = { "echo", "delay", "*" };

	memset(handlers, 0, sizeof(handlers));
	memset(&conf, 0, sizeof(conf));
	for (int i = 0; i < 3; i++) {
		handlers[i].h_jobtype = (char *)(uintptr_t)types[i];
		handlers[i].h_kind = CONF_H_PLUGIN;
		handlers[i].h_plugin = (char *)(uintptr_t)path;
		handlers[i].h_line = 10 + i;
	}
	handlers[3].h_jobtype = (char *)(uintptr_t)"noop";
	handlers[3].h_kind = CONF_H_BUILTIN;
	handlers[3].h_builtin = (char *)(uintptr_t)"noop";
	conf.cf_handlers = handlers;
	conf.cf_nhandlers = 4;
}

static void
load_ok(const char *path)
{
	char err[512] = "";

	conf_make(path);
	ck_assert_msg(wrk_plugin_load_all(&conf, err, sizeof(err)) == 0, "%s", err);
}

static const char *
load_err(const char *path)
{
	static char err[512];

	conf_make(path);
	err[0] = '\0';
	ck_assert_int_eq(wrk_plugin_load_all(&conf, err, sizeof(err)), -1);
	return err;
}

/* A job of jobtype routed by handlers[route], args as JSON text. */
static void
tjob_start(struct unit_job *t, int route, const char *jobtype, const char *args)
{
	struct wrk_job *j = &t->tj_job;
	const struct wrk_handler *h;
	json_error_t e;
	char text[4096];

	memset(t, 0, sizeof(*t));
	snprintf(text, sizeof(text), "{\"jid\":\"jid-%s\",\"jobtype\":\"%s\",\"queue\":\"q7\","
	    "\"args\":%s,\"custom\":{\"trace\":\"abc\",\"n\":1}}", jobtype, jobtype, args);
	ck_assert_ptr_nonnull(j->jb_json = json_loads(text, 0, &e));
	j->jb_jid = json_string_value(json_object_get(j->jb_json, "jid"));
	j->jb_jid_len = strlen(j->jb_jid);
	j->jb_jobtype = json_string_value(json_object_get(j->jb_json, "jobtype"));
	j->jb_args = json_object_get(j->jb_json, "args");
	ck_assert_ptr_nonnull(j->jb_raw = strdup(text));
	j->jb_raw_len = strlen(text);
	j->jb_conf = &handlers[route];
	ck_assert_ptr_nonnull(h = wrk_plugin_handler(j->jb_conf));
	j->jb_handler = h;
	j->jb_inflight = -1;
	j->jb_state = WRK_JOB_RUNNING;
	ck_assert_int_eq(h->hd_start(j), 0);
}

/* ==== The example plugin ==== */

START_TEST(example_echo_acks)
{
	struct unit_job t;

	load_ok(example_so);
	ck_assert_ptr_null(wrk_plugin_handler(&handlers[3]));	/* not a plugin entry */
	tjob_start(&t, 0, "echo", "[\"hi\"]");
	ck_assert_int_eq(t.tj_calls, 1);	/* synchronous */
	ck_assert_int_eq(t.tj_ok, 1);
	ck_assert_ptr_null(t.tj_job.jb_hdata);
}
END_TEST

/* Jobs the example plugin fails at once (route: the entry of handlers[] the job takes). */
static const struct {
	int		 ef_route;
	const char	*ef_jobtype, *ef_args, *ef_errtype, *ef_msg;
} example_fails[] = {
	{ 0, "echo", "[42, true]", "BadArgs", "echo: args[0] must be a string, got [42,true]" },
	{ 1, "delay", "[\"soon\"]", "BadArgs",
	    "delay: args[0] must be milliseconds from 0 to 86400000" },
	/* "*" routes every jobtype to the plugin, which registered no "resize" */
	{ 2, "resize", "[]", "NoHandler", "plugin example.so has no handler for jobtype \"resize\"" },
};

START_TEST(example_fails_at_once)
{
	struct unit_job t;

	load_ok(example_so);
	tjob_start(&t, example_fails[_i].ef_route, example_fails[_i].ef_jobtype,
	    example_fails[_i].ef_args);
	ck_assert_int_eq(t.tj_calls, 1);
	ck_assert_int_eq(t.tj_ok, 0);
	ck_assert_str_eq(t.tj_errtype, example_fails[_i].ef_errtype);
	ck_assert_str_eq(t.tj_msg, example_fails[_i].ef_msg);
}
END_TEST

START_TEST(example_delay_completes_later)
{
	struct unit_job t;
	uint64_t ms;

	load_ok(example_so);
	tjob_start(&t, 1, "delay", "[150]");
	ck_assert_int_eq(t.tj_calls, 0);	/* FKW_ASYNC */
	ms = unit_jobs_wait(&t, 1, 3000);
	ck_assert_int_eq(t.tj_calls, 1);
	ck_assert_int_eq(t.tj_ok, 1);
	ck_assert_uint_ge(ms, 140);
	ck_assert_uint_lt(ms, 1000);
}
END_TEST

START_TEST(example_delay_many_at_once)
{
	static struct unit_job t[200];
	uint64_t t0 = now_ms();

	load_ok(example_so);
	for (int i = 0; i < 200; i++)
		tjob_start(&t[i], 1, "delay", i % 2 ? "[100]" : "[50]");
	unit_jobs_wait(t, 200, 3000);
	for (int i = 0; i < 200; i++) {
		ck_assert_int_eq(t[i].tj_calls, 1);
		ck_assert_int_eq(t[i].tj_ok, 1);
	}
	/* Waiting, not blocking: 200 jobs of up to 100 ms overlap. */
	ck_assert_uint_lt(now_ms() - t0, 1000);
}
END_TEST

START_TEST(example_delay_cancel_stops_timer)
{
	struct unit_job t;

	load_ok(example_so);
	tjob_start(&t, 1, "delay", "[100]");
	unit_job_timeout(&t);
	ck_assert_ptr_null(t.tj_job.jb_hdata);
	/* The slot is reused at once: a new job runs while the old timer must be gone. */
	tjob_start(&t, 1, "delay", "[250]");
	unit_loop_for(unit_loop, 150);
	ck_assert_int_eq(t.tj_calls, 0);
	unit_jobs_wait(&t, 1, 2000);
	ck_assert_int_eq(t.tj_calls, 1);
	ck_assert_int_eq(t.tj_ok, 1);
}
END_TEST

START_TEST(unload_calls_fini_and_reload_works)
{
	struct unit_job t;

	load_ok(example_so);
	wrk_plugin_unload_all();
	ck_assert_ptr_null(wrk_plugin_handler(&handlers[0]));
	load_ok(example_so);
	tjob_start(&t, 0, "echo", "[\"again\"]");
	ck_assert_int_eq(t.tj_ok, 1);
}
END_TEST

/* ==== Load errors ==== */

START_TEST(missing_so_is_clear)
{
	const char *err = load_err("/nonexistent/fkw-plugin.so");

	ck_assert_msg(strstr(err, "plugin /nonexistent/fkw-plugin.so: cannot load: ") == err, "%s", err);
	ck_assert_msg(strstr(err, "No such file or directory") != NULL, "%s", err);
}
END_TEST

/*
 * Plugins that do not load: the error is "plugin PATH: " then lf_err
 * (lf_exact), or names PATH and contains lf_err.
 */
static const struct {
	const char	*lf_name, *lf_src, *lf_err;
	int		 lf_exact;
} load_fails[] = {
	{ "noinit", "#include \"fkworker.h\"\n"
	    "const int fkw_plugin_api_version = FKW_PLUGIN_API_VERSION;\n",
	    "does not export fkw_plugin_init", 1 },
	{ "nover", "int fkw_plugin_init(void *p);\n"
	    "int fkw_plugin_init(void *p) { (void)p; return 0; }\n",
	    "no fkw_plugin_api_version symbol", 0 },
	{ "v99", "#include \"fkworker.h\"\n"
	    "const int fkw_plugin_api_version = 99;\n"
	    "int fkw_plugin_init(struct fkw_plugin *p) { (void)p; return 0; }\n",
	    "built for plugin API version 99; this fkworker provides version 1: rebuild it "
	    "against this fkworker.h", 1 },
	{ "initfail", "#include \"fkworker.h\"\n"
	    "const int fkw_plugin_api_version = FKW_PLUGIN_API_VERSION;\n"
	    "int fkw_plugin_init(struct fkw_plugin *p) {\n"
	    "  fkw_plugin_set_error(p, \"cannot reach %s\", \"db:5432\"); return -1; }\n",
	    "fkw_plugin_init failed: cannot reach db:5432", 1 },
	/* an init that registers nothing is refused */
	{ "noreg", "#include \"fkworker.h\"\n"
	    "const int fkw_plugin_api_version = FKW_PLUGIN_API_VERSION;\n"
	    "int fkw_plugin_init(struct fkw_plugin *p) { (void)p; return 0; }\n",
	    "registered no jobtype", 0 },
};

START_TEST(load_failure_is_clear)
{
	const char *so = build_so(load_fails[_i].lf_name, load_fails[_i].lf_src);
	const char *err = load_err(so);
	char want[512];

	if (load_fails[_i].lf_exact) {
		snprintf(want, sizeof(want), "plugin %s: %s", so, load_fails[_i].lf_err);
		ck_assert_str_eq(err, want);
	} else {
		ck_assert_msg(strstr(err, load_fails[_i].lf_err) != NULL, "%s", err);
		ck_assert_msg(strstr(err, so) != NULL, "%s", err);
	}
}
END_TEST

/* ==== The API, through the probe plugin ==== */

/* Builds the probe plugin and loads it ("*" routes every jobtype to it); returns its path. */
static const char *
load_probe(void)
{
	const char *so = build_so("probe", probe_src);

	load_ok(so);
	return so;
}

/* A probe job of jobtype that completes later (FKW_ASYNC), failed with errtype and msg. */
static void
fails_later(const char *jobtype, const char *errtype, const char *msg)
{
	struct unit_job t;

	tjob_start(&t, 2, jobtype, "[]");
	ck_assert_int_eq(t.tj_calls, 0);
	unit_jobs_wait(&t, 1, 2000);
	ck_assert_str_eq(t.tj_errtype, errtype);
	ck_assert_str_eq(t.tj_msg, msg);
}

START_TEST(api_accessors)
{
	const char *so = load_probe();
	struct unit_job t;

	ck_assert_int_eq(*probe_int(so, "reg_checks"), 1);
	tjob_start(&t, 2, "probe", "[7, 2.5, \"s\"]");
	ck_assert_int_eq(t.tj_calls, 1);
	ck_assert_str_eq(t.tj_errtype, "Probe");
	ck_assert_str_eq(t.tj_msg, "jid=jid-probe type=probe queue=q7 nargs=3 int0=0:7 "
	    "dbl1=0:2.5 str2=s int2=-1 custom=abc nocustom=(null) args=[7,2.5,\"s\"] json=1 "
	    "data=udata oob=(null) latereg=-1");
	tjob_start(&t, 2, "probe", "[7.0, 3, null]");
	ck_assert_msg(strstr(t.tj_msg, "int0=0:7 dbl1=0:3 str2=(null) int2=-1") != NULL, "%s",
	    t.tj_msg);
	tjob_start(&t, 2, "probe", "[7.5, \"x\"]");
	ck_assert_msg(strstr(t.tj_msg, "int0=-1:0 dbl1=-1:0 ") != NULL, "%s", t.tj_msg);
}
END_TEST

START_TEST(api_completion_rules)
{
	struct unit_job t;

	load_probe();
	/* Failed inside the handler, then a second completion: reported once. */
	tjob_start(&t, 2, "inline", "[]");
	ck_assert_int_eq(t.tj_calls, 1);
	ck_assert_str_eq(t.tj_errtype, "Inline");
	ck_assert_str_eq(t.tj_msg, "first");
	tjob_start(&t, 2, "bad", "[]");
	ck_assert_str_eq(t.tj_errtype, "PluginError");
	ck_assert_msg(strstr(t.tj_msg, "returned 7") != NULL, "%s", t.tj_msg);
	/* Cut to the FAIL limits (100 / 1000 bytes) without splitting the 2-byte "é". */
	tjob_start(&t, 2, "long", "[]");
	ck_assert_uint_eq(strlen(t.tj_errtype), 99);
	ck_assert_uint_eq(strlen(t.tj_msg), 999);
	ck_assert_int_eq(t.tj_msg[998], '0');
	tjob_start(&t, 2, "plainfail", "[]");
	ck_assert_str_eq(t.tj_errtype, "Failed");
	ck_assert_str_eq(t.tj_msg, "");
	tjob_start(&t, 2, "other.type", "[]");
	ck_assert_str_eq(t.tj_msg, "star got other.type");
	fails_later("asyncfail", "Later", "after the timer");
}
END_TEST

START_TEST(api_watch_fd)
{
	load_probe();
	fails_later("watch", "Watched", "got ping ev=1");
}
END_TEST

START_TEST(cancel_without_callback_ignores_late_ack)
{
	const char *so = load_probe();
	struct unit_job t;

	tjob_start(&t, 2, "nocancel", "[100]");
	unit_job_timeout(&t);
	unit_loop_for(unit_loop, 300);
	/* The plugin's timer fired and tried to ACK: refused, the job was reported once. */
	ck_assert_int_eq(*probe_int(so, "late_rc"), -1);
	ck_assert_int_eq(t.tj_calls, 1);
	ck_assert_str_eq(t.tj_errtype, "Timeout");
}
END_TEST

START_TEST(one_init_per_file)
{
	const char *so = build_so("probe", probe_src);
	char link[256], mark[256];
	struct stat st;

	snprintf(link, sizeof(link), "%s/alias.so", tmp_dir);
	ck_assert_int_eq(symlink(so, link), 0);
	snprintf(mark, sizeof(mark), "%s/fini", tmp_dir);
	setenv("PROBE_MARK", mark, 1);
	load_ok(so);
	/* A second entry through a symlink: same file, same handle, no second init. */
	handlers[4] = handlers[0];
	handlers[4].h_jobtype = (char *)(uintptr_t)"probe";
	handlers[4].h_plugin = link;
	conf.cf_nhandlers = 5;
	{
		char err[512];

		ck_assert_int_eq(wrk_plugin_load_all(&conf, err, sizeof(err)), 0);
	}
	ck_assert_int_eq(*probe_int(so, "init_calls"), 1);
	ck_assert_ptr_nonnull(wrk_plugin_handler(&handlers[4]));
	/* Unloading runs fini, and drops the timers the plugin left (its code is unmapped). */
	{
		struct unit_job t;

		tjob_start(&t, 2, "nocancel", "[100]");
		unit_job_timeout(&t);
	}
	wrk_plugin_unload_all();
	ck_assert_int_eq(stat(mark, &st), 0);
	unit_loop_for(unit_loop, 250);
}
END_TEST

int
main(void)
{
	const TTest *tests[] = {
		example_echo_acks, example_delay_completes_later, example_delay_many_at_once,
		example_delay_cancel_stops_timer, unload_calls_fini_and_reload_works,
		missing_so_is_clear, api_accessors, api_completion_rules, api_watch_fd,
		cancel_without_callback_ignores_late_ack, one_init_per_file, NULL,
	};
	Suite *s = suite_create("plugin");
	TCase *tc = unit_tcase(s, "plugin", setup, teardown, 30, tests);

	tcase_add_loop_test(tc, example_fails_at_once, 0, (int)FKW_NELEM(example_fails));
	tcase_add_loop_test(tc, load_failure_is_clear, 0, (int)FKW_NELEM(load_fails));
	return unit_run(s);
}
