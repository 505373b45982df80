/* A bare machine for the system CPU's unit tests: RAM at guest-physical 0, an MMIO log, port
 * I/O (a write to port 0xf4 ends the test, as the debug-exit device does), no interrupts unless
 * a test sets pending_vector. Helpers build flat long-mode state: identity page tables for the
 * first 1 GiB (2 MiB pages), a GDT with 64-bit code/data and 32-bit code, and copy code in. */
#ifndef HARDY_TEST_SOFT_SYS_RIG_H
#define HARDY_TEST_SOFT_SYS_RIG_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accel/soft/soft_cpu.h"

#define RIG_RAM_SIZE (32u << 20)
#define RIG_PML4 0x1000u
#define RIG_PDPT 0x2000u
#define RIG_PD 0x3000u
#define RIG_GDT 0x5000u
#define RIG_IDT 0x6000u
#define RIG_CODE 0x100000u
#define RIG_STACK 0x80000u

struct rig {
	uint8_t *ram;
	struct soft_cpu *cpu;
	struct soft_vm_code *vc;
	int exit_code;           /* value written to port 0xf4, -1 none */
	unsigned mmio_count;
	uint64_t mmio_last_gpa, mmio_last_val;
	bool mmio_last_write;
	uint64_t mmio_read_value; /* what MMIO reads return */
	int pending_vector;       /* intr_ack's answer, then -1 */
	uint64_t tsc;
};

static inline uint8_t *rig_ram_page(void *ctx, uint64_t gpa)
{
	struct rig *r = ctx;
	return gpa < RIG_RAM_SIZE ? r->ram + gpa : NULL;
}

static inline void rig_mmio(void *ctx, uint64_t gpa, bool is_write, uint8_t *data, unsigned len)
{
	struct rig *r = ctx;
	r->mmio_count++;
	r->mmio_last_gpa = gpa;
	r->mmio_last_write = is_write;
	if (is_write) {
		r->mmio_last_val = 0;
		memcpy(&r->mmio_last_val, data, len);
	} else {
		memcpy(data, &r->mmio_read_value, len);
	}
}

static inline void rig_pio(void *ctx, uint16_t port, bool is_write, uint8_t *data, unsigned len)
{
	struct rig *r = ctx;
	if (is_write && port == 0xf4) {
		r->exit_code = data[0];
		soft_cpu_kick(r->cpu);
	} else if (!is_write) {
		memset(data, 0xff, len);
	}
}

static inline bool rig_msr(void *ctx, uint32_t index, bool is_write, uint64_t *value)
{
	(void)ctx; (void)index; (void)is_write; (void)value;
	return false;
}

static inline int rig_intr_ack(void *ctx)
{
	struct rig *r = ctx;
	int v = r->pending_vector;
	r->pending_vector = -1;
	return v;
}

static inline uint64_t rig_tsc(void *ctx)
{
	struct rig *r = ctx;
	return r->tsc += 1000;
}

static const struct soft_sys_ops rig_ops = {
	.ram_page = rig_ram_page, .mmio = rig_mmio, .pio = rig_pio, .msr = rig_msr,
	.intr_ack = rig_intr_ack, .tsc = rig_tsc,
};

static inline int rig_translate_unused(void *ctx, uint64_t v, unsigned a, uint8_t **h)
{
	(void)ctx; (void)v; (void)a; (void)h;
	return -1;
}
static const struct soft_mem_ops rig_mem_unused = { rig_translate_unused };

/* A CPU in its power-on state (real mode) over fresh RAM. */
static inline void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->ram = calloc(1, RIG_RAM_SIZE);
	r->vc = soft_vm_code_create(RIG_RAM_SIZE);
	r->cpu = soft_cpu_create(&rig_mem_unused, NULL);
	if (!r->ram || !r->vc || !r->cpu) {
		fprintf(stderr, "rig: out of memory\n");
		exit(1);
	}
	r->exit_code = -1;
	r->pending_vector = -1;
	soft_cpu_enable_system(r->cpu, &rig_ops, r, r->vc, 0);
}

