#!/bin/sh
# A bzImage cut short (valid header, missing payload) is refused with status 2 before boot.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
head -c 100000 "$HARDY_GUEST/vmlinuz" >"$HARDY_TMP/truncated"
expect_usage_error "truncated bzImage (100000 bytes)" run --kernel "$HARDY_TMP/truncated"
