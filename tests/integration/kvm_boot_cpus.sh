#!/bin/sh
# The default guest boots to its init banner with 1, 2 and 3 vCPUs and brings up exactly --cpus
# CPUs (found through ACPI's MADT; 3 is not a power of two, which the CPUID topology must
# handle), then powers off and hardy exits 0.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
for n in 1 2 3; do
	log=$HARDY_TMP/console-$n.log
	hardy_run_expect 0 "$log" "$(scaled 30)" --cpus "$n" --mem 256M \
		--cmdline "$GUEST_CMDLINE_BASE hardy.action=poweroff"
	console_expect "$log" "$GUEST_MARKER" "init banner"
	cpus=$(banner_field "$log" cpus)
	[ "$cpus" = "$n" ] || { show_file "$log"; fail "guest saw cpus=$cpus, expected $n"; }
	console_expect "$log" "hardy-guest: powering off"
	note "--cpus $n: guest brought up $cpus CPUs"
done
