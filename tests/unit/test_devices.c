/* Unit test: legacy devices against a fake backend: the UART (Linux's probe sequence, transmit
 * to the console, receive with interrupts), ACPI PM (power button raises the SCI, S5 powers off,
 * reset register reboots), the RTC (host time in BCD) and the i8042 reset command. */
#include <fcntl.h>
#include <linux/serial_reg.h>
#include <stdint.h>
#include <time.h>

#include "arch/x86/layout.h"
#include "check.h"
#include "devices/devices.h"
#include "fake_services.h"
#include "core/console.h"

#define COM1 X86_COM1_PORT

static void test_serial(void)
{
	struct fake_env f;
	fake_env_init(&f);
	int pipefd[2];
	CHECK(pipe2(pipefd, O_NONBLOCK) == 0, "pipe");
	struct console con = { .in_fd = -1 };
	struct error err = { 0 };
	CHECK(console_attach_output(&con, pipefd[1], 0, CONSOLE_RING_SIZE, &err) == 0,
	      "console: %s", err.msg);
	struct serial *s = serial_create(&f.svc, COM1, X86_COM1_IRQ, &con, &err);
	CHECK(s, "serial_create: %s", err.msg);

	SECTION("8250 loopback self-test as Linux runs it");
	fake_out(&f, COM1 + UART_MCR, 1, UART_MCR_LOOP | 0x0A);
	CHECK((fake_in(&f, COM1 + UART_MSR, 1) & 0xF0) == 0x90, "loopback MSR wrong");
	fake_out(&f, COM1 + UART_MCR, 1, 0);

	SECTION("FIFO reported as 16550A");
	fake_out(&f, COM1 + UART_FCR, 1, UART_FCR_ENABLE_FIFO);
	CHECK((fake_in(&f, COM1 + UART_IIR, 1) >> 6) == 3, "no FIFO");

	SECTION("transmit reaches the console");
	fake_out(&f, COM1 + UART_TX, 1, 'h');
	fake_out(&f, COM1 + UART_TX, 1, 'i');
	CHECK(console_flush(&con) == 0, "console flush would block");
	char buf[8] = { 0 };
	CHECK(read(pipefd[0], buf, sizeof(buf)) == 2 && !strcmp(buf, "hi"), "console got '%s'", buf);
	CHECK(fake_in(&f, COM1 + UART_LSR, 1) & UART_LSR_THRE, "THR not empty");

	SECTION("receive raises the IRQ when enabled and OUT2 is set");
	fake_out(&f, COM1 + UART_MCR, 1, UART_MCR_OUT2);
	fake_out(&f, COM1 + UART_IER, 1, UART_IER_RDI);
	CHECK(f.irq_level[X86_COM1_IRQ] == 0, "IRQ high with nothing received");
	serial_receive(s, (const uint8_t *)"ab", 2);
	CHECK(f.irq_level[X86_COM1_IRQ] == 1, "IRQ not raised on receive");
	CHECK((fake_in(&f, COM1 + UART_IIR, 1) & 0x0F) == UART_IIR_RDI, "IIR not RDI");
	CHECK(fake_in(&f, COM1 + UART_LSR, 1) & UART_LSR_DR, "LSR has no data ready");
	CHECK(fake_in(&f, COM1 + UART_RX, 1) == 'a', "wrong byte");
	CHECK(fake_in(&f, COM1 + UART_RX, 1) == 'b', "wrong byte");
	CHECK(f.irq_level[X86_COM1_IRQ] == 0, "IRQ still high after draining");

	SECTION("THR-empty interrupt: raised when enabled, cleared by reading IIR");
	fake_out(&f, COM1 + UART_IER, 1, UART_IER_THRI);
	CHECK(f.irq_level[X86_COM1_IRQ] == 1, "THRI not raised");
	CHECK((fake_in(&f, COM1 + UART_IIR, 1) & 0x0F) == UART_IIR_THRI, "IIR not THRI");
	CHECK(f.irq_level[X86_COM1_IRQ] == 0, "THRI not cleared by IIR read");
	fake_out(&f, COM1 + UART_TX, 1, 'x');
	CHECK(f.irq_level[X86_COM1_IRQ] == 1, "THRI not raised after a write");

	SECTION("divisor latch does not disturb data");
	fake_out(&f, COM1 + UART_LCR, 1, UART_LCR_DLAB);
	fake_out(&f, COM1 + UART_DLL, 1, 1);
	CHECK(fake_in(&f, COM1 + UART_DLL, 1) == 1, "DLL not kept");
	fake_out(&f, COM1 + UART_LCR, 1, 3);

	SECTION("a machine reset clears the UART and drops its interrupt");
	fake_out(&f, COM1 + UART_MCR, 1, UART_MCR_OUT2);
	fake_out(&f, COM1 + UART_IER, 1, UART_IER_RDI);
	serial_receive(s, (const uint8_t *)"z", 1);
	CHECK(f.irq_level[X86_COM1_IRQ] == 1, "IRQ not raised before the reset");
	device_list_reset(&f.devices);
	CHECK(f.irq_level[X86_COM1_IRQ] == 0, "IRQ still high after the reset");
	CHECK(fake_in(&f, COM1 + UART_IER, 1) == 0 && fake_in(&f, COM1 + UART_LCR, 1) == 0,
	      "registers kept over the reset");
	CHECK(!(fake_in(&f, COM1 + UART_LSR, 1) & UART_LSR_DR), "received byte kept");
	fake_env_destroy(&f);
	console_close(&con);
	close(pipefd[0]);
	close(pipefd[1]);
}

