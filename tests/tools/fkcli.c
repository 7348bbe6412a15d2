/* SPDX-License-Identifier: MIT */
/*
 * fkcli: a small blocking Faktory client for tests and scripts.
 *
 *   fkcli [-u URL] [-w WID] [-p PASSWORD] [-r] [-P] CMD...
 *	Sends each command, prints each reply on its own line (bulk bodies raw,
 *	null as (nil), errors as the -ERR line; -r: every reply's bytes escaped).
 *	An argument with a space is one whole command line; single words are
 *	joined to the command before them unless they look like a verb (all
 *	capitals), so "fkcli XSTATE wid quiet" sends one line. -P writes all
 *	commands at once (pipelined). Exit 0 if no reply was an error.
 *   fkcli [-u URL] push -n N [--jobtype T] [--queue Q] [--prefix P] [--batch B]
 *	[--args JSON] [--retry R] [--reserve-for S] [--rate R]
 *	Pushes N jobs with jids P-00000001.. (PUSHB batches; PUSH when B is 1);
 *	--rate: no faster than R jobs a second (one batch in flight at a time).
 *   fkcli [-u URL] wait-done N [--timeout S]   polls fkbroker's XAUDIT until done >= N
 *   fkcli [-u URL] audit                       prints fkbroker's XAUDIT
 *
 * URL defaults to $FAKTORY_URL, then tcp://127.0.0.1:7419.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fkp.h"
#include "net.h"
#include "util.h"

#define IO_TIMEOUT_MS	10000
#define CONNECT_TRY_MS	5000	/* keeps retrying through --refuse-ms windows */
#define MAX_BULK	(256u << 20)

struct cli {
	int		 fd;
	struct buf	 in;
	const char	*url;
	const char	*wid;
	const char	*password;
	int		 eof;
};

static void
die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void
die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fkcli: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(code);
}

static void
usage(void)
{
	fprintf(stderr, "usage: fkcli [-u URL] [-w WID] [-p PASSWORD] [-r] [-P] CMD...\n"
	    "       fkcli [-u URL] push -n N [--jobtype T] [--queue Q] [--prefix P] [--batch B]\n"
	    "             [--args JSON] [--retry R] [--reserve-for S] [--rate R]\n"
	    "       fkcli [-u URL] wait-done N [--timeout S]\n"
	    "       fkcli [-u URL] audit\n");
	exit(64);
}

/* ---- I/O ---- */

static int
wait_fd(int fd, short ev, int ms)
{
	struct pollfd p = { fd, ev, 0 };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r == -1 && errno == EINTR);
	return r;
}

