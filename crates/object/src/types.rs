//! Program types, attach types and map types, and the flags libbpf sets: `kfvm-uapi`'s, under
//! the path this crate has always had them.

pub use kfvm_uapi::{
    AttachType, MapType, ProgType, BPF_F_MMAPABLE, BPF_F_RDONLY_PROG, BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS,
};
