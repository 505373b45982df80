#!/bin/bash
# Network benchmark: TCP throughput of one stream guest->host and host->guest over virtio-net,
# hardy against QEMU, with user-mode networking (libslirp in both) and, where TAP devices can be
# made, TAP (QEMU also with vhost-net when /dev/vhost-net exists). Same kernel, initrd, memory and
# vCPUs for all; N runs each, medians (method: bench/virtio-net-inner.sh; where: bench/lib.sh).
# Writes the table to build/bench/virtio-net.md and prints it.
# Usage: bench/virtio-net.sh [RUNS]   (env: BENCH_NET_MIB=64, BENCH_MEM_MIB=512, BENCH_CPUS=2)
set -eu

source "$(dirname "$0")/lib.sh"
cd "$HARDY_ROOT"
make -s build/guest-bin/tcpbench
bench_where_kvm virtio-net "${1:-3}" || { echo "bench/virtio-net.sh: no results" >&2; exit 1; }
