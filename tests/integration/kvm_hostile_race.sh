#!/bin/sh
# Two vCPUs racing (tests/guests/race.S): the second vCPU loops on port I/O to every device
# while the first ends the machine, by ACPI power-off and then, in a second run, by a triple
# fault. Both end with status 0; stderr is empty after the power-off and holds only the
# triple-fault line after the fault; the sanitized build reports no race.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
guest=$HARDY_ROOT/build/guests/race.elf
[ -f "$guest" ] || fail "no test guest at $guest (run make integration)"
for how in poweroff triple; do
	log=$HARDY_TMP/$how.log
	hardy_run_expect 0 "$log" "$(scaled 40)" --kernel "$guest" --mem 64M --cpus 2 --cmdline "$how"
	console_expect "$log" "race: second vCPU running" "the second vCPU's start ($how)"
	case $how in
	poweroff) console_expect "$log" "race: powering off" "the power-off line" ;;
	triple) console_expect "$log" "race: triple fault" "the triple-fault line" ;;
	esac
	# stderr: nothing after the power-off; after the triple fault exactly the line saying so.
	case $how in
	poweroff) ! [ -s "$log.err" ] ;;
	triple) [ "$(wc -l <"$log.err")" = 1 ] && grep -q "triple-faulted" "$log.err" ;;
	esac || { show_file "$log.err"; fail "hardy's stderr is not what a $how gives"; }
done
exit 0
