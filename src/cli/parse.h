/* Parsing of command-line values: sizes with K/M/G/T suffixes, counts. */
#ifndef HARDY_CLI_PARSE_H
#define HARDY_CLI_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

/* "512M", "2G", "65536K", "1073741824": bytes, or -1 on syntax error or overflow. */
int parse_size(const char *s, uint64_t *out);
/* Decimal unsigned count; -1 on anything else (sign, junk, overflow past UINT32_MAX). */
int parse_count(const char *s, unsigned *out);

/* "PATH[,ro][,id=ID]" (spec is modified in place and must outlive d): 0, or -1 with a
 * one-line reason in problem (of problem_size bytes). */
int parse_disk(char *spec, struct vm_disk_config *d, char *problem, size_t problem_size);

/* "cid=N,uds=PATH" (spec is modified in place and must outlive v): 0, or -1 with a one-line
 * reason in problem. */
int parse_vsock(char *spec, struct vm_vsock_config *v, char *problem, size_t problem_size);

/* "user[,hostfwd=RULE]...[,mac=MAC]" or "tap=IFNAME[,mac=MAC]" (spec is modified in place);
 * index picks the default MAC (52:54:00:12:34:56 + index). 0, or -1 with a one-line reason. */
int parse_net(char *spec, unsigned index, struct vm_net_config *n, char *problem,
	      size_t problem_size);

#endif
