// Loads through BTF-typed pointers (check_ptr_to_btf_access, btf_struct_walk): what a field load
// gives (scalars, pointers and their trust, read-only untrusted memory) and the kernel's refusals.
// Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

SEC("tp_btf/task_newtask")
__description("task->real_parent is RCU-protected (task_struct__safe_rcu), task->mm is not listed")
__success __log_level(2)
__msg("=rcu_ptr_task_struct()")
__msg("=ptr_mm_struct()")
__kfvm_run_arg("task:100") __kfvm_run_arg("0")
int BPF_PROG(walk_trust, struct task_struct *task, u64 clone_flags)
{
	struct task_struct *parent = task->real_parent;
	struct mm_struct *mm = task->mm;

	return parent->pid + (mm ? mm->brk : 0) == 12345;
}

SEC("tp_btf/task_newtask")
__description("a chain of RCU pointers down to a kernfs name, read-only untrusted memory")
__success __log_level(2)
__msg("rcu_ptr_css_set()")
__msg("rcu_ptr_cgroup()")
__msg("rcu_ptr_kernfs_node()")
__msg("rdonly_untrusted_mem(sz=0)")
__kfvm_run_arg("task:100") __kfvm_run_arg("0")
int BPF_PROG(walk_to_name, struct task_struct *task, u64 clone_flags)
{
	struct cgroup *cgrp = task->cgroups->dfl_cgrp;
	const char *name = cgrp->kn->name;

	return name[0] == 'x';
}

SEC("tp_btf/task_newtask")
__description("arrays of scalars in a struct are scalars")
__success
__kfvm_run_arg("task:100") __kfvm_run_arg("0")
int BPF_PROG(comm_bytes, struct task_struct *task, u64 clone_flags)
{
	return task->comm[0] + task->comm[15] == 12345;
}

SEC("tp_btf/task_newtask")
__description("a pointer member read with 4 bytes")
__failure __msg("cannot access ptr member real_parent with moff")
int BPF_PROG(partial_pointer, struct task_struct *task, u64 clone_flags)
{
	return *(u32 *)&task->real_parent;
}

SEC("tp_btf/task_newtask")
__description("an 8-byte load from a 4-byte member")
__failure __msg("access beyond the end of member pid (mend:")
int BPF_PROG(wide_scalar, struct task_struct *task, u64 clone_flags)
{
	return *(u64 *)&task->pid;
}

SEC("tp_btf/task_newtask")
__description("a negative offset from a BTF pointer")
__failure __msg("R0 is ptr_task_struct invalid negative access: off=-8")
__naked int negative_offset(void)
{
	asm volatile("call %[task_btf];"
		     "r0 += -8;"
		     "r0 = *(u32 *)(r0 + 0);"
		     "r0 = 0;"
		     "exit;"
		     :
		     : [task_btf] "i"(158)
		     : "memory");
}

SEC("tp_btf/task_newtask")
__description("a variable offset from a BTF pointer")
__failure __msg("R6 is ptr_task_struct invalid variable offset: off=0, var_off=(0x0; 0x8)")
__naked int variable_offset(void)
{
	asm volatile("call %[task_btf];"
		     "r6 = r0;"
		     "call %[prandom];"
		     "r0 &= 8;"
		     "r6 += r0;"
		     "r0 = *(u32 *)(r6 + 0);"
		     "r0 = 0;"
		     "exit;"
		     :
		     : [task_btf] "i"(158), [prandom] "i"(7)
		     : "memory");
}

SEC("tp_btf/task_newtask")
__description("an immediate store through a BTF pointer")
__failure __msg("only read is supported")
__naked int store_imm(void)
{
	asm volatile("call %[task_btf];"
		     "*(u32 *)(r0 + 0) = 1;"
		     "r0 = 0;"
		     "exit;"
		     :
		     : [task_btf] "i"(158)
		     : "memory");
}

SEC("tp_btf/task_newtask")
__description("an atomic add through a BTF pointer")
__failure __msg("only read is supported")
__naked int atomic_add(void)
{
	asm volatile("call %[task_btf];"
		     "w1 = 1;"
		     "lock *(u32 *)(r0 + 0) += w1;"
		     "r0 = 0;"
		     "exit;"
		     :
		     : [task_btf] "i"(158)
		     : "memory");
}

