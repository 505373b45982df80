#!/bin/bash
# Soft-CPU boot benchmark (issue 11): time from `hardy run --accel soft` to the guest's init
# banner, side by side with `qemu-system-x86_64 -accel tcg` (-M microvm and -M pc) booting the
# same kernel and initramfs in the same run, for the default guest's kernel and Debian's generic
# kernel (build/guest-generic, `make guest-generic`), 1 and 2 vCPUs. Runs directly on this host:
# neither side needs KVM. The measuring is bench/boot-inner.sh's (BENCH_ACCEL=soft).
# Writes build/bench/soft-boot.md and prints it.
# Usage: bench/soft-boot.sh [RUNS]   (env: BENCH_MEM_MIB=512, BENCH_TIMEOUT=600, BENCH_CPU_LIST,
# BENCH_QEMU_MACHINES="microvm pc")
set -eu

source "$(dirname "$0")/lib.sh"
cd "$HARDY_ROOT"
RUNS=${1:-3}
out=build/bench/soft-boot.md
mkdir -p build/bench
[ -f build/guest/vmlinuz ] || { echo "bench/soft-boot.sh: run make guest first" >&2; exit 1; }
kernels="build/guest/vmlinuz"
[ -f build/guest-generic/vmlinuz ] && kernels="$kernels build/guest-generic/vmlinuz"
{
	echo "- mode: direct (no KVM: hardy --accel soft, QEMU -accel tcg)"
	describe_environment
	echo
	for k in $kernels; do
		for cpus in ${BENCH_CPU_LIST:-1 2}; do
			BENCH_ACCEL=soft BENCH_KERNEL=$HARDY_ROOT/$k BENCH_CPUS=$cpus \
				BENCH_TIMEOUT=${BENCH_TIMEOUT:-600} sh bench/boot-inner.sh "$RUNS" |
				sed -n '/^BENCH-TABLE: BEGIN/,/^BENCH-TABLE: END/p' | grep -v '^BENCH-TABLE:'
			echo
		done
	done
} >"$out"
cat "$out"
grep -q '^| hardy-soft | [0-9]' "$out" || { echo "bench/soft-boot.sh: hardy did not boot" >&2; exit 1; }
