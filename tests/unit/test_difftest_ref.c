/* Unit test of the difftest's compat-mode reference (tests/difftest/reference.c), which only a
 * host that runs 32-bit code writes for real: results recorded for generated compat tests load
 * back exactly as the comparison sees them (fault class, low GPR halves, defined flags, XMM,
 * MM, MXCSR, data area), a changed test has no record, the header's parameters come back, and
 * malformed files are refused. */
#include "../difftest/difftest.h"
#include "check.h"

#define NTESTS 300

static struct dt_test tests[NTESTS];
static struct dt_result results[NTESTS], got;

/* A plausible result of t: deterministic changes to registers, flags, memory, by fault class. */
static void fake_result(const struct dt_test *t, unsigned i, struct dt_result *r)
{
	static const int faults[] = { DT_OK, DT_OK, DT_OK, DT_FAULT_DE, DT_FAULT_MEM, DT_FAULT_XM,
				      DT_FAULT_UD };
	memset(r, 0, sizeof(*r));
	r->out = t->in;
	r->fault = faults[i % 7];
	r->out.gpr[i % 8] ^= 0x5a5a0000u + i;
	r->out.gpr[9] = 0x1234; /* invisible in compatibility mode */
	r->out.flags = t->in.flags ^ (i & 0x8d5);
	r->out.xmm[i % 16][i % 16] ^= 0xff;
	r->out.mm[i % 8] = 0xabcdef00ull + i;
	r->out.mxcsr = 0x1f80 | (i & 0x3f);
	dt_fill_data(t->data_seed, r->data);
	for (unsigned k = 0; k < i % 40; k++)
		r->data[(i * 37 + k * 11) % DT_DATA_SIZE] ^= (uint8_t)(k + 1);
	dt_compat_mask(&r->out);
}

/* What the comparison looks at in r (masked), compared with got. */
static void check_same(const struct dt_test *t, const struct dt_result *r, unsigned i)
{
	CHECK(got.fault == r->fault, "test %u: fault %d, recorded %d", i, got.fault, r->fault);
	if (r->fault != DT_OK && r->fault != DT_FAULT_XM)
		return;
	bool full = r->fault == DT_OK;
	for (unsigned k = 0; k < 8 && full; k++)
		CHECK(got.out.gpr[k] == r->out.gpr[k], "test %u: gpr %u", i, k);
	uint64_t m = DT_ARITH_MASK & ~(uint64_t)t->undef_flags;
	CHECK(!full || (got.out.flags & m) == (r->out.flags & m), "test %u: flags", i);
	CHECK(!memcmp(got.out.xmm, r->out.xmm, sizeof(r->out.xmm)), "test %u: xmm", i);
	CHECK(!full || !memcmp(got.out.mm, r->out.mm, sizeof(r->out.mm)), "test %u: mm", i);
	CHECK(got.out.mxcsr == r->out.mxcsr, "test %u: mxcsr", i);
	CHECK(!full || !memcmp(got.data, r->data, DT_DATA_SIZE), "test %u: data", i);
}

static void expect_refused(const char *text, const char *what)
{
	char path[64], err[256];
	check_write_tmp(text, strlen(text), path);
	struct dt_ref *r = dt_ref_load(path, err, sizeof(err));
	unlink(path);
	CHECK(!r, "%s was loaded", what);
	CHECK(strchr(err, '\n') == NULL && err[0], "%s: no one-line reason", what);
}

int main(void)
{
	SECTION("recorded compat results load back as compared");
	struct dt_gen *g = dt_gen_create(7);
	CHECK(g, "no generator");
	unsigned n = 0;
	while (n < NTESTS) {
		dt_gen_random(g, &tests[n]);
		if (tests[n].compat && tests[n].len)
			n++;
	}
	char path[64];
	check_write_tmp("", 0, path);
	struct dt_ref_params p = { 0, 20000, 1 };
	struct dt_rec *w = dt_rec_create(path, p, "unit test");
	CHECK(w, "dt_rec_create failed");
	for (unsigned i = 0; i < NTESTS; i++) {
		fake_result(&tests[i], i, &results[i]);
		dt_rec_add(w, &tests[i], &results[i]);
	}
	CHECK(dt_rec_finish(w) == NTESTS, "wrong record count");
	char err[256];
	struct dt_ref *r = dt_ref_load(path, err, sizeof(err));
	CHECK(r, "load: %s", err);
	unlink(path);
	CHECK(dt_ref_count(r) == NTESTS, "count %u", dt_ref_count(r));
	struct dt_ref_params q = dt_ref_params(r);
	CHECK(q.level == 0 && q.nrandom == 20000 && q.seed == 1, "parameters");
	CHECK(strstr(dt_ref_origin(r), "unit test"), "origin: %s", dt_ref_origin(r));
	CHECK(dt_ref_unused(r) == NTESTS, "unused before lookups");
	for (unsigned i = 0; i < NTESTS; i++) {
		CHECK(dt_ref_lookup(r, &tests[i], &got), "test %u not found", i);
		check_same(&tests[i], &results[i], i);
	}
	CHECK(dt_ref_unused(r) == 0, "unused after lookups");

	SECTION("a changed test has no record");
	struct dt_test t = tests[0];
	t.in.gpr[2] ^= 1;
	CHECK(!dt_ref_lookup(r, &t, &got), "changed input found");
	t = tests[0];
	t.code[0] ^= 1;
	CHECK(!dt_ref_lookup(r, &t, &got), "changed code found");
	t = tests[0];
	t.data_seed++;
	CHECK(!dt_ref_lookup(r, &t, &got), "changed data seed found");
	dt_ref_free(r);
	dt_gen_destroy(g);

	SECTION("malformed references are refused");
	expect_refused("", "an empty file");
	expect_refused("#hardy-difftest-compat-ref v9 level=0 random=1 seed=1 tests=0\n", "v9");
	expect_refused("#hardy-difftest-compat-ref v1 level=0 random=1 seed=1 tests=1\n"
		       "0123456789abcdef ok f=zz\n", "a bad flags value");
	expect_refused("#hardy-difftest-compat-ref v1 level=0 random=1 seed=1 tests=1\n"
		       "0123456789abcdef boom\n", "an unknown fault class");
	expect_refused("#hardy-difftest-compat-ref v1 level=0 random=1 seed=1 tests=1\n"
		       "0123456789abcdef ok f=0 d1fff=aabb\n", "data past the area");
	expect_refused("#hardy-difftest-compat-ref v1 level=0 random=1 seed=1 tests=1\n"
		       "0123456789abcdef ok f=0 x3=00\n", "a short XMM value");
	puts("test_difftest_ref: ok");
	return 0;
}