SEC("tp_btf/task_newtask")
__description("bpf_probe_read_kernel() from a BTF pointer into the stack")
__success
__kfvm_run_arg("task:100") __kfvm_run_arg("0")
int BPF_PROG(probe_read_btf, struct task_struct *task, u64 clone_flags)
{
	char buf[16];

	bpf_probe_read_kernel(buf, sizeof(buf), task);
	bpf_probe_read_kernel_str(buf, sizeof(buf), task->real_parent->comm);
	return buf[0] == 'x';
}

SEC("socket")
__description("a socket filter may read the current task too")
__success __log_level(2)
__msg("call bpf_get_current_task_btf#158     ; R0=trusted_ptr_task_struct()")
int current_in_socket(struct __sk_buff *skb)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return t->pid == 12345;
}

SEC("syscall")
__description("sleepable: a walked pointer outside an RCU read section is untrusted")
__success __log_level(2)
__msg("R1=untrusted_ptr_task_struct()")
int sleepable_walk(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct task_struct *p = t->real_parent;

	return p->pid == 12345;
}

SEC("syscall")
__description("sleepable: inside bpf_rcu_read_lock() the walk is RCU-protected, and untrusted after the unlock")
__success __log_level(2)
__msg("=rcu_ptr_task_struct()")
__msg("R6=untrusted_ptr_task_struct()")
int sleepable_walk_rcu(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct task_struct *p;

	bpf_rcu_read_lock();
	p = t->real_parent;
	bpf_rcu_read_unlock();
	return p->pid == 12345;
}

SEC("socket")
__description("bpf_task_pt_regs() of a trusted task gives a flagless pt_regs pointer (the runtime lacks the helper: a socket filter, not run)")
__success __log_level(2)
__msg("call bpf_task_pt_regs#175     ; R0=ptr_pt_regs()")
int task_pt_regs(struct __sk_buff *skb)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	return regs->ip == 12345;
}

SEC("socket")
__description("bpf_task_pt_regs() of something else than a task")
__failure
__msg("cannot access ptr member subsys with moff 0 in struct css_set with off 0 size 1")
__msg("R1 is of type css_set but task_struct is expected")
int task_pt_regs_css(struct __sk_buff *skb)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs((struct task_struct *)task->cgroups);

	return regs->ip == 12345;
}

SEC("syscall")
__description("an untrusted task for bpf_task_pt_regs() (the message names no struct)")
__failure __msg("R1 type=untrusted_ptr_ expected=ptr_, trusted_ptr_, rcu_ptr_")
int task_pt_regs_untrusted(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(t->real_parent);

	return regs->ip == 12345;
}

SEC("syscall")
__description("a stack pointer for bpf_task_pt_regs()")
__failure __msg("R1 type=fp expected=ptr_, trusted_ptr_, rcu_ptr_")
int task_pt_regs_stack(void *ctx)
{
	long x = 0;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs((struct task_struct *)&x);

	return regs->ip == 12345;
}

SEC("tp_btf/task_newtask")
__description("a BTF pointer is no destination for bpf_probe_read_kernel()")
__failure __msg("bpf_probe_read_kernel() may write into memory pointed by R1 type=trusted_ptr_")
int BPF_PROG(probe_read_into_btf, struct task_struct *task)
{
	bpf_probe_read_kernel(task, 8, (void *)0);
	return 0;
}

SEC("tp_btf/task_newtask")
__description("a spilled BTF pointer is filled back with its type")
__success __log_level(2)
__msg("=trusted_ptr_task_struct() R10=fp0 fp-8=trusted_ptr_task_struct()")
__kfvm_run_arg("task:100") __kfvm_run_arg("0")
int BPF_PROG(spill_fill, struct task_struct *task)
{
	struct task_struct *volatile slot = task;
	struct task_struct *t = slot;

	return t->pid == 12345;
}

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

SEC("tp_btf/task_newtask")
__description("a trusted BTF pointer as read-only helper memory: the bytes are walked as a load would")
__success
__kfvm_run_arg("task:100") __kfvm_run_arg("0")
int BPF_PROG(btf_as_helper_mem, struct task_struct *task)
{
	bpf_ringbuf_output(&rb, task, 4, 0);
	return 0;
}

SEC("tp_btf/task_newtask")
__description("read-only helper memory past the end of the struct")
__failure __msg("access beyond struct task_struct at off 0 size 100000")
int BPF_PROG(btf_as_helper_mem_past, struct task_struct *task)
{
	bpf_ringbuf_output(&rb, task, 100000, 0);
	return 0;
}
