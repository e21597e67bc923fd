#!/bin/sh
# Rebuilds core_kfuncs.bpf.o against this machine's vmlinux.h (not committed: 130k lines).
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-$(command -v clang || command -v clang-19)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$tmp/vmlinux.h"
STRIP=${STRIP:-$(command -v llvm-strip || command -v llvm-strip-19)}
"$CLANG" -O2 -g -target bpf -D__TARGET_ARCH_x86 -I"$tmp" -c core_kfuncs.bpf.c -o core_kfuncs.bpf.o
# DWARF off, .BTF and .BTF.ext kept (as libbpf's selftests do).
"$STRIP" -g core_kfuncs.bpf.o
