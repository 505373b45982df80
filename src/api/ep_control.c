/* Control endpoints: PUT /actions, PATCH /vm, PUT /logger, PUT /metrics, and the logger and
 * metrics they set up (appended to a file or FIFO without ever blocking: a line that does not
 * fit a full FIFO is dropped). */
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

int api_open_sink(const char *what, const char *path, struct error *err)
{
	if (!path[0])
		return error_set(err, ERR_INPUT, "%s: must not be empty", what);
	/* O_NONBLOCK: a FIFO without a reader is refused (ENXIO) instead of waiting for one. */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC | O_NOCTTY,
		      0600);
	if (fd < 0)
		return error_set(err, ERR_INPUT, "%s: cannot open '%.200s': %s", what, path,
				 strerror(errno));
	return fd;
}

static const char *const level_names[] = {
	[API_LOG_OFF] = "Off", [API_LOG_ERROR] = "Error", [API_LOG_WARNING] = "Warning",
	[API_LOG_INFO] = "Info", [API_LOG_DEBUG] = "Debug", [API_LOG_TRACE] = "Trace",
};

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
	if (level) {
		unsigned i = 0;
		while (i < sizeof(level_names) / sizeof(level_names[0]) &&
		       strcasecmp(level, level_names[i]))
			i++;
		if (i == sizeof(level_names) / sizeof(level_names[0]))
			return error_set(err, ERR_INPUT, "level: expected Error, Warning, Info, Debug, "
					 "Trace or Off");
		lv = (enum api_log_level)i;
	}
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
	api_log(vm, API_LOG_INFO, "logger configured (level %s)", level_names[lv]);
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

/* One write; a sink that cannot take the whole line now (a full FIFO) loses it. */
static void api_sink_write(int fd, const char *line, size_t len)
{
	ssize_t n = write(fd, line, len);
	(void)n;
}

void api_log(struct api_vm *vm, enum api_log_level level, const char *fmt, ...)
{
	if (!vm->logger.set || level > vm->logger.level || level == API_LOG_OFF)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char line[512];
	int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%09ld [%s:api%s%s] ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec, vm->cfg->name, vm->logger.show_level ? ":" : "",
			 vm->logger.show_level ? level_names[level] : "");
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	size_t len = strlen(line);
	line[len++] = '\n';
	api_sink_write(vm->logger.fd >= 0 ? vm->logger.fd : STDERR_FILENO, line, len);
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
