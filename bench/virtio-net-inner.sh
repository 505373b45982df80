#!/bin/sh
# The measuring half of bench/virtio-net.sh: runs where /dev/kvm works (the host, or the nested
# L1). For each VMM and backend, boots the default guest with a virtio-net NIC and measures one
# TCP stream each way with tests/guest-bin/tcpbench (the same static binary on both sides):
#   guest->host  the guest connects to the host side and sends BYTES; rate timed by the receiver
#   host->guest  the host side connects to the guest (user: through the forwarded port; tap: to
#                the guest's address) and sends BYTES; rate timed by the receiver in the guest
# Backends: user (hardy --net user = libslirp; QEMU -netdev user = libslirp too) and, when
# this machine can make TAP devices, tap (hardy --net tap=; QEMU -netdev tap, vhost=off and,
# where /dev/vhost-net exists, vhost=on). Same kernel, initrd, memory, vCPUs for all.
# Prints a markdown table of medians between "BENCH-TABLE: BEGIN" and "BENCH-TABLE: END".
# POSIX sh (busybox in L1). Usage: virtio-net-inner.sh [RUNS]
#   env: BENCH_NET_MIB (stream size, default 64), BENCH_MEM_MIB, BENCH_CPUS, HARDY
set -eu

RUNS=${1:-3}
ROOT=${HARDY_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
GUEST=$ROOT/build/guest
TCPBENCH=$ROOT/build/guest-bin/tcpbench
MEM=${BENCH_MEM_MIB:-512}
CPUS=${BENCH_CPUS:-2}
BYTES=$((${BENCH_NET_MIB:-64} * 1024 * 1024))
HARDY=${HARDY:-$ROOT/build/hardy}
WORK=${TMPDIR:-/tmp}/hardy-bench-net.$$
LIMIT=${BENCH_TIMEOUT:-300}
FWD_PORT=15202
TAP=hbtap0
TAP_HOST=192.168.77.1
TAP_GUEST=192.168.77.2

log() { echo "bench: $*" >&2; }

# The guest's script: a static address on a TAP, then both streams, then power off.
guest_initrd() {
	mkdir -p "$WORK/cpio/etc" "$WORK/cpio/bin"
	cp "$TCPBENCH" "$WORK/cpio/bin/"
	cat >"$WORK/cpio/etc/hardy-test.sh" <<EOF
host=10.0.2.2
if grep -q hardy.bench=tap /proc/cmdline; then
	ip addr flush dev eth0; ip addr add $TAP_GUEST/24 dev eth0 && ip link set eth0 up && host=$TAP_HOST
elif ! ip route | grep -q default; then
	# init's DHCP gives up after 3 s, which a loaded emulated host can exceed: try longer.
	udhcpc -i eth0 -s /etc/udhcpc.script -f -q -n -t 20 -T 1 -A 1 || echo "bench-guest: no DHCP"
fi
echo "bench-guest: up"
tcpbench connect \$host 15201 send $BYTES || echo "bench-guest: send failed"
tcpbench listen 15202
echo "bench-guest: done"
EOF
	(cd "$WORK/cpio" && find etc bin | cpio -o -H newc 2>/dev/null | gzip) >"$WORK/extra.cpio.gz"
	cat "$GUEST/initrd" "$WORK/extra.cpio.gz" >"$WORK/initrd"
}

# wait_line FILE PATTERN SECONDS [PID] : true once FILE has a line matching PATTERN; false
# after SECONDS or once PID (the VMM) has ended.
wait_line() {
	_n=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		[ "$_n" -ge $(($3 * 10)) ] && return 1
		[ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null && return 1
		sleep 0.1
		_n=$((_n + 1))
	done
}

mbps() { sed -n 's/.*tcpbench: received .* s: \([0-9.]*\) MB\/s.*/\1/p' "$1" | tail -n 1; }

# run_once NAME HOSTADDR COMMAND... : prints "g2h_MBps h2g_MBps", or "fail".
run_once() {
	name=$1 addr=$2
	shift 2
	con=$WORK/$name.console
	: >"$con"
	"$TCPBENCH" listen 15201 >"$WORK/g2h.out" 2>&1 &
	sink=$!
	"$@" >"$con" 2>"$WORK/$name.err" </dev/null &
	pid=$!
	(sleep "$LIMIT" && kill -9 "$pid") >/dev/null 2>&1 &
	watchdog=$!
	result=fail
	if wait_line "$con" "tcpbench: listening on 15202" "$LIMIT" "$pid"; then
		port=15202
		[ "$addr" = 127.0.0.1 ] && port=$FWD_PORT
		timeout 120 "$TCPBENCH" connect "$addr" "$port" send "$BYTES" >"$WORK/h2g.out" 2>&1 || true
		wait_line "$con" "bench-guest: done" 60 "$pid" || true
		g2h=$(mbps "$WORK/g2h.out") h2g=$(mbps "$con")
		[ -n "$g2h" ] && [ -n "$h2g" ] && result="$g2h $h2g"
	fi
	wait "$pid" 2>/dev/null || true
	kill "$sink" "$watchdog" 2>/dev/null || true
	wait "$sink" 2>/dev/null || true
	[ "$result" = fail ] && tail -n 20 "$con" "$WORK/$name.err" 2>/dev/null | sed 's/^/bench:   /' >&2
	echo "$result"
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
		else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench NAME HOSTADDR COMMAND... : RUNS runs, one table row of medians.
bench() {
	name=$1 addr=$2
	shift 2
	: >"$WORK/$name.runs"
	i=0
	while [ $i -lt "$RUNS" ]; do
		r=$(run_once "$name" "$addr" "$@")
		log "$name run $((i + 1)): $r"
		[ "$r" = fail ] || echo "$r" >>"$WORK/$name.runs"
		i=$((i + 1))
	done
	ok=$(wc -l <"$WORK/$name.runs")
	if [ "$ok" = 0 ]; then
		echo "| $name | failed | failed | 0/$RUNS |"
		return
	fi
	echo "| $name | $(awk '{ print $1 }' "$WORK/$name.runs" | median) |" \
		"$(awk '{ print $2 }' "$WORK/$name.runs" | median) | $ok/$RUNS |"
}

tap_ready() {
	{ ip tuntap add "$TAP" mode tap || tunctl -t "$TAP"; } >/dev/null 2>&1 || return 1
	ip addr add "$TAP_HOST/24" dev "$TAP" && ip link set "$TAP" up
}

CMDLINE="console=ttyS0 quiet"
QEMU="qemu-system-x86_64 -M pc -accel kvm -m $MEM -smp $CPUS -nodefaults -no-reboot -display none
 -serial stdio -kernel $GUEST/vmlinuz -initrd $WORK/initrd"
HARDY_RUN="$HARDY run --mem ${MEM}M --cpus $CPUS --console stdio --initrd $WORK/initrd"

mkdir -p "$WORK"
[ -x "$TCPBENCH" ] || { log "no $TCPBENCH (make integration builds it)"; exit 1; }
guest_initrd
{
	echo "| VMM, backend | guest->host (MB/s) | host->guest (MB/s) | runs ok |"
	echo "|---|---:|---:|---:|"
	# shellcheck disable=SC2086 # word lists
	bench "hardy, user" 127.0.0.1 $HARDY_RUN --cmdline "$CMDLINE" \
		--net "user,hostfwd=tcp::$FWD_PORT-:15202"
	# shellcheck disable=SC2086
	bench "qemu, user" 127.0.0.1 $QEMU -append "$CMDLINE" \
		-netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$FWD_PORT-:15202" -device virtio-net-pci,netdev=n0,romfile=
	if tap_ready; then
		# shellcheck disable=SC2086
		bench "hardy, tap" "$TAP_GUEST" $HARDY_RUN --cmdline "$CMDLINE hardy.bench=tap" \
			--net "tap=$TAP"
		# shellcheck disable=SC2086
		bench "qemu, tap" "$TAP_GUEST" $QEMU -append "$CMDLINE hardy.bench=tap" \
			-netdev "tap,id=n0,ifname=$TAP,script=no,downscript=no,vhost=off" \
			-device virtio-net-pci,netdev=n0,romfile=
		if [ -c /dev/vhost-net ]; then
			# shellcheck disable=SC2086
			bench "qemu, tap+vhost" "$TAP_GUEST" $QEMU -append "$CMDLINE hardy.bench=tap" \
				-netdev "tap,id=n0,ifname=$TAP,script=no,downscript=no,vhost=on" \
				-device virtio-net-pci,netdev=n0,romfile=
		fi
		ip link del "$TAP" 2>/dev/null || true
	else
		log "no TAP device could be made here: the tap rows are left out"
	fi
} >"$WORK/table.md"
echo "BENCH-TABLE: BEGIN"
echo "one TCP stream of $((BYTES / 1048576)) MiB each way, mem ${MEM} MiB, ${CPUS} vCPUs, $RUNS runs each, medians; kernel $(cat "$GUEST/kernel-release" 2>/dev/null)"
echo
cat "$WORK/table.md"
echo "BENCH-TABLE: END"
rm -rf "$WORK"
