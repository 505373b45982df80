#!/bin/sh
# A guest that ignores the power button (tests/guests/spin.S: interrupts off, spinning) is
# stopped by a second SIGTERM: the vCPU is kicked out of guest mode, hardy exits 1 with one line
# on stderr, promptly.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
guest=$HARDY_ROOT/build/guests/spin.elf
[ -f "$guest" ] || fail "no test guest at $guest (run make integration)"
log=$HARDY_TMP/console.log
timeout -k 10 "$(scaled 30)" "$HARDY" run --kernel "$guest" --mem 64M --console "file:$log" \
	>"$log.out" 2>"$log.err" </dev/null &
pid=$!
wait_for_console "$log" "spin: spinning" "$(scaled 10)" "$pid"
# The signals go to hardy itself: GNU timeout passes on only the first signal it gets.
vmm=$(vmm_pid "$pid")
kill -TERM "$vmm"
sleep 1
kill -0 "$pid" 2>/dev/null || { show_file "$log.err"; fail "hardy ended on the first SIGTERM"; }
kill -TERM "$vmm"
status=0
wait "$pid" || status=$?
is_timeout_status "$status" && fail "hardy did not stop after a second SIGTERM"
[ "$status" = 1 ] || { show_file "$log.err"; fail "hardy exited $status, expected 1"; }
[ "$(line_count "$log.err")" = 1 ] || { show_file "$log.err"; fail "expected one line on stderr"; }
grep -q 'TERM' "$log.err" || { show_file "$log.err"; fail "stderr does not say why it stopped"; }
