//! The log's text of states and instructions (kernel/bpf/log.c): `reg_type_str()`,
//! `print_reg_state()`, `print_verifier_state()`, `print_insn_state()` and `verbose_insn()`.

use crate::env::Env;
use crate::scalar::{print_scalar_ranges, print_scalar_reg};
use crate::state::*;
use crate::verbose;
use kfvm_isa::RawInsn;
use std::fmt::Write as _;

/// `BPF_LOG_MIN_ALIGNMENT`.
const BPF_LOG_MIN_ALIGNMENT: usize = 8;
/// `BPF_LOG_ALIGNMENT`.
const BPF_LOG_ALIGNMENT: usize = 40;

/// Mirrors `reg_type_str()` (without the BTF type name of `PTR_TO_BTF_ID`, which the caller
/// appends).
pub fn reg_type_str(t: u32) -> String {
    let base = match base_type(t) {
        NOT_INIT => "?",
        SCALAR_VALUE => "scalar",
        PTR_TO_CTX => "ctx",
        CONST_PTR_TO_MAP => "map_ptr",
        PTR_TO_MAP_VALUE => "map_value",
        PTR_TO_STACK => "fp",
        PTR_TO_PACKET => "pkt",
        PTR_TO_PACKET_META => "pkt_meta",
        PTR_TO_PACKET_END => "pkt_end",
        PTR_TO_FLOW_KEYS => "flow_keys",
        PTR_TO_SOCKET => "sock",
        PTR_TO_SOCK_COMMON => "sock_common",
        PTR_TO_TCP_SOCK => "tcp_sock",
        PTR_TO_TP_BUFFER => "tp_buffer",
        PTR_TO_XDP_SOCK => "xdp_sock",
        PTR_TO_BTF_ID => "ptr_",
        PTR_TO_MEM => "mem",
        PTR_TO_ARENA => "arena",
        PTR_TO_BUF => "buf",
        PTR_TO_FUNC => "func",
        PTR_TO_INSN => "insn",
        PTR_TO_MAP_KEY => "map_key",
        CONST_PTR_TO_DYNPTR => "dynptr_ptr",
        _ => "",
    };
    let postfix = if t & PTR_MAYBE_NULL != 0 {
        if base_type(t) == PTR_TO_BTF_ID {
            "or_null_"
        } else {
            "_or_null"
        }
    } else {
        ""
    };
    let mut s = String::new();
    for (flag, name) in [
        (MEM_RDONLY, "rdonly_"),
        (MEM_RINGBUF, "ringbuf_"),
        (MEM_USER, "user_"),
        (MEM_PERCPU, "percpu_"),
        (MEM_RCU, "rcu_"),
        (PTR_UNTRUSTED, "untrusted_"),
        (PTR_TRUSTED, "trusted_"),
    ] {
        if t & flag != 0 {
            s.push_str(name);
        }
    }
    s.push_str(base);
    s.push_str(postfix);
    s
}

/// Mirrors `tnum_strn()`: a known value as a number, else `(value; mask)`.
pub fn tnum_strn(t: crate::tnum::Tnum) -> String {
    if t.mask == 0 {
        if t.value <= u16::MAX as u64 {
            return t.value.to_string();
        }
        let v = t.value as i64;
        if (i16::MIN as i64..=i16::MAX as i64).contains(&v) {
            return v.to_string();
        }
        return format!("{:#x}", t.value);
    }
    format!("({:#x}; {:#x})", t.value, t.mask)
}

fn verbose_snum(out: &mut String, num: i64) {
    if (i16::MIN as i64..=i16::MAX as i64).contains(&num) {
        let _ = write!(out, "{num}");
    } else {
        let _ = write!(out, "{:#x}", num as u64);
    }
}

fn verbose_unum(out: &mut String, num: u64) {
    if num <= u16::MAX as u64 {
        let _ = write!(out, "{num}");
    } else {
        let _ = write!(out, "{num:#x}");
    }
}

