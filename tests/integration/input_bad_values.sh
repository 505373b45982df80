#!/bin/sh
# Malformed option values and files that cannot be used are refused with status 2 and one line
# before any VM exists (so this runs on hosts without KVM): an unknown --accel or --console
# kind, a console file in a missing directory, a --mem that is not a size, a missing initrd,
# a command line longer than the kernel accepts, an empty --name; and files that would never end
# or never open (/dev/zero as kernel or initrd, a FIFO nobody writes): refused, never a hang.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
expect_usage_error "unknown accel" run --accel warp
expect_usage_error "unknown console kind" run --console serial
expect_usage_error "console file in a missing directory" run --console file:/nonexistent-dir/c.log
expect_usage_error "size that is not a size" run --mem 12X
expect_usage_error "missing initrd" run --initrd /nonexistent-initrd
long=$(awk 'BEGIN { for (i = 0; i < 5000; i++) printf "x" }')
expect_usage_error "command line too long" run --cmdline "$long"
expect_usage_error "empty name" run --name ""
expect_usage_error "unknown command" frobnicate
expect_usage_error "endless kernel file" run --kernel /dev/zero
expect_usage_error "endless initrd file" run --initrd /dev/zero
mkfifo "$HARDY_TMP/fifo"
expect_usage_error "kernel FIFO without a writer" run --kernel "$HARDY_TMP/fifo"
expect_usage_error "console limit not a size" run --console-limit lots
expect_usage_error "console limit negative" run --console-limit -1M
expect_usage_error "soft profile without the soft CPU" run --accel kvm --soft-profile "$HARDY_TMP/p"
expect_usage_error "soft profile in a missing directory" run --accel soft --soft-profile /nonexistent-dir/p
