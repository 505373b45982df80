/* The unit tests' one assertion: CHECK(cond, fmt, ...) prints what failed and exits non-zero on
 * the first failure; SECTION(...) prints what is being checked. Header-only: each test is a
 * standalone program. */
#ifndef HARDY_TESTS_CHECK_H
#define HARDY_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(cond, ...)                                                                  \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);   \
			fprintf(stderr, __VA_ARGS__);                                     \
			fputc('\n', stderr);                                              \
			exit(1);                                                          \
		}                                                                         \
	} while (0)

#define SECTION(...) (printf("  checking: " __VA_ARGS__), putchar('\n'), fflush(stdout))

/* Writes data to a fresh temporary file; its name goes to path (at least 64 bytes). */
static inline void check_write_tmp(const void *data, size_t size, char *path)
{
	snprintf(path, 64, "/tmp/hardy-unit-XXXXXX");
	int fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp failed");
	CHECK(size == 0 || write(fd, data, size) == (ssize_t)size, "short write to %s", path);
	close(fd);
}

#endif
