#!/bin/bash
# Builds a Debian 12 system on an ext4 disk image, for guests booted with root=/dev/vda:
#   OUTDIR/rootfs.img   sparse raw ext4 image (label hardy-root), systemd as init, a root login
#                       on the serial console (no password; no network login service installed),
#                       DHCP on every en*/eth* NIC (systemd-networkd), hostname hardy-debian, and
#                       the guest kernel's modules in /lib/modules (so udev loads what it needs
#                       after the default initramfs switches to this root).
# How: mmdebstrap (variant minbase plus systemd and a few tools) into a directory, then
# `mkfs.ext4 -d` (no loop mounts). Needs root (mmdebstrap's root mode keeps file ownership).
# The kernel is the default guest's: run `make guest` (guest/build.sh) first; its unpacked kernel
# package in build/cache/unpacked/ provides the modules.
# Downloaded .debs are kept in /var/cache/hardy/rootfs/ (HARDY_ROOTFS_CACHE) across runs. Nothing
# is rebuilt unless an input changed: OUTDIR/.rootfs-stamp hashes the candidate versions of the
# packages asked for, the kernel package, the image size, guest/rootfs-configure.sh and this
# script.
# Usage: guest/build-rootfs.sh OUTDIR
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${HARDY_CACHE:-$ROOT/build/cache}
DEB_CACHE=${HARDY_ROOTFS_CACHE:-/var/cache/hardy/rootfs}
SIZE=${HARDY_ROOTFS_SIZE:-1G}
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
SECURITY=http://deb.debian.org/debian-security
HOSTNAME_=hardy-debian
CONFIGURE=$ROOT/guest/rootfs-configure.sh
# On top of minbase: systemd as PID 1, udev (loads modules, names NICs), networkd's DHCP plus
# resolved for DNS, and the tools one wants on a test VM's console.
PACKAGES="systemd-sysv udev kmod dbus systemd-resolved iproute2 iputils-ping procps netbase
  ca-certificates less"

log() { echo "guest/build-rootfs.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# "pkg:version" lines for what the image asks for: the stamp's view of the archive (one
# apt-cache call: it costs about half a second each).
package_versions() {
	apt-cache policy $PACKAGES 2>/dev/null | awk '/^[^ ]/ { p = $1 } /Candidate:/ { print p $2 }'
}

# Removes the work directory of a previous build; refuses while anything is still mounted below
# it (mmdebstrap mounts /proc, /sys and device nodes there while it runs), so that rm never
# walks into the host's /dev.
remove_work() {
	local work=$1
	[ -d "$work" ] || return 0
	if grep -q " $(realpath "$work")/" /proc/self/mounts; then
		die "$work still has mounts (an interrupted mmdebstrap?): unmount them, then rerun"
	fi
	rm -rf "$work"
}

# Copies the guest kernel's modules into the root and builds their modules.dep.
install_modules() {
	local r=$1 release=$2 src=$3
	mkdir -p "$r/lib/modules"
	rm -rf "${r:?}/lib/modules/$release"
	cp -a "$src" "$r/lib/modules/$release"
	depmod -b "$r" "$release"
}

main() {
	[ $# = 1 ] || { echo "usage: guest/build-rootfs.sh OUTDIR" >&2; exit 2; }
	local out=$1
	[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap keeps file ownership only as root)"
	for tool in mmdebstrap mkfs.ext4 depmod apt-cache sha256sum; do
		command -v "$tool" >/dev/null || die "missing $tool (run tools/install-packages.sh)"
	done

	local release kdir moddir stamp
	[ -f "$out/kernel-release" ] || die "no $out/kernel-release: run make guest first"
	release=$(cat "$out/kernel-release")
	kdir=$(ls -d "$CACHE/unpacked/linux-image-${release}_"* 2>/dev/null | tail -n1)
	moddir=$kdir/lib/modules/$release
	[ -n "$kdir" ] && [ -d "$moddir" ] || die "no unpacked modules of $release in $CACHE/unpacked: run make guest"

	stamp=$( { package_versions; basename "$kdir"; echo "$SIZE"; cat "$0" "$CONFIGURE"; } | sha256sum | cut -d' ' -f1)
	if [ -f "$out/.rootfs-stamp" ] && [ "$(cat "$out/.rootfs-stamp")" = "$stamp" ] &&
		[ -f "$out/rootfs.img" ]; then
		log "up to date ($out/rootfs.img)"
		return
	fi

	local work=$out/.rootfs-work start
	start=$(date +%s)
	remove_work "$work"
	mkdir -p "$work" "$DEB_CACHE"
	log "building Debian $SUITE in $work/root (debs cached in $DEB_CACHE)"
	# --skip=download/empty and essential/unlink keep the .debs (the Essential set's too) in the
	# root until sync-out has copied them to the cache; the last hook drops them from the image,
	# with the dpkg option that skips fsync while building (a crash here just means a rebuild).
	mmdebstrap --quiet --variant=minbase --include="$(echo $PACKAGES | tr ' ' ,)" \
		--skip=download/empty --skip=essential/unlink \
		--dpkgopt=force-unsafe-io \
		--setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
		--setup-hook="sync-in '$DEB_CACHE' /var/cache/apt/archives/" \
		--customize-hook="'$CONFIGURE' \"\$1\" $HOSTNAME_" \
		--customize-hook="sync-out /var/cache/apt/archives '$DEB_CACHE'" \
		--customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb "$1"/etc/dpkg/dpkg.cfg.d/99mmdebstrap' \
		"$SUITE" "$work/root" \
		"deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" \
		"deb $SECURITY $SUITE-security main" || die "mmdebstrap failed"
	install_modules "$work/root" "$release" "$moddir"

	rm -f "$work/rootfs.img"
	truncate -s "$SIZE" "$work/rootfs.img"
	mkfs.ext4 -q -F -L hardy-root -d "$work/root" "$work/rootfs.img" || die "mkfs.ext4 failed"
	mv "$work/rootfs.img" "$out/rootfs.img"
	remove_work "$work"
	echo "$stamp" >"$out/.rootfs-stamp"
	log "built $out/rootfs.img ($SIZE sparse, $(du -h "$out/rootfs.img" | cut -f1) used," \
		"kernel modules $release) in $(($(date +%s) - start)) s"
}

main "$@"
