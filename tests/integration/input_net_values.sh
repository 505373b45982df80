#!/bin/sh
# --net values that cannot work are refused with status 2 and one line before any VM exists (so
# this runs on hosts without KVM): an unknown backend, hostfwd rules of the wrong shape (no
# protocol, no guest port, port 0 or past 65535, a guest address off 10.0.2.0/24), hostfwd on a
# TAP NIC, bad MACs (multicast, zero, malformed), an empty or too long TAP name, a TAP interface
# that does not exist or is not a TAP interface, a host port already taken, nine NICs.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest

expect_usage_error "unknown backend" run --net bridge
expect_usage_error "empty value" run --net ""
expect_usage_error "hostfwd without a protocol" run --net "user,hostfwd=:8080-:80"
expect_usage_error "hostfwd with sctp" run --net "user,hostfwd=sctp::8080-:80"
expect_usage_error "hostfwd without a guest port" run --net "user,hostfwd=tcp::8080"
expect_usage_error "hostfwd to port 0" run --net "user,hostfwd=tcp::8080-:0"
expect_usage_error "hostfwd from port 65536" run --net "user,hostfwd=tcp::65536-:80"
expect_usage_error "hostfwd with a bad host address" run --net "user,hostfwd=tcp:1.2.3:8080-:80"
expect_usage_error "hostfwd to a guest off the network" run --net "user,hostfwd=tcp::8080-10.0.3.15:80"
expect_usage_error "hostfwd on a TAP NIC" run --net "tap=tap0,hostfwd=tcp::8080-:80"
expect_usage_error "unknown option" run --net "user,vlan=3"
expect_usage_error "multicast MAC" run --net "user,mac=01:00:5e:00:00:01"
expect_usage_error "zero MAC" run --net "user,mac=00:00:00:00:00:00"
expect_usage_error "short MAC" run --net "user,mac=52:54:00:12:34"
expect_usage_error "MAC with junk" run --net "user,mac=52:54:00:12:34:5g"
expect_usage_error "empty TAP name" run --net "tap="
expect_usage_error "TAP name of 16 bytes" run --net "tap=abcdefghijklmnop"
expect_usage_error "missing TAP interface" run --net "tap=hardy-no-such0"
expect_usage_error "TAP on a non-TAP interface" run --net "tap=lo"
expect_usage_error "host port taken (by the NIC's own first rule)" \
	run --net "user,hostfwd=tcp:127.0.0.1:18099-:80,hostfwd=tcp:127.0.0.1:18099-:81"
expect_usage_error "nine NICs" run --net user --net user --net user --net user --net user \
	--net user --net user --net user --net user
