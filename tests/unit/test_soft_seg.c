/* Execution modes and segmentation of the system CPU on the bare rig: real-mode addressing
 * with segment bases and limits, string instructions across segments, far transfers in real,
 * protected, compatibility and 64-bit mode, segment loads with their descriptor checks, the
 * AP trampoline (real -> 32-bit protected -> long mode) and the Multiboot 32-bit entry, and
 * the user-mode CPU's Linux segments. Code bytes come from GNU as (listed beside them).
 *
 * Instructions that belong to other parts of the system CPU (LGDT, MOV CR, WRMSR, CLI) are
 * stood in for by HLT: the test then changes the state as they would and calls
 * soft_cpu_sys_sync. A fault is accepted either as an exception exit (this branch) or, once
 * exceptions are delivered through the guest's tables, as a halt in that vector's stub. */
#include <sys/mman.h>

#include "check.h"
#include "soft_sys_rig.h"
#include "accel/soft/soft_sys.h"

#define STUBS 0x7000u /* vector v's handler: hlt at STUBS + 16 v */

static struct soft_sys *sys(struct rig *r)
{
	return &r->cpu->sys;
}

static uint64_t get64(struct rig *r, uint64_t gpa)
{
	uint64_t v;
	memcpy(&v, r->ram + gpa, 8);
	return v;
}

static uint32_t get32(struct rig *r, uint64_t gpa)
{
	uint32_t v;
	memcpy(&v, r->ram + gpa, 4);
	return v;
}

static uint16_t get16(struct rig *r, uint64_t gpa)
{
	uint16_t v;
	memcpy(&v, r->ram + gpa, 2);
	return v;
}

static void put16(struct rig *r, uint64_t gpa, uint16_t v)
{
	memcpy(r->ram + gpa, &v, 2);
}

static void put32(struct rig *r, uint64_t gpa, uint32_t v)
{
	memcpy(r->ram + gpa, &v, 4);
}

static void stubs(struct rig *r)
{
	for (unsigned v = 0; v < 32; v++)
		r->ram[STUBS + v * 16] = 0xf4;
}

/* Real mode at CS=sel, IP=ip, with an IVT pointing every exception at its stub. */
static void real_mode(struct rig *r, uint16_t cs, uint16_t ip)
{
	rig_init(r);
	stubs(r);
	for (unsigned v = 0; v < 32; v++)
		put32(r, v * 4, (uint32_t)(STUBS >> 4) << 16 | (v * 16));
	struct soft_seg *s = &sys(r)->seg[SOFT_CS];
	s->sel = cs;
	s->base = (uint32_t)cs << 4;
	r->cpu->rip = ip;
	soft_cpu_sys_sync(r->cpu);
}

static void gdt_extra(struct rig *r)
{
	rig_put64(r, RIG_GDT + 0x38, 0x00cf13000000ffffULL); /* data, not present */
	sys(r)->gdtr.limit = 0x3f;
}

/* 32-bit protected mode, paging off, flat CS 0x18 and data 0x10, 32-bit IDT to the stubs. */
static void prot32(struct rig *r)
{
	rig_init(r);
	rig_long_mode(r); /* for its GDT */
	struct soft_sys *s = sys(r);
	gdt_extra(r);
	s->cr0 = 0x31;
	s->cr3 = s->cr4 = 0;
	s->efer = 0;
	rig_seg(&s->seg[SOFT_CS], 0x18, 0xc09b);
	stubs(r);
	for (unsigned v = 0; v < 32; v++) {
		uint64_t h = STUBS + v * 16;
		rig_put64(r, RIG_IDT + v * 8, (h & 0xffff) | (0x18ULL << 16) | (0x8eULL << 40) |
					       ((h >> 16) << 48));
	}
	s->idtr.limit = 32 * 8 - 1;
	soft_cpu_sys_sync(r->cpu);
}

static void long64(struct rig *r)
{
	rig_init(r);
	rig_long_mode(r);
	gdt_extra(r);
	stubs(r);
	for (unsigned v = 0; v < 32; v++)
		rig_idt_gate(r, v, STUBS + v * 16, 0);
	soft_cpu_sys_sync(r->cpu);
}

/* The fault vector/error either as an exception exit at fault_rip or delivered to its stub
 * (error code on the stack for has_err, width 4 or 8). */
