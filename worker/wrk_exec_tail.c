/* SPDX-License-Identifier: MIT */
/*
 * wrk_exec_tail: what a failed command said. Keeps the last EXEC_MSG_MAX
 * bytes of its stderr in a ring and makes the FAIL message from them and
 * its exit status. The message goes into the FAIL's JSON, so whatever bytes
 * the command wrote come out as valid UTF-8. Apart from wrk_exec.c because
 * it is text handling with no process, fd or loop in it.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "sig.h"
#include "wrk_exec_int.h"

void
wrk_exec_tail_add(struct wrk_exec_tail *t, const char *d, size_t n)
{
	if (n >= sizeof(t->et_buf)) {
		memcpy(t->et_buf, d + n - sizeof(t->et_buf), sizeof(t->et_buf));
		t->et_head = 0;
		t->et_len = sizeof(t->et_buf);
		return;
	}
	for (size_t k; n > 0; d += k, n -= k) {
		k = sizeof(t->et_buf) - t->et_head;
		if (k > n)
			k = n;
		memcpy(t->et_buf + t->et_head, d, k);
		t->et_head = (t->et_head + k) % sizeof(t->et_buf);
		t->et_len = t->et_len + k > sizeof(t->et_buf) ?
		    sizeof(t->et_buf) : t->et_len + k;
	}
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return s[0] != 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/*
 * The stderr tail as a C string of valid UTF-8 (a FAIL message goes into
 * JSON): the ring in order, a character cut by the ring's start dropped,
 * invalid bytes and NULs as '?', trailing white space trimmed.
 */
static size_t
tail_text(const struct wrk_exec_tail *t, char *out)
{
	size_t start = (t->et_head + sizeof(t->et_buf) - t->et_len) % sizeof(t->et_buf);
	size_t n = 0, i = 0, k;
	unsigned char *u = (unsigned char *)out;

	for (size_t c = 0; c < t->et_len; c++)
		out[c] = t->et_buf[(start + c) % sizeof(t->et_buf)];
	if (t->et_len == sizeof(t->et_buf))
		while (i < 3 && i < t->et_len && (u[i] & 0xc0) == 0x80)
			i++;
	while (i < t->et_len) {
		if ((k = utf8_seq(u + i, t->et_len - i)) == 0) {
			out[n++] = '?';
			i++;
			continue;
		}
		memmove(out + n, out + i, k);
		n += k;
		i += k;
	}
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' ||
	    out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	out[n] = '\0';
	return n;
}

void
wrk_exec_tail_message(const struct wrk_exec_tail *et, int code, int status, char *out,
    size_t outlen)
{
	char tail[EXEC_MSG_MAX + 1];
	size_t tn = tail_text(et, tail), room;
	const char *t = tail;
	int k;

	if (code == CLD_EXITED)
		k = snprintf(out, outlen, "exit status %d", status);
	else
		k = snprintf(out, outlen, "killed by signal SIG%s%s", sig_name(status),
		    code == CLD_DUMPED ? " (core dumped)" : "");
	if (tn == 0 || k < 0 || (size_t)k + 3 >= outlen)
		return;
	room = outlen - (size_t)k - 3;
	if (tn > room) {
		t += tn - room;
		while (((unsigned char)*t & 0xc0) == 0x80)
			t++;
	}
	memcpy(out + k, ": ", 2);
	memcpy(out + k + 2, t, strlen(t) + 1);
}
