#!/bin/sh
# Bad --config-file and --api-sock input is refused with status 2 and one line before any VM
# exists (no KVM needed): malformed JSON, unknown sections and fields, wrong types,
# out-of-range values, missing files, VM flags beside the JSON, a socket path that is too long
# or taken by a live hardy. Then, over a real socket, a waiting hardy refuses bad requests with
# 400 and fault_message (curl), keeps answering, and a SIGTERM before InstanceStart ends it with
# status 0 and the socket removed.
. "$HARDY_ROOT/tests/harness/lib.sh"
. "$HARDY_ROOT/tests/harness/api.sh"
require_hardy
require_guest

cfg() { printf '%s\n' "$1" >"$HARDY_TMP/c.json"; echo "$HARDY_TMP/c.json"; }
K="\"kernel_image_path\":\"$HARDY_GUEST/vmlinuz\""
expect_usage_error "config file missing" run --config-file /nonexistent.json
expect_usage_error "config file malformed" run --config-file "$(cfg '{"boot-source":')"
expect_usage_error "config file not an object" run --config-file "$(cfg '[1]')"
expect_usage_error "unknown section" run --config-file "$(cfg '{"boot_source":{}}')"
expect_usage_error "unknown field" run --config-file "$(cfg "{\"boot-source\":{$K,\"kernel\":1}}")"
expect_usage_error "wrong type" run --config-file "$(cfg "{\"boot-source\":{$K},\"machine-config\":{\"vcpu_count\":\"2\",\"mem_size_mib\":128}}")"
expect_usage_error "vcpu_count 0" run --config-file "$(cfg "{\"boot-source\":{$K},\"machine-config\":{\"vcpu_count\":0,\"mem_size_mib\":128}}")"
expect_usage_error "mem_size_mib too small" run --config-file "$(cfg "{\"boot-source\":{$K},\"machine-config\":{\"vcpu_count\":1,\"mem_size_mib\":8}}")"
expect_usage_error "missing kernel" run --config-file "$(cfg '{"boot-source":{"kernel_image_path":"/no/kernel"}}')"
expect_usage_error "no boot-source" run --config-file "$(cfg '{}')"
expect_usage_error "drive image missing" run --config-file "$(cfg "{\"boot-source\":{$K},\"drives\":[{\"drive_id\":\"a\",\"path_on_host\":\"/no/img\",\"is_root_device\":false}]}")"
expect_usage_error "two root drives" run --config-file "$(cfg "{\"boot-source\":{$K},\"drives\":[{\"drive_id\":\"a\",\"path_on_host\":\"$HARDY_GUEST/initrd\",\"is_root_device\":true,\"is_read_only\":true},{\"drive_id\":\"b\",\"path_on_host\":\"$HARDY_GUEST/initrd\",\"is_root_device\":true,\"is_read_only\":true}]}")"
expect_usage_error "bad MAC" run --config-file "$(cfg "{\"boot-source\":{$K},\"network-interfaces\":[{\"iface_id\":\"e\",\"host_dev_name\":\"user\",\"guest_mac\":\"01:02\"}]}")"
expect_usage_error "vsock CID 2" run --config-file "$(cfg "{\"boot-source\":{$K},\"vsock\":{\"guest_cid\":2,\"uds_path\":\"/tmp/v\"}}")"
expect_usage_error "newline in a path" run --config-file "$(cfg '{"boot-source":{"kernel_image_path":"/no/a\nb"}}')"
expect_usage_error "--kernel beside --config-file" run --config-file "$(cfg '{}')" --kernel "$HARDY_GUEST/vmlinuz"
expect_usage_error "--cpus beside --api-sock" run --api-sock "$HARDY_TMP/x.sock" --cpus 2
expect_usage_error "socket path too long" run --api-sock "/tmp/$(head -c 120 /dev/zero | tr '\0' a)"
expect_usage_error "socket in a missing directory" run --api-sock /nonexistent/dir/api.sock
expect_usage_error "socket path is a directory" run --api-sock "$HARDY_TMP"

command -v curl >/dev/null || skip "no curl for the socket half"
API_SOCK=$HARDY_TMP/api.sock
"$HARDY" run --api-sock "$API_SOCK" --name waiting 2>"$HARDY_TMP/wait.err" </dev/null &
pid=$!
wait_api_socket "$pid"
expect_usage_error "socket taken by a live hardy" run --api-sock "$API_SOCK"
api_expect 400 PUT /machine-config '{"vcpu_count":2' 'malformed JSON'
api_expect 400 PUT /machine-config '{"vcpu_count":2,"mem_size_mib":128,"foo":1}' 'unknown field `foo`'
api_expect 400 PUT /machine-config '{"vcpu_count":"two","mem_size_mib":128}' 'expected an integer'
api_expect 400 PUT /machine-config '{"vcpu_count":1000,"mem_size_mib":128}' 'vcpu_count'
api_expect 400 PUT /drives/a '{"drive_id":"b","path_on_host":"/x","is_root_device":false}' 'does not match'
api_expect 400 GET /no/such/path "" 'Invalid request method and/or path'
api_expect 400 DELETE / "" 'Invalid request method and/or path'
api_expect 400 PATCH /vm '{"state":"Paused"}' 'before starting'
api_expect 400 PUT /logger "$(head -c 60000 /dev/zero | tr '\0' ' ')" 'larger than the limit'
api_expect 200 GET / "" '"state":"Not started"'
# SIGUSR1 is the KVM backend's kick; a stray one never ends a VMM (VM or not).
kill -USR1 "$pid"
sleep 0.3
api_expect 200 GET / "" '"state":"Not started"'
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
[ "$status" = 0 ] || { show_file "$HARDY_TMP/wait.err"; fail "SIGTERM before InstanceStart: status $status"; }
[ ! -e "$API_SOCK" ] || fail "the socket outlived hardy"
note "ok: SIGTERM before InstanceStart: status 0, socket removed"
