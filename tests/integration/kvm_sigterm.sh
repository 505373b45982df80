#!/bin/sh
# SIGTERM to hardy presses the ACPI power button: the default guest (defaults for kernel, initrd
# and command line, sitting in its shell) shuts down cleanly and hardy exits 0.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
log=$HARDY_TMP/console.log
: >"$log"
timeout -k 10 "$(scaled 45)" "$HARDY" run --name sigterm-test --console "file:$log" \
	2>"$log.err" </dev/null &
pid=$!
wait_for_console "$log" "$GUEST_MARKER" "$(scaled 30)" "$pid"
sleep "$(scaled 1)"
# To hardy itself: GNU timeout would pass one TERM on twice (to hardy and to its process
# group), and a second TERM stops the VM at once.
kill -TERM "$(vmm_pid "$pid")"
status=0
wait "$pid" || status=$?
console_expect "$log" "hardy-guest: power button, shutting down" "the guest's shutdown line"
[ "$status" = 0 ] || { show_file "$log.err"; fail "hardy exited $status after SIGTERM, expected 0"; }
