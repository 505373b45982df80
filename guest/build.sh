#!/bin/bash
# Builds hardy's default guest from Debian packages, without root:
#   OUTDIR/vmlinuz   the kernel of linux-image-cloud-amd64's current dependency
#   OUTDIR/initrd    gzip'd newc cpio: busybox-static, the virtio/ACPI-button modules, guest/init
#                    and its udhcpc hook
#   OUTDIR/l1-kit/   what the nested test harness needs from the same packages
#                    (static busybox, irqbypass/kvm/kvm-amd modules, tun for the TAP tests)
# Packages are fetched with `apt-get download` into build/cache/ and unpacked with `dpkg -x`.
# Nothing is rebuilt unless an input changed: OUTDIR/.stamp holds a hash of the package versions,
# this script and guest/init.
# Usage: guest/build.sh OUTDIR
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${HARDY_CACHE:-$ROOT/build/cache}
INIT_SCRIPT=$ROOT/guest/init

# Modules the guest loads, by module name (dependencies are added from each module's modinfo).
# Any that the kernel package lacks are skipped silently.
GUEST_MODULES="virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
  virtio_mmio virtio_blk failover net_failover virtio_net virtio_rng virtio_console
  vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport evdev"
# L1 (the nested harness): KVM, tun for the TAP tests, and virtio-blk for the disk image some
# tests hand it.
L1_MODULES="irqbypass kvm kvm_amd tun virtio virtio_ring virtio_pci_legacy_dev
  virtio_pci_modern_dev virtio_pci virtio_blk"