static void expect_fault(struct rig *r, enum soft_exit e, unsigned vec, uint32_t err,
			 bool has_err, unsigned width, uint64_t fault_rip, const char *what)
{
	struct soft_cpu *c = r->cpu;
	if (e == SOFT_EXIT_EXCEPTION) {
		CHECK(c->exc_vector == vec && c->exc_error == err && c->rip == fault_rip,
		      "%s: vector %u error %#x rip %#llx", what, c->exc_vector, c->exc_error,
		      (unsigned long long)c->rip);
		return;
	}
	uint64_t lin = c->cs_base + c->rip;
	CHECK(e == SOFT_EXIT_HALT && lin == STUBS + vec * 16 + 1, "%s: exit %d at %#llx", what,
	      e, (unsigned long long)lin);
	if (has_err) {
		uint64_t sp = sys(r)->seg[SOFT_SS].base + c->gpr[SOFT_RSP];
		uint64_t got = width == 8 ? get64(r, sp) : get32(r, sp);
		CHECK(got == err, "%s: error %#llx", what, (unsigned long long)got);
	}
}

static void test_reset_vector(void)
{
	struct rig r;
	rig_init(&r);
	struct soft_cpu *c = r.cpu;
	CHECK(c->cs_mode == SOFT_CS_REAL16 && c->cs_base == 0xffff0000 && c->rip == 0xfff0 &&
	      sys(&r)->cpl == 0, "reset: mode %d base %#llx", c->cs_mode,
	      (unsigned long long)c->cs_base);
	/* The first fetch is at linear 0xfffffff0, outside the rig's RAM. */
	enum soft_exit e = rig_run(&r, 10);
	CHECK(e == SOFT_EXIT_ERROR || (e == SOFT_EXIT_EXCEPTION && c->exc_addr == 0xfffffff0),
	      "reset fetch: exit %d addr %#llx", e, (unsigned long long)c->exc_addr);
	rig_fini(&r);

	/* What the BIOS at F000:FFF0 does first: a far jump into the F segment. */
	real_mode(&r, 0xf000, 0xfff0);
	sys(&r)->seg[SOFT_CS].base = 0xf0000; /* as after a far jump to F000 */
	soft_cpu_sys_sync(r.cpu);
	static const uint8_t jmp[] = { 0xea, 0x5b, 0xe0, 0x00, 0xf0 }; /* ljmp $0xf000,$0xe05b */
	rig_code(&r, 0xffff0, jmp, sizeof(jmp));
	r.ram[0xfe05b] = 0xf4;
	e = rig_run(&r, 100);
	CHECK(e == SOFT_EXIT_HALT && r.cpu->rip == 0xe05c && sys(&r)->seg[SOFT_CS].sel == 0xf000 &&
	      r.cpu->cs_base == 0xf0000, "F000 jump: exit %d rip %#llx", e,
	      (unsigned long long)r.cpu->rip);
	rig_fini(&r);
}

static void test_real_mode_addressing(void)
{
	struct rig r;
	real_mode(&r, 0x1000, 0);
	static const uint8_t code[] = {
		0xb8, 0x00, 0x20, 0x8e, 0xd8,       /* mov $0x2000,%ax; mov %ax,%ds */
		0xb8, 0x00, 0x30, 0x8e, 0xd0,       /* mov $0x3000,%ax; mov %ax,%ss */
		0xb8, 0x00, 0x40, 0x8e, 0xc0,       /* mov $0x4000,%ax; mov %ax,%es */
		0xbc, 0x00, 0x02, 0xbd, 0x00, 0x01, /* mov $0x200,%sp; mov $0x100,%bp */
		0xbb, 0x10, 0x00, 0xbe, 0x04, 0x00, /* mov $0x10,%bx; mov $4,%si */
		0x8b, 0x00,                         /* mov (%bx,%si),%ax   DS */
		0x89, 0x46, 0x02,                   /* mov %ax,2(%bp)      SS */
		0x26, 0x8b, 0x0f,                   /* mov %es:(%bx),%cx   ES */
		0x50, 0x5a,                         /* push %ax; pop %dx */
		0x0e, 0x1f,                         /* push %cs; pop %ds */
		0x8b, 0x3e, 0x00, 0x01,             /* mov 0x100,%di */
		0xc4, 0x36, 0x04, 0x01,             /* les 0x104,%si */
		0xf4,
	};
	rig_code(&r, 0x10000, code, sizeof(code));
	put16(&r, 0x20014, 0xbeef);
	put16(&r, 0x40010, 0x1234);
	put16(&r, 0x10100, 0x5a5a);
	put16(&r, 0x10104, 0x0042); /* les: offset 0x42, segment 0x5000 */
	put16(&r, 0x10106, 0x5000);
	struct soft_cpu *c = r.cpu;
	c->gpr[SOFT_RSP] = 0xdead0000; /* SP is 16 bits: the upper half stays */
	enum soft_exit e = rig_run(&r, 100);
	CHECK(e == SOFT_EXIT_HALT, "exit %d vec %u rip %#llx", e, c->exc_vector,
	      (unsigned long long)c->rip);
	CHECK((c->gpr[SOFT_RAX] & 0xffff) == 0xbeef, "ax %#llx", (unsigned long long)c->gpr[0]);
	CHECK(get16(&r, 0x30102) == 0xbeef, "[bp+2] in SS");
	CHECK((c->gpr[SOFT_RCX] & 0xffff) == 0x1234, "es: override");
	CHECK((c->gpr[SOFT_RDX] & 0xffff) == 0xbeef && get16(&r, 0x301fe) == 0x1000,
	      "push/pop through SS:SP (the last push: cs)");
	CHECK(c->gpr[SOFT_RSP] == 0xdead0200, "sp %#llx", (unsigned long long)c->gpr[SOFT_RSP]);
	CHECK(sys(&r)->seg[SOFT_DS].sel == 0x1000 && sys(&r)->seg[SOFT_DS].base == 0x10000,
	      "pop ds");
	CHECK((c->gpr[SOFT_RDI] & 0xffff) == 0x5a5a, "di from DS:0x100");
	CHECK((c->gpr[SOFT_RSI] & 0xffff) == 0x42 && sys(&r)->seg[SOFT_ES].sel == 0x5000 &&
	      sys(&r)->seg[SOFT_ES].base == 0x50000, "les");
	rig_fini(&r);
}

