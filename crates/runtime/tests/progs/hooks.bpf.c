// Every kind of hook the model has, and the maps programs use most (tests/hooks.rs): raw
// tracepoints (typed by the model, and one an event names), a kprobe, fentry, a ring buffer,
// global data, bpf_loop. Rebuild: ./build.sh.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char _license[] SEC("license") = "GPL";

struct switch_event {
	s32 prev, next;
	u32 cpu;
	char next_comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

u64 forks, custom_sum;
const volatile u64 scale = 3;

SEC("raw_tp/task_newtask")
int BPF_PROG(raw_newtask, struct task_struct *task, u64 clone_flags)
{
	bpf_printk("raw_tp task_newtask: pid %d, clone_flags %llx", BPF_CORE_READ(task, pid), clone_flags);
	__sync_fetch_and_add(&forks, 1);
	return 0;
}

SEC("kprobe/wake_up_new_task")
int BPF_KPROBE(kprobe_wake, struct task_struct *p)
{
	char comm[16];

	BPF_CORE_READ_STR_INTO(&comm, p, comm);
	bpf_printk("kprobe wake_up_new_task: %s, by %d", comm, bpf_get_current_pid_tgid() >> 32);
	return 0;
}

SEC("fentry/do_exit")
int BPF_PROG(fentry_exit, long code)
{
	char comm[16];

	bpf_get_current_comm(comm, sizeof(comm));
	bpf_printk("fentry do_exit(%ld) in %s on CPU %u", code, comm, bpf_get_smp_processor_id());
	return 0;
}

static int add(u32 i, u64 *acc)
{
	*acc += i * scale;
	return 0;
}

SEC("raw_tp/my_event")
int BPF_PROG(custom, u64 a, u64 b)
{
	u64 acc = 0;

	bpf_loop(a, add, &acc, 0);
	custom_sum += acc + b;
	bpf_printk("my_event(%llu, %llu): %llu", a, b, acc + b);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(switch_to_ringbuf, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	struct switch_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return 0;
	e->prev = prev->pid;
	e->next = next->pid;
	e->cpu = bpf_get_smp_processor_id();
	__builtin_memcpy(e->next_comm, next->comm, sizeof(e->next_comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
