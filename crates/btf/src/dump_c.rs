//! BTF to C: the `vmlinux.h` that `bpftool btf dump file F format c` prints.
//!
//! This follows libbpf's `btf_dump.c` algorithm (our own code): a topological ordering of type
//! definitions that tells "strong" dependencies (a struct embedded by value must be defined
//! first) from "weak" ones (through a pointer, a forward declaration is enough); anonymous types
//! defined inline; duplicate names renamed `name___2`; struct padding made explicit with
//! `long: 64;`-style anonymous bitfields; `__attribute__((packed))` when the layout shows it.

use crate::{Btf, BtfError, Kind, Type};
use std::collections::HashMap;
use std::fmt::Write;

/// Options of [`dump_c`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct CDumpOptions {
    /// Also print `extern <prototype> __weak __ksym;` for every FUNC carrying decl tag
    /// `bpf_kfunc` (sorted by name, `__bpf_fastcall` for those also tagged `bpf_fastcall`), with
    /// the `__ksym` / `__weak` / `__bpf_fastcall` definitions they need at the top, as bpftool
    /// 7.5 and later do.
    pub kfuncs: bool,
    /// Declare enums of unusual sizes as libbpf 1.2 and later do: `__attribute__((mode(byte)))`
    /// for 1-byte enums, `__attribute__((mode(word)))` for 8-byte ones whose values fit in 32
    /// bits. Off by default, as bpftool 7.1 (this project's reference) prints none.
    pub enum_mode_attrs: bool,
    /// Emit types in bpftool 7.5+'s default order (`format c` without `unsorted`): by kind rank
    /// (enums, then base types, structs, function prototypes, the rest), then name, then a hash
    /// of the type's shape, instead of id order. Like bpftool, the first type of that order is
    /// never passed to the dumper itself (bpftool's loop starts at index 1 of the sorted array),
    /// so if it is a top-level anonymous enum its constants are missing from the output.
    pub sorted: bool,
}

impl CDumpOptions {
    /// What `bpftool btf dump file F format c` prints with bpftool 7.5 and later (checked
    /// against bpftool 7.8.0 / libbpf 1.8): kfunc prototypes, enum mode attributes, sorted.
    /// `Default` is bpftool 7.1 (libbpf 1.1), the bpftool installed with this project.
    pub fn bpftool_latest() -> Self {
        CDumpOptions { kfuncs: true, enum_mode_attrs: true, sorted: true }
    }
}

const ORDERING: u8 = 1;
const ORDERED: u8 = 2;
const NOT_EMITTED: u8 = 0;
const EMITTING: u8 = 1;
const EMITTED: u8 = 2;

/// Largest padding gap printed, in bits (vmlinux's largest is 32704: page-aligned members).
const MAX_PADDING_BITS: i64 = 1 << 20;

/// Recursion limit of the dumper (nested anonymous types, chains of modifiers).
const MAX_DEPTH: usize = crate::query::MAX_NESTING;

/// Per-type state; `order` and `emit` start at 0 (not ordered, not emitted).
#[derive(Clone, Copy, Default)]
struct TState {
    order: u8,
    emit: u8,
    fwd_emitted: bool,
    name_resolved: bool,
    referenced: bool,
}

struct Dumper<'a> {
    btf: &'a Btf,
    out: String,
    ptr_sz: u32,
    strip_mods: bool,
    opts: CDumpOptions,
    st: Vec<TState>,
    cached_names: HashMap<u32, String>,
    emit_queue: Vec<u32>,
    decl_stack: Vec<u32>,
    type_names: HashMap<String, usize>,
    ident_names: HashMap<String, usize>,
    align_cache: Vec<u32>,
    /// Anonymous structs/unions being written inline, innermost last.
    inline_stack: Vec<u32>,
    out_limit: usize,
    depth: usize,
    error: Option<BtfError>,
}

fn pfx(lvl: usize) -> &'static str {
    const TABS: &str = "\t\t\t\t\t\t\t\t\t\t\t\t\t";
    &TABS[..lvl.min(TABS.len())]
}

fn roundup(x: i64, y: i64) -> i64 {
    if y == 0 {
        return x;
    }
    x.div_euclid(y) * y + if x.rem_euclid(y) != 0 { y } else { 0 }
}

