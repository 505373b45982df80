#!/bin/sh
# The measuring half of bench/api.sh: runs where /dev/kvm works (the host or the nested L1).
# N runs of each, medians, a markdown table between "BENCH-TABLE: BEGIN" and "BENCH-TABLE: END":
#   flags        `hardy run --kernel ... ` started -> the guest's init banner on the console
#   api socket   `hardy run --api-sock` started -> the socket answers GET / (curl)
#   api start    PUT /actions InstanceStart sent -> the init banner
#   api total    started -> banner, with the configuration requests (machine-config,
#                boot-source) sent by curl in between
# Clock: /proc/uptime (10 ms). Same kernel, initrd, memory, vCPUs and command line for both.
# POSIX sh (busybox in L1). Usage: api-inner.sh [RUNS]  (env: BENCH_MEM_MIB, BENCH_CPUS, HARDY)
set -eu

RUNS=${1:-5}
ROOT=${HARDY_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
GUEST=$ROOT/build/guest
MEM=${BENCH_MEM_MIB:-256}
CPUS=${BENCH_CPUS:-1}
CMDLINE="console=ttyS0 quiet hardy.action=poweroff"
HARDY=${HARDY:-$ROOT/build/hardy}
WORK=${TMPDIR:-/tmp}/hardy-bench-api.$$
MARKER="hardy-guest: ready"
mkdir -p "$WORK"

uptime_ms() {
	read -r up _ </proc/uptime
	frac=${up#*.}
	frac=${frac#0}
	echo $((${up%.*} * 1000 + 10 * frac))
}

wait_marker() { # LOG PID
	while ! grep -q "$MARKER" "$1" 2>/dev/null; do
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.01
	done
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }

c() { curl -s --max-time 10 --unix-socket "$WORK/api.sock" "$@"; }

i=0
while [ "$i" -lt "$RUNS" ]; do
	log=$WORK/flags.log
	: >"$log"
	t0=$(uptime_ms)
	"$HARDY" run --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd" --mem "${MEM}M" --cpus "$CPUS" \
		--no-rng --cmdline "$CMDLINE" --console "file:$log" </dev/null 2>/dev/null &
	pid=$!
	wait_marker "$log" "$pid" && echo $(($(uptime_ms) - t0)) >>"$WORK/flags"
	wait "$pid" || true

	log=$WORK/api.log
	: >"$log"
	rm -f "$WORK/api.sock"
	t0=$(uptime_ms)
	"$HARDY" run --api-sock "$WORK/api.sock" --console "file:$log" </dev/null 2>/dev/null &
	pid=$!
	until c http://localhost/ >/dev/null 2>&1; do sleep 0.01; done
	t1=$(uptime_ms)
	c -X PUT http://localhost/machine-config -d "{\"vcpu_count\":$CPUS,\"mem_size_mib\":$MEM}"
	c -X PUT http://localhost/boot-source -d "{\"kernel_image_path\":\"$GUEST/vmlinuz\",\"initrd_path\":\"$GUEST/initrd\",\"boot_args\":\"$CMDLINE\"}"
	t2=$(uptime_ms)
	c -X PUT http://localhost/actions -d '{"action_type":"InstanceStart"}'
	if wait_marker "$log" "$pid"; then
		t3=$(uptime_ms)
		echo $((t1 - t0)) >>"$WORK/sock"
		echo $((t3 - t2)) >>"$WORK/start"
		echo $((t3 - t0)) >>"$WORK/total"
	fi
	wait "$pid" || true
	echo "bench: run $((i + 1))/$RUNS done" >&2
	i=$((i + 1))
done

echo "BENCH-TABLE: BEGIN"
echo "| how | ms (median of $RUNS) |"
echo "|---|---|"
echo "| \`hardy run\` from flags: start -> init banner | $(median <"$WORK/flags") |"
echo "| \`--api-sock\`: start -> socket answers | $(median <"$WORK/sock") |"
echo "| \`--api-sock\`: InstanceStart -> init banner | $(median <"$WORK/start") |"
echo "| \`--api-sock\`: start -> init banner (requests included) | $(median <"$WORK/total") |"
echo "BENCH-TABLE: END"
rm -rf "$WORK"
