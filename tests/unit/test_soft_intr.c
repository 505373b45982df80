/* Events of the system CPU on the bare rig: exception frames in long, 32-bit protected and real
 * mode, IST and RSP0 stacks, privilege change from CPL 3 and IRETQ back to it, the INT n DPL
 * check, #DF and triple fault, the STI shadow, intr_ack, NMI blocking until IRET, INT3 and
 * single-step traps, kick. */
#include "soft_intr_rig.h"

static void test_fault_frame_64(void)
{
	SECTION("#UD frame in long mode: SS RSP RFLAGS CS RIP, rip at the fault");
	struct rig r;
	intr_rig(&r, c_ud2, sizeof(c_ud2));
	CHECK(run_to_halt(&r) == SOFT_VEC_UD, "vector %llx", (unsigned long long)r.cpu->gpr[SOFT_R15]);
	uint64_t sp = r.cpu->gpr[SOFT_RSP];
	CHECK(sp == RIG_STACK - 40, "rsp %#llx", (unsigned long long)sp);
	CHECK(get64(&r, sp) == RIG_CODE, "rip %#llx", (unsigned long long)get64(&r, sp));
	CHECK(get64(&r, sp + 8) == 0x08 && get64(&r, sp + 24) == RIG_STACK && get64(&r, sp + 32) == 0x10,
	      "cs/rsp/ss");
	CHECK(r.cpu->rip == stub_addr(SOFT_VEC_UD) + 7, "handler rip %#llx",
	      (unsigned long long)r.cpu->rip);
	rig_fini(&r);
}

static void test_pf_error_code_and_cr2(void)
{
	SECTION("#PF pushes an error code and sets CR2; the frame is 16-byte aligned");
	struct rig r;
	intr_rig(&r, c_pf, sizeof(c_pf));
	r.cpu->gpr[SOFT_RSP] = RIG_STACK - 8;
	CHECK(run_to_halt(&r) == SOFT_VEC_PF, "vector");
	uint64_t sp = r.cpu->gpr[SOFT_RSP];
	CHECK(sp == RIG_STACK - 16 - 48, "rsp %#llx", (unsigned long long)sp);
	CHECK(get64(&r, sp + 8) == RIG_CODE, "rip");
	CHECK(get64(&r, sp + 32) == RIG_STACK - 8, "pushed rsp %#llx",
	      (unsigned long long)get64(&r, sp + 32));
	CHECK(r.cpu->sys.cr2 == 0x40000000, "cr2 %#llx", (unsigned long long)r.cpu->sys.cr2);
	rig_fini(&r);
}

static void test_ist(void)
{
	SECTION("IST: the gate's stack from the 64-bit TSS");
	struct rig r;
	intr_rig(&r, c_ud2, sizeof(c_ud2));
	rig_idt_gate(&r, SOFT_VEC_UD, stub_addr(SOFT_VEC_UD), 1);
	CHECK(run_to_halt(&r) == SOFT_VEC_UD, "vector");
	CHECK(r.cpu->gpr[SOFT_RSP] == IST1 - 40, "rsp %#llx", (unsigned long long)r.cpu->gpr[SOFT_RSP]);
	CHECK(get64(&r, IST1 - 16) == RIG_STACK, "old rsp");
	rig_fini(&r);
}

static void test_user_int_privilege_change(void)
{
	SECTION("IRETQ to CPL 3, INT 0x80 (DPL 3 gate) back to CPL 0 on RSP0, SS NULL");
	struct rig r;
	intr_rig(&r, c_to_user, sizeof(c_to_user));
	start_user(&r, c_user_int80, sizeof(c_user_int80));
	gate_dpl(&r, 0x80, 3);
	CHECK(run_to_halt(&r) == 0x80, "vector %#llx", (unsigned long long)r.cpu->gpr[SOFT_R15]);
	uint64_t sp = r.cpu->gpr[SOFT_RSP];
	CHECK(sp == RSP0 - 40, "rsp %#llx", (unsigned long long)sp);
	CHECK(get64(&r, sp) == USER_CODE + 2, "rip after INT: %#llx", (unsigned long long)get64(&r, sp));
	CHECK(get64(&r, sp + 8) == 0x2b, "user cs %#llx", (unsigned long long)get64(&r, sp + 8));
	CHECK(get64(&r, sp + 16) & FL_IF, "user IF");
	CHECK(get64(&r, sp + 24) == USER_STACK && get64(&r, sp + 32) == 0x23, "user ss:rsp");
	CHECK(r.cpu->sys.cpl == 0 && r.cpu->sys.seg[SOFT_SS].sel == 0, "cpl %u ss %#x",
	      r.cpu->sys.cpl, r.cpu->sys.seg[SOFT_SS].sel);
	CHECK(!(soft_cpu_get_rflags(r.cpu) & FL_IF), "interrupt gate clears IF");
	rig_fini(&r);
}