/// Dumps `btf` (base and split parts alike: every type id) as a C header, the way
/// `bpftool btf dump file F format c` does.
pub fn dump_c(btf: &Btf, opts: &CDumpOptions) -> Result<String, BtfError> {
    let mut d = Dumper::new(btf, *opts);
    d.out.push_str("#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n");
    d.out.push_str("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n");
    d.out.push_str(
        "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n",
    );
    d.out.push_str("#endif\n\n");
    if opts.kfuncs {
        d.out.push_str(concat!(
            "#ifndef __ksym\n",
            "#define __ksym __attribute__((section(\".ksyms\")))\n",
            "#endif\n\n",
            "#ifndef __weak\n",
            "#define __weak __attribute__((weak))\n",
            "#endif\n\n",
            "#ifndef __bpf_fastcall\n",
            "#if __has_attribute(bpf_fastcall)\n",
            "#define __bpf_fastcall __attribute__((bpf_fastcall))\n",
            "#else\n",
            "#define __bpf_fastcall\n",
            "#endif\n",
            "#endif\n\n",
        ));
    }
    if opts.sorted {
        let order = sort_order(btf);
        for &id in order.iter().skip(1) {
            d.dump_type(id)?;
        }
    } else {
        for id in 1..btf.type_count() {
            d.dump_type(id)?;
        }
    }
    if opts.kfuncs {
        d.dump_kfuncs();
    }
    if let Some(e) = d.error.take() {
        return Err(e);
    }
    d.out.push_str("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n");
    d.out.push_str("#pragma clang attribute pop\n");
    d.out.push_str("#endif\n\n");
    d.out.push_str("#endif /* __VMLINUX_H__ */\n");
    Ok(d.out)
}

/// The C declaration of type `id` with identifier `name` (empty for an abstract declarator):
/// `c_decl(btf, id_of_char_ptr_array, "argv")` is `char *argv[4]`. Anonymous structs, unions
/// and enums are written out inline, as in a struct member.
pub fn c_decl(btf: &Btf, id: u32, name: &str) -> Result<String, BtfError> {
    let mut d = Dumper::new(btf, CDumpOptions::default());
    btf.type_by_id(id)?;
    d.emit_type_decl(id, name, 0);
    match d.error.take() {
        Some(e) => Err(e),
        None => Ok(d.out),
    }
}

impl<'a> Dumper<'a> {
    fn new(btf: &'a Btf, opts: CDumpOptions) -> Self {
        let n = btf.type_count() as usize;
        let mut d = Dumper {
            btf,
            out: String::with_capacity(btf.raw_data().len()),
            ptr_sz: btf.ptr_size(),
            strip_mods: false,
            opts,
            st: vec![TState::default(); n],
            cached_names: HashMap::new(),
            emit_queue: Vec::new(),
            decl_stack: Vec::new(),
            type_names: HashMap::new(),
            ident_names: HashMap::new(),
            align_cache: vec![u32::MAX; n],
            inline_stack: Vec::new(),
            out_limit: (16 << 20) + 16 * btf.raw_data().len(),
            depth: 0,
            error: None,
        };
        d.st[0].order = ORDERED;
        d.st[0].emit = EMITTED;
        d.mark_referenced();
        d
    }

