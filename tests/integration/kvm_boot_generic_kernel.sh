#!/bin/sh
# Another unmodified kernel boots the same way: Debian's generic linux-image-amd64 (which, unlike
# the cloud kernel, parses MP tables and has other drivers built in) reaches the default
# initramfs's init with 2 vCPUs and powers off with status 0.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
kernel=$HARDY_ROOT/build/guest-generic/vmlinuz
[ -f "$kernel" ] || fail "no generic kernel at $kernel (run make guest-generic)"
release=$(cut -d' ' -f1 "$HARDY_ROOT/build/guest-generic/kernel-release")
log=$HARDY_TMP/console.log
hardy_run_expect 0 "$log" "$(scaled 40)" --kernel "$kernel" --initrd "$HARDY_GUEST/initrd" \
	--cpus 2 --cmdline "$GUEST_CMDLINE_BASE hardy.action=poweroff"
console_expect "$log" "$GUEST_MARKER" "init banner"
[ "$(banner_field "$log" cpus)" = 2 ] || { show_file "$log"; fail "the generic kernel did not bring up 2 CPUs"; }
[ "$(banner_field "$log" kernel)" = "$release" ] || { show_file "$log"; fail "banner names another kernel than $release"; }