static void
send_all(struct cli *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(c->fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1 && errno == EAGAIN) {
			wait_fd(c->fd, POLLOUT, IO_TIMEOUT_MS);
			continue;
		}
		if (w <= 0)
			die(2, "write: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
}

/* One reply into r (pointing into c->in); 0, or -1 at EOF. Consume with buf_consume. */
static int
read_reply(struct cli *c, struct fkp_reply *r, size_t *used, int timeout_ms)
{
	char err[128];
	ssize_t n;

	for (;;) {
		n = fkp_reply_parse(buf_rptr(&c->in), buf_rlen(&c->in), MAX_BULK, r, err,
		    sizeof(err));
		if (n < 0)
			die(2, "bad reply: %s", err);
		if (n > 0) {
			*used = (size_t)n;
			return 0;
		}
		if (c->eof)
			return -1;
		if (wait_fd(c->fd, POLLIN, timeout_ms) == 0)
			die(2, "no reply within %d ms", timeout_ms);
		if (buf_reserve(&c->in, 64 << 10) == -1)
			die(2, "out of memory");
		n = read(c->fd, c->in.b_data + c->in.b_len, c->in.b_cap - c->in.b_len);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			c->eof = 1;
		else
			c->in.b_len += (size_t)n;
	}
}

static int
try_connect(struct cli *c, const struct fkp_url *u, char *err, size_t errlen)
{
	struct fkp_reply r;
	struct fkp_hi hi;
	struct fkp_hello h;
	struct net_addr na;
	struct buf out;
	const char *labels[] = { "fkcli" };
	char host[256] = "fkcli", hash[65];
	size_t used;

	if (net_resolve(u->u_host, u->u_port, &na, err, errlen) == -1)
		return -2;
	if ((c->fd = net_connect_timeout(&na, 2000, err, errlen)) == -1)
		return -1;
	buf_reset(&c->in);
	c->eof = 0;
	if (read_reply(c, &r, &used, IO_TIMEOUT_MS) == -1 || r.r_type != FKP_R_SIMPLE) {
		snprintf(err, errlen, "no greeting (connection closed)");
		close(c->fd);
		return -1;
	}
	if (fkp_hi_parse(r.r_data, r.r_len, &hi, err, errlen) == -1)
		return -2;
	buf_consume(&c->in, used);
	memset(&h, 0, sizeof(h));
	gethostname(host, sizeof(host) - 1);
	h.h_wid = c->wid;
	h.h_hostname = host;
	h.h_pid = getpid();
	h.h_labels = labels;
	h.h_nlabels = 1;
	if (hi.hi_has_salt) {
		if (c->password == NULL)
			die(2, "the server wants a password (-p or the URL)");
		fkp_pwdhash(c->password, hi.hi_salt, hi.hi_iter, hash);
		h.h_pwdhash = hash;
	}
	buf_init(&out);
	if (fkp_enc_hello(&out, &h) == -1)
		die(2, "HELLO: out of memory");
	send_all(c, out.b_data, out.b_len);
	buf_free(&out);
	if (read_reply(c, &r, &used, IO_TIMEOUT_MS) == -1)
		die(2, "connection closed after HELLO");
	if (r.r_type != FKP_R_SIMPLE || r.r_len != 2 || memcmp(r.r_data, "OK", 2) != 0)
		die(2, "HELLO refused: %.*s", (int)r.r_len, r.r_data);
	buf_consume(&c->in, used);
	return 0;
}

static void
cli_connect(struct cli *c)
{
	struct fkp_url u;
	char err[256];
	uint64_t until = now_ms() + CONNECT_TRY_MS;
	int r;

	if (fkp_url_parse(c->url, &u, err, sizeof(err)) == -1)
		die(64, "%s", err);
	if (c->password == NULL && u.u_password[0] != '\0') {
		static char pw[sizeof(u.u_password)];
		memcpy(pw, u.u_password, sizeof(pw));
		c->password = pw;
	}
	while ((r = try_connect(c, &u, err, sizeof(err))) == -1 && now_ms() < until)
		usleep(100 * 1000);
	if (r != 0)
		die(2, "%s: %s", c->url, err);
}

static void
cli_close(struct cli *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* ---- printing ---- */

static void
print_escaped(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch == '\r')
			fputs("\\r", stdout);
		else if (ch == '\n')
			fputs("\\n", stdout);
		else if (ch == '\\')
			fputs("\\\\", stdout);
		else if (ch < 0x20 || ch > 0x7e)
			printf("\\x%02x", ch);
		else
			putchar(ch);
	}
	putchar('\n');
}

/* Prints one reply; 1 if it was an error. */
static int
print_reply(const struct fkp_reply *r, const char *raw, size_t n, int escaped)
{
	if (escaped) {
		print_escaped(raw, n);
		return r->r_type == FKP_R_ERROR;
	}
	switch (r->r_type) {
	case FKP_R_SIMPLE:
		printf("%.*s\n", (int)r->r_len, r->r_data);
		return 0;
	case FKP_R_ERROR:
		printf("-%.*s\n", (int)r->r_len, r->r_data);
		return 1;
	case FKP_R_BULK:
		fwrite(r->r_data, 1, r->r_len, stdout);
		putchar('\n');
		return 0;
	case FKP_R_NULL:
		puts("(nil)");
		return 0;
	default:
		printf(":%lld\n", r->r_int);
		return 0;
	}
}

/* ---- CMD... ---- */

static int
is_verb(const char *s)
{
	if (s[0] == '\0' || s[1] == '\0')
		return 0;
	for (; *s; s++)
		if (*s < 'A' || *s > 'Z')
			return 0;
	return 1;
}

