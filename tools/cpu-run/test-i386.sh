#!/bin/sh
# i386 test of the user-mode runner: builds tools/cpu-run/test-i386.S as a static i386 ELF (GNU
# as/ld, no libc), runs it natively and on hardy-cpu-run, and compares output and exit status.
# Where the host kernel cannot run i386 programs, the soft CPU's output is compared with the
# recorded native output (test-i386.expected) instead; a host without an i386 assembler fails.
# Usage: test-i386.sh RUNNER
set -u
runner=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
src=$(dirname "$0")/test-i386.S
if ! as --32 -o "$dir/t.o" "$src" 2>/dev/null || ! ld -m elf_i386 -static -o "$dir/t" "$dir/t.o" 2>/dev/null; then
	echo "test-i386.sh: FAILED: cannot build an i386 program (binutils' as --32 / ld -m elf_i386)"
	exit 1
fi
"$dir/t" hello-i386 >"$dir/native" 2>&1
nrc=$?
if [ "$nrc" -ne 42 ]; then
	echo "test-i386.sh: the host does not run i386 programs; comparing with the recorded output"
	cp "$(dirname "$0")/test-i386.expected" "$dir/native"
	nrc=42
fi
"$runner" "$dir/t" hello-i386 >"$dir/soft" 2>&1
src=$?
if [ "$src" -ne "$nrc" ] || ! cmp -s "$dir/native" "$dir/soft"; then
	echo "test-i386.sh: FAILED (status native $nrc, soft $src)"
	diff "$dir/native" "$dir/soft"
	exit 1
fi
echo "test-i386.sh: i386 program identical to native ($(wc -l <"$dir/soft") lines, status $src)"
