#!/bin/sh
# CPU benchmark: the same static busybox workloads (compression, hashing, sorting, floating
# point) run natively, under build/hardy-cpu-run and under qemu-x86_64 in one run. Prints a
# markdown table: wall seconds for each, guest instructions (counted by hardy), hardy's guest
# MIPS, slowdown against native and the hardy/qemu time ratio.
#   bench/cpu.sh [SCALE]   SCALE multiplies the input sizes (default 1).
# QEMU runs with -cpu qemu64 so that glibc and busybox pick the same baseline (SSE2) code paths
# as under hardy; native runs use the host's best paths (AVX2, SHA-NI), see docs.
set -eu
SCALE=${1:-1}
RUN=${HARDY_CPU_RUN:-build/hardy-cpu-run}
BB=${BUSYBOX:-/bin/busybox}
QEMU=${QEMU:-qemu-x86_64}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# Deterministic inputs.
awk -v n=$((100000 * SCALE)) 'BEGIN { for (i = 0; i < n; i++)
	printf "%d row%d %.3f %s\n", (i * 7919) % 100003, i, i / 7.0, (i % 3 ? "alpha" : "beta") }' > "$T/text"
"$BB" gzip -c "$T/text" > "$T/text.gz"
awk -v n=$((4000000 * SCALE)) 'BEGIN { srand(3); for (i = 0; i < n; i += 4) printf "%c%c%c%c",
	65 + int(rand() * 26), 97 + int(rand() * 26), 48 + int(rand() * 10), 32 }' > "$T/blob"

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }

printf '| workload | native s | hardy s | qemu s | guest insns | hardy MIPS | hardy/native | hardy/qemu |\n'
printf '|---|---:|---:|---:|---:|---:|---:|---:|\n'
bench() {
	name=$1; shift
	t0=$(now); "$BB" "$@" > /dev/null; t1=$(now)
	"$RUN" --stats "$BB" "$@" 2> "$T/stats" > /dev/null; t2=$(now)
	"$QEMU" -cpu qemu64 "$BB" "$@" > /dev/null; t3=$(now)
	n=$(sed -n 's/.*: \([0-9]*\) instructions.*/\1/p' "$T/stats")
	tn=$(secs "$t0" "$t1"); th=$(secs "$t1" "$t2"); tq=$(secs "$t2" "$t3")
	printf '| %s | %.3f | %.3f | %.3f | %d | %.0f | %.1fx | %.2fx |\n' "$name" "$tn" "$th" "$tq" \
		"$n" "$(echo "$n / $th / 1000000" | bc -l)" "$(echo "$th / $tn" | bc -l)" \
		"$(echo "$th / $tq" | bc -l)"
	echo "$tn $th $tq $n" >> "$T/sum"
}
bench "gzip -6 (compression)" gzip -6 -c "$T/text"
bench "gunzip (decompression)" gunzip -c "$T/text.gz"
bench "bzip2 (compression)" bzip2 -c "$T/blob"
bench "md5sum (hashing)" md5sum "$T/blob"
bench "sha256sum (hashing)" sha256sum "$T/blob"
bench "sort -n (sorting)" sort -n "$T/text"
bench "awk (floating point)" awk '{ s += $3 * 1.0001; q += sqrt_approx = $1 / ($3 + 1) } END { printf "%.6f %.6f\n", s, q }' "$T/text"
awk '{ tn += $1; th += $2; tq += $3; n += $4 } END {
	printf "| **total** | %.3f | %.3f | %.3f | %.0f | %.0f | %.1fx | %.2fx |\n", tn, th, tq, n, n / th / 1e6, th / tn, th / tq }' "$T/sum"
