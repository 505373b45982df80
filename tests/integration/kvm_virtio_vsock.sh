#!/bin/sh
# virtio-vsock end to end in the default guest (stock kernel, vmw_vsock_virtio_transport),
# host side on Unix sockets in Firecracker's convention:
# - guest to host: a host echo server on PATH_6000; the guest connects to CID 2 port 6000,
#   sends 256 KiB and gets the same bytes back (SHA-256); a connection to port 6001, where
#   nothing listens, is refused in the guest;
# - host to guest: the guest echoes on port 5000; a host client writes "CONNECT 5000\n" to
#   PATH, reads "OK <hostport>", sends 1 MiB of random data and gets it back (SHA-256), then
#   four clients at once do the same with 256 KiB each while a fifth client has stopped
#   reading (its connection stalls alone; killing it ends the guest's side with RST);
#   "CONNECT 5001" (nobody listens) is refused: the client's socket is closed without OK;
# - the socket file left by a killed server is stale and replaced; hardy removes PATH at exit.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
bin=$HARDY_ROOT/build/host-bin
for b in uds-echo uds-vsock-cat; do
	[ -x "$bin/$b" ] || fail "no $bin/$b (run make integration)"
done
# sun_path is short: keep the sockets under a short directory.
dir=$(mktemp -d /tmp/hv.XXXXXX)
sock=$dir/v.sock
stall_reader=
trap 'kill $srv $pid $stall_reader 2>/dev/null; rm -rf "$dir"' EXIT

wait_line() { # FILE PATTERN WHAT
	_n=0
	until grep -q "$2" "$1" 2>/dev/null; do
		[ "$_n" -ge "$(scaled 100)" ] && fail "$3: never saw /$2/ in $1"
		sleep 0.1
		_n=$((_n + 1))
	done
}

# A stale socket at PATH (its server was killed), then the echo server for port 6000.
"$bin/uds-echo" "$sock" >"$HARDY_TMP/stale.out" &
srv=$!
wait_line "$HARDY_TMP/stale.out" listening "stale server"
kill "$srv"
wait "$srv" 2>/dev/null || true
[ -S "$sock" ] || fail "no stale socket file"
"$bin/uds-echo" "${sock}_6000" >"$HARDY_TMP/echo.out" &
srv=$!
wait_line "$HARDY_TMP/echo.out" listening "echo server"

cat >"$HARDY_TMP/test.sh" <<'SCRIPT'
head -c 262144 /dev/urandom >/tmp/g.dat
echo "hardy-test: g_sum=$(sha256sum </tmp/g.dat | cut -d' ' -f1)"
vsock-cat 2 6000 </tmp/g.dat >/tmp/g.echo
echo "hardy-test: g_status=$?"
echo "hardy-test: g_echo=$(sha256sum </tmp/g.echo | cut -d' ' -f1)"
vsock-cat 2 6001 </dev/null >/dev/null
echo "hardy-test: g_refused_status=$?"
vsock-echo 5000 6
echo "hardy-test: echo_status=$?"
SCRIPT
test_initrd "$HARDY_TMP/initrd" "$HARDY_TMP/test.sh" vsock-cat vsock-echo

field() { sed -n "s/.*hardy-test: $1=\\([^[:space:]]*\\).*/\\1/p" "$2" | head -n 1; }

log=$HARDY_TMP/console.log
: >"$log"
timeout -k 10 "$(scaled 120)" "$HARDY" run --console "file:$log" --initrd "$HARDY_TMP/initrd" \
	--vsock "cid=3,uds=$sock" --cmdline "$GUEST_CMDLINE_BASE" >"$log.out" 2>"$log.err" </dev/null &
pid=$!
wait_for_console "$log" "vsock-echo: listening on 5000" "$(scaled 60)" "$pid"

# Guest to host, as the guest saw it.
[ "$(field g_status "$log")" = 0 ] || { show_file "$log"; fail "the guest's echo through CID 2 port 6000 failed"; }
[ -n "$(field g_sum "$log")" ] && [ "$(field g_sum "$log")" = "$(field g_echo "$log")" ] ||
	{ show_file "$log"; fail "guest to host echo: sha256 '$(field g_echo "$log")', sent '$(field g_sum "$log")'"; }
