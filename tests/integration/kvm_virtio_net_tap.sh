#!/bin/sh
# virtio-net on a TAP interface (--net tap=IFNAME) end to end, in a network namespace of its
# own (the test re-runs itself under `unshare -n`), so it touches no real network:
# - the host side gives the TAP interface 192.168.77.1/24, the guest takes 192.168.77.2/24;
# - the guest pings the host and fetches 1 MB of random bytes from the host's HTTP server
#   (received with TSO and checksum offload: GUEST_TSO4/GUEST_CSUM through the vnet header);
# - the host pings the guest and fetches the guest's own random 1 MB (sent with HOST_TSO4/CSUM)
#   and a page the guest generated; both SHA-256 sums agree;
# - the driver negotiated CSUM, GUEST_CSUM, GUEST_TSO4, HOST_TSO4 and MRG_RXBUF, and the bulk
#   transfers crossed the TAP interface as segmentation-offloaded frames: more than 1514 bytes
#   per packet on average, each way (the TAP counts one packet per frame it passes).
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
if [ -z "${HARDY_NETNS:-}" ]; then
	command -v unshare >/dev/null || skip "no unshare here"
	HARDY_NETNS=1 exec unshare -n sh "$0" "$@"
fi
for tool in ip tunctl httpd wget ping; do
	command -v "$tool" >/dev/null || skip "no $tool here"
done
[ -c /dev/net/tun ] || skip "no /dev/net/tun (tun module)"

tap=hardytap0
ip link set lo up
tunctl -t "$tap" >/dev/null || fail "tunctl -t $tap failed"
ip addr add 192.168.77.1/24 dev "$tap"
ip link set "$tap" up

www=$HARDY_TMP/www
mkdir -p "$www"
head -c 1000000 /dev/urandom >"$www/big.bin"
big_sum=$(sha256sum "$www/big.bin" | cut -d' ' -f1)
httpd -f -p 192.168.77.1:18082 -h "$www" &
httpd_pid=$!
# The TAP's counters from /proc/net/dev (this namespace's; /sys shows the one it was mounted in).
tap_stat() {
	sed 's/:/ /' /proc/net/dev | awk -v dev="$tap" -v what="$1" '$1 == dev {
		print what == "rx_bytes" ? $2 : what == "rx_packets" ? $3 : what == "tx_bytes" ? $10 : $11 }'
}
tx_bytes0=$(tap_stat tx_bytes) tx_packets0=$(tap_stat tx_packets)
hardy_pid=
cleanup() {
	kill "$httpd_pid" 2>/dev/null || true
	[ -n "$hardy_pid" ] && kill -KILL "$hardy_pid" 2>/dev/null || true
}
trap cleanup EXIT

cat >"$HARDY_TMP/test.sh" <<'SCRIPT'
ip addr flush dev eth0
ip addr add 192.168.77.2/24 dev eth0
ip link set eth0 up
for d in /sys/bus/virtio/devices/*; do
	[ "$(cat $d/device)" = 0x0001 ] && echo "hardy-test: features=$(cat $d/features)"
done
if ping -c 3 -W 10 192.168.77.1 >/tmp/ping.out 2>&1; then p=ok; else p=failed; fi
echo "hardy-test: ping=$p"
sum=none
for i in 1 2 3 4 5; do
	if wget -q -O /tmp/big.bin http://192.168.77.1:18082/big.bin; then
		sum=$(sha256sum /tmp/big.bin | cut -d' ' -f1)
		break
	fi
	sleep 1
done
echo "hardy-test: fetched=$sum"
mkdir -p /www
head -c 1000000 /dev/urandom >/www/big.bin
echo "hardy-test: guest_big=$(sha256sum /www/big.bin | cut -d' ' -f1)"
echo "tap-guest-$(cat /proc/sys/kernel/random/uuid)" >/www/index.html
httpd -p 80 -h /www
echo "hardy-test: serving=$(cat /www/index.html)"
sleep 600
SCRIPT
test_initrd "$HARDY_TMP/initrd" "$HARDY_TMP/test.sh"

field() { sed -n "s/.*hardy-test: $1=\\([^[:space:]]*\\).*/\\1/p" "$2" | head -n 1; }

log=$HARDY_TMP/console.log
: >"$log"
"$HARDY" run --console "file:$log" --initrd "$HARDY_TMP/initrd" --cmdline "$GUEST_CMDLINE_BASE" \
	--net "tap=$tap,mac=52:54:00:ab:cd:ef" >"$log.out" 2>"$log.err" </dev/null &
hardy_pid=$!
wait_for_console "$log" "hardy-test: serving=" "$(scaled 60)" "$hardy_pid"

features=$(field features "$log")
bit() { echo "$features" | cut -c$(($1 + 1)); }
for b in 0 1 5 7 11 15; do
	[ "$(bit $b)" = 1 ] || { show_file "$log"; fail "feature bit $b not negotiated: '$features'"; }
done
note "ok: features $features (CSUM, GUEST_CSUM, MAC, GUEST_TSO4, HOST_TSO4, MRG_RXBUF)"
[ "$(field ping "$log")" = ok ] || { show_file "$log"; fail "the guest could not ping 192.168.77.1"; }
[ "$(field fetched "$log")" = "$big_sum" ] ||
	{ show_file "$log"; fail "the guest's copy has SHA-256 '$(field fetched "$log")', expected $big_sum"; }
note "ok: the guest pinged the host and fetched 1 MB from it intact"
to_guest=$((($(tap_stat tx_bytes) - tx_bytes0) / ($(tap_stat tx_packets) - tx_packets0)))
[ "$to_guest" -gt 1514 ] || fail "host to guest: $to_guest bytes per frame, so no TSO reached the guest"
note "ok: host to guest: $to_guest bytes per frame on average (GUEST_TSO4 frames)"

ping -c 2 -W 10 192.168.77.2 >"$HARDY_TMP/ping.out" 2>&1 ||
	{ show_file "$HARDY_TMP/ping.out"; fail "the host could not ping 192.168.77.2"; }
want=$(field serving "$log")
got=$(wget -q -O - http://192.168.77.2/index.html 2>/dev/null || true)
[ "$got" = "$want" ] || { show_file "$log"; fail "the guest's page reads '$got', expected '$want'"; }
rx_bytes0=$(tap_stat rx_bytes) rx_packets0=$(tap_stat rx_packets)
wget -q -O "$HARDY_TMP/guest-big.bin" http://192.168.77.2/big.bin || fail "fetching big.bin from the guest"
from_guest=$((($(tap_stat rx_bytes) - rx_bytes0) / ($(tap_stat rx_packets) - rx_packets0)))
[ "$(sha256sum "$HARDY_TMP/guest-big.bin" | cut -d' ' -f1)" = "$(field guest_big "$log")" ] ||
	fail "the guest's 1 MB arrived changed"
note "ok: the host pinged the guest and read its page and its 1 MB intact"
[ "$from_guest" -gt 1514 ] || fail "guest to host: $from_guest bytes per frame, so the guest's TSO was lost"
note "ok: guest to host: $from_guest bytes per frame on average (HOST_TSO4 frames)"

kill -TERM "$hardy_pid"
status=0
wait "$hardy_pid" || status=$?
hardy_pid=
[ "$status" = 0 ] || { show_file "$log"; show_file "$log.err"; fail "hardy exited $status after SIGTERM"; }
note "ok: powered off on SIGTERM"
