// Ring buffer reserve/submit/discard: the reservation is a reference every path must release.
// Rebuild: ./build.sh
#include "vmlinux.h"
#include "kfvm_uapi.h"
#include <bpf/bpf_helpers.h>
#include "kfvm_misc.h"

char _license[] SEC("license") = "GPL";

struct event {
	u32 pid;
	u32 cpu;
	u64 ts;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

SEC("syscall")
__description("reserve, fill, submit")
__success __retval(0)
int reserve_submit(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (!e)
		return 1;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->cpu = bpf_get_smp_processor_id();
	e->ts = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("syscall")
__description("reserve, then discard on one path and submit on the other")
__success
int reserve_discard_or_submit(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (!e)
		return 0;
	e->ts = bpf_ktime_get_ns();
	if (e->ts & 1)
		bpf_ringbuf_discard(e, 0);
	else
		bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("syscall")
__description("a reservation leaked on one path")
__failure __msg("Unreleased reference id=2 alloc_insn=")
__msg("BPF_EXIT instruction in main prog would lead to reference leak")
int reserve_leak(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (!e)
		return 0;
	e->ts = bpf_ktime_get_ns();
	if (e->ts & 1)
		return 1;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("syscall")
__description("the reservation may be NULL")
__failure __msg("invalid mem access 'ringbuf_mem_or_null'")
int reserve_unchecked(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	e->ts = 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("syscall")
__description("a write past the reserved size")
__failure __msg("invalid access to memory, mem_size=16 off=16 size=8")
int reserve_write_past(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (!e)
		return 0;
	*(u64 *)((void *)e + 16) = 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("syscall")
__description("submitting twice")
__failure __msg("R1 type=scalar expected=ringbuf_mem")
int submit_twice(void *ctx)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (!e)
		return 0;
	bpf_ringbuf_submit(e, 0);
	bpf_ringbuf_submit(e, 0);
	return 0;
}