static void test_real_mode_sti_shadow_fetch(void)
{
	struct rig r;
	real_mode(&r, 0x1000, 0);
	/* sti; mov $0x1234,%ax (run alone under the shadow: fetched at CS.base + IP); hlt.
	 * Linear 0x1 (the IVT) holds other bytes. */
	static const uint8_t code[] = { 0xfb, 0xb8, 0x34, 0x12, 0xf4 };
	rig_code(&r, 0x10000, code, sizeof(code));
	enum soft_exit e = rig_run(&r, 100);
	struct soft_cpu *c = r.cpu;
	CHECK(e == SOFT_EXIT_HALT && (c->gpr[SOFT_RAX] & 0xffff) == 0x1234 && c->rip == 5,
	      "exit %d ax %#llx rip %#llx", e, (unsigned long long)c->gpr[SOFT_RAX],
	      (unsigned long long)c->rip);
	rig_fini(&r);
}

static void test_real_mode_strings(void)
{
	struct rig r;
	real_mode(&r, 0x1000, 0);
	static const uint8_t code[] = {
		0xfc, 0xb9, 0x04, 0x00, 0xf3, 0xa4, /* cld; mov $4,%cx; rep movsb */
		0xb9, 0x02, 0x00, 0x64, 0xf3, 0xa4, /* mov $2,%cx; rep movsb %fs:(%si),%es:(%di) */
		0xf4,
	};
	rig_code(&r, 0x10000, code, sizeof(code));
	struct soft_sys *s = sys(&r);
	s->seg[SOFT_DS].sel = 0x2000, s->seg[SOFT_DS].base = 0x20000;
	s->seg[SOFT_ES].sel = 0x3000, s->seg[SOFT_ES].base = 0x30000;
	s->seg[SOFT_FS].sel = 0x4000, s->seg[SOFT_FS].base = 0x40000;
	soft_cpu_sys_sync(r.cpu);
	memcpy(r.ram + 0x20010, "abcd", 4);
	memcpy(r.ram + 0x40014, "XY", 2);
	r.cpu->gpr[SOFT_RSI] = 0x10;
	r.cpu->gpr[SOFT_RDI] = 0x20;
	enum soft_exit e = rig_run(&r, 100);
	CHECK(e == SOFT_EXIT_HALT, "exit %d", e);
	CHECK(memcmp(r.ram + 0x30020, "abcdXY", 6) == 0, "copied %.6s", r.ram + 0x30020);
	CHECK(r.cpu->gpr[SOFT_RSI] == 0x16 && r.cpu->gpr[SOFT_RDI] == 0x26, "si/di");
	rig_fini(&r);
}

