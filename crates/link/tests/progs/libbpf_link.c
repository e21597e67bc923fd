// SPDX-License-Identifier: MIT
/*
 * libbpf_link: what libbpf makes of a BPF object linked against a given target BTF, as text for
 * kfvm-link's tests to compare against (tests/libbpf.rs).
 *
 *   libbpf_link OBJ TARGET_BTF KCONFIG_FILE
 *
 * The target BTF replaces the kernel's: every open of /sys/kernel/btf/vmlinux is redirected to
 * TARGET_BTF (open, open64, fopen, fopen64 are interposed), so libbpf's CO-RE candidate search,
 * its __ksym resolution and everything else that reads "vmlinux" BTF read the target. Module BTFs
 * are hidden (BPF_BTF_GET_NEXT_ID says ENOENT). KCONFIG_FILE is passed as the `kconfig` open
 * option, so CONFIG_* externs never come from /boot.
 *
 * The object is then loaded while the bpf() syscall is intercepted as in kfvm-object's
 * libbpf_dump.c: failures of the real kernel become fake successes so that every program reaches
 * BPF_PROG_LOAD, and each BPF_PROG_LOAD is recorded as libbpf handed it to the kernel. Map file
 * descriptors are printed as map indices (BPF_PSEUDO_MAP_IDX / BPF_PSEUDO_MAP_IDX_VALUE), the
 * form kfvm-link keeps. libbpf's warnings are printed too (`warn ...`), so a refused object can be
 * compared by message.
 *
 * For a target that is not the running kernel, programs whose type needs an attach target in the
 * kernel BTF (tracing, LSM, ext, struct_ops) are loaded as BPF_PROG_TYPE_SYSCALL: relocation does
 * not depend on the type, and the attach target would not be found.
 *
 * Build (system libbpf):  cc -O1 -g -rdynamic libbpf_link.c -lbpf -ldl -o libbpf_link
 * Build (libbpf sources): cc -O1 -g -rdynamic -I$INC libbpf_link.c $LIBBPF_A -lelf -lz -ldl -o ...
 * Running it needs root (bpf() for feature probes and maps).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>

#define offsetofend(T, m) (offsetof(T, m) + sizeof(((T *)0)->m))
#define VMLINUX "/sys/kernel/btf/vmlinux"

static const char *target_path;

static const char *redirect(const char *path)
{
	if (target_path && path && strcmp(path, VMLINUX) == 0)
		return target_path;
	return path;
}

int open(const char *path, int flags, ...)
{
	static int (*real)(const char *, int, ...);
	mode_t mode = 0;
	va_list ap;

	va_start(ap, flags);
	if (flags & (O_CREAT | O_TMPFILE))
		mode = va_arg(ap, mode_t);
	va_end(ap);
	if (!real)
		real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	return real(redirect(path), flags, mode);
}

int open64(const char *path, int flags, ...)
{
	static int (*real)(const char *, int, ...);
	mode_t mode = 0;
	va_list ap;

	va_start(ap, flags);
	if (flags & (O_CREAT | O_TMPFILE))
		mode = va_arg(ap, mode_t);
	va_end(ap);
	if (!real)
		real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
	return real(redirect(path), flags, mode);
}

FILE *fopen(const char *path, const char *mode)
{
	static FILE *(*real)(const char *, const char *);

	if (!real)
		real = (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, "fopen");
	return real(redirect(path), mode);
}

FILE *fopen64(const char *path, const char *mode)
{
	static FILE *(*real)(const char *, const char *);

	if (!real)
		real = (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, "fopen64");
	return real(redirect(path), mode);
}

struct load_rec {
	char name[BPF_OBJ_NAME_LEN];
	__u32 insn_cnt;
	struct bpf_insn *insns;
};

static struct load_rec recs[256];
static int nrecs;
static int recording;

/* The value libbpf writes into each map at load (BPF_MAP_UPDATE_ELEM from the map's initial
 * image), captured at that moment: what it filled .kconfig with, before the kernel (or a fake
 * map) owns the memory. Indexed like bpf_object__for_each_map. */
static struct bpf_object *g_obj;
static unsigned char *map_values[256];
static size_t map_value_sizes[256];

