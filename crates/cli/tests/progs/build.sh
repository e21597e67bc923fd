#!/bin/sh
# Rebuilds the command tests' objects with the C verifier corpus's headers
# (crates/kfvm/tests/verifier/include). Needs clang; the objects are committed.
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-$(command -v clang-19 || command -v clang)}
STRIP=${STRIP:-$(command -v llvm-strip-19 || command -v llvm-strip)}
for src in *.bpf.c; do
	"$CLANG" -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -I../../../kfvm/tests/verifier/include \
		-c "$src" -o "${src%.c}.o"
	"$STRIP" -g "${src%.c}.o"
done
