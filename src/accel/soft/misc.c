/* Miscellaneous family: SYSCALL, CPUID (the feature set this CPU promises), RDTSC, flag
 * instructions (CLC/STC/CMC/CLD/STD, LAHF/SAHF, PUSHF/POPF), sign extension of the accumulator
 * (CBW/CWDE/CDQE, CWD/CDQ/CQO), XLAT, fences, hints and traps (HLT, INT3, INT, UD2). In
 * system mode SYSCALL, HLT, INT/INT3, CPUID, RDTSC and PUSHF/POPF go to their system forms
 * (sys.c, intr.c). */
#include <time.h>

#include <Zydis/Zydis.h>

#include "accel/soft/soft_sys.h"

static void h_nop(struct soft_cpu *c, const struct soft_op *op)
{
	(void)c;
	(void)op;
}

static void h_syscall(struct soft_cpu *c, const struct soft_op *op)
{
	if (c->system) {
		soft_sys_syscall(c, op);
		return;
	}
	c->gpr[SOFT_RCX] = op->next_rip;
	c->gpr[SOFT_R11] = soft_flags_get(c);
	c->exit_reason = SOFT_EXIT_SYSCALL;
	c->chain_left = 0;
}

static void h_hlt(struct soft_cpu *c, const struct soft_op *op)
{
	if (c->system) {
		soft_sys_hlt(c, op);
		return;
	}
	c->exit_reason = SOFT_EXIT_HALT;
	c->chain_left = 0;
}

static void h_int3(struct soft_cpu *c, const struct soft_op *op)
{
	if (c->system)
		soft_sys_softint(c, op, SOFT_VEC_BP);
	soft_raise(c, SOFT_VEC_BP, 0, soft_op_rip(op));
}

static void h_int(struct soft_cpu *c, const struct soft_op *op)
{
	if (c->system)
		soft_sys_softint(c, op, (unsigned)(op->imm & 0xff));
	soft_raise(c, SOFT_VEC_GP, (uint32_t)((op->imm & 0xff) << 3 | 2), soft_op_rip(op));
}

static uint32_t str4(const char *s)
{
	return (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
}

/* Deterministic cache parameters (leaf 4): L1d 32K/8w, L1i 32K/8w, L2 1M/16w, L3 8M/16w. */
static void cache_leaf(unsigned sub, uint32_t r[4])
{
	static const struct { uint8_t type, level; uint16_t ways; uint32_t sets; } lv[] = {
		{ 1, 1, 8, 64 }, { 2, 1, 8, 64 }, { 3, 2, 16, 1024 }, { 3, 3, 16, 8192 },
	};
	if (sub >= 4)
		return;
	r[0] = lv[sub].type | (uint32_t)lv[sub].level << 5 | 1u << 8;
	r[1] = (uint32_t)(lv[sub].ways - 1) << 22 | 63;
	r[2] = lv[sub].sets - 1;
}

void soft_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	static const char brand[48] = "hardy soft x86-64 CPU";
	r[0] = r[1] = r[2] = r[3] = 0;
	switch (leaf) {
	case 0:
		r[0] = 0xd;
		r[1] = str4("Genu");
		r[3] = str4("ineI");
		r[2] = str4("ntel");
		break;
	case 1:
		r[0] = 0x000306a9;
		r[1] = 0x00010800;
		r[2] = 1u << 13 /* CX16 */ | 1u << 23 /* POPCNT */;
		r[3] = 1u << 0 /* FPU */ | 1u << 4 /* TSC */ | 1u << 8 /* CX8 */ | 1u << 15 /* CMOV */ |
		       1u << 19 /* CLFSH */ | 1u << 23 /* MMX */ | 1u << 24 /* FXSR */ |
		       1u << 25 /* SSE */ | 1u << 26 /* SSE2 */;
		break;
	case 2:
		r[0] = 0x00feff01;
		break;
	case 4:
		cache_leaf(sub, r);
		break;
	case 7:
		if (sub == 0)
			r[1] = 1u << 3 /* BMI1 */ | 1u << 8 /* BMI2 */ | 1u << 9 /* ERMS */;
		break;
	case 0x80000000:
		r[0] = 0x80000008;
		break;
	case 0x80000001:
		r[2] = 1u << 0 /* LAHF_LM */ | 1u << 5 /* LZCNT */;
		r[3] = 1u << 11 /* SYSCALL */ | 1u << 20 /* NX */ | 1u << 29 /* LM */;
		break;
	case 0x80000002: case 0x80000003: case 0x80000004:
		memcpy(r, brand + (leaf - 0x80000002) * 16, 16);
		break;
	case 0x80000006:
		r[2] = 1024u << 16 | 6u << 12 | 64;
		break;
	case 0x80000008:
		r[0] = 0x3030;
		break;
	default:
		break;
	}
}

