#!/bin/sh
# --vsock values that cannot work are refused with status 2 and one line before any VM exists
# (so this runs on hosts without KVM): CIDs 0-2 (reserved) and past 32 bits, a missing cid or
# uds, an unknown option, a path too long for sun_path with its _PORT suffix, a path that
# exists and is not a socket, a socket another process listens on, a missing directory, and
# a second --vsock (a stale socket file is replaced: kvm_virtio_vsock).
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
echo_srv=$HARDY_ROOT/build/host-bin/uds-echo
[ -x "$echo_srv" ] || fail "no $echo_srv (run make integration)"
sock=$HARDY_TMP/v.sock
long=/tmp/$(awk 'BEGIN { for (i = 0; i < 92; i++) printf "x" }')

expect_usage_error "vsock cid 2 (the host's)" run --vsock "cid=2,uds=$sock"
expect_usage_error "vsock cid 0" run --vsock "cid=0,uds=$sock"
expect_usage_error "vsock cid past 32 bits" run --vsock "cid=4294967296,uds=$sock"
expect_usage_error "vsock cid not a number" run --vsock "cid=three,uds=$sock"
expect_usage_error "vsock without uds" run --vsock "cid=3"
expect_usage_error "vsock without cid" run --vsock "uds=$sock"
expect_usage_error "vsock with an empty uds" run --vsock "cid=3,uds="
expect_usage_error "vsock with an unknown option" run --vsock "cid=3,uds=$sock,mode=fast"
expect_usage_error "vsock uds path too long for sun_path" run --vsock "cid=3,uds=$long"
expect_usage_error "two vsock devices" run --vsock "cid=3,uds=$sock" --vsock "cid=4,uds=$sock.2"
: >"$HARDY_TMP/plain"
expect_usage_error "vsock uds path is a regular file" run --vsock "cid=3,uds=$HARDY_TMP/plain"
expect_usage_error "vsock uds path is a directory" run --vsock "cid=3,uds=$HARDY_TMP"
expect_usage_error "vsock uds in a missing directory" run --vsock "cid=3,uds=/nonexistent-dir/v.sock"
[ -f "$HARDY_TMP/plain" ] || fail "the regular file at the uds path was removed"

# A socket somebody listens on is in use.
"$echo_srv" "$sock" >"$HARDY_TMP/echo.out" &
srv=$!
n=0
until grep -q listening "$HARDY_TMP/echo.out" 2>/dev/null; do
	[ "$n" -ge 50 ] && { kill "$srv"; fail "uds-echo never listened"; }
	sleep 0.1
	n=$((n + 1))
done
expect_usage_error "vsock uds that another process listens on" run --vsock "cid=3,uds=$sock"
grep -q "in use" "$HARDY_TMP/usage.err" || { kill "$srv"; fail "the message does not say in use"; }
kill "$srv"
wait "$srv" 2>/dev/null || true
[ -S "$sock" ] || fail "hardy removed a socket that was in use"