static void test_real_mode_limit_and_unreal(void)
{
	struct rig r;
	real_mode(&r, 0x1000, 0);
	static const uint8_t limit[] = { 0xa1, 0xff, 0xff, 0xf4 }; /* mov 0xffff,%ax */
	rig_code(&r, 0x10000, limit, sizeof(limit));
	enum soft_exit e = rig_run(&r, 100);
	expect_fault(&r, e, SOFT_VEC_GP, 0, false, 2, 0, "word at DS:0xffff");
	rig_fini(&r);

	/* Unreal mode: a 4 GiB DS limit cached from protected mode survives real-mode loads. */
	real_mode(&r, 0x1000, 0);
	static const uint8_t unreal[] = {
		0x31, 0xc0, 0x8e, 0xd8,       /* xor %ax,%ax; mov %ax,%ds */
		0x67, 0x66, 0x8b, 0x06, 0xf4, /* mov (%esi),%eax */
	};
	rig_code(&r, 0x10000, unreal, sizeof(unreal));
	sys(&r)->seg[SOFT_DS].limit = 0xffffffff;
	soft_cpu_sys_sync(r.cpu);
	r.cpu->gpr[SOFT_RSI] = 0x200000;
	put32(&r, 0x200000, 0xcafef00d);
	e = rig_run(&r, 100);
	CHECK(e == SOFT_EXIT_HALT && (uint32_t)r.cpu->gpr[SOFT_RAX] == 0xcafef00d,
	      "unreal: exit %d eax %#llx", e, (unsigned long long)r.cpu->gpr[SOFT_RAX]);
	rig_fini(&r);
}

static void test_real_mode_far_call(void)
{
	struct rig r;
	real_mode(&r, 0x1000, 0);
	static const uint8_t call[] = { 0x9a, 0x10, 0x00, 0x00, 0x20, 0xf4 }; /* lcall $0x2000,$0x10 */
	static const uint8_t callee[] = { 0x0e, 0x58, 0xcb }; /* push %cs; pop %ax; lret */
	rig_code(&r, 0x10000, call, sizeof(call));
	rig_code(&r, 0x20010, callee, sizeof(callee));
	r.cpu->gpr[SOFT_RSP] = 0x8000;
	enum soft_exit e = rig_run(&r, 100);
	struct soft_cpu *c = r.cpu;
	CHECK(e == SOFT_EXIT_HALT && c->rip == 6 && c->cs_base == 0x10000, "exit %d rip %#llx", e,
	      (unsigned long long)c->rip);
	CHECK((c->gpr[SOFT_RAX] & 0xffff) == 0x2000, "cs in callee %#llx",
	      (unsigned long long)c->gpr[SOFT_RAX]);
	CHECK(get16(&r, 0x7ffe) == 0x1000 && get16(&r, 0x7ffc) == 5 && c->gpr[SOFT_RSP] == 0x8000,
	      "pushed cs:ip");
	rig_fini(&r);
}