static void h_cpuid(struct soft_cpu *c, const struct soft_op *op)
{
	uint32_t r[4];
	(void)op;
	if (c->system)
		soft_cpuid_system(c, (uint32_t)c->gpr[SOFT_RAX], (uint32_t)c->gpr[SOFT_RCX], r);
	else
		soft_cpuid((uint32_t)c->gpr[SOFT_RAX], (uint32_t)c->gpr[SOFT_RCX], r);
	c->gpr[SOFT_RAX] = r[0];
	c->gpr[SOFT_RBX] = r[1];
	c->gpr[SOFT_RCX] = r[2];
	c->gpr[SOFT_RDX] = r[3];
}

static void h_rdtsc(struct soft_cpu *c, const struct soft_op *op)
{
	struct timespec ts;
	if (c->system) {
		soft_sys_rdtsc(c, op);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t t = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	c->gpr[SOFT_RAX] = (uint32_t)t;
	c->gpr[SOFT_RDX] = t >> 32;
}

static void flag_op(struct soft_cpu *c, uint64_t clear, uint64_t set, uint64_t toggle)
{
	uint64_t f = soft_flags_get(c);
	soft_flags_set(c, ((f & ~clear) | set) ^ toggle);
}

static void h_clc(struct soft_cpu *c, const struct soft_op *op) { (void)op; flag_op(c, SOFT_CF, 0, 0); }
static void h_stc(struct soft_cpu *c, const struct soft_op *op) { (void)op; flag_op(c, 0, SOFT_CF, 0); }
static void h_cmc(struct soft_cpu *c, const struct soft_op *op) { (void)op; flag_op(c, 0, 0, SOFT_CF); }
static void h_cld(struct soft_cpu *c, const struct soft_op *op) { (void)op; c->rflags &= ~(uint64_t)SOFT_DF; }
static void h_std(struct soft_cpu *c, const struct soft_op *op) { (void)op; c->rflags |= SOFT_DF; }

static void h_lahf(struct soft_cpu *c, const struct soft_op *op)
{
	(void)op;
	soft_reg_set(c, 16 + SOFT_RAX, 1, (soft_flags_get(c) & 0xd5) | 2);
}

static void h_sahf(struct soft_cpu *c, const struct soft_op *op)
{
	(void)op;
	uint64_t ah = (c->gpr[SOFT_RAX] >> 8) & 0xd5;
	flag_op(c, 0xd5, ah, 0);
}

static void h_pushf(struct soft_cpu *c, const struct soft_op *op)
{
	if (c->system) {
		soft_sys_pushf(c, op);
		return;
	}
	unsigned sz = soft_slot_size(op);
	soft_push_op(c, op, sz, soft_flags_get(c) & ~(uint64_t)0x30000); /* RF and VM read as 0 */
}

static void h_popf(struct soft_cpu *c, const struct soft_op *op)
{
	if (c->system) {
		soft_sys_popf(c, op);
		return;
	}
	unsigned sz = soft_slot_size(op);
	uint64_t v = soft_pop_op(c, op, sz);
	uint64_t mask = SOFT_ARITH_FLAGS | SOFT_TF | SOFT_DF | SOFT_AC | SOFT_ID | 1u << 14;
	if (sz == 2)
		mask &= 0xffff;
	soft_flags_set(c, (soft_flags_get(c) & ~mask) | (v & mask));
}

static void h_cbw(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->osize;
	soft_reg_set(c, SOFT_RAX, sz, (uint64_t)soft_sext(c->gpr[SOFT_RAX], sz / 2));
}

static void h_cwd(struct soft_cpu *c, const struct soft_op *op)
{
	unsigned sz = op->osize;
	uint64_t sign = (c->gpr[SOFT_RAX] & soft_sbit(sz)) ? ~0ULL : 0;
	soft_reg_set(c, SOFT_RDX, sz, sign);
}

static void h_xlat(struct soft_cpu *c, const struct soft_op *op)
{
	uint64_t a = c->gpr[SOFT_RBX] + (c->gpr[SOFT_RAX] & 0xff);
	a = soft_seg_implicit(c, op, soft_addr_mask(op, a), 1);
	soft_reg_set(c, SOFT_RAX, 1, soft_ld(c, a, 1));
}

static void h_rdfsbase(struct soft_cpu *c, const struct soft_op *op)
{
	if (c->system) /* CR4.FSGSBASE is not exposed to a kernel */
		soft_h_ud(c, op);
	soft_reg_set(c, op->o[0].reg, op->o[0].size, op->mnem == ZYDIS_MNEMONIC_RDFSBASE ? c->fs_base
										 : c->gs_base);
}

/* Threaded entry points (see SOFT_THREADED). */
SOFT_THREADED(h_nop)
SOFT_THREADED(h_syscall)
SOFT_THREADED(h_hlt)
SOFT_THREADED(h_int3)
SOFT_THREADED(h_int)
SOFT_THREADED(h_cpuid)
SOFT_THREADED(h_rdtsc)
SOFT_THREADED(h_clc)
SOFT_THREADED(h_stc)
SOFT_THREADED(h_cmc)
SOFT_THREADED(h_cld)
SOFT_THREADED(h_std)
SOFT_THREADED(h_lahf)
SOFT_THREADED(h_sahf)
SOFT_THREADED(h_pushf)
SOFT_THREADED(h_popf)
SOFT_THREADED(h_cbw)
SOFT_THREADED(h_cwd)
SOFT_THREADED(h_xlat)
SOFT_THREADED(h_rdfsbase)

const struct soft_insn_def soft_misc_defs[] = {
	{ ZYDIS_MNEMONIC_NOP, h_nop_t }, { ZYDIS_MNEMONIC_PAUSE, h_nop_t },
	{ ZYDIS_MNEMONIC_ENDBR64, h_nop_t }, { ZYDIS_MNEMONIC_LFENCE, h_nop_t },
	{ ZYDIS_MNEMONIC_MFENCE, h_nop_t }, { ZYDIS_MNEMONIC_SFENCE, h_nop_t },
	{ ZYDIS_MNEMONIC_PREFETCHT0, h_nop_t }, { ZYDIS_MNEMONIC_PREFETCHT1, h_nop_t },
	{ ZYDIS_MNEMONIC_PREFETCHT2, h_nop_t }, { ZYDIS_MNEMONIC_PREFETCHNTA, h_nop_t },
	{ ZYDIS_MNEMONIC_PREFETCHW, h_nop_t }, { ZYDIS_MNEMONIC_CLFLUSH, h_nop_t },
	{ ZYDIS_MNEMONIC_SYSCALL, h_syscall_t }, { ZYDIS_MNEMONIC_HLT, h_hlt_t },
	{ ZYDIS_MNEMONIC_INT3, h_int3_t }, { ZYDIS_MNEMONIC_INT, h_int_t },
	{ ZYDIS_MNEMONIC_CPUID, h_cpuid_t }, { ZYDIS_MNEMONIC_RDTSC, h_rdtsc_t },
	{ ZYDIS_MNEMONIC_CLC, h_clc_t }, { ZYDIS_MNEMONIC_STC, h_stc_t }, { ZYDIS_MNEMONIC_CMC, h_cmc_t },
	{ ZYDIS_MNEMONIC_CLD, h_cld_t }, { ZYDIS_MNEMONIC_STD, h_std_t },
	{ ZYDIS_MNEMONIC_LAHF, h_lahf_t }, { ZYDIS_MNEMONIC_SAHF, h_sahf_t },
	{ ZYDIS_MNEMONIC_PUSHFQ, h_pushf_t }, { ZYDIS_MNEMONIC_PUSHF, h_pushf_t },
	{ ZYDIS_MNEMONIC_PUSHFD, h_pushf_t }, { ZYDIS_MNEMONIC_POPFD, h_popf_t },
	{ ZYDIS_MNEMONIC_POPFQ, h_popf_t }, { ZYDIS_MNEMONIC_POPF, h_popf_t },
	{ ZYDIS_MNEMONIC_CBW, h_cbw_t }, { ZYDIS_MNEMONIC_CWDE, h_cbw_t }, { ZYDIS_MNEMONIC_CDQE, h_cbw_t },
	{ ZYDIS_MNEMONIC_CWD, h_cwd_t }, { ZYDIS_MNEMONIC_CDQ, h_cwd_t }, { ZYDIS_MNEMONIC_CQO, h_cwd_t },
	{ ZYDIS_MNEMONIC_XLAT, h_xlat_t }, { ZYDIS_MNEMONIC_RDFSBASE, h_rdfsbase_t },
	{ ZYDIS_MNEMONIC_RDGSBASE, h_rdfsbase_t },
	{ 0, NULL },
};
