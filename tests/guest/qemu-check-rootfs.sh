#!/bin/bash
# Checks the guest side of disks and networking with QEMU (TCG, -M pc, virtio-pci devices) in
# place of hardy, so that the default guest's init and the Debian rootfs are known to work
# before hardy has virtio, and as the reference hardy's own integration test will follow:
#   no-nic   default guest, no NIC: banner, no DHCP line, no DHCP delay; powers off
#   nic      default guest + virtio-net (QEMU user net): "hardy-guest: eth0 10.0.2.15/24 via
#            10.0.2.2" before the banner; powers off
#   no-dhcp  default guest + a virtio-net NIC with no network behind it: one line saying DHCP
#            got no answer, at most ~3 s later than no-nic; powers off
#   no-root  default guest, root=/dev/vda but no disk: one line saying so after ~5 s, then the
#            initramfs goes on as without root= (hardy.action=poweroff: powers off)
#   rootfs   default guest + virtio-blk rootfs.img (-snapshot: the image stays clean) +
#            virtio-net, root=/dev/vda: banner, switch_root, systemd's multi-user target, the
#            NIC's DHCP address, a login prompt; logs in as root, loads a module from the
#            image's /lib/modules and powers off
# Each prints one PASS/FAIL line with the seconds it took; the status is non-zero if any failed.
# Console logs: build/qemu-check/NAME.log. Timeouts: HARDY_QEMU_CHECK_TIMEOUT (s, default 600 for
# rootfs, a fifth of it for the others).
# Usage: tests/guest/qemu-check-rootfs.sh [no-nic|nic|no-dhcp|no-root|rootfs]...   (all by default)
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GUEST=${HARDY_GUEST_DIR:-$ROOT/build/guest}
LOGDIR=$ROOT/build/qemu-check
TIMEOUT=${HARDY_QEMU_CHECK_TIMEOUT:-600}
SHORT_TIMEOUT=$((TIMEOUT / 5))

log() { echo "qemu-check: $*"; }

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# boot NAME SECONDS QEMU-ARGS... : starts QEMU in the background, serial console to
# $LOGDIR/NAME.log, console input from the fifo $LOGDIR/NAME.in (kept open on fd 7).
# Sets QEMU_PID and START.
boot() {
	local name=$1 secs=$2
	shift 2
	LOG=$LOGDIR/$name.log
	rm -f "$LOG" "$LOGDIR/$name.in"
	mkfifo "$LOGDIR/$name.in"
	START=$(now)
	timeout -k 5 "$secs" qemu-system-x86_64 -accel tcg -M pc -m 1024 -nodefaults -no-reboot \
		-display none -serial stdio -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd" "$@" \
		<"$LOGDIR/$name.in" >"$LOG" 2>&1 &
	QEMU_PID=$!
	exec 7>"$LOGDIR/$name.in"
}

# saw REGEX SECONDS : waits until the console log matches (0) or QEMU exits or time runs out (1).
saw() {
	local regex=$1 secs=$2 end
	end=$(($(date +%s) + secs))
	while [ "$(date +%s)" -lt "$end" ]; do
		grep -qaE "$regex" "$LOG" && return 0
		kill -0 "$QEMU_PID" 2>/dev/null || { grep -qaE "$regex" "$LOG"; return; }
		sleep 0.5
	done
	return 1
}

# Waits for QEMU to exit; sets QEMU_RC.
qemu_wait() {
	QEMU_RC=0
	wait "$QEMU_PID" || QEMU_RC=$?
	exec 7>&-
}

stop_qemu() {
	kill "$QEMU_PID" 2>/dev/null || true
	qemu_wait
}

FAILED=""
fail() {
	log "FAIL $NAME: $* (after $(since "$START") s; console: $LOG)"
	tail -n 15 "$LOG" | sed 's/^/    | /'
	FAILED="$FAILED $NAME"
	stop_qemu
}
pass() { log "PASS $NAME: $* ($(since "$START") s)"; }

check_no_nic() {
	NAME=no-nic
	boot no-nic "$SHORT_TIMEOUT" -append "console=ttyS0 hardy.action=poweroff"
	saw '^hardy-guest: ready' "$SHORT_TIMEOUT" || { fail "no banner"; return; }
	local banner_s
	banner_s=$(since "$START")
	qemu_wait
	[ "$QEMU_RC" = 0 ] || { fail "QEMU ended with status $QEMU_RC, not a power-off"; return; }
	if grep -qaE '^hardy-guest: (eth|.*DHCP)' "$LOG"; then
		fail "a DHCP line without a NIC"
		return
	fi
	pass "banner after $banner_s s, no DHCP line, powered off"
}

