// bpf_cast_to_kern_ctx: a socket-buffer program's __sk_buff context as the kernel's struct
// sk_buff, a trusted BTF pointer the program reads through. Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

SEC("tc")
__description("the kernel sk_buff's fields are readable")
__success
int kern_ctx_read(struct __sk_buff *skb)
{
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);

	return kskb->len + kskb->mark + kskb->protocol > 0;
}

SEC("tc")
__description("the cast gives a trusted, non-NULL sk_buff pointer")
__success __log_level(2)
__msg("R0=trusted_ptr_sk_buff()")
int kern_ctx_trusted(struct __sk_buff *skb)
{
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);

	return kskb->hash;
}

SEC("tc")
__description("the kernel sk_buff is not writable")
__failure __msg("only read is supported")
int kern_ctx_write(struct __sk_buff *skb)
{
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);

	kskb->mark = 1;
	return 0;
}

SEC("tc")
__description("reads stay inside the struct")
__failure __msg("access beyond struct sk_buff at off 4096 size 4")
int kern_ctx_oob(struct __sk_buff *skb)
{
	struct sk_buff *kskb = bpf_cast_to_kern_ctx(skb);

	return *(u32 *)((void *)kskb + 4096);
}
