#!/bin/sh
# virtio-blk end to end in the default guest (stock kernel, virtio_blk module):
# - the guest reads a disk whose bytes the test wrote and computes the same SHA-256;
# - two disks with ids appear as /sys/block/vda and vdb, each serial showing its id;
# - a read-only disk is read-only in the guest, its writes fail, and the image stays
#   byte-identical;
# - the guest writes and syncs, hardy is SIGKILLed, and the image holds the data.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest

data=$HARDY_TMP/data.img
ro=$HARDY_TMP/ro.img
dd if=/dev/urandom of="$data" bs=1M count=4 2>/dev/null
dd if=/dev/urandom of="$ro" bs=1M count=1 2>/dev/null
data_sum=$(sha256sum "$data" | cut -d' ' -f1)
ro_sum=$(sha256sum "$ro" | cut -d' ' -f1)

cat >"$HARDY_TMP/test.sh" <<'SCRIPT'
echo "hardy-test: sum=$(sha256sum /dev/vda | cut -d' ' -f1)"
echo "hardy-test: serial_a=$(cat /sys/block/vda/serial 2>/dev/null)"
echo "hardy-test: serial_b=$(cat /sys/block/vdb/serial 2>/dev/null)"
echo "hardy-test: ro_b=$(cat /sys/block/vdb/ro 2>/dev/null)"
if dd if=/dev/zero of=/dev/vdb bs=4096 count=4 conv=fsync 2>/dev/null; then w=ok; else w=refused; fi
echo "hardy-test: ro_write=$w"
echo "hardy-test: blocks=$(ls /sys/block | tr '\n' ' ')"
dmesg | grep -i -e virtio_blk -e 'vd[a-z]' | tail -n 8
SCRIPT
test_initrd "$HARDY_TMP/initrd" "$HARDY_TMP/test.sh"

field() { sed -n "s/.*hardy-test: $1=\\([^[:space:]]*\\).*/\\1/p" "$2" | head -n 1; }

log=$HARDY_TMP/console.log
hardy_run_expect 0 "$log" "$(scaled 60)" --initrd "$HARDY_TMP/initrd" \
	--disk "$data,id=data-disk" --disk "$ro,ro,id=ro-disk" --cmdline "$GUEST_CMDLINE_BASE"
[ "$(field sum "$log")" = "$data_sum" ] ||
	{ show_file "$log"; fail "the guest's SHA-256 of vda is '$(field sum "$log")', expected $data_sum"; }
note "ok: the guest read the 4 MiB image: sha256 $data_sum"
[ "$(field serial_a "$log")" = data-disk ] && [ "$(field serial_b "$log")" = ro-disk ] ||
	{ show_file "$log"; fail "serials '$(field serial_a "$log")' '$(field serial_b "$log")'"; }
note "ok: vda and vdb with serials data-disk and ro-disk"
[ "$(field ro_b "$log")" = 1 ] || { show_file "$log"; fail "vdb is not read-only in the guest"; }
[ "$(field ro_write "$log")" = refused ] || { show_file "$log"; fail "a write to the ro disk succeeded"; }
[ "$(sha256sum "$ro" | cut -d' ' -f1)" = "$ro_sum" ] || fail "the read-only image changed"
[ "$(sha256sum "$data" | cut -d' ' -f1)" = "$data_sum" ] || fail "the data image changed (nobody wrote it)"
note "ok: the ro disk refused writes and is byte-identical"

# Durability: write and sync in the guest, then SIGKILL hardy.
cat >"$HARDY_TMP/write.sh" <<'SCRIPT'
printf 'hardy-durable-0123456789' >/tmp/pattern
dd if=/tmp/pattern of=/dev/vda bs=512 seek=800 conv=fsync,notrunc 2>/dev/null
sync
echo "hardy-test: synced"
sleep 600
SCRIPT
test_initrd "$HARDY_TMP/initrd-write" "$HARDY_TMP/write.sh"
log=$HARDY_TMP/console-write.log
: >"$log"
"$HARDY" run --console "file:$log" --initrd "$HARDY_TMP/initrd-write" --disk "$data" \
	--cmdline "$GUEST_CMDLINE_BASE" >"$log.out" 2>"$log.err" </dev/null &
pid=$!
n=0
while ! grep -q "hardy-test: synced" "$log"; do
	kill -0 "$pid" 2>/dev/null || { show_file "$log"; show_file "$log.err"; fail "hardy ended before the guest synced"; }
	[ "$n" -ge "$(scaled 60)" ] && { kill -KILL "$pid"; show_file "$log"; fail "the guest never synced"; }
	sleep 1
	n=$((n + 1))
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
got=$(dd if="$data" bs=512 skip=800 count=1 2>/dev/null | head -c 24)
[ "$got" = hardy-durable-0123456789 ] || fail "after SIGKILL the image holds '$got' at sector 800"
note "ok: the synced write survived SIGKILL"
