#!/bin/bash
# Fetches the kernel image (vmlinuz only, no modules) of a Debian kernel metapackage, for tests
# that boot a second unmodified kernel with the default initramfs: Debian's generic
# linux-image-amd64 has MP-table parsing and other options the cloud kernel lacks, so booting
# both shows that the machine model does not lean on one kernel's configuration.
# Usage: guest/fetch-kernel.sh METAPACKAGE OUTDIR   (writes OUTDIR/vmlinuz, OUTDIR/kernel-release)
# Cached: nothing is downloaded when OUTDIR already holds the candidate version.
set -eu

meta=${1:?usage: guest/fetch-kernel.sh METAPACKAGE OUTDIR}
out=${2:?usage: guest/fetch-kernel.sh METAPACKAGE OUTDIR}
cache=$(dirname "$out")/cache/debs

log() { echo "guest/fetch-kernel.sh: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! apt-cache show "$meta" >/dev/null 2>&1; then
	as_root apt-get update -qq >&2 || true
fi
pkg=$(apt-cache depends "$meta" | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$pkg" ] || { log "apt knows no $meta"; exit 1; }
ver=$(apt-cache policy "$pkg" | awk '/Candidate:/ { print $2 }')
release=${pkg#linux-image-}
if [ -f "$out/vmlinuz" ] && [ "$(cat "$out/kernel-release" 2>/dev/null)" = "$release $ver" ]; then
	log "up to date ($pkg $ver)"
	exit 0
fi

mkdir -p "$cache" "$out"
deb=$(ls "$cache/${pkg}_"*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ] || [ "$(dpkg-deb -f "$deb" Version)" != "$ver" ]; then
	log "downloading $pkg $ver"
	sandbox=()
	[ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
	(cd "$cache" && rm -f "${pkg}_"*.deb && apt-get download -q "${sandbox[@]}" "$pkg=$ver" >&2)
	deb=$(ls "$cache/${pkg}_"*.deb | head -n 1)
fi
tmp=$(mktemp -d)
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "./boot/vmlinuz-$release"
mv "$tmp/boot/vmlinuz-$release" "$out/vmlinuz"
rm -rf "$tmp"
echo "$release $ver" >"$out/kernel-release"
log "wrote $out/vmlinuz ($pkg $ver)"
