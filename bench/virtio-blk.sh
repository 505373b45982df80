#!/bin/bash
# virtio-blk benchmark: sequential read and write in 1 MiB blocks (4 in flight) and random
# 4 KiB reads and writes (16 in flight), O_DIRECT in the guest (tests/guest-bin/blkbench.c),
# for hardy (io_uring, and aio=sync) and `qemu-system-x86_64 -M pc` with virtio-blk-pci
# (aio=io_uring and aio=threads), all with the same kernel, initrd, memory, vCPUs and the same
# raw image, host page cache on for every VMM (hardy's images are buffered; QEMU gets
# cache=writeback). The measuring is bench/io-inner.sh's part "blk". Runs directly when KVM
# works here, otherwise inside the nested L1 of tests/harness/host.sh (QEMU, its libraries and
# firmware copied in): there every number is under emulation; compare VMMs with each other.
# Writes the table to build/bench/virtio-blk.md and prints it.
# Usage: bench/virtio-blk.sh [RUNS]   (env: see bench/io-inner.sh; BENCH_SECS=5 per test)
set -eu

source "$(dirname "$0")/../tests/harness/host.sh"
cd "$HARDY_ROOT"
RUNS=${1:-1}
OUT=build/bench
PART=blk
mkdir -p "$OUT"

describe_environment() {
	echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "- host CPU: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) CPUs"
	echo "- host kernel: $(uname -r); QEMU: $(qemu-system-x86_64 --version | head -n1)"
	echo "- guest kernel: $(cat build/guest/kernel-release)"
	echo "- hardy: $([ -x build/hardy ] && build/hardy --version 2>/dev/null || echo 'not built')" \
		"(commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ', modified'))"
}

[ -f build/guest/vmlinuz ] || { echo "bench/virtio-blk.sh: run make guest first" >&2; exit 1; }
[ -x build/guest-bin/blkbench ] || { echo "bench/virtio-blk.sh: run make build/guest-bin/blkbench" >&2; exit 1; }
{
	if kvm_usable; then
		echo "- mode: direct (/dev/kvm on the host)"
		describe_environment
		echo
		sh bench/io-inner.sh "$PART" "$RUNS" | sed -n '/^BENCH-TABLE: BEGIN/,/^BENCH-TABLE: END/p'
	else
		echo "- mode: nested (L1 under qemu -accel tcg -cpu EPYC,+svm, ${L1_CPUS} vCPUs," \
			"${L1_MEM} MiB; the VMMs run with -accel kvm inside L1; the image is in L1's tmpfs)"
		describe_environment
		echo
		job=$OUT/l1-job-$PART.sh
		vars=""
		for v in BENCH_MEM_MIB BENCH_CPUS BENCH_SECS BENCH_DISK_MIB BENCH_SEQ_THREADS BENCH_RAND_THREADS; do
			[ -n "${!v:-}" ] && vars="$vars $v=${!v}"
		done
		echo "exec env$vars sh /hardy/bench/io-inner.sh $PART $RUNS" >"$job"
		build_l1 "$OUT/l1-$PART.cpio" "$job" --with-qemu
		boot_l1 "$OUT/l1-$PART.cpio" "$OUT/l1-$PART-console.log" 1800 >/dev/null || true
		tr -d '\r' <"$OUT/l1-$PART-console.log" | grep '^bench:' >&2 || true
		tr -d '\r' <"$OUT/l1-$PART-console.log" | sed -n '/^BENCH-TABLE: BEGIN/,/^BENCH-TABLE: END/p'
	fi
} | grep -v '^BENCH-TABLE:' >"$OUT/virtio-blk.md"
cat "$OUT/virtio-blk.md"
grep -q '^| qemu-pc-threads |' "$OUT/virtio-blk.md" || { echo "bench/virtio-blk.sh: no results" >&2; exit 1; }
