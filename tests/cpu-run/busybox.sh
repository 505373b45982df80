#!/bin/sh
# Runs Debian's static busybox applets natively and under build/hardy-cpu-run and requires
# byte-identical output and exit status. Needs busybox-static (/bin/busybox).
set -u
RUN=${1:-build/hardy-cpu-run}
BB=${BUSYBOX:-/bin/busybox}
if ! file -L "$BB" 2>/dev/null | grep -q 'statically linked' && ! "$BB" true 2>/dev/null; then
	echo "busybox.sh: $BB missing (install busybox-static)" >&2
	exit 1
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# Inputs: pseudo-random binary data and a numeric/text table, identical on every run.
awk 'BEGIN { srand(7); for (i = 0; i < 200000; i++) printf "%c", int(rand() * 256) }' \
	</dev/null > "$T/bin" 2>/dev/null || head -c 200000 /dev/zero > "$T/bin"
i=0; while [ $i -lt 3000 ]; do echo "$(( (i * 7919) % 10007 )) row$i $(( i % 17 )).$(( i % 7 ))"; i=$((i + 1)); done > "$T/table"
"$BB" gzip -c "$T/table" > "$T/table.gz"

fail=0; n=0
check() {
	n=$((n + 1))
	"$BB" "$@" > "$T/native.out" 2>&1; ns=$?
	timeout 120 "$RUN" "$BB" "$@" > "$T/soft.out" 2>&1; ss=$?
	if [ $ns -ne $ss ] || ! cmp -s "$T/native.out" "$T/soft.out"; then
		echo "FAIL: busybox $* (status native $ns, soft $ss)"
		diff "$T/native.out" "$T/soft.out" | head -5
		fail=$((fail + 1))
	fi
}
check true
check echo hello world
check sha256sum "$T/bin" "$T/table"
check md5sum "$T/bin"
check sha1sum "$T/table"
check gzip -c "$T/table"
check gzip -9 -c "$T/bin"
check gunzip -c "$T/table.gz"
check bzip2 -c "$T/table"
check sort "$T/table"
check sort -n -r "$T/table"
check sort -k3,3n -k1,1n "$T/table"
check awk '{ s += $1 * 0.37; t += $3 / 3 } END { printf "%.6f %.10g %e %d\n", s, t, s / NR, s }' "$T/table"
check awk 'BEGIN { x = 1; for (i = 0; i < 50; i++) x = x * 1.1 + 0.01; print x, x / 3, int(x) % 7 }'
check sh -c 'i=0; s=0; while [ $i -lt 300 ]; do s=$((s + i * i)); i=$((i + 1)); done; echo $s'
check sh -c 'echo abc | tr a-z A-Z; ls / | sort | head -3; echo "$(echo nested) $((6 * 7))"'
check sed -e 's/row/ROW/g' -e '/5$/d' "$T/table"
check grep -c 'row1' "$T/table"
check wc "$T/table" "$T/bin"
check uniq -c "$T/table"
check od -A x -t x1z "$T/table.gz"
check cut -d' ' -f2 "$T/table"
check tar -cf - -C "$T" table
check expr 123456789 '*' 987
check dc -e '2 128 ^ p 3 k 1 7 / p'
check sha512sum "$T/bin"
check sha3sum "$T/table"
check base64 "$T/table.gz"
check seq 1 7 50000
check factor 1234567890123 600851475143
echo 'scale=25; 4*a(1); sqrt(2)*e(1)' > "$T/bc.in"
check bc -l "$T/bc.in"
check xxd "$T/table.gz"
check cksum "$T/bin"
check printf '%.15g %e %a %x\n' 3.14159265358979 1e-300 0.1 255
check awk 'BEGIN { printf "%.17g %.17g %d %s\n", 0.1 + 0.2, 1e308 * 10, 2^53 + 1, 1 / 3 }'
check date -u -d @1700000000
check shuf -n 20 --random-source="$T/bin" "$T/table"
check diff "$T/table" "$T/bc.in"
check false
echo "busybox.sh: $((n - fail))/$n applet runs identical to native"
[ $fail -eq 0 ]
