// SPDX-License-Identifier: MIT
/* CO-RE: field reads through BPF_CORE_READ, field existence, type existence and size, enum values,
 * relocations inside subprograms that get appended to more than one program. */
#include "common.h"

struct task_struct___old {
	int pid;
	long state;
} __attribute__((preserve_access_index));

int out[8];

static __noinline int parent_tgid(struct task_struct *task)
{
	return BPF_CORE_READ(task, real_parent, tgid);
}

__noinline int global_helper(struct task_struct *task)
{
	return parent_tgid(task) + bpf_core_field_size(task->comm);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	out[0] = parent_tgid(p);
	out[1] = bpf_core_field_exists(((struct task_struct___old *)p)->state);
	out[2] = bpf_core_type_exists(struct task_struct___old);
	out[3] = bpf_core_type_size(struct task_struct);
	out[4] = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_ARRAY);
	out[5] = BPF_CORE_READ(bprm, file, f_inode, i_ino);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	out[6] = global_helper(child);
	out[7] = parent_tgid(parent);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
