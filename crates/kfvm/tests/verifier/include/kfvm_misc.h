/* SPDX-License-Identifier: MIT */
/* Selftest-style annotations for kfvm's C verifier corpus (crates/kfvm/tests/verifier).
 *
 * Each annotation is a BTF decl tag "comment:..." on the program's FUNC, encoded exactly as
 * Linux 6.18's tools/testing/selftests/bpf/progs/bpf_misc.h encodes it, so the kernel's test
 * loader, ../shared/tools/kernel_verdicts.c and kfvm's harness (tests/verifier_progs.rs) read the
 * same expectations:
 *
 *   __success              the verifier accepts the program
 *   __failure              the verifier rejects it
 *   __msg("text")          the log contains "text" (several: in this order, each after the last)
 *   __not_msg("text")      the log does not contain "text" between the neighbouring __msg
 *   __retval(N)            run (BPF_PROG_TEST_RUN), the program returns N
 *   __log_level(N)         verify with this log level (default 0; a rejection is verified again
 *                          at level 1 for its log, as libbpf does)
 *   __flag(FLAG)           add FLAG to prog_flags (BPF_F_TEST_STATE_FREQ, ...)
 *   __description("text")  what the test is about
 *
 * kfvm's own tags, which the kernel's loader ignores:
 *
 *   __kfvm_todo("why")     kfvm cannot decide this program yet: its kfvm trial expects
 *                          VerifyError::Unsupported and fails once kfvm decides (then remove the
 *                          tag). The kernel trial still checks the other annotations.
 *   __kfvm_msg("text")     a line only kfvm's log has (a `hint:` after the kernel's message),
 *                          checked in order with the __msg lines of the kfvm trial only.
 *   __kfvm_only("why")     the kernel cannot load this program (a kfunc only kfvm's model has,
 *                          such as a KF_DEPRECATED one): its kernel trial is skipped, saying why.
 *   __kfvm_run_arg("spec") an argument for the run trial of a tracing program (`task:PID`,
 *                          `cgroup:ID`, an integer), in order; without them a tracing program
 *                          gets task:100, cgroup:40 and 0 (tests/verifier/model.toml); for a
 *                          syscall program, the integers are its context, 8 bytes each.
 *   __kfvm_whole_log       compare kfvm's whole log (at __log_level) with the kernel's, kept in
 *                          FILE/PROG.log next to the object (BLESS=1 rewrites it from the kernel).
 */
#ifndef __KFVM_MISC_H__
#define __KFVM_MISC_H__

#ifndef XSTR
#define XSTR(s) STR(s)
#define STR(s) #s
#endif

#define __msg(msg)		__attribute__((btf_decl_tag("comment:test_expect_msg=" XSTR(__COUNTER__) "=" msg)))
#define __not_msg(msg)		__attribute__((btf_decl_tag("comment:test_expect_not_msg=" XSTR(__COUNTER__) "=" msg)))
#define __failure		__attribute__((btf_decl_tag("comment:test_expect_failure")))
#define __success		__attribute__((btf_decl_tag("comment:test_expect_success")))
#define __description(desc)	__attribute__((btf_decl_tag("comment:test_description=" desc)))
#define __retval(val)		__attribute__((btf_decl_tag("comment:test_retval=" XSTR(val))))
#define __log_level(lvl)	__attribute__((btf_decl_tag("comment:test_log_level=" #lvl)))
#define __flag(flag)		__attribute__((btf_decl_tag("comment:test_prog_flags=" #flag)))
#define __auxiliary		__attribute__((btf_decl_tag("comment:test_auxiliary")))

#define __kfvm_todo(why)	__attribute__((btf_decl_tag("comment:kfvm_todo=" why)))
#define __kfvm_msg(msg)		__attribute__((btf_decl_tag("comment:kfvm_expect_msg=" XSTR(__COUNTER__) "=" msg)))
#define __kfvm_only(why)	__attribute__((btf_decl_tag("comment:kfvm_only=" why)))
#define __kfvm_run_arg(arg)	__attribute__((btf_decl_tag("comment:kfvm_run_arg=" XSTR(__COUNTER__) "=" arg)))
#define __kfvm_whole_log	__attribute__((btf_decl_tag("comment:kfvm_whole_log")))

/* Global function argument tags (bpf_helpers.h has them from libbpf 1.4). */
#ifndef __arg_ctx
#define __arg_ctx		__attribute__((btf_decl_tag("arg:ctx")))
#define __arg_nonnull		__attribute__((btf_decl_tag("arg:nonnull")))
#define __arg_nullable		__attribute__((btf_decl_tag("arg:nullable")))
#define __arg_trusted		__attribute__((btf_decl_tag("arg:trusted")))
#define __arg_untrusted		__attribute__((btf_decl_tag("arg:untrusted")))
#define __arg_arena		__attribute__((btf_decl_tag("arg:arena")))
#endif

#ifndef __kptr_untrusted
#define __kptr_untrusted	__attribute__((btf_type_tag("kptr_untrusted")))
#endif
#ifndef __percpu_kptr
#define __percpu_kptr		__attribute__((btf_type_tag("percpu_kptr")))
#endif

#ifndef __noinline
#define __noinline		__attribute__((noinline))
#endif
#ifndef __naked
#define __naked			__attribute__((naked))
#endif

#endif /* __KFVM_MISC_H__ */
