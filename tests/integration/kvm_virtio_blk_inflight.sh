#!/bin/sh
# virtio-blk with many requests in flight: in the default guest, blkpattern (tests/guest-bin/)
# writes a distinct pattern into every 4 KiB block of a 16 MiB disk from 32 threads at once
# (O_DIRECT, blocks out of order), syncs, and reads it all back from 16 threads; then the host
# checks the image file itself, block by block. Once with io_uring (the default) and once with
# aio=sync. The io_uring run has 2 vCPUs: the disk offers VIRTIO_BLK_F_MQ with one queue per
# vCPU, the guest's blk-mq must show 2 hardware queues, and submissions race from both.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
pattern=$HARDY_ROOT/build/guest-bin/blkpattern
[ -x "$pattern" ] || fail "no $pattern (run make integration)"

# inflight_check AIO CPUS SEED
inflight_check() {
	img=$HARDY_TMP/inflight-$1.img
	dd if=/dev/zero of="$img" bs=1M count=16 2>/dev/null
	cat >"$HARDY_TMP/inflight.sh" <<SCRIPT
echo "hardy-test: queues=\$(ls /sys/block/vda/mq | wc -l)"
blkpattern /dev/vda write 4096 32 $3 && blkpattern /dev/vda verify 4096 16 $3
echo "hardy-test: done=\$?"
SCRIPT
	test_initrd "$HARDY_TMP/initrd-inflight" "$HARDY_TMP/inflight.sh" blkpattern
	log=$HARDY_TMP/console-inflight-$1.log
	hardy_run_expect 0 "$log" "$(scaled 90)" --initrd "$HARDY_TMP/initrd-inflight" --cpus "$2" \
		--disk "$img,aio=$1" --cmdline "$GUEST_CMDLINE_BASE"
	console_expect "$log" "blkpattern: write ok blocks=4096" "aio=$1: the guest's parallel writes"
	console_expect "$log" "blkpattern: verify ok blocks=4096" "aio=$1: the guest's parallel reads"
	console_expect "$log" "hardy-test: done=0" "aio=$1: the guest script's result"
	console_expect "$log" "hardy-test: queues=$2" "aio=$1: one request queue per vCPU (blk-mq)"
	"$pattern" "$img" verify 4096 4 "$3" >"$HARDY_TMP/host-verify.out" 2>&1 ||
		{ show_file "$HARDY_TMP/host-verify.out"; fail "aio=$1: the image on the host is wrong"; }
	note "ok: aio=$1, $2 vCPU(s) and queue(s): 4096 blocks written by 32 threads in flight, read back, and right on the host"
}

inflight_check io_uring 2 0x5eed0001
inflight_check sync 1 0x5eed0002
