/* Recorded native results of compatibility-mode tests (tests/difftest/compat.ref), for hosts
 * whose kernel cannot run 32-bit code. Text, one record per line:
 *
 *   KEY FAULT [f=FLAGS] [rN=EXX] [xN=BYTES] [mN=MM] [c=MXCSR] [dOFF=BYTES]...
 *
 * KEY is dt_test_key (hex). FAULT is ok, de, mem, ud, other or xm. What follows is what the
 * comparison looks at, and only where it differs from the input state (registers) or from
 * dt_fill_data(data_seed) (data area, as runs of changed bytes at hex offsets): for ok the low
 * halves of EAX..EDI, the compared RFLAGS bits (f=, always present), XMM, MMX, MXCSR and data;
 * for xm the XMM registers and MXCSR; for the other faults nothing (the registers a faulting
 * test leaves are not compared, so never recorded). Register values are hex numbers, XMM and
 * data bytes hex in memory order.
 *
 * Header lines start with '#'. The first is machine-read:
 *   #hardy-difftest-compat-ref v1 level=L random=N seed=S tests=T
 * and "#recorded-on: TEXT" says where; other '#' lines are comments.
 *
 * Loading keeps the file text and a sorted (key, line) index; a dt_result is built from the
 * line only when a test asks for it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "difftest.h"

#define MAGIC "#hardy-difftest-compat-ref v1"

static const char *const fault_names[] = { [DT_OK] = "ok", [DT_FAULT_DE] = "de",
	[DT_FAULT_MEM] = "mem", [DT_FAULT_UD] = "ud", [DT_FAULT_OTHER] = "other",
	[DT_FAULT_XM] = "xm" };
#define NFAULTS (sizeof(fault_names) / sizeof(fault_names[0]))

/* FNV-1a, 64-bit, fed field by field (never struct bytes: padding is not part of a test). */
static void fnv(uint64_t *h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		*h = (*h ^ b[i]) * 0x100000001b3ULL;
}

static void fnv64(uint64_t *h, uint64_t v)
{
	uint8_t b[8];
	for (unsigned i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> 8 * i);
	fnv(h, b, 8);
}

uint64_t dt_test_key(const struct dt_test *t)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	fnv(&h, t->code, t->len < DT_MAX_CODE ? t->len : DT_MAX_CODE);
	fnv64(&h, t->len);
	fnv64(&h, t->undef_flags);
	fnv64(&h, t->compat);
	fnv64(&h, t->data_seed);
	for (unsigned i = 0; i < 16; i++)
		fnv64(&h, t->in.gpr[i]);
	fnv64(&h, t->in.flags);
	fnv(&h, t->in.xmm, sizeof(t->in.xmm));
	for (unsigned i = 0; i < 8; i++)
		fnv64(&h, t->in.mm[i]);
	fnv64(&h, t->in.mxcsr);
	return h;
}

/* The state a record's deltas apply to: the input registers (compat-masked) and the data area
 * as the test starts. */
static void base_result(const struct dt_test *t, struct dt_result *r)
{
	r->out = t->in;
	dt_compat_mask(&r->out);
	r->out.flags = 0;
	dt_fill_data(t->data_seed, r->data);
}

/* ---- reading ---- */

struct dt_ref_entry {
	uint64_t key;
	const char *line; /* the rest of the line after the key, NUL-terminated */
};

