// Calls the example host's own kfunc. Compiled against the host's header, which
// `cargo run -p kfvm --example host_kfunc -- header` writes (see build.sh).
#include "host_kfunc.h"

#define SEC(name) __attribute__((section(name), used))

char LICENSE[] SEC("license") = "GPL";

SEC("syscall")
int add(void *ctx)
{
	return host_add_u64(40, 2);
}
