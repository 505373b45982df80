#!/bin/sh
# VMs managed like processes, two at once: `hardy list` and `info` find both by name; a second
# VM cannot take a live name; `pause` stops every vCPU of one (its guest clock prints nothing
# and its vCPU threads burn no CPU for 22 s, longer than the guest's 20 s soft-lockup
# threshold) while the other runs on; `resume` continues it without a soft-lockup or RCU-stall
# report (KVM_KVMCLOCK_CTRL); `stop` powers one off through the ACPI button (status 0), `kill`
# ends the other at once; a VM killed with SIGKILL leaves a stale socket that the next verb
# removes.
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
require_guest
cat >"$HARDY_TMP/tick.sh" <<'SCRIPT'
n=0
while :; do
	n=$((n + 1))
	echo "hardy-tick: $n $(cut -d' ' -f1 /proc/uptime)"
	sleep 0.5 2>/dev/null || usleep 500000
done
SCRIPT
test_initrd "$HARDY_TMP/initrd" "$HARDY_TMP/tick.sh"

loga=$HARDY_TMP/a.log logb=$HARDY_TMP/b.log
: >"$loga"
: >"$logb"
"$HARDY" run --name lc-a --cpus 2 --console "file:$loga" --initrd "$HARDY_TMP/initrd" \
	--cmdline "$GUEST_CMDLINE_BASE" 2>"$loga.err" </dev/null &
pida=$!
"$HARDY" run --name lc-b --console "file:$logb" 2>"$logb.err" </dev/null &
pidb=$!
cleanup() { kill -9 "$pida" "$pidb" 2>/dev/null; }
trap cleanup EXIT
wait_for_console "$loga" "hardy-tick: 2 " "$(scaled 40)" "$pida"
wait_for_console "$logb" "$GUEST_MARKER" "$(scaled 40)" "$pidb"