struct dt_ref {
	char *text;
	struct dt_ref_entry *e;
	uint8_t *used;
	unsigned n;
	struct dt_ref_params params;
	char origin[512];
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parses 2*n hex digits at s into dst (NULL: check only); returns the end or NULL. */
static const char *hexbytes(const char *s, uint8_t *dst, size_t max, size_t *n)
{
	size_t k = 0;
	while (hexval(s[0]) >= 0 && hexval(s[1]) >= 0) {
		if (k >= max)
			return NULL;
		if (dst)
			dst[k] = (uint8_t)(hexval(s[0]) << 4 | hexval(s[1]));
		k++;
		s += 2;
	}
	*n = k;
	return k ? s : NULL;
}

/* Parses the record text after the key into r (deltas applied over base_result), or only
 * checks its syntax when t is NULL. Returns false on a malformed record. */
static bool parse_record(const char *s, const struct dt_test *t, struct dt_result *r)
{
	static uint8_t scratch[DT_DATA_SIZE];
	struct dt_result *dst = t ? r : NULL;
	if (t)
		base_result(t, r);
	unsigned fault = NFAULTS;
	for (unsigned i = 0; i < NFAULTS; i++) {
		size_t l = strlen(fault_names[i]);
		if (!strncmp(s, fault_names[i], l) && (s[l] == ' ' || s[l] == 0)) {
			fault = i;
			s += l;
			break;
		}
	}
	if (fault == NFAULTS)
		return false;
	if (dst)
		dst->fault = (int)fault;
	while (*s == ' ') {
		s++;
		char *end;
		size_t n;
		unsigned idx;
		switch (*s) {
		case 'f': case 'c': {
			if (s[1] != '=')
				return false;
			errno = 0;
			unsigned long long v = strtoull(s + 2, &end, 16);
			if (end == s + 2 || errno)
				return false;
			if (dst && *s == 'f')
				dst->out.flags = v;
			else if (dst)
				dst->out.mxcsr = (uint32_t)v;
			s = end;
			break;
		}
		case 'r': case 'm': {
			char kind = *s;
			idx = (unsigned)strtoul(s + 1, &end, 10);
			if (end == s + 1 || *end != '=' || idx >= 8)
				return false;
			const char *v0 = end + 1;
			unsigned long long v = strtoull(v0, &end, 16);
			if (end == v0)
				return false;
			if (dst && kind == 'r')
				dst->out.gpr[idx] = (uint32_t)v;
			else if (dst)
				dst->out.mm[idx] = v;
			s = end;
			break;
		}
		case 'x':
			idx = (unsigned)strtoul(s + 1, &end, 10);
			if (end == s + 1 || *end != '=' || idx >= 16)
				return false;
			s = hexbytes(end + 1, dst ? dst->out.xmm[idx] : NULL, 16, &n);
			if (!s || n != 16)
				return false;
			break;
		case 'd': {
			unsigned long off = strtoul(s + 1, &end, 16);
			if (end == s + 1 || *end != '=' || off >= DT_DATA_SIZE)
				return false;
			s = hexbytes(end + 1, dst ? dst->data + off : scratch, DT_DATA_SIZE - off, &n);
			if (!s)
				return false;
			break;
		}
		default:
			return false;
		}
	}
	return *s == 0;
}

static int entry_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct dt_ref_entry *)a)->key, y = ((const struct dt_ref_entry *)b)->key;
	return x < y ? -1 : x > y;
}

struct dt_ref *dt_ref_load(const char *path, char *err, size_t errlen)
{
	struct dt_ref *r = calloc(1, sizeof(*r));
	FILE *f = fopen(path, "r");
	if (!r || !f) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	rewind(f);
	r->text = malloc((size_t)size + 1);
	if (size < 0 || !r->text || fread(r->text, 1, (size_t)size, f) != (size_t)size) {
		snprintf(err, errlen, "cannot read %s", path);
		goto fail;
	}
	r->text[size] = 0;
	unsigned cap = 0, lineno = 0;
	bool magic = false;
	for (char *line = r->text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lineno++;
		if (lineno == 1) {
			unsigned long long seed;
			unsigned tests;
			if (sscanf(line, MAGIC " level=%u random=%u seed=%llu tests=%u", &r->params.level,
				   &r->params.nrandom, &seed, &tests) != 4) {
				snprintf(err, errlen, "%s: not a difftest compat reference (v1)", path);
				goto fail;
			}
			r->params.seed = seed;
			magic = true;
			continue;
		}
		if (line[0] == '#') {
			if (!strncmp(line, "#recorded-on: ", 14))
				snprintf(r->origin, sizeof(r->origin), "%s", line + 14);
			continue;
		}
		if (!line[0])
			continue;
		char *end;
		uint64_t key = strtoull(line, &end, 16);
		if (end != line + 16 || *end != ' ' || !parse_record(end + 1, NULL, NULL)) {
			snprintf(err, errlen, "%s:%u: malformed record", path, lineno);
			goto fail;
		}
		if (r->n == cap) {
			cap = cap ? 2 * cap : 4096;
			void *p = realloc(r->e, cap * sizeof(*r->e));
			if (!p) {
				snprintf(err, errlen, "out of memory loading %s", path);
				goto fail;
			}
			r->e = p;
		}
		r->e[r->n++] = (struct dt_ref_entry){ key, end + 1 };
	}
	if (!magic) {
		snprintf(err, errlen, "%s: empty", path);
		goto fail;
	}
	qsort(r->e, r->n, sizeof(*r->e), entry_cmp);
	r->used = calloc(r->n + 1, 1);
	if (!r->used) {
		snprintf(err, errlen, "out of memory loading %s", path);
		goto fail;
	}
	fclose(f);
	return r;
fail:
	if (f)
		fclose(f);
	dt_ref_free(r);
	return NULL;
}

void dt_ref_free(struct dt_ref *r)
{
	if (!r)
		return;
	free(r->text);
	free(r->e);
	free(r->used);
	free(r);
}

struct dt_ref_params dt_ref_params(const struct dt_ref *r)
{
	return r->params;
}

unsigned dt_ref_count(const struct dt_ref *r)
{
	return r->n;
}

const char *dt_ref_origin(const struct dt_ref *r)
{
	return r->origin[0] ? r->origin : "an unnamed host";
}

bool dt_ref_lookup(struct dt_ref *r, const struct dt_test *t, struct dt_result *out)
{
	struct dt_ref_entry k = { dt_test_key(t), NULL };
	struct dt_ref_entry *e = bsearch(&k, r->e, r->n, sizeof(*r->e), entry_cmp);
	if (!e)
		return false;
	/* A test generated twice is recorded twice: every copy counts as used. */
	for (size_t i = (size_t)(e - r->e); i > 0 && r->e[i - 1].key == k.key; i--)
		r->used[i - 1] = 1;
	for (size_t i = (size_t)(e - r->e); i < r->n && r->e[i].key == k.key; i++)
		r->used[i] = 1;
	return parse_record(e->line, t, out);
}

