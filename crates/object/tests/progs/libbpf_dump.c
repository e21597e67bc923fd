// SPDX-License-Identifier: MIT
/*
 * libbpf_dump: what libbpf (the system's libbpf, linked dynamically) makes of a BPF object, as
 * text for kfvm-object's tests to compare against.
 *
 * It opens the object, prints what bpf_object__open() read (programs, sections, types, maps), then
 * loads it while intercepting the bpf() syscall, and prints every BPF_PROG_LOAD request exactly as
 * libbpf handed it to the kernel: the linked instructions (subprograms appended), func_info and
 * line_info. Failures of the real kernel (a program meant to be rejected, a kfunc the running
 * kernel lacks) are turned into fake successes so that every program reaches BPF_PROG_LOAD.
 *
 * Build: cc -O1 -g -rdynamic libbpf_dump.c -lbpf -ldl -o libbpf_dump   (root needed to run it)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/bpf.h>

#define offsetofend(T, m) (offsetof(T, m) + sizeof(((T *)0)->m))
#include <bpf/libbpf.h>
#include <bpf/btf.h>

struct load_rec {
	char name[BPF_OBJ_NAME_LEN];
	__u32 prog_type, expected_attach_type, prog_flags, attach_btf_id;
	__u32 insn_cnt, func_info_cnt, func_info_rec_size, line_info_cnt, line_info_rec_size;
	struct bpf_insn *insns;
	void *func_info, *line_info;
};

static struct load_rec recs[256];
static int nrecs;
static int recording;

static long fake_fd(void)
{
	return open("/dev/zero", O_RDWR | O_CLOEXEC);
}

static void *dup_mem(__u64 ptr, size_t sz)
{
	void *p = malloc(sz ? sz : 1);

	if (sz)
		memcpy(p, (void *)(unsigned long)ptr, sz);
	return p;
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
	ret = real(number, a1, a2, a3, a4, a5);
	if (number != __NR_bpf || !recording)
		return ret;

	union bpf_attr *attr = (union bpf_attr *)a2;
	switch ((int)a1) {
	case BPF_PROG_LOAD: {
		struct load_rec *r;

		if (nrecs >= 256 || (unsigned long)a3 < offsetofend(union bpf_attr, line_info_cnt) ||
		    !attr->prog_name[0] || !attr->func_info || !attr->line_info)
			break; /* not a program of the object: one of libbpf's feature probes */
		r = &recs[nrecs++];
		memcpy(r->name, attr->prog_name, sizeof(r->name));
		r->prog_type = attr->prog_type;
		r->expected_attach_type = attr->expected_attach_type;
		r->prog_flags = attr->prog_flags;
		r->attach_btf_id = attr->attach_btf_id;
		r->insn_cnt = attr->insn_cnt;
		r->insns = dup_mem(attr->insns, (size_t)attr->insn_cnt * sizeof(struct bpf_insn));
		r->func_info_cnt = attr->func_info_cnt;
		r->func_info_rec_size = attr->func_info_rec_size;
		r->func_info = dup_mem(attr->func_info, (size_t)attr->func_info_cnt * attr->func_info_rec_size);
		r->line_info_cnt = attr->line_info_cnt;
		r->line_info_rec_size = attr->line_info_rec_size;
		r->line_info = dup_mem(attr->line_info, (size_t)attr->line_info_cnt * attr->line_info_rec_size);
		if (ret < 0)
			ret = fake_fd();
		break;
	}
	case BPF_MAP_CREATE:
	case BPF_BTF_LOAD:
		if (ret < 0)
			ret = fake_fd();
		break;
	case BPF_MAP_UPDATE_ELEM:
	case BPF_MAP_FREEZE:
		if (ret < 0)
			ret = 0;
		break;
	default:
		break;
	}
	return ret;
}

