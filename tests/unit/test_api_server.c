/* Unit test: the API's HTTP server (libmicrohttpd on a Unix socket, driven by hardy's event
 * loop on a thread of its own) with real clients: requests answered, keep-alive, a stalled or
 * half-closed client not delaying another, a client gone mid-body, bodies over the limit (by
 * Content-Length and chunked), a flood of connections past the limit; the server answers after
 * each; an idle connection closed at the timeout. Also the socket rules: mode 0600, a live socket refused, a stale one replaced. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "api/api.h"
#include "check.h"
#include "core/event_loop.h"

static char sock_path[64];
static struct event_loop *loop;
static int wake_efd;

static int fake_start(void *ctx, struct vm_config *cfg, struct error *err)
{
	return 0;
}
static const struct api_ops ops = { .instance_start = fake_start };

static void on_wake(void *ctx, uint32_t events)
{
	event_loop_quit(loop);
}

static void *serve(void *arg)
{
	struct error err = { 0 };
	event_loop_run(loop, &err);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int client(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	strcpy(a.sun_path, sock_path);
	CHECK(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "connect: %s",
	      strerror(errno));
	return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w <= 0)
			return; /* the server may close first (refused bodies) */
		s += w;
		n -= (size_t)w;
	}
}

/* Reads one response (headers and Content-Length body) within timeout_s; returns the status
 * or -1 on timeout/close; body (if given) gets the body. */
static int read_response(int fd, double timeout_s, char *body, size_t body_size)
{
	char buf[8192];
	size_t got = 0;
	double end = now_s() + timeout_s;
	for (;;) {
		buf[got] = '\0';
		char *hdr_end = strstr(buf, "\r\n\r\n");
		if (hdr_end) {
			int status = 0;
			sscanf(buf, "HTTP/1.1 %d", &status);
			char *cl = strcasestr(buf, "Content-Length:");
			size_t len = cl && cl < hdr_end ? strtoul(cl + 15, NULL, 10) : 0;
			size_t have = got - (size_t)(hdr_end + 4 - buf);
			if (have >= len) {
				if (body) {
					snprintf(body, body_size, "%.*s", (int)len, hdr_end + 4);
				}
				return status;
			}
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)((end - now_s()) * 1000);
		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -1;
		ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
}

static int request(int fd, const char *method, const char *path, const char *body, char *out,
		   size_t out_size)
{
	char req[1024];
	int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: localhost\r\n"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", method,
			 path, body ? strlen(body) : 0, body ? body : "");
	send_all(fd, req, (size_t)n);
	return read_response(fd, 3.0, out, out_size);
}

/* A fresh connection answers GET / quickly. */
static void check_answers(const char *after)
{
	int fd = client();
	char body[512];
	double t0 = now_s();
	int st = request(fd, "GET", "/", NULL, body, sizeof(body));
	CHECK(st == 200 && strstr(body, "\"state\":\"Not started\""), "after %s: GET / gave %d %s",
	      after, st, body);
	CHECK(now_s() - t0 < 1.0, "after %s: GET / took %.2f s", after, now_s() - t0);
	close(fd);
}

