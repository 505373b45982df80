#!/bin/sh
# Without /dev/kvm, `hardy run --accel kvm` fails (non-zero) with one line saying KVM is
# unavailable. Only meaningful on a host without /dev/kvm; skipped elsewhere.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
[ -e /dev/kvm ] && skip "this host has /dev/kvm"
status=0
timeout -k 5 10 "$HARDY" run --accel kvm --console none 2>"$HARDY_TMP/err" </dev/null || status=$?
is_timeout_status "$status" && fail "hardy run --accel kvm hung without /dev/kvm"
[ "$status" != 0 ] || fail "hardy run --accel kvm succeeded without /dev/kvm"
[ "$(line_count "$HARDY_TMP/err")" = 1 ] || { show_file "$HARDY_TMP/err"; fail "expected one line on stderr"; }
grep -qi 'kvm' "$HARDY_TMP/err" || { show_file "$HARDY_TMP/err"; fail "the error does not mention KVM"; }