static void test_acpi_pm(void)
{
	struct fake_env f;
	fake_env_init(&f);
	struct error err = { 0 };
	struct acpi_pm *pm = acpi_pm_create(&f.svc, &err);
	CHECK(pm, "acpi_pm_create: %s", err.msg);

	SECTION("SCI_EN reads set: the OS finds ACPI enabled");
	CHECK(fake_in(&f, X86_ACPI_PM1A_CNT, 2) & 1, "SCI_EN clear");

	SECTION("power button: status bit, SCI only when enabled, write-1-to-clear");
	acpi_pm_press_power_button(pm);
	CHECK(fake_in(&f, X86_ACPI_PM1A_EVT, 2) & (1u << 8), "PWRBTN_STS not set");
	CHECK(f.irq_level[X86_ACPI_SCI_IRQ] == 0, "SCI raised while disabled");
	fake_out(&f, X86_ACPI_PM1A_EVT + 2, 2, 1u << 8);
	CHECK(f.irq_level[X86_ACPI_SCI_IRQ] == 1, "SCI not raised when enabled");
	fake_out(&f, X86_ACPI_PM1A_EVT, 2, 1u << 8);
	CHECK(f.irq_level[X86_ACPI_SCI_IRQ] == 0, "SCI not lowered after clearing");
	CHECK(!(fake_in(&f, X86_ACPI_PM1A_EVT, 2) & (1u << 8)), "status not cleared");

	SECTION("PM timer advances at 3.58 MHz");
	uint32_t t0 = (uint32_t)fake_in(&f, X86_ACPI_PM_TMR, 4);
	struct timespec ms = { 0, 10 * 1000 * 1000 };
	nanosleep(&ms, NULL);
	uint32_t t1 = (uint32_t)fake_in(&f, X86_ACPI_PM_TMR, 4);
	CHECK(t1 - t0 >= 35000 && t1 - t0 < 3579545, "timer moved %u ticks in 10 ms", t1 - t0);

	SECTION("S1 is ignored, S5 powers off");
	fake_out(&f, X86_ACPI_PM1A_CNT, 2, (1u << 10) | (1u << 13));
	CHECK(!(f.stop_reason != VM_STOP_NONE), "S1 stopped the VM");
	fake_out(&f, X86_ACPI_PM1A_CNT, 2, (X86_ACPI_S5_TYP << 10) | (1u << 13));
	CHECK(f.stop_reason == VM_STOP_POWEROFF, "S5 did not power off");

	SECTION("reset register reboots");
	fake_env_destroy(&f);
	fake_env_init(&f);
	struct acpi_pm *pm2 = acpi_pm_create(&f.svc, &err);
	CHECK(pm2, "acpi_pm_create: %s", err.msg);
	fake_out(&f, X86_ACPI_RESET, 1, 0x42);
	CHECK(!(f.stop_reason != VM_STOP_NONE), "wrong reset value rebooted");
	fake_out(&f, X86_ACPI_RESET, 1, X86_ACPI_RESET_VAL);
	CHECK(f.stop_reason == VM_STOP_REBOOT, "reset register did not reboot");
	fake_env_destroy(&f);
}

static int bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0xF);
}

