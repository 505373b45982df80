/* The logger's and the metrics' sinks: a file or FIFO opened without ever blocking, each line
 * one write; a line that does not fit a full FIFO is dropped, so no client of the API and no
 * reader of the log can stall the VMM. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "api/api_vm.h"

static const char *const level_names[] = {
	[API_LOG_OFF] = "Off", [API_LOG_ERROR] = "Error", [API_LOG_WARNING] = "Warning",
	[API_LOG_INFO] = "Info", [API_LOG_DEBUG] = "Debug", [API_LOG_TRACE] = "Trace",
};

int api_log_level_parse(const char *name, enum api_log_level *level)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (level_names[i] && !strcasecmp(name, level_names[i])) {
			*level = (enum api_log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *api_log_level_name(enum api_log_level level)
{
	return (unsigned)level < sizeof(level_names) / sizeof(level_names[0]) && level_names[level]
		       ? level_names[level]
		       : "?";
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

/* One write; a sink that cannot take the whole line now (a full FIFO) loses it. */
void api_sink_write(int fd, const char *line, size_t len)
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
			 vm->logger.show_level ? api_log_level_name(level) : "");
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

