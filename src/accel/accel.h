/* The CPU backend seam: everything the machine model needs from "something that runs vCPUs".
 * Two implementations are planned: kvm (ioctls on /dev/kvm, in-kernel LAPIC/IOAPIC/PIC/PIT) and
 * soft (hardy's own x86-64 CPU). The machine model never asks which one it runs on.
 *
 * Threads: vm_create/vcpu_create/vcpu_boot_setup run on the main thread before vCPU threads
 * start; vcpu_run runs only on its vCPU's thread; vcpu_kick and irq_line may be called from any
 * thread. */
#ifndef HARDY_ACCEL_ACCEL_H
#define HARDY_ACCEL_ACCEL_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/boot.h"
#include "util/error.h"

struct vm;
struct vcpu;

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

struct accel_limits {
	unsigned max_vcpus;
};

struct accel_ops {
	const char *name;
	/* Can this backend run here, and within which limits? Opens nothing that outlives it. */
	int (*probe)(struct accel_limits *limits, struct error *err);
	int (*vm_create)(struct vm *vm, struct error *err);
	void (*vm_destroy)(struct vm *vm);
	int (*vcpu_create)(struct vcpu *vcpu, struct error *err);
	/* Registers for the boot vCPU; the others wait for INIT/SIPI from the guest. */
	int (*vcpu_boot_setup)(struct vcpu *vcpu, const struct x86_boot_regs *regs, struct error *err);
	int (*vcpu_run)(struct vcpu *vcpu, struct vcpu_exit *exit);
	void (*vcpu_kick)(struct vcpu *vcpu);
	/* Optional, on the vCPU's thread before it runs again after a pause: tell the guest it
	 * was stopped (KVM: KVM_KVMCLOCK_CTRL, so the guest's soft-lockup watchdog excuses it). */
	void (*vcpu_resumed)(struct vcpu *vcpu);
	void (*vcpu_destroy)(struct vcpu *vcpu);
	/* Sets the level of an interrupt line (GSI); edge-triggered lines pulse 1 then 0. */
	int (*irq_line)(struct vm *vm, unsigned gsi, int level);
	/* Delivers one message-signalled interrupt (address and data as a device's MSI-X table
	 * holds them). Any thread. */
	int (*irq_msi)(struct vm *vm, uint64_t addr, uint32_t data);
	/* Optional: guest writes of len bytes at gpa signal the eventfd fd instead of exiting to
	 * a vCPU thread. NULL or -1: unsupported, and such writes arrive as MMIO exits, which the
	 * device handles the same way (the fallback every backend has). */
	int (*ioeventfd)(struct vm *vm, uint64_t gpa, unsigned len, int fd);
};

extern const struct accel_ops accel_kvm_ops;

#endif