unsigned dt_ref_unused(const struct dt_ref *r)
{
	unsigned n = 0;
	for (unsigned i = 0; i < r->n; i++)
		n += !r->used[i];
	return n;
}

/* ---- writing ---- */

struct dt_rec {
	char *path;
	FILE *body;
	struct dt_ref_params params;
	char note[256];
	long count;
};

struct dt_rec *dt_rec_create(const char *path, struct dt_ref_params p, const char *note)
{
	struct dt_rec *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->path = strdup(path);
	w->body = tmpfile();
	w->params = p;
	snprintf(w->note, sizeof(w->note), "%s", note ? note : "");
	if (!w->path || !w->body) {
		if (w->body)
			fclose(w->body);
		free(w->path);
		free(w);
		return NULL;
	}
	return w;
}

static void put_hex(FILE *f, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", b[i]);
}

void dt_rec_add(struct dt_rec *w, const struct dt_test *t, const struct dt_result *m)
{
	static struct dt_result base;
	base_result(t, &base);
	FILE *f = w->body;
	int fault = m->fault >= 0 && (unsigned)m->fault < NFAULTS ? m->fault : DT_FAULT_OTHER;
	fprintf(f, "%016" PRIx64 " %s", dt_test_key(t), fault_names[fault]);
	bool full = fault == DT_OK;
	if (full) {
		uint64_t mask = DT_ARITH_MASK & ~(uint64_t)t->undef_flags;
		fprintf(f, " f=%" PRIx64, m->out.flags & mask);
		for (unsigned i = 0; i < 8; i++)
			if (m->out.gpr[i] != base.out.gpr[i])
				fprintf(f, " r%u=%" PRIx64, i, m->out.gpr[i]);
	}
	if (full || fault == DT_FAULT_XM)
		for (unsigned i = 0; i < 16; i++)
			if (memcmp(m->out.xmm[i], base.out.xmm[i], 16)) {
				fprintf(f, " x%u=", i);
				put_hex(f, m->out.xmm[i], 16);
			}
	if (full)
		for (unsigned i = 0; i < 8; i++)
			if (m->out.mm[i] != base.out.mm[i])
				fprintf(f, " m%u=%" PRIx64, i, m->out.mm[i]);
	if ((full || fault == DT_FAULT_XM) && m->out.mxcsr != base.out.mxcsr)
		fprintf(f, " c=%x", m->out.mxcsr);
	for (unsigned o = 0; full && o < DT_DATA_SIZE; o++) {
		if (m->data[o] == base.data[o])
			continue;
		unsigned e = o;
		while (e < DT_DATA_SIZE && m->data[e] != base.data[e])
			e++;
		fprintf(f, " d%x=", o);
		put_hex(f, m->data + o, e - o);
		o = e;
	}
	fputc('\n', f);
	w->count++;
}

/* "model name" of the first CPU in /proc/cpuinfo. */
static void cpu_model(char *buf, size_t len)
{
	snprintf(buf, len, "unknown CPU");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':');
		if (!strncmp(line, "model name", 10) && c) {
			c += 1 + (c[1] == ' ');
			c[strcspn(c, "\n")] = 0;
			snprintf(buf, len, "%s", c);
			break;
		}
	}
	fclose(f);
}

long dt_rec_finish(struct dt_rec *w)
{
	long count = w->count;
	FILE *out = fopen(w->path, "w");
	bool ok = out != NULL;
	if (ok) {
		struct utsname u;
		char cpu[256];
		if (uname(&u) != 0)
			memset(&u, 0, sizeof(u));
		cpu_model(cpu, sizeof(cpu));
		fprintf(out, MAGIC " level=%u random=%u seed=%" PRIu64 " tests=%ld\n",
			w->params.level, w->params.nrandom, w->params.seed, count);
		fprintf(out, "#recorded-on: %s %s %s, CPU \"%s\", hardy %s%s%s\n", u.sysname,
			u.release, u.machine, cpu, HARDY_VERSION, w->note[0] ? ", " : "", w->note);
		fprintf(out, "# Native results of the difftest's compatibility-mode tests (build/difftest "
			"--level %u --random %u --seed %" PRIu64 "), written by build/difftest --record.\n"
			"# Format: tests/difftest/reference.c. Re-record: make difftest-reference.\n",
			w->params.level, w->params.nrandom, w->params.seed);
		rewind(w->body);
		char buf[65536];
		size_t n;
		while ((n = fread(buf, 1, sizeof(buf), w->body)) > 0)
			ok = ok && fwrite(buf, 1, n, out) == n;
		ok = !ferror(w->body) && fclose(out) == 0 && ok;
	}
	fclose(w->body);
	free(w->path);
	free(w);
	return ok ? count : -1;
}
