//! The object's BTF: `kfvm-btf`'s [`Btf`](kfvm_btf::Btf), read from `.BTF` with libbpf's
//! open-time fix-ups applied (DATASEC sizes and offsets, hidden variables made static: see
//! [`kfvm_btf::BtfPatch`]), shared, and compared by its bytes.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// The object's BTF after libbpf's open-time fix-ups. Derefs to [`kfvm_btf::Btf`] for every
/// query; [`shared`](ObjectBtf::shared) hands out the `Arc` (what a linked object keeps).
#[derive(Clone)]
pub struct ObjectBtf(Arc<kfvm_btf::Btf>);

impl ObjectBtf {
    pub(crate) fn new(btf: kfvm_btf::Btf) -> Self {
        ObjectBtf(Arc::new(btf))
    }

    /// The shared [`kfvm_btf::Btf`].
    pub fn shared(&self) -> &Arc<kfvm_btf::Btf> {
        &self.0
    }

    /// The BTF as bytes, fix-ups included: what the kernel or [`kfvm_btf::Btf::parse`] should be
    /// given for this object.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.raw_data().to_vec()
    }
}

impl Deref for ObjectBtf {
    type Target = kfvm_btf::Btf;

    fn deref(&self) -> &kfvm_btf::Btf {
        &self.0
    }
}

/// Equal when the bytes are.
impl PartialEq for ObjectBtf {
    fn eq(&self, other: &Self) -> bool {
        self.0.raw_data() == other.0.raw_data()
    }
}

impl Eq for ObjectBtf {}

impl fmt::Debug for ObjectBtf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
