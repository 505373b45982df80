#!/bin/sh
# The measuring half of bench/boot.sh: runs on a machine with a working /dev/kvm (the host, or
# the nested L1). Boots the default guest N times with each VMM and prints a markdown table of
# medians between "BENCH-TABLE: BEGIN" and "BENCH-TABLE: END".
#
# Each run: the same kernel, initrd, --mem, --cpus and command line (with hardy.action=poweroff)
# for every VMM, serial console on stdout into a FIFO read line by line here.
#   boot ms      from just before the VMM is started to the moment the guest's init banner
#                ("hardy-guest: ready") is read from the console (clock: /proc/uptime, 10 ms).
#   overhead MiB the VMM's resident memory when the banner arrives (VmRSS) minus the resident
#                part of the guest's RAM mapping (the largest mapping in /proc/PID/smaps, which
#                is guest RAM: --mem is far larger than anything else the VMM maps). What is left
#                is what the VMM itself costs: code, libraries, heap, device state.
#   peak MiB     VmHWM (peak RSS of the whole process, guest RAM touched included) at the banner.
# POSIX sh (busybox in L1). Usage: boot-inner.sh [RUNS]  (env: BENCH_MEM_MIB, BENCH_CPUS, HARDY,
# BENCH_QEMU_MACHINES="microvm pc";
# BENCH_ACCEL=soft: hardy --accel soft against QEMU -accel tcg, no KVM needed; BENCH_KERNEL:
# another kernel than the default guest's, with the same initrd)
set -eu

RUNS=${1:-5}
ROOT=${HARDY_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
GUEST=$ROOT/build/guest
MEM=${BENCH_MEM_MIB:-512}
CPUS=${BENCH_CPUS:-1}
CMDLINE="console=ttyS0 quiet hardy.action=poweroff"
HARDY=${HARDY:-$ROOT/build/hardy}
WORK=${TMPDIR:-/tmp}/hardy-bench.$$
MARKER="hardy-guest: ready"
LIMIT=${BENCH_TIMEOUT:-120}
ACCEL=${BENCH_ACCEL:-kvm}
KERNEL=${BENCH_KERNEL:-$GUEST/vmlinuz}
# The QEMU machines to measure beside hardy (a peer that cannot boot a kernel, as QEMU 7.2's
# microvm on TCG when the kernel finds no PIT to calibrate its TSC against, can be left out).
QEMU_MACHINES=${BENCH_QEMU_MACHINES:-microvm pc}
QEMU_ACCEL=kvm
[ "$ACCEL" = soft ] && QEMU_ACCEL=tcg

uptime_ms() {
	read -r up _ </proc/uptime
	frac=${up#*.}
	frac=${frac#0} # "09" would be read as a bad octal number
	echo $((${up%.*} * 1000 + 10 * frac))
}

# VmRSS minus the guest RAM mapping's Rss, and VmHWM, in KiB: "overhead_kb peak_kb".
sample_memory() {
	awk '/^VmRSS:/ { rss = $2 } /^VmHWM:/ { hwm = $2 } END { print rss, hwm }' "/proc/$1/status" |
		{
			read -r rss hwm
			guest=$(awk '/^Size:/ { size = $2 } /^Rss:/ { if (size > max) { max = size; r = $2 } }
				END { print r + 0 }' "/proc/$1/smaps")
			echo "$((rss - guest)) $hwm"
		}
}

# run_once NAME COMMAND... : prints "boot_ms overhead_kb peak_kb", or "fail" on no banner.
run_once() {
	name=$1
	shift
	rm -f "$WORK/con"
	mkfifo "$WORK/con"
	start=$(uptime_ms)
	"$@" >"$WORK/con" 2>"$WORK/$name.err" </dev/null &
	pid=$!
	# (No inherited stdout: $(run_once) would wait for the watchdog to close it.)
	(sleep "$LIMIT" && kill -9 "$pid") >/dev/null 2>&1 &
	watchdog=$!
	result=fail
	# One reader for the whole console: closing the FIFO early would kill the VMM with SIGPIPE.
	{
		while IFS= read -r line; do
			case $line in
			*"$MARKER"*)
				boot=$(($(uptime_ms) - start))
				result="$boot $(sample_memory "$pid" 2>/dev/null || echo '0 0')"
				break
				;;
			esac
		done
		cat >/dev/null
	} <"$WORK/con"
	wait "$pid" || result=fail
	kill "$watchdog" 2>/dev/null || true
	echo "$result"
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
		else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# bench NAME COMMAND... : RUNS runs, one table row of medians.
bench() {
	name=$1
	shift
	: >"$WORK/$name.runs"
	i=0
	while [ $i -lt "$RUNS" ]; do
		r=$(run_once "$name" "$@")
		echo "bench: $name run $((i + 1)): $r" >&2
		[ "$r" = fail ] || echo "$r" >>"$WORK/$name.runs"
		i=$((i + 1))
	done
	ok=$(wc -l <"$WORK/$name.runs")
	if [ "$ok" = 0 ]; then
		echo "| $name | failed | - | - | 0/$RUNS |"
		tail -n 3 "$WORK/$name.err" | sed 's/^/bench:   /' >&2
		return
	fi
	boot=$(awk '{ print $1 }' "$WORK/$name.runs" | median)
	over=$(awk '{ print $2 }' "$WORK/$name.runs" | median)
	peak=$(awk '{ print $3 }' "$WORK/$name.runs" | median)
	echo "| $name | $boot | $((over / 1024)).$(((over % 1024) * 10 / 1024)) |" \
		"$((peak / 1024)) | $ok/$RUNS |"
}

QEMU_COMMON="-accel $QEMU_ACCEL -m $MEM -smp $CPUS -nodefaults -no-reboot -display none -serial stdio"

mkdir -p "$WORK"
{
	echo "| VMM | boot to init (ms) | VMM overhead (MiB) | peak RSS (MiB) | runs ok |"
	echo "|---|---:|---:|---:|---:|"
	if [ -x "$HARDY" ]; then
		bench "hardy-$ACCEL" "$HARDY" run --accel "$ACCEL" --kernel "$KERNEL" --initrd "$GUEST/initrd" \
			--mem "${MEM}M" --cpus "$CPUS" --cmdline "$CMDLINE" --console stdio
	else
		echo "| hardy-$ACCEL | pending (no build/hardy) | - | - | - |"
	fi
	for machine in $QEMU_MACHINES; do
		# shellcheck disable=SC2086 # QEMU_COMMON is a word list
		bench "qemu-$machine-$QEMU_ACCEL" qemu-system-x86_64 -M "$machine" $QEMU_COMMON \
			-kernel "$KERNEL" -initrd "$GUEST/initrd" -append "$CMDLINE"
	done
} >"$WORK/table.md"
echo "BENCH-TABLE: BEGIN"
echo "mem ${MEM} MiB, ${CPUS} vCPU, $RUNS runs each, medians; kernel $KERNEL; accel $ACCEL (QEMU: $QEMU_ACCEL)"
echo
cat "$WORK/table.md"
echo "BENCH-TABLE: END"
rm -rf "$WORK"