static void test_rtc_i8042(void)
{
	struct fake_env f;
	fake_env_init(&f);
	struct error err = { 0 };
	struct rtc *r = rtc_create(&f.svc, &err);
	CHECK(r, "rtc_create: %s", err.msg);

	SECTION("RTC date is the host's (UTC, BCD)");
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	fake_out(&f, X86_RTC_PORT, 1, 0x09);
	int year = bcd((uint8_t)fake_in(&f, X86_RTC_PORT + 1, 1));
	fake_out(&f, X86_RTC_PORT, 1, 0x32);
	int century = bcd((uint8_t)fake_in(&f, X86_RTC_PORT + 1, 1));
	fake_out(&f, X86_RTC_PORT, 1, 0x08);
	int month = bcd((uint8_t)fake_in(&f, X86_RTC_PORT + 1, 1));
	CHECK(century * 100 + year == tm.tm_year + 1900, "year %d%02d", century, year);
	CHECK(month == tm.tm_mon + 1, "month %d", month);
	fake_out(&f, X86_RTC_PORT, 1, 0x0D);
	CHECK(fake_in(&f, X86_RTC_PORT + 1, 1) & 0x80, "RTC not valid");

	SECTION("a guest write moves the clock (hwclock -w)");
	fake_out(&f, X86_RTC_PORT, 1, 0x09);
	fake_out(&f, X86_RTC_PORT + 1, 1, 0x99);
	CHECK(fake_in(&f, X86_RTC_PORT + 1, 1) == 0x99, "year write not kept");

	SECTION("hostile writes: 0xFF to the binary year, century and every field stay in range");
	fake_out(&f, X86_RTC_PORT, 1, 0x0B);
	fake_out(&f, X86_RTC_PORT + 1, 1, 0x06); /* binary, 24-hour */
	for (int n = 0; n < 1000; n++) {
		for (uint8_t reg = 0; reg <= 0x09; reg++) {
			fake_out(&f, X86_RTC_PORT, 1, reg);
			fake_out(&f, X86_RTC_PORT + 1, 1, 0xFF);
		}
		fake_out(&f, X86_RTC_PORT, 1, 0x32);
		fake_out(&f, X86_RTC_PORT + 1, 1, 0xFF);
	}
	fake_out(&f, X86_RTC_PORT, 1, 0x09);
	unsigned y = (unsigned)fake_in(&f, X86_RTC_PORT + 1, 1);
	fake_out(&f, X86_RTC_PORT, 1, 0x32);
	unsigned c = (unsigned)fake_in(&f, X86_RTC_PORT + 1, 1);
	CHECK(y <= 99 && c >= 19 && c <= 99, "binary year %u century %u", y, c);
	fake_out(&f, X86_RTC_PORT, 1, 0x32);
	fake_out(&f, X86_RTC_PORT + 1, 1, 99); /* year 99xx: the top of the range */
	fake_out(&f, X86_RTC_PORT, 1, 0x09);
	fake_out(&f, X86_RTC_PORT + 1, 1, 99);
	CHECK(fake_in(&f, X86_RTC_PORT + 1, 1) == 99, "year 9999 not kept");
	fake_out(&f, X86_RTC_PORT, 1, 0x32);
	CHECK(fake_in(&f, X86_RTC_PORT + 1, 1) == 99, "century 99 not kept");

	SECTION("clock extremes: clamped into 1900..9999, writes at the edges hold");
	struct fake_env g;
	fake_env_init(&g);
	struct rtc *r2 = rtc_create(&g.svc, &err);
	CHECK(r2, "rtc_create: %s", err.msg);
	fake_env_fake_clock(&g, INT64_MIN); /* 1677: before the RTC's range */
	fake_out(&g, X86_RTC_PORT, 1, 0x32);
	CHECK(fake_in(&g, X86_RTC_PORT + 1, 1) == 0x19, "century at INT64_MIN ns");
	fake_out(&g, X86_RTC_PORT, 1, 0x09);
	CHECK(fake_in(&g, X86_RTC_PORT + 1, 1) == 0x00, "year at INT64_MIN ns");
	fake_out(&g, X86_RTC_PORT, 1, 0x32);
	fake_out(&g, X86_RTC_PORT + 1, 1, 0x99); /* 9900: an offset of 8000 years */
	CHECK(fake_in(&g, X86_RTC_PORT + 1, 1) == 0x99, "century write not kept");
	fake_env_fake_clock(&g, INT64_MAX); /* 2262, plus the offset: past 9999 */
	CHECK(fake_in(&g, X86_RTC_PORT + 1, 1) == 0x99, "century past 9999");
	fake_out(&g, X86_RTC_PORT, 1, 0x09);
	CHECK(fake_in(&g, X86_RTC_PORT + 1, 1) == 0x99, "year past 9999 not clamped");
	fake_env_destroy(&g);

	SECTION("i8042 command 0xFE resets");
	struct i8042 *k = i8042_create(&f.svc, &err);
	CHECK(k, "i8042_create: %s", err.msg);
	fake_out(&f, X86_I8042_CMD, 1, 0xAA);
	CHECK(!(f.stop_reason != VM_STOP_NONE), "other command reset");
	fake_out(&f, X86_I8042_CMD, 1, 0xFE);
	CHECK(f.stop_reason == VM_STOP_REBOOT, "0xFE did not reset");
	fake_env_destroy(&f);
}