static void test_int_dpl_check(void)
{
	SECTION("INT n through a DPL 0 gate from CPL 3: #GP(vector*8+2) at the INT");
	struct rig r;
	intr_rig(&r, c_to_user, sizeof(c_to_user));
	start_user(&r, c_user_int81, sizeof(c_user_int81));
	CHECK(run_to_halt(&r) == SOFT_VEC_GP, "vector %#llx", (unsigned long long)r.cpu->gpr[SOFT_R15]);
	uint64_t sp = r.cpu->gpr[SOFT_RSP];
	CHECK(get64(&r, sp) == 0x81 * 8 + 2, "error %#llx", (unsigned long long)get64(&r, sp));
	CHECK(get64(&r, sp + 8) == USER_CODE, "rip at the INT");
	rig_fini(&r);
}

static void test_double_and_triple_fault(void)
{
	SECTION("#PF with its gate past the IDT limit: #GP during #PF delivery -> #DF(0)");
	struct rig r;
	intr_rig(&r, c_pf, sizeof(c_pf));
	r.cpu->sys.idtr.limit = 14 * 16 - 1;
	CHECK(run_to_halt(&r) == 8, "vector %#llx", (unsigned long long)r.cpu->gpr[SOFT_R15]);
	CHECK(get64(&r, r.cpu->gpr[SOFT_RSP]) == 0, "#DF error code");
	rig_fini(&r);

	SECTION("... and with #DF's gate not present: shutdown");
	intr_rig(&r, c_pf, sizeof(c_pf));
	r.cpu->sys.idtr.limit = 14 * 16 - 1;
	r.ram[RIG_IDT + 8 * 16 + 5] &= 0x7f;
	enum soft_exit e = rig_run(&r, 10000);
	CHECK(e == SOFT_EXIT_SHUTDOWN, "exit %d", e);
	rig_fini(&r);
}

static void test_sti_shadow(void)
{
	SECTION("STI shadow: a pending interrupt arrives after the next instruction");
	struct rig r;
	intr_rig(&r, c_sti_nop_cli, sizeof(c_sti_nop_cli));
	r.pending_vector = 0x20;
	soft_cpu_request_intr(r.cpu);
	CHECK(run_to_halt(&r) == 0x20, "vector %#llx", (unsigned long long)r.cpu->gpr[SOFT_R15]);
	CHECK(get64(&r, r.cpu->gpr[SOFT_RSP]) == RIG_CODE + 2, "interrupted at %#llx (want the CLI)",
	      (unsigned long long)get64(&r, r.cpu->gpr[SOFT_RSP]));
	rig_fini(&r);

	SECTION("STI; HLT halts first; the interrupt then returns after the HLT");
	intr_rig(&r, c_sti_hlt, sizeof(c_sti_hlt));
	r.pending_vector = 0x21;
	soft_cpu_request_intr(r.cpu);
	CHECK(run_to_halt(&r) == 0xffff, "delivered inside the shadow");
	CHECK(r.cpu->rip == RIG_CODE + 2, "halt rip %#llx", (unsigned long long)r.cpu->rip);
	CHECK(run_to_halt(&r) == 0x21, "vector");
	CHECK(get64(&r, r.cpu->gpr[SOFT_RSP]) == RIG_CODE + 2, "return rip");
	rig_fini(&r);
}

static void test_intr_ack_empty(void)
{
	SECTION("intr_ack -1: the request is cleared, nothing delivered");
	struct rig r;
	intr_rig(&r, c_loop, sizeof(c_loop));
	soft_cpu_set_rflags(r.cpu, 0x202);
	soft_cpu_request_intr(r.cpu);
	enum soft_exit e = soft_cpu_run(r.cpu, 1000);
	CHECK(e == SOFT_EXIT_BUDGET, "exit %d", e);
	CHECK(!atomic_load(&r.cpu->intr_req), "intr_req still set");
	CHECK(r.cpu->gpr[SOFT_R15] == 0xffff, "delivered something");
	SECTION("external interrupt: EXT frame, IF cleared, pending_vector taken");
	r.pending_vector = 0x30;
	soft_cpu_request_intr(r.cpu);
	CHECK(run_to_halt(&r) == 0x30, "vector");
	CHECK(r.pending_vector == -1, "not acknowledged");
	rig_fini(&r);
}

