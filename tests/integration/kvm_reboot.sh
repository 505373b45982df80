#!/bin/sh
# A guest that reboots makes hardy exit 0 (hardy does not restart the guest).
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
log=$HARDY_TMP/console.log
hardy_run_expect 0 "$log" "$(scaled 30)" --cmdline "console=ttyS0 hardy.action=reboot"
console_expect "$log" "hardy-guest: rebooting"
console_expect "$log" "reboot: Restarting system" "the kernel's restart message"
