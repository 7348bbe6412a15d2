/* SPDX-License-Identifier: MIT */
/* sig: signals as file descriptors, so every reaction happens in the event loop. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "sig.h"

int
sig_fd(const int *signals)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	for (; *signals != 0; signals++)
		sigaddset(&set, *signals);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int
sig_read(int fd, int *pid_out)
{
	struct signalfd_siginfo si;
	ssize_t n;

	do
		n = read(fd, &si, sizeof(si));
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return errno == EAGAIN ? 0 : -1;
	if (n != sizeof(si))
		return -1;
	if (pid_out != NULL)
		*pid_out = (int)si.ssi_pid;
	return (int)si.ssi_signo;
}

void
sig_reset_all(void)
{
	sigset_t set;

	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
}

const char *
sig_name(int s)
{
	const char *d = sigabbrev_np(s);

	return d != NULL ? d : "?";
}