log() { echo "guest/build.sh: $*" >&2; }
die() { log "$*"; exit 1; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Prints the candidate version of a package, refreshing apt's lists once if it is unknown.
candidate_version() {
	local pkg=$1 ver
	ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ { print $2 }')
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		as_root apt-get update -qq >&2 || true
		ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ { print $2 }')
	fi
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || return 1
	echo "$ver"
}

# linux-image-cloud-amd64 is a metapackage: the real image is its Depends.
resolve_kernel_package() {
	candidate_version linux-image-cloud-amd64 >/dev/null || die "apt knows no linux-image-cloud-amd64"
	apt-cache depends linux-image-cloud-amd64 |
		awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

# Downloads PKG=VER into the cache unless it is there; prints the .deb path.
fetch_deb() {
	local pkg=$1 ver=$2 deb
	mkdir -p "$CACHE/debs"
	for deb in "$CACHE/debs/${pkg}_"*.deb; do
		if [ -f "$deb" ] && [ "$(dpkg-deb -f "$deb" Version)" = "$ver" ]; then
			echo "$deb"
			return
		fi
	done
	log "downloading $pkg $ver"
	local sandbox=()
	[ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
	(cd "$CACHE/debs" && apt-get download -q "${sandbox[@]}" "$pkg=$ver" >&2) ||
		die "apt-get download $pkg=$ver failed"
	for deb in "$CACHE/debs/${pkg}_"*.deb; do
		if [ "$(dpkg-deb -f "$deb" Version)" = "$ver" ]; then
			echo "$deb"
			return
		fi
	done
	die "downloaded $pkg but found no .deb of version $ver"
}

# Unpacks a .deb once into the cache; prints the directory.
unpack_deb() {
	local deb=$1 dir
	dir=$CACHE/unpacked/$(basename "$deb" .deb)
	if [ ! -f "$dir/.unpacked" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		dpkg -x "$deb" "$dir"
		# Keep only what the build reads (and no *.d directories: the Makefile includes *.d).
		rm -rf "${dir:?}/usr/share" "${dir:?}/etc"
		touch "$dir/.unpacked"
	fi
	echo "$dir"
}

# Prints "name path" for every module in the tree, names normalised ('-' -> '_').
index_modules() {
	local moddir=$1 ko name
	find "$moddir" -name '*.ko' | sort | while read -r ko; do
		name=$(basename "$ko" .ko | tr - _)
		echo "$name $ko"
	done
}

module_path() { awk -v n="$1" '$1 == n { print $2; exit }' "$MODULE_INDEX"; }

# The depends= field of a module's .modinfo section.
module_depends() {
	tr '\0' '\n' <"$1" | sed -n 's/^depends=//p' | head -n1 | tr ',' ' '
}

# Appends NAME's dependencies, then NAME itself, to ORDERED (paths); skips unknown modules.
resolve_module() {
	local name=$1 path dep
	name=$(echo "$name" | tr - _)
	case " $SEEN " in *" $name "*) return 0 ;; esac
	SEEN="$SEEN $name"
	path=$(module_path "$name")
	[ -n "$path" ] || return 0
	for dep in $(module_depends "$path"); do
		resolve_module "$dep"
	done
	ORDERED="$ORDERED $path"
}

modules_in_order() {
	SEEN="" ORDERED=""
	local m
	for m in "$@"; do resolve_module "$m"; done
	echo "$ORDERED"
}

# Fills the staging directory of the initramfs.
stage_initramfs() {
	local stage=$1 bb=$2 config=$3 applet ko
	mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,etc/acpi/PWRF,lib/modules,proc,sys,dev,tmp,run,root,var/run,var/log}
	cp "$bb/bin/busybox" "$stage/bin/busybox"
	"$bb/bin/busybox" --list-full | while read -r applet; do
		case $applet in */*) ;; *) continue ;; esac
		[ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
	done
	install -m 755 "$INIT_SCRIPT" "$stage/init"

	local wanted=$GUEST_MODULES
	# The ACPI power button driver: built in, nothing to load; a module, load it.
	grep -q '^CONFIG_ACPI_BUTTON=m' "$config" && wanted="$wanted button"
	: >"$stage/lib/modules/load-order"
	for ko in $(modules_in_order $wanted); do
		cp "$ko" "$stage/lib/modules/"
		basename "$ko" >>"$stage/lib/modules/load-order"
	done

	cat >"$stage/etc/acpi/PWRF/00000080" <<-'EOF'
	#!/bin/sh
	# Run by acpid when the ACPI power button is pressed: clean shutdown.
	echo "hardy-guest: power button, shutting down" >/dev/console
	kill -TERM -1 2>/dev/null
	sync
	poweroff -f
	EOF
	chmod 755 "$stage/etc/acpi/PWRF/00000080"

	cat >"$stage/etc/udhcpc.script" <<-'EOF'
	#!/bin/sh
	# udhcpc's hook (guest/init runs udhcpc with it): applies a lease to $interface (address,
	# default route, /etc/resolv.conf) and prints one line about it on stdout.
	case $1 in
	deconfig)
		ip -4 addr flush dev "$interface"
		ip link set "$interface" up
		;;
	bound | renew)
		ip -4 addr flush dev "$interface"
		ip addr add "$ip/${mask:-24}" ${broadcast:+broadcast "$broadcast"} dev "$interface"
		gw=none
		for r in $router; do
			ip route replace default via "$r" dev "$interface" && gw=$r
			break
		done
		: >/etc/resolv.conf
		for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
		echo "hardy-guest: $interface $ip/${mask:-24} via $gw"
		;;
	esac
	EOF
	chmod 755 "$stage/etc/udhcpc.script"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$stage/etc/passwd"
	echo 'root:x:0:' >"$stage/etc/group"
	echo 'hardy-guest' >"$stage/etc/hostname"
	echo 'PS1="hardy-guest:\w# "' >"$stage/etc/profile"
}

# newc cpio of a directory, owned by root, gzip'd; needs no root.
pack_cpio() {
	(cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9n
}

main() {
	[ $# = 1 ] || { echo "usage: guest/build.sh OUTDIR" >&2; exit 2; }
	local out=$1
	for tool in apt-get apt-cache dpkg-deb cpio gzip sha256sum; do
		command -v "$tool" >/dev/null || die "missing $tool (Debian/Ubuntu host needed)"
	done

	local kpkg kver bver stamp
	kpkg=$(resolve_kernel_package)
	[ -n "$kpkg" ] || die "cannot resolve linux-image-cloud-amd64's kernel package"
	kver=$(candidate_version "$kpkg") || die "no candidate for $kpkg"
	bver=$(candidate_version busybox-static) || die "no candidate for busybox-static"
	stamp=$( { echo "$kpkg=$kver busybox-static=$bver"; cat "$0" "$INIT_SCRIPT"; } | sha256sum | cut -d' ' -f1)
	if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ] &&
		[ -f "$out/vmlinuz" ] && [ -f "$out/initrd" ]; then
		log "up to date ($kpkg $kver)"
		return
	fi

	local kdir bdir release moddir config stage
	kdir=$(unpack_deb "$(fetch_deb "$kpkg" "$kver")")
	bdir=$(unpack_deb "$(fetch_deb busybox-static "$bver")")
	release=${kpkg#linux-image-}
	moddir=$kdir/lib/modules/$release
	config=$kdir/boot/config-$release
	[ -d "$moddir" ] && [ -f "$config" ] || die "$kpkg has no modules or config for $release"

	mkdir -p "$out"
	MODULE_INDEX=$out/.module-index
	index_modules "$moddir" >"$MODULE_INDEX"

	stage=$out/.staging
	rm -rf "$stage"
	stage_initramfs "$stage" "$bdir" "$config"
	pack_cpio "$stage" >"$out/initrd.tmp"
	cp "$kdir/boot/vmlinuz-$release" "$out/vmlinuz.tmp"

	rm -rf "$out/l1-kit"
	mkdir -p "$out/l1-kit"
	cp "$bdir/bin/busybox" "$out/l1-kit/busybox"
	for ko in $(modules_in_order $L1_MODULES); do
		cp "$ko" "$out/l1-kit/"
		basename "$ko" >>"$out/l1-kit/load-order"
	done

	mv "$out/initrd.tmp" "$out/initrd"
	mv "$out/vmlinuz.tmp" "$out/vmlinuz"
	echo "$release" >"$out/kernel-release"
	rm -rf "$stage" "$MODULE_INDEX"
	echo "$stamp" >"$out/.stamp"
	log "built $out/vmlinuz and $out/initrd ($kpkg $kver, busybox-static $bver," \
		"$(wc -l <"$out/l1-kit/load-order") L1 modules)"
}

main "$@"