# check_dhcp_line NAME EXPECTED QEMU-ARGS...: boots to the banner and a power-off, and the
# guest's one eth0 line is EXPECTED.
check_dhcp_line() {
	NAME=$1
	local want=$2 line
	shift 2
	boot "$NAME" "$SHORT_TIMEOUT" -append "console=ttyS0 hardy.action=poweroff" "$@"
	saw '^hardy-guest: ready' "$SHORT_TIMEOUT" || { fail "no banner"; return; }
	qemu_wait
	[ "$QEMU_RC" = 0 ] || { fail "QEMU ended with status $QEMU_RC, not a power-off"; return; }
	line=$(grep -aE '^hardy-guest: eth0' "$LOG" | tr -d '\r' || true)
	[ "$line" = "$want" ] || { fail "DHCP line is '${line:-none}'"; return; }
	pass "'$line', then the banner, powered off"
}

check_nic() {
	check_dhcp_line nic "hardy-guest: eth0 10.0.2.15/24 via 10.0.2.2" \
		-netdev user,id=n0 -device virtio-net-pci,netdev=n0
}

# A NIC without a -netdev: the guest sees a link, nobody answers.
check_no_dhcp() {
	check_dhcp_line no-dhcp "hardy-guest: eth0: no DHCP answer after 3 s" -device virtio-net-pci
}

check_no_root() {
	NAME=no-root
	boot no-root "$SHORT_TIMEOUT" -append "console=ttyS0 root=/dev/vda hardy.action=poweroff"
	saw '^hardy-guest: root device /dev/vda did not appear' "$SHORT_TIMEOUT" ||
		{ fail "no line about the missing root device"; return; }
	qemu_wait
	[ "$QEMU_RC" = 0 ] || { fail "QEMU ended with status $QEMU_RC, not a power-off"; return; }
	grep -qa '^hardy-guest: powering off' "$LOG" || { fail "the initramfs did not go on"; return; }
	pass "'$(grep -a 'did not appear' "$LOG" | tr -d '\r')', then powered off"
}

check_rootfs() {
	NAME=rootfs
	[ -f "$GUEST/rootfs.img" ] || { log "FAIL rootfs: no $GUEST/rootfs.img (make rootfs)"; FAILED="$FAILED rootfs"; return; }
	boot rootfs "$TIMEOUT" -append "console=ttyS0 root=/dev/vda" -snapshot \
		-drive "file=$GUEST/rootfs.img,format=raw,if=none,id=d0" -device virtio-blk-pci,drive=d0 \
		-netdev user,id=n0 -device virtio-net-pci,netdev=n0
	saw '^hardy-guest: ready' 120 || { fail "no initramfs banner"; return; }
	saw '^hardy-guest: switching to root /dev/vda' 30 || { fail "no switch_root"; return; }
	saw 'Reached target .*[Mm]ulti-[Uu]ser' "$TIMEOUT" || { fail "systemd never reached multi-user.target"; return; }
	local multi_s
	multi_s=$(since "$START")
	saw 'hardy-rootfs: [a-z0-9]+ 10\.0\.2\.15/24 via 10\.0\.2\.2' 60 || { fail "no DHCP address 10.0.2.15"; return; }
	saw 'hardy-debian login:' 60 || { fail "no login prompt"; return; }
	local login_s
	login_s=$(since "$START")
	# Log in (no password) and power off through systemd: the whole way down must work too.
	sleep 2
	printf 'root\r' >&7
	saw 'root@hardy-debian:~#' 60 || { fail "root login failed"; return; }
	# The image's /lib/modules must serve this kernel: modprobe a module nothing loaded yet (the
	# echo computes 42, so the command line echoed back cannot match).
	printf 'modprobe dummy && echo "modprobe-$((6 * 7))"\r' >&7
	saw 'modprobe-42' 60 || { fail "modprobe from the image's /lib/modules failed"; return; }
	printf 'systemctl poweroff\r' >&7
	saw 'reboot: Power down' 120 || { fail "no clean power-off"; return; }
	stop_qemu
	pass "multi-user.target after $multi_s s, login prompt after $login_s s," \
		"$(grep -aoE 'hardy-rootfs: [a-z0-9]+ [0-9./]+ via [0-9.]+' "$LOG" | head -n1)," \
		"root login, modprobe, power-off"
}

command -v qemu-system-x86_64 >/dev/null || { log "no qemu-system-x86_64 (tools/install-packages.sh)"; exit 1; }
[ -f "$GUEST/vmlinuz" ] && [ -f "$GUEST/initrd" ] || { log "no default guest in $GUEST (make guest)"; exit 1; }
mkdir -p "$LOGDIR"
checks=${*:-no-nic nic no-dhcp no-root rootfs}
for c in $checks; do
	case $c in
	no-nic) check_no_nic ;;
	nic) check_nic ;;
	no-dhcp) check_no_dhcp ;;
	no-root) check_no_root ;;
	rootfs) check_rootfs ;;
	*) log "unknown check '$c' (no-nic, nic, no-dhcp, no-root, rootfs)"; exit 2 ;;
	esac
done
[ -z "$FAILED" ] || { log "failed:$FAILED"; exit 1; }