static int silent(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_WARN && getenv("LIBBPF_DUMP_VERBOSE"))
		return vfprintf(stderr, fmt, args);
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct bpf_map *map;
	const struct btf *btf;
	struct btf *vmlinux;
	int err, i, j;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OBJ\n", argv[0]);
		return 2;
	}
	libbpf_set_print(silent);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		printf("open-error %d\n", -errno);
		return 0;
	}
	btf = bpf_object__btf(obj);
	vmlinux = btf__load_vmlinux_btf();
	printf("object %s\n", bpf_object__name(obj));
	bpf_object__for_each_program(prog, obj) {
		printf("prog %s sec=%s type=%d expected_attach_type=%d autoload=%d insns=%zu\n",
		       bpf_program__name(prog), bpf_program__section_name(prog),
		       bpf_program__type(prog), bpf_program__expected_attach_type(prog),
		       bpf_program__autoload(prog), bpf_program__insn_cnt(prog));
		/* libbpf 1.1 predates some sections: keep them from failing the whole load */
		if (bpf_program__type(prog) == BPF_PROG_TYPE_UNSPEC)
			bpf_program__set_autoload(prog, false);
	}
	bpf_object__for_each_map(map, obj) {
		printf("map %s type=%d key_size=%u value_size=%u max_entries=%u flags=%#x btf_key=%u btf_value=%u\n",
		       bpf_map__name(map), bpf_map__type(map), bpf_map__key_size(map),
		       bpf_map__value_size(map), bpf_map__max_entries(map), bpf_map__map_flags(map),
		       bpf_map__btf_key_type_id(map), bpf_map__btf_value_type_id(map));
	}
	recording = 1;
	err = bpf_object__load(obj);
	recording = 0;
	printf("load %d\n", err);
	bpf_object__for_each_map(map, obj)
		printf("mapfd %d %s\n", bpf_map__fd(map), bpf_map__name(map));
	for (i = 0; i < nrecs; i++) {
		struct load_rec *r = &recs[i];
		const char *an = "";

		if (!r->name[0] || r->func_info_cnt == 0)
			continue; /* libbpf's feature probes */
		if (vmlinux && r->attach_btf_id)
			an = btf__name_by_offset(vmlinux, btf__type_by_id(vmlinux, r->attach_btf_id)->name_off);
		printf("prog_load %s type=%u expected_attach_type=%u flags=%#x attach=%s insns=%u func_info=%u line_info=%u\n",
		       r->name, r->prog_type, r->expected_attach_type, r->prog_flags, an[0] ? an : "-",
		       r->insn_cnt, r->func_info_cnt, r->line_info_cnt);
		for (j = 0; j < (int)r->insn_cnt; j++) {
			struct bpf_insn *in = &r->insns[j];
			const char *kn = NULL;

			printf("insn %d %02x %d %d %d %d", j, in->code, in->dst_reg, in->src_reg, in->off, in->imm);
			if (vmlinux && in->imm > 0 &&
			    ((in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_KFUNC_CALL) ||
			     (in->code == (BPF_LD | BPF_IMM | BPF_DW) && in->src_reg == BPF_PSEUDO_BTF_ID))) {
				const struct btf_type *t = btf__type_by_id(vmlinux, in->imm);

				if (t)
					kn = btf__name_by_offset(vmlinux, t->name_off);
			}
			printf(kn ? " %s\n" : "\n", kn);
		}
		for (j = 0; j < (int)r->func_info_cnt; j++) {
			struct bpf_func_info *fi = (void *)((char *)r->func_info + j * r->func_info_rec_size);

			const struct btf_type *t = btf ? btf__type_by_id(btf, fi->type_id) : NULL;

			printf("func_info %u %u %s\n", fi->insn_off, fi->type_id,
			       t ? btf__name_by_offset(btf, t->name_off) : "?");
		}
		for (j = 0; j < (int)r->line_info_cnt; j++) {
			struct bpf_line_info *li = (void *)((char *)r->line_info + j * r->line_info_rec_size);

			printf("line_info %u %u %u %u %u\n", li->insn_off, li->file_name_off,
			       li->line_off, BPF_LINE_INFO_LINE_NUM(li->line_col),
			       BPF_LINE_INFO_LINE_COL(li->line_col));
		}
	}
	return 0;
}
