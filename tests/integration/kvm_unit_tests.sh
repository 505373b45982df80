#!/bin/sh
# hardy-test-limit: 400
# kvm-unit-tests on --accel kvm (tests/harness/kut-run says how they run and are judged).
[ -e /dev/kvm ] || { . "$HARDY_ROOT/tests/harness/lib.sh"; skip "no /dev/kvm"; }
ACCEL=kvm
. "$HARDY_ROOT/tests/harness/kut-run"
