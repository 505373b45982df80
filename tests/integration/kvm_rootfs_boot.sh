#!/bin/sh
# The Debian rootfs (guest/build-rootfs.sh, `make rootfs`) boots as the README tells a newcomer:
#     hardy run --disk build/guest/rootfs.img --net user --cmdline "console=ttyS0 root=/dev/vda"
# The default initramfs switches to /dev/vda, a login prompt appears on the serial console, root
# logs in, systemd finishes booting ("running": multi-user.target reached, no unit failed; what
# it still waits for is printed otherwise), the NIC got 10.0.2.15 by DHCP, the guest sees no
# SVM/VMX, and `systemctl poweroff` ends hardy with status 0. The image itself is never written: in the
# nested L1 it is L1's /dev/vda (QEMU snapshot=on), directly a sparse copy of it.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
image=$HARDY_ROOT/build/guest/rootfs.img
if [ -n "${HARDY_L1_DISK_DEV:-}" ]; then
	disk=$HARDY_L1_DISK_DEV
else
	[ -f "$image" ] || fail "no $image (make rootfs)"
	disk=$HARDY_TMP/rootfs.img
	cp --sparse=always "$image" "$disk"
fi

log=$HARDY_TMP/console.log
fifo=$HARDY_TMP/stdin
mkfifo "$fifo"
timeout -k 10 "$(scaled 150)" "$HARDY" run --mem 1G --cpus 2 --disk "$disk" --net user \
	--console stdio --cmdline "console=ttyS0 root=/dev/vda" <"$fifo" >"$log" 2>"$log.err" &
pid=$!
exec 3>"$fifo"
start=$(date +%s)
wait_for_console "$log" "hardy-guest: switching to root /dev/vda" "$(scaled 30)" "$pid"
wait_for_console "$log" "hardy-debian login:" "$(scaled 120)" "$pid"
note "ok: switch_root to /dev/vda, a login prompt after $(($(date +%s) - start)) s"
sleep 1
printf 'root\r' >&3
wait_for_console "$log" "root@hardy-debian:~#" "$(scaled 30)" "$pid"
# The shell computes the value, so only a command that ran can print it; --wait returns once
# systemd has finished booting (multi-user.target reached, or a unit failed: "degraded").
printf 'echo "logged-in-$((6 * 7))-$(systemctl is-system-running --wait)"\r' >&3
if ! console_seen_within "$log" "logged-in-42-" "$(scaled 90)" "$pid"; then
	# What the boot still waits for, before failing.
	printf '\003systemctl list-jobs --no-pager\r' >&3
	sleep "$(scaled 5)"
	tail -n 40 "$log"
	fail "systemd did not finish booting within $(scaled 90) s of the login (list-jobs above)"
fi
state=$(grep -ao 'logged-in-42-[a-z]*' "$log" | head -n 1)
note "ok: root logged in: $state"
[ "$state" = logged-in-42-running ] || { printf 'systemctl --failed --no-pager\r' >&3; sleep 2; tail -n 20 "$log"; fail "systemd says ${state#logged-in-42-}, expected running"; }
wait_for_console "$log" "hardy-rootfs: [a-z0-9]* 10\.0\.2\.15/24 via 10\.0\.2\.2" "$(scaled 30)" "$pid"
note "ok: $(grep -ao 'hardy-rootfs: [a-z0-9]* [0-9./]* via [0-9.]*' "$log" | head -n 1)"
# hardy offers no nested virtualization: the guest sees neither SVM nor VMX.
printf 'echo "virt-flags-$(grep -cwE "svm|vmx" /proc/cpuinfo)"\r' >&3
wait_for_console "$log" "virt-flags-[0-9]" "$(scaled 30)" "$pid"
grep -aq "virt-flags-0" "$log" || fail "the guest sees SVM or VMX: $(grep -ao 'virt-flags-[0-9]*' "$log")"
printf 'systemctl poweroff\r' >&3
status=0
wait "$pid" || status=$?
exec 3>&-
[ "$status" = 0 ] || { show_file "$log.err"; tail -n 30 "$log"; fail "hardy exited $status after systemctl poweroff"; }
note "ok: systemctl poweroff, hardy exited 0 after $(($(date +%s) - start)) s"
