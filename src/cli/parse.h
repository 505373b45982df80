/* Parsing of command-line values: sizes with K/M/G/T suffixes, counts. */
#ifndef HARDY_CLI_PARSE_H
#define HARDY_CLI_PARSE_H

#include <stdint.h>

/* "512M", "2G", "65536K", "1073741824": bytes, or -1 on syntax error or overflow. */
int parse_size(const char *s, uint64_t *out);
/* Decimal unsigned count; -1 on anything else (sign, junk, overflow past UINT32_MAX). */
int parse_count(const char *s, unsigned *out);

#endif
