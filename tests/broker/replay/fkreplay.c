/* SPDX-License-Identifier: MIT */
/*
 * fkreplay: replays a captured Faktory transcript (docs/faktory-transcripts,
 * see its README for the format) against a server and compares every reply:
 * byte for byte, or against the "# shape:" line under it. One line per file.
 *
 *   fkreplay -u URL [--password P] [--xtime] FILE
 *
 * --password: the server has one; pwdhash values in HELLO lines are
 * recomputed for this server's salt and iterations, keeping the variant the
 * capture used (right hash, one round, one round too many, upper case).
 * --xtime: long waits ("# at +N s", a reaper closing a connection after
 * 65 s) become fkbroker's XTIME on an extra connection instead of sleeping.
 * Web UI requests ("# http: POST /busy ... signal=quiet") become XSTATE.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fkp.h"
#include "net.h"
#include "util.h"

#define NCONN		4	/* 0: our admin connection; 1-3: C:, C2:, C3: */
#define MAX_BULK	(64u << 20)

struct rconn {
	int		 fd;
	struct buf	 in;
	uint64_t	 last_us;	/* last write (or the connect) */
	char		 salt[64];	/* our server's greeting on this connection */
	long		 iter;
	char		 t_salt[64];	/* the captured greeting's */
	long		 t_iter;
};

struct replay {
	const char	*file;
	int		 lineno;
	struct net_addr	 addr;
	const char	*password;
	int		 xtime;
	double		 vtime;		/* seconds XTIME has added */
	struct rconn	 c[NCONN];
	double		 after;		/* "# after N s" for the next reply, or -1 */
	int		 exact;
	int		 shaped;
	char		 why[2048];
};

static int
fail(struct replay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(struct replay *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- transcript text ---- */

/* Unescapes \r \n \\ \xNN and expands "<N bytes of x>" into N bytes. */
static int
unescape(const char *s, struct buf *out)
{
	buf_reset(out);
	for (; *s != '\0'; s++) {
		unsigned long n;
		char c, *end;
		if (*s == '\\' && s[1] != '\0') {
			s++;
			if (*s == 'r')
				c = '\r';
			else if (*s == 'n')
				c = '\n';
			else if (*s == 'x' && isxdigit((unsigned char)s[1]) &&
			    isxdigit((unsigned char)s[2])) {
				char h[3] = { s[1], s[2], 0 };
				c = (char)strtol(h, NULL, 16);
				s += 2;
			} else
				c = *s;
			if (buf_append(out, &c, 1) == -1)
				return -1;
			continue;
		}
		if (*s == '<' && isdigit((unsigned char)s[1]) &&
		    (n = strtoul(s + 1, &end, 10)) > 0 && strncmp(end, " bytes of ", 10) == 0 &&
		    end[10] != '\0' && end[11] == '>') {
			if (buf_reserve(out, n) == -1)
				return -1;
			memset(out->b_data + out->b_len, end[10], n);
			out->b_len += n;
			s = end + 11;
			continue;
		}
		if (buf_append(out, s, 1) == -1)
			return -1;
	}
	return 0;
}

static void
escape_for_msg(const char *p, size_t n, char *out, size_t outlen)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 8 < outlen; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\r')
			k += (size_t)snprintf(out + k, outlen - k, "\\r");
		else if (c == '\n')
			k += (size_t)snprintf(out + k, outlen - k, "\\n");
		else if (c < 0x20 || c > 0x7e)
			k += (size_t)snprintf(out + k, outlen - k, "\\x%02x", c);
		else
			out[k++] = (char)c;
	}
	if (k + 8 >= outlen)
		k += (size_t)snprintf(out + k, outlen - k, "...");
	out[k] = '\0';
}

/* ---- shapes ---- */

static size_t
digits(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && isdigit((unsigned char)s[i]))
		i++;
	return i;
}