/* Joins argv words into command lines (see the usage at the top). */
static size_t
group_commands(int argc, char **argv, char **cmds)
{
	size_t n = 0;

	for (int i = 0; i < argc; i++) {
		if (n > 0 && strchr(argv[i], ' ') == NULL && !is_verb(argv[i])) {
			char *t;
			if (asprintf(&t, "%s %s", cmds[n - 1], argv[i]) == -1)
				die(2, "out of memory");
			free(cmds[n - 1]);
			cmds[n - 1] = t;
		} else if ((cmds[n++] = strdup(argv[i])) == NULL) {
			die(2, "out of memory");
		}
	}
	return n;
}

static int
is_end(const char *line)
{
	return strncmp(line, "END", 3) == 0 && (line[3] == '\0' || line[3] == ' ');
}

static void
send_line(struct cli *c, const char *line)
{
	struct buf out;

	buf_init(&out);
	if (buf_puts(&out, line) == -1 || buf_append(&out, "\r\n", 2) == -1)
		die(2, "out of memory");
	send_all(c, out.b_data, out.b_len);
	buf_free(&out);
}

static int
run_commands(struct cli *c, int argc, char **argv, int escaped, int pipelined)
{
	char **cmds = calloc((size_t)argc + 1, sizeof(*cmds));
	struct fkp_reply r;
	size_t n, used;
	int errors = 0;

	if (cmds == NULL)
		die(2, "out of memory");
	n = group_commands(argc, argv, cmds);
	cli_connect(c);
	/* With -P every line goes out in one write before any reply is read. */
	if (pipelined) {
		struct buf out;
		buf_init(&out);
		for (size_t i = 0; i < n; i++) {
			buf_puts(&out, cmds[i]);
			buf_append(&out, "\r\n", 2);
			if (is_end(cmds[i]))
				break;
		}
		send_all(c, out.b_data, out.b_len);
		buf_free(&out);
	}
	for (size_t i = 0; i < n; i++) {
		if (!pipelined)
			send_line(c, cmds[i]);
		if (is_end(cmds[i]))
			break;		/* END gets no reply: the server just closes */
		if (read_reply(c, &r, &used, IO_TIMEOUT_MS) == -1) {
			puts(escaped ? "! EOF" : "(eof)");
			errors++;
			break;
		}
		errors += print_reply(&r, buf_rptr(&c->in), used, escaped);
		buf_consume(&c->in, used);
	}
	fflush(stdout);
	cli_close(c);
	for (size_t i = 0; i < n; i++)
		free(cmds[i]);
	free(cmds);
	return errors > 0 ? 1 : 0;
}

/* ---- push ---- */

struct pushopt {
	long long	 n;
	long long	 batch;
	const char	*jobtype;
	const char	*queue;
	const char	*prefix;
	char		*args;		/* compact JSON */
	long long	 retry;
	int		 has_retry;
	long long	 reserve_for;
	int		 has_reserve;
	long long	 rate;		/* jobs/s, 0: as fast as the server takes them */
};

