#!/bin/sh
# A kernel path that does not exist is bad input: status 2, one line, no VM.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
expect_usage_error "missing kernel" run --kernel "$HARDY_TMP/no-such-vmlinuz"
expect_usage_error "missing initrd" run --initrd "$HARDY_TMP/no-such-initrd"
