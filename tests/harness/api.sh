# Helpers for the API tests (sourced after lib.sh): curl over hardy's Unix socket.
#   api METHOD PATH [JSON] : prints the body, then a last line "HTTP NNN".

api() {
	if [ -n "${3:-}" ]; then
		curl -sS --max-time 10 --unix-socket "$API_SOCK" -X "$1" -H 'Content-Type: application/json' \
			-d "$3" -w '\nHTTP %{http_code}\n' "http://localhost$2"
	else
		curl -sS --max-time 10 --unix-socket "$API_SOCK" -X "$1" -w '\nHTTP %{http_code}\n' \
			"http://localhost$2"
	fi
}

# api_expect STATUS METHOD PATH [JSON] [BODY_PATTERN] : fails unless the reply has STATUS (and
# its body matches the grep pattern).
api_expect() {
	_want=$1
	shift
	_out=$(api "$1" "$2" "${3:-}" 2>&1)
	_got=$(printf '%s\n' "$_out" | sed -n 's/^HTTP //p' | tail -n 1)
	[ "$_got" = "$_want" ] || fail "$1 $2 ${3:-}: HTTP '$_got', expected $_want: $_out"
	if [ -n "${4:-}" ] && ! printf '%s\n' "$_out" | grep -q -- "$4"; then
		fail "$1 $2: body does not match /$4/: $_out"
	fi
	note "ok: $1 $2 -> $_got $(printf '%s\n' "$_out" | head -n 1 | cut -c1-100)"
}

# wait_api_socket PID : waits until the API socket answers GET / (PID still alive).
wait_api_socket() {
	_n=0
	until curl -s --max-time 2 --unix-socket "$API_SOCK" http://localhost/ >/dev/null 2>&1; do
		kill -0 "$1" 2>/dev/null || fail "hardy ended before its API socket answered"
		[ "$_n" -lt 150 ] || fail "the API socket did not answer within 30 s"
		sleep 0.2
		_n=$((_n + 1))
	done
}
