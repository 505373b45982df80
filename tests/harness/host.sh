# Host-side helpers (bash) shared by tests/harness/run-integration, bench/boot.sh and
# quickstart.sh: decide whether KVM works here, and build and boot the nested L1 that gives
# a KVM to hosts without one. Source it; it defines functions and HARDY_ROOT only.
#
# The L1 is the default guest's own kernel (build/guest/vmlinuz) with an initramfs that holds:
#   busybox and its applet links, irqbypass/kvm/kvm-amd (build/guest/l1-kit), /init
#   (tests/harness/l1-init), /hardy-job (what to run), and under /hardy/ the repository's tests/,
#   bench/, VERSION, build/guest/ and the hardy binaries; every ELF binary brought in comes with
#   its shared libraries and the dynamic loader, copied at the paths ldd names.
# It boots under `qemu-system-x86_64 -accel tcg -cpu EPYC,+svm,-xsave`: QEMU emulates AMD's
# SVM, so kvm-amd loads and L1 has a working /dev/kvm (see /work/shared/NESTED-KVM.md).
# Without XSAVE: QEMU 7.2 TCG's SVM does not intercept XSETBV (its helper_xsetbv has no
# intercept check), so an L2 guest's XSETBV changes XCR0 behind L1's KVM, which then switches
# stale values in and out; L2 kernels saw wrong XSAVE sizes and triple-faulted, and L1's own
# XSAVE areas overflowed (a panic: "corrupted stack end detected inside scheduler"). With
# XSAVE hidden, L1 and its guests use FXSAVE and never touch XCR0.
# One L1 CPU: with two, QEMU 7.2 TCG's SVM crashed L1's kernel under two-vCPU L2 guests doing
# port I/O (docs/testing.md); with one, a whole nested run passed and ran faster.

HARDY_ROOT=${HARDY_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
L1_MEM=${HARDY_L1_MEM:-3072}
L1_CPUS=${HARDY_L1_CPUS:-1}
L1_DISKS=()

# KVM is usable when /dev/kvm opens read-write and the CPU advertises virtualization (vmx/svm).
# The second check matters: some sandboxes expose a /dev/kvm on which guests never run.
# HARDY_TEST_MODE=direct|nested overrides the decision.
kvm_usable() {
	case ${HARDY_TEST_MODE:-auto} in
	direct) return 0 ;;
	nested) return 1 ;;
	esac
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
	(exec 3<>/dev/kvm) 2>/dev/null || return 1
	grep -qwE 'vmx|svm' /proc/cpuinfo
}

# Copies FILE into STAGE at the same path, dereferencing links.
stage_file() {
	local stage=$1 file=$2
	mkdir -p "$stage$(dirname "$file")"
	cp -L "$file" "$stage$file"
}

# Copies an ELF binary's shared libraries and dynamic loader into STAGE at their paths.
stage_libraries() {
	local stage=$1 bin=$2 lib
	for lib in $(ldd "$bin" 2>/dev/null | awk '/=> \// { print $3 } /^\t\// { print $1 }'); do
		[ -e "$stage$lib" ] || stage_file "$stage" "$lib"
	done
}

