//! BTF, the BPF Type Format: read, validate, query, write, dump as C, and `.BTF.ext`.
//!
//! - [`Btf`] parses and validates raw BTF (`/sys/kernel/btf/vmlinux`, a BPF object's `.BTF`),
//!   standalone or split on a base (kernel modules). [`Type`] is a cheap view of one type;
//!   queries live on [`Btf`]: [`Btf::find_by_name_kind`], [`Btf::skip_mods_and_typedefs`],
//!   [`Btf::resolve_size`], [`Btf::find_member`], [`Btf::decl_tags`],
//!   [`Btf::funcs_with_decl_tag`] (kfuncs), [`Btf::ptr_type_tags`] (`__rcu`, `__kptr`, ...).
//! - [`BtfBuilder`] writes BTF bytes (deduplicating strings); [`BtfBuilder::from_btf`] rebuilds
//!   parsed BTF. [`Btf::patch`] edits sizes, VAR linkages and DATASEC entries in place, strings
//!   and ids untouched (libbpf's open-time fix-ups of an object's BTF).
//! - [`dump_c`] prints a `vmlinux.h` as `bpftool btf dump file F format c` does, byte for byte:
//!   [`CDumpOptions::default`] as bpftool 7.1 (the one installed with this project),
//!   [`CDumpOptions::bpftool_latest`] as bpftool 7.5+ (sorted, with `extern ... __weak __ksym;`
//!   prototypes of the FUNCs tagged `bpf_kfunc`). [`c_decl`] writes one C declaration;
//!   [`dump_raw`] prints bpftool's raw listing.
//! - [`BtfExt`] parses `.BTF.ext`: func_info, line_info (file, line text, line/column) and CO-RE
//!   relocation records ([`CoreRelo::access_spec`]; [`essential_name`] strips `___flavor`).
//!
//! Only little-endian BTF is read (big-endian magic is refused with [`BtfError::BigEndian`]).
//! Nothing here panics on malformed input, and nothing recurses without bound.

#![deny(missing_docs)]

mod btf;
mod builder;
mod dump_c;
mod dump_raw;
mod error;
mod ext;
mod kind;
mod patch;
mod query;
mod types;
mod validate;

pub use btf::{Btf, BtfHeader};
pub use builder::{BtfBuilder, NewMember};
pub use dump_c::{c_decl, dump_c, CDumpOptions};
pub use dump_raw::{dump_raw, dump_raw_type};
pub use error::{BtfError, TypeProblem};
pub use ext::{BtfExt, BtfExtHeader, CoreRelo, CoreReloKind, FuncInfo, InfoSection, LineInfo};
pub use kind::{raw, FuncLinkage, IntEncoding, Kind, VarLinkage};
pub use patch::BtfPatch;
pub use query::{essential_name, DeclTag, TypeTags, MAX_NESTING};
pub use types::{
    ArrayInfo, EnumValue, EnumValues, IntInfo, Member, Members, Param, Params, Type, TypeData, VarSecinfo,
    VarSecinfos,
};