note "ok: guest -> host port 6000: 256 KiB echoed, sha256 $(field g_sum "$log")"
[ "$(field g_refused_status "$log")" = 3 ] ||
	{ show_file "$log"; fail "the guest's connect to port 6001 was not refused (status $(field g_refused_status "$log"))"; }
note "ok: guest -> host port 6001 (no listener) refused"

# Host to guest: 1 MiB.
head -c 1048576 /dev/urandom >"$HARDY_TMP/h.dat"
st=0
timeout "$(scaled 60)" "$bin/uds-vsock-cat" "$sock" 5000 <"$HARDY_TMP/h.dat" >"$HARDY_TMP/h.echo" \
	2>"$HARDY_TMP/h.err" || st=$?
[ "$st" = 0 ] || { show_file "$HARDY_TMP/h.err"; show_file "$log"; fail "host client exited $st"; }
grep -q '^OK [0-9][0-9]*$' "$HARDY_TMP/h.err" || { show_file "$HARDY_TMP/h.err"; fail "no 'OK <port>' line"; }
sum=$(sha256sum <"$HARDY_TMP/h.dat" | cut -d' ' -f1)
[ "$(sha256sum <"$HARDY_TMP/h.echo" | cut -d' ' -f1)" = "$sum" ] ||
	{ show_file "$HARDY_TMP/h.err"; fail "host to guest echo of 1 MiB differs ($(wc -c <"$HARDY_TMP/h.echo") bytes back)"; }
note "ok: host -> guest port 5000 ($(head -n 1 "$HARDY_TMP/h.err")): 1 MiB echoed, sha256 $sum"

# Refused: nobody listens on 5001.
st=0
timeout "$(scaled 30)" "$bin/uds-vsock-cat" "$sock" 5001 </dev/null >/dev/null 2>"$HARDY_TMP/r.err" || st=$?
[ "$st" = 3 ] || { show_file "$HARDY_TMP/r.err"; fail "CONNECT 5001 was not refused (status $st)"; }
note "ok: host -> guest port 5001 (no listener) refused: $(cat "$HARDY_TMP/r.err")"

# A client that stops reading: its stdout is a FIFO whose reader never reads.
mkfifo "$dir/stall"
sleep 1000 <"$dir/stall" &
stall_reader=$!
head -c 4194304 /dev/urandom | "$bin/uds-vsock-cat" "$sock" 5000 >"$dir/stall" 2>"$HARDY_TMP/s.err" &
stalled=$!
wait_line "$HARDY_TMP/s.err" '^OK' "stalled client"

# Four connections at once, beside the stalled one.
pids=
for i in 1 2 3 4; do
	head -c 262144 /dev/urandom >"$HARDY_TMP/p$i.dat"
	timeout "$(scaled 60)" "$bin/uds-vsock-cat" "$sock" 5000 <"$HARDY_TMP/p$i.dat" \
		>"$HARDY_TMP/p$i.echo" 2>"$HARDY_TMP/p$i.err" &
	pids="$pids $!"
done
i=0
for p in $pids; do
	i=$((i + 1))
	wait "$p" || { show_file "$HARDY_TMP/p$i.err"; fail "parallel client $i failed"; }
	cmp -s "$HARDY_TMP/p$i.dat" "$HARDY_TMP/p$i.echo" || fail "parallel client $i: echo differs"
done
ports=$(cat "$HARDY_TMP"/p?.err | grep '^OK' | sort -u | wc -l)
[ "$ports" = 4 ] || fail "the four connections got $ports distinct host ports"
note "ok: four connections at once, each 256 KiB echoed, four distinct host ports"
kill -0 "$stalled" 2>/dev/null || { show_file "$HARDY_TMP/s.err"; fail "the stalled client ended"; }
note "ok: ... while a fifth connection stalled (its client not reading)"
kill "$stall_reader"
wait "$stalled" 2>/dev/null || true

# The guest's server ends after five connections, the guest powers off.
st=0
wait "$pid" || st=$?
pid=
[ "$st" = 0 ] || { show_file "$log"; show_file "$log.err"; fail "hardy exited $st"; }
[ "$(field echo_status "$log")" = 0 ] || { show_file "$log"; fail "the guest's echo server failed"; }
[ ! -e "$sock" ] || fail "hardy left $sock behind"
note "ok: the guest powered off, $sock removed"
