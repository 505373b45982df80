#!/bin/sh
# --config-file: a guest boots from Firecracker's config-file JSON alone (2 vCPUs, a read-only
# drive whose bytes and serial the guest reports, boot_args), with --api-sock beside it GET /
# says Running and GET /vm/config gives the file's configuration back; the guest powers off and
# hardy exits 0.
. "$HARDY_ROOT/tests/harness/lib.sh"
. "$HARDY_ROOT/tests/harness/api.sh"
require_hardy
require_guest
command -v curl >/dev/null || skip "no curl"

disk=$HARDY_TMP/data.img
dd if=/dev/urandom of="$disk" bs=1M count=2 2>/dev/null
sum=$(sha256sum "$disk" | cut -d' ' -f1)
cat >"$HARDY_TMP/test.sh" <<'SCRIPT'
echo "hardy-test: sum=$(sha256sum /dev/vda | cut -d' ' -f1)"
echo "hardy-test: serial=$(cat /sys/block/vda/serial 2>/dev/null)"
echo "hardy-test: ro=$(cat /sys/block/vda/ro 2>/dev/null)"
echo "hardy-test: cpus=$(grep -c ^processor /proc/cpuinfo)"
sleep 3
SCRIPT
test_initrd "$HARDY_TMP/initrd" "$HARDY_TMP/test.sh"
cat >"$HARDY_TMP/vm.json" <<JSON
{
  "boot-source": { "kernel_image_path": "$HARDY_GUEST/vmlinuz",
                   "initrd_path": "$HARDY_TMP/initrd", "boot_args": "$GUEST_CMDLINE_BASE" },
  "machine-config": { "vcpu_count": 2, "mem_size_mib": 256, "smt": false },
  "drives": [ { "drive_id": "datadisk", "path_on_host": "$disk", "is_root_device": false,
                "is_read_only": true, "cache_type": "Unsafe", "io_engine": "Sync" } ],
  "network-interfaces": [],
  "vsock": null,
  "logger": null
}
JSON
field() { sed -n "s/.*hardy-test: $1=\\([^[:space:]]*\\).*/\\1/p" "$2" | head -n 1; }

API_SOCK=$HARDY_TMP/api.sock
log=$HARDY_TMP/console.log
: >"$log"
timeout -k 10 "$(scaled 90)" "$HARDY" run --config-file "$HARDY_TMP/vm.json" --api-sock "$API_SOCK" \
	--name cfgfile --console "file:$log" 2>"$log.err" </dev/null &
pid=$!
wait_api_socket "$pid"
api_expect 200 GET / "" '"state":"Running"'
api_expect 200 GET /vm/config "" '"drive_id":"datadisk"'
api_expect 200 GET /machine-config "" '"vcpu_count":2,"mem_size_mib":256'
status=0
wait "$pid" || status=$?
[ "$status" = 0 ] || { show_file "$log"; show_file "$log.err"; fail "hardy exited $status, expected 0"; }
[ "$(field sum "$log")" = "$sum" ] || { show_file "$log"; show_file "$log.err"; fail "the guest read '$(field sum "$log")', expected $sum"; }
[ "$(field serial "$log")" = datadisk ] && [ "$(field ro "$log")" = 1 ] &&
	[ "$(field cpus "$log")" = 2 ] || { show_file "$log"; fail "serial/ro/cpus wrong"; }
note "ok: booted from the config file: 2 vCPUs, the read-only drive's bytes and serial arrived"
