#!/bin/bash
# Fresh-machine test: tries the README's first command as a newcomer would, on a machine that
# has nothing but a minimal Debian 12. Builds a Debian 12 root with mmdebstrap (variant minbase,
# plus git), clones this repository's HEAD into it, and runs there, with no terminal:
#   ./quickstart.sh --cmdline "console=ttyS0 hardy.action=poweroff"
# It passes when that ends with status 0 after the default guest's banner. Any package that
# tools/packages.txt misses, or any other install step the scripts lack, fails it.
# With --make-test it then also runs the README's second command (`make test`) in that root.
# Run by .ci/run (not by `make test`); needs root (chroot, mounts) and Debian's package archive.
# Downloaded .debs are kept in /var/cache/hardy/fresh-machine/ (HARDY_FRESH_CACHE) between runs,
# so a rerun costs mostly CPU: the root itself is made anew every time.
# Usage: tests/fresh-machine/run.sh [--make-test] [--keep]
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$ROOT/build/fresh-machine
CACHE=${HARDY_FRESH_CACHE:-/var/cache/hardy/fresh-machine}
CHROOT=$WORK/root
LOG=$WORK/quickstart.log
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
SECURITY=http://deb.debian.org/debian-security
make_test=no keep=no
for arg; do
	case $arg in
	--make-test) make_test=yes ;;
	--keep) keep=yes ;;
	*) echo "usage: tests/fresh-machine/run.sh [--make-test] [--keep]" >&2; exit 2 ;;
	esac
done

log() { echo "fresh-machine: $*"; }
die() { echo "fresh-machine: FAILED: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap, chroot and mounts)"
command -v mmdebstrap >/dev/null || die "no mmdebstrap (tools/packages.txt lists it: run tools/install-packages.sh)"

# Removes the root, refusing while anything is still mounted below it.
remove_root() {
	[ -d "$CHROOT" ] || return 0
	if grep -q " $CHROOT/" /proc/self/mounts; then
		echo "fresh-machine: $CHROOT still has mounts; left in place" >&2
		return 1
	fi
	rm -rf "$CHROOT"
}
trap '[ "$keep" = yes ] || remove_root' EXIT

remove_root
mkdir -p "$WORK" "$CACHE"
start=$(date +%s)

log "building a minimal Debian 12 root ($SUITE, minbase + git) in $CHROOT"
mmdebstrap --quiet --variant=minbase --include=git,ca-certificates \
	--skip=download/empty \
	--setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
	--setup-hook="sync-in '$CACHE' /var/cache/apt/archives/" \
	--customize-hook="sync-out /var/cache/apt/archives '$CACHE'" \
	"$SUITE" "$CHROOT" \
	"deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" \
	"deb $SECURITY $SUITE-security main" || die "mmdebstrap failed"
cp /etc/resolv.conf "$CHROOT/etc/resolv.conf" 2>/dev/null || true
log "root ready after $(($(date +%s) - start)) s"

git -C "$ROOT" rev-parse --verify -q HEAD >/dev/null || die "$ROOT is not a git checkout"
git clone -q "$ROOT" "$CHROOT/root/hardy" || die "git clone failed"
log "cloned $(git -C "$CHROOT/root/hardy" rev-parse --short HEAD) into /root/hardy"

# What the newcomer types, with no terminal. The chroot runs in a mount namespace of its own, so
# its mounts (and the apt cache lent to it) vanish with it whatever happens.
job='cd /root/hardy && ./quickstart.sh --cmdline "console=ttyS0 hardy.action=poweroff" </dev/null'
[ "$make_test" = yes ] && job="$job && echo 'fresh-machine: make test' && make test"
set +e
unshare --mount --propagation private /bin/bash -c '
	set -e
	r=$1 cache=$2 job=$3
	mount --rbind /dev "$r/dev"
	mount -t proc proc "$r/proc"
	mount --rbind /sys "$r/sys"
	mount -t tmpfs tmpfs "$r/tmp"
	mount --bind "$cache" "$r/var/cache/apt/archives"
	exec chroot "$r" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/bash -c "$job"
' fresh "$CHROOT" "$CACHE" "$job" >"$LOG" 2>&1
status=$?
set -e
elapsed=$(($(date +%s) - start))

if [ "$status" != 0 ]; then
	tail -n 40 "$LOG"
	die "the README's commands ended with status $status after $elapsed s (log: $LOG)"
fi
grep -q '^hardy-guest: ready' "$LOG" || { tail -n 40 "$LOG"; die "no guest banner in $LOG"; }
log "PASS: quickstart.sh booted the default guest ($(grep -m1 '^hardy-guest: ready' "$LOG"))" \
	"and exited 0 in a fresh Debian 12 root; $elapsed s in all"
