//! [`BtfPatch`]: edits of parsed BTF that leave every byte but the edited words in place.

use crate::{Btf, BtfError, Kind, TypeProblem, VarLinkage, VarSecinfo};

/// Edits to a copy of a parsed [`Btf`] that rewrite words inside type records without moving
/// anything: a size, a VAR's linkage, the entries of a DATASEC (as many as it has). Type ids,
/// record lengths, the string section and every other byte stay as they are, so string offsets
/// and type ids held elsewhere (a `.BTF.ext`, relocations) keep their meaning — which
/// rebuilding through [`BtfBuilder`](crate::BtfBuilder) would not guarantee, as it re-interns
/// strings. [`finish`](BtfPatch::finish) parses and validates the result.
///
/// This is what libbpf does to a BPF object's BTF when it opens it, in place
/// (`bpf_object__fixup_btf`, `btf_fixup_datasec`): clang leaves DATASEC sizes and variable
/// offsets zero, libbpf fills them from the ELF sections and symbols, makes hidden variables
/// static and sorts each DATASEC by offset.
///
/// Only this part's types can be edited (not a split BTF's base).
#[derive(Debug)]
pub struct BtfPatch<'a> {
    btf: &'a Btf,
    data: Vec<u8>,
}

impl Btf {
    /// Starts editing a copy of this BTF's bytes ([`BtfPatch`]).
    pub fn patch(&self) -> BtfPatch<'_> {
        BtfPatch { btf: self, data: self.data.clone() }
    }
}

impl BtfPatch<'_> {
    /// Offset of the record of type `id` (this part's), checking its kind.
    fn record(&self, id: u32, ok: impl Fn(Kind) -> bool, expected: &'static str) -> Result<usize, BtfError> {
        let t = self.btf.type_by_id(id)?;
        if id < self.btf.start_id {
            return Err(BtfError::WrongKind {
                id,
                kind: t.kind(),
                expected: "a type of this part (not the base)",
            });
        }
        if !ok(t.kind()) {
            return Err(BtfError::WrongKind { id, kind: t.kind(), expected });
        }
        Ok(self.btf.types_start + self.btf.offsets[(id - self.btf.start_id) as usize] as usize)
    }

    fn put(&mut self, at: usize, w: u32) {
        self.data[at..at + 4].copy_from_slice(&w.to_le_bytes());
    }

    /// Sets the size of type `id`, a kind that stores one ([`Kind::has_size`]).
    pub fn set_size(&mut self, id: u32, size: u32) -> Result<(), BtfError> {
        let at = self.record(id, Kind::has_size, "a kind with a size")?;
        self.put(at + 8, size);
        Ok(())
    }

    /// Sets the linkage of VAR `id`.
    pub fn set_var_linkage(&mut self, id: u32, linkage: VarLinkage) -> Result<(), BtfError> {
        let at = self.record(id, |k| k == Kind::Var, "VAR")?;
        self.put(at + 12, linkage as u32);
        Ok(())
    }

    /// Replaces the entries of DATASEC `id` with `vars`, which must be as many.
    pub fn set_datasec_vars(&mut self, id: u32, vars: &[VarSecinfo]) -> Result<(), BtfError> {
        let at = self.record(id, |k| k == Kind::Datasec, "DATASEC")?;
        let vlen = self.btf.type_by_id(id)?.vlen() as usize;
        if vars.len() != vlen {
            return Err(self.btf.bad(
                id,
                TypeProblem::SecInfo {
                    index: vars.len() as u32,
                    reason: format!("a patch must keep the {vlen} entries, not write {}", vars.len()),
                },
            ));
        }
        for (i, v) in vars.iter().enumerate() {
            let e = at + 12 + 12 * i;
            self.put(e, v.type_id);
            self.put(e + 4, v.offset);
            self.put(e + 8, v.size);
        }
        Ok(())
    }

    /// The edited BTF, parsed and validated (on the same base, for split BTF).
    pub fn finish(self) -> Result<Btf, BtfError> {
        match self.btf.base() {
            Some(base) => Btf::from_vec_split(self.data, base.clone()),
            None => Btf::from_vec(self.data),
        }
    }
}