impl Env<'_> {
    /// `reg_type_str()` with the BTF type name for `PTR_TO_BTF_ID` (as the messages print it).
    pub fn reg_type_name(&self, reg: &RegState) -> String {
        let mut s = reg_type_str(reg.ty);
        if base_type(reg.ty) == PTR_TO_BTF_ID {
            s.push_str(&self.btf_type_name(reg.btf, reg.btf_id));
        }
        s
    }

    /// `btf_type_name()`.
    pub fn btf_type_name(&self, btf: u32, btf_id: u32) -> String {
        if let Some(b) = self.btf {
            return b.type_name(btf, btf_id);
        }
        match self.btf_obj(btf).and_then(|b| b.get(btf_id)) {
            Some(t) => t.name().to_string(),
            None => format!("btf{btf}_{btf_id}"),
        }
    }

    /// Mirrors `print_reg_state()`.
    pub fn fmt_reg_state(&self, out: &mut String, frameno: u32, reg: &RegState) {
        let t = reg.ty;
        if t == SCALAR_VALUE {
            let (id, add) = if reg.id & BPF_ADD_CONST != 0 {
                (reg.id & !BPF_ADD_CONST, Some(reg.off))
            } else {
                (reg.id, None)
            };
            print_scalar_reg(out, &reg.s, id, add, reg.precise);
            return;
        }
        out.push_str(&reg_type_str(t));
        if t == PTR_TO_ARENA {
            return;
        }
        if t == PTR_TO_STACK {
            if frameno != reg.frameno {
                let _ = write!(out, "[{}]", reg.frameno);
            }
            if reg.s.var_off.is_const() {
                verbose_snum(out, reg.s.var_off.value.wrapping_add(reg.off as i64 as u64) as i64);
                return;
            }
        }
        if base_type(t) == PTR_TO_BTF_ID {
            out.push_str(&self.btf_type_name(reg.btf, reg.btf_id));
        }
        out.push('(');
        let mut sep: &'static str = "";
        let a = |out: &mut String, sep: &mut &'static str, s: &str| {
            out.push_str(sep);
            out.push_str(s);
            *sep = ",";
        };
        if reg.id != 0 {
            a(out, &mut sep, &format!("id={}", reg.id & !BPF_ADD_CONST));
        }
        if reg.id & BPF_ADD_CONST != 0 {
            let _ = write!(out, "{:+}", reg.off);
        }
        if reg.ref_obj_id != 0 {
            a(out, &mut sep, &format!("ref_obj_id={}", reg.ref_obj_id));
        }
        if type_is_non_owning_ref(t) {
            a(out, &mut sep, "non_own_ref");
        }
        if matches!(base_type(t), CONST_PTR_TO_MAP | PTR_TO_MAP_KEY | PTR_TO_MAP_VALUE) && reg.map != 0 {
            let m = self.map(reg.map);
            if !m.name.is_empty() {
                a(out, &mut sep, &format!("map={}", m.name));
            }
            a(out, &mut sep, &format!("ks={},vs={}", m.key_size, m.value_size));
        }
        if reg.off != 0 {
            a(out, &mut sep, "off=");
            verbose_snum(out, reg.off as i64);
        }
        if type_is_pkt_pointer(t) {
            a(out, &mut sep, "r=");
            verbose_unum(out, reg.range as i64 as u64);
        }
        if base_type(t) == PTR_TO_MEM {
            a(out, &mut sep, "sz=");
            verbose_unum(out, reg.mem_size as u64);
        }
        if t == CONST_PTR_TO_DYNPTR {
            a(out, &mut sep, &format!("type={}", reg.dynptr_type.as_str()));
        }
        if reg.s.var_off.is_const() {
            if reg.s.var_off.value != 0 {
                a(out, &mut sep, "imm=");
                verbose_snum(out, reg.s.var_off.value as i64);
            }
        } else {
            print_scalar_ranges(out, &reg.s, &mut sep);
            if !reg.s.var_off.is_unknown() {
                a(out, &mut sep, &format!("var_off={}", reg.s.var_off));
            }
        }
        out.push(')');
    }

    /// Mirrors `print_verifier_state()` for frame `frameno` of `vstate`.
    pub fn fmt_verifier_state(&self, vstate: &VerifierState, frameno: usize, print_all: bool) -> String {
        let mut out = String::new();
        let state = &vstate.frame[frameno];
        if state.frameno != 0 {
            let _ = write!(out, " frame{}:", state.frameno);
        }
        for (i, reg) in state.regs.iter().enumerate() {
            if reg.ty == NOT_INIT {
                continue;
            }
            if !print_all && self.scratched_regs & (1 << i) == 0 {
                continue;
            }
            let _ = write!(out, " R{i}=");
            self.fmt_reg_state(&mut out, state.frameno, reg);
        }
        let nslots = state.stack.len();
        let mut i = 0;
        while i < nslots {
            if !print_all && (i >= 64 || self.scratched_stack_slots & (1 << i) == 0) {
                i += 1;
                continue;
            }
            let st = &state.stack[i];
            let valid = st.slot_type.iter().any(|&t| t != slot::INVALID);
            if !valid {
                i += 1;
                continue;
            }
            let chars: Vec<u8> = st
                .slot_type
                .iter()
                .map(|&t| match t {
                    slot::INVALID => b'?',
                    slot::SPILL => b'r',
                    slot::MISC => b'm',
                    slot::ZERO => b'0',
                    slot::DYNPTR => b'd',
                    slot::ITER => b'i',
                    _ => b'f',
                })
                .collect();
            let off = -(i as i64 + 1) * BPF_REG_SIZE as i64;
            match st.slot_type[BPF_REG_SIZE - 1] {
                slot::SPILL => {
                    let j = st.slot_type.iter().position(|&t| t == slot::SPILL).unwrap_or(BPF_REG_SIZE);
                    let _ = write!(out, " fp{off}={}", String::from_utf8_lossy(&chars[..j]));
                    self.fmt_reg_state(&mut out, state.frameno, &st.spilled_ptr);
                }
                slot::DYNPTR => {
                    // Skip to the main slot of the dynptr.
                    i += 1;
                    let Some(st) = state.stack.get(i) else { break };
                    let reg = &st.spilled_ptr;
                    let off = -(i as i64 + 1) * BPF_REG_SIZE as i64;
                    let _ = write!(out, " fp{off}=dynptr_{}(", reg.dynptr_type.as_str());
                    let mut sep = "";
                    if reg.id != 0 {
                        let _ = write!(out, "{sep}id={}", reg.id);
                        sep = ",";
                    }
                    if reg.ref_obj_id != 0 {
                        let _ = write!(out, "{sep}ref_id={}", reg.ref_obj_id);
                        sep = ",";
                    }
                    // In the kernel's union `dynptr_id` shares its bytes with `dynptr.first_slot`:
                    // the main slot prints `dynptr_id=1`.
                    let dynptr_id = reg.dynptr_id | reg.dynptr_first_slot as u32;
                    if dynptr_id != 0 {
                        let _ = write!(out, "{sep}dynptr_id={dynptr_id}");
                    }
                    out.push(')');
                }
                slot::ITER => {
                    let reg = &st.spilled_ptr;
                    if reg.ref_obj_id != 0 {
                        let name = self.btf_type_name(reg.btf, reg.btf_id);
                        let name = name.strip_prefix("bpf_iter_").unwrap_or(&name).to_string();
                        let state_s = match reg.iter_state {
                            IterState::Active => "active",
                            IterState::Drained => "drained",
                            IterState::Invalid => "<invalid>",
                        };
                        let _ = write!(
                            out,
                            " fp{off}=iter_{name}(ref_id={},state={state_s},depth={})",
                            reg.ref_obj_id, reg.iter_depth as u32
                        );
                    }
                }
                _ => {
                    let _ = write!(out, " fp{off}={}", String::from_utf8_lossy(&chars));
                }
            }
            i += 1;
        }
        if !vstate.refs.is_empty() && vstate.refs[0].id != 0 {
            let _ = write!(out, " refs={}", vstate.refs[0].id);
            for r in &vstate.refs[1..] {
                if r.id != 0 {
                    let _ = write!(out, ",{}", r.id);
                }
            }
        }
        if state.in_callback_fn {
            out.push_str(" cb");
        }
        if state.in_async_callback_fn {
            out.push_str(" async_cb");
        }
        out.push('\n');
        out
    }

    /// Mirrors `print_verifier_state()`: logs the state and, unless `print_all`, marks it clean.
    pub fn print_verifier_state(&mut self, vstate: Option<&VerifierState>, frameno: usize, print_all: bool) {
        if self.log.needed() {
            let s = match vstate {
                Some(v) => self.fmt_verifier_state(v, frameno, print_all),
                None => self.fmt_verifier_state(&self.cur, frameno, print_all),
            };
            self.log.push_str(&s);
        }
        if !print_all {
            self.mark_verifier_state_clean();
        }
    }

    /// Mirrors `print_insn_state()`: the registers an instruction changed, on its line after `;`
    /// when nothing else was logged since the instruction, else on a line of their own.
    pub fn print_insn_state(&mut self, frameno: usize) {
        if self.prev_log_pos != 0 && self.prev_log_pos == self.log.end_pos() {
            self.log.reset(self.prev_log_pos - 1);
            let pos = self.prev_insn_print_pos;
            let width = (pos + BPF_LOG_MIN_ALIGNMENT / 2)
                .max(BPF_LOG_ALIGNMENT)
                .next_multiple_of(BPF_LOG_MIN_ALIGNMENT)
                - pos
                - 1;
            verbose!(self.log, "{:>width$};", ' ');
        } else {
            verbose!(self.log, "{}:", self.insn_idx);
        }
        self.print_verifier_state(None, frameno, false);
    }

    /// Mirrors `verbose_insn()`: the instruction's text and a newline.
    pub fn verbose_insn(&mut self, idx: usize) {
        if !self.log.needed() {
            return;
        }
        let s = match &self.opts.kernel_btf {
            Some(btf) => insn_text_with(&self.insns, idx, self.allow_ptr_leaks, &KernelKfuncNames(btf)),
            None => insn_text(&self.insns, idx, self.allow_ptr_leaks),
        };
        self.log.push_str(&s);
        self.log.push_str("\n");
    }
}