static long fake_fd(void)
{
	return open("/dev/zero", O_RDWR | O_CLOEXEC);
}

long syscall(long number, ...)
{
	static long (*real)(long, ...);
	long a1, a2, a3, a4, a5, ret;
	va_list ap;

	va_start(ap, number);
	a1 = va_arg(ap, long);
	a2 = va_arg(ap, long);
	a3 = va_arg(ap, long);
	a4 = va_arg(ap, long);
	a5 = va_arg(ap, long);
	va_end(ap);
	if (!real)
		real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	if (number == __NR_bpf && (int)a1 == BPF_BTF_GET_NEXT_ID) {
		errno = ENOENT; /* no module BTFs */
		return -1;
	}
	ret = real(number, a1, a2, a3, a4, a5);
	if (number != __NR_bpf || !recording)
		return ret;

	union bpf_attr *attr = (union bpf_attr *)a2;
	switch ((int)a1) {
	case BPF_PROG_LOAD: {
		struct load_rec *r;

		if (nrecs >= 256 || (unsigned long)a3 < offsetofend(union bpf_attr, line_info_cnt) ||
		    !attr->prog_name[0] || !attr->func_info)
			break; /* one of libbpf's feature probes */
		r = &recs[nrecs++];
		memcpy(r->name, attr->prog_name, sizeof(r->name));
		r->insn_cnt = attr->insn_cnt;
		r->insns = malloc((size_t)attr->insn_cnt * sizeof(struct bpf_insn) + 1);
		memcpy(r->insns, (void *)(unsigned long)attr->insns, (size_t)attr->insn_cnt * sizeof(struct bpf_insn));
		if (ret < 0)
			ret = fake_fd();
		break;
	}
	case BPF_MAP_CREATE:
	case BPF_BTF_LOAD:
		if (ret < 0)
			ret = fake_fd();
		break;
	case BPF_MAP_UPDATE_ELEM: {
		struct bpf_map *m;
		int k = 0;

		bpf_object__for_each_map(m, g_obj) {
			size_t sz = 0;
			const void *v = bpf_map__initial_value(m, &sz);

			if (k < 256 && v && v == (void *)(unsigned long)attr->value && !map_values[k]) {
				map_values[k] = malloc(sz + 1);
				memcpy(map_values[k], v, sz);
				map_value_sizes[k] = sz;
			}
			k++;
		}
		if (ret < 0)
			ret = 0;
		break;
	}
	case BPF_MAP_FREEZE:
		if (ret < 0)
			ret = 0;
		break;
	default:
		break;
	}
	return ret;
}

static int print_warn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char buf[1024];
	size_t n;

	if (level != LIBBPF_WARN)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, args);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	printf("warn %s\n", buf);
	return 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, n + 1);
	if (fread(buf, 1, n, f) != (size_t)n)
		n = 0;
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* FNV-1a 64 of a file: tests check they link against the BTF that was recorded against */
static unsigned long long file_hash(const char *path)
{
	unsigned long long h = 0xcbf29ce484222325ULL;
	FILE *f = fopen(path, "rb");
	int c;

	while (f && (c = fgetc(f)) != EOF) {
		h ^= (unsigned char)c;
		h *= 0x100000001b3ULL;
	}
	if (f)
		fclose(f);
	return h;
}

/* libbpf's get_kernel_version() */
static unsigned int kversion(void)
{
	unsigned int major, minor, patch;
	struct utsname info;

	uname(&info);
	if (sscanf(info.release, "%u.%u.%u", &major, &minor, &patch) != 3)
		return 0;
	return (major << 16) + (minor << 8) + (patch > 255 ? 255 : patch);
}

