#!/bin/sh
# An initrd that cannot fit in guest RAM (100 MiB into --mem 64M) is refused with status 2.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
truncate -s 100M "$HARDY_TMP/big-initrd" 2>/dev/null ||
	dd if=/dev/zero of="$HARDY_TMP/big-initrd" bs=1048576 count=0 seek=100 2>/dev/null
expect_usage_error "100 MiB initrd, 64 MiB RAM" run --mem 64M --initrd "$HARDY_TMP/big-initrd"
