/* Errors in three kinds, carried up to the one place that decides to exit (main.c).
 * A function that can fail fills a struct error and returns -1; callers pass it up unchanged. */
#ifndef HARDY_UTIL_ERROR_H
#define HARDY_UTIL_ERROR_H

enum error_status {
	ERR_OK = 0,
	ERR_RUNTIME = 1, /* host failure at run time */
	ERR_INPUT = 2,   /* bad usage or bad input: checked before any VM exists */
};

struct error {
	int status;
	char msg[320];
};

/* Records the first error only (later ones are usually consequences); always returns -1. */
int error_set(struct error *e, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like error_set with ERR_RUNTIME, appending ": strerror(errno)". */
int error_errno(struct error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
