#!/bin/sh
# --cmdline reaches the guest's /proc/cmdline unchanged (a test cpio prints it), and the
# appended cpio is unpacked over the default initrd.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
cat >"$HARDY_TMP/test.sh" <<'SCRIPT'
echo "hardy-test: cmdline=[$(cat /proc/cmdline)]"
SCRIPT
test_initrd "$HARDY_TMP/initrd" "$HARDY_TMP/test.sh"
log=$HARDY_TMP/console.log
hardy_run_expect 0 "$log" "$(scaled 30)" --initrd "$HARDY_TMP/initrd" \
	--cmdline "$GUEST_CMDLINE_BASE hardy.test=xyz123 other=a,b"
console_expect "$log" "$GUEST_MARKER" "init banner"
console_expect "$log" "hardy-test: cmdline=\[.*hardy\.test=xyz123 other=a,b.*\]" "the test cpio's cmdline line"
