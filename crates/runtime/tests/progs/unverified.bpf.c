// Programs the verifier refuses, run in checked mode (`kfvm run --checked`, LoadOptions::no_verify)
// by tests/bad_input.rs to show what checked runs make safe. Rebuild: ./build.sh.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char _license[] SEC("license") = "GPL";

/* Reads an int at the address the context gives: through a live object it reads the object;
 * anywhere else (a freed object, host memory the run was not given) it reads 0, as a faulting
 * BPF_PROBE_MEM load does. The verifier refuses a load through a scalar ("R1 invalid mem access
 * 'scalar'"); a checked run makes it safe all the same. */
SEC("syscall")
int peek(u64 *ctx)
{
	return *(int *)ctx[0];
}

/* A store through a scalar: refused by the verifier, a fault in a checked run. */
SEC("syscall")
int poke(u64 *ctx)
{
	*(int *)ctx[0] = 1;
	return 0;
}