/* The Linux/kvm-unit-tests AP trampoline: SIPI vector 0x10 starts CS=0x1000, IP=0. */
static void test_ap_trampoline(void)
{
	struct rig r;
	real_mode(&r, 0x1000, 0);
	static const uint8_t real[] = {
		0x90,                         /* (cli) */
		0x8c, 0xc8, 0x8e, 0xd8,       /* mov %cs,%ax; mov %ax,%ds */
		0xf4,                         /* (lgdtl gdt_desc) */
		0xf4,                         /* (mov %eax,%cr0 with PE) */
		0x66, 0xea, 0x40, 0x00, 0x01, 0x00, 0x18, 0x00, /* ljmpl $0x18,$0x10040 */
	};
	static const uint8_t prot[] = {
		0x66, 0xb8, 0x10, 0x00,       /* mov $0x10,%ax */
		0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0, /* mov %ax,%ds; %es; %ss */
		0xbc, 0x00, 0x00, 0x09, 0x00, /* mov $0x90000,%esp */
		0x1e, 0x5b,                   /* push %ds; pop %ebx */
		0xf4,                         /* (PAE, CR3, EFER.LME, CR0.PG) */
		0xea, 0x80, 0x00, 0x01, 0x00, 0x08, 0x00, /* ljmp $0x08,$0x10080 */
	};
	static const uint8_t lm[] = {
		0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* movabs */
		0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, /* mov %rax,0x200000 */
		0x50, 0xf4,                   /* push %rax; hlt */
	};
	rig_code(&r, 0x10000, real, sizeof(real));
	rig_code(&r, 0x10040, prot, sizeof(prot));
	rig_code(&r, 0x10080, lm, sizeof(lm));
	rig_put64(&r, 0x10100 + 0x08, 0x00af9b000000ffffULL); /* 64-bit code */
	rig_put64(&r, 0x10100 + 0x10, 0x00cf93000000ffffULL); /* data */
	rig_put64(&r, 0x10100 + 0x18, 0x00cf9a000000ffffULL); /* 32-bit code, not accessed */
	struct soft_cpu *c = r.cpu;
	struct soft_sys *s = sys(&r);

	enum soft_exit e = rig_run(&r, 100);
	CHECK(e == SOFT_EXIT_HALT && c->rip == 6 && s->seg[SOFT_DS].base == 0x10000 &&
	      c->cs_mode == SOFT_CS_REAL16, "stage 1: exit %d rip %#llx", e,
	      (unsigned long long)c->rip);
	s->gdtr.base = 0x10100; /* LGDT */
	s->gdtr.limit = 0x1f;
	e = rig_run(&r, 100);
	CHECK(e == SOFT_EXIT_HALT && c->rip == 7, "stage 2");
	s->cr0 |= SOFT_CR0_PE; /* MOV CR0 */
	soft_cpu_sys_sync(c);
	CHECK(c->cs_mode == SOFT_CS_LEGACY16 && c->cs_base == 0x10000 && s->cpl == 0,
	      "16-bit protected mode: mode %d", c->cs_mode);
	e = rig_run(&r, 100);
	CHECK(e == SOFT_EXIT_HALT && c->cs_mode == SOFT_CS_LEGACY32 && c->rip == 0x10052 &&
	      s->seg[SOFT_CS].sel == 0x18 && c->cs_base == 0, "stage 3: exit %d mode %d rip %#llx",
	      e, c->cs_mode, (unsigned long long)c->rip);
	CHECK(s->seg[SOFT_SS].sel == 0x10 && (s->seg[SOFT_SS].attr & 0xc0ff) == 0xc093 &&
	      s->seg[SOFT_DS].base == 0 && s->seg[SOFT_DS].limit == 0xffffffff, "data segments");
	CHECK((c->gpr[SOFT_RBX] & 0xffff) == 0x10 && c->gpr[SOFT_RSP] == 0x90000, "push/pop ds");
	CHECK(r.ram[0x10100 + 0x18 + 5] == 0x9b && r.ram[0x10100 + 0x10 + 5] == 0x93,
	      "accessed bits %#x", r.ram[0x10100 + 0x18 + 5]);
	/* The long-mode switch as CR4/CR3/WRMSR/CR0 would make it. */
	rig_put64(&r, RIG_PML4, RIG_PDPT | 3);
	rig_put64(&r, RIG_PDPT, RIG_PD | 3);
	for (uint64_t i = 0; i < 512; i++)
		rig_put64(&r, RIG_PD + i * 8, (i << 21) | 0x83);
	s->cr4 |= SOFT_CR4_PAE;
	s->cr3 = RIG_PML4;
	s->efer |= SOFT_EFER_LME | SOFT_EFER_LMA;
	s->cr0 |= SOFT_CR0_PG;
	soft_cpu_sys_sync(c);
	CHECK(c->cs_mode == SOFT_CS_32, "compatibility mode after paging: %d", c->cs_mode);
	e = rig_run(&r, 100);
	CHECK(e == SOFT_EXIT_HALT && c->cs_mode == SOFT_CS_64 && c->rip == 0x10094,
	      "stage 4: exit %d mode %d rip %#llx", e, c->cs_mode, (unsigned long long)c->rip);
	CHECK(get64(&r, 0x200000) == 0x1122334455667788ULL && c->gpr[SOFT_RSP] == 0x8fff8 &&
	      get64(&r, 0x8fff8) == 0x1122334455667788ULL, "64-bit code ran");
	rig_fini(&r);
}

/* kvm-unit-tests' cstart64.S after hardy's Multiboot entry: flat 32-bit protected mode
 * (CS 0x10, data 0x18 as x86_multiboot_cpu_state sets them), its own GDT, segment loads,
 * then the far jump to 64-bit code. */
