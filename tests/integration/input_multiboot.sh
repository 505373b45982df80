#!/bin/sh
# Bad Multiboot kernels and --debug-exit misuse are refused with status 2 and one line, before
# KVM is opened: a header with a bad checksum, a good header in a file that is not ELF32, a
# video-mode requirement, and (with the prebuilt kvm-unit-tests kernels at hand) a real kernel
# whose segment is moved onto hardy's boot tables below 1 MiB.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
mb=$HARDY_TMP/mb
# magic 0x1BADB002, flags, checksum (little endian, octal escapes for any printf)
printf '\002\260\255\033\000\000\000\000\000\000\000\000' >"$mb.badsum"
expect_usage_error "Multiboot header with a bad checksum" run --kernel "$mb.badsum"
grep -q checksum "$HARDY_TMP/usage.err" || fail "message does not say checksum"
printf '\002\260\255\033\000\000\000\000\376\117\122\344' >"$mb.notelf"
expect_usage_error "Multiboot header in a file that is not ELF" run --kernel "$mb.notelf"
grep -q "not an ELF" "$HARDY_TMP/usage.err" || fail "message does not say not an ELF file"
printf '\002\260\255\033\004\000\000\000\372\117\122\344' >"$mb.video"
expect_usage_error "Multiboot video mode requirement" run --kernel "$mb.video"
grep -q "flags 0x4" "$HARDY_TMP/usage.err" || fail "message does not name the flag"

expect_usage_error "--debug-exit with --api-sock" run --debug-exit --api-sock "$HARDY_TMP/api.sock"
expect_usage_error "--debug-exit with a value" run --debug-exit=3

kut=${HARDY_KUT_DIR:-$HARDY_ROOT/../shared/kvm-unit-tests}
[ -f "$kut/x86/setjmp.flat" ] || kut=$HARDY_ROOT/build/kut
if [ -f "$kut/x86/setjmp.flat" ]; then
	cp "$kut/x86/setjmp.flat" "$mb.low"
	# The first program header's p_paddr (e_phoff 52 + 12) := 0x7000, the Multiboot info.
	printf '\000\160\000\000' | dd of="$mb.low" bs=1 seek=64 conv=notrunc 2>/dev/null
	expect_usage_error "segment over hardy's boot tables" run --kernel "$mb.low"
	grep -q "boot tables" "$HARDY_TMP/usage.err" || fail "message does not say why"
	truncate -s 62M "$mb.module"
	expect_usage_error "a module that does not fit above the kernel" run \
		--kernel "$kut/x86/setjmp.flat" --initrd "$mb.module" --mem 64M
	grep -q "does not fit" "$HARDY_TMP/usage.err" || fail "message does not say it does not fit"
else
	note "no kvm-unit-tests kernels: the real-kernel cases are not run"
fi
