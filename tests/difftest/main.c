/* Differential tester driver: generates tests (systematic over every form in forms.c, then
 * random sequences), runs each batch natively (native.c) and on soft_cpu, compares every GPR,
 * the defined RFLAGS bits, all XMM and MMX registers, MXCSR, the data area and the fault class, and reports
 * coverage and every mismatch.
 *
 * Compatibility-mode tests need a kernel that runs 32-bit code. Where it does, they run on the
 * host CPU as the others, and each one the reference (--reference FILE, reference.c) holds is
 * also re-checked against it; --record FILE writes their results as a new reference. Where it
 * does not, their native results come from the reference; those it lacks are a failure (stale
 * reference) when the run has the reference's own generation parameters, and are reported as
 * not run otherwise.
 * Usage: difftest [--level 0|1] [--random N] [--seed S] [--reference FILE] [--record FILE
 *        [--record-note TEXT]] [-v]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "accel/soft/soft_cpu.h"
#include "difftest.h"

#define BATCH 512

static int translate(void *ctx, uint64_t va, unsigned access, uint8_t **host)
{
	(void)ctx;
	if (va == DT_CODE_ADDR && !(access & SOFT_ACC_WRITE)) {
		*host = (uint8_t *)(uintptr_t)va;
		return 0;
	}
	if (va >= DT_DATA_ADDR && va < DT_DATA_ADDR + DT_DATA_SIZE && !(access & SOFT_ACC_EXEC)) {
		*host = (uint8_t *)(uintptr_t)va;
		return 0;
	}
	return -1;
}

static const struct soft_mem_ops dt_mem = { .translate = translate };

static int soft_fault_class(const struct soft_cpu *c, enum soft_exit e)
{
	if (e == SOFT_EXIT_HALT)
		return DT_OK;
	if (e != SOFT_EXIT_EXCEPTION)
		return DT_FAULT_OTHER;
	switch (c->exc_vector) {
	case SOFT_VEC_DE: return DT_FAULT_DE;
	case SOFT_VEC_GP: case SOFT_VEC_PF: case SOFT_VEC_AC: return DT_FAULT_MEM;
	case SOFT_VEC_UD: return DT_FAULT_UD;
	case SOFT_VEC_XM: return DT_FAULT_XM;
	default: return DT_FAULT_OTHER;
	}
}

/* Run t on c. A warm run reuses the code decoded (and compiled) by the previous run of the
 * same test, and its TLB, so the JIT's inline fast paths run too. */
static void run_soft(struct soft_cpu *c, const struct dt_test *t, struct dt_result *r, bool warm)
{
	uint8_t *page = (uint8_t *)(uintptr_t)DT_CODE_ADDR;
	if (!warm) {
		memset(page, 0xcc, 0xc00);
		memcpy(page + DT_TEST_OFF, t->code, t->len);
		page[DT_TEST_OFF + t->len] = 0xf4; /* HLT ends the test */
		soft_cpu_code_invalidate(c, page, 4096);
	}
	dt_fill_data(t->data_seed, (uint8_t *)(uintptr_t)DT_DATA_ADDR);
	memcpy(c->gpr, t->in.gpr, sizeof(c->gpr));
	memcpy(c->xmm, t->in.xmm, sizeof(c->xmm));
	soft_cpu_mmx_set(c, t->in.mm);
	c->mxcsr = t->in.mxcsr;
	soft_cpu_set_rflags(c, t->in.flags);
	c->rip = DT_CODE_ADDR + DT_TEST_OFF;
	soft_cpu_set_cs_mode(c, t->compat ? SOFT_CS_32 : SOFT_CS_64);
	enum soft_exit e = soft_cpu_run(c, 10000);
	r->fault = soft_fault_class(c, e);
	memcpy(r->out.gpr, c->gpr, sizeof(c->gpr));
	r->out.flags = soft_cpu_get_rflags(c);
	memcpy(r->out.xmm, c->xmm, sizeof(c->xmm));
	soft_cpu_mmx_get(c, r->out.mm);
	r->out.mxcsr = c->mxcsr;
	memcpy(r->data, (void *)(uintptr_t)DT_DATA_ADDR, DT_DATA_SIZE);
}

