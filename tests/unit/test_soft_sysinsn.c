/* System instructions of the system CPU on the bare rig: SYSCALL/SYSRET round trip, SWAPGS,
 * MSR round trips and their #GP cases, TSC writes, XSAVE/XRSTOR and the XSETBV/XGETBV rules,
 * UMIP, IN/OUT through ops->pio and the IOPL check, CPUID's system leaves, CR checks. */
#include "soft_intr_rig.h"

#define NONE 0xffffu

static void test_syscall_sysret(void)
{
	SECTION("SYSRETQ to CPL 3, SYSCALL back: RCX/R11, FMASK, flat CS/SS from STAR");
	struct rig r;
	intr_rig(&r, c_sysret_setup, sizeof(c_sysret_setup));
	start_user(&r, c_user_syscall, sizeof(c_user_syscall));
	static const uint8_t hlt = 0xf4;
	rig_code(&r, LSTAR_CODE, &hlt, 1);
	CHECK(run_to_halt(&r) == NONE, "fault %#llx", (unsigned long long)r.cpu->gpr[SOFT_R15]);
	struct soft_cpu *c = r.cpu;
	CHECK(c->rip == LSTAR_CODE + 1, "rip %#llx", (unsigned long long)c->rip);
	CHECK(c->gpr[SOFT_RCX] == USER_CODE + 9, "rcx %#llx", (unsigned long long)c->gpr[SOFT_RCX]);
	CHECK(c->gpr[SOFT_R11] == 0x246, "r11 %#llx", (unsigned long long)c->gpr[SOFT_R11]);
	CHECK(c->gpr[SOFT_RDI] == 0x1234, "user code ran");
	CHECK(!(soft_cpu_get_rflags(c) & FL_IF), "FMASK");
	CHECK(c->sys.cpl == 0 && c->sys.seg[SOFT_CS].sel == 0x08 && c->sys.seg[SOFT_SS].sel == 0x10,
	      "cs %#x ss %#x", c->sys.seg[SOFT_CS].sel, c->sys.seg[SOFT_SS].sel);
	rig_fini(&r);
}

static void test_compat_pushfd(void)
{
	SECTION("SYSRETL to compatibility mode at CPL 3: PUSHFD/POPFD (32-bit slots) run there");
	struct rig r;
	intr_rig(&r, c_sysretl_setup, sizeof(c_sysretl_setup));
	start_user(&r, c_user32_pushfd, sizeof(c_user32_pushfd));
	r.cpu->gpr[SOFT_RBX] = 0x246; /* R11 for SYSRETL */
	CHECK(run_to_halt(&r) == SOFT_VEC_UD, "vector %#llx", (unsigned long long)r.cpu->gpr[SOFT_R15]);
	uint64_t sp = r.cpu->gpr[SOFT_RSP];
	CHECK(get64(&r, sp) == USER_CODE + 11 && get64(&r, sp + 8) == 0x1b,
	      "#UD only at the UD2: rip %#llx cs %#llx", (unsigned long long)get64(&r, sp),
	      (unsigned long long)get64(&r, sp + 8));
	CHECK(r.cpu->gpr[SOFT_RAX] == 0xa46 && r.cpu->gpr[SOFT_RBX] == 0xa46,
	      "pushfd | OF %#llx, pushfd after popfd %#llx", (unsigned long long)r.cpu->gpr[SOFT_RAX],
	      (unsigned long long)r.cpu->gpr[SOFT_RBX]);
	CHECK(get64(&r, sp + 24) == USER_STACK, "user esp back at %#llx",
	      (unsigned long long)get64(&r, sp + 24));
	rig_fini(&r);
}

/* SYSRETL into c_user32 code with R11 = rflags; CSTAR's code halts. */
static void compat_user(struct rig *r, const uint8_t *user, size_t n, uint64_t rflags)
{
	static const uint8_t hlt = 0xf4;
	intr_rig(r, c_sysretl_setup, sizeof(c_sysretl_setup));
	start_user(r, user, n);
	rig_code(r, CSTAR_CODE, &hlt, 1);
	r->cpu->gpr[SOFT_RBX] = rflags;
}

