// SPDX-License-Identifier: MIT
/* Disagreements with the live kernel found by the kfunc/BTF-pointer fuzzer
 * (crates/kfvm/examples/kfuzz_kfunc.rs), minimised. Rebuild: ./build.sh fuzz_found.bpf.c
 *
 * Global functions with `__arg_trusted` arguments (btf_prepare_func_args() turns them into
 * ARG_PTR_TO_BTF_ID | PTR_TRUSTED, `__arg_nullable` adds PTR_MAYBE_NULL;
 * btf_check_func_arg_match() checks the caller's register with check_reg_type()). */
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

__noinline long trusted_tgid(struct task_struct *t __arg_trusted)
{
	return t->tgid;
}

__noinline long nullable_pid(struct task_struct *t __arg_trusted __arg_nullable)
{
	return t ? t->pid : 0;
}

__noinline long nullable_unchecked(struct task_struct *t __arg_trusted __arg_nullable)
{
	return t->pid;
}

__noinline long trusted_nonnull(struct task_struct *t __arg_trusted __arg_nonnull)
{
	return t->pid;
}

SEC("tp_btf/task_newtask")
__description("a trusted tp_btf argument passes to an __arg_trusted argument")
__success __kfvm_run_arg("task:100") __kfvm_run_arg("0")
int BPF_PROG(trusted_arg_ctx_task, struct task_struct *task, u64 clone_flags)
{
	return trusted_tgid(task) & 0;
}

SEC("syscall")
__description("an acquired task, checked against NULL, passes to an __arg_trusted argument")
__success
int trusted_arg_acquired(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);
	long r;

	if (!t)
		return 0;
	r = trusted_tgid(t);
	bpf_task_release(t);
	return r & 0;
}

SEC("syscall")
__description("a maybe-NULL task does not pass to an __arg_trusted argument")
__failure __msg("R1 type=ptr_or_null_ expected=ptr_, trusted_ptr_, rcu_ptr_")
__msg("Caller passes invalid args into func#1 ('trusted_tgid')")
int trusted_arg_maybe_null(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);
	long r;

	r = trusted_tgid(t);
	if (t)
		bpf_task_release(t);
	return r & 0;
}

SEC("tp_btf/task_newtask")
__description("an __arg_trusted argument takes its own type only")
__failure __msg("R1 is of type cgroup but task_struct is expected")
__msg("Caller passes invalid args into func#1 ('trusted_tgid')")
int BPF_PROG(trusted_arg_wrong_type, struct task_struct *task, u64 clone_flags)
{
	return trusted_tgid((struct task_struct *)task->cgroups->dfl_cgrp) & 0;
}

SEC("syscall")
__description("an untrusted walked pointer (a sleepable program outside RCU) does not pass")
__failure __msg("R1 type=untrusted_ptr_ expected=ptr_, trusted_ptr_, rcu_ptr_")
int trusted_arg_untrusted(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return trusted_tgid(t->real_parent) & 0;
}

SEC("syscall")
__description("NULL and maybe-NULL pointers pass to an __arg_trusted __arg_nullable argument")
__success
int trusted_nullable_arg(void *ctx)
{
	struct task_struct *t = bpf_task_from_pid(1);
	long r = nullable_pid(NULL) + nullable_pid(t);

	if (t)
		bpf_task_release(t);
	return r & 0;
}

SEC("syscall")
__description("an __arg_trusted __arg_nullable argument must be checked before use")
__failure __msg("invalid mem access 'trusted_ptr_or_null_'")
int trusted_nullable_unchecked(void *ctx)
{
	return nullable_unchecked(NULL) & 0;
}

SEC("syscall")
__description("__arg_trusted and __arg_nonnull do not combine")
__failure __msg("arg#0 has invalid combination of tags")
int trusted_nonnull_tags(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return trusted_nonnull(t) & 0;
}
