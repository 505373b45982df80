/* The API's HTTP/1.1 server: libmicrohttpd in its external epoll mode, driven from hardy's
 * event loop. MHD's epoll descriptor and a timerfd (MHD's next timeout: idle connections,
 * buffered work) are the loop's registrations; every socket is non-blocking, so a slow or
 * stuck client costs only its own connection slot until the timeout closes it. Bodies past
 * API_MAX_BODY are refused without being stored; requests go to api_vm_handle(). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api/api_vm.h"
#include "core/event_loop.h"

struct api_server {
	struct MHD_Daemon *mhd;
	struct event_loop *loop;
	struct api_vm *vm;
	int mhd_epfd, timerfd;
};

/* One request's body as it arrives. */
struct api_upload {
	char *buf;
	size_t len;
	bool too_big;
};

static enum MHD_Result api_http_send(struct MHD_Connection *c, int status, const char *body)
{
	struct MHD_Response *r;
	if (body)
		r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	else
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	if (body)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result api_http_too_big(struct api_server *s, struct MHD_Connection *c,
					const char *method, const char *url)
{
	char msg[128];
	snprintf(msg, sizeof(msg), "{\"fault_message\":\"Request payload is larger than the "
		 "limit of %u bytes allowed by the server.\"}", API_MAX_BODY);
	s->vm->requests++;
	s->vm->failed_requests++;
	api_log(s->vm, API_LOG_WARNING, "%.10s %.200s: 400 body over %u bytes", method, url,
		API_MAX_BODY);
	return api_http_send(c, 400, msg);
}

static enum MHD_Result api_http_request(void *cls, struct MHD_Connection *c, const char *url,
					const char *method, const char *version,
					const char *data, size_t *data_size, void **req_cls)
{
	struct api_server *s = cls;
	struct api_upload *u = *req_cls;
	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u)
			return MHD_NO;
		*req_cls = u;
		/* A declared length over the limit is refused before any of it is read. */
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > API_MAX_BODY) {
			u->too_big = true;
			return api_http_too_big(s, c, method, url);
		}
		return MHD_YES;
	}
	if (*data_size) {
		if (!u->too_big && u->len + *data_size <= API_MAX_BODY) {
			char *nb = realloc(u->buf, u->len + *data_size + 1);
			if (!nb)
				return MHD_NO;
			memcpy(nb + u->len, data, *data_size);
			u->buf = nb;
			u->len += *data_size;
		} else {
			u->too_big = true; /* a chunked body that grew too large: dropped */
		}
		*data_size = 0;
		return MHD_YES;
	}
	if (u->too_big)
		return api_http_too_big(s, c, method, url);
	struct api_reply reply;
	api_vm_handle(s->vm, method, url, u->buf ? u->buf : "", u->len, &reply);
	enum MHD_Result ok = api_http_send(c, reply.status, reply.body);
	api_reply_free(&reply);
	return ok;
}

static void api_http_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			       enum MHD_RequestTerminationCode toe)
{
	struct api_upload *u = *req_cls;
	if (u) {
		free(u->buf);
		free(u);
	}
	*req_cls = NULL;
}

static void api_http_log(void *cls, const char *fmt, va_list ap)
{
	struct api_server *s = cls;
	char line[256];
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	api_log(s->vm, API_LOG_DEBUG, "http: %s", line);
}

/* MHD's next deadline onto the timerfd (none: disarmed). */
static void api_server_arm(struct api_server *s)
{
	MHD_UNSIGNED_LONG_LONG ms = 0;
	struct itimerspec its = { 0 };
	if (MHD_get_timeout(s->mhd, &ms) == MHD_YES) {
		its.it_value.tv_sec = (time_t)(ms / 1000);
		its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
		if (ms == 0)
			its.it_value.tv_nsec = 1; /* now; zero would disarm */
	}
	timerfd_settime(s->timerfd, 0, &its, NULL);
}

static unsigned api_server_connections(struct api_server *s)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->mhd,
							   MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return i ? i->num_connections : 0;
}

static void api_server_run(void *ctx, uint32_t events)
{
	struct api_server *s = ctx;
	unsigned before = api_server_connections(s);
	MHD_run(s->mhd);
	/* MHD puts its listening socket back into its epoll set (taken out at the connection
	 * limit) only at the start of a run, and frees closed connections at the end: when some
	 * closed, run once more, or a flood that ended would leave the socket unwatched. */
	if (api_server_connections(s) < before)
		MHD_run(s->mhd);
	api_server_arm(s);
}

static void api_server_timer(void *ctx, uint32_t events)
{
	struct api_server *s = ctx;
	uint64_t expirations;
	if (read(s->timerfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return;
	api_server_run(s, events);
}

struct api_server *api_server_start(struct event_loop *loop, int listen_fd, struct api_vm *vm,
				    struct error *err)
{
	struct api_server *s = calloc(1, sizeof(*s));
	if (!s) {
		error_errno(err, "out of memory");
		close(listen_fd);
		return NULL;
	}
	s->loop = loop;
	s->vm = vm;
	s->mhd_epfd = -1;
	s->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->timerfd < 0) {
		error_errno(err, "timerfd_create");
		close(listen_fd);
		free(s);
		return NULL;
	}
	s->mhd = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_SUPPRESS_DATE_NO_CLOCK, 0, NULL, NULL,
		api_http_request, s,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)listen_fd,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_MAX_CONNECTIONS,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_CONN_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
		MHD_OPTION_NOTIFY_COMPLETED, api_http_completed, s,
		MHD_OPTION_EXTERNAL_LOGGER, api_http_log, s,
		MHD_OPTION_END);
	if (!s->mhd) {
		error_set(err, ERR_RUNTIME, "API server: libmicrohttpd did not start");
		close(listen_fd);
		close(s->timerfd);
		free(s);
		return NULL;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	s->mhd_epfd = info ? info->epoll_fd : -1;
	if (s->mhd_epfd < 0) {
		error_set(err, ERR_RUNTIME, "API server: no epoll descriptor from libmicrohttpd");
		api_server_stop(s);
		return NULL;
	}
	if (event_loop_add(loop, s->mhd_epfd, EPOLLIN, api_server_run, s, err) < 0 ||
	    event_loop_add(loop, s->timerfd, EPOLLIN, api_server_timer, s, err) < 0) {
		api_server_stop(s);
		return NULL;
	}
	api_server_arm(s);
	return s;
}

void api_server_stop(struct api_server *s)
{
	if (!s)
		return;
	event_loop_remove(s->loop, s->mhd_epfd);
	event_loop_remove(s->loop, s->timerfd);
	if (s->mhd)
		MHD_stop_daemon(s->mhd); /* closes the listening socket and every connection */
	close(s->timerfd);
	free(s);
}