static void test_multiboot_entry(void)
{
	struct rig r;
	rig_init(&r);
	struct soft_sys *s = sys(&r);
	struct soft_cpu *c = r.cpu;
	s->cr0 = 0x11;
	rig_seg(&s->seg[SOFT_CS], 0x10, 0xc09b);
	for (unsigned i = 0; i < SOFT_NSREG; i++)
		if (i != SOFT_CS)
			rig_seg(&s->seg[i], 0x18, 0xc093);
	c->rip = RIG_CODE;
	soft_cpu_sys_sync(c);
	CHECK(c->cs_mode == SOFT_CS_LEGACY32 && s->cpl == 0, "multiboot state: mode %d",
	      c->cs_mode);
	static const uint8_t code[] = {
		0xbc, 0x00, 0x00, 0x09, 0x00, /* mov $stacktop,%esp */
		0xf4,                         /* (lgdtl gdt64_desc) */
		0x66, 0xb8, 0x10, 0x00,       /* mov $KERNEL_DS,%ax */
		0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xe0, 0x8e, 0xe8, 0x8e, 0xd0, /* ds es fs gs ss */
		0xf4,                         /* (PAE, CR3, EFER, PG) */
		0xea, 0x40, 0x00, 0x10, 0x00, 0x08, 0x00, /* ljmp $KERNEL_CS,$start64 */
	};
	static const uint8_t start64[] = { 0x48, 0x31, 0xc0, 0xf4 }; /* xor %rax,%rax; hlt */
	rig_code(&r, RIG_CODE, code, sizeof(code));
	rig_code(&r, RIG_CODE + 0x40, start64, sizeof(start64));
	c->gpr[SOFT_RAX] = 0x2badb002;
	enum soft_exit e = rig_run(&r, 100);
	CHECK(e == SOFT_EXIT_HALT && c->gpr[SOFT_RSP] == 0x90000, "stage 1: exit %d", e);
	rig_long_mode(&r); /* its GDT (0x08 code64, 0x10 data), page tables, CR/EFER */
	rig_seg(&s->seg[SOFT_CS], 0x10, 0xc09b); /* ... but still in the old 32-bit CS */
	for (unsigned i = 0; i < SOFT_NSREG; i++)
		if (i != SOFT_CS)
			rig_seg(&s->seg[i], 0x18, 0xc093);
	c->rip = RIG_CODE + 6;
	c->gpr[SOFT_RSP] = 0x90000;
	soft_cpu_sys_sync(c);
	e = rig_run(&r, 100);
	CHECK(e == SOFT_EXIT_HALT && c->cs_mode == SOFT_CS_32 && s->seg[SOFT_FS].sel == 0x10 &&
	      c->fs_base == 0 && s->seg[SOFT_SS].sel == 0x10, "stage 2: exit %d mode %d", e,
	      c->cs_mode);
	e = rig_run(&r, 100);
	CHECK(e == SOFT_EXIT_HALT && c->cs_mode == SOFT_CS_64 && c->rip == RIG_CODE + 0x44 &&
	      c->gpr[SOFT_RAX] == 0, "64-bit: exit %d mode %d rip %#llx", e, c->cs_mode,
	      (unsigned long long)c->rip);
	rig_fini(&r);
}

static void test_prot32_far_call_and_checks(void)
{
	struct rig r;
	prot32(&r);
	static const uint8_t code[] = {
		0x9a, 0x40, 0x00, 0x10, 0x00, 0x18, 0x00, /* lcall $0x18,$0x100040 */
		0x89, 0xe7,                   /* mov %esp,%edi */
		/* the call's frame, before the #NP's frame overwrites it */
		0x8b, 0x5c, 0x24, 0xf8,       /* mov -8(%esp),%ebx */
		0x8b, 0x54, 0x24, 0xfc,       /* mov -4(%esp),%edx */
		0x66, 0xb9, 0x38, 0x00, 0x8e, 0xd9, /* mov $0x38,%cx; mov %cx,%ds: #NP(0x38) */
		0xf4,
	};
	static const uint8_t callee[] = { 0x8c, 0xc8, 0xcb }; /* mov %cs,%eax; lret */
	rig_code(&r, RIG_CODE, code, sizeof(code));
	rig_code(&r, RIG_CODE + 0x40, callee, sizeof(callee));
	struct soft_cpu *c = r.cpu;
	enum soft_exit e = rig_run(&r, 100);
	CHECK((c->gpr[SOFT_RAX] & 0xffff) == 0x18 && c->gpr[SOFT_RDI] == RIG_STACK &&
	      c->gpr[SOFT_RBX] == RIG_CODE + 7 && (c->gpr[SOFT_RDX] & 0xffff) == 0x18,
	      "far call/ret: eax %#llx edi %#llx ret %#llx:%#llx",
	      (unsigned long long)c->gpr[SOFT_RAX], (unsigned long long)c->gpr[SOFT_RDI],
	      (unsigned long long)c->gpr[SOFT_RDX], (unsigned long long)c->gpr[SOFT_RBX]);
	expect_fault(&r, e, SOFT_VEC_NP, 0x38, true, 4, RIG_CODE + 21, "not-present DS");
	rig_fini(&r);

	prot32(&r);
	static const uint8_t past[] = { 0x66, 0xb8, 0x40, 0x00, 0x8e, 0xd8, 0xf4 };
	rig_code(&r, RIG_CODE, past, sizeof(past));
	e = rig_run(&r, 100);
	expect_fault(&r, e, SOFT_VEC_GP, 0x40, true, 4, RIG_CODE + 4, "DS past the GDT limit");
	rig_fini(&r);

	prot32(&r);
	static const uint8_t nullss[] = { 0x31, 0xc0, 0x8e, 0xd0, 0xf4 };
	rig_code(&r, RIG_CODE, nullss, sizeof(nullss));
	e = rig_run(&r, 100);
	expect_fault(&r, e, SOFT_VEC_GP, 0, true, 4, RIG_CODE + 2, "null SS");
	rig_fini(&r);

	/* SS = a user (DPL 3) data segment at CPL 0 */
	prot32(&r);
	static const uint8_t userss[] = { 0x66, 0xb8, 0x23, 0x00, 0x8e, 0xd0, 0xf4 };
	rig_code(&r, RIG_CODE, userss, sizeof(userss));
	e = rig_run(&r, 100);
	expect_fault(&r, e, SOFT_VEC_GP, 0x20, true, 4, RIG_CODE + 4, "SS with RPL/DPL 3");
	rig_fini(&r);

	/* DS = null is fine (unusable), and an access through it faults */
	prot32(&r);
	static const uint8_t nullds[] = { 0x31, 0xc0, 0x8e, 0xd8, 0x8b, 0x03, 0xf4 };
	rig_code(&r, RIG_CODE, nullds, sizeof(nullds));
	e = rig_run(&r, 100);
	CHECK(sys(&r)->seg[SOFT_DS].attr & SOFT_SEG_ATTR_UNUSABLE, "null DS unusable");
	expect_fault(&r, e, SOFT_VEC_GP, 0, true, 4, RIG_CODE + 4, "access through null DS");
	rig_fini(&r);

	/* MOV SS sets the interrupt shadow; LDS loads a far pointer */
	prot32(&r);
	static const uint8_t movss[] = {
		0x66, 0xb8, 0x10, 0x00, 0x8e, 0xd0, 0xf4, /* mov $0x10,%ax; mov %ax,%ss */
		0xc5, 0x35, 0x00, 0x00, 0x30, 0x00, 0xf4, /* lds 0x300000,%esi */
	};
	rig_code(&r, RIG_CODE, movss, sizeof(movss));
	put32(&r, 0x300000, 0xabcdef01);
	put16(&r, 0x300004, 0x20);
	e = rig_run(&r, 100);
	CHECK(e == SOFT_EXIT_HALT && sys(&r)->shadow != 0, "mov ss: shadow %u", sys(&r)->shadow);
	e = rig_run(&r, 100);
	CHECK(e == SOFT_EXIT_HALT && (uint32_t)r.cpu->gpr[SOFT_RSI] == 0xabcdef01 &&
	      sys(&r)->seg[SOFT_DS].sel == 0x20, "lds: esi %#llx ds %#x",
	      (unsigned long long)r.cpu->gpr[SOFT_RSI], sys(&r)->seg[SOFT_DS].sel);
	rig_fini(&r);
}

