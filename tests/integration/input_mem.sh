#!/bin/sh
# --mem values that cannot work are refused with status 2: zero, more than the host has,
# garbage and unknown suffixes.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
expect_usage_error "--mem 0" run --mem 0
expect_usage_error "--mem 100T (more than the host)" run --mem 100T
expect_usage_error "--mem garbage" run --mem lots
expect_usage_error "--mem negative" run --mem -512M
expect_usage_error "--mem unknown suffix" run --mem 512Q