static void test_compat_syscall(void)
{
	SECTION("SYSCALL from compatibility mode (AMD): to CSTAR in 64-bit CPL 0, CS/SS from STAR");
	struct rig r;
	compat_user(&r, c_user32_syscall, sizeof(c_user32_syscall), 0x246);
	CHECK(run_to_halt(&r) == NONE, "fault %#llx", (unsigned long long)r.cpu->gpr[SOFT_R15]);
	struct soft_cpu *c = r.cpu;
	CHECK(c->rip == CSTAR_CODE + 1, "rip %#llx", (unsigned long long)c->rip);
	CHECK(c->gpr[SOFT_RCX] == USER_CODE + sizeof(c_user32_syscall), "rcx %#llx",
	      (unsigned long long)c->gpr[SOFT_RCX]);
	CHECK(c->gpr[SOFT_R11] == 0x246 && c->gpr[SOFT_RDI] == 0x1234, "r11 %#llx",
	      (unsigned long long)c->gpr[SOFT_R11]);
	CHECK(!(soft_cpu_get_rflags(c) & FL_IF), "FMASK");
	CHECK(c->sys.cpl == 0 && c->sys.seg[SOFT_CS].sel == 0x08 && c->sys.seg[SOFT_SS].sel == 0x10 &&
	      c->cs_mode == SOFT_CS_64, "cs %#x ss %#x mode %d", c->sys.seg[SOFT_CS].sel,
	      c->sys.seg[SOFT_SS].sel, (int)c->cs_mode);
	rig_fini(&r);

	SECTION("SYSCALL with TF set, FMASK clears TF: no single-step trap after it");
	compat_user(&r, c_user32_tf_syscall, sizeof(c_user32_tf_syscall), 0x246);
	CHECK(run_to_halt(&r) == NONE, "trap %#llx", (unsigned long long)r.cpu->gpr[SOFT_R15]);
	CHECK(r.cpu->rip == CSTAR_CODE + 1 && r.cpu->gpr[SOFT_R11] == 0x346, "rip %#llx r11 %#llx",
	      (unsigned long long)r.cpu->rip, (unsigned long long)r.cpu->gpr[SOFT_R11]);
	rig_fini(&r);

	SECTION("SYSRETL that sets TF: #DB at the return point, before its first instruction");
	compat_user(&r, c_user32_syscall, sizeof(c_user32_syscall), 0x346);
	CHECK(run_to_halt(&r) == SOFT_VEC_DB, "vector %#llx", (unsigned long long)r.cpu->gpr[SOFT_R15]);
	uint64_t sp = r.cpu->gpr[SOFT_RSP];
	CHECK(get64(&r, sp) == USER_CODE && get64(&r, sp + 8) == 0x1b &&
	      (get64(&r, sp + 16) & FL_TF), "frame rip %#llx cs %#llx rflags %#llx",
	      (unsigned long long)get64(&r, sp), (unsigned long long)get64(&r, sp + 8),
	      (unsigned long long)get64(&r, sp + 16));
	CHECK(r.cpu->gpr[SOFT_RDI] != 0x1234 && (r.cpu->sys.dr[6] & (1u << 14)), "DR6.BS");
	rig_fini(&r);
}

static void test_swapgs(void)
{
	SECTION("SWAPGS exchanges GS_BASE and KERNEL_GS_BASE; #GP at CPL 3");
	struct rig r;
	intr_rig(&r, c_swapgs, sizeof(c_swapgs));
	CHECK(run_to_halt(&r) == NONE, "fault");
	CHECK(r.cpu->gpr[SOFT_RBX] == 2 && r.cpu->gpr[SOFT_RAX] == 1 && r.cpu->gs_base == 2 &&
	      r.cpu->sys.seg[SOFT_GS].base == 2, "gs %#llx", (unsigned long long)r.cpu->gs_base);
	rig_fini(&r);
	intr_rig(&r, c_to_user, sizeof(c_to_user));
	start_user(&r, c_user_swapgs, sizeof(c_user_swapgs));
	CHECK(run_to_halt(&r) == SOFT_VEC_GP, "swapgs at CPL 3");
	rig_fini(&r);
}

