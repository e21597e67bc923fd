//! Rust names for the kernel's C type names, so host code can write a prototype the way the
//! kernel does (`s32 pid`, `__u32`, `size_t src__sz`, `c_long`).
//!
//! They are plain aliases; `#[kfunc]` and `#[derive(HostType)]` recognise them *by name* and emit
//! the kernel's typedef chain (`s32` → `__s32` → `int`), while the Rust type checks the value.

#![expect(non_camel_case_types, reason = "the kernel's C type names")]

pub use core::ffi::{
    c_char, c_int, c_long, c_longlong, c_schar, c_short, c_uchar, c_uint, c_ulong, c_ulonglong, c_ushort,
    c_void,
};

/// `s8` (`__s8`, `signed char`).
pub type s8 = i8;
/// `s16` (`__s16`, `short int`).
pub type s16 = i16;
/// `s32` (`__s32`, `int`).
pub type s32 = i32;
/// `s64` (`__s64`, `long long int`).
pub type s64 = i64;
/// `__u8` (`unsigned char`).
pub type __u8 = u8;
/// `__u16` (`short unsigned int`).
pub type __u16 = u16;
/// `__u32` (`unsigned int`).
pub type __u32 = u32;
/// `__u64` (`long long unsigned int`).
pub type __u64 = u64;
/// `__s8` (`signed char`).
pub type __s8 = i8;
/// `__s16` (`short int`).
pub type __s16 = i16;
/// `__s32` (`int`).
pub type __s32 = i32;
/// `__s64` (`long long int`).
pub type __s64 = i64;
/// `size_t` (`long unsigned int`).
pub type size_t = usize;
/// `ssize_t` (`long int`).
pub type ssize_t = isize;
/// `pid_t` (`int`).
pub type pid_t = i32;
