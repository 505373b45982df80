#!/bin/sh
# The guest's RAM matches --mem: with --mem 256M, MemTotal lies between 200 and 256 MiB (the
# kernel keeps some for itself; more than 256 MiB would mean a wrong e820 map).
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
log=$HARDY_TMP/console.log
hardy_run_expect 0 "$log" "$(scaled 30)" --mem 256M \
	--cmdline "$GUEST_CMDLINE_BASE hardy.action=poweroff"
console_expect "$log" "$GUEST_MARKER" "init banner"
kb=$(banner_field "$log" mem_kb)
[ -n "$kb" ] || fail "no mem_kb in the banner"
mib=$((kb / 1024))
note "MemTotal: $mib MiB for --mem 256M"
[ "$mib" -ge 200 ] && [ "$mib" -le 256 ] || fail "MemTotal $mib MiB is outside 200..256 MiB"
