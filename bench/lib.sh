# Shared by the benchmark wrappers (bench/boot.sh, bench/virtio-net.sh, ...), bash. Each
# benchmark has a measuring half, bench/NAME-inner.sh (POSIX sh), that runs where /dev/kvm works
# and prints its markdown table between "BENCH-TABLE: BEGIN" and "BENCH-TABLE: END".
# bench_where_kvm runs it directly when KVM works here, otherwise inside the nested L1 of
# tests/harness/host.sh (QEMU, its libraries and firmware copied in): there every number is
# under emulation, so compare VMMs with each other, not with hardware.
source "$(dirname "${BASH_SOURCE[0]}")/../tests/harness/host.sh"

describe_environment() {
	echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "- host CPU: $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) CPUs"
	echo "- host kernel: $(uname -r); QEMU: $(qemu-system-x86_64 --version | head -n1)"
	echo "- guest kernel: $(cat "$HARDY_ROOT/build/guest/kernel-release")"
	echo "- hardy: $([ -x "$HARDY_ROOT/build/hardy" ] && "$HARDY_ROOT/build/hardy" --version 2>/dev/null || echo 'not built')"
}

# bench_where_kvm NAME ARGS... : runs bench/NAME-inner.sh ARGS (with the BENCH_* variables of
# the environment), writes the environment and the table to build/bench/NAME.md and prints it;
# the inner script's progress lines ("bench: ...") go to stderr. False without a table.
bench_where_kvm() {
	local name=$1 out=$HARDY_ROOT/build/bench v vars=
	shift
	mkdir -p "$out"
	[ -f "$HARDY_ROOT/build/guest/vmlinuz" ] || { echo "bench: run make guest first" >&2; return 1; }
	{
		if kvm_usable; then
			echo "- mode: direct (/dev/kvm on the host)"
			describe_environment
			echo
			sh "$HARDY_ROOT/bench/$name-inner.sh" "$@" |
				sed -n '/^BENCH-TABLE: BEGIN/,/^BENCH-TABLE: END/p'
		else
			echo "- mode: nested (L1 under qemu -accel tcg -cpu EPYC,+svm,-xsave, ${L1_CPUS} vCPUs," \
				"${L1_MEM} MiB; the VMMs run with -accel kvm inside L1)"
			describe_environment
			echo
			for v in $(compgen -v BENCH_); do vars="$vars $v=${!v}"; done
			echo "exec env$vars sh /hardy/bench/$name-inner.sh $*" >"$out/$name-l1-job.sh"
			build_l1 "$out/$name-l1.cpio" "$out/$name-l1-job.sh" --with-qemu
			boot_l1 "$out/$name-l1.cpio" "$out/$name-l1-console.log" 3000 >/dev/null || true
			tr -d '\r' <"$out/$name-l1-console.log" | grep '^bench:' >&2 || true
			tr -d '\r' <"$out/$name-l1-console.log" |
				sed -n '/^BENCH-TABLE: BEGIN/,/^BENCH-TABLE: END/p'
		fi
	} | grep -v '^BENCH-TABLE:' >"$out/$name.md"
	cat "$out/$name.md"
	grep -q '^| ' "$out/$name.md"
}