static inline void rig_fini(struct rig *r)
{
	soft_cpu_destroy(r->cpu);
	soft_vm_code_destroy(r->vc);
	free(r->ram);
}

static inline void rig_put64(struct rig *r, uint64_t gpa, uint64_t v)
{
	memcpy(r->ram + gpa, &v, 8);
}

static inline void rig_seg(struct soft_seg *s, uint16_t sel, uint32_t attr)
{
	s->base = 0;
	s->limit = 0xffffffff;
	s->sel = sel;
	s->attr = attr;
}

/* Flat 64-bit kernel state: paging on, identity map of 1 GiB, GDT 0x08 code64, 0x10 data,
 * 0x18 code32, 0x23 user data, 0x2b user code64; code at RIG_CODE, rsp at RIG_STACK. */
static inline void rig_long_mode(struct rig *r)
{
	rig_put64(r, RIG_PML4, RIG_PDPT | 7);
	rig_put64(r, RIG_PDPT, RIG_PD | 7);
	for (uint64_t i = 0; i < 512; i++)
		rig_put64(r, RIG_PD + i * 8, (i << 21) | 0x87); /* P RW US PS */
	rig_put64(r, RIG_GDT + 0x08, 0x00af9b000000ffffULL);
	rig_put64(r, RIG_GDT + 0x10, 0x00cf93000000ffffULL);
	rig_put64(r, RIG_GDT + 0x18, 0x00cf9b000000ffffULL);
	rig_put64(r, RIG_GDT + 0x20, 0x00cff3000000ffffULL);
	rig_put64(r, RIG_GDT + 0x28, 0x00affb000000ffffULL);
	struct soft_sys *s = &r->cpu->sys;
	s->cr0 = 0x80050033; /* PG WP NE ET MP PE */
	s->cr3 = RIG_PML4;
	s->cr4 = 0x6a0;      /* PAE PGE OSFXSR OSXMMEXCPT */
	s->efer = 0xd01;     /* SCE LME LMA NXE */
	s->gdtr.base = RIG_GDT;
	s->gdtr.limit = 0x2f;
	s->idtr.base = RIG_IDT;
	s->idtr.limit = 0xfff;
	rig_seg(&s->seg[SOFT_CS], 0x08, 0xa09b);
	for (unsigned i = 0; i < SOFT_NSREG; i++)
		if (i != SOFT_CS)
			rig_seg(&s->seg[i], 0x10, 0xc093);
	s->tr.attr = 0x8b;
	s->tr.limit = 0x67;
	r->cpu->rip = RIG_CODE;
	r->cpu->gpr[SOFT_RSP] = RIG_STACK;
	soft_cpu_set_rflags(r->cpu, 2);
	soft_cpu_sys_sync(r->cpu);
}

/* An interrupt gate for vector at handler (64-bit IDT). */
static inline void rig_idt_gate(struct rig *r, unsigned vector, uint64_t handler, unsigned ist)
{
	uint64_t lo = (handler & 0xffff) | (0x08ULL << 16) | ((uint64_t)ist << 32) |
		      (0x8eULL << 40) | ((handler >> 16 & 0xffff) << 48);
	rig_put64(r, RIG_IDT + vector * 16, lo);
	rig_put64(r, RIG_IDT + vector * 16 + 8, handler >> 32);
}

static inline void rig_code(struct rig *r, uint64_t gpa, const void *bytes, size_t n)
{
	memcpy(r->ram + gpa, bytes, n);
}

/* Run until the test writes port 0xf4, the CPU stops, or budget instructions pass. */
static inline enum soft_exit rig_run(struct rig *r, int64_t budget)
{
	enum soft_exit e;
	do {
		e = soft_cpu_run(r->cpu, budget < 100000 ? budget : 100000);
		budget -= 100000;
	} while (e == SOFT_EXIT_BUDGET && r->exit_code < 0 && budget > 0);
	return e;
}

#endif
