#!/bin/sh
# A guest that powers off (ACPI S5 through the kernel's poweroff) makes hardy exit 0.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
log=$HARDY_TMP/console.log
hardy_run_expect 0 "$log" "$(scaled 30)" --cmdline "console=ttyS0 hardy.action=poweroff"
console_expect "$log" "hardy-guest: powering off"
console_expect "$log" "reboot: Power down" "the kernel's power-down message"
