//! Queries on parsed BTF: lookups by name, resolution through modifiers and typedefs, sizes and
//! alignments, members, enumerators, decl tags and type tags.

use crate::{Btf, BtfError, EnumValue, Kind, Member, Type};

/// Nesting limit of the recursive queries ([`Btf::align_of`], [`Btf::find_member`]).
pub const MAX_NESTING: usize = 256;

/// Hash index over the names of one BTF part: `(hash << 32) | id`, sorted.
#[derive(Debug, Default)]
pub(crate) struct NameIndex {
    keys: Vec<u64>,
}

/// FNV-1a over the bytes up to the first NUL (or the end), folded to 32 bits: plenty for ~100k
/// distinct names, no dependency, and one pass over a name in the string section.
fn name_hash(s: &[u8]) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in s {
        if b == 0 {
            break;
        }
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h ^ (h >> 32)) as u32
}

impl NameIndex {
    fn build(btf: &Btf) -> NameIndex {
        let mut keys: Vec<u64> = btf
            .types()
            .filter(|t| t.name_off() != 0)
            .filter_map(|t| {
                let tail = btf.str_tail(t.name_off())?;
                (tail.first() != Some(&0)).then(|| (name_hash(tail) as u64) << 32 | t.id() as u64)
            })
            .collect();
        keys.sort_unstable();
        NameIndex { keys }
    }

    fn candidates(&self, name: &str) -> impl Iterator<Item = u32> + '_ {
        let h = name_hash(name.as_bytes()) as u64;
        let lo = self.keys.partition_point(|&k| k >> 32 < h);
        self.keys[lo..].iter().take_while(move |&&k| k >> 32 == h).map(|&k| k as u32)
    }
}

/// A decl tag attached to a type, member or parameter ([`Btf::decl_tags`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DeclTag<'a> {
    /// The DECL_TAG's own type id.
    pub id: u32,
    /// The tag (`"bpf_kfunc"`, `"bpf_fastcall"`, `"kptr"`...), or the attribute text when
    /// `attr` is set.
    pub value: &'a str,
    /// The tagged type.
    pub target: u32,
    /// `None`: the type itself; `Some(i)`: member or parameter `i`.
    pub component: Option<u32>,
    /// kind_flag: an arbitrary `__attribute__((...))` rather than `btf_decl_tag`.
    pub attr: bool,
}

/// The type tags between a pointer and what it points to ([`Btf::ptr_type_tags`]).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TypeTags<'a> {
    /// Tag values in chain order (`"rcu"`, `"user"`, `"percpu"`, `"kptr"`, ...), attribute-form
    /// tags (kind_flag) excluded.
    pub tags: Vec<&'a str>,
    /// Attribute-form tags (kind_flag set).
    pub attrs: Vec<&'a str>,
    /// The pointee with type tags and modifiers skipped.
    pub target: u32,
}

impl TypeTags<'_> {
    /// Whether `tag` is among the tags.
    pub fn has(&self, tag: &str) -> bool {
        self.tags.contains(&tag)
    }
}

/// A name without its CO-RE flavor suffix: `"task_struct___v2"` -> `"task_struct"` (libbpf's
/// `bpf_core_essential_name_len`: the last `X___Y` where neither X nor Y is `_`).
pub fn essential_name(name: &str) -> &str {
    let b = name.as_bytes();
    let n = b.len();
    let mut i = n as isize - 5;
    while i >= 0 {
        let s = &b[i as usize..];
        if s[0] != b'_' && s[1] == b'_' && s[2] == b'_' && s[3] == b'_' && s[4] != b'_' {
            return &name[..i as usize + 1];
        }
        i -= 1;
    }
    name
}

