#!/bin/sh
# hardy-test-limit: 900
# kvm-unit-tests on --accel soft, hardy's own CPU, directly on this host (no KVM needed):
# every test QEMU's TCG passes must pass (tests/harness/kut-run).
ACCEL=soft
. "$HARDY_ROOT/tests/harness/kut-run"
