/* Setting the process title: prctl(PR_SET_NAME) for comm, and the argv area for the cmdline.
 * The argv area is process-wide by nature, so it is the one piece of file-scope state here. */
#include "util/proc_title.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

static char *title_area;     /* argv[0] .. end of the last contiguous argument */
static size_t title_area_len;

char **proc_title_init(int argc, char **argv)
{
	char **copy = calloc((size_t)argc + 1, sizeof(*copy));
	if (!copy || argc < 1)
		return argv;
	char *end = argv[0];
	for (int i = 0; i < argc; i++) {
		copy[i] = strdup(argv[i]);
		if (!copy[i])
			return argv;
		if (argv[i] == end)
			end = argv[i] + strlen(argv[i]) + 1;
	}
	title_area = argv[0];
	title_area_len = (size_t)(end - argv[0]);
	return copy;
}

void proc_title_set(const char *fmt, ...)
{
	char title[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(title, sizeof(title), fmt, ap);
	va_end(ap);
	prctl(PR_SET_NAME, title, 0, 0, 0); /* the kernel keeps the first 15 bytes */
	if (title_area && title_area_len > 1) {
		memset(title_area, '\0', title_area_len);
		snprintf(title_area, title_area_len, "%s", title);
	}
}

void proc_title_free_argv(char **copy, char **original)
{
	if (copy == original)
		return;
	for (char **p = copy; *p; p++)
		free(*p);
	free(copy);
}
