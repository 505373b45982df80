/* The verbs' side of a control socket: find a VM by name and send it one HTTP request
 * (libcurl over the Unix socket; JSON by json-c). */
#ifndef HARDY_CLI_CTL_CLIENT_H
#define HARDY_CLI_CTL_CLIENT_H

#include <json-c/json.h>
#include <sys/types.h>

#include "util/error.h"
#include "vmm/ctl_dir.h"

struct ctl_target {
	char dir[CTL_PATH_MAX];
	char name[128];
	char sock[CTL_PATH_MAX + 16];
	pid_t pid;
};

/* Finds NAME's live control socket (cleaning a stale one): ERR_INPUT "no VM named NAME is
 * running" when there is none. */
int ctl_find(const char *name, struct ctl_target *t, struct error *err);
/* One request: the reply's status; *reply (parsed JSON, the caller's) NULL for 204. On a
 * status >= 400, err holds the fault_message (ERR_INPUT for 400, ERR_RUNTIME otherwise). */
int ctl_request(const struct ctl_target *t, const char *method, const char *path,
		const char *body, struct json_object **reply, struct error *err);

#endif