/* Addresses /proc/kallsyms gives the object's typeless __ksym externs. */
static void print_kallsyms(const struct btf *btf)
{
	int id, n = btf ? btf__type_cnt(btf) : 0;

	for (id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_var_secinfo *v;
		int i;

		if (!btf_is_datasec(t) || strcmp(btf__name_by_offset(btf, t->name_off), ".ksyms"))
			continue;
		v = btf_var_secinfos(t);
		for (i = 0; i < btf_vlen(t); i++, v++) {
			const struct btf_type *var = btf__type_by_id(btf, v->type);
			const char *name = btf__name_by_offset(btf, var->name_off);
			char line[512], sym[256], type;
			unsigned long long addr;
			FILE *f;

			if (!btf_is_var(var) || var->type != 0)
				continue;
			f = fopen("/proc/kallsyms", "r");
			while (f && fgets(line, sizeof(line), f)) {
				if (sscanf(line, "%llx %c %255s", &addr, &type, sym) == 3 && strcmp(sym, name) == 0) {
					printf("kallsyms %s %#llx\n", name, addr);
					break;
				}
			}
			if (f)
				fclose(f);
		}
	}
}

int main(int argc, char **argv)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *map;
	int fds[256], nmaps = 0;
	int err, i, j;

	if (argc != 4) {
		fprintf(stderr, "usage: %s OBJ TARGET_BTF KCONFIG_FILE\n", argv[0]);
		return 2;
	}
	if (strcmp(argv[2], VMLINUX) != 0)
		target_path = argv[2];
	opts.kconfig = slurp(argv[3]);
	if (!opts.kconfig) {
		fprintf(stderr, "cannot read %s\n", argv[3]);
		return 2;
	}
	libbpf_set_print(print_warn);
	printf("libbpf %u.%u\n", libbpf_major_version(), libbpf_minor_version());
	printf("kversion %#x\n", kversion());
	printf("target-hash %016llx\n", file_hash(argv[2]));
	obj = bpf_object__open_file(argv[1], &opts);
	if (!obj) {
		printf("open-error %d\n", -errno);
		return 0;
	}
	g_obj = obj;
	print_kallsyms(bpf_object__btf(obj));
	bpf_object__for_each_program(prog, obj) {
		enum bpf_prog_type t = bpf_program__type(prog);

		/* sections this libbpf does not know: keep them from failing the whole load */
		if (t == BPF_PROG_TYPE_UNSPEC)
			bpf_program__set_autoload(prog, false);
		if (target_path && (t == BPF_PROG_TYPE_TRACING || t == BPF_PROG_TYPE_LSM ||
				    t == BPF_PROG_TYPE_EXT || t == BPF_PROG_TYPE_STRUCT_OPS)) {
			/* before 1.6 (1.3?), set_type keeps the section's attach handler: the program
			 * cannot be loaded without its attach target, so it is left out */
			if (libbpf_major_version() == 1 && libbpf_minor_version() < 6) {
				printf("skip %s\n", bpf_program__name(prog));
				bpf_program__set_autoload(prog, false);
			} else {
				bpf_program__set_type(prog, BPF_PROG_TYPE_SYSCALL);
			}
		}
	}
	recording = 1;
	err = bpf_object__load(obj);
	recording = 0;
	printf("load %d\n", err);
	bpf_object__for_each_map(map, obj) {
		if (nmaps < 256) {
			fds[nmaps] = bpf_map__fd(map);
			if (strstr(bpf_map__name(map), ".kconfig") && map_values[nmaps]) {
				printf("kconfig");
				for (i = 0; i < (int)map_value_sizes[nmaps]; i++)
					printf(" %02x", map_values[nmaps][i]);
				printf("\n");
			}
			nmaps++;
		}
	}
	for (i = 0; i < nrecs; i++) {
		struct load_rec *r = &recs[i];

		printf("prog %s insns=%u\n", r->name, r->insn_cnt);
		for (j = 0; j < (int)r->insn_cnt; j++) {
			struct bpf_insn *in = &r->insns[j];
			int src = in->src_reg, imm = in->imm, k;

			if (in->code == (BPF_LD | BPF_IMM | BPF_DW) && (src == BPF_PSEUDO_MAP_FD || src == BPF_PSEUDO_MAP_VALUE)) {
				for (k = 0; k < nmaps; k++) {
					if (fds[k] == imm) {
						src = src == BPF_PSEUDO_MAP_FD ? BPF_PSEUDO_MAP_IDX : BPF_PSEUDO_MAP_IDX_VALUE;
						imm = k;
						break;
					}
				}
			}
			printf("insn %d %02x %d %d %d %d\n", j, in->code, in->dst_reg, src, in->off, imm);
		}
	}
	return 0;
}
