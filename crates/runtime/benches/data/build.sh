#!/bin/sh
# Rebuilds bench.bpf.o from bench.bpf.c (a copy of ../shared/bench/bench.bpf.c) against this
# machine's vmlinux.h. Needs clang and bpftool; the object is committed.
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-$(command -v clang || command -v clang-19)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$tmp/vmlinux.h"
"$CLANG" -O2 -g -target bpf -I"$tmp" -c bench.bpf.c -o bench.bpf.o
