/* Comparison of two results of one test (native or recorded against the soft CPU, or recorded
 * against the host): every GPR, the defined RFLAGS bits, XMM and MMX registers, MXCSR, the
 * data area and the fault class; a mismatch is printed with the test's disassembly. */
#include <stdio.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "difftest.h"

static void print_code(const struct dt_test *t)
{
	ZyanUSize off = 0;
	ZydisDisassembledInstruction d;
	while (off < t->len && ZYAN_SUCCESS(ZydisDisassembleIntel(t->compat
			? ZYDIS_MACHINE_MODE_LONG_COMPAT_32 : ZYDIS_MACHINE_MODE_LONG_64,
			DT_CODE_ADDR + DT_TEST_OFF + off, t->code + off, t->len - off, &d))) {
		printf("      %s\n", d.text);
		off += d.info.length;
	}
}

static const char *const gpr_names[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi",
	"rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };

const struct dt_sides dt_native_vs_soft = { "native", "soft" };
const struct dt_sides dt_ref_vs_soft = { "reference", "soft" };
const struct dt_sides dt_ref_vs_host = { "reference", "host" };

bool dt_compare(const struct dt_test *t, const struct dt_result *n, const struct dt_result *s,
		const char *path, const struct dt_sides *who, bool verbose, unsigned *printed)
{
	char diff[2048];
	int k = 0;
	diff[0] = 0;
	if (n->fault != s->fault) {
		k += snprintf(diff + k, sizeof(diff) - (size_t)k, "    fault: %s %d %s %d\n",
			      who->n, n->fault, who->s, s->fault);
	} else if (n->fault == DT_OK || n->fault == DT_FAULT_XM) {
		/* On #XM the native side has the XMM registers and MXCSR from the signal context. */
		bool full = n->fault == DT_OK;
		for (unsigned i = 0; i < 16 && k < 1500 && full; i++)
			if (n->out.gpr[i] != s->out.gpr[i])
				k += snprintf(diff + k, sizeof(diff) - (size_t)k,
					      "    %s: in %#llx %s %#llx %s %#llx\n", gpr_names[i],
					      (unsigned long long)t->in.gpr[i], who->n,
					      (unsigned long long)n->out.gpr[i], who->s,
					      (unsigned long long)s->out.gpr[i]);
		uint64_t m = DT_ARITH_MASK & ~(uint64_t)t->undef_flags;
		if (full && (n->out.flags & m) != (s->out.flags & m))
			k += snprintf(diff + k, sizeof(diff) - (size_t)k,
				      "    rflags: in %#llx %s %#llx %s %#llx (compared %#llx)\n",
				      (unsigned long long)t->in.flags, who->n,
				      (unsigned long long)n->out.flags, who->s,
				      (unsigned long long)s->out.flags, (unsigned long long)m);
		for (unsigned i = 0; i < 16 && k < 1500; i++)
			if (memcmp(n->out.xmm[i], s->out.xmm[i], 16)) {
				uint64_t a[2], b[2], in[2];
				memcpy(a, n->out.xmm[i], 16);
				memcpy(b, s->out.xmm[i], 16);
				memcpy(in, t->in.xmm[i], 16);
				k += snprintf(diff + k, sizeof(diff) - (size_t)k,
					      "    xmm%u: in %016llx%016llx %s %016llx%016llx %s %016llx%016llx\n",
					      i, (unsigned long long)in[1], (unsigned long long)in[0], who->n,
					      (unsigned long long)a[1], (unsigned long long)a[0], who->s,
					      (unsigned long long)b[1], (unsigned long long)b[0]);
			}
		for (unsigned i = 0; i < 8 && k < 1500 && full; i++)
			if (n->out.mm[i] != s->out.mm[i])
				k += snprintf(diff + k, sizeof(diff) - (size_t)k,
					      "    mm%u: in %#llx %s %#llx %s %#llx\n", i,
					      (unsigned long long)t->in.mm[i], who->n,
					      (unsigned long long)n->out.mm[i], who->s,
					      (unsigned long long)s->out.mm[i]);
		if (n->out.mxcsr != s->out.mxcsr)
			k += snprintf(diff + k, sizeof(diff) - (size_t)k,
				      "    mxcsr: in %#x %s %#x %s %#x\n", t->in.mxcsr,
				      who->n, n->out.mxcsr, who->s, s->out.mxcsr);
		for (unsigned o = 0; o < DT_DATA_SIZE && k < 1500 && full; o += 8)
			if (memcmp(n->data + o, s->data + o, 8)) {
				uint64_t a, b;
				memcpy(&a, n->data + o, 8);
				memcpy(&b, s->data + o, 8);
				k += snprintf(diff + k, sizeof(diff) - (size_t)k,
					      "    mem[data+%#x]: %s %#llx %s %#llx\n", o, who->n,
					      (unsigned long long)a, who->s, (unsigned long long)b);
			}
	}
	if (!k)
		return true;
	if (verbose || *printed < 40) {
		char name[64];
		printf("MISMATCH (%s, %s):\n", dt_form_name(t->form, name, sizeof(name)), path);
		print_code(t);
		fputs(diff, stdout);
		(*printed)++;
	}
	return false;
}
