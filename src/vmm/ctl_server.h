/* The control socket's server: HTTP/1.1 on the VM's Unix socket, served from the event loop
 * (libmicrohttpd in external-epoll mode, JSON by json-c), never from a vCPU thread.
 *
 * This is the subset of the Firecracker API that the CLI verbs use, in the API's own words:
 *   GET /                 {"id", "state": "Not started"|"Running"|"Paused", "vmm_version", "app_name"}
 *   GET /machine-config   {"vcpu_count", "mem_size_mib", "smt"}
 *   GET /vm/config        the VM's description (boot-source, machine-config, drives, ...)
 *   PATCH /vm             {"state": "Paused"|"Resumed"}
 *   PUT /actions          {"action_type": "SendCtrlAltDel"}
 * 204 on success, 200 with a body for GETs, 400 {"fault_message"} for a refused request.
 * It stands in for src/api/'s server (api_server_start), whose struct api_ops has the same
 * callbacks as struct ctl_ops below: where both exist, the full API serves the control socket.
 *
 * A slow client never delays another: connections are non-blocking, at most CTL_MAX_CONNS at
 * once, bodies at most CTL_MAX_BODY bytes, idle connections closed after CTL_TIMEOUT_S. */
#ifndef HARDY_VMM_CTL_SERVER_H
#define HARDY_VMM_CTL_SERVER_H

#include <stddef.h>

#include "core/config.h"
#include "util/error.h"
#include "vm/vm_state.h"

struct event_loop;
struct ctl_server;

#define CTL_MAX_CONNS 32u
#define CTL_MAX_BODY 4096u
#define CTL_TIMEOUT_S 5u

/* What the server asks of the VMM; all on the loop's thread. 0, or -1 with err (ERR_INPUT
 * answers 400, anything else 500). */
struct ctl_ops {
	int (*instance_start)(void *ctx, struct vm_config *cfg, struct error *err);
	int (*pause)(void *ctx, struct error *err);
	int (*resume)(void *ctx, struct error *err);
	int (*ctrl_alt_del)(void *ctx, struct error *err);
	enum vm_state (*state)(void *ctx);
	/* The VM's configuration; NULL before one exists. */
	const struct vm_config *(*config)(void *ctx);
};

/* One request in, one reply out (no sockets: the server and the unit test call it). *reply is
 * malloc'd JSON or NULL (204). */
void ctl_handle(const struct ctl_ops *ops, void *ctx, const char *id, const char *method,
		const char *url, const char *body, size_t len, int *status, char **reply);

/* listen_fd: bound and listening (the server does not close it). */
struct ctl_server *ctl_server_start(struct event_loop *loop, int listen_fd,
				    const struct ctl_ops *ops, void *ctx, const char *id,
				    struct error *err);
void ctl_server_stop(struct ctl_server *s);

#endif
