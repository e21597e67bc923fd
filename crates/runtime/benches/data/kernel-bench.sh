#!/usr/bin/env bash
# The kernel's side of benches/kfunc.rs: bench_kfunc_256 and bench_alu_4k under the kernel JIT,
# through BPF_PROG_TEST_RUN on a 1500-byte packet. Prints bpftool's average ns per run.
# Needs root, a mounted bpffs and bpftool. Usage: kernel-bench.sh [repeat] (default 200000)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repeat="${1:-200000}"
tmp="$(mktemp -d)"
pin="/sys/fs/bpf/kfvm-rt-bench-$$"
trap 'rm -rf "$tmp" "$pin"' EXIT
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
head -c 1500 /dev/zero > "$tmp/pkt"
bpftool prog loadall "$here/bench.bpf.o" "$pin"
for prog in bench_kfunc_256 bench_alu_4k; do
	for _ in 1 2 3; do
		printf '%s: ' "$prog"
		bpftool prog run pinned "$pin/$prog" data_in "$tmp/pkt" repeat "$repeat" | grep -o 'duration (average): [0-9]*ns'
	done
done
