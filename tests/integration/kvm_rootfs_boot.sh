#!/bin/sh
# The Debian rootfs (guest/build-rootfs.sh, `make rootfs`) boots as the README tells a newcomer:
#     hardy run --disk build/guest/rootfs.img --net user --cmdline "console=ttyS0 root=/dev/vda"
# The default initramfs switches to /dev/vda, systemd reaches multi-user.target, the NIC gets
# 10.0.2.15 by DHCP, a login prompt appears on the serial console, root logs in, a command runs,
# and `systemctl poweroff` ends hardy with status 0. The image itself is never written: in the
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
wait_for_console "$log" "Reached target .*Multi-User" "$(scaled 90)" "$pid"
note "ok: switch_root to /dev/vda, systemd reached multi-user.target after $(($(date +%s) - start)) s"
wait_for_console "$log" "hardy-rootfs: [a-z0-9]* 10\.0\.2\.15/24 via 10\.0\.2\.2" "$(scaled 30)" "$pid"
note "ok: $(grep -ao 'hardy-rootfs: [a-z0-9]* [0-9./]* via [0-9.]*' "$log" | head -n 1)"
wait_for_console "$log" "hardy-debian login:" "$(scaled 30)" "$pid"
sleep 1
printf 'root\r' >&3
wait_for_console "$log" "root@hardy-debian:~#" "$(scaled 30)" "$pid"
# The shell computes the value, so only a command that ran can print it.
printf 'echo "logged-in-$((6 * 7))-$(systemctl is-system-running)"\r' >&3
wait_for_console "$log" "logged-in-42-" "$(scaled 30)" "$pid"
note "ok: root logged in: $(grep -ao 'logged-in-42-[a-z]*' "$log" | head -n 1)"
printf 'systemctl poweroff\r' >&3
status=0
wait "$pid" || status=$?
exec 3>&-
[ "$status" = 0 ] || { show_file "$log.err"; tail -n 30 "$log"; fail "hardy exited $status after systemctl poweroff"; }
note "ok: systemctl poweroff, hardy exited 0 after $(($(date +%s) - start)) s"
