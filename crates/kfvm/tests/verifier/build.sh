#!/bin/sh
# Rebuilds the C verifier corpus: include/vmlinux.h from the kernel model (the same object then
# CO-RE-links against the model for kfvm and against /sys/kernel/btf/vmlinux for the live
# kernel), then every *.bpf.c with clang. The objects are committed, so `cargo test` needs
# neither clang nor this script. Run from anywhere: ./build.sh [FILE.bpf.c...]
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-$(command -v clang-19 || command -v clang)}
STRIP=${STRIP:-$(command -v llvm-strip-19 || command -v llvm-strip)}
ROOT=$(cd ../../../.. && pwd)
KFVM=${KFVM:-}
if [ -z "$KFVM" ]; then
	cargo build -q --manifest-path "$ROOT/Cargo.toml" -p kfvm-cli
	KFVM="${CARGO_TARGET_DIR:-$ROOT/target}/debug/kfvm"
fi
"$KFVM" btf dump --host --format c > include/vmlinux.h.new
mv include/vmlinux.h.new include/vmlinux.h
if [ $# -eq 0 ]; then
	set -- *.bpf.c
fi
for src in "$@"; do
	# libbpf's headers (bpf_helpers.h, bpf_tracing.h) come from the system (/usr/include/bpf).
	"$CLANG" -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Iinclude -Wall -Wno-unused-function \
		-c "$src" -o "${src%.c}.o"
	# DWARF off; .BTF and .BTF.ext kept (as the kernel selftests do).
	"$STRIP" -g "${src%.c}.o"
done