    fn ty(&self, id: u32) -> Type<'a> {
        self.btf.get(id).unwrap_or_else(|| self.btf.get(0).expect("void always exists"))
    }

    fn name_of(&self, off: u32) -> &'a str {
        self.btf.str_at(off).unwrap_or("")
    }

    fn enter(&mut self, id: u32) -> bool {
        if self.depth >= MAX_DEPTH {
            if self.error.is_none() {
                self.error = Some(BtfError::TooDeep { id, limit: MAX_DEPTH });
            }
            return false;
        }
        self.depth += 1;
        true
    }

    /// Types referenced from other types (`btf_dump_mark_referenced`): tells a top-level
    /// anonymous enum (a list of constants, printed on its own) from one embedded in a member.
    fn mark_referenced(&mut self) {
        let mark = |st: &mut Vec<TState>, id: u32| {
            if let Some(s) = st.get_mut(id as usize) {
                s.referenced = true;
            }
        };
        for t in self.btf.all_types() {
            match t.kind() {
                Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::Ptr
                | Kind::Typedef
                | Kind::Func
                | Kind::Var
                | Kind::DeclTag
                | Kind::TypeTag => mark(&mut self.st, t.size_or_type()),
                Kind::Array => {
                    let a = t.array().unwrap_or_default();
                    mark(&mut self.st, a.index_type);
                    mark(&mut self.st, a.elem_type);
                }
                Kind::Struct | Kind::Union => {
                    for m in t.members() {
                        mark(&mut self.st, m.type_id);
                    }
                }
                Kind::FuncProto => {
                    for p in t.params() {
                        mark(&mut self.st, p.type_id);
                    }
                }
                Kind::Datasec => {
                    for v in t.datasec_vars() {
                        mark(&mut self.st, v.type_id);
                    }
                }
                _ => {}
            }
        }
    }

    fn dump_type(&mut self, id: u32) -> Result<(), BtfError> {
        self.emit_queue.clear();
        self.order_type(id, false)?;
        let queue = std::mem::take(&mut self.emit_queue);
        for &q in &queue {
            self.emit_type(q, 0);
        }
        self.emit_queue = queue;
        Ok(())
    }

    /// `btf_dump_order_type`: queues the named definitions `id` needs, in dependency order.
    /// Returns whether `id` is a strong dependency (must be fully defined first).
    fn order_type(&mut self, id: u32, through_ptr: bool) -> Result<bool, BtfError> {
        if !self.enter(id) {
            return Err(self.error.clone().unwrap_or(BtfError::TooDeep { id, limit: MAX_DEPTH }));
        }
        let r = self.order_type_inner(id, through_ptr);
        self.depth -= 1;
        r
    }

    fn order_type_inner(&mut self, id: u32, through_ptr: bool) -> Result<bool, BtfError> {
        let idx = id as usize;
        if self.st[idx].order == ORDERED {
            return Ok(true);
        }
        let t = self.ty(id);
        if self.st[idx].order == ORDERING {
            if t.kind().is_composite() && through_ptr && !t.is_anon() {
                return Ok(false);
            }
            return Err(BtfError::DumpCycle { id });
        }
        match t.kind() {
            Kind::Int | Kind::Float => {
                self.st[idx].order = ORDERED;
                Ok(false)
            }
            Kind::Ptr => {
                let r = self.order_type(t.size_or_type(), true);
                self.st[idx].order = ORDERED;
                r
            }
            Kind::Array => self.order_type(t.array().unwrap_or_default().elem_type, false),
            Kind::Struct | Kind::Union => {
                if through_ptr && !t.is_anon() {
                    return Ok(false);
                }
                self.st[idx].order = ORDERING;
                for m in t.members() {
                    self.order_type(m.type_id, false)?;
                }
                if !t.is_anon() {
                    self.emit_queue.push(id);
                }
                self.st[idx].order = ORDERED;
                Ok(true)
            }
            Kind::Enum | Kind::Enum64 | Kind::Fwd => {
                if !t.is_anon() || !self.st[idx].referenced {
                    self.emit_queue.push(id);
                }
                self.st[idx].order = ORDERED;
                Ok(true)
            }
            Kind::Typedef => {
                let is_strong = self.order_type(t.size_or_type(), through_ptr)?;
                if through_ptr && !is_strong {
                    return Ok(false);
                }
                self.emit_queue.push(id);
                self.st[idx].order = ORDERED;
                Ok(true)
            }
            Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                self.order_type(t.size_or_type(), through_ptr)
            }
            Kind::FuncProto => {
                let mut is_strong = self.order_type(t.size_or_type(), through_ptr)?;
                for p in t.params() {
                    if self.order_type(p.type_id, through_ptr)? {
                        is_strong = true;
                    }
                }
                Ok(is_strong)
            }
            Kind::Func | Kind::Var | Kind::Datasec | Kind::DeclTag => {
                self.st[idx].order = ORDERED;
                Ok(false)
            }
            Kind::Void => Ok(true),
        }
    }

    fn is_blacklisted(&self, id: u32) -> bool {
        let t = self.ty(id);
        !t.is_anon() && t.name() == "__builtin_va_list"
    }

    /// `btf_dump_emit_type`: emits `id`'s definition (and forward declarations it needs);
    /// `cont_id` is the struct being defined around it (0 at top level).
    fn emit_type(&mut self, id: u32, cont_id: u32) {
        if !self.enter(id) {
            return;
        }
        self.emit_type_inner(id, cont_id);
        self.depth -= 1;
    }

    fn emit_type_inner(&mut self, id: u32, cont_id: u32) {
        let idx = id as usize;
        let top_level_def = cont_id == 0;
        if self.st[idx].emit == EMITTED {
            return;
        }
        let t = self.ty(id);
        let kind = t.kind();
        if self.st[idx].emit == EMITTING {
            if self.st[idx].fwd_emitted {
                return;
            }
            match kind {
                Kind::Struct | Kind::Union => {
                    if id == cont_id {
                        return;
                    }
                    if t.is_anon() {
                        // anonymous struct/union loop: libbpf warns and goes on
                        return;
                    }
                    self.emit_struct_fwd(id, &t);
                    self.out.push_str(";\n\n");
                    self.st[idx].fwd_emitted = true;
                }
                Kind::Typedef => {
                    if !self.is_blacklisted(id) {
                        self.emit_typedef_def(id, &t, 0);
                        self.out.push_str(";\n\n");
                    }
                    self.st[idx].fwd_emitted = true;
                }
                _ => {}
            }
            return;
        }
        match kind {
            Kind::Int => {
                self.emit_missing_aliases(id);
                self.st[idx].emit = EMITTED;
            }
            Kind::Enum | Kind::Enum64 => {
                if top_level_def {
                    self.emit_enum_def(id, &t, 0);
                    self.out.push_str(";\n\n");
                }
                self.st[idx].emit = EMITTED;
            }
            Kind::Ptr | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                self.emit_type(t.size_or_type(), cont_id);
            }
            Kind::Array => self.emit_type(t.array().unwrap_or_default().elem_type, cont_id),
            Kind::Fwd => {
                self.emit_fwd_def(id, &t);
                self.out.push_str(";\n\n");
                self.st[idx].emit = EMITTED;
            }
            Kind::Typedef => {
                self.st[idx].emit = EMITTING;
                self.emit_type(t.size_or_type(), id);
                if !self.st[idx].fwd_emitted && !self.is_blacklisted(id) {
                    self.emit_typedef_def(id, &t, 0);
                    self.out.push_str(";\n\n");
                }
                self.st[idx].emit = EMITTED;
            }
            Kind::Struct | Kind::Union => {
                self.st[idx].emit = EMITTING;
                if top_level_def || t.is_anon() {
                    let new_cont = if t.is_anon() { cont_id } else { id };
                    for m in t.members() {
                        self.emit_type(m.type_id, new_cont);
                    }
                } else if !self.st[idx].fwd_emitted && id != cont_id {
                    self.emit_struct_fwd(id, &t);
                    self.out.push_str(";\n\n");
                    self.st[idx].fwd_emitted = true;
                }
                if top_level_def {
                    self.emit_struct_def(id, &t, 0);
                    self.out.push_str(";\n\n");
                    self.st[idx].emit = EMITTED;
                } else {
                    self.st[idx].emit = NOT_EMITTED;
                }
            }
            Kind::FuncProto => {
                self.emit_type(t.size_or_type(), cont_id);
                for p in t.params() {
                    self.emit_type(p.type_id, cont_id);
                }
            }
            _ => {}
        }
    }

    fn align(&mut self, id: u32) -> u32 {
        let Some(&a) = self.align_cache.get(id as usize) else {
            return 0;
        };
        if a != u32::MAX {
            return a;
        }
        let a = self.btf.align_of(id).unwrap_or(0);
        self.align_cache[id as usize] = a;
        a
    }

    fn is_struct_packed(&mut self, t: &Type<'a>) -> bool {
        let mut max_align = 1;
        for m in t.members() {
            let align = self.align(m.type_id);
            // libbpf tests the raw offset word, which for kind_flag structs is the bit offset
            // of any non-bitfield member.
            if align != 0 && m.bitfield_size == 0 && m.bit_offset % (8 * align) != 0 {
                return true;
            }
            max_align = max_align.max(align);
        }
        t.size_or_type() % max_align != 0
    }

    /// Anonymous bitfields that make the compiler put the next member at `next_off` bits.
    fn emit_bit_padding(
        &mut self,
        id: u32,
        mut cur_off: i64,
        next_off: i64,
        next_align: i64,
        in_bitfield: bool,
        lvl: usize,
    ) {
        let pads: [(&str, i64); 4] =
            [("long", self.ptr_sz as i64 * 8), ("int", 32), ("short", 16), ("char", 8)];
        if cur_off >= next_off {
            return;
        }
        if next_off - cur_off > MAX_PADDING_BITS {
            if self.error.is_none() {
                self.error = Some(BtfError::DumpPadding { id, bits: (next_off - cur_off) as u64 });
            }
            return;
        }
        let (mut pad_type, mut pad_bits, mut new_off) = ("", 0i64, 0i64);
        for (name, bits) in pads {
            pad_bits = bits;
            pad_type = name;
            new_off = roundup(cur_off, pad_bits);
            if new_off <= next_off {
                break;
            }
        }
        if new_off > cur_off && new_off <= next_off {
            if in_bitfield
                || (new_off == next_off && roundup(cur_off, next_align * 8) != new_off)
                || (new_off != next_off && next_off - new_off <= new_off - cur_off)
            {
                let _ = write!(
                    self.out,
                    "\n{}{}: {};",
                    pfx(lvl),
                    pad_type,
                    if in_bitfield { new_off - cur_off } else { 0 }
                );
            }
            cur_off = new_off;
        }
        while cur_off != next_off {
            let bits = (next_off - cur_off).min(pad_bits);
            if bits == pad_bits {
                let _ = write!(self.out, "\n{}{}: {};", pfx(lvl), pad_type, pad_bits);
                cur_off += bits;
                continue;
            }
            let mut progressed = false;
            for &(name, pbits) in pads.iter().rev() {
                pad_type = name;
                pad_bits = pbits;
                if pad_bits < bits {
                    continue;
                }
                let _ = write!(self.out, "\n{}{}: {};", pfx(lvl), pad_type, bits);
                cur_off += bits;
                progressed = true;
                break;
            }
            if !progressed {
                break;
            }
        }
    }

    fn emit_struct_fwd(&mut self, id: u32, t: &Type<'a>) {
        let name = self.type_name(id);
        let _ = write!(
            self.out,
            "{}{}{}",
            if t.kind() == Kind::Struct { "struct" } else { "union" },
            if t.is_anon() { "" } else { " " },
            name
        );
    }

    fn emit_struct_def(&mut self, id: u32, t: &Type<'a>, lvl: usize) {
        if self.out.len() > self.out_limit {
            if self.error.is_none() {
                self.error = Some(BtfError::DumpTooLarge { id, limit: self.out_limit });
            }
            return;
        }
        let is_struct = t.kind() == Kind::Struct;
        let align = self.align(id);
        let packed = is_struct && self.is_struct_packed(t);
        let name = self.type_name(id);
        let _ = write!(
            self.out,
            "{}{}{} {{",
            if is_struct { "struct" } else { "union" },
            if t.is_anon() { "" } else { " " },
            name
        );
        let mut off: i64 = 0;
        let mut prev_bitfield = false;
        for m in t.members() {
            let m_sz = m.bitfield_size as i64;
            let m_off = m.bit_offset as i64;
            let m_align = if packed { 1 } else { self.align(m.type_id) };
            let in_bitfield = prev_bitfield && m_sz != 0;
            self.emit_bit_padding(id, off, m_off, m_align as i64, in_bitfield, lvl + 1);
            let _ = write!(self.out, "\n{}", pfx(lvl + 1));
            self.emit_type_decl(m.type_id, m.name, lvl + 1);
            if m_sz != 0 {
                let _ = write!(self.out, ": {m_sz}");
                off = m_off + m_sz;
                prev_bitfield = true;
            } else {
                let sz = self.btf.resolve_size(m.type_id).unwrap_or(0) as i64;
                off = m_off + sz * 8;
                prev_bitfield = false;
            }
            self.out.push(';');
        }
        if is_struct {
            self.emit_bit_padding(id, off, t.size_or_type() as i64 * 8, align as i64, false, lvl + 1);
        }
        if t.vlen() != 0 || t.size_or_type() != 0 {
            self.out.push('\n');
            self.out.push_str(pfx(lvl));
            self.out.push('}');
        } else {
            self.out.push('}');
        }
        if packed {
            self.out.push_str(" __attribute__((packed))");
        }
    }

    fn emit_missing_aliases(&mut self, id: u32) {
        const MISSING: [(&str, &str); 4] = [
            ("__Poly8_t", "unsigned char"),
            ("__Poly16_t", "unsigned short"),
            ("__Poly64_t", "unsigned long long"),
            ("__Poly128_t", "unsigned __int128"),
        ];
        let name = self.type_name(id);
        if let Some((_, base)) = MISSING.iter().find(|(n, _)| *n == name) {
            let _ = write!(self.out, "typedef {base} {name};\n\n");
        }
    }

    fn emit_enum_fwd(&mut self, id: u32) {
        let name = self.type_name(id);
        let _ = write!(self.out, "enum {name}");
    }

    fn emit_enum_def(&mut self, id: u32, t: &Type<'a>, lvl: usize) {
        let name = self.type_name(id);
        let _ = write!(self.out, "enum{}{}", if t.is_anon() { "" } else { " " }, name);
        if t.vlen() == 0 {
            return;
        }
        self.out.push_str(" {");
        let signed = t.kind_flag();
        let is64 = t.kind() == Kind::Enum64;
        for v in t.enum_values() {
            let dup = name_dups(&mut self.ident_names, v.name);
            let _ = write!(self.out, "\n{}{}", pfx(lvl + 1), v.name);
            if dup > 1 {
                let _ = write!(self.out, "___{dup}");
            }
            let _ = match (is64, signed) {
                (false, true) => write!(self.out, " = {},", v.raw as u32 as i32),
                (false, false) => write!(self.out, " = {},", v.raw as u32),
                (true, true) => write!(self.out, " = {}LL,", v.raw as i64),
                (true, false) => write!(self.out, " = {}ULL,", v.raw),
            };
        }
        let _ = write!(self.out, "\n{}}}", pfx(lvl));
        if self.opts.enum_mode_attrs {
            let size = t.size_or_type();
            if size == 1 {
                self.out.push_str(" __attribute__((mode(byte)))");
            } else if size == 8 && self.ptr_sz == 8 {
                let needs_word_mode = !is64 || t.enum_values().all(|v| v.raw >> 32 == 0);
                if needs_word_mode {
                    self.out.push_str(" __attribute__((mode(word)))");
                }
            }
        }
    }

    fn emit_fwd_def(&mut self, id: u32, t: &Type<'a>) {
        let name = self.type_name(id);
        let _ = write!(self.out, "{} {}", if t.kind_flag() { "union" } else { "struct" }, name);
    }

    fn emit_typedef_def(&mut self, id: u32, t: &Type<'a>, lvl: usize) {
        let name = self.ident_name(id);
        if t.size_or_type() == 0 && name == "__gnuc_va_list" {
            self.out.push_str("typedef __builtin_va_list __gnuc_va_list");
            return;
        }
        self.out.push_str("typedef ");
        self.emit_type_decl(t.size_or_type(), &name, lvl);
    }

    /// `btf_dump_emit_type_decl`: a declaration of `fname` with type `id`, in C's inside-out
    /// declarator syntax.
    fn emit_type_decl(&mut self, mut id: u32, fname: &str, lvl: usize) {
        if !self.enter(id) {
            return;
        }
        let start = self.decl_stack.len();
        loop {
            if self.decl_stack.len() - start > self.btf.type_count() as usize {
                break; // cannot happen on validated BTF: chains end
            }
            let t = self.ty(id);
            if !(self.strip_mods && t.kind().is_mod()) {
                self.decl_stack.push(id);
            }
            if id == 0 {
                break;
            }
            match t.kind() {
                Kind::Ptr
                | Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::FuncProto
                | Kind::TypeTag => id = t.size_or_type(),
                Kind::Array => id = t.array().unwrap_or_default().elem_type,
                _ => break,
            }
        }
        let mut cnt = self.decl_stack.len() - start;
        self.emit_type_chain(start, &mut cnt, fname, lvl);
        self.decl_stack.truncate(start);
        self.depth -= 1;
    }

    fn top(&self, start: usize, cnt: usize) -> Type<'a> {
        self.ty(self.decl_stack[start + cnt - 1])
    }

    fn emit_mods(&mut self, start: usize, cnt: &mut usize) {
        while *cnt > 0 {
            let s = match self.top(start, *cnt).kind() {
                Kind::Volatile => "volatile ",
                Kind::Const => "const ",
                Kind::Restrict => "restrict ",
                _ => return,
            };
            self.out.push_str(s);
            *cnt -= 1;
        }
    }

    fn drop_mods(&mut self, start: usize, cnt: &mut usize) {
        while *cnt > 0 && self.top(start, *cnt).kind().is_mod() {
            *cnt -= 1;
        }
    }

    fn emit_name(&mut self, name: &str, last_was_ptr: bool) {
        if !name.is_empty() && !last_was_ptr {
            self.out.push(' ');
        }
        self.out.push_str(name);
    }

    fn emit_type_chain(&mut self, start: usize, cnt: &mut usize, fname: &str, lvl: usize) {
        if !self.enter(0) {
            return;
        }
        self.emit_type_chain_inner(start, cnt, fname, lvl);
        self.depth -= 1;
    }

    fn emit_type_chain_inner(&mut self, start: usize, cnt: &mut usize, fname: &str, lvl: usize) {
        let mut last_was_ptr = true;
        while *cnt > 0 {
            *cnt -= 1;
            let id = self.decl_stack[start + *cnt];
            if id == 0 {
                self.emit_mods(start, cnt);
                self.out.push_str("void");
                last_was_ptr = false;
                continue;
            }
            let t = self.ty(id);
            let kind = t.kind();
            match kind {
                Kind::Int | Kind::Float => {
                    self.emit_mods(start, cnt);
                    self.out.push_str(t.name());
                }
                Kind::Struct | Kind::Union => {
                    self.emit_mods(start, cnt);
                    if !t.is_anon() {
                        self.emit_struct_fwd(id, &t);
                    } else if self.inline_stack.contains(&id) {
                        // An anonymous struct containing itself (through a pointer): C cannot
                        // say it, and libbpf would recurse forever.
                        if self.error.is_none() {
                            self.error = Some(BtfError::DumpCycle { id });
                        }
                        return;
                    } else {
                        self.inline_stack.push(id);
                        self.emit_struct_def(id, &t, lvl);
                        self.inline_stack.pop();
                    }
                }
                Kind::Enum | Kind::Enum64 => {
                    self.emit_mods(start, cnt);
                    if t.is_anon() {
                        self.emit_enum_def(id, &t, lvl);
                    } else {
                        self.emit_enum_fwd(id);
                    }
                }
                Kind::Fwd => {
                    self.emit_mods(start, cnt);
                    self.emit_fwd_def(id, &t);
                }
                Kind::Typedef => {
                    self.emit_mods(start, cnt);
                    let n = self.ident_name(id);
                    self.out.push_str(&n);
                }
                Kind::Ptr => self.out.push_str(if last_was_ptr { "*" } else { " *" }),
                Kind::Volatile => self.out.push_str(" volatile"),
                Kind::Const => self.out.push_str(" const"),
                Kind::Restrict => self.out.push_str(" restrict"),
                Kind::TypeTag => {
                    self.emit_mods(start, cnt);
                    if t.kind_flag() {
                        let _ = write!(self.out, " __attribute__(({}))", t.name());
                    } else {
                        let _ = write!(self.out, " __attribute__((btf_type_tag(\"{}\")))", t.name());
                    }
                }
                Kind::Array => {
                    let nelems = t.array().unwrap_or_default().nelems;
                    self.drop_mods(start, cnt);
                    if *cnt == 0 {
                        self.emit_name(fname, last_was_ptr);
                        let _ = write!(self.out, "[{nelems}]");
                        return;
                    }
                    let multidim = self.top(start, *cnt).kind() == Kind::Array;
                    if !fname.is_empty() && !last_was_ptr {
                        self.out.push(' ');
                    }
                    if !multidim {
                        self.out.push('(');
                    }
                    self.emit_type_chain(start, cnt, fname, lvl);
                    if !multidim {
                        self.out.push(')');
                    }
                    let _ = write!(self.out, "[{nelems}]");
                    return;
                }
                Kind::FuncProto => {
                    self.drop_mods(start, cnt);
                    if *cnt > 0 {
                        self.out.push_str(" (");
                        self.emit_type_chain(start, cnt, fname, lvl);
                        self.out.push(')');
                    } else {
                        self.emit_name(fname, last_was_ptr);
                    }
                    self.out.push('(');
                    let vlen = t.vlen() as usize;
                    let first_void = t.params().next().is_some_and(|p| p.type_id == 0);
                    if vlen == 0 || (vlen == 1 && first_void) {
                        self.out.push_str("void)");
                        return;
                    }
                    for (i, p) in t.params().enumerate() {
                        if i > 0 {
                            self.out.push_str(", ");
                        }
                        if i == vlen - 1 && p.type_id == 0 {
                            self.out.push_str("...");
                            break;
                        }
                        self.emit_type_decl(p.type_id, p.name, lvl);
                    }
                    self.out.push(')');
                    return;
                }
                _ => return, // unexpected kind in a declaration chain: libbpf warns and stops
            }
            last_was_ptr = kind == Kind::Ptr;
        }
        self.emit_name(fname, last_was_ptr);
    }

    fn resolve_name(&mut self, id: u32, ident: bool) -> String {
        let t = self.ty(id);
        if t.is_anon() {
            return String::new();
        }
        let orig = self.name_of(t.name_off());
        let idx = id as usize;
        if self.st[idx].name_resolved {
            return self.cached_names.get(&id).cloned().unwrap_or_else(|| orig.to_string());
        }
        if t.kind() == Kind::Fwd || (t.kind() == Kind::Enum && t.vlen() == 0) {
            self.st[idx].name_resolved = true;
            return orig.to_string();
        }
        let map = if ident { &mut self.ident_names } else { &mut self.type_names };
        let dup = name_dups(map, orig);
        self.st[idx].name_resolved = true;
        if dup > 1 {
            // libbpf formats into a 256-byte buffer
            let mut s = format!("{orig}___{dup}");
            if s.len() > 255 {
                let mut cut = 255;
                while !s.is_char_boundary(cut) {
                    cut -= 1;
                }
                s.truncate(cut);
            }
            self.cached_names.insert(id, s.clone());
            return s;
        }
        orig.to_string()
    }

    fn type_name(&mut self, id: u32) -> String {
        self.resolve_name(id, false)
    }

    fn ident_name(&mut self, id: u32) -> String {
        self.resolve_name(id, true)
    }

    /// bpftool's `dump_btf_kfuncs`.
    fn dump_kfuncs(&mut self) {
        self.out.push_str("\n/* BPF kfuncs */\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n");
        let mut kfuncs: Vec<Type<'a>> = Vec::new();
        let mut fastcalls: Vec<u32> = Vec::new();
        for t in self.btf.all_types() {
            if t.kind() != Kind::DeclTag || t.decl_tag_component_raw() != Some(-1) {
                continue;
            }
            let Some(f) = self.btf.get(t.size_or_type()) else {
                continue;
            };
            if f.kind() != Kind::Func {
                continue;
            }
            match t.name() {
                "bpf_kfunc" => kfuncs.push(f),
                "bpf_fastcall" => fastcalls.push(f.id()),
                _ => {}
            }
        }
        kfuncs.sort_by(|a, b| a.name().cmp(b.name()));
        for f in kfuncs {
            self.out.push_str("extern ");
            if fastcalls.contains(&f.id()) {
                self.out.push_str("__bpf_fastcall ");
            }
            self.emit_type_decl(f.size_or_type(), f.name(), 0);
            self.out.push_str(" __weak __ksym;\n");
        }
        self.out.push_str("#endif\n\n");
    }
}

