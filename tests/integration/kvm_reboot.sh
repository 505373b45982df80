#!/bin/sh
# A guest that reboots makes hardy exit 0 (hardy does not restart the guest), whichever way the
# kernel resets the machine: the ACPI reset register (Linux's default), the keyboard controller
# (reboot=kbd), the PCI reset control port 0xCF9 (reboot=pci) and a triple fault
# (reboot=triple). Each must end the VM: a missed reset would leave it spinning until timeout.
# Status 0 every time; only the triple fault leaves a line on stderr.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
for how in acpi kbd pci triple; do
	log=$HARDY_TMP/console-$how.log
	hardy_run_expect 0 "$log" "$(scaled 30)" \
		--cmdline "console=ttyS0 quiet hardy.action=reboot reboot=$how"
	console_expect "$log" "hardy-guest: rebooting"
	# Only the triple fault is a reset the guest did not ask for: one line on stderr says so.
	if [ "$how" = triple ]; then
		grep -q "triple-faulted" "$log.err" || { show_file "$log.err"; fail "reboot=triple: no line on stderr"; }
	elif [ -s "$log.err" ]; then
		show_file "$log.err"
		fail "reboot=$how: stderr is not empty"
	fi
	note "reboot=$how: exit 0"
done
