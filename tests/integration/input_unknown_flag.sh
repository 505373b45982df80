#!/bin/sh
# Bad usage is answered with status 2 and one line on stderr, before any VM exists (needs no KVM).
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
expect_usage_error "unknown run flag" run --no-such-flag
expect_usage_error "unknown subcommand" no-such-command
expect_usage_error "flag without its value" run --cpus
