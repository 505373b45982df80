/* The CPU backend seam: everything the machine model needs from "something that runs vCPUs",
 * and everything such a backend gets from the machine: nothing else. A backend sees neither
 * struct vm nor struct vcpu; it gets guest memory and the vCPU count (struct accel_vm_params)
 * and hands back opaque handles of its own (struct accel_vm, struct accel_vcpu). Backends are
 * listed in one table (accel_table.c): kvm (ioctls on /dev/kvm, in-kernel LAPIC/IOAPIC/PIC/PIT)
 * and soft (hardy's own x86-64 CPU; a placeholder until the system CPU exists).
 *
 * Both ways: the machine drives the backend through these ops, and the backend answers with
 * exits (port I/O, MMIO, reset, power-off), takes interrupts through irq_line/irq_msi when it
 * has its own interrupt controllers (caps.irqchip), and moves the whole register state through
 * get_regs/set_regs (generic code sets the boot state with them).
 *
 * Threads: vm_create/vcpu_create/get_regs/set_regs run on the main thread before vCPU threads
 * start (or while the vCPU is parked); vcpu_thread_init and vcpu_run only on the vCPU's own
 * thread; vcpu_kick, irq_line and irq_msi from any thread. */
#ifndef HARDY_ACCEL_ACCEL_H
#define HARDY_ACCEL_ACCEL_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/cpu_state.h"
#include "core/clock.h"
#include "core/guest_mem.h"
#include "util/error.h"

struct accel_vm;   /* a backend's VM, opaque to everyone else */
struct accel_vcpu; /* a backend's vCPU, opaque to everyone else */

enum vcpu_exit_kind {
	VCPU_EXIT_PIO,       /* port I/O: pio describes it; for reads, fill pio.data */
	VCPU_EXIT_MMIO,      /* MMIO outside RAM: mmio describes it */
	VCPU_EXIT_INTR,      /* interrupted by vcpu_kick() or a signal: look at the VM's state */
	VCPU_EXIT_RESET,     /* triple fault or a reset request: the guest reboots */
	VCPU_EXIT_POWEROFF,  /* the backend saw a power-off request */
	VCPU_EXIT_ERROR,     /* the backend cannot go on: error says why */
};

struct vcpu_exit {
	enum vcpu_exit_kind kind;
	union {
		struct {
			uint16_t port;
			uint8_t size;   /* 1, 2 or 4 */
			bool is_write;
			uint32_t count; /* string I/O repeats */
			uint8_t *data;  /* size * count bytes, owned by the backend */
		} pio;
		struct {
			uint64_t addr;
			uint8_t len;
			bool is_write;
			uint8_t *data;
		} mmio;
		const char *error; /* ERROR: why; RESET: what happened, NULL for a plain request */
	};
};

/* What a backend can do here; the machine builder decides from it what it models itself. */
struct accel_caps {
	unsigned max_vcpus;
	/* The backend has its own LAPICs, IOAPIC, PIC and PIT (KVM's in-kernel ones) and takes
	 * interrupts through irq_line/irq_msi. false: the machine creates user-space interrupt
	 * controllers (src/devices/x86/) and routes lines there. */
	bool irqchip;
	bool ioeventfd; /* ops->ioeventfd works */
	bool msi;       /* ops->irq_msi delivers MSIs itself */
	/* The guest's TSC and timers all read the VM's clock (struct vm_clock), so a pause can
	 * stop guest time (soft). false: time the VMM cannot stop (KVM's TSC; kvmclock tells the
	 * guest it was paused instead, vcpu_resumed). */
	bool guest_time_is_vm_clock;
};

/* What the machine gives a backend's VM. */
struct accel_vm_params {
	const struct guest_mem *mem; /* the guest's RAM regions; outlives the backend's VM */
	unsigned nr_vcpus;
	/* The machine's buses, for a backend that executes guest instructions itself (soft):
	 * it performs port I/O and accesses outside RAM synchronously, on the vCPU's thread,
	 * through these instead of returning VCPU_EXIT_PIO/MMIO (an instruction then completes
	 * in one run call). len: 1, 2, 4 (PIO) or 1..8 (MMIO); reads fill data. true: the VM is
	 * stopping (the access may have asked for it: reset, power-off), so the vCPU's run should
	 * end now, as a KVM exit would, not go on running the guest until the main thread kicks. */
	bool (*pio)(void *io_ctx, uint16_t port, bool is_write, uint8_t *data, unsigned len);
	bool (*mmio)(void *io_ctx, uint64_t gpa, bool is_write, uint8_t *data, unsigned len);
	void *io_ctx;
	const struct vm_clock *clock; /* the VM's time (TSC, LAPIC timers); outlives the VM */
	const char *soft_profile;     /* soft: --soft-profile's path, NULL for none */
};

/* Without caps.irqchip: the machine's local APIC of one vCPU (src/devices/x86/lapic.h), as
 * the backend sees it. Every call is made on that vCPU's own thread. The LAPIC reaches the
 * vCPU the other way through ops->vcpu_signal (any thread). */