# QEMU, its libraries and the firmware it loads (SeaBIOS for -M pc, qboot for -M microvm).
stage_qemu() {
	local stage=$1 qemu f
	qemu=$(command -v qemu-system-x86_64) || { echo "no qemu-system-x86_64" >&2; return 1; }
	stage_file "$stage" "$qemu"
	stage_libraries "$stage" "$qemu"
	for f in /usr/share/seabios/*; do stage_file "$stage" "$f"; done
	for f in bios-microvm.bin qboot.rom kvmvapic.bin linuxboot.bin linuxboot_dma.bin pvh.bin \
		multiboot.bin multiboot_dma.bin; do
		[ -e "/usr/share/qemu/$f" ] && stage_file "$stage" "/usr/share/qemu/$f"
	done
}

# build_l1 OUT JOBFILE [--with-qemu] : writes the L1 initramfs (uncompressed newc cpio: under
# emulation, decompressing costs more than loading) to OUT. HARDY_L1_BINARIES: more files
# (paths relative to the repository, e.g. build/difftest) staged under /hardy, ELF binaries
# with their libraries.
build_l1() {
	local out=$1 job=$2 with_qemu=${3:-}
	local guest=$HARDY_ROOT/build/guest stage applet bin
	[ -f "$guest/l1-kit/busybox" ] || { echo "no $guest/l1-kit (run make guest)" >&2; return 1; }
	stage=$(mktemp -d "${TMPDIR:-/tmp}/hardy-l1.XXXXXX")
	mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib/modules/l1,hardy/build/guest,hardy/build/san,etc}
	cp "$guest/l1-kit/busybox" "$stage/bin/busybox"
	"$guest/l1-kit/busybox" --list-full | while read -r applet; do
		case $applet in */*) [ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet" ;; esac
	done
	cp "$guest"/l1-kit/*.ko "$guest/l1-kit/load-order" "$stage/lib/modules/l1/"
	install -m 755 "$HARDY_ROOT/tests/harness/l1-init" "$stage/init"
	install -m 755 "$job" "$stage/hardy-job"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$stage/etc/passwd"

	cp "$guest/vmlinuz" "$guest/initrd" "$guest/kernel-release" "$stage/hardy/build/guest/"
	cp -r "$HARDY_ROOT/tests" "$stage/hardy/"
	[ -d "$HARDY_ROOT/bench" ] && cp -r "$HARDY_ROOT/bench" "$stage/hardy/"
	cp "$HARDY_ROOT/VERSION" "$stage/hardy/"
	[ -d "$HARDY_ROOT/build/guests" ] && cp -r "$HARDY_ROOT/build/guests" "$stage/hardy/build/"
	[ -d "$HARDY_ROOT/build/guest-generic" ] && cp -r "$HARDY_ROOT/build/guest-generic" "$stage/hardy/build/"
	for bin in guest-bin host-bin kut; do
		[ -d "$HARDY_ROOT/build/$bin" ] && cp -r "$HARDY_ROOT/build/$bin" "$stage/hardy/build/"
	done
	# hardy finds its default guest next to itself: $(dirname hardy)/guest.
	ln -s ../guest "$stage/hardy/build/san/guest"
	for bin in build/hardy build/san/hardy ${HARDY_L1_BINARIES:-}; do
		if [ -f "$HARDY_ROOT/$bin" ]; then
			mkdir -p "$(dirname "$stage/hardy/$bin")"
			cp "$HARDY_ROOT/$bin" "$stage/hardy/$bin"
			stage_libraries "$stage" "$HARDY_ROOT/$bin"
		fi
	done
	# curl, the API tests' client (curl --unix-socket), with its libraries.
	if command -v curl >/dev/null; then
		stage_file "$stage" "$(command -v curl)"
		stage_libraries "$stage" "$(command -v curl)"
	fi
	[ "$with_qemu" = --with-qemu ] && stage_qemu "$stage"
	(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out"
	rm -rf "$stage"
}

# boot_l1 INITRD CONSOLE_LOG TIMEOUT_S [interactive] : boots L1 with the default guest's kernel
# (and the images in L1_DISKS as its /dev/vda, /dev/vdb, ...).
# Non-interactive: the serial console is copied to CONSOLE_LOG and to stdout. Interactive: the
# console is this terminal or whatever stdin/stdout are (QEMU's signals and escape are off, so
# Ctrl-A x reaches hardy), and QEMU also logs it to CONSOLE_LOG; TIMEOUT_S is not applied.
boot_l1() {
	local initrd=$1 log=$2 secs=$3 mode=${4:-}
	local cmdline="console=ttyS0 quiet panic=-1 hardy.scale=${HARDY_TIMEOUT_SCALE:-6}"
	local qemu=(qemu-system-x86_64 -accel tcg -cpu EPYC,+svm,-xsave -smp "$L1_CPUS" -m "$L1_MEM"
		-M pc -nodefaults -no-reboot -display none
		-kernel "$HARDY_ROOT/build/guest/vmlinuz" -initrd "$initrd" -append "$cmdline")
	# L1_DISKS: images L1 sees as /dev/vda, /dev/vdb, ... (virtio-blk), each "PATH,QEMU-OPTIONS"
	# (e.g. snapshot=on keeps the file untouched whatever L1 and its guests write).
	local disk
	for disk in "${L1_DISKS[@]}"; do
		qemu+=(-drive "file=${disk%%,*},format=raw,if=virtio,${disk#*,}")
	done
	if [ "$mode" = interactive ]; then
		"${qemu[@]}" -chardev "stdio,id=con,signal=off,logfile=$log" -serial chardev:con \
			2> >(grep -v "TCG doesn't support requested feature" >&2)
	else
		# (EPYC's CPUID bits that TCG lacks are warned about at every start: noise, dropped.)
		timeout -k 10 "$secs" "${qemu[@]}" -serial stdio </dev/null \
			2> >(grep -v "TCG doesn't support requested feature" >&2) | tee "$log"
	fi
}
