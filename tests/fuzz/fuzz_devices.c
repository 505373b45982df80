/* libFuzzer target: every device of hardy's machine, driven natively (no KVM) through the same
 * buses a vCPU exit uses, by random sequences of accesses interleaved with time steps, console
 * input and power-button presses. The machine is built by machine_build() from a services
 * handle made here (no struct vm), so a device wired there is fuzzed with no change here; it
 * has virtio-rng, one virtio-blk disk (a 1 MiB memfd) and virtio-vsock (CID 3, a host side
 * where nothing listens: every guest connect is refused) on PCI bus 0.
 *
 * Input: a sequence of operations, each one opcode byte and its operands; missing operand bytes
 * read as zero, the input ends the sequence.
 *   opcode bits 0-1  kind: 0 port I/O, 1 MMIO, 2 time step, 3 console/events
 *   access (0, 1):  bits 2-3 size 1/2/4/8; bit 4 write; bit 5 raw address (PIO 2 bytes, MMIO
 *                   8 bytes), else one byte picks a registered range and one byte an offset
 *                   from it (up to 8 past its end, to hit the edges); writes: 8 value bytes
 *   time (2):       bit 4 clear: advance by a 4-byte count of microseconds;
 *                   bit 4 set: jump to an 8-byte raw nanosecond value (any, hostile ones too)
 *   console (3):    bit 6: a LAPIC access (below); else bit 4: one length byte (up to 32)
 *                   then that many bytes of host input; bit 5: press the ACPI power button;
 *                   else drain the console's output
 *   LAPIC (3, bit 6): one byte picks the LAPIC, one the register: bit 5 clear, the xAPIC
 *                   page at register * 16; set, an MSR (0x800 + it; 0xFF APIC base, 0xFE TSC
 *                   deadline); bit 7: write (4 value bytes for the page, 8 for an MSR)
 * An input of odd length builds the machine as for a backend without interrupt controllers:
 * lines and MSIs then go through the user-space 8259s and IOAPIC to the LAPICs, the time op
 * advances the PIT and polls the LAPIC timers, and a pretend CPU acknowledges LAPIC 0's
 * interrupt (ExtINT: the 8259's) and EOIs it after every operation.
 * Checked besides the sanitizers: unclaimed reads return all ones, interrupt levels are 0 or 1. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backends/disk.h"
#include "backends/vsock_host.h"
#include "devices/device.h"
#include "core/console.h"
#include "core/event_loop.h"
#include "devices/x86/i8254.h"
#include "devices/x86/lapic.h"
#include "vm/machine.h"
#include "fuzz_take.h"

/* virtio-vsock's host side: no clients, nothing listens, so no stream ever exists. */
static int fuzz_vsock_start(struct vsock_host *h, struct event_loop *loop, pthread_mutex_t *lock,
			    const struct vsock_host_events *ev, void *ctx, struct error *err)
{
	return 0;
}

static struct vsock_stream *fuzz_vsock_connect(struct vsock_host *h, uint32_t port, void *conn)
{
	return NULL;
}

static void fuzz_vsock_stop(struct vsock_host *h) {}

static const struct vsock_host_ops fuzz_vsock_ops = {
	.start = fuzz_vsock_start, .connect = fuzz_vsock_connect, .stop = fuzz_vsock_stop,
};

struct fuzz_input {
	const uint8_t *p;
	size_t left;
};

static uint64_t take_in(struct fuzz_input *in, unsigned bytes)
{
	return take(&in->p, &in->left, bytes);
}

/* A small ring, so that inputs reach the full-ring path too. */
#define FUZZ_RING_SIZE 512

struct fuzz_machine {
	struct dev_services svc;
	struct device_list devices;
	struct bus pio_bus, mmio_bus;
	struct resources res;
	struct vm_clock clock;
	struct machine machine;
	struct console con;
	int64_t clock_ns;
	struct irq_router irq;   /* the user-space controllers, for odd-length inputs */
};

/* Descriptors outlive one input (creating them each time would halve the speed); both are
 * emptied before every input, so no state carries over. */
static int fuzz_out_pipe[2] = { -1, -1 }; /* the console's output; drained by the console op */
static struct event_loop *fuzz_loop;
static struct guest_mem fuzz_mem; /* what virtqueues point into; zeroed before every input */
static char fuzz_disk_path[64];   /* a 1 MiB memfd: virtio-blk's image */

static int64_t fuzz_clock(void *ctx, clockid_t id)
{
	return ((struct fuzz_machine *)ctx)->clock_ns;
}

