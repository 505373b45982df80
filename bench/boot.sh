#!/bin/bash
# Boot benchmark: time from VMM start to the guest's init banner, and the VMM's own memory
# overhead, for hardy, `qemu-system-x86_64 -M microvm` and `-M pc` (both -accel kvm), with the
# same kernel, initrd, memory, vCPUs and command line. N runs each, medians (method: see
# bench/boot-inner.sh, which does the measuring). Runs directly when KVM works here, otherwise
# inside the nested L1 of tests/harness/host.sh (QEMU, its libraries and firmware copied in):
# there, every number is under emulation, so compare VMMs with each other, not with hardware.
# Writes the table to build/bench/boot.md and prints it.
# Usage: bench/boot.sh [RUNS]   (env: BENCH_MEM_MIB=512, BENCH_CPUS=1, HARDY_TEST_MODE)
set -eu

source "$(dirname "$0")/../tests/harness/host.sh"
cd "$HARDY_ROOT"
RUNS=${1:-5}
OUT=build/bench
mkdir -p "$OUT"

describe_environment() {
	echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "- host CPU: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) CPUs"
	echo "- host kernel: $(uname -r); QEMU: $(qemu-system-x86_64 --version | head -n1)"
	echo "- guest kernel: $(cat build/guest/kernel-release)"
	echo "- hardy: $([ -x build/hardy ] && build/hardy --version 2>/dev/null || echo 'not built')"
}

[ -f build/guest/vmlinuz ] || { echo "bench/boot.sh: run make guest first" >&2; exit 1; }
{
	if kvm_usable; then
		echo "- mode: direct (/dev/kvm on the host)"
		describe_environment
		echo
		sh bench/boot-inner.sh "$RUNS" | sed -n '/^BENCH-TABLE: BEGIN/,/^BENCH-TABLE: END/p'
	else
		echo "- mode: nested (L1 under qemu -accel tcg -cpu EPYC,+svm, ${L1_CPUS} vCPUs," \
			"${L1_MEM} MiB; the VMMs run with -accel kvm inside L1)"
		describe_environment
		echo
		job=$OUT/l1-job.sh
		vars=""
		for v in BENCH_MEM_MIB BENCH_CPUS BENCH_TIMEOUT; do
			[ -n "${!v:-}" ] && vars="$vars $v=${!v}"
		done
		echo "exec env$vars sh /hardy/bench/boot-inner.sh $RUNS" >"$job"
		build_l1 "$OUT/l1.cpio" "$job" --with-qemu
		boot_l1 "$OUT/l1.cpio" "$OUT/l1-console.log" 1800 >/dev/null || true
		tr -d '\r' <"$OUT/l1-console.log" | grep '^bench:' >&2 || true
		tr -d '\r' <"$OUT/l1-console.log" | sed -n '/^BENCH-TABLE: BEGIN/,/^BENCH-TABLE: END/p'
	fi
} | grep -v '^BENCH-TABLE:' >"$OUT/boot.md"
cat "$OUT/boot.md"
grep -q '^| qemu-pc |' "$OUT/boot.md" || { echo "bench/boot.sh: no results" >&2; exit 1; }
