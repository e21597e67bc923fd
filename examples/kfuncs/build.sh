#!/bin/sh
# Rebuilds the kfunc examples against this machine's vmlinux.h (not committed: 130k lines), with
# the selftest-style annotations of crates/kfvm/tests/verifier/include/kfvm_misc.h. Needs clang
# and bpftool; the objects are committed, so `cargo test` needs neither.
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-$(command -v clang || command -v clang-19)}
STRIP=${STRIP:-$(command -v llvm-strip || command -v llvm-strip-19)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$tmp/vmlinux.h"
for src in *.bpf.c; do
	"$CLANG" -O2 -g -target bpf -D__TARGET_ARCH_x86 -I"$tmp" -I../../crates/kfvm/tests/verifier/include \
		-c "$src" -o "${src%.c}.o"
	# DWARF off, .BTF and .BTF.ext kept (as libbpf's selftests do).
	"$STRIP" -g "${src%.c}.o"
done
