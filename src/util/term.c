/* Raw-mode terminal handling. The saved settings are file-scope because signal handlers and
 * atexit() have no other way to reach them; there is only one controlling terminal anyway. */
#include "util/term.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved_termios;
static int saved_fd = -1;

void term_restore(void)
{
	if (saved_fd >= 0) {
		/* Not TCSAFLUSH: it waits for pending output, forever on a terminal stopped with
		 * Ctrl-S. Pending input is discarded by hand instead. */
		tcflush(saved_fd, TCIFLUSH);
		tcsetattr(saved_fd, TCSANOW, &saved_termios);
		saved_fd = -1;
	}
}

static void term_fatal_signal(int sig)
{
	term_restore(); /* tcsetattr is async-signal-safe */
	signal(sig, SIG_DFL);
	raise(sig);
}

bool term_raw_enter(int fd)
{
	struct termios t;
	if (!isatty(fd) || tcgetattr(fd, &t) != 0)
		return false;
	saved_termios = t;
	saved_fd = fd;
	atexit(term_restore);
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = term_fatal_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(fatal[i], &sa, NULL);
	}
	cfmakeraw(&t); /* the guest's own tty does the line discipline, CR/LF included */
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	tcflush(fd, TCIFLUSH);
	tcsetattr(fd, TCSANOW, &t); /* TCSANOW: see term_restore */
	return true;
}