static void test_msrs(void)
{
	SECTION("PAT round trip, IA32_TSC write sets the offset");
	struct rig r;
	intr_rig(&r, c_msr_roundtrip, sizeof(c_msr_roundtrip));
	CHECK(run_to_halt(&r) == NONE, "fault");
	CHECK(r.cpu->gpr[SOFT_RBX] == 0x00070106 && r.cpu->gpr[SOFT_RSI] == 0x00070406, "pat");
	CHECK(r.cpu->gpr[SOFT_RDX] == 1 && r.cpu->gpr[SOFT_RAX] < 100000, "tsc %#llx:%#llx",
	      (unsigned long long)r.cpu->gpr[SOFT_RDX], (unsigned long long)r.cpu->gpr[SOFT_RAX]);
	rig_fini(&r);
	static const struct { const char *what; const uint8_t *code; size_t n; } bad[] = {
		{ "EFER reserved bit", c_efer_bad, sizeof(c_efer_bad) },
		{ "PAT invalid type", c_pat_bad, sizeof(c_pat_bad) },
		{ "unknown MSR (ops->msr refuses)", c_msr_unknown, sizeof(c_msr_unknown) },
		{ "CR4.PCIDE (not exposed)", c_cr_bad, sizeof(c_cr_bad) },
		{ "CR0.PG without PE", c_cr0_bad, sizeof(c_cr0_bad) },
		{ "XSETBV without x87", c_xsetbv_bad, sizeof(c_xsetbv_bad) },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		SECTION("#GP(0): %s", bad[i].what);
		intr_rig(&r, bad[i].code, bad[i].n);
		CHECK(run_to_halt(&r) == SOFT_VEC_GP, "%s: vector %#llx", bad[i].what,
		      (unsigned long long)r.cpu->gpr[SOFT_R15]);
		CHECK(get64(&r, r.cpu->gpr[SOFT_RSP]) == 0, "error code");
		CHECK(get64(&r, r.cpu->gpr[SOFT_RSP] + 8) < RIG_CODE + bad[i].n, "rip at the insn");
		rig_fini(&r);
	}
}

static void test_xsave(void)
{
	SECTION("XSETBV x87|SSE, XSAVE/XRSTOR round trip of XMM3, XSTATE_BV, XGETBV");
	struct rig r;
	intr_rig(&r, c_xsave, sizeof(c_xsave));
	CHECK(run_to_halt(&r) == NONE, "fault %#llx", (unsigned long long)r.cpu->gpr[SOFT_R15]);
	CHECK(r.cpu->gpr[SOFT_RBX] == 0x1122334455667788ULL, "xmm3 %#llx",
	      (unsigned long long)r.cpu->gpr[SOFT_RBX]);
	CHECK(r.cpu->gpr[SOFT_RAX] == 3 && r.cpu->sys.xcr0 == 3, "xcr0");
	CHECK(get64(&r, 0x8000 + 512) == 3, "xstate_bv %#llx", (unsigned long long)get64(&r, 0x8200));
	CHECK(get64(&r, 0x8000 + 160 + 48) == 0x1122334455667788ULL, "saved xmm3");
	rig_fini(&r);
	SECTION("XGETBV without CR4.OSXSAVE: #UD");
	intr_rig(&r, c_xgetbv, sizeof(c_xgetbv));
	CHECK(run_to_halt(&r) == SOFT_VEC_UD, "vector");
	rig_fini(&r);
}