int main(int argc, char **argv)
{
	unsigned level = 0, nrandom = 20000;
	uint64_t seed = 1;
	bool verbose = false;
	struct dt_compat *cx = calloc(1, sizeof(*cx));
	const char *rec_note = NULL;
	if (!cx) {
		fprintf(stderr, "difftest: out of memory\n");
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--level") && i + 1 < argc)
			level = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--random") && i + 1 < argc)
			nrandom = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--reference") && i + 1 < argc)
			cx->ref_path = argv[++i];
		else if (!strcmp(argv[i], "--record") && i + 1 < argc)
			cx->rec_path = argv[++i];
		else if (!strcmp(argv[i], "--record-note") && i + 1 < argc)
			rec_note = argv[++i];
		else if (!strcmp(argv[i], "-v"))
			verbose = true;
		else {
			fprintf(stderr, "usage: difftest [--level 0|1] [--random N] [--seed S] "
				"[--reference FILE] [--record FILE [--record-note TEXT]] [-v]\n");
			return 2;
		}
	}
	if (mmap((void *)(uintptr_t)DT_CODE_ADDR, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != (void *)(uintptr_t)DT_CODE_ADDR ||
	    mmap((void *)(uintptr_t)DT_DATA_ADDR, DT_DATA_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != (void *)(uintptr_t)DT_DATA_ADDR) {
		fprintf(stderr, "difftest: cannot map the test pages\n");
		return 1;
	}
	cx->live = dt_native_compat_supported();
	if (cx->rec_path && !cx->live) {
		fprintf(stderr, "difftest: cannot --record: this host cannot run 32-bit code "
			"(make difftest-reference records it in a nested L1)\n");
		return 2;
	}
	struct dt_ref_params params = { level, nrandom, seed };
	if (cx->ref_path) {
		char err[512];
		cx->ref = dt_ref_load(cx->ref_path, err, sizeof(err));
		if (!cx->ref) {
			fprintf(stderr, "difftest: %s\n", err);
			return 2;
		}
		struct dt_ref_params rp = dt_ref_params(cx->ref);
		cx->ref_generation = rp.level == level && rp.nrandom == nrandom && rp.seed == seed;
	}
	if (cx->rec_path && !(cx->rec = dt_rec_create(cx->rec_path, params, rec_note))) {
		fprintf(stderr, "difftest: cannot record to %s\n", cx->rec_path);
		return 1;
	}
	struct dt_test *tests = calloc(BATCH, sizeof(*tests));
	struct dt_result *nat = mmap(NULL, BATCH * sizeof(*nat), PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct dt_result *soft = calloc(1, sizeof(*soft));
	struct dt_gen *g = dt_gen_create(seed);
	/* Every test runs on the interpreter, and on the JIT cold (first run: TLB misses, handler
	 * slow paths) and warm (compiled code, TLB hits: the inline fast paths). */
	struct soft_cpu *cpu = soft_cpu_create(&dt_mem, NULL);
	struct soft_cpu *jit = soft_cpu_create(&dt_mem, NULL);
	if (cpu)
		soft_cpu_set_jit(cpu, false);
	bool have_jit = jit && soft_cpu_set_jit(jit, true);
	unsigned nforms = dt_form_count();
	unsigned *per_form = calloc(nforms, sizeof(unsigned));
	unsigned *bad_form = calloc(nforms, sizeof(unsigned));
	unsigned *unrun_form = calloc(nforms, sizeof(unsigned));
	if (!tests || nat == MAP_FAILED || !soft || !g || !cpu || !jit || !per_form || !bad_form ||
	    !unrun_form) {
		fprintf(stderr, "difftest: out of memory\n");
		return 1;
	}
	unsigned long long total = 0, mismatches = 0, faults = 0;
	unsigned printed = 0, f = 0, idx = 0, nrand_done = 0;
	bool systematic_done = false;
	for (;;) {
		unsigned n = 0;
		while (n < BATCH) {
			struct dt_test *t = &tests[n];
			if (!systematic_done) {
				if (f >= nforms) {
					systematic_done = true;
					continue;
				}
				if (!dt_gen_systematic(g, f, idx, level, t)) {
					f++;
					idx = 0;
					continue;
				}
				idx++;
			} else if (nrand_done < nrandom) {
				dt_gen_random(g, t);
				nrand_done++;
			} else {
				break;
			}
			if (t->len)
				n++;
		}
		if (n == 0)
			break;
		memset(nat, 0, n * sizeof(*nat));
		if (dt_native_run(tests, nat, n, cx->live) != 0) {
			fprintf(stderr, "difftest: native child failed\n");
			return 1;
		}
		for (unsigned i = 0; i < n; i++) {
			const struct dt_result *expect = &nat[i];
			const struct dt_sides *who = &dt_native_vs_soft;
			if (tests[i].compat) {
				expect = dt_compat_expected(cx, &tests[i], &nat[i], verbose, &printed);
				if (!expect) {
					if (tests[i].form >= 0)
						unrun_form[tests[i].form]++;
					continue;
				}
				if (!cx->live)
					who = &dt_ref_vs_soft;
			}
			total++;
			if (expect->fault)
				faults++;
			if (tests[i].form >= 0)
				per_form[tests[i].form]++;
			static const char *const paths[3] = { "interpreter", "JIT cold", "JIT warm" };
			bool bad = false;
			for (unsigned p = 0; p < (have_jit ? 3u : 1u); p++) {
				run_soft(p ? jit : cpu, &tests[i], soft, p == 2);
				if (tests[i].compat)
					dt_compat_mask(&soft->out);
				if (!dt_compare(&tests[i], expect, soft, paths[p], who, verbose, &printed))
					bad = true;
			}
			if (bad) {
				mismatches++;
				if (tests[i].form >= 0)
					bad_form[tests[i].form]++;
			}
		}
	}
	unsigned covered = 0, badforms = 0;
	for (unsigned i = 0; i < nforms; i++) {
		covered += per_form[i] > 0;
		if (!per_form[i]) {
			char name[64];
			printf("  form %-28s %s\n", dt_form_name((int)i, name, sizeof(name)),
			       unrun_form[i] ? "not run (see the compat-mode summary)" : "not encodable");
		}
		if (bad_form[i]) {
			char name[64];
			printf("  form %-28s %u/%u mismatched\n", dt_form_name((int)i, name, sizeof(name)),
			       bad_form[i], per_form[i]);
			badforms++;
		}
	}
	printf("difftest: %u/%u instruction forms covered (x operand sizes), %llu tests "
	       "(%u random sequences, %llu faulting) on the interpreter%s, %llu mismatches in %u "
	       "forms\n", covered, nforms, total, nrand_done, faults,
	       have_jit ? " and the JIT (cold and warm)" : "", mismatches, badforms);
	bool compat_ok = dt_compat_report(cx);
	soft_cpu_destroy(cpu);
	soft_cpu_destroy(jit);
	dt_ref_free(cx->ref);
	return mismatches || !compat_ok ? 1 : 0;
}