/* --rate: waits until the job numbered next is due. */
static void
pace(const struct pushopt *o, uint64_t t0, long long next)
{
	uint64_t due = t0 + (uint64_t)((next - 1) * 1000 / o->rate), now = now_ms();
	struct timespec ts;

	if (due <= now)
		return;
	ts.tv_sec = (time_t)((due - now) / 1000);
	ts.tv_nsec = (long)((due - now) % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static char *
json_str(const char *s)
{
	json_t *j = json_string(s);
	char *r;

	if (j == NULL)
		die(64, "not UTF-8: %s", s);
	r = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	json_decref(j);
	return r;
}

static void
append_job(struct buf *b, const struct pushopt *o, const char *pfx, long long i,
    const char *type, const char *queue)
{
	buf_printf(b, "{\"jid\":%.*s-%08lld\",\"jobtype\":%s,\"args\":%s,\"queue\":%s",
	    (int)strlen(pfx) - 1, pfx, i, type, o->args, queue);
	if (o->has_retry)
		buf_printf(b, ",\"retry\":%lld", o->retry);
	if (o->has_reserve)
		buf_printf(b, ",\"reserve_for\":%lld", o->reserve_for);
	buf_append(b, "}", 1);
}

static int
check_push_reply(const struct fkp_reply *r, long long batch)
{
	if (batch == 1)
		return r->r_type == FKP_R_SIMPLE && r->r_len == 2 && memcmp(r->r_data, "OK", 2) == 0;
	return r->r_type == FKP_R_BULK && r->r_len == 2 && memcmp(r->r_data, "{}", 2) == 0;
}

static int
run_push(struct cli *c, const struct pushopt *o)
{
	char *pfx = json_str(o->prefix), *type = json_str(o->jobtype), *queue = json_str(o->queue);
	long long next = 1, inflight = 0, acked = 0, window = o->rate > 0 ? 1 : 32;
	struct fkp_reply r;
	struct buf out;
	uint64_t t0;
	size_t used;

	cli_connect(c);
	buf_init(&out);
	t0 = now_ms();
	while (next <= o->n || inflight > 0) {
		/* Keep up to 32 commands in flight: one round trip per window, not per batch. */
		buf_reset(&out);
		if (o->rate > 0 && next <= o->n && inflight == 0)
			pace(o, t0, next);
		while (next <= o->n && inflight < window) {
			long long k = o->n - next + 1 < o->batch ? o->n - next + 1 : o->batch;
			buf_puts(&out, o->batch == 1 ? "PUSH " : "PUSHB [");
			for (long long i = 0; i < k; i++) {
				if (i > 0)
					buf_append(&out, ",", 1);
				append_job(&out, o, pfx, next + i, type, queue);
			}
			buf_puts(&out, o->batch == 1 ? "\r\n" : "]\r\n");
			next += k;
			inflight++;
		}
		if (out.b_len > 0)
			send_all(c, out.b_data, out.b_len);
		if (read_reply(c, &r, &used, IO_TIMEOUT_MS) == -1)
			die(2, "connection closed while pushing (%lld of %lld jobs acknowledged)",
			    acked * o->batch < o->n ? acked * o->batch : o->n, o->n);
		if (!check_push_reply(&r, o->batch)) {
			fprintf(stderr, "fkcli: push rejected: %.*s\n",
			    (int)(r.r_len > 2000 ? 2000 : r.r_len), r.r_data);
			exit(1);
		}
		buf_consume(&c->in, used);
		inflight--;
		acked++;
	}
	printf("pushed %lld\n", o->n);
	buf_free(&out);
	cli_close(c);
	free(pfx);
	free(type);
	free(queue);
	return 0;
}

static int
cmd_push(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "jobtype", required_argument, NULL, 't' }, { "queue", required_argument, NULL, 'q' },
		{ "prefix", required_argument, NULL, 'x' }, { "batch", required_argument, NULL, 'b' },
		{ "args", required_argument, NULL, 'a' }, { "retry", required_argument, NULL, 'r' },
		{ "reserve-for", required_argument, NULL, 'R' },
		{ "rate", required_argument, NULL, 'p' }, { NULL, 0, NULL, 0 },
	};
	struct pushopt o = { 0, 100, "noop", "default", "job", NULL, 0, 0, 0, 0, 0 };
	const char *errstr, *args = "[]";
	json_error_t je;
	json_t *a;
	int ch;

	optind = 0;	/* 0: glibc starts over, dropping the "+" of the first parse */
	while ((ch = getopt_long(argc, argv, "n:", lo, NULL)) != -1) {
		long long *dst = NULL, lo_ = 0, hi = 1000000000;
		switch (ch) {
		case 'n': dst = &o.n; break;
		case 'b': dst = &o.batch; lo_ = 1; hi = 100000; break;
		case 'r': dst = &o.retry; lo_ = -1000; o.has_retry = 1; break;
		case 'R': dst = &o.reserve_for; lo_ = -1000000; o.has_reserve = 1; break;
		case 'p': dst = &o.rate; lo_ = 1; hi = 10000000; break;
		case 't': o.jobtype = optarg; break;
		case 'q': o.queue = optarg; break;
		case 'x': o.prefix = optarg; break;
		case 'a': args = optarg; break;
		default: usage();
		}
		if (dst != NULL && parse_ll(optarg, lo_, hi, dst, &errstr) == -1)
			die(64, "push: %s: %s", optarg, errstr);
	}
	if (o.n <= 0 || optind != argc)
		usage();
	if ((a = json_loads(args, 0, &je)) == NULL || !json_is_array(a))
		die(64, "push: --args must be a JSON array: %s", a == NULL ? je.text : args);
	o.args = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	run_push(c, &o);
	free(o.args);
	return 0;
}

