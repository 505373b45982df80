#!/bin/sh
# One vCPU: the default guest boots to its init banner, reports cpus=1, powers off, hardy exits 0.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
log=$HARDY_TMP/console.log
hardy_run_expect 0 "$log" "$(scaled 30)" --cpus 1 --mem 256M \
	--cmdline "$GUEST_CMDLINE_BASE hardy.action=poweroff"
console_expect "$log" "$GUEST_MARKER" "init banner"
cpus=$(banner_field "$log" cpus)
[ "$cpus" = 1 ] || fail "guest saw cpus=$cpus, expected 1"
console_expect "$log" "hardy-guest: powering off"
