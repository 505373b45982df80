#!/bin/sh
# A guest that floods the UART (tests/guests/flood.S, interrupts off) cannot keep hardy from
# stopping, whatever its console is: with stdout a pipe nobody reads, two SIGTERMs or a SIGHUP
# each stop hardy within the documented second (scaled), status 1, and stderr counts the guest
# output it dropped; with stdout closed, two SIGTERMs stop it too; a console file stops at
# --console-limit with one notice line and hardy still stops on two SIGTERMs. (SIGINT and
# SIGQUIT take the same path in the event loop, but a shell starts background jobs with them
# ignored, so they cannot be sent from here.)
. "$HARDY_ROOT/tests/harness/lib.sh"
require_hardy
guest=$HARDY_ROOT/build/guests/flood.elf
[ -f "$guest" ] || fail "no test guest at $guest (run make integration)"

# wait_gone PID SECONDS: true once PID has exited (polled every 0.1 s).
wait_gone() {
	_n=0
	while kill -0 "$1" 2>/dev/null; do
		[ "$_n" -ge $(($2 * 10)) ] && return 1
		sleep 0.1
		_n=$((_n + 1))
	done
}

# wait_pipe_full PID: waits until hardy's stdout pipe is full: a write of hardy's got EAGAIN,
# so its event loop waits for the pipe to drain (its epoll set, in /proc/PID/fdinfo, watches
# fd 1 for EPOLLOUT) and the guest's output from then on stays in (or falls off) the ring.
# (Counting written bytes is not enough: hardy's eventfd wake-ups count too, and a guest
# that is slow in the nested L1 may stall just short of a full pipe.)
stdout_waits() {
	for _f in /proc/"$1"/fdinfo/*; do
		sed -n 's/^tfd: *1 events: *\([0-9a-f]*\) .*/\1/p' "$_f" 2>/dev/null
	done | while read -r _e; do
		[ $((0x$_e & 4)) != 0 ] && echo yes
	done | grep -q yes
}
wait_pipe_full() {
	_n=0
	until stdout_waits "$1"; do
		kill -0 "$1" 2>/dev/null || fail "hardy ended before its stdout pipe was full"
		[ "$_n" -ge "$(scaled 200)" ] && fail "stdout pipe not full after $(scaled 20) s"
		sleep 0.1
		_n=$((_n + 1))
	done
}

# stop_check NAME PID ERR SIGNAL...: sends the signals one second apart, then hardy must be gone
# within the documented second (scaled), with status 1 and a reason on stderr (ERR - : stderr
# went into the pipe, not checked).
stop_check() {
	_name=$1 _pid=$2 _err=$3
	shift 3
	for _sig in "$@"; do
		kill -0 "$_pid" 2>/dev/null || { show_file "$_err"; fail "$_name: hardy ended early"; }
		kill -"$_sig" "$_pid"
		sleep 1
	done
	if ! wait_gone "$_pid" "$(scaled 2)"; then
		kill -KILL "$_pid" 2>/dev/null
		show_file "$_err"
		fail "$_name: hardy did not stop within $(scaled 2) s of SIG$*"
	fi
	_status=0
	wait "$_pid" || _status=$?
	[ "$_status" = 1 ] || { show_file "$_err"; fail "$_name: hardy exited $_status, expected 1"; }
	[ "$_err" = - ] && return 0
	grep -q "stopped by" "$_err" || { show_file "$_err"; fail "$_name: no reason on stderr"; }
}

# A pipe nobody reads: a FIFO held open by a reader that never reads.
fifo=$HARDY_TMP/fifo
mkfifo "$fifo"
for sigs in "TERM TERM" "HUP"; do
	name="full pipe, SIG$sigs"
	err=$HARDY_TMP/err.$$
	sleep 1000 <"$fifo" &
	reader=$!
	"$HARDY" run --kernel "$guest" --mem 64M --console stdio >"$fifo" 2>"$err" </dev/null &
	pid=$!
	wait_pipe_full "$pid"
	# shellcheck disable=SC2086
	stop_check "$name" "$pid" "$err" $sigs
	kill "$reader" 2>/dev/null
	wait "$reader" 2>/dev/null
	grep -q "bytes of guest output dropped" "$err" ||
		{ show_file "$err"; fail "$name: no count of dropped output on stderr"; }
	note "ok: $name: $(grep dropped "$err")"
done

# stdout and stderr the same full pipe: no last message may block the exit.
sleep 1000 <"$fifo" &
reader=$!
"$HARDY" run --kernel "$guest" --mem 64M --console stdio >"$fifo" 2>&1 </dev/null &
pid=$!
wait_pipe_full "$pid"
stop_check "stdout and stderr one full pipe" "$pid" - TERM TERM
kill "$reader" 2>/dev/null
wait "$reader" 2>/dev/null
note "ok: stdout and stderr one full pipe"

# stdout closed.
err=$HARDY_TMP/err.closed
"$HARDY" run --kernel "$guest" --mem 64M --console stdio >&- 2>"$err" </dev/null &
pid=$!
sleep "$(scaled 2)"
stop_check "stdout closed" "$pid" "$err" TERM TERM
note "ok: stdout closed"

# A console file with a limit: it stops growing, says so once, hardy stops on two SIGTERMs.
# (4K: in the nested L1 the flood guest has managed as little as 1 KiB/s.)
log=$HARDY_TMP/limited.log
"$HARDY" run --kernel "$guest" --mem 64M --console "file:$log" --console-limit 4K \
	>/dev/null 2>"$log.err" </dev/null &
pid=$!
wait_for_console "$log" "console limit of 4096 bytes reached" "$(scaled 30)" "$pid"
stop_check "console limit" "$pid" "$log.err" TERM TERM
size=$(wc -c <"$log")
[ "$size" -gt 4096 ] && [ "$size" -lt 4260 ] || fail "console file has $size bytes, limit 4096"
[ "$(grep -c 'console limit' "$log")" = 1 ] || fail "the notice line is not there exactly once"
grep -q "console limit reached" "$log.err" || { show_file "$log.err"; fail "no count on stderr"; }
note "ok: console limit: $size bytes"
exit 0
