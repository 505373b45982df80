#!/bin/sh
# Two vCPUs racing (tests/guests/race.S): the second vCPU loops on port I/O to every device
# while the first ends the machine, by ACPI power-off and then, in a second run, by a triple
# fault. Both end with status 0; stderr is empty after the power-off and after the fault holds
# only the faulting vCPU's registers and the triple-fault line; the sanitized build reports no
# race.
# In the nested L1 this guest has crashed L1's kernel after other tests ran (a corrupted task
# stack under kvm_vcpu_ioctl: QEMU 7.2 TCG's SVM, see docs/testing.md), so it runs last there:
# run-integration: last in L1
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
guest=$HARDY_ROOT/build/guests/race.elf
[ -f "$guest" ] || fail "no test guest at $guest (run make integration)"
for how in poweroff triple; do
	log=$HARDY_TMP/$how.log
	hardy_run_expect 0 "$log" "$(scaled 40)" --kernel "$guest" --mem 64M --cpus 2 --cmdline "$how"
	# A run that ended early says why on stderr (a spontaneous triple fault: the state dump).
	grep -q "race: powering off\|race: triple fault" "$log" || show_file "$log.err"
	console_expect "$log" "race: second vCPU running" "the second vCPU's start ($how)"
	case $how in
	poweroff) console_expect "$log" "race: powering off" "the power-off line" ;;
	triple) console_expect "$log" "race: triple fault" "the triple-fault line" ;;
	esac
	# stderr: nothing after the power-off; after the triple fault the vCPU's state (a header,
	# its registers) and last the line saying so, nothing else.
	case $how in
	poweroff) [ -s "$log.err" ] && { show_file "$log.err"; fail "hardy printed on stderr for a power-off"; } ;;
	triple) expect_fault_stderr "$log.err" "triple-faulted" ;;
	esac
done
exit 0