struct accel_lapic {
	void *ctx;
	/* The CPU's interrupt acknowledge, when it can take an external interrupt (IF=1, no
	 * shadow): the vector of the highest-priority deliverable interrupt, now in service
	 * (ExtINT: the 8259's vector), or -1 when there is none (any more). */
	int (*intr_ack)(void *ctx);
	/* An access to the xAPIC page (X86_LAPIC_GPA, 4 KiB) at offset; reads fill data. */
	void (*mmio)(void *ctx, uint32_t offset, bool is_write, uint8_t *data, unsigned len);
	/* IA32_APIC_BASE (0x1b), IA32_TSC_DEADLINE (0x6e0, in the clock's CLOCK_MONOTONIC
	 * nanoseconds: the backend converts from and to its TSC) and the x2APIC MSRs
	 * (0x800-0x8ff). false: the access raises #GP. */
	bool (*msr)(void *ctx, uint32_t index, bool is_write, uint64_t *value);
	/* Timers: CLOCK_MONOTONIC ns (of params.clock) of the next expiry, UINT64_MAX for none;
	 * poll fires what is due at now_ns (which may signal the vCPU). */
	uint64_t (*next_deadline_ns)(void *ctx);
	void (*poll)(void *ctx, uint64_t now_ns);
};

/* What a LAPIC tells its vCPU (ops->vcpu_signal). */
enum accel_signal {
	ACCEL_SIGNAL_INTR, /* an interrupt may be deliverable: call intr_ack when IF allows */
	ACCEL_SIGNAL_NMI,
	ACCEL_SIGNAL_INIT, /* INIT: the vCPU resets and waits for a startup IPI */
	ACCEL_SIGNAL_SIPI, /* startup IPI with vector: a vCPU waiting for it starts at vector<<12 */
};

struct accel_ops {
	const char *name;
	/* Can this backend run here, and with what? Opens nothing that outlives it. Fails with
	 * ERR_RUNTIME when the host lacks it, ERR_INPUT when it does not exist in this build. */
	int (*probe)(struct accel_caps *caps, struct error *err);
	/* Optional: once per process on the main thread, before any other thread exists (the
	 * VMM calls it for every backend, VM or not): what the backend needs process-wide. KVM:
	 * its kick signal's handler, and the signal blocked so that threads started later
	 * inherit the block and a stray one never ends a VMM that waits for its VM. */
	void (*process_init)(void);
	struct accel_vm *(*vm_create)(const struct accel_vm_params *p, struct error *err);
	void (*vm_destroy)(struct accel_vm *vm);
	/* index: 0 is the boot vCPU; the others wait for INIT/SIPI from the guest. */
	struct accel_vcpu *(*vcpu_create)(struct accel_vm *vm, unsigned index, struct error *err);
	void (*vcpu_destroy)(struct accel_vcpu *v);
	/* The whole register state; set_regs takes what get_regs gave, changed or not. */
	int (*get_regs)(struct accel_vcpu *v, struct x86_cpu_state *s, struct error *err);
	int (*set_regs)(struct accel_vcpu *v, const struct x86_cpu_state *s, struct error *err);
	/* Optional, once on the vCPU's thread before its first run: what the kick needs from the
	 * thread it interrupts (KVM: the thread to signal, with its signal unblocked there). */
	int (*vcpu_thread_init)(struct accel_vcpu *v, struct error *err);
	int (*vcpu_run)(struct accel_vcpu *v, struct vcpu_exit *exit);
	/* Any thread: makes the current or next vcpu_run return soon with VCPU_EXIT_INTR. The
	 * backend owns how (KVM: immediate_exit and a signal it set up itself; a CPU in user
	 * space: an atomic flag it checks between blocks, and a wake-up if it waits). */
	void (*vcpu_kick)(struct accel_vcpu *v);
	/* Optional, on the vCPU's thread before it runs again after a pause: tell the guest it
	 * was stopped (KVM: KVM_KVMCLOCK_CTRL, so the guest's soft-lockup watchdog excuses it). */
	void (*vcpu_resumed)(struct accel_vcpu *v);
	/* With caps.irqchip: sets the level of an interrupt line (GSI); edge-triggered lines
	 * pulse 1 then 0. -1 with errno on failure. */
	int (*irq_line)(struct accel_vm *vm, unsigned gsi, int level);
	/* With caps.msi: delivers one message-signalled interrupt (address and data as a device's
	 * MSI-X table holds them). */
	int (*irq_msi)(struct accel_vm *vm, uint64_t addr, uint32_t data);
	/* Optional (caps.ioeventfd): guest writes of len bytes at gpa signal the eventfd fd
	 * instead of exiting to a vCPU thread. -1: unsupported, and such writes arrive as MMIO
	 * exits, which the device handles the same way (the fallback every backend has). */
	int (*ioeventfd)(struct accel_vm *vm, uint64_t gpa, unsigned len, int fd);
	/* Without caps.irqchip (both required then): connect the vCPU's LAPIC, on the main
	 * thread before the vCPU's thread starts; and take a LAPIC's signal, from any thread
	 * (wakes a halted vCPU). */
	int (*vcpu_set_lapic)(struct accel_vcpu *v, const struct accel_lapic *lapic,
			      struct error *err);
	void (*vcpu_signal)(struct accel_vcpu *v, enum accel_signal sig, uint8_t vector);
};

/* The backends, in the order --accel auto tries them (accel_table.c). */
extern const struct accel_ops accel_kvm_ops;
extern const struct accel_ops accel_soft_ops;

extern const struct accel_ops *const accel_table[];
extern const unsigned accel_table_len;

/* Every backend's process_init (see above). */
void accel_process_init(void);
/* The backend called name, or NULL. */
const struct accel_ops *accel_find(const char *name);

#endif
