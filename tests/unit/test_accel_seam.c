/* The CPU backend seam both ways, without KVM: a fake backend "runs" a scripted guest (port I/O
 * to the serial port, an MMIO read, then an ACPI power-off or an i8042 reset) through the real
 * vm_create_on/vm_start/vm_pause/vm_resume/vm_wait and the real machine. Checks that the bytes
 * reach the console file, that reads come back from the devices, the exit status, that kick,
 * thread init, resume and destroy reach the backend's ops, that the boot vCPU's registers go
 * through get_regs/set_regs with the boot protocol's values, that interrupt lines go to the
 * backend's controllers or to the machine's user-space ones as its capabilities say, and the
 * backend table's answers (--accel soft, too many vCPUs). */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "arch/x86/layout.h"
#include "arch/x86/msr.h"
#include "check.h"
#include "core/event_loop.h"
#include "fake_kernel.h"
#include "vm/vm.h"

#define FAKE_MAX_VCPUS 2
#define FAKE_STAR 0x0023001000000000ULL /* an MSR value the boot setup must carry through */
#define FAKE_APIC_BASE 0xFEE00900ULL
#define WAIT_MS 10000

enum step_kind {
	STEP_OUT,     /* port write of size bytes of value */
	STEP_IN,      /* port read; the value read is recorded */
	STEP_MMIO_RD, /* MMIO read of size bytes at addr; recorded */
	STEP_WAIT,    /* blocks until kicked, then returns INTR and goes on */
	STEP_PARK,    /* like WAIT, but stays on this step (an idle AP) */
	STEP_MMIO_WR, /* MMIO write of size bytes of value at addr */
	STEP_LAPIC_WR, /* a write of value to the vCPU's LAPIC register at offset addr */
	STEP_ACK,     /* waits for an INTR signal, then intr_ack; the vector is recorded */
};

struct step {
	enum step_kind kind;
	uint64_t addr;
	uint8_t size;
	uint32_t value;
};

struct fake_vm {
	const struct guest_mem *mem;
	unsigned nr_vcpus;
	bool created, destroyed;
	_Atomic int irq_calls;
	_Atomic int irq_level[32];
};