static void test_umip(void)
{
	SECTION("UMIP: SGDT at CPL 0 works, at CPL 3 #GP");
	struct rig r;
	intr_rig(&r, c_sgdt, sizeof(c_sgdt));
	r.cpu->sys.cr4 |= 1u << 11;
	CHECK(run_to_halt(&r) == NONE, "fault");
	CHECK(get16(&r, 0x8000) == 0x2f && get64(&r, 0x8002) == RIG_GDT, "sgdt");
	rig_fini(&r);
	intr_rig(&r, c_to_user, sizeof(c_to_user));
	r.cpu->sys.cr4 |= 1u << 11;
	start_user(&r, c_sgdt, sizeof(c_sgdt));
	CHECK(run_to_halt(&r) == SOFT_VEC_GP, "vector");
	CHECK(get64(&r, r.cpu->gpr[SOFT_RSP] + 8) == USER_CODE, "rip");
	rig_fini(&r);
}

static void test_port_io(void)
{
	SECTION("OUT and IN reach ops->pio; OUT at CPL 3 with IOPL 0: #GP");
	struct rig r;
	intr_rig(&r, c_out_f4, sizeof(c_out_f4));
	rig_run(&r, 1000);
	CHECK(r.exit_code == 0x42, "port 0xf4 got %d", r.exit_code);
	rig_fini(&r);
	intr_rig(&r, c_in_dx, sizeof(c_in_dx));
	r.cpu->gpr[SOFT_RAX] = 0x1234;
	CHECK(run_to_halt(&r) == NONE && r.cpu->gpr[SOFT_RAX] == 0x12ff, "in: rax %#llx",
	      (unsigned long long)r.cpu->gpr[SOFT_RAX]);
	rig_fini(&r);
	intr_rig(&r, c_to_user, sizeof(c_to_user));
	start_user(&r, c_user_out, sizeof(c_user_out));
	CHECK(run_to_halt(&r) == SOFT_VEC_GP, "vector");
	rig_fini(&r);
}

static void test_cpuid(void)
{
	SECTION("CPUID: APIC ID in leaf 1 and 0xB, OSXSAVE follows CR4, address widths");
	struct rig r;
	intr_rig(&r, c_cpuid1, sizeof(c_cpuid1));
	r.cpu->sys.apic_id = 5;
	CHECK(run_to_halt(&r) == NONE, "fault");
	CHECK(r.cpu->gpr[SOFT_RBX] >> 24 == 5, "ebx %#llx", (unsigned long long)r.cpu->gpr[SOFT_RBX]);
	CHECK(r.cpu->gpr[SOFT_RCX] & (1u << 21 | 1u << 26), "x2apic/xsave");
	CHECK(!(r.cpu->gpr[SOFT_RCX] & (1u << 27 | 1u << 3 | 1u << 5)), "OSXSAVE/MONITOR/VMX");
	uint32_t v[4];
	r.cpu->sys.cr4 |= 1u << 18;
	soft_cpuid_system(r.cpu, 1, 0, v);
	CHECK(v[2] & (1u << 27), "OSXSAVE with CR4.OSXSAVE");
	soft_cpuid_system(r.cpu, 0xb, 0, v);
	CHECK(v[3] == 5 && v[1] == 1 && ((v[2] >> 8) & 0xff) == 1, "leaf 0xb.0");
	soft_cpuid_system(r.cpu, 0xb, 2, v);
	CHECK(((v[2] >> 8) & 0xff) == 0, "leaf 0xb ends");
	soft_cpuid_system(r.cpu, 0x80000008, 0, v);
	CHECK(v[0] == 0x3028, "address bits %#x", v[0]);
	soft_cpuid_system(r.cpu, 0xd, 0, v);
	CHECK(v[0] == 3 && v[2] == 576, "xsave leaf");
	soft_cpuid_system(r.cpu, 0x15, 0, v);
	CHECK(v[2] && (uint64_t)v[2] * v[1] / v[0] == 1000000000ULL, "tsc from crystal");
	soft_cpuid_system(r.cpu, 0, 0, v);
	CHECK(v[0] >= 0x16, "max leaf");
	rig_fini(&r);
}

int main(void)
{
	test_syscall_sysret();
	test_compat_pushfd();
	test_compat_syscall();
	test_swapgs();
	test_msrs();
	test_xsave();
	test_umip();
	test_port_io();
	test_cpuid();
	printf("soft_sysinsn: ok\n");
	return 0;
}