static void fuzz_irq_set(void *ctx, unsigned gsi, int level)
{
	struct fuzz_machine *m = ctx;
	if (level != 0 && level != 1)
		abort(); /* a device computed a nonsense level */
	if (m->irq.line && m->irq.line(m->irq.ctx, gsi, level) < 0)
		abort(); /* a device drove a GSI the machine does not have */
}

static void fuzz_msi_send(void *ctx, uint64_t addr, uint32_t data)
{
	struct fuzz_machine *m = ctx;
	if (m->irq.msi)
		m->irq.msi(m->irq.ctx, addr, data);
}

/* What a CPU that takes every interrupt at once would do: the boot CPU's LAPIC acknowledges
 * (ExtINT: the 8259's INTA) and EOIs, which broadcasts level-triggered EOIs to the IOAPIC. */
static void fuzz_cpu(struct fuzz_machine *m)
{
	if (!m->machine.apic)
		return;
	struct lapic *a = apic_bus_lapic(m->machine.apic, 0);
	if (lapic_intr_ack(a) >= 0) {
		uint8_t zero[4] = { 0 };
		lapic_mmio(a, 0xB0, true, zero, 4);
	}
}

/* One access to a LAPIC: its xAPIC page (one byte: the register) or an MSR (one byte: x2APIC
 * 0x800 + it, 0xFF IA32_APIC_BASE, 0xFE IA32_TSC_DEADLINE). */
static void fuzz_lapic(struct fuzz_machine *m, uint8_t op, struct fuzz_input *in)
{
	if (!m->machine.apic)
		return;
	unsigned n = apic_bus_count(m->machine.apic);
	struct lapic *a = apic_bus_lapic(m->machine.apic, (unsigned)take_in(in, 1) % n);
	unsigned reg = (unsigned)take_in(in, 1);
	bool is_write = op & 0x80;
	if (op & 0x20) {
		uint32_t index = reg == 0xFF ? 0x1B : reg == 0xFE ? 0x6E0 : 0x800 + reg;
		uint64_t v = is_write ? take_in(in, 8) : 0;
		lapic_msr(a, index, is_write, &v);
	} else {
		uint8_t data[4];
		uint32_t v = is_write ? (uint32_t)take_in(in, 4) : 0;
		memcpy(data, &v, 4);
		lapic_mmio(a, reg << 4, is_write, data, 4);
	}
}

/* A stop request (reset, power-off) ends nothing here: keep driving the devices. */
static void fuzz_stop(void *ctx, enum vm_stop_reason reason, const char *msg)
{
}

static void fuzz_access(struct fuzz_machine *m, struct bus *bus, uint8_t op,
			struct fuzz_input *in)
{
	static const unsigned sizes[] = { 1, 2, 4, 8 };
	unsigned len = sizes[(op >> 2) & 3];
	bool is_write = op & 0x10;
	uint64_t addr;
	if ((op & 0x20) || bus->nr == 0) {
		addr = take_in(in, bus == &m->pio_bus ? 2 : 8);
	} else {
		const struct bus_range *r = &bus->range[take_in(in, 1) % bus->nr];
		addr = r->base + take_in(in, 1) % (r->len + 8);
	}
	uint8_t data[8];
	uint64_t v = is_write ? take_in(in, 8) : 0;
	memcpy(data, &v, sizeof(data));
	bool claimed = bus_dispatch(bus, addr, is_write, data, len);
	if (!is_write && !claimed) {
		for (unsigned i = 0; i < len; i++)
			if (data[i] != 0xFF)
				abort(); /* an unclaimed read must be all ones */
	}
}

static void fuzz_time(struct fuzz_machine *m, uint8_t op, struct fuzz_input *in)
{
	if (op & 0x10)
		m->clock_ns = (int64_t)take_in(in, 8);
	else
		m->clock_ns = (int64_t)((uint64_t)m->clock_ns + take_in(in, 4) * 1000u); /* wraps */
	if (m->machine.pit) {
		i8254_next_deadline(m->machine.pit);
		i8254_advance(m->machine.pit, m->clock_ns);
	}
	for (unsigned i = 0; m->machine.apic && i < apic_bus_count(m->machine.apic); i++) {
		struct lapic *a = apic_bus_lapic(m->machine.apic, i);
		lapic_next_deadline_ns(a);
		lapic_poll(a, (uint64_t)m->clock_ns);
	}
}

static void fuzz_drain(struct fuzz_machine *m)
{
	console_flush(&m->con);
	char buf[4096];
	while (read(fuzz_out_pipe[0], buf, sizeof(buf)) > 0) {
	}
}

