#!/bin/sh
# Rebuilds the example's header and BPF object (committed, so `cargo test` needs no clang).
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-$(command -v clang || command -v clang-19)}
cargo run -q -p kfvm --example host_kfunc -- header > host_kfunc.h
"$CLANG" -O2 -g -target bpf -c host_kfunc.bpf.c -o host_kfunc.bpf.o
