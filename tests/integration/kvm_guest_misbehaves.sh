#!/bin/sh
# A guest that misbehaves on purpose (tests/guests/misbehave.S: unclaimed ports, large string
# I/O, accesses straddling device ranges, MMIO in the 32-bit hole, nonsense ACPI/RTC values,
# then a triple fault) cannot crash hardy: unclaimed reads give all ones, the run continues, and
# the triple fault ends the VM as a reboot with status 0 (the sanitized build reports no error).
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
guest=$HARDY_ROOT/build/guests/misbehave.elf
[ -f "$guest" ] || fail "no test guest at $guest (run make integration)"
log=$HARDY_TMP/console.log
hardy_run_expect 0 "$log" "$(scaled 20)" --kernel "$guest" --mem 64M
console_expect "$log" "misbehave: start" "the guest's first line"
console_expect "$log" "misbehave: insb=ffffffffffffffff" "all ones from rep insb on an unclaimed port"
console_expect "$log" "misbehave: mmio=ffffffffffffffff" "all ones from MMIO in the hole"
console_expect "$log" "misbehave: done" "the guest's last line before its triple fault"
