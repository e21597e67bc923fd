#!/usr/bin/env bash
# Regenerates alu_4k.bin (and its listing alu_4k.txt): the bytecode clang emits for
# `bench_alu_4k` of shared/bench/bench.bpf.c (4096 rounds of xorshift on an XDP context).
#
# The function's only context accesses are two 32-bit loads, `r1 + 0` (xdp_md.data) and `r1 + 4`
# (xdp_md.data_end). The benchmark runs the bytecode unchanged with R1 pointing at a plain 8-byte
# buffer {data = 0, data_end = 1500}, so the bytes here are exactly clang's, and the program
# computes what the kernel computes on a 1500-byte packet.
#
# Needs clang-19, llvm-objcopy-19, llvm-nm-19, llvm-objdump-19 and bpftool (for vmlinux.h).
# Usage: gen-alu4k.sh [path/to/bench.bpf.c]   (default: shared/bench/bench.bpf.c beside the repo)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="${1:-$here/../../../../../shared/bench/bench.bpf.c}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$tmp/vmlinux.h"
clang-19 -O2 -g -target bpf -I"$tmp" -c "$src" -o "$tmp/bench.bpf.o"
llvm-objcopy-19 -O binary --only-section=xdp "$tmp/bench.bpf.o" "$tmp/xdp.bin"
read -r addr size < <(llvm-nm-19 -S "$tmp/bench.bpf.o" | awk '$4 == "bench_alu_4k" { print $1, $2 }')
dd if="$tmp/xdp.bin" of="$here/alu_4k.bin" bs=1 skip=$((16#$addr)) count=$((16#$size)) status=none
llvm-objdump-19 -d --no-show-raw-insn --disassemble-symbols=bench_alu_4k "$tmp/bench.bpf.o" \
	| sed -n '/<bench_alu_4k>:/,$p' > "$here/alu_4k.txt"
echo "alu_4k.bin: $(( $(stat -c %s "$here/alu_4k.bin") / 8 )) slots"
