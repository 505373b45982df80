#!/bin/sh
# Hostile guests cannot crash, hang or corrupt hardy (run under the sanitized build, where any
# sanitizer report is exit 99):
# - tests/guests/hostile_io.S: string port I/O with large counts to every device port, forwards
#   and with DF=1 and across the end of RAM; every PCI config dword, absent functions and buses,
#   unaligned data-port accesses; every SLP_TYP; every CMOS index and 0xFF into the binary year;
#   UART divisor 0, loopback and an interrupt storm; every i8042 command but reset. It then
#   powers off: status 0, and the values it read are those of a sane PC. It expects bus 0 to
#   hold only the host bridge, so that run has --no-rng; a second run with the default
#   virtio-rng at 00:01.0 (its config space read like the rest) must end the same way.
# - tests/guests/hostile_mmio.S: MMIO of every size and kind (SSE, locked, string, straddling)
#   to the hole, the APIC pages and beyond RAM; INIT/SIPI storms at absent APIC IDs; then an
#   INIT to itself, which is a reset: status 0 and nothing on stderr. With --cmdline unemulated
#   it does an MMIO load KVM cannot emulate: status 1, stderr the vCPU state and, last, a line
#   naming the suberror and RIP. hardy's soft CPU emulates that load: all ones, then the reset.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
dir=$HARDY_ROOT/build/guests
for g in hostile_io hostile_mmio; do
	[ -f "$dir/$g.elf" ] || fail "no test guest at $dir/$g.elf (run make integration)"
done

log=$HARDY_TMP/io.log
hardy_run_expect 0 "$log" "$(scaled 60)" --kernel "$dir/hostile_io.elf" --mem 64M --no-rng
console_expect "$log" "hostile_io: string I/O done" "string I/O survived"
console_expect "$log" "hostile_io: last RAM qword=ffffffffffffffff" \
	"all ones from rep insb across the end of RAM"
console_expect "$log" "hostile_io: pci absent=00000000ffffffff" "all ones from absent PCI functions"
console_expect "$log" "hostile_io: pci 00:00.0=0000000000081b36" \
	"the host bridge intact after writes"
console_expect "$log" "hostile_io: acpi done" "no sleep state but S5 stopped the guest"
console_expect "$log" "hostile_io: rtc year=00000000000000[0-9][0-9]" "a BCD year after the abuse"
console_expect "$log" "hostile_io: uart loopback=000000000000005a" "the loopback byte came back"
log_rng=$HARDY_TMP/io-rng.log
hardy_run_expect 0 "$log_rng" "$(scaled 60)" --kernel "$dir/hostile_io.elf" --mem 64M
console_expect "$log_rng" "hostile_io: done" "the same abuse with virtio-rng on bus 0"
console_expect "$log" "hostile_io: i8042 done" "no i8042 command but 0xFE reset"
console_expect "$log" "hostile_io: done" "the guest's last line before S5"
[ -s "$log.err" ] && { show_file "$log.err"; fail "hardy printed on stderr for a clean power-off"; }

log=$HARDY_TMP/mmio.log
hardy_run_expect 0 "$log" "$(scaled 60)" --kernel "$dir/hostile_mmio.elf" --mem 64M
console_expect "$log" "hostile_mmio: every kind done" "every MMIO kind survived"
console_expect "$log" "hostile_mmio: hole=ffffffffffffffff" "all ones from the hole"
console_expect "$log" "hostile_mmio: sse=ffffffffffffffff" "all ones from an SSE read of the hole"
console_expect "$log" "hostile_mmio: string=ffffffffffffffff" "all ones from rep movsb beyond RAM"
console_expect "$log" "hostile_mmio: IPI storm done" "INIT/SIPI to absent APIC IDs survived"
console_expect "$log" "hostile_mmio: INIT to self" "the guest's last line before its INIT"
[ -s "$log.err" ] && { show_file "$log.err"; fail "hardy printed on stderr for a reset"; }

log=$HARDY_TMP/unemulated.log
if [ "${HARDY_ACCEL:-}" = soft ]; then
	# hardy's CPU emulates every load: the guest reads all ones and resets.
	hardy_run_expect 0 "$log" "$(scaled 30)" --kernel "$dir/hostile_mmio.elf" --mem 64M \
		--cmdline unemulated
	console_expect "$log" "hostile_mmio: unemulated load=ffffffffffffffff" \
		"all ones from an SSE load KVM cannot emulate"
	console_expect "$log" "hostile_mmio: INIT to self" "the reset after it"
	[ -s "$log.err" ] && { show_file "$log.err"; fail "hardy printed on stderr for a reset"; }
	exit 0
fi
hardy_run_expect 1 "$log" "$(scaled 30)" --kernel "$dir/hostile_mmio.elf" --mem 64M \
	--cmdline unemulated
console_expect "$log" "hostile_mmio: unemulated MMIO" "the guest's line before the load"
expect_fault_stderr "$log.err" \
	"vCPU 0: KVM internal error 1 (an instruction KVM cannot emulate) at guest RIP 0x2[0-9a-f]*$"
exit 0
