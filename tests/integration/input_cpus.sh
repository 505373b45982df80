#!/bin/sh
# --cpus values that cannot work are refused with status 2: zero, past hardy's vCPU cap (checked
# before KVM is asked, so this needs no KVM), negative and garbage.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
expect_usage_error "--cpus 0" run --cpus 0
expect_usage_error "--cpus 100000" run --cpus 100000
expect_usage_error "--cpus -1" run --cpus -1
expect_usage_error "--cpus garbage" run --cpus two