/* ---- audit, wait-done ---- */

/* XAUDIT's body into out; -1 if the connection broke (the caller reconnects). */
static int
get_audit(struct cli *c, struct buf *out)
{
	struct fkp_reply r;
	size_t used;

	send_all(c, "XAUDIT\r\n", 8);
	if (read_reply(c, &r, &used, IO_TIMEOUT_MS) == -1)
		return -1;
	if (r.r_type != FKP_R_BULK)
		die(2, "XAUDIT: %.*s (is this fkbroker?)", (int)r.r_len, r.r_data);
	buf_reset(out);
	buf_append(out, r.r_data, r.r_len);
	buf_consume(&c->in, used);
	return 0;
}

static int
cmd_wait_done(struct cli *c, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "timeout", required_argument, NULL, 't' }, { NULL, 0, NULL, 0 },
	};
	long long want = -1, secs = 60;
	const char *errstr;
	struct buf body;
	uint64_t until;
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch != 't' || parse_ll(optarg, 0, 86400, &secs, &errstr) == -1)
			usage();
	}
	if (optind != argc - 1 || parse_ll(argv[optind], 0, 1LL << 40, &want, &errstr) == -1)
		usage();
	buf_init(&body);
	cli_connect(c);
	until = now_ms() + (uint64_t)secs * 1000;
	for (;;) {
		json_t *j;
		long long done = -1;
		if (get_audit(c, &body) == -1) {
			cli_close(c);
			cli_connect(c);
			continue;
		}
		if ((j = json_loadb(body.b_data, body.b_len, 0, NULL)) != NULL) {
			done = json_integer_value(json_object_get(j, "done"));
			json_decref(j);
		}
		if (done >= want || now_ms() >= until) {
			printf("%.*s\n", (int)body.b_len, body.b_data);
			buf_free(&body);
			cli_close(c);
			return done >= want ? 0 : 1;
		}
		usleep(100 * 1000);
	}
}

static int
cmd_audit(struct cli *c)
{
	struct buf body;

	buf_init(&body);
	cli_connect(c);
	if (get_audit(c, &body) == -1)
		die(2, "connection closed");
	printf("%.*s\n", (int)body.b_len, body.b_data);
	buf_free(&body);
	cli_close(c);
	return 0;
}

int
main(int argc, char **argv)
{
	struct cli c;
	int ch, escaped = 0, pipelined = 0, rc;

	memset(&c, 0, sizeof(c));
	c.fd = -1;
	buf_init(&c.in);
	c.url = getenv("FAKTORY_URL") ? getenv("FAKTORY_URL") : "tcp://127.0.0.1:7419";
	while ((ch = getopt(argc, argv, "+u:w:p:rPh")) != -1) {
		switch (ch) {
		case 'u': c.url = optarg; break;
		case 'w': c.wid = optarg; break;
		case 'p': c.password = optarg; break;
		case 'r': escaped = 1; break;
		case 'P': pipelined = 1; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (strcmp(argv[0], "push") == 0)
		rc = cmd_push(&c, argc, argv);
	else if (strcmp(argv[0], "wait-done") == 0)
		rc = cmd_wait_done(&c, argc, argv);
	else if (strcmp(argv[0], "audit") == 0 && argc == 1)
		rc = cmd_audit(&c);
	else
		rc = run_commands(&c, argc, argv, escaped, pipelined);
	buf_free(&c.in);
	return rc;
}