ticks() { grep -c '^hardy-tick:' "$loga"; }
# utime+stime (clock ticks) of a process's vCPU threads.
vcpu_cpu() {
	_t=0
	for _s in /proc/"$1"/task/*/stat; do
		case $(cat "$_s") in
		*"(vcpu"*) _t=$((_t + $(sed 's/.*) //' "$_s" | awk '{ print $12 + $13 }')));;
		esac
	done
	echo "$_t"
}

# list: both, with their pids, states and sizes
list=$("$HARDY" list) || fail "hardy list exited $?"
note "list:
$list"
echo "$list" | grep -q "^lc-a  *$pida  *Running  *2  *512M " || fail "lc-a missing or wrong in the list"
echo "$list" | grep -q "^lc-b  *$pidb  *Running  *1  *512M " || fail "lc-b missing or wrong in the list"

# names are unique per user
status=0
"$HARDY" run --name lc-a --console none 2>"$HARDY_TMP/dup.err" </dev/null || status=$?
[ "$status" = 2 ] && [ "$(line_count "$HARDY_TMP/dup.err")" = 1 ] &&
	grep -q "a VM named lc-a is running (pid $pida)" "$HARDY_TMP/dup.err" ||
	{ show_file "$HARDY_TMP/dup.err"; fail "a second lc-a: status $status"; }
note "ok: $(cat "$HARDY_TMP/dup.err")"

# info, plain and JSON
info=$("$HARDY" info lc-a) || fail "hardy info lc-a exited $?"
echo "$info" | grep -q '^state: *Running$' && echo "$info" | grep -q '^vcpus: *2$' &&
	echo "$info" | grep -q "^pid: *$pida$" || fail "hardy info lc-a: $info"
"$HARDY" info lc-b --json >"$HARDY_TMP/b.json" || fail "hardy info lc-b --json exited $?"
grep -q '"state": "Running"' "$HARDY_TMP/b.json" && grep -q '"vcpu_count": 1' "$HARDY_TMP/b.json" &&
	grep -q '"kernel_image_path":' "$HARDY_TMP/b.json" || { show_file "$HARDY_TMP/b.json"; fail "info --json"; }

# pause: no guest progress, no vCPU CPU time
"$HARDY" pause lc-a || fail "hardy pause lc-a exited $?"
"$HARDY" pause lc-a || fail "a second pause exited $?"
"$HARDY" list | grep -q "^lc-a  *$pida  *Paused " || fail "lc-a not Paused in the list"
sleep 1 # a tick already on its way to the console file
t0=$(ticks) c0=$(vcpu_cpu "$pida") b0=$(vcpu_cpu "$pidb")
sleep 22
t1=$(ticks) c1=$(vcpu_cpu "$pida") b1=$(vcpu_cpu "$pidb")
note "paused 22 s: ticks $t0 -> $t1, lc-a vCPU time $c0 -> $c1, lc-b vCPU time $b0 -> $b1"
[ "$t1" = "$t0" ] || fail "the paused guest printed $((t1 - t0)) ticks"
[ $((c1 - c0)) -le 1 ] || fail "the paused vCPUs used $((c1 - c0)) clock ticks of CPU"
kill -0 "$pidb" || fail "lc-b ended while lc-a was paused"

# resume: the clock goes on, without soft-lockup or RCU-stall reports
"$HARDY" resume lc-a || fail "hardy resume lc-a exited $?"
"$HARDY" resume lc-a || fail "resuming a running VM exited $?"
wait_for_console "$loga" "hardy-tick: $((t1 + 4)) " "$(scaled 20)" "$pida"
sleep 3
c2=$(vcpu_cpu "$pida")
[ "$c2" -gt "$c1" ] || fail "the resumed vCPUs used no CPU ($c1 -> $c2)"
if grep -i -e 'soft lockup' -e 'rcu.*stall' -e 'hung_task' "$loga"; then
	fail "the guest reported a lockup after the pause"
fi
note "ok: resumed: $(grep '^hardy-tick:' "$loga" | tail -n 1), vCPU time $c2"

# stop: the power button, status 0; kill: at once
"$HARDY" stop --timeout "$(scaled 30)" lc-b || fail "hardy stop lc-b exited $?"
status=0
wait "$pidb" || status=$?
[ "$status" = 0 ] || { show_file "$logb.err"; fail "lc-b exited $status after hardy stop"; }
console_expect "$logb" "hardy-guest: power button, shutting down" "lc-b's shutdown line"
"$HARDY" kill lc-a || fail "hardy kill lc-a exited $?"
status=0
wait "$pida" || status=$?
[ "$status" = 1 ] || { show_file "$loga.err"; fail "lc-a exited $status after hardy kill, expected 1"; }
trap - EXIT
list=$("$HARDY" list)
echo "$list" | grep -q '^lc-' && fail "stopped VMs still listed: $list"
rundir=/run/hardy
[ "$(id -u)" = 0 ] || rundir=${XDG_RUNTIME_DIR:-/tmp/hardy-$(id -u)}/hardy
[ ! -e "$rundir/lc-a.sock" ] && [ ! -e "$rundir/lc-b.sock" ] || fail "sockets left in $rundir"

# a VM that dies without cleaning up leaves a stale socket; the next verb removes it
"$HARDY" run --name lc-c --console none </dev/null 2>/dev/null &
pidc=$!
n=0
while ! "$HARDY" list | grep -q '^lc-c '; do
	[ "$n" -lt "$(scaled 20)" ] || fail "lc-c never appeared in the list"
	sleep 1
	n=$((n + 1))
done
kill -9 "$pidc"
wait "$pidc" 2>/dev/null
[ -e "$rundir/lc-c.sock" ] || fail "SIGKILL left no socket to clean"
expect_usage_error "info of a dead VM" info lc-c
[ ! -e "$rundir/lc-c.sock" ] || fail "the stale lc-c.sock was not removed"
note "ok: stale socket of a SIGKILLed VM removed"
