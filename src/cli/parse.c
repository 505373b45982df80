/* Size and count parsing for the CLI, strict: anything unexpected is an error. */
#include "cli/parse.h"

#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
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
			char *id = opt + 3;
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

int parse_vsock(char *spec, struct vm_vsock_config *v, char *problem, size_t problem_size)
{
	*v = (struct vm_vsock_config){ .enabled = true };
	bool have_cid = false;
	for (char *opt = spec; opt;) {
		char *next = strchr(opt, ',');
		if (next)
			*next++ = '\0';
		if (!strncmp(opt, "cid=", 4)) {
			char *end;
			errno = 0;
			unsigned long long cid = strtoull(opt + 4, &end, 10);
			if (!isdigit((unsigned char)opt[4]) || *end || errno ||
			    cid < HARDY_VSOCK_CID_MIN || cid > HARDY_VSOCK_CID_MAX) {
				snprintf(problem, problem_size, "cid must be a number from %u to %u",
					 HARDY_VSOCK_CID_MIN, HARDY_VSOCK_CID_MAX);
				return -1;
			}
			v->cid = cid;
			have_cid = true;
		} else if (!strncmp(opt, "uds=", 4)) {
			v->uds_path = opt + 4;
			/* PATH_<port> must fit sun_path too: 108 bytes with the NUL, 11 for "_P". */
			if (!v->uds_path[0] || strlen(v->uds_path) > 96) {
				snprintf(problem, problem_size, "uds path must be 1 to 96 bytes");
				return -1;
			}
		} else {
			snprintf(problem, problem_size,
				 "unknown option '%.40s' (expected cid=N and uds=PATH)", opt);
			return -1;
		}
		opt = next;
	}
	if (!have_cid || !v->uds_path) {
		snprintf(problem, problem_size, "needs both cid=N and uds=PATH");
		return -1;
	}
	return 0;
}

/* "1".."65535", nothing else. */
static int parse_port(const char *s, size_t len, uint16_t *out)
{
	unsigned v = 0;
	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* An IPv4 address of len bytes (0: none given, *out = 0). */
static int parse_ipv4(const char *s, size_t len, uint32_t *out)
{
	char buf[INET_ADDRSTRLEN];
	struct in_addr a;
	*out = 0;
	if (len == 0)
		return 0;
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	*out = a.s_addr;
	return 0;
}

/* tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT */
static int parse_hostfwd(const char *s, struct vm_hostfwd *f)
{
	*f = (struct vm_hostfwd){ 0 };
	const char *colon = strchr(s, ':');
	if (!colon)
		return -1;
	if ((size_t)(colon - s) == 3 && !strncmp(s, "udp", 3))
		f->udp = true;
	else if ((size_t)(colon - s) != 3 || strncmp(s, "tcp", 3))
		return -1;
	const char *host = colon + 1, *dash = strchr(host, '-');
	if (!dash)
		return -1;
	const char *hport = memrchr(host, ':', (size_t)(dash - host));
	if (!hport || parse_ipv4(host, (size_t)(hport - host), &f->host_addr) < 0 ||
	    parse_port(hport + 1, (size_t)(dash - hport - 1), &f->host_port) < 0)
		return -1;
	const char *guest = dash + 1, *gport = strrchr(guest, ':');
	if (!gport || parse_ipv4(guest, (size_t)(gport - guest), &f->guest_addr) < 0 ||
	    parse_port(gport + 1, strlen(gport + 1), &f->guest_port) < 0)
		return -1;
	/* The guest's side lives on the user network, 10.0.2.0/24. */
	if (f->guest_addr && (ntohl(f->guest_addr) & 0xFFFFFF00u) != 0x0A000200u)
		return -1;
	return 0;
}

/* XX:XX:XX:XX:XX:XX, unicast and not all zeros. */
static int parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]) ||
		    s[2] != (i < 5 ? ':' : '\0'))
			return -1;
		char hex[3] = { s[0], s[1], '\0' };
		mac[i] = (uint8_t)strtoul(hex, NULL, 16);
		s += 3;
	}
	if (mac[0] & 1)
		return -1;
	return (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) ? 0 : -1;
}

int parse_net(char *spec, unsigned index, struct vm_net_config *n, char *problem,
	      size_t problem_size)
{
	*n = (struct vm_net_config){ .mac = { 0x52, 0x54, 0x00, 0x12, 0x34, (uint8_t)(0x56 + index) } };
	char *opt = strchr(spec, ',');
	if (opt)
		*opt++ = '\0';
	if (!strcmp(spec, "user")) {
		n->kind = NET_USER;
	} else if (!strncmp(spec, "tap=", 4)) {
		n->kind = NET_TAP;
		size_t len = strlen(spec + 4);
		if (len == 0 || len > HARDY_IFNAME_MAX || strchr(spec + 4, '/')) {
			snprintf(problem, problem_size, "tap interface name must be 1 to %d bytes "
				 "without '/'", HARDY_IFNAME_MAX);
			return -1;
		}
		memcpy(n->ifname, spec + 4, len + 1);
	} else {
		snprintf(problem, problem_size, "unknown backend '%.40s' (expected user or tap=IFNAME)",
			 spec);
		return -1;
	}
	while (opt) {
		char *next = strchr(opt, ',');
		if (next)
			*next++ = '\0';
		if (!strncmp(opt, "mac=", 4)) {
			if (parse_mac(opt + 4, n->mac) < 0) {
				snprintf(problem, problem_size, "mac '%.40s': expected a unicast "
					 "XX:XX:XX:XX:XX:XX", opt + 4);
				return -1;
			}
		} else if (!strncmp(opt, "hostfwd=", 8) && n->kind == NET_USER) {
			if (n->nr_fwd == HARDY_MAX_HOSTFWD) {
				snprintf(problem, problem_size, "at most %d hostfwd rules", HARDY_MAX_HOSTFWD);
				return -1;
			}
			if (parse_hostfwd(opt + 8, &n->fwd[n->nr_fwd]) < 0) {
				snprintf(problem, problem_size, "hostfwd '%.60s': expected tcp|udp:[HOSTADDR]:"
					 "HOSTPORT-[GUESTADDR]:GUESTPORT (guest in 10.0.2.0/24)", opt + 8);
				return -1;
			}
			n->nr_fwd++;
		} else {
			snprintf(problem, problem_size, "unknown option '%.40s' (expected mac=MAC%s)", opt,
				 n->kind == NET_USER ? " or hostfwd=..." : "");
			return -1;
		}
		opt = next;
	}
	return 0;
}
