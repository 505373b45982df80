#!/bin/bash
# First command of the README: installs the packages hardy needs (Debian/Ubuntu), builds hardy
# and its default guest, and boots that guest to a root shell on this terminal.
#   With a working /dev/kvm: `build/hardy run` directly.
#   Without (a VM or CI runner without nested virtualization): inside a nested L1 booted under
#   QEMU's software emulation (tests/harness/host.sh), whose init runs `hardy run` on its console;
#   L1 powers off when hardy exits. Expect the nested boot to take some seconds.
# Leave the guest with `poweroff` in its shell, or Ctrl-A x (hardy's console escape).
# Environment: HARDY=PATH boots with another binary of hardy's CLI (skips `make`).
set -eu

cd "$(dirname "$0")"

boot_direct() {
	echo "quickstart: /dev/kvm works here: booting the default guest (Ctrl-A x to leave)"
	exec "$HARDY" run
}

boot_nested() {
	echo "quickstart: no usable /dev/kvm here: booting the guest inside a nested L1 under QEMU's"
	echo "quickstart: software emulation (slower). Ctrl-A x or 'poweroff' leaves both."
	local job=build/quickstart/l1-job.sh
	mkdir -p build/quickstart
	# cttyhack gives hardy the L1 console as its controlling terminal.
	echo "exec setsid cttyhack /hardy/${HARDY#"$PWD"/} run" >"$job"
	local with_qemu=
	case $HARDY in *qemu-as-hardy) with_qemu=--with-qemu ;; esac
	build_l1 build/quickstart/l1.cpio "$job" $with_qemu
	boot_l1 build/quickstart/l1.cpio /dev/null 0 interactive
}

tools/install-packages.sh
source tests/harness/host.sh
if [ -z "${HARDY:-}" ]; then
	make
	HARDY=build/hardy
fi
make guest
if kvm_usable; then
	boot_direct
else
	boot_nested
fi
