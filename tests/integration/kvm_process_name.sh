#!/bin/sh
# A running VM shows as "hardy: NAME" in ps (process title, or at least its comm).
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
log=$HARDY_TMP/console.log
: >"$log"
timeout -k 10 "$(scaled 45)" "$HARDY" run --name pn1 --console "file:$log" \
	2>"$log.err" </dev/null &
pid=$!
wait_for_console "$log" "$GUEST_MARKER" "$(scaled 30)" "$pid"
found=no
for f in /proc/[0-9]*/cmdline /proc/[0-9]*/comm; do
	tr '\0' ' ' <"$f" 2>/dev/null | grep -q '^hardy: pn1' && found=yes
done
kill -TERM "$(vmm_pid "$pid")" # not via timeout: see kvm_sigterm
status=0
wait "$pid" || status=$?
[ "$found" = yes ] || fail "no process shows as 'hardy: pn1'"
[ "$status" = 0 ] || fail "hardy exited $status after SIGTERM"