/* 64-bit -> compatibility mode (lretq) -> 64-bit (ljmp), and JMP m16:32/m16:64. */
static void test_long_mode_switches(void)
{
	struct rig r;
	long64(&r);
	static const uint8_t code[] = {
		0x6a, 0x18, 0x68, 0xa0, 0x00, 0x10, 0x00, /* push $0x18; push $0x1000a0 */
		0x48, 0xcb,                               /* lretq */
	};
	static const uint8_t c32[] = {
		0xb8, 0x34, 0x12, 0x00, 0x00, 0x50,       /* mov $0x1234,%eax; push %eax */
		0xea, 0xc0, 0x00, 0x10, 0x00, 0x08, 0x00, /* ljmp $0x08,$0x1000c0 */
	};
	static const uint8_t back[] = { 0xbb, 0x78, 0x56, 0x00, 0x00, 0xf4 };
	rig_code(&r, RIG_CODE, code, sizeof(code));
	rig_code(&r, RIG_CODE + 0xa0, c32, sizeof(c32));
	rig_code(&r, RIG_CODE + 0xc0, back, sizeof(back));
	struct soft_cpu *c = r.cpu;
	enum soft_exit e = rig_run(&r, 100);
	CHECK(e == SOFT_EXIT_HALT && c->cs_mode == SOFT_CS_64 && c->gpr[SOFT_RBX] == 0x5678 &&
	      c->gpr[SOFT_RAX] == 0x1234 && c->gpr[SOFT_RSP] == RIG_STACK - 4 &&
	      get32(&r, RIG_STACK - 4) == 0x1234, "exit %d mode %d rsp %#llx", e, c->cs_mode,
	      (unsigned long long)c->gpr[SOFT_RSP]);
	rig_fini(&r);

	long64(&r);
	static const uint8_t ind[] = {
		0xff, 0x2c, 0x25, 0x00, 0x00, 0x30, 0x00, /* ljmp *0x300000 (m16:32) */
	};
	static const uint8_t ind64[] = {
		0x48, 0xff, 0x2c, 0x25, 0x10, 0x00, 0x30, 0x00, /* rex.w ljmp *0x300010 */
	};
	rig_code(&r, RIG_CODE, ind, sizeof(ind));
	rig_code(&r, RIG_CODE + 0x20, ind64, sizeof(ind64)); /* 32-bit code: dec eax; ljmp */
	r.ram[RIG_CODE + 0x40] = 0xf4;
	put32(&r, 0x300000, RIG_CODE + 0x20);
	put16(&r, 0x300004, 0x18);
	rig_put64(&r, 0x300010, RIG_CODE + 0x40);
	put16(&r, 0x300018, 0x08);
	e = rig_run(&r, 100);
	/* In 32-bit code 48h is DEC EAX and the jump is m16:32: back at offset 0x300010's
	 * low half with the selector from 0x300014 (0), which faults #GP(0). */
	expect_fault(&r, e, SOFT_VEC_GP, 0, true, 8, RIG_CODE + 0x21, "ljmp m16:32 from compat");
	CHECK(r.cpu->cs_mode == SOFT_CS_32 || e == SOFT_EXIT_HALT, "in compat mode");
	rig_fini(&r);

	long64(&r);
	rig_code(&r, RIG_CODE, ind64, sizeof(ind64));
	r.ram[RIG_CODE + 0x40] = 0xf4;
	rig_put64(&r, 0x300010, RIG_CODE + 0x40);
	put16(&r, 0x300018, 0x08);
	e = rig_run(&r, 100);
	CHECK(e == SOFT_EXIT_HALT && r.cpu->rip == RIG_CODE + 0x41 && r.cpu->cs_mode == SOFT_CS_64,
	      "ljmp m16:64: exit %d rip %#llx", e, (unsigned long long)r.cpu->rip);
	rig_fini(&r);

	/* Non-conforming code of another privilege: #GP(sel) */
	long64(&r);
	static const uint8_t touser[] = { 0xff, 0x2c, 0x25, 0x00, 0x00, 0x30, 0x00 };
	rig_code(&r, RIG_CODE, touser, sizeof(touser));
	put32(&r, 0x300000, RIG_CODE);
	put16(&r, 0x300004, 0x2b);
	e = rig_run(&r, 100);
	expect_fault(&r, e, SOFT_VEC_GP, 0x28, true, 8, RIG_CODE, "jmp to DPL 3 code");
	rig_fini(&r);
}

