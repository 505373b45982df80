#!/bin/bash
# virtio-blk benchmark: sequential read and write in 1 MiB blocks (4 in flight) and random
# 4 KiB reads and writes (16 in flight), O_DIRECT in the guest (tests/guest-bin/blkbench.c),
# for hardy (io_uring, and aio=sync) and `qemu-system-x86_64 -M pc` with virtio-blk-pci
# (aio=io_uring and aio=threads), all with the same kernel, initrd, memory, vCPUs and the same
# raw image, host page cache on for every VMM (hardy's images are buffered; QEMU gets
# cache=writeback). Method: bench/virtio-blk-inner.sh; where it runs: bench/lib.sh (directly
# with KVM, else in the nested L1, where the image is in L1's tmpfs). Writes the table to
# build/bench/virtio-blk.md and prints it.
# Usage: bench/virtio-blk.sh [RUNS]   (env: see bench/virtio-blk-inner.sh; BENCH_SECS=5 per test)
set -eu

source "$(dirname "$0")/lib.sh"
cd "$HARDY_ROOT"
make -s build/guest-bin/blkbench
echo "bench: hardy at commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)" >&2
bench_where_kvm virtio-blk "${1:-1}" || { echo "bench/virtio-blk.sh: no results" >&2; exit 1; }