/// `btf_dump_name_dups`: how many times `name` has now been used.
fn name_dups(map: &mut HashMap<String, usize>, name: &str) -> usize {
    match map.get_mut(name) {
        Some(n) => {
            *n += 1;
            *n
        }
        None => {
            map.insert(name.to_string(), 1);
            1
        }
    }
}

/// libbpf's `str_hash`: `h = h * 31 + c` over the bytes, `char` being signed.
fn str_hash(s: &str) -> u64 {
    s.bytes().fold(0u64, |h, c| h.wrapping_mul(31).wrapping_add(c as i8 as i64 as u64))
}

fn hasher(hash: u64, val: u64) -> u64 {
    hash.wrapping_mul(31).wrapping_add(val)
}

fn name_hasher(hash: u64, t_name_off: u32, name: &str) -> u64 {
    if t_name_off == 0 {
        hash
    } else {
        hasher(hash, str_hash(name))
    }
}

fn is_chain_kind(k: Kind) -> bool {
    matches!(
        k,
        Kind::TypeTag
            | Kind::Const
            | Kind::Ptr
            | Kind::Volatile
            | Kind::Restrict
            | Kind::Typedef
            | Kind::DeclTag
    )
}

/// bpftool's `btf_type_rank`, iteratively.
fn type_rank(btf: &Btf, mut id: u32) -> u32 {
    const MAX_RANK: u32 = 10;
    let mut has_name = false;
    for _ in 0..=btf.type_count() {
        let Some(t) = btf.get(id) else {
            return MAX_RANK;
        };
        if t.name_off() != 0 {
            has_name = true;
        }
        match t.kind() {
            Kind::Enum | Kind::Enum64 => return if has_name { 1 } else { 0 },
            Kind::Int | Kind::Float => return 2,
            Kind::Struct | Kind::Union => return if has_name { 3 } else { MAX_RANK },
            Kind::FuncProto => return if has_name { 4 } else { MAX_RANK },
            Kind::Array if has_name => id = t.array().unwrap_or_default().elem_type,
            k if is_chain_kind(k) && has_name => id = t.size_or_type(),
            _ => return MAX_RANK,
        }
    }
    MAX_RANK
}

