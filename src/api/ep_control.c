/* Control endpoints: PUT /actions, PATCH /vm, PUT /logger, PUT /metrics, FlushMetrics (the
 * sinks themselves are api_log.c). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "api/api_vm.h"
#include "api/json_fields.h"

int api_put_actions(struct api_vm *vm, const char *id, struct json_object *body,
		    struct json_object **reply, struct error *err)
{
	static const char *const fields[] = { "action_type", NULL };
	const char *type = NULL;
	if (jf_object(body, "action", fields, err) < 0 ||
	    jf_string(body, "action_type", true, &type, err) < 0)
		return -1;
	if (!strcmp(type, "InstanceStart"))
		return api_vm_instance_start(vm, err);
	if (!strcmp(type, "FlushMetrics"))
		return api_metrics_flush(vm, err);
	if (!strcmp(type, "SendCtrlAltDel")) {
		if (!vm->started)
			return error_set(err, ERR_INPUT, "SendCtrlAltDel: the microVM is not running");
		if (!vm->ops->ctrl_alt_del)
			return error_set(err, ERR_INPUT, "SendCtrlAltDel: not supported");
		return vm->ops->ctrl_alt_del(vm->ctx, err);
	}
	return error_set(err, ERR_INPUT, "action_type: unknown action '%.40s' (expected "
			 "InstanceStart, SendCtrlAltDel or FlushMetrics)", type);
}

int api_patch_vm(struct api_vm *vm, const char *id, struct json_object *body,
		 struct json_object **reply, struct error *err)
{
	static const char *const fields[] = { "state", NULL };
	const char *state = NULL;
	if (jf_object(body, "vm", fields, err) < 0 || jf_string(body, "state", true, &state, err) < 0)
		return -1;
	int (*op)(void *, struct error *);
	if (!strcmp(state, "Paused"))
		op = vm->ops->pause;
	else if (!strcmp(state, "Resumed"))
		op = vm->ops->resume;
	else
		return error_set(err, ERR_INPUT, "state: expected \"Paused\" or \"Resumed\"");
	if (!op)
		return error_set(err, ERR_INPUT, "state %s: not supported by this hardy", state);
	if (op(vm->ctx, err) < 0)
		return -1;
	api_log(vm, API_LOG_INFO, "the microVM is %s", state);
	return 0;
}

int api_put_logger(struct api_vm *vm, const char *id, struct json_object *body,
		   struct json_object **reply, struct error *err)
{
	static const char *const fields[] = { "log_path", "level", "show_level",
					      "show_log_origin", "module", NULL };
	const char *path = NULL, *level = NULL, *module = NULL;
	bool show_level = false, show_origin = false;
	if (jf_object(body, "logger", fields, err) < 0 ||
	    jf_string(body, "log_path", false, &path, err) < 0 ||
	    jf_string(body, "level", false, &level, err) < 0 ||
	    jf_bool(body, "show_level", false, &show_level, err) < 0 ||
	    jf_bool(body, "show_log_origin", false, &show_origin, err) < 0 ||
	    jf_string(body, "module", false, &module, err) < 0)
		return -1;
	enum api_log_level lv = API_LOG_INFO;
	if (level && api_log_level_parse(level, &lv) < 0)
		return error_set(err, ERR_INPUT, "level: expected Error, Warning, Info, Debug, "
				 "Trace or Off");
	if (vm->logger.set)
		return error_set(err, ERR_INPUT, "logger: already configured");
	int fd = -1;
	if (path && (fd = vm->open_sink("log_path", path, err)) < 0)
		return -1;
	char *p, *m;
	if (api_strdup(&p, path, err) < 0 || api_strdup(&m, module, err) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	vm->logger.fd = fd;
	vm->logger.path = p;
	vm->logger.module = m;
	vm->logger.level = lv;
	vm->logger.show_level = show_level;
	vm->logger.show_origin = show_origin;
	vm->logger.set = true;
	api_log(vm, API_LOG_INFO, "logger configured (level %s)", api_log_level_name(lv));
	return 0;
}

int api_put_metrics(struct api_vm *vm, const char *id, struct json_object *body,
		    struct json_object **reply, struct error *err)
{
	static const char *const fields[] = { "metrics_path", NULL };
	const char *path = NULL;
	if (jf_object(body, "metrics", fields, err) < 0 ||
	    jf_string(body, "metrics_path", true, &path, err) < 0)
		return -1;
	if (vm->metrics.set)
		return error_set(err, ERR_INPUT, "metrics: already configured");
	int fd = vm->open_sink("metrics_path", path, err);
	if (fd < 0)
		return -1;
	if (api_strdup(&vm->metrics.path, path, err) < 0) {
		close(fd);
		return -1;
	}
	vm->metrics.fd = fd;
	vm->metrics.set = true;
	return 0;
}

int api_metrics_flush(struct api_vm *vm, struct error *err)
{
	if (!vm->metrics.set)
		return error_set(err, ERR_INPUT, "FlushMetrics: metrics are not configured "
				 "(PUT /metrics first)");
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char line[256];
	int n = snprintf(line, sizeof(line),
			 "{\"utc_timestamp_ms\":%" PRIu64 ",\"api_server\":{\"requests\":%" PRIu64
			 ",\"failed_requests\":%" PRIu64 "},\"vmm\":{\"state\":%d}}\n",
			 (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000, vm->requests,
			 vm->failed_requests, (int)api_vm_state(vm));
	if (n > 0 && (size_t)n < sizeof(line))
		api_sink_write(vm->metrics.fd, line, (size_t)n);
	return 0;
}
