#!/bin/sh
# virtio-rng end to end: the stock kernel finds the device on PCI bus 0 (virtio-pci, modern),
# binds virtio_rng, and /dev/hwrng yields bytes fed from the host's getrandom. With --no-rng
# there is no such device.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
cat >"$HARDY_TMP/test.sh" <<'SCRIPT'
echo "hardy-test: rng_current=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)"
echo "hardy-test: bytes=$(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')"
echo "hardy-test: virtio=$(cat /sys/bus/virtio/devices/*/device 2>/dev/null | tr '\n' ' ')"
# What the kernel said about PCI and virtio, for a failure's report.
dmesg | grep -i -e 'pci 0000:00:01' -e virtio -e 'pci_bus' -e msi | tail -n 20
SCRIPT
test_initrd "$HARDY_TMP/initrd" "$HARDY_TMP/test.sh"

field() { sed -n "s/.*hardy-test: $1=\\([^[:space:]]*\\).*/\\1/p" "$2" | head -n 1; }

log=$HARDY_TMP/console.log
hardy_run_expect 0 "$log" "$(scaled 30)" --initrd "$HARDY_TMP/initrd" --cmdline "$GUEST_CMDLINE_BASE"
rng=$(field rng_current "$log")
bytes=$(field bytes "$log")
[ "$rng" = virtio_rng.0 ] || { show_file "$log"; fail "rng_current is '$rng', expected virtio_rng.0"; }
[ "${#bytes}" = 128 ] || { show_file "$log"; fail "read ${#bytes} hex digits from /dev/hwrng, expected 128"; }
case $bytes in *[!0]*) ;; *) fail "/dev/hwrng gave only zero bytes";; esac
note "ok: /dev/hwrng from $rng: ${bytes%"${bytes#????????????????}"}..."

log=$HARDY_TMP/console-norng.log
hardy_run_expect 0 "$log" "$(scaled 30)" --no-rng --initrd "$HARDY_TMP/initrd" \
	--cmdline "$GUEST_CMDLINE_BASE"
grep -q "hardy-test: virtio=" "$log" || { show_file "$log"; fail "--no-rng: the guest script did not run"; }
rng=$(field rng_current "$log")
case $rng in virtio_rng*) show_file "$log"; fail "--no-rng: the guest still has $rng";; esac
note "ok: --no-rng: rng_current '${rng:-absent}'"