/// libbpf's `btf__resolve_size`, on a `u64`, without recursion.
pub(crate) fn resolve_size_u64(btf: &Btf, mut id: u32) -> Result<u64, BtfError> {
    let first = id;
    let mut nelems: u64 = 1;
    for _ in 0..=btf.type_count() {
        let t = btf.type_by_id(id)?;
        let size = match t.kind() {
            Kind::Int
            | Kind::Struct
            | Kind::Union
            | Kind::Enum
            | Kind::Enum64
            | Kind::Datasec
            | Kind::Float => t.size_or_type() as u64,
            Kind::Ptr => btf.ptr_size() as u64,
            Kind::Typedef
            | Kind::Volatile
            | Kind::Const
            | Kind::Restrict
            | Kind::Var
            | Kind::DeclTag
            | Kind::TypeTag => {
                id = t.size_or_type();
                continue;
            }
            Kind::Array => {
                let a = t.array().unwrap_or_default();
                nelems = nelems.saturating_mul(a.nelems as u64);
                if nelems > u32::MAX as u64 {
                    return Err(BtfError::SizeOverflow { id: first });
                }
                id = a.elem_type;
                continue;
            }
            k => return Err(BtfError::NoSize { id, kind: k }),
        };
        let total = size.saturating_mul(nelems);
        if total > u32::MAX as u64 {
            return Err(BtfError::SizeOverflow { id: first });
        }
        return Ok(total);
    }
    Err(BtfError::TooDeep { id: first, limit: btf.type_count() as usize })
}

impl Btf {
    fn name_index(&self) -> &NameIndex {
        self.name_index.get_or_init(|| NameIndex::build(self))
    }

