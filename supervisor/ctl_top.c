/* SPDX-License-Identifier: MIT */
/*
 * ctl_top: `fkworkerctl top`: status refreshed every second with the
 * diagnose verdict of the last ten seconds above it and jobs/s per jobtype
 * (from the exact counts) below. On a terminal it is a
 * full-screen view through ncurses (q quits; a resize redraws); otherwise,
 * or with --plain, one frame a second goes to stdout as text, like top -b.
 */
#include <curses.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_sample.h"
#include "diag.h"
#include "sup.h"

#define TOP_WINDOW	11	/* samples the verdict looks at: ten seconds */
#define TOP_MIN_SAMPLES	3
#define TOP_JOBTYPES	10	/* rows of the jobtype table, busiest first */

struct top {
	struct ctl_sampler	*tp_sa;
	struct diag_sample	 tp_ring[TOP_WINDOW];
	uint32_t		 tp_n;		/* samples taken */
	char			*tp_frame;	/* the last frame's text */
	size_t			 tp_len;
	struct ctl_jobtype	*tp_prev;	/* the last frame's counts, for rates */
	uint32_t		 tp_nprev;
	uint64_t		 tp_prev_ms;
};

/* One row of the jobtype table. */
struct jt_rate {
	const struct ctl_jobtype *jr_jt;
	double			  jr_done, jr_failed;	/* per second since the last frame */
};

static volatile sig_atomic_t top_stop;

static void
on_stop(int sig)
{
	(void)sig;
	top_stop = 1;
}

/* Ctrl-C and TERM end the loop so the terminal is restored; no SA_RESTART wakes getch. */
static void
catch_stops(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* The verdict line of the samples in the ring, oldest first. */
static void
frame_verdict(FILE *f, const struct top *tp, const struct ctl_status *st)
{
	struct diag_sample s[TOP_WINDOW];
	uint32_t n = tp->tp_n < TOP_WINDOW ? tp->tp_n : TOP_WINDOW;
	struct diag_figures fig;
	struct diag_verdict v;
	char why[320];

	if (n < TOP_MIN_SAMPLES) {
		fprintf(f, "verdict    (sampling: %u s more)\n", TOP_MIN_SAMPLES - n);
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		s[i] = tp->tp_ring[(tp->tp_n - n + i) % TOP_WINDOW];
	diag_figures(s, n, st->st_concurrency, st->st_nchild,
	    (uint32_t)sysconf(_SC_NPROCESSORS_ONLN), &fig);
	fig.df_auto = strcmp(st->st_concurrency_mode, "auto") == 0;
	fig.df_concurrency_max = st->st_concurrency_max;
	diag_judge(&fig, ctl_sample_unknown(st, why, sizeof(why)), &v);
	fprintf(f, "verdict    %s (last %.0f s): %s\n", diag_kind_text(v.dv_kind),
	    fig.df_seconds, v.dv_todo);
	fprintf(f, "           %s\n", v.dv_why);
}

static const struct ctl_jobtype *
prev_of(const struct top *tp, const char *name)
{
	for (uint32_t i = 0; i < tp->tp_nprev; i++)
		if (strcmp(tp->tp_prev[i].cj_name, name) == 0)
			return &tp->tp_prev[i];
	return NULL;
}

static int
busiest_first(const void *a, const void *b)
{
	const struct jt_rate *x = a, *y = b;
	double dx = x->jr_done + x->jr_failed, dy = y->jr_done + y->jr_failed;

	return dx < dy ? 1 : dx > dy ? -1 : strcmp(x->jr_jt->cj_name, y->jr_jt->cj_name);
}

/* Jobs/s per jobtype since the last frame, from the exact counts; then keeps them. */
static void
frame_jobtypes(FILE *f, struct top *tp, const struct ctl_status *st)
{
	uint64_t now = now_ms();
	double dt = tp->tp_prev_ms > 0 && now > tp->tp_prev_ms ? (now - tp->tp_prev_ms) / 1e3 : 0;
	struct jt_rate *r = calloc(st->st_njobtypes + 1, sizeof(*r));
	struct ctl_jobtype *copy = calloc(st->st_njobtypes + 1, sizeof(*copy));

	if (r == NULL || copy == NULL)
		goto out;
	for (uint32_t i = 0; i < st->st_njobtypes; i++) {
		const struct ctl_jobtype *jt = &st->st_jobtypes[i], *p = prev_of(tp, jt->cj_name);

		r[i].jr_jt = jt;
		if (p != NULL && dt > 0 && jt->cj_processed >= p->cj_processed &&
		    jt->cj_failed >= p->cj_failed) {
			r[i].jr_done = (double)(jt->cj_processed - p->cj_processed) / dt;
			r[i].jr_failed = (double)(jt->cj_failed - p->cj_failed) / dt;
		}
	}
	qsort(r, st->st_njobtypes, sizeof(*r), busiest_first);
	if (st->st_njobtypes > 0)
		fprintf(f, "\n%-24s %10s %10s %14s %10s\n", "JOBTYPE", "DONE/S", "FAILED/S",
		    "PROCESSED", "FAILED");
	for (uint32_t i = 0; i < st->st_njobtypes && i < TOP_JOBTYPES; i++)
		fprintf(f, "%-24.24s %10.0f %10.0f %14" PRIu64 " %10" PRIu64 "\n",
		    r[i].jr_jt->cj_name, r[i].jr_done, r[i].jr_failed, r[i].jr_jt->cj_processed,
		    r[i].jr_jt->cj_failed);
	if (st->st_njobtypes > 0)
		memcpy(copy, st->st_jobtypes, st->st_njobtypes * sizeof(*copy));
	free(tp->tp_prev);
	tp->tp_prev = copy;
	tp->tp_nprev = st->st_njobtypes;
	tp->tp_prev_ms = now;
	copy = NULL;
out:
	free(copy);
	free(r);
}

/* Takes a sample and renders the frame into tp_frame; -1 when status failed. */
static int
frame_next(struct top *tp)
{
	const struct ctl_status *st;
	char clock[32];
	time_t now = time(NULL);
	FILE *f;

	if (ctl_sample_take(tp->tp_sa, &tp->tp_ring[tp->tp_n % TOP_WINDOW]) == -1)
		return -1;
	tp->tp_n++;
	st = ctl_sample_status(tp->tp_sa);
	free(tp->tp_frame);
	tp->tp_frame = NULL;
	if ((f = open_memstream(&tp->tp_frame, &tp->tp_len)) == NULL)
		return -1;
	strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&now));
	fprintf(f, "fkworkerctl top   %s   fkworker %s on %s (pid %d)   q quits\n",
	    clock, st->st_version, st->st_hostname, st->st_pid);
	frame_verdict(f, tp, st);
	fputc('\n', f);
	ctl_render_text(f, st);
	frame_jobtypes(f, tp, st);
	return fclose(f) == 0 ? 0 : -1;
}

