/* Differential tester of the software CPU against the host CPU: shared definitions. A test is a
 * short instruction sequence plus an input state (GPRs, RFLAGS, XMM, a 8 KiB data area); it runs
 * natively in a forked child (native.c) and on soft_cpu (main.c); every GPR, the defined RFLAGS
 * bits, every XMM and MMX register, MXCSR and the data area are compared. */
#ifndef HARDY_DIFFTEST_H
#define HARDY_DIFFTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DT_CODE_ADDR 0x10000000ULL  /* one RWX page: prologue, test, epilogue, state slots */
#define DT_DATA_ADDR 0x10010000ULL  /* data area the tests address through RBX/RSI/RDI/RSP */
#define DT_DATA_SIZE 0x2000u
#define DT_TEST_OFF 0x180u          /* test code starts here in the code page */
#define DT_MAX_CODE 96u
#define DT_ARITH_MASK 0xcd5u       /* RFLAGS bits compared: CF PF AF ZF SF OF DF */

struct dt_state {
	uint64_t gpr[16];
	uint64_t flags;
	uint8_t xmm[16][16];
	uint64_t mm[8];  /* MMX registers (the x87 register file); the tester ends with EMMS */
	uint32_t mxcsr;  /* rounding control, FTZ/DAZ, exception flags and masks */
};

/* DT_FAULT_XM: #XM (SIGFPE with an FPE_FLT* code natively); its XMM registers and MXCSR (from
 * the signal context) are compared too. */
enum dt_fault { DT_OK, DT_FAULT_DE, DT_FAULT_MEM, DT_FAULT_UD, DT_FAULT_OTHER, DT_FAULT_XM };

struct dt_test {
	uint8_t code[DT_MAX_CODE];
	unsigned len;
	uint32_t undef_flags; /* RFLAGS bits not compared */
	int form;             /* index into the form table, -1 for random sequences */
	bool compat;          /* 32-bit code run in compatibility mode (forms32.c) */
	uint64_t data_seed;
	struct dt_state in;
};

struct dt_result {
	struct dt_state out;
	int fault;
	uint8_t data[DT_DATA_SIZE];
};

/* forms.c */
struct dt_gen;
struct dt_gen *dt_gen_create(uint64_t seed);
void dt_gen_destroy(struct dt_gen *g);
unsigned dt_form_count(void);
const char *dt_form_name(int form, char *buf, size_t len);
/* Systematic: the i-th input combination of form f (false when i is past the last one for the
 * given level). Random: a sequence of 1..6 random forms. */
bool dt_gen_systematic(struct dt_gen *g, unsigned f, unsigned i, unsigned level, struct dt_test *t);
void dt_gen_random(struct dt_gen *g, struct dt_test *t);
void dt_fill_data(uint64_t seed, uint8_t *data);

/* Random stream of a generator (forms.c). */
uint64_t dt_rnd(struct dt_gen *g);

/* forms32.c: the compatibility-mode forms, numbered after the 64-bit ones. */
unsigned dt_compat_form_count(void);
const char *dt_compat_form_name(unsigned f, char *buf, size_t len);
bool dt_compat_systematic(unsigned f, unsigned i, unsigned level, struct dt_test *t);
void dt_compat_random(struct dt_gen *g, struct dt_test *t);

/* native.c: run tests [0, n) natively in a child process; results land in res, which must be
 * shared memory (MAP_SHARED). Compatibility-mode tests are left out when with_compat is false. */
int dt_native_run(const struct dt_test *tests, struct dt_result *res, unsigned n, bool with_compat);
/* Write the prologue (loading in), test code and epilogue into the code page. */
void dt_native_layout(uint8_t *page, const struct dt_test *t);
/* Whether this host runs 32-bit code in compatibility mode (kernels without IA32 emulation, or
 * booted with ia32_emulation=off, refuse it): one probe test, run once. Call after the test
 * pages are mapped. */
bool dt_native_compat_supported(void);

/* Compatibility mode: only the low halves of EAX..EDI are architecturally visible; the rest is
 * zeroed before results are compared or recorded. */
void dt_compat_mask(struct dt_state *s);

/* reference.c: recorded native results of compatibility-mode tests (tests/difftest/compat.ref),
 * for hosts that cannot run 32-bit code. Records are keyed by a hash of the test itself, and
 * hold exactly what the comparison looks at, as deltas against the input state. */
struct dt_ref;
struct dt_ref_params {
	unsigned level, nrandom;
	uint64_t seed;
};
uint64_t dt_test_key(const struct dt_test *t);
/* NULL with a one-line reason in err on failure. */
struct dt_ref *dt_ref_load(const char *path, char *err, size_t errlen);
void dt_ref_free(struct dt_ref *r);
/* The generation parameters the reference was recorded with, its record count, and where it
 * was recorded (the header's "recorded on" text). */
struct dt_ref_params dt_ref_params(const struct dt_ref *r);
unsigned dt_ref_count(const struct dt_ref *r);
const char *dt_ref_origin(const struct dt_ref *r);
/* The recorded (masked) result of t into out; false when the reference holds no record of t.
 * Marks the record as used. */
bool dt_ref_lookup(struct dt_ref *r, const struct dt_test *t, struct dt_result *out);
/* Records never looked up. */
unsigned dt_ref_unused(const struct dt_ref *r);

/* Recording: results are written to a temporary file as they come; dt_rec_finish writes the
 * header (parameters, test count, host) and the records to path. */
struct dt_rec;
struct dt_rec *dt_rec_create(const char *path, struct dt_ref_params p, const char *note);
void dt_rec_add(struct dt_rec *w, const struct dt_test *t, const struct dt_result *masked);
/* Returns the number of records written, -1 on an I/O error. */
long dt_rec_finish(struct dt_rec *w);

/* compare.c: what a comparison calls its two sides (the expected result n, the checked s). */
struct dt_sides {
	const char *n, *s;
};
extern const struct dt_sides dt_native_vs_soft, dt_ref_vs_soft, dt_ref_vs_host;
/* True when the results agree; otherwise prints the mismatch (all with verbose, else the first
 * 40 of the run, counted in *printed) and returns false. */
bool dt_compare(const struct dt_test *t, const struct dt_result *n, const struct dt_result *s,
		const char *path, const struct dt_sides *who, bool verbose, unsigned *printed);

/* compat.c: where the compatibility-mode tests' expected results come from, and what happened
 * to them. */
struct dt_compat {
	bool live;             /* the host runs 32-bit code: they run natively */
	const char *ref_path;  /* --reference */
	struct dt_ref *ref;
	bool ref_generation;   /* this run generates exactly the reference's tests */
	struct dt_rec *rec;    /* --record */
	const char *rec_path;
	unsigned long long from_ref, rechecked, disagree, stale, not_run;
	struct dt_result expected; /* a recorded result, built on demand */
};
/* The expected result of compatibility-mode test t: native (the host's result, masked here)
 * where the host runs 32-bit code, else the recorded one; NULL when t cannot be judged (not
 * run). Re-checks the host against the reference, and records, as asked. */
const struct dt_result *dt_compat_expected(struct dt_compat *c, const struct dt_test *t,
					   struct dt_result *native, bool verbose, unsigned *printed);
/* Prints the compat-mode summary (and finishes a recording); false when they failed. */
bool dt_compat_report(struct dt_compat *c);

#endif