int main(void)
{
	snprintf(sock_path, sizeof(sock_path), "/tmp/hardy-unit-api-%d.sock", (int)getpid());
	struct error err = { 0 };
	struct vm_config cfg;
	CHECK(vm_config_defaults(&cfg, &err) == 0, "defaults");
	struct api_vm *vm = api_vm_create(&cfg, &ops, NULL, &err);
	CHECK(vm, "api_vm_create: %s", err.msg);

	SECTION("the socket: 0600, live refused, stale replaced");
	int lfd = api_socket_listen(sock_path, &err);
	CHECK(lfd >= 0, "listen: %s", err.msg);
	struct stat st;
	CHECK(stat(sock_path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode %o", st.st_mode & 0777);
	struct error err2 = { 0 };
	CHECK(api_socket_listen(sock_path, &err2) < 0 && err2.status == ERR_INPUT &&
	      strstr(err2.msg, "in use"), "a live socket is refused: %s", err2.msg);
	close(lfd);
	lfd = api_socket_listen(sock_path, &err);
	CHECK(lfd >= 0, "a stale socket is replaced: %s", err.msg);
	err2 = (struct error){ 0 };
	CHECK(api_socket_listen("/tmp", &err2) < 0 && strstr(err2.msg, "not a socket"),
	      "a directory is refused: %s", err2.msg);

	loop = event_loop_create(&err);
	struct api_server *srv = api_server_start(loop, lfd, vm, &err);
	CHECK(srv, "server: %s", err.msg);
	wake_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	CHECK(event_loop_add(loop, wake_efd, EPOLLIN, on_wake, NULL, &err) == 0, "%s", err.msg);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, serve, NULL) == 0, "thread");

	SECTION("requests, keep-alive, errors");
	check_answers("start");
	int fd = client();
	char body[1024];
	CHECK(request(fd, "PUT", "/machine-config", "{\"vcpu_count\":2,\"mem_size_mib\":256}", body,
		      sizeof(body)) == 204, "PUT machine-config");
	CHECK(request(fd, "GET", "/machine-config", NULL, body, sizeof(body)) == 200 &&
	      strstr(body, "\"vcpu_count\":2,\"mem_size_mib\":256"), "GET on the same connection: %s",
	      body);
	CHECK(request(fd, "PUT", "/machine-config", "{\"vcpu_count\":2", body, sizeof(body)) == 400 &&
	      strstr(body, "fault_message"), "malformed: %s", body);
	CHECK(request(fd, "GET", "/nope", NULL, body, sizeof(body)) == 400 &&
	      strstr(body, "Invalid request method and/or path"), "unknown path: %s", body);
	close(fd);

	SECTION("a stalled client does not delay another");
	int slow = client();
	send_all(slow, "PUT /machine-config HTTP/1.1\r\nHost: x\r\nContent-Le", 49);
	int slow_body = client();
	send_all(slow_body, "PUT /machine-config HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n{\"vc",
		 66);
	check_answers("two stalled clients");
	SECTION("half-closed and vanished clients");
	shutdown(slow, SHUT_WR);
	check_answers("a half-closed client");
	close(slow_body); /* gone mid-body */
	check_answers("a client gone mid-body");
	close(slow);

	SECTION("bodies over the limit");
	fd = client();
	const char *big_hdr = "PUT /logger HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n";
	send_all(fd, big_hdr, strlen(big_hdr));
	int code = read_response(fd, 3.0, body, sizeof(body));
	CHECK(code == 400 && strstr(body, "larger than the limit"), "Content-Length 1e6: %d %s",
	      code, body);
	close(fd);
	fd = client();
	const char *chunked = "PUT /logger HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
	send_all(fd, chunked, strlen(chunked));
	char chunk[4200];
	memset(chunk, ' ', sizeof(chunk));
	memcpy(chunk, "1000\r\n", 6);
	memcpy(chunk + 6 + 0x1000, "\r\n", 2);
	for (int i = 0; i < 16; i++) /* 64 KiB of white space */
		send_all(fd, chunk, 6 + 0x1000 + 2);
	send_all(fd, "0\r\n\r\n", 5);
	code = read_response(fd, 3.0, body, sizeof(body));
	CHECK(code == 400 && strstr(body, "larger than the limit"), "chunked 64 KiB: %d %s", code,
	      body);
	close(fd);
	check_answers("oversized bodies");

	SECTION("a flood of connections past the limit");
	int flood[API_MAX_CONNECTIONS + 40];
	for (unsigned i = 0; i < sizeof(flood) / sizeof(flood[0]); i++) {
		flood[i] = client();
		send_all(flood[i], "GET / HTTP/1.1\r\n", 16); /* never finished */
	}
	usleep(200 * 1000);
	for (unsigned i = 0; i < sizeof(flood) / sizeof(flood[0]); i++)
		close(flood[i]);
	usleep(200 * 1000);
	check_answers("a flood of connections");

	SECTION("a stalled connection is closed after %u s", API_CONN_TIMEOUT_S);
	fd = client();
	send_all(fd, "GET / HTTP/1.1\r\n", 16);
	double t0 = now_s();
	struct pollfd p = { .fd = fd, .events = POLLIN };
	CHECK(poll(&p, 1, (API_CONN_TIMEOUT_S + 3) * 1000) == 1 && recv(fd, body, sizeof(body), 0) <= 0,
	      "still open after %.1f s", now_s() - t0);
	CHECK(now_s() - t0 >= API_CONN_TIMEOUT_S - 1, "closed too early (%.1f s)", now_s() - t0);
	close(fd);
	check_answers("a timed-out connection");

	uint64_t one = 1;
	CHECK(write(wake_efd, &one, sizeof(one)) == sizeof(one), "wake");
	pthread_join(t, NULL);
	api_server_stop(srv);
	event_loop_destroy(loop);
	close(wake_efd);
	api_vm_destroy(vm);
	vm_config_free(&cfg);
	unlink(sock_path);
	printf("test_api_server: ok\n");
	return 0;
}
