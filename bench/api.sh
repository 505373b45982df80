#!/bin/bash
# API benchmark: how long `hardy run --api-sock` takes to answer on its socket, and from
# InstanceStart to the guest's init banner, next to `hardy run` from flags (method:
# bench/api-inner.sh; where it runs: bench/lib.sh). Writes build/bench/api.md and prints it.
# Usage: bench/api.sh [RUNS]   (env: BENCH_MEM_MIB=256, BENCH_CPUS=1)
set -eu

source "$(dirname "$0")/lib.sh"
cd "$HARDY_ROOT"
bench_where_kvm api "${1:-5}" || { echo "bench/api.sh: no results" >&2; exit 1; }
