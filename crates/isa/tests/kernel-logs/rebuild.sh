#!/bin/sh
# Captures the verifier logs of this directory from the running kernel: builds progs.bpf.o and
# kfunc.bpf.o with clang, assembles every ../asm/*.s whose first line is `; load: TYPE [maps=N]`
# into NAME.bin, loads each program alone with log level 2 (loader.c) and writes the logs here.
# misc.bin is loaded a second time without CAP_PERFMON and CAP_SYS_ADMIN (misc.unpriv.log), where
# the verifier hides map pointers. Needs root, clang-19, bpftool, capsh and libbpf-dev; the tests
# only read the files it writes.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
clang=${CLANG:-clang-19}
cflags="-O2 -g -target bpf -mcpu=v4 -I/usr/include/$(uname -m)-linux-gnu"

gcc -O1 -Wall -o "$tmp/loader" "$here/loader.c" -lbpf
cargo build -q --manifest-path "$here/../../Cargo.toml" --example kasm
kasm() { cargo run -q --manifest-path "$here/../../Cargo.toml" --example kasm -- "$@"; }
bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$tmp/vmlinux.h"

rm -f "$here"/*.log "$here"/*.bin
$clang $cflags -c "$here/progs.bpf.c" -o "$here/progs.bpf.o"
$clang $cflags -I"$tmp" -c "$here/kfunc.bpf.c" -o "$here/kfunc.bpf.o"
"$tmp/loader" obj "$here/progs.bpf.o" "$here"
"$tmp/loader" obj "$here/kfunc.bpf.o" "$here"

for s in "$here"/../asm/*.s; do
	name=$(basename "$s" .s)
	header=$(head -n 1 "$s")
	case "$header" in
	"; load: "*) ;;
	*) continue ;;
	esac
	set -- ${header#; load: }
	type=$1 maps=0
	if [ $# -gt 1 ]; then maps=${2#maps=}; fi
	kasm "$s" "$here/$name.bin"
	"$tmp/loader" raw "$type" "$maps" "$here/$name.bin" "$here/$name.log"
done
capsh --drop=cap_perfmon,cap_sys_admin -- -c "'$tmp/loader' raw socket 2 '$here/misc.bin' '$here/misc.unpriv.log'"
uname -r >"$here/KERNEL"
