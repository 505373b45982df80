/* Filling struct error: first error wins, messages are one line. */
#include "util/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int error_set(struct error *e, int status, const char *fmt, ...)
{
	if (!e || e->status != ERR_OK)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	e->status = status;
	return -1;
}

int error_errno(struct error *e, const char *fmt, ...)
{
	int saved = errno;
	if (!e || e->status != ERR_OK)
		return -1;
	char what[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return error_set(e, ERR_RUNTIME, "%s: %s", what, strerror(saved));
}