/// The kernel's text of instruction `idx` with its opcode (`(b7) r0 = 0`), as `print_bpf_insn()`
/// writes it; instructions kfvm cannot decode print as the kernel's `BUG_...` forms.
pub fn insn_text(insns: &[RawInsn], idx: usize, allow_ptr_leaks: bool) -> String {
    insn_text_with(insns, idx, allow_ptr_leaks, &kfvm_isa::disasm::NoSymbols)
}

/// [`insn_text`] with kfunc names from `syms` (the verifier's `disasm_kfunc_name`).
pub fn insn_text_with(
    insns: &[RawInsn],
    idx: usize,
    allow_ptr_leaks: bool,
    syms: &dyn kfvm_isa::disasm::Symbols,
) -> String {
    let opts = kfvm_isa::disasm::Options { opcode_prefix: true, allow_ptr_leaks, lossless: false };
    match kfvm_isa::decode(insns, idx) {
        Ok(insn) => kfvm_isa::disasm::insn_to_string(&insn, syms, opts),
        Err(_) => raw_text(insns[idx]),
    }
}

/// Mirrors `disasm_kfunc_name()`: a kfunc's name from the kernel BTF.
struct KernelKfuncNames<'a>(&'a kfvm_btf::Btf);

impl kfvm_isa::disasm::Symbols for KernelKfuncNames<'_> {
    fn call_name(&self, call: kfvm_isa::CallKind) -> Option<std::borrow::Cow<'_, str>> {
        match call {
            kfvm_isa::CallKind::Kfunc { btf_id, btf_off: 0 } if btf_id > 0 => self
                .0
                .get(btf_id as u32)
                .filter(|f| f.kind() == kfvm_btf::Kind::Func)
                .map(|f| std::borrow::Cow::Borrowed(f.name())),
            _ => None,
        }
    }
}

