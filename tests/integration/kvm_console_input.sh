#!/bin/sh
# Console input reaches the guest: with --console stdio, bytes written to hardy's stdin arrive
# at the guest shell through the UART's receive path and interrupt; the shell's output comes
# back on stdout; `exit` ends the shell, init powers off, hardy exits 0.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
log=$HARDY_TMP/console.log
fifo=$HARDY_TMP/stdin
mkfifo "$fifo"
timeout -k 10 "$(scaled 60)" "$HARDY" run --console stdio --cmdline "$GUEST_CMDLINE_BASE" \
	<"$fifo" >"$log" 2>"$log.err" &
pid=$!
exec 3>"$fifo"
wait_for_console "$log" "$GUEST_MARKER" "$(scaled 30)" "$pid"
# The shell computes the value, so it can only appear if the line was read and run.
printf 'echo in-$((6*7))-put\n' >&3
wait_for_console "$log" "in-42-put" "$(scaled 20)" "$pid"
printf 'exit\n' >&3
status=0
wait "$pid" || status=$?
exec 3>&-
[ "$status" = 0 ] || { show_file "$log.err"; fail "hardy exited $status after the shell exited"; }
