#!/bin/bash
# Writes the configuration of hardy's Debian rootfs into a freshly bootstrapped root (run by
# guest/build-rootfs.sh as an mmdebstrap customize hook, as root, in the host's namespace):
# hostname, hosts, fstab, passwordless root on the console, DHCP via systemd-networkd, DNS via
# systemd-resolved, and a console line with the VM's address once it has one.
# Usage: guest/rootfs-configure.sh ROOTDIR HOSTNAME
set -eu

[ $# = 2 ] || { echo "usage: guest/rootfs-configure.sh ROOTDIR HOSTNAME" >&2; exit 2; }
r=$1 host=$2

echo "$host" >"$r/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
	"$host" >"$r/etc/hosts"
# The default initramfs mounts / read-write unless the command line says `ro`; then
# systemd-remount-fs makes it read-write from this line.
printf '/dev/vda\t/\text4\trw,errors=remount-ro\t0\t1\n' >"$r/etc/fstab"

# A local test VM: root logs in on the console without a password. Nothing listens on the
# network (no ssh server), so the empty password is reachable only from the console.
chroot "$r" passwd -d root >/dev/null

# DHCP on whatever the virtio NIC is called: eth0 without udev's renaming, enp0sN under it.
mkdir -p "$r/etc/systemd/network"
cat >"$r/etc/systemd/network/20-hardy-dhcp.network" <<'EOF'
# guest/rootfs-configure.sh: DHCP on every Ethernet NIC of the VM.
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
EOF
ln -sf /run/systemd/resolve/stub-resolv.conf "$r/etc/resolv.conf"

# One console line with the address once DHCP is done, for people and for tests
# (tests/guest/qemu-check-rootfs.sh). A simple service, so that nothing waits for it.
cat >"$r/usr/local/sbin/hardy-netinfo" <<'EOF'
#!/bin/sh
# Prints "hardy-rootfs: IFACE ADDR/LEN via GATEWAY" on the console when a NIC has an IPv4
# address, or one line saying there is none after 30 s.
exec >/dev/console 2>&1
i=0
while [ $i -lt 60 ]; do
	line=$(ip -4 -o addr show scope global | awk '{ print $2, $4; exit }')
	if [ -n "$line" ]; then
		gw=$(ip -4 route show default | awk '{ print $3; exit }')
		echo "hardy-rootfs: $line via ${gw:-none}"
		exit 0
	fi
	sleep 0.5
	i=$((i + 1))
done
echo "hardy-rootfs: no IPv4 address after 30 s"
EOF
chmod 755 "$r/usr/local/sbin/hardy-netinfo"
cat >"$r/etc/systemd/system/hardy-netinfo.service" <<'EOF'
[Unit]
Description=Print the VM's IPv4 address on the console (hardy)
After=systemd-networkd.service

[Service]
Type=simple
ExecStart=/usr/local/sbin/hardy-netinfo

[Install]
WantedBy=multi-user.target
EOF
chroot "$r" systemctl enable -q systemd-networkd systemd-resolved hardy-netinfo \
	serial-getty@ttyS0
# Nothing here needs network-online.target; don't let anything wait 2 minutes for it.
chroot "$r" systemctl disable -q systemd-networkd-wait-online 2>/dev/null || true
