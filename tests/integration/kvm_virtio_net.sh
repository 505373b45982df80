#!/bin/sh
# virtio-net on the user-mode network (--net user, libslirp) end to end in the default guest:
# - DHCP gives the guest 10.0.2.15/24 with the gateway 10.0.2.2 and the DNS forwarder 10.0.2.3;
# - the guest fetches a page of random bytes the test wrote from an HTTP server on the host's
#   127.0.0.1 (reached as 10.0.2.2) and gets the same SHA-256;
# - the host reaches the guest's HTTP server through hostfwd=tcp::HOSTPORT-:80 and reads the
#   content the guest generated;
# - the driver negotiated MRG_RXBUF and no offloads (slirp carries no vnet header).
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
command -v httpd >/dev/null && command -v wget >/dev/null || skip "no httpd/wget (busybox) here"

host_port=18081
fwd_port=18080
ip link set lo up 2>/dev/null || true
www=$HARDY_TMP/www
mkdir -p "$www"
head -c 100000 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$www/page.txt"
page_sum=$(sha256sum "$www/page.txt" | cut -d' ' -f1)
httpd -f -p "127.0.0.1:$host_port" -h "$www" &
httpd_pid=$!
hardy_pid=
cleanup() {
	kill "$httpd_pid" 2>/dev/null || true
	[ -n "$hardy_pid" ] && kill -KILL "$hardy_pid" 2>/dev/null || true
}
trap cleanup EXIT

cat >"$HARDY_TMP/test.sh" <<SCRIPT
echo "hardy-test: addr=\$(ip -4 addr show dev eth0 | sed -n 's/.*inet \\([0-9.]*\\/[0-9]*\\).*/\\1/p')"
echo "hardy-test: dns=\$(sed -n 's/^nameserver //p' /etc/resolv.conf | head -n 1)"
for d in /sys/bus/virtio/devices/*; do
	[ "\$(cat \$d/device)" = 0x0001 ] && echo "hardy-test: features=\$(cat \$d/features)"
done
sum=none
for i in 1 2 3 4 5; do
	if wget -q -O /tmp/page.txt http://10.0.2.2:$host_port/page.txt; then
		sum=\$(sha256sum /tmp/page.txt | cut -d' ' -f1)
		break
	fi
	sleep 1
done
echo "hardy-test: fetched=\$sum"
mkdir -p /www
echo "guest-made-\$(cat /proc/sys/kernel/random/uuid)" >/www/index.html
httpd -p 80 -h /www
echo "hardy-test: serving=\$(cat /www/index.html)"
sleep 600
SCRIPT
test_initrd "$HARDY_TMP/initrd" "$HARDY_TMP/test.sh"

field() { sed -n "s/.*hardy-test: $1=\\([^[:space:]]*\\).*/\\1/p" "$2" | head -n 1; }

log=$HARDY_TMP/console.log
: >"$log"
"$HARDY" run --console "file:$log" --initrd "$HARDY_TMP/initrd" --cmdline "$GUEST_CMDLINE_BASE" \
	--net "user,hostfwd=tcp::$fwd_port-:80" >"$log.out" 2>"$log.err" </dev/null &
hardy_pid=$!
wait_for_console "$log" "hardy-test: serving=" "$(scaled 60)" "$hardy_pid"

console_expect "$log" "hardy-guest: eth0 10.0.2.15/24 via 10.0.2.2" "the DHCP lease line"
[ "$(field addr "$log")" = 10.0.2.15/24 ] || { show_file "$log"; fail "eth0 has '$(field addr "$log")'"; }
[ "$(field dns "$log")" = 10.0.2.3 ] || { show_file "$log"; fail "nameserver '$(field dns "$log")'"; }
note "ok: DHCP gave 10.0.2.15/24 via 10.0.2.2, DNS 10.0.2.3"

features=$(field features "$log")
bit() { echo "$features" | cut -c$(($1 + 1)); }
[ "$(bit 15)" = 1 ] && [ "$(bit 5)" = 1 ] && [ "$(bit 0)" = 0 ] ||
	{ show_file "$log"; fail "negotiated features '$features': want MAC, MRG_RXBUF, no CSUM"; }
note "ok: features $features"

[ "$(field fetched "$log")" = "$page_sum" ] ||
	{ show_file "$log"; fail "the guest's page has SHA-256 '$(field fetched "$log")', expected $page_sum"; }
note "ok: the guest fetched 200000 bytes from the host's 127.0.0.1:$host_port as 10.0.2.2"

want=$(field serving "$log")
got=
n=0
while [ "$n" -lt 10 ]; do
	got=$(wget -q -O - "http://127.0.0.1:$fwd_port/index.html" 2>/dev/null || true)
	[ "$got" = "$want" ] && break
	sleep 1
	n=$((n + 1))
done
[ "$got" = "$want" ] || { show_file "$log"; show_file "$log.err"; fail "hostfwd gave '$got', expected '$want'"; }
note "ok: the host read '$got' from the guest through hostfwd tcp::$fwd_port-:80"

kill -TERM "$hardy_pid"
status=0
wait "$hardy_pid" || status=$?
hardy_pid=
[ "$status" = 0 ] || { show_file "$log"; show_file "$log.err"; fail "hardy exited $status after SIGTERM"; }
note "ok: powered off on SIGTERM"