    /// Every type named `name`, any kind, in id order (the base's first). The first call builds
    /// a hash index of this part's names (a few milliseconds for vmlinux); later calls are a
    /// binary search.
    pub fn find_by_name(&self, name: &str) -> Vec<Type<'_>> {
        let mut out = match self.base() {
            Some(b) => b.find_by_name(name),
            None => Vec::new(),
        };
        out.extend(
            self.name_index().candidates(name).filter_map(|id| self.get(id)).filter(|t| t.name() == name),
        );
        out
    }

    /// The first type (lowest id) named `name` of kind `kind` (libbpf's
    /// `btf__find_by_name_kind`).
    pub fn find_by_name_kind(&self, name: &str, kind: Kind) -> Option<Type<'_>> {
        if let Some(t) = self.base().and_then(|b| b.find_by_name_kind(name, kind)) {
            return Some(t);
        }
        self.name_index()
            .candidates(name)
            .filter_map(|id| self.get(id))
            .find(|t| t.kind() == kind && t.name() == name)
    }

    /// Skips const/volatile/restrict/type tags and typedefs: the type a value of `id` really
    /// is (libbpf's `skip_mods_and_typedefs`; the kernel's `btf_type_skip_modifiers`, whose
    /// "modifiers" include typedefs).
    pub fn skip_mods_and_typedefs(&self, id: u32) -> Result<Type<'_>, BtfError> {
        self.skip_while(id, |k| k.is_mod() || k == Kind::Typedef)
    }

    /// Skips const/volatile/restrict and type tags, keeping typedefs.
    pub fn strip_mods(&self, id: u32) -> Result<Type<'_>, BtfError> {
        self.skip_while(id, Kind::is_mod)
    }

    /// Skips typedefs only.
    pub fn skip_typedefs(&self, id: u32) -> Result<Type<'_>, BtfError> {
        self.skip_while(id, |k| k == Kind::Typedef)
    }

    fn skip_while(&self, mut id: u32, skip: impl Fn(Kind) -> bool) -> Result<Type<'_>, BtfError> {
        let first = id;
        for _ in 0..=self.type_count() {
            let t = self.type_by_id(id)?;
            if !skip(t.kind()) {
                return Ok(t);
            }
            id = t.size_or_type();
        }
        Err(BtfError::TooDeep { id: first, limit: self.type_count() as usize })
    }

    /// Size in bytes of a value of type `id`, through typedefs, modifiers, arrays and vars
    /// (libbpf's `btf__resolve_size`). Void, FWD, FUNC and FUNC_PROTO have none.
    pub fn resolve_size(&self, id: u32) -> Result<u32, BtfError> {
        resolve_size_u64(self, id).map(|s| s as u32)
    }

    /// Alignment in bytes of type `id`, as libbpf's `btf__align_of` computes it: natural
    /// alignment capped at the pointer size, 1 for a struct whose layout shows it is packed.
    pub fn align_of(&self, id: u32) -> Result<u32, BtfError> {
        self.align_of_depth(id, 0)
    }

    fn align_of_depth(&self, id: u32, depth: usize) -> Result<u32, BtfError> {
        if depth > MAX_NESTING {
            return Err(BtfError::TooDeep { id, limit: MAX_NESTING });
        }
        let t = self.type_by_id(id)?;
        match t.kind() {
            Kind::Int | Kind::Enum | Kind::Enum64 | Kind::Float => Ok(self.ptr_size().min(t.size_or_type())),
            Kind::Ptr => Ok(self.ptr_size()),
            Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                self.align_of_depth(t.size_or_type(), depth + 1)
            }
            Kind::Array => self.align_of_depth(t.array().unwrap_or_default().elem_type, depth + 1),
            Kind::Struct | Kind::Union => {
                let mut max_align = 1;
                for m in t.members() {
                    let align = self.align_of_depth(m.type_id, depth + 1)?;
                    if align == 0 {
                        return Ok(0);
                    }
                    max_align = max_align.max(align);
                    if m.bitfield_size == 0 && m.bit_offset % (8 * align) != 0 {
                        return Ok(1);
                    }
                }
                if t.size_or_type() % max_align != 0 {
                    return Ok(1);
                }
                Ok(max_align)
            }
            k => Err(BtfError::NoSize { id, kind: k }),
        }
    }

    /// The FUNC_PROTO of FUNC `func_id`.
    pub fn func_proto(&self, func_id: u32) -> Result<Type<'_>, BtfError> {
        let f = self.type_by_id(func_id)?;
        if f.kind() != Kind::Func {
            return Err(BtfError::WrongKind { id: func_id, kind: f.kind(), expected: "FUNC" });
        }
        self.type_by_id(f.size_or_type())
    }

    /// Finds member `name` of struct/union `id`, looking inside anonymous struct/union members
    /// as C does. Returns the member and its bit offset from the start of `id`.
    pub fn find_member(&self, id: u32, name: &str) -> Result<Option<(Member<'_>, u32)>, BtfError> {
        let t = self.skip_mods_and_typedefs(id)?;
        if !t.kind().is_composite() {
            return Err(BtfError::WrongKind { id, kind: t.kind(), expected: "STRUCT or UNION" });
        }
        self.find_member_depth(t, name, 0, 0)
    }

    fn find_member_depth<'a>(
        &'a self,
        t: Type<'a>,
        name: &str,
        base: u32,
        depth: usize,
    ) -> Result<Option<(Member<'a>, u32)>, BtfError> {
        if depth > MAX_NESTING {
            return Err(BtfError::TooDeep { id: t.id(), limit: MAX_NESTING });
        }
        for m in t.members() {
            if m.name == name {
                return Ok(Some((m, base.wrapping_add(m.bit_offset))));
            }
            if m.name.is_empty() {
                let inner = self.skip_mods_and_typedefs(m.type_id)?;
                if inner.kind().is_composite() {
                    if let Some(found) =
                        self.find_member_depth(inner, name, base.wrapping_add(m.bit_offset), depth + 1)?
                    {
                        return Ok(Some(found));
                    }
                }
            }
        }
        Ok(None)
    }

    /// Finds enumerator `name` in any ENUM/ENUM64 (first by id): the enum and the value.
    pub fn find_enum_value(&self, name: &str) -> Option<(Type<'_>, EnumValue<'_>)> {
        self.all_types().filter(|t| t.kind().is_any_enum()).find_map(|t| t.enum_value(name).map(|v| (t, v)))
    }

    fn decl_tag_index(&self) -> &[(u32, u32)] {
        self.decl_tag_index.get_or_init(|| {
            let mut v: Vec<(u32, u32)> = self
                .types()
                .filter(|t| t.kind() == Kind::DeclTag)
                .map(|t| (t.size_or_type(), t.id()))
                .collect();
            v.sort_unstable();
            v
        })
    }

    /// Every decl tag on `target` or on its members/parameters (the base's first).
    pub fn decl_tags(&self, target: u32) -> Vec<DeclTag<'_>> {
        let mut out = match self.base() {
            Some(b) if target < self.start_id() => b.decl_tags(target),
            _ => Vec::new(),
        };
        let idx = self.decl_tag_index();
        let lo = idx.partition_point(|&(t, _)| t < target);
        for &(t, tag_id) in &idx[lo..] {
            if t != target {
                break;
            }
            if let Some(tag) = self.get(tag_id) {
                out.push(DeclTag {
                    id: tag_id,
                    value: tag.name(),
                    target,
                    component: tag.decl_tag_component().flatten(),
                    attr: tag.kind_flag(),
                });
            }
        }
        out
    }

    /// Decl tags on `target` itself (component -1).
    pub fn type_decl_tags(&self, target: u32) -> Vec<DeclTag<'_>> {
        let mut v = self.decl_tags(target);
        v.retain(|t| t.component.is_none());
        v
    }

    /// Decl tags on member or parameter `index` of `target` (a struct/union, or a FUNC).
    pub fn component_decl_tags(&self, target: u32, index: u32) -> Vec<DeclTag<'_>> {
        let mut v = self.decl_tags(target);
        v.retain(|t| t.component == Some(index));
        v
    }

    /// Whether `target` itself carries decl tag `value`.
    pub fn has_decl_tag(&self, target: u32, value: &str) -> bool {
        self.decl_tags(target).iter().any(|t| t.component.is_none() && !t.attr && t.value == value)
    }

    /// FUNCs carrying decl tag `value` on themselves, in id order: `"bpf_kfunc"` gives the
    /// kernel's kfuncs, `"bpf_fastcall"` those callable with the fastcall convention.
    pub fn funcs_with_decl_tag(&self, value: &str) -> Vec<Type<'_>> {
        let mut out: Vec<Type<'_>> = self
            .all_types()
            .filter(|t| {
                t.kind() == Kind::DeclTag
                    && !t.kind_flag()
                    && t.decl_tag_component_raw() == Some(-1)
                    && t.name() == value
            })
            .filter_map(|t| self.get(t.size_or_type()))
            .filter(|f| f.kind() == Kind::Func)
            .collect();
        out.sort_by_key(|t| t.id());
        out.dedup_by_key(|t| t.id());
        out
    }

    /// The type tags right after pointer `ptr_id` (`int __rcu *` is PTR -> TYPE_TAG "rcu" ->
    /// INT), and the pointee with tags and modifiers skipped.
    pub fn ptr_type_tags(&self, ptr_id: u32) -> Result<TypeTags<'_>, BtfError> {
        let p = self.type_by_id(ptr_id)?;
        if p.kind() != Kind::Ptr {
            return Err(BtfError::WrongKind { id: ptr_id, kind: p.kind(), expected: "PTR" });
        }
        let mut tags = TypeTags { tags: Vec::new(), attrs: Vec::new(), target: p.size_or_type() };
        for _ in 0..=self.type_count() {
            let t = self.type_by_id(tags.target)?;
            match t.kind() {
                Kind::TypeTag if t.kind_flag() => tags.attrs.push(t.name()),
                Kind::TypeTag => tags.tags.push(t.name()),
                Kind::Const | Kind::Volatile | Kind::Restrict => {}
                _ => return Ok(tags),
            }
            tags.target = t.size_or_type();
        }
        Err(BtfError::TooDeep { id: ptr_id, limit: self.type_count() as usize })
    }
}

impl<'a> Type<'a> {
    /// The direct member named `name` (anonymous members not searched: see
    /// [`Btf::find_member`]).
    pub fn member_by_name(&self, name: &str) -> Option<Member<'a>> {
        self.members().find(|m| m.name == name)
    }

    /// The enumerator named `name`.
    pub fn enum_value(&self, name: &str) -> Option<EnumValue<'a>> {
        self.enum_values().find(|v| v.name == name)
    }
}

impl Member<'_> {
    /// Whether the member is a bitfield (kind_flag encoding).
    pub fn is_bitfield(&self) -> bool {
        self.bitfield_size != 0
    }
    /// Byte offset (rounded down for bitfields).
    pub fn byte_offset(&self) -> u32 {
        self.bit_offset / 8
    }
}
