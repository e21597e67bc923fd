/* SPDX-License-Identifier: MIT */
/* The UAPI definitions BPF programs need that the kernel model's BTF (include/vmlinux.h, from
 * `kfvm btf dump --host --format c`) does not carry: map types, map update flags, XDP actions and
 * the special map-value structs. The values and layouts are the kernel's (include/uapi/linux/bpf.h).
 * Include after vmlinux.h. */
#ifndef __KFVM_UAPI_H__
#define __KFVM_UAPI_H__

/* Integer typedefs libbpf's bpf_helper_defs.h uses (C11 allows repeating identical typedefs). */
typedef signed short __s16;
typedef signed long long __s64;
typedef __u32 __wsum;
typedef __s16 s16;
typedef __s64 s64;

enum bpf_map_type {
	BPF_MAP_TYPE_UNSPEC = 0,
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PROG_ARRAY = 3,
	BPF_MAP_TYPE_PERF_EVENT_ARRAY = 4,
	BPF_MAP_TYPE_PERCPU_HASH = 5,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_LRU_PERCPU_HASH = 10,
	BPF_MAP_TYPE_QUEUE = 22,
	BPF_MAP_TYPE_STACK = 23,
	BPF_MAP_TYPE_RINGBUF = 27,
	BPF_MAP_TYPE_TASK_STORAGE = 29,
	BPF_MAP_TYPE_BLOOM_FILTER = 30,
};

enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
	BPF_F_LOCK = 4,
};

enum {
	BPF_F_NO_PREALLOC = (1U << 0),
	BPF_F_RDONLY_PROG = (1U << 7),
	BPF_F_WRONLY_PROG = (1U << 8),
};

enum xdp_action {
	XDP_ABORTED = 0,
	XDP_DROP = 1,
	XDP_PASS = 2,
	XDP_TX = 3,
	XDP_REDIRECT = 4,
};

struct bpf_raw_tracepoint_args {
	__u64 args[0];
};

struct bpf_spin_lock {
	__u32 val;
};

struct bpf_timer {
	__u64 __opaque[2];
} __attribute__((aligned(8)));

#endif /* __KFVM_UAPI_H__ */
