#!/bin/bash
# Records tests/difftest/compat.ref: the native results of the difftest's compatibility-mode
# tests (the default generation: level 0, 20 000 random sequences, seed 1), for hosts whose
# kernel cannot run 32-bit code. Runs `build/difftest --record` directly where this host runs
# 32-bit code; otherwise, or with --nested, inside the nested L1 of tests/harness/host.sh (a
# Debian kernel with IA32 emulation under QEMU TCG, which then plays the host CPU), bringing the
# file back gzip'd and base64'd between marker lines on the serial console.
# Either way the run also compares the soft CPU with that CPU and, where a reference is already
# checked in, re-checks it (the live-host path of the difftest); its summary is printed. Under
# TCG some 64-bit forms mismatch (BSF/BSR, BLSI, SSE floating point: TCG differs from hardware
# there, the soft CPU does not), so the L1 difftest status is 1; what matters for the
# recording is its compat-mode lines.
# Usage: record-reference.sh [--nested] [OUT]   (OUT: default tests/difftest/compat.ref)
# Env: HARDY_L1_CPUS, HARDY_L1_MEM, HARDY_REF_TIMEOUT (seconds for the L1, default 3600).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
nested=no
[ "${1:-}" = --nested ] && { nested=yes; shift; }
out=${1:-$ROOT/tests/difftest/compat.ref}
ref=tests/difftest/compat.ref
dt=$ROOT/build/difftest
[ -x "$dt" ] || { echo "record-reference.sh: no $dt (run make build/difftest)" >&2; exit 1; }
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$ROOT" status --porcelain -- src tests/difftest 2>/dev/null)" ] && commit="$commit+changes"
refopt=()
[ -f "$ROOT/$ref" ] && refopt=(--reference "$ref")

if [ $nested = no ]; then
	tmp=$(mktemp)
	trap 'rm -f "$tmp"' EXIT
	set +e
	(cd "$ROOT" && "$dt" "${refopt[@]}" --record "$tmp" --record-note "directly on the host, commit $commit")
	rc=$?
	set -e
	if [ $rc -ne 2 ]; then
		[ -s "$tmp" ] || { echo "record-reference.sh: FAILED: nothing recorded" >&2; exit 1; }
		cp "$tmp" "$out"
		echo "record-reference.sh: wrote $out ($(wc -c <"$out") bytes; difftest status $rc)"
		exit 0
	fi
	echo "record-reference.sh: this host cannot run 32-bit code: recording in the nested L1"
fi

. "$ROOT/tests/harness/host.sh"
work=$ROOT/build/difftest-reference
mkdir -p "$work"
qemu_version=$(qemu-system-x86_64 --version | awk 'NR == 1 { print $4 }')
note="under QEMU $qemu_version TCG (-cpu EPYC,+svm) in the nested L1 of tests/harness/host.sh, commit $commit"
cat >"$work/job.sh" <<EOF
cd /hardy
echo "difftest-reference: native 32-bit probe and recording under \$(uname -r)"
start=\$(date +%s)
build/difftest ${refopt[*]} --record /tmp/compat.ref --record-note "$note" >/tmp/difftest.log 2>&1
rc=\$?
grep -E '^(MISMATCH|STALE|difftest:|  form |    [a-z])' /tmp/difftest.log | head -400
echo "difftest-reference: difftest status \$rc after \$((\$(date +%s) - start)) s"
if [ -s /tmp/compat.ref ]; then
	echo "HARDY-REF: BEGIN"
	gzip -9 -c /tmp/compat.ref | base64
	echo "HARDY-REF: END"
fi
EOF
HARDY_L1_BINARIES=build/difftest build_l1 "$work/l1.cpio" "$work/job.sh"
boot_l1 "$work/l1.cpio" "$work/l1-console.log" "${HARDY_REF_TIMEOUT:-3600}" >/dev/null || true
# The L1 run's summary (its mismatch details stay in the console log).
tr -d '\r' <"$work/l1-console.log" | grep -E '^(difftest|STALE|hardy-l1)' || true
tr -d '\r' <"$work/l1-console.log" |
	sed -n '/^HARDY-REF: BEGIN$/,/^HARDY-REF: END$/p' | sed '1d;$d' >"$work/compat.ref.b64"
if ! base64 -d "$work/compat.ref.b64" | gunzip -c >"$work/compat.ref" || [ ! -s "$work/compat.ref" ]; then
	echo "record-reference.sh: FAILED: no reference came back (see $work/l1-console.log)" >&2
	exit 1
fi
cp "$work/compat.ref" "$out"
echo "record-reference.sh: wrote $out ($(wc -c <"$out") bytes) from the nested L1"
# The soft CPU against the new recording, on this host (its 64-bit forms against this CPU).
(cd "$ROOT" && "$dt" --reference "$out" | tail -n 3)
