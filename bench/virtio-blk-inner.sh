#!/bin/sh
# The measuring half of bench/virtio-blk.sh: runs on a machine with a working /dev/kvm (the
# host, or the nested L1). Boots the default guest kernel with an initrd that carries blkbench
# (tests/guest-bin/blkbench.c) and a script, once per VMM and run, reads blkbench's result
# lines from the serial console and prints a markdown table of medians between
# "BENCH-TABLE: BEGIN" and "BENCH-TABLE: END".
# POSIX sh (busybox in L1). Usage: virtio-blk-inner.sh [RUNS]
#   env: BENCH_MEM_MIB (512), BENCH_CPUS (1), BENCH_SECS (5, per test), BENCH_DISK_MIB (256),
#        BENCH_SEQ_THREADS (4), BENCH_RAND_THREADS (16), HARDY
set -eu

RUNS=${1:-1}
ROOT=${HARDY_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
GUEST=$ROOT/build/guest
MEM=${BENCH_MEM_MIB:-512}
CPUS=${BENCH_CPUS:-1}
SECS=${BENCH_SECS:-5}
HARDY=${HARDY:-$ROOT/build/hardy}
WORK=${TMPDIR:-/tmp}/hardy-blkbench.$$
CMDLINE="console=ttyS0 quiet"

# bench_initrd OUT SCRIPT PROG... : the default initrd plus SCRIPT as /etc/hardy-test.sh (run
# by the guest's init, which powers off after it) and the static PROGs in /bin, as the tests'
# test_initrd does.
bench_initrd() {
	out=$1 script=$2
	shift 2
	rm -rf "$WORK/cpio"
	mkdir -p "$WORK/cpio/etc" "$WORK/cpio/bin"
	cp "$script" "$WORK/cpio/etc/hardy-test.sh"
	for prog in "$@"; do
		cp "$ROOT/build/guest-bin/$prog" "$WORK/cpio/bin/" ||
			{ echo "bench: no build/guest-bin/$prog (make integration builds it)" >&2; exit 1; }
	done
	(cd "$WORK/cpio" && find etc bin | cpio -o -H newc 2>/dev/null | gzip) >"$WORK/extra.cpio.gz"
	cat "$GUEST/initrd" "$WORK/extra.cpio.gz" >"$out"
}

# run_vm NAME LIMIT_S COMMAND... : runs the VM with its console into $WORK/NAME.log; the VM
# powers itself off when the guest script ends; killed after LIMIT_S.
run_vm() {
	name=$1 limit=$2
	shift 2
	"$@" >"$WORK/$name.log" 2>"$WORK/$name.err" </dev/null &
	pid=$!
	(sleep "$limit" && kill -9 "$pid") >/dev/null 2>&1 &
	watchdog=$!
	status=0
	wait "$pid" || status=$?
	kill "$watchdog" 2>/dev/null || true
	[ "$status" = 0 ] || echo "bench: $name exited $status" >&2
	tr -d '\r' <"$WORK/$name.log" | grep '^blkbench:' | sed "s/^/bench: $name: /" >&2 || true
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# field LOG MODE KEY : KEY's values in LOG's "blkbench: mode=MODE ..." lines, one a line.
field() {
	tr -d '\r' <"$1" | grep "^blkbench: mode=$2 " | sed -n "s/.* $3=\\([0-9.]*\\).*/\\1/p"
}

part_blk() {
	seq_t=${BENCH_SEQ_THREADS:-4}
	rand_t=${BENCH_RAND_THREADS:-16}
	img=$WORK/disk.img
	# Real pages (not a sparse file), so reads copy data rather than map holes.
	dd if=/dev/zero of="$img" bs=1M count="${BENCH_DISK_MIB:-256}" 2>/dev/null
	cat >"$WORK/guest.sh" <<SCRIPT
echo "blkbench: begin"
for t in "seqread 1048576 $seq_t" "seqwrite 1048576 $seq_t" "randread 4096 $rand_t" "randwrite 4096 $rand_t"; do
	set -- \$t
	blkbench /dev/vda \$1 \$2 \$3 $SECS || echo "blkbench: mode=\$1 failed"
done
SCRIPT
	bench_initrd "$WORK/initrd" "$WORK/guest.sh" blkbench
	limit=$((4 * SECS + 180))
	qemu="qemu-system-x86_64 -M pc -accel kvm -m $MEM -smp $CPUS -nodefaults -no-reboot
		-display none -serial stdio -kernel $GUEST/vmlinuz -initrd $WORK/initrd -append"
	qdrive="file=$img,if=none,id=d0,format=raw,cache=writeback"
	vmms="hardy hardy-aio-sync qemu-pc-io_uring qemu-pc-threads"
	i=0
	while [ $i -lt "$RUNS" ]; do
		i=$((i + 1))
		for vmm in $vmms; do
			case $vmm in
			hardy | hardy-aio-sync)
				aio=io_uring
				[ "$vmm" = hardy-aio-sync ] && aio=sync
				run_vm "$vmm.$i" "$limit" "$HARDY" run --kernel "$GUEST/vmlinuz" \
					--initrd "$WORK/initrd" --mem "${MEM}M" --cpus "$CPUS" \
					--cmdline "$CMDLINE" --console stdio --no-rng --disk "$img,aio=$aio"
				;;
			qemu-pc-*)
				# shellcheck disable=SC2086 # $qemu is a word list
				run_vm "$vmm.$i" "$limit" $qemu "$CMDLINE" \
					-drive "$qdrive,aio=${vmm#qemu-pc-}" -device virtio-blk-pci,drive=d0
				;;
			esac
		done
	done
	echo "| VMM | seq read 1 MiB x$seq_t (MB/s) | seq write 1 MiB x$seq_t (MB/s) |" \
		"rand read 4 KiB x$rand_t (IOPS) | rand write 4 KiB x$rand_t (IOPS) | runs ok |"
	echo "|---|---:|---:|---:|---:|---:|"
	for vmm in $vmms; do
		cat "$WORK/$vmm".*.log >"$WORK/$vmm.all"
		ok=$(tr -d '\r' <"$WORK/$vmm.all" | grep -c '^blkbench: mode=randwrite .*IOPS=' || true)
		row="| $vmm"
		for m in seqread seqwrite; do
			row="$row | $(field "$WORK/$vmm.all" $m MBps | median)"
		done
		for m in randread randwrite; do
			row="$row | $(field "$WORK/$vmm.all" $m IOPS | median)"
		done
		echo "$row | $ok/$RUNS |"
		[ "$ok" = "$RUNS" ] || tail -n 3 "$WORK/$vmm.1.err" | sed "s/^/bench: $vmm: /" >&2
	done
	echo
	echo "mem ${MEM} MiB, ${CPUS} vCPU, ${SECS} s per test, $RUNS run(s) each (medians), image" \
		"${BENCH_DISK_MIB:-256} MiB raw; guest: O_DIRECT pread/pwrite from N threads; kernel" \
		"$(cat "$GUEST/kernel-release" 2>/dev/null)"
}

mkdir -p "$WORK"
part_blk >"$WORK/table.md"
echo "BENCH-TABLE: BEGIN"
cat "$WORK/table.md"
echo "BENCH-TABLE: END"
rm -rf "$WORK"
