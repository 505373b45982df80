# Helpers shared by the integration tests (tests/integration/*.sh). POSIX sh: it runs under bash
# on a KVM host and under busybox sh inside the nested L1. A test sources it first:
#     . "$HARDY_ROOT/tests/harness/lib.sh"
# and exits 0 for pass, 77 for skip, anything else for fail (fail() prints why).
#
# Environment (set by tests/harness/run-tests, with defaults for running a test by hand):
#   HARDY_ROOT           repository root (inside L1: /hardy)
#   HARDY                the hardy binary under test (default: build/san/hardy, else build/hardy)
#   HARDY_GUEST          directory holding the default guest's vmlinuz and initrd
#   HARDY_TMP            scratch directory of this test
#   HARDY_TIMEOUT_SCALE  multiplies every timeout (nested runs are emulated, hence slower)

: "${HARDY_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
if [ -z "${HARDY:-}" ]; then
	if [ -x "$HARDY_ROOT/build/san/hardy" ]; then
		HARDY=$HARDY_ROOT/build/san/hardy
	else
		HARDY=$HARDY_ROOT/build/hardy
	fi
fi
: "${HARDY_GUEST:=$HARDY_ROOT/build/guest}"
: "${HARDY_TIMEOUT_SCALE:=1}"
if [ -z "${HARDY_TMP:-}" ]; then
	HARDY_TMP=$(mktemp -d "${TMPDIR:-/tmp}/hardy-test.XXXXXX")
fi
# A sanitizer report is a failure, and leaks count.
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:exitcode=99}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}
export HARDY_ROOT HARDY HARDY_GUEST HARDY_TMP HARDY_TIMEOUT_SCALE ASAN_OPTIONS UBSAN_OPTIONS

# At exit, whatever the test still runs in the background (a hardy left behind by an early
# fail) is killed, its children first (GNU timeout's hardy), so that it cannot keep a VM name,
# a port or a CPU from the next test. A test that sets its own EXIT trap cleans up itself.
# child_pids PID: the pids of PID's children, one per line.
child_pids() {
	awk -v p="$1" '/^Pid:/ { pid = $2 } /^PPid:/ && $2 == p { print pid }' \
		/proc/[0-9]*/status 2>/dev/null
}

reap_jobs() {
	jobs -p >"$HARDY_TMP/.jobs" 2>/dev/null || return 0
	for _p in $(cat "$HARDY_TMP/.jobs"); do
		for _c in $(child_pids "$_p"); do
			kill -KILL "$_c"
		done
		kill -KILL "$_p"
	done 2>/dev/null
	rm -f "$HARDY_TMP/.jobs"
}
trap reap_jobs EXIT

# vmm_pid PID: hardy's own pid when PID started it under timeout: GNU timeout forks hardy as
# its child, busybox's timeout (inside L1) execs it (then PID is hardy).
vmm_pid() {
	_c=$(child_pids "$1" | head -n 1)
	echo "${_c:-$1}"
}

# The guest's command line for tests: serial console, quiet kernel, plus the words given.
GUEST_CMDLINE_BASE="console=ttyS0 quiet panic=-1"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "SKIP: $*" >&2
	exit 77
}

note() {
	echo "  $*" >&2
}

# Seconds scaled for the environment: scaled 30 -> 30 directly, 300 nested.
scaled() {
	echo $(($1 * HARDY_TIMEOUT_SCALE))
}

# True for the exit statuses of GNU timeout (124) and busybox timeout (143/137 after TERM/KILL).
is_timeout_status() {
	case $1 in 124 | 137 | 143) return 0 ;; esac
	return 1
}

# Number of lines in a file, counting a last line without a newline.
line_count() {
	awk 'END { print NR }' "$1"
}

# Prints the file (indented) to stderr, so that a failing test shows what it saw.
show_file() {
	echo "  --- $1 (last 30 lines):" >&2
	tail -n 30 "$1" 2>/dev/null | sed 's/^/  | /' >&2
}

# hardy_run LOG SECONDS ARGS... : runs `hardy run ARGS --console file:LOG` under timeout
# (TERM after SECONDS, which presses the guest's power button; KILL 10 s later).
# Sets HARDY_STATUS; stderr goes to LOG.err. Never fails by itself.
hardy_run() {
	_log=$1 _secs=$2
	shift 2
	: >"$_log"
	HARDY_STATUS=0
	timeout -k 10 "$_secs" "$HARDY" run --console "file:$_log" "$@" \
		>"$_log.out" 2>"$_log.err" </dev/null || HARDY_STATUS=$?
}

# hardy_run_expect STATUS LOG SECONDS ARGS... : hardy_run, then fails the test unless hardy
# exited with STATUS (a timeout is always a failure).
hardy_run_expect() {
	_want=$1
	shift
	hardy_run "$@"
	if is_timeout_status "$HARDY_STATUS" && [ "$_want" != "$HARDY_STATUS" ]; then
		show_file "$1"
		show_file "$1.err"
		fail "hardy run did not finish within $2 s (status $HARDY_STATUS)"
	fi
	if [ "$HARDY_STATUS" != "$_want" ]; then
		show_file "$1"
		show_file "$1.err"
		fail "hardy run exited $HARDY_STATUS, expected $_want"
	fi
}