static size_t
match_ts(const char *s, size_t n)
{
	static const char form[] = "dddd-dd-ddTdd:dd:dd";
	size_t i, k;

	if (n < 20)
		return 0;
	for (i = 0; form[i] != '\0'; i++)
		if (form[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != form[i])
			return 0;
	if (i < n && s[i] == '.') {
		k = digits(s + i + 1, n - i - 1);
		if (k < 1 || k > 9 || s[i + k] == '0')	/* trailing zeros are trimmed */
			return 0;
		i += 1 + k;
	}
	return i < n && s[i] == 'Z' ? i + 1 : 0;
}

static size_t
match_num(const char *s, size_t n)
{
	size_t i = 0, k;

	if (i < n && s[i] == '-')
		i++;
	if ((k = digits(s + i, n - i)) == 0)
		return 0;
	i += k;
	if (i < n && s[i] == '.') {
		if ((k = digits(s + i + 1, n - i - 1)) == 0)
			return 0;
		i += 1 + k;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if ((k = digits(s + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return i;
}

/*
 * Matches got against the pattern; placeholders <TS> <LEN> <INT> <NUM>
 * <HH:MM:SS> <QUEUES> <ITER> <SALT>. Returns 0, or -1 with why set.
 */
static int
match_shape(struct replay *r, const char *pat, size_t pn, const char *s, size_t n)
{
	size_t pi = 0, si = 0, k;
	long long len = -1, v;

	while (pi < pn) {
		const char *p = pat + pi;
		size_t left = pn - pi;
#define PH(x) (left >= sizeof(x) - 1 && memcmp(p, x, sizeof(x) - 1) == 0 ? sizeof(x) - 1 : 0)
		size_t ph;
		if ((ph = PH("<TS>")) != 0)
			k = match_ts(s + si, n - si);
		else if ((ph = PH("<INT>")) != 0 || (ph = PH("<LEN>")) != 0 ||
		    (ph = PH("<ITER>")) != 0) {
			k = digits(s + si, n - si);
			v = k > 0 && k < 18 ? strtoll(s + si, NULL, 10) : -1;
			if (PH("<LEN>"))
				len = v;
			if (PH("<ITER>") && (v < 4000 || v > 8095))
				return fail(r, "iterations %lld not in 4000..8095", v);
		} else if ((ph = PH("<NUM>")) != 0)
			k = match_num(s + si, n - si);
		else if ((ph = PH("<HH:MM:SS>")) != 0)
			k = n - si >= 8 && isdigit((unsigned char)s[si]) && s[si + 2] == ':' &&
			    s[si + 5] == ':' && isdigit((unsigned char)s[si + 7]) ? 8 : 0;
		else if ((ph = PH("<SALT>")) != 0) {
			for (k = 0; si + k < n && k < 17 && isxdigit((unsigned char)s[si + k]) &&
			    !isupper((unsigned char)s[si + k]); k++)
				;
			if (k > 16 || (k > 1 && s[si] == '0'))
				k = 0;
		} else if ((ph = PH("<QUEUES>")) != 0) {
			/* The queue map's inside: up to the closing brace. */
			const char *e = memchr(s + si, '}', n - si);
			k = e != NULL ? (size_t)(e - (s + si)) : 0;
			if (k == 0 && e == NULL)
				return fail(r, "no queue map");
			pi += ph;
			si += k;
			continue;
		} else {
			if (si >= n || s[si] != *p)
				return fail(r, "differs from the shape at byte %zu", si);
			pi++;
			si++;
			continue;
		}
#undef PH
		if (k == 0)
			return fail(r, "placeholder %.*s does not match at byte %zu", (int)ph, p, si);
		pi += ph;
		si += k;
	}
	if (si != n)
		return fail(r, "%zu unexpected bytes after the shape", n - si);
	if (len >= 0) {
		const char *body = memchr(s, '\n', n);
		if (body == NULL || (long long)(n - (size_t)(body + 1 - s) - 2) != len)
			return fail(r, "$%lld is not the payload's length", len);
	}
	return 0;
}

/* ---- connections ---- */

static int
rc_connect(struct replay *r, int i)
{
	char err[256];
	struct rconn *c = &r->c[i];

	if (c->fd >= 0)
		close(c->fd);
	buf_reset(&c->in);
	if ((c->fd = net_connect_timeout(&r->addr, 2000, err, sizeof(err))) == -1)
		return fail(r, "conn%d: %s", i, err);
	c->last_us = now_us();
	return 0;
}

static void
rc_close(struct replay *r, int i)
{
	if (r->c[i].fd >= 0)
		close(r->c[i].fd);
	r->c[i].fd = -1;
	buf_reset(&r->c[i].in);
}

static int
rc_send(struct replay *r, int i, const char *p, size_t n)
{
	struct rconn *c = &r->c[i];

	if (c->fd < 0)
		return fail(r, "conn%d is not open", i);
	while (n > 0) {
		ssize_t w = write(c->fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return fail(r, "conn%d: write: %s", i, strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	c->last_us = now_us();
	return 0;
}

/*
 * Reads into c->in until it holds a whole reply (*used bytes), EOF (1), or
 * the timeout (2). 0 on a reply.
 */
static int
rc_read(struct replay *r, int i, double timeout_s, size_t *used, struct fkp_reply *rep)
{
	struct rconn *c = &r->c[i];
	uint64_t until = now_us() + (uint64_t)(timeout_s * 1e6);
	char err[128];

	for (;;) {
		ssize_t n = fkp_reply_parse(buf_rptr(&c->in), buf_rlen(&c->in), MAX_BULK, rep,
		    err, sizeof(err));
		if (n < 0)
			return fail(r, "conn%d: unparsable reply: %s", i, err);
		if (n > 0) {
			*used = (size_t)n;
			return 0;
		}
		uint64_t now = now_us();
		if (now >= until)
			return 2;
		struct pollfd p = { c->fd, POLLIN, 0 };
		if (poll(&p, 1, (int)((until - now) / 1000) + 1) <= 0)
			continue;
		if (buf_reserve(&c->in, 1 << 16) == -1)
			return fail(r, "out of memory");
		n = read(c->fd, c->in.b_data + c->in.b_len, c->in.b_cap - c->in.b_len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return buf_rlen(&c->in) > 0 ? fail(r, "conn%d: EOF inside a reply", i) : 1;
		c->in.b_len += (size_t)n;
	}
}

/* Our own producer connection for XTIME and XSTATE. */
static int
admin(struct replay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
admin(struct replay *r, const char *fmt, ...)
{
	struct rconn *c = &r->c[0];
	struct fkp_reply rep;
	struct fkp_hi hi;
	struct fkp_hello h;
	struct buf out;
	char err[128], hash[65], line[512];
	size_t used;
	va_list ap;
	int k;

	if (c->fd < 0) {
		if (rc_connect(r, 0) == -1 || rc_read(r, 0, 3, &used, &rep) != 0 ||
		    rep.r_type != FKP_R_SIMPLE || fkp_hi_parse(rep.r_data, rep.r_len, &hi, err,
		    sizeof(err)) == -1)
			return fail(r, "admin connection: no greeting");
		buf_consume(&c->in, used);
		memset(&h, 0, sizeof(h));
		if (hi.hi_has_salt) {
			fkp_pwdhash(r->password ? r->password : "", hi.hi_salt, hi.hi_iter, hash);
			h.h_pwdhash = hash;
		}
		buf_init(&out);
		fkp_enc_hello(&out, &h);
		k = rc_send(r, 0, out.b_data, out.b_len);
		buf_free(&out);
		if (k == -1 || rc_read(r, 0, 3, &used, &rep) != 0 || rep.r_type != FKP_R_SIMPLE)
			return fail(r, "admin connection: HELLO refused");
		buf_consume(&c->in, used);
	}
	va_start(ap, fmt);
	k = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	memcpy(line + k, "\r\n", 2);
	if (rc_send(r, 0, line, (size_t)k + 2) == -1 || rc_read(r, 0, 5, &used, &rep) != 0)
		return fail(r, "admin: no reply to %.*s", k, line);
	if (rep.r_type == FKP_R_ERROR)
		return fail(r, "admin: %.*s: -%.*s", k, line, (int)rep.r_len, rep.r_data);
	buf_consume(&c->in, used);
	return 0;
}

static int
advance_to(struct replay *r, double t)
{
	if (!r->xtime)
		return fail(r, "this scenario waits %.0f s: run with --xtime", t);
	if (t > r->vtime) {
		if (admin(r, "XTIME %.3f", t - r->vtime) == -1)
			return -1;
		r->vtime = t;
	}
	return 0;
}

/* ---- passwords ---- */

/* Which hash the capture sent, recomputed for our greeting on this connection. */
static void
rehash(struct replay *r, struct rconn *c, char *hex)
{
	char h[65], want[65];
	int upper = 0;

	for (int i = 0; i < 64; i++)
		upper |= isupper((unsigned char)hex[i]);
	struct { long t_iter, our_iter; } v[] = {
		{ c->t_iter, c->iter }, { 1, 1 }, { c->t_iter + 1, c->iter + 1 },
	};
	for (size_t k = 0; k < FKW_NELEM(v); k++) {
		fkp_pwdhash(r->password, c->t_salt, v[k].t_iter, h);
		if (upper)
			for (int i = 0; i < 64; i++)
				h[i] = (char)toupper((unsigned char)h[i]);
		if (memcmp(h, hex, 64) == 0) {
			fkp_pwdhash(r->password, c->salt, v[k].our_iter, want);
			if (upper)
				for (int i = 0; i < 64; i++)
					want[i] = (char)toupper((unsigned char)want[i]);
			memcpy(hex, want, 64);
			return;
		}
	}
	/* Some other password's hash: wrong for our salt as well. */
}

static void
greeting_params(const char *p, size_t n, char *salt, size_t sl, long *iter)
{
	struct fkp_hi hi;
	char err[64];

	*iter = 1;
	salt[0] = '\0';
	if (n > 1 && p[0] == '+' && fkp_hi_parse(p + 1, n - 1, &hi, err, sizeof(err)) == 0 &&
	    hi.hi_has_salt) {
		snprintf(salt, sl, "%s", hi.hi_salt);
		*iter = hi.hi_iter;
	}
}

/* ---- one transcript ---- */

static int
conn_index(const char *tag)
{
	return tag[0] >= '2' && tag[0] <= '3' ? tag[0] - '0' : 1;
}

static int
do_send(struct replay *r, int i, const char *text, struct buf *tmp)
{
	char *ph;

	if (unescape(text, tmp) == -1)
		return fail(r, "out of memory");
	if (r->password != NULL && buf_append(tmp, "", 1) == 0) {
		tmp->b_len--;
		if ((ph = strstr(tmp->b_data, "\"pwdhash\":\"")) != NULL && strlen(ph) >= 11 + 64)
			rehash(r, &r->c[i], ph + 11);
	}
	return rc_send(r, i, tmp->b_data, tmp->b_len);
}

static int
do_reply(struct replay *r, int i, const char *text, const char *shape, struct buf *want,
    struct buf *pat)
{
	struct rconn *c = &r->c[i];
	struct fkp_reply rep;
	size_t used;
	double lim = r->after >= 0 ? r->after + 2.0 : 3.0, took;
	uint64_t t0 = c->last_us;
	char got[400], exp[400];
	int k;

	if (c->fd < 0)
		return fail(r, "conn%d is not open", i);
	if (unescape(text, want) == -1 || (shape && unescape(shape, pat) == -1))
		return fail(r, "out of memory");
	if ((k = rc_read(r, i, lim, &used, &rep)) != 0) {
		escape_for_msg(want->b_data, want->b_len, exp, sizeof(exp));
		if (k == -1)
			return -1;
		return fail(r, "conn%d: %s instead of %s", i, k == 1 ? "EOF" : "no reply", exp);
	}
	took = (double)(now_us() - t0) / 1e6;
	if (r->after >= 1.0 && (took < r->after - 0.6 || took > r->after + 1.5))
		return fail(r, "reply after %.2f s, the capture says %.2f s", took, r->after);
	if (r->after < 1.0 && took > (r->after >= 0 ? r->after : 0) + 1.9)
		return fail(r, "reply after %.2f s, the capture's came at once", took);
	r->after = -1;
	if (shape != NULL) {
		if (match_shape(r, pat->b_data, pat->b_len, buf_rptr(&c->in), used) == -1)
			goto differ;
		r->shaped++;
	} else {
		if (used != want->b_len || memcmp(buf_rptr(&c->in), want->b_data, used) != 0) {
			fail(r, "differs");
			goto differ;
		}
		r->exact++;
	}
	if (i >= 1 && r->password != NULL && buf_rptr(&c->in)[0] == '+')
		greeting_params(buf_rptr(&c->in), used - 2, c->salt, sizeof(c->salt), &c->iter);
	buf_consume(&c->in, used);
	return 0;
differ:
	escape_for_msg(buf_rptr(&c->in), used, got, sizeof(got));
	escape_for_msg(shape ? pat->b_data : want->b_data, shape ? pat->b_len : want->b_len,
	    exp, sizeof(exp));
	{
		char why[sizeof(r->why)];
		memcpy(why, r->why, sizeof(why));
		fail(r, "conn%d: reply %.200s\n       want: %s\n       got:  %s", i, why, exp, got);
	}
	return -1;
}

static int
expect_eof(struct replay *r, int i, const char *rest)
{
	const char *p = strstr(rest, " s after");
	double secs = 0, took;
	struct fkp_reply rep;
	size_t used;
	int k;

	/* "(2.00 s after ..." or "65.58 s after its HELLO" */
	while (p != NULL && p > rest && (isdigit((unsigned char)p[-1]) || p[-1] == '.'))
		p--;
	if (p != NULL)
		secs = strtod(p, NULL);
	if (secs > 10 && strstr(rest, "HELLO") != NULL) {
		/* The reaper: move the clock past its 60 s instead of waiting. */
		if (advance_to(r, r->vtime + secs + 1) == -1)
			return -1;
		secs = 0;
	}
	k = rc_read(r, i, secs + 1.5, &used, &rep);
	took = (double)(now_us() - r->c[i].last_us) / 1e6;
	if (k == 0)
		return fail(r, "conn%d: a reply instead of EOF", i);
	if (k == 2)
		return fail(r, "conn%d: still open after %.1f s, the capture saw EOF", i, took);
	if (k == -1)
		return -1;
	if (secs >= 1 && took < secs - 0.5)
		return fail(r, "conn%d: EOF after %.2f s, the capture after %.2f s", i, took, secs);
	rc_close(r, i);
	return 0;
}

static int
expect_silence(struct replay *r, int i, const char *rest)
{
	double secs = strtod(rest, NULL);
	struct fkp_reply rep;
	size_t used;
	int k = rc_read(r, i, secs > 0 ? secs : 1, &used, &rep);

	if (k == 0)
		return fail(r, "conn%d: a reply where the capture saw silence", i);
	if (k == 1)
		return fail(r, "conn%d: EOF where the capture saw an open connection", i);
	return k == -1 ? -1 : 0;
}

/* "! ..." lines: connects, closes, EOFs, silence. */
static int
event(struct replay *r, const char *s)
{
	int i = 1;
	const char *p;

	if (strncmp(s, "conn", 4) == 0 && isdigit((unsigned char)s[4])) {
		i = s[4] - '0';
		s += 6;
	}
	if (i < 1 || i >= NCONN)
		return fail(r, "bad connection number");
	if (strncmp(s, "connect", 7) == 0)
		return rc_connect(r, i);
	if (strncmp(s, "client closes", 13) == 0) {
		rc_close(r, i);
		return 0;
	}
	if (strncmp(s, "EOF", 3) == 0)
		return expect_eof(r, i, s);
	if ((p = strstr(s, "no bytes and no EOF within ")) != NULL)
		return expect_silence(r, i, p + 27);
	return fail(r, "cannot replay event: %s", s);
}

static int
comment(struct replay *r, const char *s)
{
	char wid[256], sig[32];

	if (strncmp(s, "after ", 6) == 0)
		r->after = strtod(s + 6, NULL);
	else if (strncmp(s, "at +", 4) == 0)
		return advance_to(r, strtod(s + 4, NULL));
	else if (sscanf(s, "http: POST /busy body wid=%255[^&]&signal=%31s", wid, sig) == 2)
		return admin(r, "XSTATE %s %s", wid, sig);
	return 0;
}

static int
replay_file(struct replay *r, char **lines, int n)
{
	struct buf a, b;
	int rc = 0;

	buf_init(&a);
	buf_init(&b);
	for (int k = 0; k < n && rc == 0; k++) {
		char *s = lines[k];
		r->lineno = k + 1;
		/* The capture's own greeting, for recomputing pwdhash. */
		if (r->password != NULL && (strncmp(s, "S: +HI", 6) == 0 ||
		    strncmp(s, "S2: +HI", 7) == 0 || strncmp(s, "S3: +HI", 7) == 0)) {
			int i = s[1] == ':' ? 1 : s[1] - '0';
			const char *t = strchr(s, '+');
			greeting_params(t, strlen(t) - 4, r->c[i].t_salt, sizeof(r->c[i].t_salt),
			    &r->c[i].t_iter);
		}
		if (s[0] == 'C' && (s[1] == ':' || s[1] == '~' || isdigit((unsigned char)s[1])))
			rc = do_send(r, conn_index(s + 1), strchr(s, ':') + 2, &a);
		else if (s[0] == 'S' && (s[1] == ':' || s[1] == '~' || isdigit((unsigned char)s[1]))) {
			const char *shape = k + 1 < n && strncmp(lines[k + 1], "# shape: ", 9) == 0 ?
			    lines[k + 1] + 9 : NULL;
			rc = do_reply(r, conn_index(s + 1), strchr(s, ':') + 2, shape, &a, &b);
		} else if (strncmp(s, "! ", 2) == 0)
			rc = event(r, s + 2);
		else if (strncmp(s, "# ", 2) == 0)
			rc = comment(r, s + 2);
	}
	buf_free(&a);
	buf_free(&b);
	return rc;
}

static char **
read_lines(const char *path, int *n)
{
	FILE *f = fopen(path, "re");
	char **v = NULL, *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int k = 0, vcap = 0;

	if (f == NULL)
		return NULL;
	while ((len = getline(&line, &cap, f)) != -1) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (k == vcap) {
			vcap = vcap ? vcap * 2 : 256;
			v = realloc(v, (size_t)vcap * sizeof(*v));
		}
		v[k++] = strdup(line);
	}
	free(line);
	fclose(f);
	*n = k;
	return v;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "password", required_argument, NULL, 'p' }, { "xtime", no_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	struct replay r;
	struct fkp_url u;
	char err[256], **lines;
	const char *url = NULL, *base;
	int ch, n, rc;

	memset(&r, 0, sizeof(r));
	while ((ch = getopt_long(argc, argv, "u:", lo, NULL)) != -1) {
		switch (ch) {
		case 'u': url = optarg; break;
		case 'p': r.password = optarg; break;
		case 'x': r.xtime = 1; break;
		default: goto usage;
		}
	}
	if (url == NULL || optind != argc - 1)
		goto usage;
	if (fkp_url_parse(url, &u, err, sizeof(err)) == -1 ||
	    net_resolve(u.u_host, u.u_port, &r.addr, err, sizeof(err)) == -1) {
		fprintf(stderr, "fkreplay: %s\n", err);
		return 2;
	}
	r.file = argv[optind];
	base = strrchr(r.file, '/') ? strrchr(r.file, '/') + 1 : r.file;
	if ((lines = read_lines(r.file, &n)) == NULL) {
		fprintf(stderr, "fkreplay: %s: %s\n", r.file, strerror(errno));
		return 2;
	}
	for (int i = 0; i < NCONN; i++) {
		r.c[i].fd = -1;
		buf_init(&r.c[i].in);
	}
	r.after = -1;
	uint64_t t0 = now_ms();
	rc = replay_file(&r, lines, n);
	if (rc == 0)
		printf("ok   %-34s %3d exact, %3d by shape (%.1f s)\n", base, r.exact, r.shaped,
		    (double)(now_ms() - t0) / 1000);
	else
		printf("FAIL %s:%d: %s\n", base, r.lineno, r.why);
	for (int i = 0; i < NCONN; i++) {
		rc_close(&r, i);
		buf_free(&r.c[i].in);
	}
	for (int i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	return rc == 0 ? 0 : 1;
usage:
	fprintf(stderr, "usage: fkreplay -u URL [--password P] [--xtime] FILE\n");
	return 64;
}
