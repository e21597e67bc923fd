// Global functions: verified once on their own from their BTF prototype; static ones in their
// caller's context. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

__noinline int global_add(int a, int b)
{
	return a + b;
}

__noinline int global_read(int *p)
{
	if (!p)
		return -1;
	return *p;
}

__noinline int global_read_unchecked(int *p)
{
	return *p;
}

static __noinline int static_read(int *p)
{
	return *p;
}

__noinline int global_ctx_len(struct __sk_buff *skb)
{
	return skb->len;
}

SEC("syscall")
__description("a global function of scalars")
__success __retval(5) __log_level(2) __kfvm_whole_log
__msg("Func#1 ('global_add') is global and assumed valid.")
int call_global_scalars(void *ctx)
{
	return global_add(2, 3);
}

SEC("syscall")
__description("a global function checks its maybe-NULL pointer argument")
__success __retval(7)
int call_global_ptr(void *ctx)
{
	int x = 7;

	return global_read(&x);
}

SEC("syscall")
__description("a global function dereferencing its argument without a NULL check")
__failure __msg("invalid mem access 'mem_or_null'")
int call_global_ptr_unchecked(void *ctx)
{
	int x = 7;

	return global_read_unchecked(&x);
}

SEC("syscall")
__description("a static function is verified with its caller's arguments")
__success __retval(9)
int call_static_ptr(void *ctx)
{
	int x = 9;

	return static_read(&x);
}

SEC("tc")
__description("a global function taking the context")
__success
int call_global_ctx(struct __sk_buff *skb)
{
	return global_ctx_len(skb) > 0;
}