static void test_nmi_blocking(void)
{
	SECTION("NMI: blocked from delivery until IRET");
	struct rig r;
	intr_rig(&r, c_loop, sizeof(c_loop));
	rig_code(&r, 0x7e00, c_nmi_handler, sizeof(c_nmi_handler));
	rig_idt_gate(&r, 2, 0x7e00, 0);
	soft_cpu_request_nmi(r.cpu);
	run_to_halt(&r);
	CHECK(get64(&r, 0x7f00) == 1 && r.cpu->sys.nmi_masked, "first NMI");
	soft_cpu_request_nmi(r.cpu);
	run_to_halt(&r);
	CHECK(get64(&r, 0x7f00) == 1, "NMI delivered while blocked");
	run_to_halt(&r);
	CHECK(get64(&r, 0x7f00) == 2, "NMI not delivered after IRET (count %llu)",
	      (unsigned long long)get64(&r, 0x7f00));
	rig_fini(&r);
}

static void test_traps(void)
{
	SECTION("INT3 is a trap: rip after it");
	struct rig r;
	intr_rig(&r, c_int3, sizeof(c_int3));
	CHECK(run_to_halt(&r) == SOFT_VEC_BP, "vector");
	CHECK(get64(&r, r.cpu->gpr[SOFT_RSP]) == RIG_CODE + 1, "rip");
	rig_fini(&r);

	SECTION("TF set by POPF: #DB after the next instruction, DR6.BS");
	intr_rig(&r, c_tf, sizeof(c_tf));
	CHECK(run_to_halt(&r) == SOFT_VEC_DB, "vector %#llx", (unsigned long long)r.cpu->gpr[SOFT_R15]);
	CHECK(get64(&r, r.cpu->gpr[SOFT_RSP]) == RIG_CODE + 11, "rip %#llx",
	      (unsigned long long)get64(&r, r.cpu->gpr[SOFT_RSP]));
	CHECK(r.cpu->sys.dr[6] & (1u << 14), "BS");
	CHECK(!(soft_cpu_get_rflags(r.cpu) & FL_TF), "TF cleared in the handler");
	rig_fini(&r);
}

static void test_kick(void)
{
	SECTION("kick: the run returns early and the kick is consumed");
	struct rig r;
	intr_rig(&r, c_loop, sizeof(c_loop));
	soft_cpu_kick(r.cpu);
	CHECK(soft_cpu_run(r.cpu, 1000000) == SOFT_EXIT_BUDGET, "exit");
	CHECK(r.cpu->icount < 1000, "ran %llu", (unsigned long long)r.cpu->icount);
	CHECK(!atomic_load(&r.cpu->kick), "kick kept");
	rig_fini(&r);
}

static void test_prot32_frame(void)
{
	SECTION("32-bit protected mode: 8-byte gate, EIP CS EFLAGS frame");
	struct rig r;
	rig_init(&r);
	rig_long_mode(&r);
	struct soft_sys *s = &r.cpu->sys;
	s->cr0 = 0x11;
	s->cr4 = 0;
	s->efer = 0;
	rig_seg(&s->seg[SOFT_CS], 0x18, 0xc09b);
	uint64_t gate = 0x2000 | (0x18ULL << 16) | (0x8eULL << 40);
	rig_put64(&r, RIG_IDT + 6 * 8, gate);
	rig_put64(&r, RIG_IDT + 13 * 8, gate | 0x100); /* #GP at 0x2100 */
	static const uint8_t hlt = 0xf4;
	rig_code(&r, 0x2000, &hlt, 1);
	rig_code(&r, 0x2100, &hlt, 1);
	rig_code(&r, RIG_CODE, c_ud2, sizeof(c_ud2));
	soft_cpu_set_rflags(r.cpu, 0x202);
	soft_cpu_sys_sync(r.cpu);
	CHECK(rig_run(&r, 1000) == SOFT_EXIT_HALT && r.cpu->rip == 0x2001, "rip %#llx",
	      (unsigned long long)r.cpu->rip);
	CHECK(r.cpu->gpr[SOFT_RSP] == RIG_STACK - 12, "esp %#llx",
	      (unsigned long long)r.cpu->gpr[SOFT_RSP]);
	CHECK(get32(&r, RIG_STACK - 12) == RIG_CODE && get32(&r, RIG_STACK - 8) == 0x18 &&
	      get32(&r, RIG_STACK - 4) == 0x202, "frame");
	rig_fini(&r);
}

