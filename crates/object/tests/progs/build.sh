#!/usr/bin/env bash
# Rebuilds the kfvm-object test corpus and the expectations recorded from other tools.
#
#   X.bpf.c  --clang-19-->  X.bpf.o                      (committed; cargo test never needs clang)
#   X.bpf.o  --llvm-objdump-19 -d -r-->  X.objdump.txt   (sections, symbols, instructions, relocations)
#   X.bpf.o  --bpftool btf dump-->       X.btf.txt       (the object's BTF, as bpftool prints it)
#   X.bpf.o  --libbpf_dump-->            X.libbpf.txt    (what the system libbpf opens and hands to BPF_PROG_LOAD)
#
# Needs clang-19, llvm-19, bpftool, libbpf-dev, a C compiler, the running kernel's BTF at
# /sys/kernel/btf/vmlinux, and root (libbpf_dump issues bpf() calls; see libbpf_dump.c).
# vmlinux.h and the libbpf_dump binary go to gen/, which is not committed.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p gen
[ -s gen/vmlinux.h ] || bpftool btf dump file /sys/kernel/btf/vmlinux format c > gen/vmlinux.h
cc -O1 -g -rdynamic libbpf_dump.c -lbpf -ldl -o gen/libbpf_dump

for src in *.bpf.c; do
	obj="${src%.c}.o"
	base="${src%.bpf.c}"
	clang-19 -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Igen -c "$src" -o "$obj"
	# vmlinux.h makes the DWARF huge; libbpf never reads DWARF, so drop it from big objects.
	if [ "$(stat -c %s "$obj")" -gt 100000 ]; then
		llvm-strip-19 --strip-debug "$obj"
	fi
	llvm-objdump-19 -d -r --no-show-raw-insn "$obj" | sed 1,2d > "$base.objdump.txt"
	bpftool btf dump file "$obj" > "$base.btf.txt"
	./gen/libbpf_dump "$obj" > "$base.libbpf.txt"
done
echo "rebuilt: $(ls *.bpf.o | tr '\n' ' ')"