/* Draws the frame, each line cut to the screen's width, as many as fit. */
static void
screen_draw(const struct top *tp)
{
	const char *p = tp->tp_frame;
	int y = 0;

	erase();
	while (p != NULL && *p != '\0' && y < LINES) {
		const char *nl = strchr(p, '\n');
		int len = nl != NULL ? (int)(nl - p) : (int)strlen(p);

		mvaddnstr(y++, 0, p, len < COLS ? len : COLS);
		p = nl != NULL ? nl + 1 : NULL;
	}
	refresh();
}

/* Waits for the next tick on the keyboard: 1 when q was pressed. */
static int
screen_wait(const struct top *tp, uint64_t due)
{
	for (uint64_t now = now_ms(); now < due && !top_stop; now = now_ms()) {
		int ch;

		timeout((int)(due - now));
		ch = getch();
		if (ch == 'q' || ch == 'Q')
			return 1;
		if (ch == KEY_RESIZE)
			screen_draw(tp);
	}
	return 0;
}

static int
run_screen(struct top *tp, long frames, SCREEN *scr)
{
	uint64_t t0 = now_ms();
	int rc = 0;

	set_term(scr);
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	for (long i = 0; (frames == 0 || i < frames) && !top_stop; i++) {
		if (frame_next(tp) == -1) {
			rc = CTL_EX_ERROR;
			break;
		}
		screen_draw(tp);
		if (screen_wait(tp, t0 + (uint64_t)(i + 1) * 1000))
			break;
	}
	endwin();
	delscreen(scr);
	return rc;
}

static int
run_plain(struct top *tp, long frames)
{
	uint64_t t0 = now_ms();

	for (long i = 0; (frames == 0 || i < frames) && !top_stop; i++) {
		if (i > 0)
			ctl_sample_sleep_until(t0 + (uint64_t)i * 1000);
		if (frame_next(tp) == -1)
			return CTL_EX_ERROR;
		/* A frame per paragraph; a reader that went away ends the loop. */
		if (printf("%s\n", tp->tp_frame) < 0 || fflush(stdout) == EOF)
			break;
	}
	return 0;
}

int
ctl_top_run(int ctlfd, long frames, int plain)
{
	struct top tp = { .tp_sa = ctl_sample_new(ctlfd, "top") };
	SCREEN *scr = NULL;
	int rc;

	if (tp.tp_sa == NULL)
		return CTL_EX_ERROR;
	catch_stops();
	/* A terminal curses does not know (TERM unset or odd) gets the plain frames. */
	if (!plain && isatty(STDOUT_FILENO) && isatty(STDIN_FILENO))
		scr = newterm(NULL, stdout, stdin);
	if (scr != NULL)
		rc = run_screen(&tp, frames, scr);
	else
		rc = run_plain(&tp, frames);
	free(tp.tp_frame);
	free(tp.tp_prev);
	ctl_sample_free(tp.tp_sa);
	return rc;
}