# console_expect LOG PATTERN [WHAT] : fails unless the console log has a line matching PATTERN
# (a grep basic regular expression).
console_expect() {
	if ! grep -q "$2" "$1"; then
		show_file "$1"
		fail "${3:-console output} not found: /$2/"
	fi
}

# expect_fault_stderr FILE PATTERN : fails unless FILE (hardy's stderr after a guest fault) is
# the vCPU state dump (its header, then "hardy:   " register lines) followed by one last line
# matching PATTERN, and nothing else.
expect_fault_stderr() {
	if ! { tail -n 1 "$1" | grep -q "$2" &&
		grep -q "^hardy: vCPU [0-9]* state at the [a-z]*:$" "$1" &&
		grep -q "^hardy:   rip=" "$1" &&
		[ "$(grep -v -e "^hardy:   " -e "^hardy: vCPU [0-9]* state at the [a-z]*:$" "$1" |
			grep -c .)" = 1 ]; }; then
		show_file "$1"
		fail "hardy's stderr is not a vCPU state dump and then /$2/"
	fi
}

# The guest's banner line, e.g. "hardy-guest: ready (cpus=2 mem_kb=250000 kernel=6.1.0-...)".
GUEST_MARKER='hardy-guest: ready ('

# banner_field LOG NAME : value of NAME= in the banner line (empty if absent).
banner_field() {
	grep "$GUEST_MARKER" "$1" | head -n 1 | tr ' ()' '\n\n\n' | sed -n "s/^$2=//p"
}

# wait_for_console LOG PATTERN SECONDS PID : waits until LOG matches PATTERN; fails on timeout
# or when PID (the hardy process) ends first.
wait_for_console() {
	_n=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		if ! kill -0 "$4" 2>/dev/null; then
			show_file "$1"
			show_file "$1.err"
			fail "hardy ended before the console showed /$2/"
		fi
		if [ "$_n" -ge $(($3 * 5)) ]; then
			show_file "$1"
			fail "console did not show /$2/ within $3 s"
		fi
		sleep 0.2
		_n=$((_n + 1))
	done
}

# console_seen_within LOG PATTERN SECONDS PID: like wait_for_console, but returns 1 on timeout
# (the caller gathers more evidence before failing); hardy ending still fails.
console_seen_within() {
	_n=0
	while ! grep -aq "$2" "$1" 2>/dev/null; do
		kill -0 "$4" 2>/dev/null || { show_file "$1"; fail "hardy ended before the console showed /$2/"; }
		[ "$_n" -ge $(($3 * 5)) ] && return 1
		sleep 0.2
		_n=$((_n + 1))
	done
}

# test_initrd OUT SCRIPT [PROG...] : OUT = the default initrd with one more (gzip'd newc) cpio
# appended, carrying SCRIPT as /etc/hardy-test.sh, which the guest's init runs instead of its
# shell, and each PROG (a name from tests/guest-bin/, built static in build/guest-bin/) as /bin/PROG.
test_initrd() {
	_dir=$HARDY_TMP/test-cpio.$$
	_out=$1
	rm -rf "$_dir"
	mkdir -p "$_dir/etc" "$_dir/bin"
	cp "$2" "$_dir/etc/hardy-test.sh"
	shift 2
	for _prog in "$@"; do
		[ -x "$HARDY_ROOT/build/guest-bin/$_prog" ] ||
			fail "no build/guest-bin/$_prog (make integration builds tests/guest-bin/)"
		cp "$HARDY_ROOT/build/guest-bin/$_prog" "$_dir/bin/"
	done
	(cd "$_dir" && find etc bin | cpio -o -H newc 2>/dev/null | gzip) >"$_dir.cpio.gz"
	cat "$HARDY_GUEST/initrd" "$_dir.cpio.gz" >"$_out"
	rm -rf "$_dir" "$_dir.cpio.gz"
}

# expect_usage_error WHAT ARGS... : `hardy ARGS` must exit 2 within 10 s and print exactly one
# line on stderr (and create no VM: these run on hosts without KVM too).
expect_usage_error() {
	_what=$1
	shift
	_err=$HARDY_TMP/usage.err
	_status=0
	timeout -k 5 10 "$HARDY" "$@" >"$HARDY_TMP/usage.out" 2>"$_err" </dev/null || _status=$?
	if is_timeout_status "$_status"; then
		fail "$_what: hardy $* hung (killed after 10 s)"
	fi
	if [ "$_status" != 2 ]; then
		show_file "$_err"
		fail "$_what: hardy $* exited $_status, expected 2"
	fi
	_lines=$(line_count "$_err")
	if [ "$_lines" != 1 ]; then
		show_file "$_err"
		fail "$_what: hardy $* printed $_lines lines on stderr, expected exactly 1"
	fi
	note "ok: $_what -> 2: $(cat "$_err")"
}

# Fails early with a clear message when the binary under test is missing.
require_hardy() {
	[ -x "$HARDY" ] || fail "no hardy binary at $HARDY (run make)"
}

# Fails early unless the default guest was built.
require_guest() {
	[ -f "$HARDY_GUEST/vmlinuz" ] && [ -f "$HARDY_GUEST/initrd" ] ||
		fail "no default guest in $HARDY_GUEST (run make guest)"
}
