/* Unit test: the console's output path never blocks: a full pipe makes console_flush ask for
 * EPOLLOUT while guest writes keep returning (the excess dropped and counted), a terminal stopped
 * with Ctrl-S does not block output (nor, after it, the terminal's restore), a reader that went
 * away drops output, and a file console stops at its limit with one notice line. An alarm fails
 * the test where anything would block. */
#include <fcntl.h>
#include <signal.h>
#include <termios.h>
#include <sys/stat.h>

#include "check.h"
#include "util/term.h"
#include "core/console.h"

static uint64_t dropped(struct console *c)
{
	pthread_mutex_lock(&c->out_lock);
	uint64_t d = c->dropped;
	pthread_mutex_unlock(&c->out_lock);
	return d;
}

static void test_full_pipe(void)
{
	SECTION("a pipe nobody reads: writes return at once, the excess is counted");
	int p[2];
	CHECK(pipe(p) == 0, "pipe");
	struct console con = { .in_fd = -1 };
	struct error err = { 0 };
	CHECK(console_attach_output(&con, p[1], 0, CONSOLE_RING_SIZE, &err) == 0,
	      "attach: %s", err.msg);
	CHECK(fcntl(p[1], F_GETFL) & O_NONBLOCK, "out_fd not made non-blocking");
	uint8_t chunk[4096];
	memset(chunk, 'x', sizeof(chunk));
	size_t total = 0;
	int waits = 0;
	/* Far more than the pipe (64 KiB) and the ring together can hold. */
	for (int i = 0; i < 1024; i++) {
		console_write(&con, chunk, sizeof(chunk));
		total += sizeof(chunk);
		waits += console_flush(&con) == 1;
	}
	CHECK(waits > 0, "flush never reported a full pipe");
	CHECK(dropped(&con) > 0 && dropped(&con) < total, "dropped %llu of %zu",
	      (unsigned long long)dropped(&con), total);
	CHECK(con.written + con.ring_len + dropped(&con) == total, "bytes unaccounted for");
	SECTION("the reader catches up: the ring drains, nothing more is lost");
	uint64_t lost = dropped(&con);
	char buf[65536];
	while (con.ring_len) {
		CHECK(read(p[0], buf, sizeof(buf)) > 0, "read");
		console_flush(&con);
	}
	CHECK(dropped(&con) == lost, "output lost while the reader kept up");
	console_close(&con);
	CHECK(!(fcntl(p[1], F_GETFL) & O_NONBLOCK), "O_NONBLOCK not taken back");
	close(p[0]);
	close(p[1]);
}

static void test_stopped_terminal(void)
{
	SECTION("a terminal stopped with Ctrl-S: flush asks to wait instead of blocking");
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0, "pty");
	int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	CHECK(slave >= 0, "open pty slave");
	CHECK(term_raw_enter(slave), "raw mode on the pty");
	CHECK(tcflow(slave, TCOOFF) == 0, "stop output (what Ctrl-S does)");
	struct console con = { .in_fd = -1 };
	struct error err = { 0 };
	CHECK(console_attach_output(&con, slave, 0, CONSOLE_RING_SIZE, &err) == 0,
	      "attach: %s", err.msg);
	uint8_t chunk[4096];
	memset(chunk, 'z', sizeof(chunk));
	int waits = 0;
	for (int i = 0; i < 256; i++) {
		console_write(&con, chunk, sizeof(chunk));
		waits += console_flush(&con) == 1;
	}
	CHECK(waits > 0, "flush never waited on a stopped terminal");
	CHECK(dropped(&con) > 0, "nothing dropped on a stopped terminal");
	console_close(&con);
	term_restore(); /* with output pending on a stopped terminal */
	close(slave);
	close(master);
}

static void test_reader_gone(void)
{
	SECTION("the reader closed the pipe: output dropped, the guest not stopped");
	int p[2];
	CHECK(pipe(p) == 0, "pipe");
	close(p[0]);
	struct console con = { .in_fd = -1 };
	struct error err = { 0 };
	CHECK(console_attach_output(&con, p[1], 0, CONSOLE_RING_SIZE, &err) == 0,
	      "attach: %s", err.msg);
	console_write(&con, (const uint8_t *)"hello", 5);
	CHECK(console_flush(&con) == 0, "flush waits on a dead pipe");
	console_write(&con, (const uint8_t *)"again", 5);
	CHECK(dropped(&con) == 10, "dropped %llu, expected 10", (unsigned long long)dropped(&con));
	console_close(&con);
	close(p[1]);
}

static void test_file_limit(void)
{
	SECTION("a file console stops at its limit with one notice line");
	char path[64];
	check_write_tmp("", 0, path);
	int fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0, "open %s", path);
	struct console con = { .in_fd = -1 };
	struct error err = { 0 };
	CHECK(console_attach_output(&con, fd, 1000, CONSOLE_RING_SIZE, &err) == 0,
	      "attach: %s", err.msg);
	uint8_t chunk[300];
	memset(chunk, 'y', sizeof(chunk));
	for (int i = 0; i < 10; i++) {
		console_write(&con, chunk, sizeof(chunk));
		CHECK(console_flush(&con) == 0, "a file never waits");
	}
	CHECK(con.written == 1000, "wrote %llu bytes, limit 1000", (unsigned long long)con.written);
	CHECK(dropped(&con) == 2000, "dropped %llu", (unsigned long long)dropped(&con));
	console_close(&con);
	close(fd);
	FILE *f = fopen(path, "r");
	CHECK(f, "reopen");
	char text[2048] = { 0 };
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	unlink(path);
	CHECK(n > 1000 && n < 1200, "file has %zu bytes", n);
	CHECK(strstr(text + 1000, "console limit of 1000 bytes reached"), "no notice line");
	CHECK(!strchr(strchr(text + 1001, '\n') + 1, 'y'), "output after the notice");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN); /* as hardy does: a reader that went away is EPIPE, not death */
	alarm(60);                /* SIGALRM ends the test if anything blocks */
	test_full_pipe();
	test_stopped_terminal();
	test_reader_gone();
	test_file_limit();
	puts("test_console: all passed");
	return 0;
}
