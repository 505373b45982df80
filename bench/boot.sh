#!/bin/bash
# Boot benchmark: time from VMM start to the guest's init banner, and the VMM's own memory
# overhead, for hardy, `qemu-system-x86_64 -M microvm` and `-M pc` (both -accel kvm), with the
# same kernel, initrd, memory, vCPUs and command line. N runs each, medians (method: see
# bench/boot-inner.sh, which does the measuring; where it runs: bench/lib.sh).
# Writes the table to build/bench/boot.md and prints it.
# Usage: bench/boot.sh [RUNS]   (env: BENCH_MEM_MIB=512, BENCH_CPUS=1, HARDY_TEST_MODE)
set -eu

source "$(dirname "$0")/lib.sh"
cd "$HARDY_ROOT"
bench_where_kvm boot "${1:-5}" || { echo "bench/boot.sh: no results" >&2; exit 1; }
grep -q '^| qemu-pc-kvm |' build/bench/boot.md || { echo "bench/boot.sh: no QEMU results" >&2; exit 1; }