/* The user-mode CPU's i386 mode: Linux's selectors, and a far jump to 64-bit code. */
static uint8_t *user_page;
static int user_translate(void *ctx, uint64_t va, unsigned access, uint8_t **host)
{
	(void)ctx; (void)access;
	if ((va & ~0xfffULL) != (uintptr_t)user_page)
		return -1;
	*host = user_page;
	return 0;
}

static void test_user_mode_segments(void)
{
	static const struct soft_mem_ops ops = { user_translate };
	user_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
			 -1, 0);
	CHECK(user_page != MAP_FAILED, "mmap");
	struct soft_cpu *c = soft_cpu_create(&ops, NULL);
	uint32_t base = (uint32_t)(uintptr_t)user_page;
	uint8_t code[] = {
		0x1e, 0x58,                   /* push %ds; pop %eax */
		0x0e, 0x5b,                   /* push %cs; pop %ebx */
		0xea, 0, 0, 0, 0, 0x33, 0x00, /* ljmp $0x33,$base+0x40 */
	};
	uint32_t t = base + 0x40;
	memcpy(code + 5, &t, 4);
	memcpy(user_page, code, sizeof(code));
	user_page[0x40] = 0xf4;
	soft_cpu_set_cs_mode(c, SOFT_CS_32);
	c->rip = base;
	c->gpr[SOFT_RSP] = base + 0x800;
	enum soft_exit e = soft_cpu_run(c, 100);
	CHECK(e == SOFT_EXIT_HALT && c->cs_mode == SOFT_CS_64 && c->rip == base + 0x41,
	      "user ljmp: exit %d mode %d", e, c->cs_mode);
	CHECK(c->gpr[SOFT_RAX] == 0x2b && c->gpr[SOFT_RBX] == 0x23, "user selectors %#llx %#llx",
	      (unsigned long long)c->gpr[SOFT_RAX], (unsigned long long)c->gpr[SOFT_RBX]);
	soft_cpu_destroy(c);
	munmap(user_page, 4096);
}

int main(void)
{
	static const bool jit[] = { false, true };
	for (unsigned i = 0; i < 2; i++) {
		setenv("HARDY_SOFT_JIT", jit[i] ? "1" : "0", 1);
		test_reset_vector();
		test_real_mode_addressing();
		test_real_mode_sti_shadow_fetch();
		test_real_mode_strings();
		test_real_mode_limit_and_unreal();
		test_real_mode_far_call();
		test_ap_trampoline();
		test_multiboot_entry();
		test_prot32_far_call_and_checks();
		test_long_mode_switches();
		test_user_mode_segments();
	}
	printf("soft_seg: ok\n");
	return 0;
}
