#!/usr/bin/env bash
# Rebuilds kfvm-btf's committed test corpus and the bpftool outputs the tests compare against.
# Needs clang-19 (or $CLANG), bpftool and cargo; `cargo test` itself needs none of them.
# BPFTOOL_LATEST names a bpftool 7.5 or later (the *.latest.h.expected files: sorted output,
# kfunc prototypes; bpftool 7.8.0 built from github.com/libbpf/bpftool made the committed ones).
set -euo pipefail
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-19}

# A BPF object with every BTF kind clang emits, func/line info and CO-RE relocations.
"$CLANG" -g -O2 -target bpf -c kinds.bpf.c -o kinds.bpf.o
bpftool btf dump file kinds.bpf.o > kinds.raw.expected
bpftool btf dump file kinds.bpf.o format c > kinds.h.expected

# BTF made by kfvm's builder (tests/common/mod.rs: all_kinds, attrs, split_pair).
(cd ../.. && BLESS=1 cargo test -q -p kfvm-btf --test corpus builder_blobs_are_committed)
bpftool btf dump file built_all_kinds.btf > built_all_kinds.raw.expected
bpftool btf dump file built_attrs.btf > built_attrs.raw.expected
bpftool btf dump file built_all_kinds.btf format c > built_all_kinds.h.expected
bpftool btf dump file built_split.btf -B built_split_base.btf > built_split.raw.expected
bpftool btf dump file built_split.btf -B built_split_base.btf format c > built_split.h.expected

if [ -n "${BPFTOOL_LATEST:-}" ]; then
	"$BPFTOOL_LATEST" btf dump file kinds.bpf.o format c > kinds.latest.h.expected
	"$BPFTOOL_LATEST" btf dump file built_all_kinds.btf format c > built_all_kinds.latest.h.expected
	"$BPFTOOL_LATEST" btf dump file built_attrs.btf format c > built_attrs.latest.h.expected
	"$BPFTOOL_LATEST" btf dump file built_split.btf -B built_split_base.btf format c \
		> built_split.latest.h.expected
fi
