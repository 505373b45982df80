#!/bin/sh
# --version, help and run --help answer on stdout with status 0 and start nothing.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
for args in "--version" "help" "run --help"; do
	status=0
	# shellcheck disable=SC2086 # split on purpose
	timeout 10 "$HARDY" $args >"$HARDY_TMP/out" 2>"$HARDY_TMP/err" </dev/null || status=$?
	[ "$status" = 0 ] || { show_file "$HARDY_TMP/err"; fail "hardy $args exited $status"; }
	[ -s "$HARDY_TMP/out" ] || fail "hardy $args printed nothing on stdout"
done
timeout 10 "$HARDY" --version | grep -qF "$(cat "$HARDY_ROOT/VERSION")" ||
	fail "hardy --version does not print the VERSION file's $(cat "$HARDY_ROOT/VERSION")"
timeout 10 "$HARDY" run --help | grep -q -- '--cpus' || fail "hardy run --help does not mention --cpus"