/// Text of an instruction with reserved fields set: the kernel prints it ignoring them.
fn raw_text(r: RawInsn) -> String {
    let cls = r.code & 7;
    if (cls == 4 || cls == 7) && r.code & 0xf0 == 0xd0 {
        // print_bpf_end_insn / print_bpf_bswap_insn, whatever the width.
        let name = if cls == 7 {
            "bswap"
        } else if r.code & 0x08 != 0 {
            "be"
        } else {
            "le"
        };
        return format!("({:02x}) r{} = {name}{} r{}", r.code, r.dst(), r.imm, r.dst());
    }
    if cls == 3 && r.code & 0xe0 == 0xc0 {
        return raw_atomic_text(r);
    }
    // Try clearing the reserved fields, one at a time, then in pairs.
    let clears: [u8; 10] = [1, 2, 4, 8, 3, 5, 6, 9, 10, 15];
    for mask in clears {
        let mut probe = r;
        if mask & 1 != 0 {
            probe.off = 0;
        }
        if mask & 2 != 0 {
            probe.imm = 0;
        }
        if mask & 4 != 0 {
            probe.regs &= 0x0f;
        }
        if mask & 8 != 0 {
            probe.regs &= 0xf0;
        }
        if let Ok(insn) = kfvm_isa::decode(&[probe, RawInsn::default()], 0) {
            let mut s = kfvm_isa::disasm::insn_to_string(
                &insn,
                &kfvm_isa::disasm::NoSymbols,
                kfvm_isa::disasm::Options::LOG,
            );
            // The kernel prints the real fields where the text shows them.
            if let Some(rest) = s.strip_prefix(&format!("({:02x})", probe.code)) {
                s = format!("({:02x}){rest}", r.code);
            }
            return s;
        }
    }
    format!("({:02x}) BUG_{:02x}", r.code, r.code)
}

