#!/bin/sh
# Without a usable KVM, `hardy run --accel kvm` fails (non-zero) with one line saying so.
# Usable means /dev/kvm opens and the CPU has VT-x/AMD-V: a software KVM (kvm-pvm) on a CPU
# without them cannot run unmodified kernels, and hardy must say so instead of failing later.
# Only meaningful on a host without a usable KVM; skipped elsewhere.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
if (exec 3<>/dev/kvm) 2>/dev/null && grep -qE '\b(vmx|svm)\b' /proc/cpuinfo; then
	skip "this host has a usable KVM"
fi
status=0
timeout -k 5 10 "$HARDY" run --accel kvm --console none 2>"$HARDY_TMP/err" </dev/null || status=$?
is_timeout_status "$status" && fail "hardy run --accel kvm hung without /dev/kvm"
[ "$status" != 0 ] || fail "hardy run --accel kvm succeeded without /dev/kvm"
[ "$(line_count "$HARDY_TMP/err")" = 1 ] || { show_file "$HARDY_TMP/err"; fail "expected one line on stderr"; }
grep -qi 'kvm' "$HARDY_TMP/err" || { show_file "$HARDY_TMP/err"; fail "the error does not mention KVM"; }
