#!/bin/sh
# A file that is not a Linux bzImage (no "HdrS" boot header) is refused with status 2.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
expect_usage_error "text file as kernel" run --kernel /etc/passwd
: >"$HARDY_TMP/empty"
expect_usage_error "empty file as kernel" run --kernel "$HARDY_TMP/empty"
expect_usage_error "directory as kernel" run --kernel "$HARDY_TMP"
