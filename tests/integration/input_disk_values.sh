#!/bin/sh
# --disk values that cannot work are refused with status 2 and one line before any VM exists
# (so this runs on hosts without KVM): no path, an unknown option or aio engine, ids that are empty, too long
# or not printable, a missing image, a directory, an image smaller than a sector, more than 8
# disks; and an image another process holds a lock on (as a second hardy or QEMU would): a
# writer's lock refuses both read-write and read-only use, a reader's lock refuses read-write.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
hold=$HARDY_ROOT/build/host-bin/hold-lock
[ -x "$hold" ] || fail "no $hold (run make integration)"
img=$HARDY_TMP/disk.img
dd if=/dev/zero of="$img" bs=1M count=1 2>/dev/null
: >"$HARDY_TMP/tiny.img"

expect_usage_error "disk without a path" run --disk ",ro"
expect_usage_error "disk with an unknown option" run --disk "$img,rw"
expect_usage_error "disk with an unknown aio engine" run --disk "$img,aio=threads"
expect_usage_error "disk with an empty id" run --disk "$img,id="
expect_usage_error "disk id longer than 20 bytes" run --disk "$img,id=abcdefghijklmnopqrstu"
expect_usage_error "disk id with a space" run --disk "$img,id=a b"
expect_usage_error "missing disk image" run --disk /nonexistent-disk.img
expect_usage_error "disk image that is a directory" run --disk "$HARDY_TMP"
expect_usage_error "empty disk image" run --disk "$HARDY_TMP/tiny.img"
expect_usage_error "nine disks" run --disk "$img,ro" --disk "$img,ro" --disk "$img,ro" \
	--disk "$img,ro" --disk "$img,ro" --disk "$img,ro" --disk "$img,ro" --disk "$img,ro" \
	--disk "$img,ro"

# locked_check MODE WHAT ARGS... : with hold-lock holding MODE on the image, hardy ARGS is
# refused, and the message says the image is in use.
locked_check() {
	_mode=$1 _what=$2
	shift 2
	"$hold" "$img" "$_mode" >"$HARDY_TMP/hold.out" &
	_holder=$!
	_n=0
	until grep -q locked "$HARDY_TMP/hold.out" 2>/dev/null; do
		[ "$_n" -ge 50 ] && { kill "$_holder"; fail "hold-lock never took its lock"; }
		sleep 0.1
		_n=$((_n + 1))
	done
	expect_usage_error "$_what" "$@"
	grep -q "in use" "$HARDY_TMP/usage.err" || { kill "$_holder"; show_file "$HARDY_TMP/usage.err";
		fail "$_what: the message does not say the image is in use"; }
	kill "$_holder"
	wait "$_holder" 2>/dev/null || true
}
locked_check rw "image locked by a writer, opened read-write" run --disk "$img"
locked_check rw "image locked by a writer, opened read-only" run --disk "$img,ro"
locked_check ro "image locked by a reader, opened read-write" run --disk "$img"