static void test_debug_exit(void)
{
	static const struct { unsigned len, off; uint64_t value; const char *msg; } cases[] = {
		{ 4, 0, 0, "debug-exit code 0" },        /* kvm-unit-tests: all passed */
		{ 4, 0, 77, "debug-exit code 77" },      /* skipped */
		{ 4, 0, 0xFFFFFFFFu, "debug-exit code 4294967295" },
		{ 1, 0, 0x1FF, "debug-exit code 255" },  /* a byte write is one byte */
		{ 2, 2, 0x12345, "debug-exit code 9029" },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_env f;
		fake_env_init(&f);
		struct error err = { 0 };
		SECTION("debug-exit: %u-byte write of 0x%llx at +%u", cases[i].len,
			(unsigned long long)cases[i].value, cases[i].off);
		CHECK(debug_exit_create(&f.svc, &err), "debug_exit_create: %s", err.msg);
		CHECK(fake_in(&f, X86_DEBUG_EXIT_PORT, 4) == 0, "reads are 0");
		CHECK(f.stop_reason == VM_STOP_NONE, "a read stopped the VM");
		fake_out(&f, X86_DEBUG_EXIT_PORT + cases[i].off, cases[i].len, cases[i].value);
		CHECK(f.stop_reason == VM_STOP_DEBUG_EXIT, "no debug-exit stop (%d)", f.stop_reason);
		CHECK(!strcmp(f.stop_msg, cases[i].msg), "message '%s', want '%s'", f.stop_msg,
		      cases[i].msg);
		fake_env_destroy(&f);
	}
	SECTION("debug-exit: without the device, port 0xf4 is nobody's");
	struct fake_env f;
	fake_env_init(&f);
	fake_out(&f, X86_DEBUG_EXIT_PORT, 4, 0);
	CHECK(f.stop_reason == VM_STOP_NONE, "a write to an absent device stopped the VM");
	fake_env_destroy(&f);
}

static void test_pci_host(void)
{
	struct fake_env f;
	fake_env_init(&f);
	struct error err = { 0 };
	struct pci_host *h = pci_host_create(&f.svc, &err);
	CHECK(h, "pci_host_create: %s", err.msg);

	SECTION("PCI conf1: the address register reads back; the host bridge is at 00:00.0");
	fake_out(&f, X86_PCI_CONF_ADDR, 4, 0x80000000u);
	CHECK(fake_in(&f, X86_PCI_CONF_ADDR, 4) == 0x80000000u, "address not kept");
	CHECK(fake_in(&f, X86_PCI_CONF_DATA, 4) == 0x00081B36u, "wrong vendor/device");
	fake_out(&f, X86_PCI_CONF_ADDR, 4, 0x80000008u);
	CHECK(fake_in(&f, X86_PCI_CONF_DATA + 2, 2) == 0x0600, "class is not host bridge");
	SECTION("nothing else on the bus; config cycles need the enable bit");
	fake_out(&f, X86_PCI_CONF_ADDR, 4, 0x80000800u); /* 00:01.0 */
	CHECK(fake_in(&f, X86_PCI_CONF_DATA, 4) == 0xFFFFFFFFu, "phantom device at 00:01.0");
	fake_out(&f, X86_PCI_CONF_ADDR, 4, 0x00000000u);
	CHECK(fake_in(&f, X86_PCI_CONF_DATA, 4) == 0xFFFFFFFFu, "config cycle without enable bit");
	SECTION("0xCF9 with the reset bit reboots");
	fake_out(&f, X86_PCI_CONF_ADDR + 1, 1, 0x02);
	CHECK(!(f.stop_reason != VM_STOP_NONE), "0xCF9 without reset bit rebooted");
	fake_out(&f, X86_PCI_CONF_ADDR + 1, 1, 0x06);
	CHECK(f.stop_reason == VM_STOP_REBOOT, "0xCF9 reset did not reboot");
	fake_env_destroy(&f);
}

int main(void)
{
	test_pci_host();
	test_serial();
	test_acpi_pm();
	test_rtc_i8042();
	test_debug_exit();
	puts("test_devices: all passed");
	return 0;
}
