#!/bin/sh
# A guest booted through the API alone, with curl --unix-socket as the client, replaying
# firecracker-go-sdk's sequence: PUT /logger and /metrics, PUT /machine-config then GET it,
# PUT /boot-source, PUT /drives/rootfs, PUT /network-interfaces/eth0, PUT /vsock,
# InstanceStart. The console shows the guest with 2 vCPUs; GET /
# says Running; configuration is refused after start; PATCH /vm pauses (GET / and `hardy list`
# by name agree) and `hardy resume` continues; stalled, half-closed, vanished clients and
# a flood of connections leave the VM running and the API answering; SendCtrlAltDel powers the
# guest off (the ACPI power button) and hardy exits 0; then SIGTERM as the SDK sends finds it
# gone. The logger and metrics files got their lines.
. "$HARDY_ROOT/tests/harness/lib.sh"
. "$HARDY_ROOT/tests/harness/api.sh"
require_hardy
require_guest
command -v curl >/dev/null || skip "no curl"

API_SOCK=$HARDY_TMP/api.sock
log=$HARDY_TMP/console.log
disk=$HARDY_TMP/disk.img
dd if=/dev/urandom of="$disk" bs=1M count=1 2>/dev/null
: >"$log"
timeout -k 10 "$(scaled 90)" "$HARDY" run --api-sock "$API_SOCK" --name api-boot \
	--console "file:$log" 2>"$log.err" </dev/null &
pid=$!
wait_api_socket "$pid"
[ "$(stat -c %a "$API_SOCK")" = 600 ] || fail "the socket's mode is $(stat -c %a "$API_SOCK")"
api_expect 200 GET / "" '"state":"Not started"'

api_expect 204 PUT /logger "{\"log_path\":\"$HARDY_TMP/fc.log\",\"level\":\"Info\",\"show_level\":true}"
api_expect 204 PUT /metrics "{\"metrics_path\":\"$HARDY_TMP/fc.metrics\"}"
api_expect 204 PUT /machine-config '{"vcpu_count":2,"mem_size_mib":256,"smt":false}'
api_expect 200 GET /machine-config "" '"vcpu_count":2,"mem_size_mib":256'
api_expect 204 PUT /boot-source "{\"kernel_image_path\":\"$HARDY_GUEST/vmlinuz\",\"initrd_path\":\"$HARDY_GUEST/initrd\",\"boot_args\":\"$GUEST_CMDLINE_BASE\"}"
api_expect 204 PUT /drives/rootfs "{\"drive_id\":\"rootfs\",\"path_on_host\":\"$disk\",\"is_root_device\":false,\"is_read_only\":true}"
api_expect 204 PUT /network-interfaces/eth0 '{"iface_id":"eth0","host_dev_name":"user","guest_mac":"AA:FC:00:00:00:01"}'
api_expect 204 PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"$HARDY_TMP/v.sock\"}"
api_expect 204 PUT /entropy '{}'
api_expect 204 PUT /actions '{"action_type":"InstanceStart"}'
wait_for_console "$log" "$GUEST_MARKER" "$(scaled 60)" "$pid"
[ "$(banner_field "$log" cpus)" = 2 ] || { show_file "$log"; fail "the guest has $(banner_field "$log" cpus) vCPUs, expected 2"; }
note "ok: the guest booted with 2 vCPUs from the API's configuration"
api_expect 200 GET / "" '"state":"Running"'
api_expect 400 PUT /machine-config '{"vcpu_count":1,"mem_size_mib":128}' 'not supported after starting'
api_expect 400 PUT /actions '{"action_type":"InstanceStart"}' 'fault_message'
api_expect 200 GET /vm/config "" '"drive_id":"rootfs"'
api_expect 200 GET /vm/config "" '"guest_cid":3'
[ -S "$HARDY_TMP/v.sock" ] || fail "no vsock socket at $HARDY_TMP/v.sock after InstanceStart"
note "ok: PUT /vsock made the guest a vsock device (its host socket listens)"
api_expect 204 PUT /actions '{"action_type":"FlushMetrics"}'

# Hostile clients while the guest runs (tests/host-bin/api-hostile): stalled, half-closed
# and vanished clients and a flood of 100 connections, held for 4 s.
"$HARDY_ROOT/build/host-bin/api-hostile" "$API_SOCK" 100 4 >"$HARDY_TMP/hostile.out" &
hostile=$!
sleep 1
api_expect 400 PUT /logger "$(head -c 60000 /dev/zero | tr '\0' ' ')" 'larger than the limit'
wait "$hostile" || fail "api-hostile failed"
note "$(cat "$HARDY_TMP/hostile.out")"
sleep 1
api_expect 200 GET / "" '"state":"Running"'
kill -0 "$pid" 2>/dev/null || fail "hardy ended under the hostile clients"
note "ok: stalled, half-closed and vanished clients and a flood of 100 connections: the VM runs and the API answers"

# PATCH /vm on --api-sock, and the same VM through its control socket by name.
api_expect 204 PATCH /vm '{"state":"Paused"}'
api_expect 200 GET / "" '"state":"Paused"'
"$HARDY" list | grep -q "^api-boot  *$(vmm_pid "$pid")  *Paused  *2 " || { "$HARDY" list; fail "hardy list does not show api-boot paused with 2 vCPUs"; }
"$HARDY" info api-boot | grep -q "drive.*rootfs\|disk: *rootfs" || { "$HARDY" info api-boot; fail "hardy info does not show the API's drive"; }
"$HARDY" resume api-boot || fail "hardy resume api-boot exited $?"
api_expect 200 GET / "" '"state":"Running"'
note "ok: PATCH /vm paused and GET / said so; hardy list/info/resume reached the same VM by name"

api_expect 204 PUT /actions '{"action_type":"SendCtrlAltDel"}'
status=0
wait "$pid" || status=$?
kill -TERM "$pid" 2>/dev/null || true
console_expect "$log" "hardy-guest: power button, shutting down" "the guest's shutdown line"
[ "$status" = 0 ] || { show_file "$log.err"; fail "hardy exited $status after SendCtrlAltDel, expected 0"; }
[ ! -e "$API_SOCK" ] || fail "the API socket outlived hardy"
grep -q "PUT /boot-source: 204" "$HARDY_TMP/fc.log" || { show_file "$HARDY_TMP/fc.log"; fail "no request lines in the log"; }
grep -q '"utc_timestamp_ms":' "$HARDY_TMP/fc.metrics" || fail "no metrics line"
note "ok: SendCtrlAltDel shut the guest down, hardy exited 0; logger and metrics written"
