/* The control socket's HTTP server (ctl_server.h): libmicrohttpd with no thread of its own,
 * its epoll descriptor on hardy's event loop and its timeouts on a timerfd. */
#include "vmm/ctl_server.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/event_loop.h"

struct ctl_server {
	struct MHD_Daemon *mhd;
	struct event_loop *loop;
	int mhd_fd, timer_fd;
	const struct ctl_ops *ops;
	void *ctx;
	char id[HARDY_NAME_MAX + 1];
};

/* A request's body as it arrives, bounded. */
struct ctl_upload {
	char buf[CTL_MAX_BODY];
	size_t len;
	bool too_big;
};

static enum MHD_Result ctl_send(struct MHD_Connection *c, int status, char *body)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(body ? strlen(body) : 0,
								    body ? body : (char *)"",
								    MHD_RESPMEM_MUST_COPY);
	free(body);
	if (!resp)
		return MHD_NO;
	if (status != 204)
		MHD_add_response_header(resp, "Content-Type", "application/json");
	enum MHD_Result r = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result ctl_on_request(void *cls, struct MHD_Connection *c, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct ctl_server *s = cls;
	struct ctl_upload *up = *con_cls;
	if (!up) { /* headers only: make room for the body */
		up = calloc(1, sizeof(*up));
		if (!up)
			return MHD_NO;
		*con_cls = up;
		return MHD_YES;
	}
	if (*upload_size) {
		if (up->len + *upload_size > sizeof(up->buf))
			up->too_big = true;
		else
			memcpy(up->buf + up->len, upload_data, *upload_size);
		up->len += up->too_big ? 0 : *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	if (up->too_big) {
		char *msg = strdup("{\"fault_message\": \"the body is larger than 4096 bytes\"}");
		return ctl_send(c, 400, msg);
	}
	int status;
	char *reply;
	ctl_handle(s->ops, s->ctx, s->id, method, url, up->buf, up->len, &status, &reply);
	return ctl_send(c, status, reply);
}

static void ctl_on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			     enum MHD_RequestTerminationCode why)
{
	free(*con_cls);
	*con_cls = NULL;
}

/* After every run: the next timeout MHD wants, on the timerfd (0: none pending). */
static void ctl_arm_timer(struct ctl_server *s)
{
	MHD_UNSIGNED_LONG_LONG ms = 0;
	struct itimerspec t = { 0 };
	if (MHD_get_timeout(s->mhd, &ms) == MHD_YES) {
		if (ms == 0)
			ms = 1;
		t.it_value.tv_sec = (time_t)(ms / 1000);
		t.it_value.tv_nsec = (long)(ms % 1000) * 1000000L;
	}
	timerfd_settime(s->timer_fd, 0, &t, NULL);
}

static void ctl_run(struct ctl_server *s)
{
	/* Twice: a run that closed connections re-arms the listening socket only on the next. */
	MHD_run(s->mhd);
	MHD_run(s->mhd);
	ctl_arm_timer(s);
}

static void ctl_on_mhd(void *ctx, uint32_t events)
{
	ctl_run(ctx);
}

static void ctl_on_timer(void *ctx, uint32_t events)
{
	struct ctl_server *s = ctx;
	uint64_t n;
	if (read(s->timer_fd, &n, sizeof(n)) < 0) {
		/* spurious: MHD_run below decides */
	}
	ctl_run(s);
}

struct ctl_server *ctl_server_start(struct event_loop *loop, int listen_fd,
				    const struct ctl_ops *ops, void *ctx, const char *id,
				    struct error *err)
{
	struct ctl_server *s = calloc(1, sizeof(*s));
	if (!s) {
		error_errno(err, "out of memory");
		return NULL;
	}
	*s = (struct ctl_server){ .loop = loop, .ops = ops, .ctx = ctx, .mhd_fd = -1,
				  .timer_fd = -1 };
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_SUPPRESS_DATE_NO_CLOCK, 0, NULL, NULL,
				  ctl_on_request, s,
				  MHD_OPTION_LISTEN_SOCKET, listen_fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)CTL_MAX_CONNS,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CTL_TIMEOUT_S,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
				  MHD_OPTION_NOTIFY_COMPLETED, ctl_on_completed, s,
				  MHD_OPTION_END);
	if (!s->mhd) {
		error_set(err, ERR_RUNTIME, "cannot start the control socket's HTTP server");
		goto fail;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (!info || s->timer_fd < 0) {
		error_errno(err, "control socket server");
		goto fail;
	}
	s->mhd_fd = info->epoll_fd;
	if (event_loop_add(loop, s->mhd_fd, EPOLLIN, ctl_on_mhd, s, err) < 0) {
		s->mhd_fd = -1;
		goto fail;
	}
	if (event_loop_add(loop, s->timer_fd, EPOLLIN, ctl_on_timer, s, err) < 0)
		goto fail;
	ctl_arm_timer(s);
	return s;
fail:
	ctl_server_stop(s);
	return NULL;
}

void ctl_server_stop(struct ctl_server *s)
{
	if (!s)
		return;
	if (s->mhd_fd >= 0)
		event_loop_remove(s->loop, s->mhd_fd);
	if (s->timer_fd >= 0) {
		event_loop_remove(s->loop, s->timer_fd);
		close(s->timer_fd);
	}
	if (s->mhd) {
		MHD_quiesce_daemon(s->mhd); /* the listening socket stays the caller's */
		MHD_stop_daemon(s->mhd);
	}
	free(s);
}