struct fake_vcpu {
	struct fake_vm *vm;
	unsigned index;
	bool created, destroyed;
	const struct step *script;
	unsigned nsteps, pc;
	uint8_t data[8];
	bool read_pending;     /* the last exit was a read: its data is recorded on re-entry */
	uint32_t reads[8];
	unsigned nreads;
	struct x86_cpu_state regs;
	int get_calls, set_calls;
	_Atomic int kicks, resumed, thread_inits;
	struct accel_lapic lapic; /* from vcpu_set_lapic (backends without an irqchip) */
	int set_lapic_calls;
	_Atomic int intr_signals, other_signals;
	_Atomic bool kicked, waiting;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static struct fake_vm fake_vm;
static struct fake_vcpu fake_vcpus[FAKE_MAX_VCPUS];
static struct accel_caps fake_caps;
static const struct step *fake_scripts[FAKE_MAX_VCPUS];
static unsigned fake_script_len[FAKE_MAX_VCPUS];

static int fake_probe(struct accel_caps *caps, struct error *err)
{
	*caps = fake_caps;
	return 0;
}

static struct accel_vm *fake_vm_create(const struct accel_vm_params *p, struct error *err)
{
	CHECK(!fake_vm.created, "one VM at a time");
	fake_vm.created = true;
	fake_vm.mem = p->mem;
	fake_vm.nr_vcpus = p->nr_vcpus;
	return (struct accel_vm *)&fake_vm;
}

static void fake_vm_destroy(struct accel_vm *v)
{
	((struct fake_vm *)v)->destroyed = true;
}

/* A reset state as a CPU has it: real mode at the reset vector, with MSRs and an APIC base. */
static struct accel_vcpu *fake_vcpu_create(struct accel_vm *v, unsigned index, struct error *err)
{
	CHECK(index < FAKE_MAX_VCPUS, "vCPU index %u", index);
	struct fake_vcpu *f = &fake_vcpus[index];
	f->vm = (struct fake_vm *)v;
	f->index = index;
	f->created = true;
	f->script = fake_scripts[index];
	f->nsteps = fake_script_len[index];
	f->regs.rip = 0xFFF0;
	f->regs.cs = (struct x86_segment){ .base = 0xFFFF0000, .limit = 0xFFFF,
					   .selector = 0xF000, .type = 0xB, .present = true,
					   .s = true };
	f->regs.cr0 = 0x60000010; /* CD, NW, ET */
	f->regs.gpr[X86_RDX] = 0x600;
	f->regs.gpr[X86_R15] = 0xDEAD;
	f->regs.rflags = 0x2;
	f->regs.apic_base = FAKE_APIC_BASE;
	x86_state_set_msr(&f->regs, MSR_STAR, FAKE_STAR);
	f->regs.mp_state = index ? X86_MP_WAIT_SIPI : X86_MP_RUNNABLE;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	return (struct accel_vcpu *)f;
}

static void fake_vcpu_destroy(struct accel_vcpu *v)
{
	struct fake_vcpu *f = (struct fake_vcpu *)v;
	f->destroyed = true;
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
}

static int fake_get_regs(struct accel_vcpu *v, struct x86_cpu_state *s, struct error *err)
{
	struct fake_vcpu *f = (struct fake_vcpu *)v;
	f->get_calls++;
	*s = f->regs;
	return 0;
}

static int fake_set_regs(struct accel_vcpu *v, const struct x86_cpu_state *s, struct error *err)
{
	struct fake_vcpu *f = (struct fake_vcpu *)v;
	f->set_calls++;
	f->regs = *s;
	return 0;
}

static int fake_thread_init(struct accel_vcpu *v, struct error *err)
{
	struct fake_vcpu *f = (struct fake_vcpu *)v;
	f->thread = pthread_self();
	atomic_fetch_add(&f->thread_inits, 1);
	return 0;
}

static void fake_kick(struct accel_vcpu *v)
{
	struct fake_vcpu *f = (struct fake_vcpu *)v;
	pthread_mutex_lock(&f->lock);
	atomic_fetch_add(&f->kicks, 1);
	atomic_store(&f->kicked, true);
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

static int fake_set_lapic(struct accel_vcpu *v, const struct accel_lapic *lapic,
			  struct error *err)
{
	struct fake_vcpu *f = (struct fake_vcpu *)v;
	f->lapic = *lapic;
	f->set_lapic_calls++;
	return 0;
}

/* A LAPIC's signal: counted, and a waiting STEP_ACK wakes up. */
static void fake_signal(struct accel_vcpu *v, enum accel_signal sig, uint8_t vector)
{
	struct fake_vcpu *f = (struct fake_vcpu *)v;
	pthread_mutex_lock(&f->lock);
	if (sig == ACCEL_SIGNAL_INTR)
		atomic_fetch_add(&f->intr_signals, 1);
	else
		atomic_fetch_add(&f->other_signals, 1);
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

/* The CPU's side of an interrupt: wait for INTR, acknowledge; -1 after WAIT_MS without one. */
static int fake_take_intr(struct fake_vcpu *f)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += WAIT_MS / 1000;
	int seen = 0;
	for (;;) {
		pthread_mutex_lock(&f->lock);
		int rc = 0;
		while (atomic_load(&f->intr_signals) == seen && rc == 0)
			rc = pthread_cond_timedwait(&f->cond, &f->lock, &until);
		seen = atomic_load(&f->intr_signals);
		pthread_mutex_unlock(&f->lock);
		int v = f->lapic.intr_ack(f->lapic.ctx);
		if (v >= 0 || rc != 0)
			return v;
	}
}

static void fake_resumed(struct accel_vcpu *v)
{
	atomic_fetch_add(&((struct fake_vcpu *)v)->resumed, 1);
}

/* Blocks until kicked (the guest "runs" meanwhile); false after WAIT_MS without a kick. */
static bool fake_wait_kick(struct fake_vcpu *f)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += WAIT_MS / 1000;
	bool got = true;
	pthread_mutex_lock(&f->lock);
	atomic_store(&f->waiting, true);
	while (!atomic_load(&f->kicked) && got)
		got = pthread_cond_timedwait(&f->cond, &f->lock, &until) == 0 ||
		      atomic_load(&f->kicked);
	atomic_store(&f->kicked, false);
	atomic_store(&f->waiting, false);
	pthread_mutex_unlock(&f->lock);
	return got;
}

static int fake_run(struct accel_vcpu *v, struct vcpu_exit *e)
{
	struct fake_vcpu *f = (struct fake_vcpu *)v;
	CHECK(pthread_equal(f->thread, pthread_self()), "vcpu_run on the thread that was inited");
	if (f->read_pending) {
		uint32_t val = 0;
		memcpy(&val, f->data, 4);
		f->reads[f->nreads++] = val;
		f->read_pending = false;
	}
	if (atomic_exchange(&f->kicked, false)) {
		e->kind = VCPU_EXIT_INTR;
		return 0;
	}
	if (f->pc >= f->nsteps) {
		e->kind = VCPU_EXIT_ERROR;
		e->error = "the fake guest ran off the end of its script";
		return 0;
	}
	const struct step *s = &f->script[f->pc];
	memset(f->data, 0, sizeof(f->data));
	switch (s->kind) {
	case STEP_OUT:
	case STEP_IN:
		e->kind = VCPU_EXIT_PIO;
		e->pio.port = (uint16_t)s->addr;
		e->pio.size = s->size;
		e->pio.is_write = s->kind == STEP_OUT;
		e->pio.count = 1;
		e->pio.data = f->data;
		memcpy(f->data, &s->value, s->size);
		f->read_pending = s->kind == STEP_IN;
		f->pc++;
		return 0;
	case STEP_MMIO_RD:
		e->kind = VCPU_EXIT_MMIO;
		e->mmio.addr = s->addr;
		e->mmio.len = s->size;
		e->mmio.is_write = false;
		e->mmio.data = f->data;
		f->read_pending = true;
		f->pc++;
		return 0;
	case STEP_MMIO_WR:
		e->kind = VCPU_EXIT_MMIO;
		e->mmio.addr = s->addr;
		e->mmio.len = s->size;
		e->mmio.is_write = true;
		e->mmio.data = f->data;
		memcpy(f->data, &s->value, s->size);
		f->pc++;
		return 0;
	case STEP_LAPIC_WR:
		memcpy(f->data, &s->value, 4);
		f->lapic.mmio(f->lapic.ctx, (uint32_t)s->addr, true, f->data, 4);
		f->pc++;
		e->kind = VCPU_EXIT_INTR;
		return 0;
	case STEP_ACK:
		f->reads[f->nreads++] = (uint32_t)fake_take_intr(f);
		f->pc++;
		e->kind = VCPU_EXIT_INTR;
		return 0;
	case STEP_WAIT:
	case STEP_PARK:
		if (!fake_wait_kick(f)) {
			e->kind = VCPU_EXIT_ERROR;
			e->error = "the fake guest was never kicked";
			return 0;
		}
		if (s->kind == STEP_WAIT)
			f->pc++;
		e->kind = VCPU_EXIT_INTR;
		return 0;
	}
	return -1;
}

static int fake_irq_line(struct accel_vm *v, unsigned gsi, int level)
{
	struct fake_vm *m = (struct fake_vm *)v;
	atomic_fetch_add(&m->irq_calls, 1);
	if (gsi < 32)
		atomic_store(&m->irq_level[gsi], level);
	return 0;
}

static int fake_irq_msi(struct accel_vm *v, uint64_t addr, uint32_t data)
{
	return 0;
}

static const struct accel_ops fake_ops = {
	.name = "fake",
	.probe = fake_probe,
	.vm_create = fake_vm_create,
	.vm_destroy = fake_vm_destroy,
	.vcpu_create = fake_vcpu_create,
	.vcpu_destroy = fake_vcpu_destroy,
	.get_regs = fake_get_regs,
	.set_regs = fake_set_regs,
	.vcpu_thread_init = fake_thread_init,
	.vcpu_run = fake_run,
	.vcpu_kick = fake_kick,
	.vcpu_resumed = fake_resumed,
	.irq_line = fake_irq_line,
	.irq_msi = fake_irq_msi,
	.vcpu_set_lapic = fake_set_lapic,
	.vcpu_signal = fake_signal,
};

#define OUT8(port, v) { STEP_OUT, (port), 1, (v) }
#define ENABLE_THRE_IRQ \
	OUT8(X86_COM1_PORT + 4, 0x08), /* MCR: OUT2, which gates COM1's line */ \
	OUT8(X86_COM1_PORT + 1, 0x02)  /* IER: THR empty -> IRQ 4 rises at once */
#define HELLO \
	OUT8(X86_COM1_PORT, 'h'), OUT8(X86_COM1_PORT, 'e'), OUT8(X86_COM1_PORT, 'l'), \
	OUT8(X86_COM1_PORT, 'l'), OUT8(X86_COM1_PORT, 'o'), OUT8(X86_COM1_PORT, '\n')

/* The boot vCPU: serial output, an LSR read, a read in the MMIO hole where nothing lives,
 * a pause point, then S5 through PM1a_CNT. */
static const struct step script_poweroff[] = {
	ENABLE_THRE_IRQ,
	HELLO,
	{ STEP_IN, X86_COM1_PORT + 5, 1, 0 },
	{ STEP_MMIO_RD, 0xFE000000ULL, 4, 0 },
	{ STEP_WAIT, 0, 0, 0 },
	{ STEP_OUT, X86_ACPI_PM1A_CNT, 2, (X86_ACPI_S5_TYP << 10) | (1u << 13) },
};
static const struct step script_ap[] = { { STEP_PARK, 0, 0, 0 } };
#define IOAPIC_RTE(pin, lo) \
	{ STEP_MMIO_WR, X86_IOAPIC_GPA, 4, 0x10 + 2 * (pin) }, \
	{ STEP_MMIO_WR, X86_IOAPIC_GPA + 0x10, 4, (lo) }
/* Without an irqchip: the machine's LAPIC, IOAPIC and PIT. The 8259 masked, the LAPIC
 * enabled, the PIT's one-shot (1 ms) through IOAPIC pin 2 as vector 0x50, then COM1's THR-empty
 * interrupt through pin 4 as vector 0x44, each taken with intr_ack; then the i8042 reset. */
static const struct step script_reset[] = {
	OUT8(0x21, 0xFF), OUT8(0xA1, 0xFF),
	{ STEP_LAPIC_WR, 0xF0, 4, 0x1FF },
	IOAPIC_RTE(2, 0x50),
	OUT8(0x43, 0x30), OUT8(0x40, 0xA9), OUT8(0x40, 0x04), /* mode 0, count 1193 */
	{ STEP_ACK, 0, 0, 0 },
	{ STEP_LAPIC_WR, 0xB0, 4, 0 },
	IOAPIC_RTE(4, 0x44),
	ENABLE_THRE_IRQ,
	{ STEP_ACK, 0, 0, 0 },
	{ STEP_LAPIC_WR, 0xB0, 4, 0 },
	HELLO,
	OUT8(X86_I8042_CMD, 0xFE), /* pulse the reset line */
};

static void fake_reset(struct accel_caps caps)
{
	memset(&fake_vm, 0, sizeof(fake_vm));
	memset(fake_vcpus, 0, sizeof(fake_vcpus));
	fake_caps = caps;
}

static void make_config(struct vm_config *cfg, const char *kernel, const char *console,
			unsigned ncpus)
{
	struct error err = { 0 };
	CHECK(vm_config_defaults(cfg, &err) == 0, "%s", err.msg);
	CHECK(vm_config_set_str(&cfg->kernel_path, kernel, &err) == 0, "%s", err.msg);
	CHECK(vm_config_set_str(&cfg->console_path, console, &err) == 0, "%s", err.msg);
	cfg->console = CONSOLE_FILE;
	cfg->mem_size = GMEM_MIN_SIZE;
	cfg->ncpus = ncpus;
	cfg->rng = false;
}

static void check_console(const char *path, const char *want)
{
	char buf[64] = { 0 };
	FILE *f = fopen(path, "r");
	CHECK(f, "console file %s", path);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	CHECK(n == strlen(want) && memcmp(buf, want, n) == 0, "console has '%s'", buf);
}

static void wait_for(_Atomic bool *flag)
{
	for (int i = 0; i < WAIT_MS && !atomic_load(flag); i++)
		usleep(1000);
	CHECK(atomic_load(flag), "the fake guest reached its pause point");
}

/* The boot vCPU's state after vm_create: the boot protocol's, set through the seam on top of
 * what get_regs gave. */
static void check_boot_regs(void)
{
	struct fake_vcpu *b = &fake_vcpus[0];
	const struct x86_cpu_state *s = &b->regs;
	CHECK(b->get_calls == 1 && b->set_calls == 1, "get %d set %d", b->get_calls, b->set_calls);
	CHECK(s->rip == X86_KERNEL_GPA + 0x200, "RIP 0x%llx: the bzImage's 64-bit entry",
	      (unsigned long long)s->rip);
	CHECK(s->gpr[X86_RSI] == X86_BOOT_PARAMS_GPA, "RSI 0x%llx: boot_params",
	      (unsigned long long)s->gpr[X86_RSI]);
	CHECK(s->gpr[X86_RSP] == X86_BOOT_STACK_GPA, "RSP");
	CHECK(s->gpr[X86_R15] == 0 && s->gpr[X86_RDX] == 0, "the other GPRs are zero");
	CHECK(s->cs.l && s->cs.selector == X86_BOOT_CS && s->cs.base == 0, "64-bit flat CS");
	CHECK(s->ds.selector == X86_BOOT_DS && s->ss.db, "flat data segments");
	CHECK((s->cr0 & (X86_CR0_PE | X86_CR0_PG)) == (X86_CR0_PE | X86_CR0_PG) &&
	      !(s->cr0 & (X86_CR0_CD | X86_CR0_NW)), "CR0 0x%llx", (unsigned long long)s->cr0);
	CHECK(s->cr4 & X86_CR4_PAE, "PAE");
	CHECK((s->efer & (X86_EFER_LME | X86_EFER_LMA)) == (X86_EFER_LME | X86_EFER_LMA), "EFER");
	CHECK(s->cr3 != 0 && s->gdt.limit != 0, "page tables and GDT set");
	/* What the boot protocol does not name comes back as the backend gave it. */
	CHECK(x86_state_msr(s, MSR_STAR, 0) == FAKE_STAR && s->nr_msrs == 1, "MSRs kept");
	CHECK(s->apic_base == FAKE_APIC_BASE, "APIC base kept");
	for (unsigned i = 1; i < FAKE_MAX_VCPUS; i++)
		CHECK(fake_vcpus[i].get_calls == 0 && fake_vcpus[i].set_calls == 0 &&
		      fake_vcpus[i].regs.rip == 0xFFF0, "AP %u waits for INIT/SIPI untouched", i);
}

static void test_poweroff(const char *kernel, const char *console)
{
	SECTION("a scripted guest on a backend with its own irqchip: output, reads, pause, S5");
	fake_reset((struct accel_caps){ .max_vcpus = FAKE_MAX_VCPUS, .irqchip = true, .msi = true });
	fake_scripts[0] = script_poweroff;
	fake_script_len[0] = sizeof(script_poweroff) / sizeof(script_poweroff[0]);
	fake_scripts[1] = script_ap;
	fake_script_len[1] = 1;

	struct error err = { 0 };
	struct event_loop *loop = event_loop_create(&err);
	CHECK(loop, "%s", err.msg);
	struct vm_config cfg;
	make_config(&cfg, kernel, console, 2);
	struct vm *vm = vm_create_on(&cfg, loop, &fake_ops, &err);
	CHECK(vm, "vm_create_on: %s", err.msg);
	CHECK(fake_vm.created && fake_vm.nr_vcpus == 2 && fake_vm.mem == &vm->mem,
	      "the backend got guest memory and the vCPU count");
	CHECK(fake_vcpus[0].created && fake_vcpus[1].created, "both vCPUs created");
	CHECK(strcmp(vm->irq.name, "fake") == 0, "lines routed to the backend's irqchip");
	check_boot_regs();

	CHECK(vm_start(vm, &err) == 0, "vm_start: %s", err.msg);
	wait_for(&fake_vcpus[0].waiting);
	CHECK(vm_pause(vm, &err) == 0, "vm_pause: %s", err.msg);
	CHECK(vm_state(vm) == VM_STATE_PAUSED, "paused");
	for (unsigned i = 0; i < 2; i++) {
		CHECK(atomic_load(&fake_vcpus[i].kicks) >= 1, "vCPU %u kicked by the pause", i);
		CHECK(atomic_load(&fake_vcpus[i].thread_inits) == 1, "vCPU %u thread init once", i);
		CHECK(atomic_load(&fake_vcpus[i].resumed) == 0, "not resumed yet");
	}
	CHECK(vm_resume(vm, &err) == 0, "vm_resume: %s", err.msg);
	int status = vm_wait(vm, &err);
	CHECK(status == 0, "exit status %d (%s)", status, err.msg);
	CHECK(atomic_load(&vm->stop_reason) == VM_STOP_POWEROFF, "stopped by the S5 write");
	/* The boot vCPU ran on after the pause, so it was told first; the AP may have seen the
	 * stop before it woke up, and then never runs again. */
	CHECK(atomic_load(&fake_vcpus[0].resumed) == 1, "the boot vCPU told it was paused");
	CHECK(atomic_load(&fake_vcpus[1].resumed) <= 1, "the AP told at most once");
	CHECK(fake_vcpus[0].pc == fake_script_len[0], "the whole script ran");
	CHECK(fake_vcpus[0].nreads == 2, "two reads came back");
	CHECK((fake_vcpus[0].reads[0] & 0x60) == 0x60, "LSR 0x%x: transmitter empty",
	      fake_vcpus[0].reads[0]);
	CHECK(fake_vcpus[0].reads[1] == 0xFFFFFFFFu, "MMIO read of nothing: all ones (0x%x)",
	      fake_vcpus[0].reads[1]);
	CHECK(atomic_load(&fake_vm.irq_level[X86_COM1_IRQ]) == 1, "COM1's line reached the backend");
	vm_destroy(vm);
	CHECK(fake_vcpus[0].destroyed && fake_vcpus[1].destroyed && fake_vm.destroyed,
	      "the backend's vCPUs and VM destroyed");
	check_console(console, "hello\n");
	vm_config_free(&cfg);
	event_loop_destroy(loop);
}

static void test_reset_user_irqchip(const char *kernel, const char *console)
{
	SECTION("a backend without an irqchip: user-space controllers and LAPIC take the lines, "
		"the PIT runs from the event loop; i8042 reset");
	fake_reset((struct accel_caps){ .max_vcpus = 1 });
	fake_scripts[0] = script_reset;
	fake_script_len[0] = sizeof(script_reset) / sizeof(script_reset[0]);

	struct error err = { 0 };
	struct event_loop *loop = event_loop_create(&err);
	CHECK(loop, "%s", err.msg);
	struct vm_config cfg;
	make_config(&cfg, kernel, console, 1);
	struct vm *vm = vm_create_on(&cfg, loop, &fake_ops, &err);
	CHECK(vm, "vm_create_on: %s", err.msg);
	CHECK(strcmp(vm->irq.name, "user-space") == 0, "lines routed to the user-space chip");
	CHECK(vm_start(vm, &err) == 0, "vm_start: %s", err.msg);
	int status = vm_wait(vm, &err);
	CHECK(status == 0, "exit status %d (%s)", status, err.msg);
	CHECK(atomic_load(&vm->stop_reason) == VM_STOP_REBOOT, "stopped by the i8042 reset");
	CHECK(atomic_load(&fake_vm.irq_calls) == 0, "the backend got no line");
	CHECK(x86_irqchip_line_level(vm->irq.ctx, X86_COM1_IRQ) == 1,
	      "COM1's line is up at the user-space chip");
	struct fake_vcpu *b = &fake_vcpus[0];
	CHECK(b->set_lapic_calls == 1 && b->lapic.intr_ack && b->lapic.mmio && b->lapic.msr &&
	      b->lapic.next_deadline_ns && b->lapic.poll, "the LAPIC connected once, every op");
	CHECK(b->nreads == 2, "two interrupts taken (%u)", b->nreads);
	CHECK(b->reads[0] == 0x50, "the PIT's IRQ0 via the event loop's timerfd, IOAPIC pin 2, "
	      "LAPIC: vector 0x%x", b->reads[0]);
	CHECK(b->reads[1] == 0x44, "COM1 via IOAPIC pin 4: vector 0x%x", b->reads[1]);
	CHECK(atomic_load(&b->intr_signals) >= 2, "vcpu_signal(INTR) for each");
	uint64_t base = 0;
	CHECK(b->lapic.msr(b->lapic.ctx, 0x1B, false, &base) && base == 0xFEE00900,
	      "the boot vCPU's APIC base 0x%llx", (unsigned long long)base);
	vm_destroy(vm);
	check_console(console, "hello\n");
	vm_config_free(&cfg);
	event_loop_destroy(loop);
}

static void test_refusals(const char *kernel, const char *console)
{
	SECTION("the backend's vCPU limit and the soft placeholder: status 2, named backend");
	fake_reset((struct accel_caps){ .max_vcpus = 1, .irqchip = true });
	struct error err = { 0 };
	struct event_loop *loop = event_loop_create(&err);
	CHECK(loop, "%s", err.msg);
	struct vm_config cfg;
	make_config(&cfg, kernel, console, 2);
	CHECK(!vm_create_on(&cfg, loop, &fake_ops, &err), "two vCPUs on a one-vCPU backend");
	CHECK(err.status == ERR_INPUT && strstr(err.msg, "fake backend allows at most 1"), "%s",
	      err.msg);
	CHECK(!fake_vm.created, "refused before the backend's VM existed");

	SECTION("a backend without an irqchip and without vcpu_set_lapic: refused");
	err = (struct error){ 0 };
	cfg.ncpus = 1;
	fake_reset((struct accel_caps){ .max_vcpus = 1 });
	struct accel_ops no_lapic = fake_ops;
	no_lapic.vcpu_set_lapic = NULL;
	CHECK(!vm_create_on(&cfg, loop, &no_lapic, &err), "no way to connect the LAPIC");
	CHECK(strstr(err.msg, "vcpu_set_lapic"), "%s", err.msg);

	SECTION("--accel soft: the table's soft backend builds the VM (no irqchip of its own)");
	err = (struct error){ 0 };
	cfg.accel = ACCEL_SOFT;
	struct vm *soft = vm_create(&cfg, loop, &err);
	CHECK(soft, "--accel soft: %s", err.msg);
	CHECK(soft->accel == &accel_soft_ops && !soft->caps.irqchip && soft->apic,
	      "the soft backend with the machine's LAPICs");
	vm_destroy(soft);
	CHECK(accel_find("kvm") == &accel_kvm_ops && accel_find("soft") == &accel_soft_ops &&
	      !accel_find("warp"), "the table names its backends");
	vm_config_free(&cfg);
	event_loop_destroy(loop);
}

/* The AP's side of --accel soft's INIT/SIPI (soft_backend.c), on its own thread. */
struct ap_run {
	struct accel_vcpu *v;
	struct vcpu_exit exit;
	int rc;
	_Atomic bool stop;
};

/* Like the vCPU thread: a kick (each signal is one) returns VCPU_EXIT_INTR, then run again. */
static void *ap_thread(void *arg)
{
	struct ap_run *r = arg;
	do
		r->rc = accel_soft_ops.vcpu_run(r->v, &r->exit);
	while (r->rc == 0 && r->exit.kind == VCPU_EXIT_INTR && !atomic_load(&r->stop));
	return NULL;
}

static void test_soft_init_sipi(const char *kernel, const char *console)
{
	SECTION("--accel soft: INIT then SIPI posted before the AP looks: it starts at vector:0");
	struct error err = { 0 };
	struct event_loop *loop = event_loop_create(&err);
	CHECK(loop, "%s", err.msg);
	struct vm_config cfg;
	make_config(&cfg, kernel, console, 2);
	cfg.accel = ACCEL_SOFT;
	struct vm *vm = vm_create(&cfg, loop, &err);
	CHECK(vm, "--accel soft: %s", err.msg);
	/* mov ax, cs; mov ds, ax; mov word [0x100], 0x1234; hlt; jmp hlt */
	static const uint8_t code[] = { 0x8c, 0xc8, 0x8e, 0xd8, 0xc7, 0x06, 0x00, 0x01,
					0x34, 0x12, 0xf4, 0xeb, 0xfd };
	memcpy(gmem_ptr(&vm->mem, 0x30000, sizeof(code)), code, sizeof(code));
	volatile uint16_t *mark = gmem_ptr(&vm->mem, 0x30100, 2);
	*mark = 0;
	struct ap_run r = { .v = vm->vcpus[1].accel_vcpu };
	/* What the BSP's ICR writes do back to back (kvm-unit-tests' smp_init): both signals
	 * are pending when the AP's thread first looks. */
	accel_soft_ops.vcpu_signal(r.v, ACCEL_SIGNAL_INIT, 0);
	accel_soft_ops.vcpu_signal(r.v, ACCEL_SIGNAL_SIPI, 0x30);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, ap_thread, &r) == 0, "AP thread");
	for (int i = 0; i < WAIT_MS && *mark != 0x1234; i++)
		usleep(1000);
	CHECK(*mark == 0x1234, "the AP ran the SIPI page's code (mark %#x)", *mark);
	atomic_store(&r.stop, true);
	accel_soft_ops.vcpu_kick(r.v);
	pthread_join(t, NULL);
	CHECK(r.rc == 0 && r.exit.kind == VCPU_EXIT_INTR, "kicked out of HLT: kind %d",
	      r.exit.kind);
	struct x86_cpu_state st;
	accel_soft_ops.get_regs(r.v, &st, &err);
	CHECK(st.cs.selector == 0x3000 && st.cs.base == 0x30000,
	      "CS %#x base %#llx", st.cs.selector, (unsigned long long)st.cs.base);
	vm_destroy(vm);
	vm_config_free(&cfg);
	event_loop_destroy(loop);
}

int main(void)
{
	size_t size;
	uint8_t *img = fake_bzimage(8192, &size);
	char kernel[64], console[64];
	check_write_tmp(img, size, kernel);
	free(img);
	check_write_tmp("", 0, console);

	test_poweroff(kernel, console);
	test_reset_user_irqchip(kernel, console);
	test_refusals(kernel, console);
	test_soft_init_sipi(kernel, console);

	unlink(kernel);
	unlink(console);
	printf("test_accel_seam: ok\n");
	return 0;
}
