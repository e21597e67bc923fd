#!/usr/bin/env bash
# Rebuilds kfvm-link's test objects, target BTFs and libbpf recordings.
#
#   X.bpf.c  --clang-19-->  X.bpf.o                     (committed: cargo test never needs clang)
#   bad.bpf.c -DBAD_CASE -> bad_case.bpf.o              (one object per refusal)
#   kinds_target.bpf.c  -> ../data/kinds_target.btf     (its raw .BTF: a small target BTF)
#   kfvm btf dump --host --format bin -> ../data/host.btf   (the kernel model's BTF, a snapshot)
#   libbpf_link OBJ TARGET ../data/kconfig -> ../recorded/STEM@TARGET.libbpf-VER.txt
#
# for every "STEM PATH TARGET..." line of ../recorded/MANIFEST, with the system libbpf (1.1) and,
# if LIBBPF_SRC points at a libbpf source tree (github.com/libbpf/libbpf, v1.6.2), with that
# libbpf built statically. TARGET is vmlinux (this machine's /sys/kernel/btf/vmlinux: not
# committed, the recording carries its hash), host (data/host.btf) or kinds (data/kinds_target.btf).
#
# Needs clang-19, llvm-19, libbpf-dev, libelf-dev, zlib, a C compiler, cargo, and root (libbpf's
# feature probes and map creation issue bpf() calls; see libbpf_link.c).
set -euo pipefail
cd "$(dirname "$0")"
GEN=gen
mkdir -p "$GEN"
CLANG=${CLANG:-clang-19}
STRIP=${STRIP:-llvm-strip-19}
OBJCOPY=${OBJCOPY:-llvm-objcopy-19}

build() { # SRC OUT [DEFINES...]
	local src=$1 out=$2
	shift 2
	"$CLANG" -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -I"/usr/include/$(uname -m)-linux-gnu" "$@" -c "$src" -o "$out"
	"$STRIP" -g "$out" # DWARF off; .BTF and .BTF.ext stay
}

build kinds.bpf.c kinds.bpf.o
# the same with cpu v4: BPF_ST stores of immediates, sign-extending loads (BPF_MEMSX)
"$CLANG" -g -O2 -target bpf -mcpu=v4 -D__TARGET_ARCH_x86 -I"/usr/include/$(uname -m)-linux-gnu" -c kinds.bpf.c -o kinds_v4.bpf.o
"$STRIP" -g kinds_v4.bpf.o
build externs.bpf.c externs.bpf.o
for c in PROTO MISSING AMBIG_OFFSET AMBIG_VALUE KCONFIG_TYPE KCONFIG_STRONG VIRTUAL VAR VAR_TYPE; do
	lc=$(echo "$c" | tr 'A-Z' 'a-z')
	build bad.bpf.c "bad_$lc.bpf.o" "-DBAD_$c"
done
build bad.bpf.c weak_proto.bpf.o -DWEAK_PROTO
build kinds_target.bpf.c "$GEN/kinds_target.bpf.o"
"$OBJCOPY" --dump-section .BTF=../data/kinds_target.btf "$GEN/kinds_target.bpf.o"
(cd ../../../.. && cargo run -q -p kfvm-cli -- btf dump --host --format bin) > ../data/host.btf

cc -O1 -g -rdynamic -Wall libbpf_link.c -lbpf -ldl -o "$GEN/libbpf_link-1.1"
tools=("1.1:$GEN/libbpf_link-1.1")
if [ -n "${LIBBPF_SRC:-}" ]; then
	make -s -C "$LIBBPF_SRC/src" BUILD_STATIC_ONLY=y OBJDIR="$PWD/$GEN/libbpf" DESTDIR="$PWD/$GEN/libbpf/inst" \
		install_headers "$PWD/$GEN/libbpf/libbpf.a" >/dev/null
	cc -O1 -g -rdynamic -Wall -I"$GEN/libbpf/inst/usr/include" -I"$LIBBPF_SRC/include/uapi" libbpf_link.c \
		"$GEN/libbpf/libbpf.a" -lelf -lz -ldl -o "$GEN/libbpf_link-src"
	ver=$("$GEN/libbpf_link-src" /dev/null /dev/null ../data/kconfig | sed -n 's/^libbpf //p')
	tools+=("$ver:$GEN/libbpf_link-src")
fi

target_file() {
	case $1 in
	vmlinux) echo /sys/kernel/btf/vmlinux ;;
	host) echo ../data/host.btf ;;
	kinds) echo ../data/kinds_target.btf ;;
	*) echo "unknown target $1" >&2; exit 1 ;;
	esac
}

rm -f ../recorded/*.txt
grep -v '^#' ../recorded/MANIFEST | while read -r stem path targets; do
	[ -n "$stem" ] || continue
	for t in $targets; do
		for tool in "${tools[@]}"; do
			ver=${tool%%:*}
			"${tool#*:}" "$path" "$(target_file "$t")" ../data/kconfig > "../recorded/$stem@$t.libbpf-$ver.txt"
		done
	done
done
echo "recorded: $(ls ../recorded/*.txt | wc -l) files"
