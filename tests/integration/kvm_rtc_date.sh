#!/bin/sh
# The guest's date is the host's: the CMOS RTC reads the host clock, so the guest's
# `date +%s` right after boot is within a minute of the host's time (nested runs included).
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
cat >"$HARDY_TMP/test.sh" <<'SCRIPT'
echo "hardy-test: epoch=$(date +%s)"
SCRIPT
test_initrd "$HARDY_TMP/initrd" "$HARDY_TMP/test.sh"
log=$HARDY_TMP/console.log
hardy_run_expect 0 "$log" "$(scaled 30)" --initrd "$HARDY_TMP/initrd" --cmdline "$GUEST_CMDLINE_BASE"
host_now=$(date +%s)
guest=$(sed -n 's/.*hardy-test: epoch=\([0-9]*\).*/\1/p' "$log" | head -n 1)
[ -n "$guest" ] || { show_file "$log"; fail "the guest printed no date"; }
diff=$((host_now - guest))
[ "$diff" -lt 0 ] && diff=$((-diff))
note "guest epoch $guest, host epoch $host_now (after the run), difference ${diff}s"
[ "$diff" -le 60 ] || fail "guest clock is ${diff}s away from the host's"
