#!/bin/sh
# i386 test of the user-mode runner: builds tools/cpu-run/test-i386.S as a static i386 ELF (GNU
# as/ld, no libc), runs it natively and on hardy-cpu-run, and compares output and exit status.
# Where the host kernel cannot run i386 programs, the soft CPU's output is compared with the
# recorded native output (test-i386.expected) instead; where it can, the native output is also
# re-checked against that recording (a difference means it is stale: re-record it from a host
# that runs i386 code). A host without an i386 assembler fails.
# Usage: test-i386.sh RUNNER [PROGRAM]  (PROGRAM: test-i386.S already built, for hosts without
# binutils such as the nested L1)
set -u
runner=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
src=$(dirname "$0")/test-i386.S
if [ -n "${2:-}" ]; then
	cp "$2" "$dir/t"
elif ! as --32 -o "$dir/t.o" "$src" 2>/dev/null || ! ld -m elf_i386 -static -o "$dir/t" "$dir/t.o" 2>/dev/null; then
	echo "test-i386.sh: FAILED: cannot build an i386 program (binutils' as --32 / ld -m elf_i386)"
	exit 1
fi
expected=$(dirname "$0")/test-i386.expected
"$dir/t" hello-i386 >"$dir/native" 2>&1
nrc=$?
if [ "$nrc" -eq 42 ]; then
	if ! cmp -s "$expected" "$dir/native"; then
		echo "test-i386.sh: FAILED: the host's output differs from the recorded $expected (stale: re-record it with the native output)"
		diff "$expected" "$dir/native"
		exit 1
	fi
	reference="the host CPU (which also matches the recorded output)"
elif [ "$nrc" -ne 126 ]; then
	# 126: the shell could not execute it (ENOEXEC: a kernel without IA32 emulation).
	echo "test-i386.sh: FAILED: the i386 program ran natively but exited with status $nrc, not 42"
	cat "$dir/native"
	exit 1
else
	echo "test-i386.sh: the host does not run i386 programs (exec failed); comparing with the recorded output"
	cp "$expected" "$dir/native"
	nrc=42
	reference="the recorded output $expected"
fi
"$runner" "$dir/t" hello-i386 >"$dir/soft" 2>&1
src=$?
if [ "$src" -ne "$nrc" ] || ! cmp -s "$dir/native" "$dir/soft"; then
	echo "test-i386.sh: FAILED (status native $nrc, soft $src)"
	diff "$dir/native" "$dir/soft"
	exit 1
fi
echo "test-i386.sh: i386 program identical to $reference ($(wc -l <"$dir/soft") lines, status $src)"