/// `print_bpf_insn()`'s `BPF_STX | BPF_ATOMIC` branch for any size and imm (sizes and
/// operations the verifier later rejects still print their generic text).
fn raw_atomic_text(r: RawInsn) -> String {
    const LDST: [&str; 4] = ["u32", "u16", "u8", "u64"];
    let size = LDST[((r.code >> 3) & 3) as usize];
    let w = if r.code & 0x18 == 0x18 { "64" } else { "" };
    let (code, dst, src, off) = (r.code, r.dst(), r.src(), r.off);
    let alu = |op: i32| match op {
        0x00 => Some(("+=", "add")),
        0x50 => Some(("&=", "and")),
        0x40 => Some(("|=", "or")),
        0xa0 => Some(("^=", "xor")),
        _ => None,
    };
    match r.imm {
        0x00 | 0x50 | 0x40 | 0xa0 => {
            let (op, _) = alu(r.imm).unwrap_or(("", ""));
            format!("({code:02x}) lock *({size} *)(r{dst} {off:+}) {op} r{src}")
        }
        0x01 | 0x51 | 0x41 | 0xa1 => {
            let (_, name) = alu(r.imm & !1).unwrap_or(("", ""));
            format!("({code:02x}) r{src} = atomic{w}_fetch_{name}(({size} *)(r{dst} {off:+}), r{src})")
        }
        0xf1 => format!("({code:02x}) r0 = atomic{w}_cmpxchg(({size} *)(r{dst} {off:+}), r0, r{src})"),
        0xe1 => format!("({code:02x}) r{src} = atomic{w}_xchg(({size} *)(r{dst} {off:+}), r{src})"),
        0x100 => format!("({code:02x}) r{dst} = load_acquire(({size} *)(r{src} {off:+}))"),
        0x110 => format!("({code:02x}) store_release(({size} *)(r{dst} {off:+}), r{src})"),
        _ => format!("BUG_{code:02x}"),
    }
}