/// bpftool's `btf_type_sort_name`, iteratively.
fn sort_name(btf: &Btf, mut id: u32) -> &str {
    let mut from_ref = false;
    for _ in 0..=btf.type_count() {
        let Some(t) = btf.get(id) else { return "" };
        match t.kind() {
            Kind::Enum | Kind::Enum64 => {
                let mut off = t.name_off();
                if !from_ref && off == 0 {
                    if let Some(v) = t.enum_values().next() {
                        off = v.name_off;
                    }
                }
                return btf.str_at(off).unwrap_or("");
            }
            Kind::Array => id = t.array().unwrap_or_default().elem_type,
            k if is_chain_kind(k) => id = t.size_or_type(),
            _ => return btf.str_at(t.name_off()).unwrap_or(""),
        }
        from_ref = true;
    }
    ""
}

/// bpftool's `btf_type_disambig_hash`: the recursion only follows chains (and one level of
/// struct members), so it is computed along the chain and folded back.
fn disambig_hash(btf: &Btf, id: u32, include_members: bool) -> u64 {
    // Walk the chain of single-successor kinds, remembering each step's contribution.
    let mut steps: Vec<(u64, Option<u64>)> = Vec::new(); // (hash before child, extra value)
    let mut cur = id;
    let mut tail: u64;
    loop {
        let Some(t) = btf.get(cur) else {
            tail = 0;
            break;
        };
        let h = name_hasher(0, t.name_off(), t.name());
        match t.kind() {
            Kind::Enum | Kind::Enum64 => {
                tail = t.enum_values().fold(h, |h, v| name_hasher(h, v.name_off, v.name));
                break;
            }
            Kind::Struct | Kind::Union => {
                tail = if include_members {
                    t.members().fold(h, |h, m| {
                        let h = name_hasher(h, m.name_off, m.name);
                        hasher(h, disambig_hash(btf, m.type_id, false))
                    })
                } else {
                    h
                };
                break;
            }
            Kind::Array => {
                let a = t.array().unwrap_or_default();
                steps.push((hasher(h, a.nelems as u64), None));
                cur = a.elem_type;
            }
            k if is_chain_kind(k) => {
                steps.push((h, None));
                cur = t.size_or_type();
            }
            _ => {
                tail = h;
                break;
            }
        }
        if steps.len() > btf.type_count() as usize {
            tail = 0;
            break;
        }
    }
    for (h, _) in steps.into_iter().rev() {
        tail = hasher(h, tail);
    }
    tail
}

/// The order bpftool 7.5+ dumps types in (`sort_btf_c`): every id from 0, sorted.
fn sort_order(btf: &Btf) -> Vec<u32> {
    struct Datum<'a> {
        id: u32,
        rank: u32,
        sort_name: &'a str,
        own_name: &'a str,
        hash: u64,
    }
    let mut v: Vec<Datum<'_>> = (0..btf.type_count())
        .map(|id| {
            let own_name = btf.get(id).map_or("", |t| t.name());
            Datum {
                id,
                rank: type_rank(btf, id),
                sort_name: sort_name(btf, id),
                own_name,
                hash: disambig_hash(btf, id, true),
            }
        })
        .collect();
    v.sort_by(|a, b| {
        a.rank
            .cmp(&b.rank)
            .then_with(|| a.sort_name.as_bytes().cmp(b.sort_name.as_bytes()))
            .then_with(|| a.own_name.as_bytes().cmp(b.own_name.as_bytes()))
            .then_with(|| a.hash.cmp(&b.hash))
            .then_with(|| a.id.cmp(&b.id))
    });
    v.into_iter().map(|d| d.id).collect()
}
