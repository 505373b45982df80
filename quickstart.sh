#!/bin/bash
# First command of the README: installs the packages hardy needs (tools/packages.txt, through
# tools/install-packages.sh; Debian/Ubuntu), builds hardy and its default guest, and boots that
# guest to a root shell on this terminal. Arguments are passed to `hardy run`, so
#   ./quickstart.sh --cmdline "console=ttyS0 hardy.action=poweroff"
# boots the guest without a terminal and exits with hardy's status (0 after the guest's poweroff).
#   With a working /dev/kvm: `build/hardy run ARGS` directly.
#   Without (a VM or CI runner without nested virtualization): `build/hardy run --accel soft
#   ARGS`, directly too, on hardy's own x86-64 CPU (docs/soft-cpu.md).
#   QUICKSTART_NESTED=1 without KVM: the older way, inside a nested L1 booted under
#   QEMU's software emulation (tests/harness/host.sh), whose init runs `hardy run ARGS` on its
#   console; L1 powers off when hardy exits and the script exits with hardy's status. --disk
#   images become L1's own virtio disks (handed on to hardy as /dev/vdX); other paths in ARGS
#   must lie inside this checkout's build/guest/ (the L1 holds only that). Expect the nested
#   boot to take some seconds.
# Leave the guest with `poweroff` in its shell, or Ctrl-A x (hardy's console escape).
# Environment: HARDY=PATH boots with another binary of hardy's CLI (skips `make`).
set -eu

cd "$(dirname "$0")"

boot_direct() {
	echo "quickstart: /dev/kvm works here: booting the default guest (Ctrl-A x to leave)"
	exec "$HARDY" run "$@"
}

# Quotes each argument for the L1's POSIX shell: 'it'\''s' style.
sh_quote() {
	local arg out=
	for arg; do
		out+=" '${arg//\'/\'\\\'\'}'"
	done
	printf '%s' "$out"
}

boot_nested() {
	echo "quickstart: no usable /dev/kvm here: booting the guest inside a nested L1 under QEMU's"
	echo "quickstart: software emulation (slower). Ctrl-A x or 'poweroff' leaves both."
	local job=build/quickstart/l1-job.sh
	mkdir -p build/quickstart
	# Each --disk image becomes one of L1's own disks (/dev/vda, vdb, ...), handed on to hardy
	# there: the L1 cannot see this machine's files. Writes reach the image, ro stays read-only.
	local args=() letters=abcdefgh n=0 path opts
	while [ $# -gt 0 ]; do
		if [ "$1" = --disk ] && [ $# -ge 2 ] && [ $n -lt ${#letters} ]; then
			path=${2%%,*} opts=
			[ "$path" != "$2" ] && opts=,${2#*,}
			[ -e "$path" ] || { echo "quickstart: --disk: no such file: $path" >&2; exit 2; }
			case ,$opts, in
			*,ro,*) L1_DISKS+=("$(realpath "$path"),readonly=on,cache=none") ;;
			*) L1_DISKS+=("$(realpath "$path"),cache=none") ;;
			esac
			args+=(--disk "/dev/vd${letters:n:1}$opts")
			n=$((n + 1))
			shift 2
		else
			args+=("$1")
			shift
		fi
	done
	set -- "${args[@]}"
	# cttyhack gives hardy the L1 console as its controlling terminal.
	echo "exec setsid cttyhack /hardy/${HARDY#"$PWD"/} run$(sh_quote "$@")" >"$job"
	local with_qemu=
	case $HARDY in *qemu-as-hardy) with_qemu=--with-qemu ;; esac
	build_l1 build/quickstart/l1.cpio "$job" $with_qemu
	local log=build/quickstart/l1-console.log
	rm -f "$log"
	boot_l1 build/quickstart/l1.cpio "$log" 0 interactive || true
	# L1's init ends with "hardy-l1: job exit N", N being hardy's own status.
	local status
	status=$(sed -n 's/^hardy-l1: job exit \([0-9]*\).*/\1/p' "$log" | tail -1)
	if [ -z "$status" ]; then
		echo "quickstart: the nested L1 ended before hardy did (console: $log)" >&2
		exit 1
	fi
	exit "$status"
}

# Says how long each step took (SECONDS counts from the start of the script).
step_done() { echo "quickstart: $1 (${SECONDS} s so far)"; }

tools/install-packages.sh
step_done "packages ready"
source tests/harness/host.sh
if [ -z "${HARDY:-}" ]; then
	make -j"$(nproc)"
	HARDY=build/hardy
	step_done "hardy built"
fi
make guest
step_done "default guest ready"
if kvm_usable; then
	boot_direct "$@"
elif [ -n "${QUICKSTART_NESTED:-}" ]; then
	boot_nested "$@"
else
	echo "quickstart: no usable /dev/kvm here: booting the default guest on hardy's own CPU"
	echo "quickstart: (--accel soft; Ctrl-A x to leave)"
	exec "$HARDY" run --accel soft "$@"
fi
