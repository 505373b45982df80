#!/bin/sh
# The verbs that manage VMs by name (list, pause, resume, info, stop, kill) refuse bad usage and
# names no VM holds with one line and status 2, and `hardy list` on an empty runtime directory
# prints only its header. No KVM needed: no VM is started.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
HARDY_RUNTIME_DIR=$HARDY_TMP/rt
export HARDY_RUNTIME_DIR
expect_usage_error "pause without a name" pause
expect_usage_error "resume without a name" resume
expect_usage_error "info without a name" info
expect_usage_error "stop without a name" stop
expect_usage_error "kill without a name" kill
expect_usage_error "pause of an unknown VM" pause no-such-vm
expect_usage_error "resume of an unknown VM" resume no-such-vm
expect_usage_error "info of an unknown VM" info no-such-vm
expect_usage_error "info --json of an unknown VM" info no-such-vm --json
expect_usage_error "stop of an unknown VM" stop no-such-vm
expect_usage_error "kill of an unknown VM" kill no-such-vm
expect_usage_error "a name with a slash" info ../etc
expect_usage_error "two names" pause a b
expect_usage_error "an unknown option" kill --now a
expect_usage_error "stop --timeout junk" stop --timeout soon a
expect_usage_error "list with an argument" list extra
expect_usage_error "an unknown verb" frobnicate a
expect_usage_error "run --name with a slash" run --name a/b
expect_usage_error "run --name starting with a dot" run --name .x
mkdir -p "$HARDY_RUNTIME_DIR" && chmod 700 "$HARDY_RUNTIME_DIR"
out=$("$HARDY" list) || fail "hardy list exited $?"
[ "$out" = "$(echo "$out" | head -n 1)" ] && echo "$out" | grep -q '^NAME *PID *STATE *VCPUS *MEM *UPTIME$' ||
	fail "hardy list on an empty directory printed: $out"
note "ok: empty list: $out"
