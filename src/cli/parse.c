/* Size and count parsing for the CLI, strict: anything unexpected is an error. */
#include "cli/parse.h"

#include <stdio.h>
#include <string.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

int parse_size(const char *s, uint64_t *out)
{
	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	unsigned shift = 0;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	default: return -1;
	}
	if (shift && (*end == 'i' || *end == 'B'))
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end != '\0')
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int parse_count(const char *s, unsigned *out)
{
	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v > UINT32_MAX)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int parse_disk(char *spec, struct vm_disk_config *d, char *problem, size_t problem_size)
{
	*d = (struct vm_disk_config){ .path = spec };
	char *opt = strchr(spec, ',');
	if (opt)
		*opt++ = '\0';
	if (!spec[0]) {
		snprintf(problem, problem_size, "no image path");
		return -1;
	}
	while (opt) {
		char *next = strchr(opt, ',');
		if (next)
			*next++ = '\0';
		if (!strcmp(opt, "ro")) {
			d->readonly = true;
		} else if (!strncmp(opt, "id=", 3)) {
			const char *id = opt + 3;
			size_t len = strlen(id);
			if (len == 0 || len > HARDY_DISK_ID_MAX) {
				snprintf(problem, problem_size, "id must be 1 to %d bytes", HARDY_DISK_ID_MAX);
				return -1;
			}
			for (size_t i = 0; i < len; i++) {
				if (id[i] < 0x21 || id[i] > 0x7E) {
					snprintf(problem, problem_size,
						 "id may hold only printable ASCII without spaces");
					return -1;
				}
			}
			d->id = id;
		} else if (!strcmp(opt, "aio=sync") || !strcmp(opt, "aio=io_uring")) {
			d->aio_sync = !strcmp(opt, "aio=sync");
		} else if (!strncmp(opt, "aio=", 4)) {
			snprintf(problem, problem_size, "aio must be io_uring or sync, not '%.40s'", opt + 4);
			return -1;
		} else {
			snprintf(problem, problem_size,
				 "unknown option '%.40s' (expected ro, id=ID or aio=io_uring|sync)", opt);
			return -1;
		}
		opt = next;
	}
	return 0;
}
