#!/usr/bin/env bash
# The kernel's side of benches/interp.rs: bench_alu_4k under the kernel JIT, through
# BPF_PROG_TEST_RUN on a 1500-byte packet (the context the benchmark's plain buffer stands for).
# Prints bpftool's average ns per run; divide by 57356 for ns per instruction.
#
# Needs root, a mounted bpffs, clang-19 and bpftool.
# Usage: kernel-alu4k.sh [path/to/bench.bpf.c] [repeat]   (default: shared/bench/bench.bpf.c, 200000)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="${1:-$here/../../../../../shared/bench/bench.bpf.c}"
repeat="${2:-200000}"
tmp="$(mktemp -d)"
pin="/sys/fs/bpf/kfvm-bench-$$"
trap 'rm -rf "$tmp" "$pin"' EXIT

mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$tmp/vmlinux.h"
clang-19 -O2 -g -target bpf -I"$tmp" -c "$src" -o "$tmp/bench.bpf.o"
head -c 1500 /dev/zero > "$tmp/pkt"
bpftool prog loadall "$tmp/bench.bpf.o" "$pin"
for _ in 1 2 3; do
	bpftool prog run pinned "$pin/bench_alu_4k" data_in "$tmp/pkt" repeat "$repeat"
done
