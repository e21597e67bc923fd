// SPDX-License-Identifier: MIT OR Apache-2.0
/* Loads BPF programs into the running kernel with verifier log level 2 and writes the logs.
 *
 *   loader obj FILE.o OUTDIR            each program of the object alone: OUTDIR/<obj>.<prog>.log
 *   loader raw TYPE NMAPS FILE.bin OUT  raw instructions (8-byte slots) as program type TYPE
 *                                       (socket); NMAPS array maps (u32 key, 64-byte value, 1
 *                                       entry) are created, lddw with src_reg 1/2 (map fd, map
 *                                       value) get fd of map #imm, and fd_array holds the maps
 *                                       for src_reg 5/6 (map idx, map idx value).
 *
 * Prints one line per program: name, accept/reject. Needs root. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#define LOG_SZ (64 * 1024 * 1024)
static char *log_buf;

static int quiet(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	return lvl == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static void write_log(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) { perror(path); exit(1); }
	fputs(log_buf, f);
	fclose(f);
}

static int load_obj(const char *path, const char *outdir)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;
	char base[256], out[1024];
	int n = 0;

	if (!obj) { perror(path); return 1; }
	snprintf(base, sizeof(base), "%s", basename(strdup(path)));
	if (strrchr(base, '.')) *strrchr(base, '.') = 0;
	bpf_object__for_each_program(prog, obj) n++;
	bpf_object__close(obj);
	for (int i = 0; i < n; i++) {
		struct bpf_program *p, *mine = NULL;
		int k = 0, err;
		obj = bpf_object__open_file(path, NULL);
		bpf_object__for_each_program(p, obj) {
			bpf_program__set_autoload(p, k == i);
			if (k++ == i) mine = p;
		}
		bpf_program__set_log_buf(mine, log_buf, LOG_SZ);
		bpf_program__set_log_level(mine, 2);
		log_buf[0] = 0;
		err = bpf_object__load(obj);
		printf("%s\t%s\n", bpf_program__name(mine), err ? "reject" : "accept");
		snprintf(out, sizeof(out), "%s/%s.%s.log", outdir, base, bpf_program__name(mine));
		write_log(out);
		bpf_object__close(obj);
	}
	return 0;
}

static int load_raw(const char *type, int nmaps, const char *path, const char *out)
{
	FILE *f = fopen(path, "rb");
	struct bpf_insn insns[4096];
	int fds[16], cnt, fd;
	enum bpf_prog_type pt;
	LIBBPF_OPTS(bpf_prog_load_opts, opts);

	if (!f) { perror(path); return 1; }
	cnt = fread(insns, sizeof(insns[0]), 4096, f);
	fclose(f);
	if (!strcmp(type, "socket")) pt = BPF_PROG_TYPE_SOCKET_FILTER;
	else { fprintf(stderr, "unknown program type %s\n", type); return 1; }
	for (int i = 0; i < nmaps; i++) {
		fds[i] = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 64, 1, NULL);
		if (fds[i] < 0) { perror("bpf_map_create"); return 1; }
	}
	for (int i = 0; i < cnt; i++)
		if (insns[i].code == (BPF_LD | BPF_IMM | BPF_DW)) {
			if (insns[i].src_reg == BPF_PSEUDO_MAP_FD || insns[i].src_reg == BPF_PSEUDO_MAP_VALUE)
				insns[i].imm = fds[insns[i].imm];
			i++;
		}
	opts.log_buf = log_buf;
	opts.log_size = LOG_SZ;
	opts.log_level = 2;
	opts.fd_array = fds;
	log_buf[0] = 0;
	fd = bpf_prog_load(pt, NULL, "GPL", insns, cnt, &opts);
	printf("%s\t%s\n", path, fd < 0 ? "reject" : "accept");
	write_log(out);
	return 0;
}

int main(int argc, char **argv)
{
	log_buf = calloc(1, LOG_SZ);
	libbpf_set_print(quiet);
	if (argc == 4 && !strcmp(argv[1], "obj"))
		return load_obj(argv[2], argv[3]);
	if (argc == 6 && !strcmp(argv[1], "raw"))
		return load_raw(argv[2], atoi(argv[3]), argv[4], argv[5]);
	fprintf(stderr, "usage: loader obj FILE.o OUTDIR | loader raw TYPE NMAPS FILE.bin OUT.log\n");
	return 2;
}