static void test_real_mode_int(void)
{
	SECTION("real mode: INT through the IVT pushes FLAGS CS IP, clears IF");
	struct rig r;
	rig_init(&r);
	struct soft_sys *s = &r.cpu->sys;
	s->seg[SOFT_CS].sel = 0;
	s->seg[SOFT_CS].base = 0;
	s->idtr.base = 0;
	s->idtr.limit = 0x3ff;
	r.cpu->rip = 0x1000;
	r.cpu->gpr[SOFT_RSP] = 0x8000;
	static const uint8_t code[] = { 0xcd, 0x10 }, hlt = 0xf4, ivt[4] = { 0x00, 0x20, 0, 0 };
	rig_code(&r, 0x1000, code, sizeof(code));
	rig_code(&r, 0x2000, &hlt, 1);
	rig_code(&r, 0x10 * 4, ivt, 4);
	soft_cpu_set_rflags(r.cpu, 0x202);
	soft_cpu_sys_sync(r.cpu);
	CHECK(rig_run(&r, 1000) == SOFT_EXIT_HALT && r.cpu->rip == 0x2001, "rip %#llx",
	      (unsigned long long)r.cpu->rip);
	CHECK((r.cpu->gpr[SOFT_RSP] & 0xffff) == 0x7ffa, "sp");
	CHECK(get16(&r, 0x7ffa) == 0x1002 && get16(&r, 0x7ffc) == 0 && get16(&r, 0x7ffe) == 0x202,
	      "frame %x %x %x", get16(&r, 0x7ffa), get16(&r, 0x7ffc), get16(&r, 0x7ffe));
	CHECK(!(soft_cpu_get_rflags(r.cpu) & FL_IF), "IF");
	rig_fini(&r);

	SECTION("real mode: INT and IRET between code segments with other bases");
	rig_init(&r);
	s = &r.cpu->sys;
	s->seg[SOFT_CS].sel = 0x100;
	s->seg[SOFT_CS].base = 0x1000;
	r.cpu->rip = 0;
	r.cpu->gpr[SOFT_RSP] = 0x8000;
	/* 0100:0000 int $0x10; hlt. 0200:0010 mov $0x1234, %ax; iret (IVT 0x10: 0200:0010) */
	static const uint8_t caller[] = { 0xcd, 0x10, 0xf4 }, handler[] = { 0xb8, 0x34, 0x12, 0xcf };
	static const uint8_t ivt2[4] = { 0x10, 0x00, 0x00, 0x02 };
	rig_code(&r, 0x1000, caller, sizeof(caller));
	rig_code(&r, 0x2010, handler, sizeof(handler));
	rig_code(&r, 0x10 * 4, ivt2, 4);
	soft_cpu_sys_sync(r.cpu);
	CHECK(rig_run(&r, 1000) == SOFT_EXIT_HALT && r.cpu->cs_base == 0x1000 &&
	      r.cpu->rip == 3 && s->seg[SOFT_CS].sel == 0x100 && r.cpu->gpr[SOFT_RAX] == 0x1234,
	      "back at %#llx:%#llx ax %#llx", (unsigned long long)r.cpu->cs_base,
	      (unsigned long long)r.cpu->rip, (unsigned long long)r.cpu->gpr[SOFT_RAX]);
	rig_fini(&r);
}

int main(void)
{
	test_fault_frame_64();
	test_pf_error_code_and_cr2();
	test_ist();
	test_user_int_privilege_change();
	test_int_dpl_check();
	test_double_and_triple_fault();
	test_sti_shadow();
	test_intr_ack_empty();
	test_nmi_blocking();
	test_traps();
	test_kick();
	test_prot32_frame();
	test_real_mode_int();
	printf("soft_intr: ok\n");
	return 0;
}