static void fuzz_console(struct fuzz_machine *m, uint8_t op, struct fuzz_input *in)
{
	if (op & 0x40) {
		fuzz_lapic(m, op, in);
	} else if (op & 0x10) {
		uint8_t buf[32];
		size_t n = take_in(in, 1) % (sizeof(buf) + 1);
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)take_in(in, 1);
		if (m->con.deliver)
			m->con.deliver(m->con.sink, buf, n);
	} else if (op & 0x20) {
		m->machine.power_button(m->machine.power_button_ctx);
	} else {
		fuzz_drain(m);
	}
}

/* The machine as on KVM: the backend has the interrupt controllers (the fuzzer's irq_set
 * records lines itself). */
static const struct accel_caps fuzz_caps = { .max_vcpus = 1, .irqchip = true, .msi = true };
static const struct accel_caps fuzz_caps_user_irqchip = { .max_vcpus = 1, .msi = true };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_machine m;
	struct error err = { 0 };
	memset(&m, 0, sizeof(m));
	m.clock_ns = 1700000000LL * 1000000000LL; /* some ordinary date */
	m.pio_bus.name = "pio";
	m.mmio_bus.name = "mmio";
	m.clock = (struct vm_clock){ .now_ns = fuzz_clock, .ctx = &m };
	device_list_init(&m.devices);
	machine_resources_init(&m.res);
	m.svc = (struct dev_services){
		.devices = &m.devices, .pio = &m.pio_bus, .mmio = &m.mmio_bus, .clock = &m.clock,
		.loop = fuzz_loop, .res = &m.res, .stop = { .request = fuzz_stop },
		.irq_set = fuzz_irq_set, .msi_send = fuzz_msi_send, .mem = &fuzz_mem, .irq_ctx = &m,
	};
	const struct accel_caps *caps = size & 1 ? &fuzz_caps_user_irqchip : &fuzz_caps;
	memset(fuzz_mem.map, 0, 1u << 20); /* the low MiB: where inputs can point rings */
	struct vm_config cfg;
	if (vm_config_defaults(&cfg, &err) < 0)
		abort();
	cfg.debug_exit = true; /* its port is guest input too */
	struct disk *disk = disk_raw_open(fuzz_disk_path, false, &err);
	if (!disk) {
		fprintf(stderr, "fuzz_devices: %s\n", err.msg);
		abort();
	}
	if (vm_config_add_disk(&cfg, &(struct vm_disk_config){ .path = fuzz_disk_path,
							      .id = (char *)"fuzz" }, &err) < 0 ||
	    vm_config_set_vsock(&cfg, &(struct vm_vsock_config){ .cid = 3,
								.uds_path = (char *)"unused" },
				&err) < 0)
		abort();
	static struct vsock_host vsock = { .ops = &fuzz_vsock_ops };
	m.con = (struct console){ .in_fd = -1, .out_fd = -1, .wake_efd = -1 };
	if (console_attach_output(&m.con, fuzz_out_pipe[1], 0, FUZZ_RING_SIZE, &err) < 0 ||
	    machine_build(&m.svc, &cfg, caps, &m.irq, &m.con, &disk, NULL, &vsock,
			  &m.machine, &err) < 0) {
		fprintf(stderr, "fuzz_devices: cannot build the machine: %s\n", err.msg);
		abort();
	}

	struct fuzz_input in = { data, size };
	while (in.left) {
		uint8_t op = (uint8_t)take_in(&in, 1);
		switch (op & 3) {
		case 0: fuzz_access(&m, &m.pio_bus, op, &in); break;
		case 1: fuzz_access(&m, &m.mmio_bus, op, &in); break;
		case 2: fuzz_time(&m, op, &in); break;
		case 3: fuzz_console(&m, op, &in); break;
		}
		fuzz_cpu(&m);
	}
	fuzz_drain(&m);
	device_list_destroy(&m.devices);
	disk_close(disk);
	console_out_close(&m.con);
	vm_config_free(&cfg);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	signal(SIGPIPE, SIG_IGN);
	struct error err = { 0 };
	fuzz_loop = event_loop_create(&err);
	int disk_fd = memfd_create("fuzz-disk", MFD_CLOEXEC);
	if (disk_fd < 0 || ftruncate(disk_fd, 1 << 20) < 0) {
		perror("fuzz_devices: memfd");
		abort();
	}
	snprintf(fuzz_disk_path, sizeof(fuzz_disk_path), "/proc/self/fd/%d", disk_fd);
	if (!fuzz_loop || gmem_init(&fuzz_mem, GMEM_MIN_SIZE, &err) < 0 || pipe2(fuzz_out_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		perror("fuzz_devices: eventfd/pipe");
		abort();
	}
	return 0;
}
