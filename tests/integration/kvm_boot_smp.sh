#!/bin/sh
# Two vCPUs: the guest must bring up exactly --cpus CPUs (found through ACPI's MADT).
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
log=$HARDY_TMP/console.log
hardy_run_expect 0 "$log" "$(scaled 30)" --cpus 2 --mem 256M \
	--cmdline "$GUEST_CMDLINE_BASE hardy.action=poweroff"
console_expect "$log" "$GUEST_MARKER" "init banner"
cpus=$(banner_field "$log" cpus)
[ "$cpus" = 2 ] || fail "guest saw cpus=$cpus, expected 2"
