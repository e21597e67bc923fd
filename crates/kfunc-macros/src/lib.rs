//! Procedural macros of the kfunc model (re-exported by `kfvm-kfunc`; use them from there).
//!
//! - `#[kfunc(flags...)]` turns an ordinary Rust function into a kfunc: next to the function it
//!   generates a module of the same name holding `KFUNC`, the kfunc's descriptor (name, BTF
//!   parameter names and types, flags, deprecation), and `entry`, the native entry point of type
//!   `kfvm_vm::HostFn` that converts R1–R5 into the function's parameters.
//! - `#[derive(HostType)]` describes a `#[repr(C)]` struct, union or enum (or a
//!   `#[repr(transparent)]` typedef, or an opaque forward declaration) for the host BTF.
//!
//! Both map Rust types to C types syntactically where the spelling matters for BTF (`c_int` is
//! `int`, `i32` is `s32`, `usize` is `size_t`; see `prim_const`), and otherwise through the
//! `BtfRepr` trait, so host types and `Callback<fn(..)>` compose.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    parse_macro_input, Attribute, Data, DeriveInput, Error, Expr, ExprLit, Fields, FnArg, GenericArgument,
    ItemFn, Lit, LitStr, Meta, Pat, Path, PathArguments, ReturnType, Token, Type, Visibility,
};

/// The kernel's `MAX_BPF_FUNC_ARGS`: a kfunc receives R1–R5.
const MAX_ARGS: usize = 5;

/// `#[kfunc(...)]` flag words and the `KfFlags` constant each sets.
const FLAG_WORDS: &[(&str, &str)] = &[
    ("acquire", "ACQUIRE"),
    ("release", "RELEASE"),
    ("ret_null", "RET_NULL"),
    ("kptr_get", "KPTR_GET"),
    ("trusted_args", "TRUSTED_ARGS"),
    ("sleepable", "SLEEPABLE"),
    ("destructive", "DESTRUCTIVE"),
    ("rcu", "RCU"),
    ("iter_new", "ITER_NEW"),
    ("iter_next", "ITER_NEXT"),
    ("iter_destroy", "ITER_DESTROY"),
    ("rcu_protected", "RCU_PROTECTED"),
    ("fastcall", "FASTCALL"),
    ("arena_ret", "ARENA_RET"),
    ("arena_arg1", "ARENA_ARG1"),
    ("arena_arg2", "ARENA_ARG2"),
];

/// Rust type names whose C spelling kfvm picks by name, and the `kfvm_kfunc::ctype::prim`
/// constant for each (the kernel's typedef chains: `u32` → `__u32` → `unsigned int`).
fn prim_const(name: &str) -> Option<&'static str> {
    Some(match name {
        "u8" => "U8",
        "u16" => "U16",
        "u32" => "U32",
        "u64" => "U64",
        "i8" | "s8" => "S8",
        "i16" | "s16" => "S16",
        "i32" | "s32" => "S32",
        "i64" | "s64" => "S64",
        "__u8" => "__U8",
        "__u16" => "__U16",
        "__u32" => "__U32",
        "__u64" => "__U64",
        "__s8" => "__S8",
        "__s16" => "__S16",
        "__s32" => "__S32",
        "__s64" => "__S64",
        "bool" => "BOOL",
        "usize" | "size_t" => "SIZE_T",
        "isize" | "ssize_t" => "SSIZE_T",
        "pid_t" => "PID_T",
        "c_char" => "CHAR",
        "c_schar" => "SIGNED_CHAR",
        "c_uchar" => "UNSIGNED_CHAR",
        "c_short" => "SHORT",
        "c_ushort" => "USHORT",
        "c_int" => "INT",
        "c_uint" => "UINT",
        "c_long" => "LONG",
        "c_ulong" => "ULONG",
        "c_longlong" => "LONGLONG",
        "c_ulonglong" => "ULONGLONG",
        "u128" => "UINT128",
        "i128" => "INT128",
        "f32" => "FLOAT",
        "f64" => "DOUBLE",
        _ => return None,
    })
}

/// Where a type appears: this decides what it may be.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// A kfunc parameter (passed in one register).
    Param,
    /// A kfunc return value (R0).
    Ret,
    /// A field of a host type.
    Field,
    /// Behind a pointer: anything with a C type, including `void`.
    Pointee,
}

fn err<T>(span: impl Spanned, msg: impl std::fmt::Display) -> syn::Result<T> {
    Err(Error::new(span.span(), msg))
}

/// `ty` without invisible groups (types passed through `macro_rules!`) and parentheses.
fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Group(g) => strip(&g.elem),
        Type::Paren(p) => strip(&p.elem),
        t => t,
    }
}

/// The last segment of a plain path type (`core::ffi::c_int` → `c_int`), if it has no generics.
fn plain_ident(ty: &Type) -> Option<String> {
    match strip(ty) {
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            matches!(last.arguments, PathArguments::None).then(|| last.ident.to_string())
        }
        _ => None,
    }
}

/// `Option<&T>` → `T`.
fn option_ref(ty: &Type) -> Option<&syn::TypeReference> {
    let Type::Path(p) = strip(ty) else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    match args.args.first()? {
        GenericArgument::Type(t) if args.args.len() == 1 => match strip(t) {
            Type::Reference(r) => Some(r),
            _ => None,
        },
        _ => None,
    }
}

/// The `CType` constant expression describing `ty`.
fn ctype_expr(ty: &Type, krate: &Path, place: Place) -> syn::Result<TokenStream2> {
    let ct = quote!(#krate::ctype::CType);
    match ty {
        Type::Paren(p) => ctype_expr(&p.elem, krate, place),
        Type::Group(g) => ctype_expr(&g.elem, krate, place),
        Type::Ptr(p) => {
            let inner = ctype_expr(&p.elem, krate, Place::Pointee)?;
            if p.const_token.is_some() {
                Ok(quote!(#ct::Ptr(&#ct::Const(&#inner))))
            } else {
                Ok(quote!(#ct::Ptr(&#inner)))
            }
        }
        Type::Reference(r) => match place {
            Place::Param if r.mutability.is_some() => err(
                ty,
                "a kfunc parameter cannot be `&mut T`: two arguments may point at the same object; take `*mut T`",
            ),
            Place::Param => {
                let inner = ctype_expr(&r.elem, krate, Place::Pointee)?;
                Ok(quote!(#ct::Ptr(&#ct::Const(&#inner))))
            }
            Place::Ret => err(ty, "a kfunc cannot return a reference; return a raw pointer (`*mut T`)"),
            _ => err(ty, "host types hold raw pointers (`*mut T` / `*const T`), not references"),
        },
        Type::Array(a) => {
            if matches!(place, Place::Param | Place::Ret) {
                return err(ty, "arrays cannot be passed to or returned from a kfunc by value; use a pointer");
            }
            let elem = ctype_expr(&a.elem, krate, Place::Field)?;
            let len = &a.len;
            Ok(quote!(#ct::Array(&#elem, (#len) as u32)))
        }
        Type::Tuple(t) if t.elems.is_empty() => match place {
            Place::Ret => Ok(quote!(#ct::Void)),
            _ => err(ty, "`()` has no C type here"),
        },
        Type::BareFn(_) => err(
            ty,
            "a function pointer argument is a BPF callback: write `kfvm_kfunc::Callback<fn(A, B) -> R>`",
        ),
        Type::Path(p) => {
            if let Some(r) = option_ref(ty) {
                return match place {
                    Place::Param if r.mutability.is_some() => err(
                        ty,
                        "a kfunc parameter cannot be `Option<&mut T>`: two arguments may point at the same object; take `*mut T`",
                    ),
                    Place::Param => {
                        let inner = ctype_expr(&r.elem, krate, Place::Pointee)?;
                        Ok(quote!(#ct::Ptr(&#ct::Const(&#inner))))
                    }
                    _ => err(ty, "`Option<&T>` is only supported as a kfunc parameter; use a raw pointer"),
                };
            }
            if let Some(name) = plain_ident(ty) {
                if name == "c_void" {
                    return match place {
                        Place::Pointee => Ok(quote!(#ct::Void)),
                        _ => err(ty, "`c_void` only has a meaning behind a pointer (`*mut c_void` is `void *`)"),
                    };
                }
                if let Some(c) = prim_const(&name) {
                    let by_value = matches!(place, Place::Param | Place::Ret);
                    if by_value && (name == "f32" || name == "f64") {
                        return err(ty, "floating-point values cannot be passed to or returned from a kfunc");
                    }
                    if by_value && (name == "u128" || name == "i128") {
                        return err(ty, "128-bit integers do not fit in one BPF register");
                    }
                    let c = format_ident!("{}", c);
                    return Ok(quote!(#krate::ctype::prim::#c));
                }
            }
            if let Some(last) = p.path.segments.last() {
                let n = last.ident.to_string();
                if matches!(n.as_str(), "String" | "Vec" | "Box" | "Rc" | "Arc" | "Option" | "Result" | "str") {
                    return err(
                        ty,
                        format!("`{n}` has no C type: kfunc parameters are integers, bool, raw pointers, references to host types or `Callback<fn(..)>`"),
                    );
                }
            }
            Ok(quote_spanned!(ty.span()=> <#ty as #krate::ctype::BtfRepr>::CTYPE))
        }
        Type::Slice(_) => err(ty, "slices have no C type; pass a pointer and a `__sz` length"),
        Type::TraitObject(_) | Type::ImplTrait(_) => err(ty, "trait objects have no C type"),
        Type::Never(_) => err(ty, "a kfunc must return"),
        _ => err(ty, "unsupported type: kfunc parameters are integers, bool, raw pointers, references to host types or `Callback<fn(..)>`"),
    }
}

/// `r#type` → `type`.
fn ident_name(ident: &syn::Ident) -> String {
    let s = ident.to_string();
    s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
}

fn lit_str(expr: &Expr) -> syn::Result<LitStr> {
    match expr {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Ok(s.clone()),
        _ => err(expr, "expected a string literal"),
    }
}

fn parse_crate_path(expr: &Expr) -> syn::Result<Path> {
    match expr {
        Expr::Path(p) => Ok(p.path.clone()),
        _ => lit_str(expr)?.parse(),
    }
}

fn default_crate() -> Path {
    syn::parse_quote!(::kfvm_kfunc)
}

/// Parses `"6.20"` / `"6.20.1"` into `(major, minor, patch)`.
fn parse_version(s: &LitStr) -> syn::Result<(u16, u16, u16)> {
    let v = s.value();
    let parts: Vec<&str> = v.split('.').collect();
    let num = |p: &str| p.parse::<u16>().ok();
    match parts.as_slice() {
        [a, b] => Some((num(a), num(b), Some(0))),
        [a, b, c] => Some((num(a), num(b), num(c))),
        _ => None,
    }
    .and_then(|(a, b, c)| Some((a?, b?, c?)))
    .ok_or_else(|| {
        Error::new(s.span(), format!("`{v}` is not a version (expected MAJOR.MINOR or MAJOR.MINOR.PATCH)"))
    })
}

struct KfuncAttr {
    flags: Vec<(String, Span)>,
    name: Option<LitStr>,
    krate: Path,
    deprecated: Option<TokenStream2>,
}

fn parse_kfunc_attr(attr: TokenStream2) -> syn::Result<KfuncAttr> {
    let metas: Punctuated<Meta, Token![,]> = syn::parse::Parser::parse2(Punctuated::parse_terminated, attr)?;
    let mut out = KfuncAttr { flags: Vec::new(), name: None, krate: default_crate(), deprecated: None };
    // (note, replacement, removed_in)
    type Deprecated = (Option<LitStr>, Option<LitStr>, Option<LitStr>);
    let mut deprecated: Option<Deprecated> = None;
    for meta in metas {
        match &meta {
            Meta::Path(p) if p.is_ident("deprecated") => deprecated = Some((None, None, None)),
            Meta::Path(p) => {
                let word = p.get_ident().map(|i| i.to_string()).unwrap_or_default();
                if !FLAG_WORDS.iter().any(|(w, _)| *w == word) {
                    let known: Vec<&str> = FLAG_WORDS.iter().map(|(w, _)| *w).collect();
                    return err(p, format!("unknown kfunc flag `{}`; known: {}", p.to_token_stream(), known.join(", ")));
                }
                if out.flags.iter().any(|(w, _)| *w == word) {
                    return err(p, format!("flag `{word}` given twice"));
                }
                out.flags.push((word, p.span()));
            }
            Meta::NameValue(nv) if nv.path.is_ident("name") => out.name = Some(lit_str(&nv.value)?),
            Meta::NameValue(nv) if nv.path.is_ident("crate") => out.krate = parse_crate_path(&nv.value)?,
            Meta::List(l) if l.path.is_ident("deprecated") => {
                let inner: Punctuated<Meta, Token![,]> = l.parse_args_with(Punctuated::parse_terminated)?;
                let (mut note, mut replacement, mut removed_in) = (None, None, None);
                for m in inner {
                    let Meta::NameValue(nv) = &m else {
                        return err(&m, "expected `note = \"...\"`, `replacement = \"...\"` or `removed_in = \"X.Y\"`");
                    };
                    let v = lit_str(&nv.value)?;
                    if nv.path.is_ident("note") {
                        note = Some(v);
                    } else if nv.path.is_ident("replacement") {
                        replacement = Some(v);
                    } else if nv.path.is_ident("removed_in") {
                        parse_version(&v)?;
                        removed_in = Some(v);
                    } else {
                        return err(&nv.path, "expected `note`, `replacement` or `removed_in`");
                    }
                }
                deprecated = Some((note, replacement, removed_in));
            }
            _ => {
                return err(
                    &meta,
                    "expected a flag (`acquire`, `ret_null`, ...), `name = \"...\"`, `deprecated(...)` or `crate = path`",
                )
            }
        }
    }
    if let Some((note, replacement, removed_in)) = deprecated {
        let krate = &out.krate;
        let note = note.map(|n| n.value()).unwrap_or_default();
        let replacement = match replacement {
            Some(r) => quote!(::core::option::Option::Some(#r)),
            None => quote!(::core::option::Option::None),
        };
        let removed_in = match removed_in {
            Some(v) => {
                let (a, b, c) = parse_version(&v)?;
                quote!(::core::option::Option::Some(#krate::Version::new(#a, #b, #c)))
            }
            None => quote!(::core::option::Option::None),
        };
        out.deprecated = Some(quote!(::core::option::Option::Some(#krate::Deprecation {
            note: #note,
            replacement: #replacement,
            removed_in: #removed_in,
        })));
    }
    Ok(out)
}

/// Whether `ty` is `&mut CallCtx` (the optional first parameter of a kfunc).
fn is_call_ctx(ty: &Type) -> bool {
    match strip(ty) {
        Type::Reference(r) if r.mutability.is_some() => {
            matches!(strip(&r.elem), Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "CallCtx"))
        }
        _ => false,
    }
}

/// The visibility of items inside the generated module, matching the function's own.
fn inner_vis(vis: &Visibility) -> TokenStream2 {
    match vis {
        Visibility::Public(_) => quote!(pub),
        Visibility::Inherited => quote!(pub(super)),
        Visibility::Restricted(r) => {
            let p = &r.path;
            if p.is_ident("crate") {
                quote!(pub(crate))
            } else if p.is_ident("self") {
                quote!(pub(super))
            } else if p.is_ident("super") {
                quote!(pub(in super::super))
            } else if p.segments.first().is_some_and(|s| s.ident == "crate") {
                quote!(pub(in #p))
            } else {
                quote!(pub(crate))
            }
        }
    }
}

/// `#[kfunc(flags..., name = "...", deprecated(note = "...", replacement = "...", removed_in = "X.Y"))]`
///
/// Flags: `acquire`, `release`, `ret_null`, `kptr_get` (legacy), `trusted_args`, `sleepable`,
/// `destructive`, `rcu`, `iter_new`, `iter_next`, `iter_destroy`, `rcu_protected`, `fastcall`,
/// `arena_ret`, `arena_arg1`, `arena_arg2`.
///
/// The function keeps its body and stays callable from Rust. Its parameters may be integers,
/// `bool`, raw pointers, `&T` / `Option<&T>` to host types, or `Callback<fn(..) -> R>`; an
/// optional first parameter `ctx: &mut CallCtx` receives the run's context and is not a BPF
/// argument. Parameter names become BTF parameter names, annotation suffixes included
/// (`buf__sz`, `p__nullable`, ...). Returns: `()`, integers, `bool` or raw pointers.
///
/// Generated next to the function: `mod <name> { pub static KFUNC: KfuncDesc; pub extern "C" fn
/// entry(..) }`. The function must be a module-level item (the module calls it as `super::name`).
#[proc_macro_attribute]
pub fn kfunc(attr: TokenStream, item: TokenStream) -> TokenStream {
    let func = parse_macro_input!(item as ItemFn);
    match expand_kfunc(attr.into(), &func) {
        Ok(ts) => ts.into(),
        Err(e) => {
            let e = e.to_compile_error();
            quote!(#func #e).into()
        }
    }
}

fn expand_kfunc(attr: TokenStream2, func: &ItemFn) -> syn::Result<TokenStream2> {
    let attr = parse_kfunc_attr(attr)?;
    let krate = &attr.krate;
    let sig = &func.sig;
    if !sig.generics.params.is_empty() {
        return err(&sig.generics, "a kfunc cannot be generic: it has one C prototype");
    }
    if let Some(a) = &sig.asyncness {
        return err(a, "a kfunc cannot be async");
    }
    if let Some(u) = &sig.unsafety {
        return err(u, "a kfunc cannot be `unsafe fn`: BPF programs call it; put unsafe blocks (with SAFETY comments) in the body");
    }
    if let Some(v) = &sig.variadic {
        return err(v, "a kfunc cannot be variadic");
    }
    let fn_ident = &sig.ident;
    let kname = attr.name.as_ref().map(|n| n.value()).unwrap_or_else(|| ident_name(fn_ident));

    let mut params = Vec::new(); // (name, ctype)
    let mut call_args = Vec::new();
    let mut conversions = Vec::new();
    let mut reg = 0usize;
    let mut any_double_underscore = false;
    for (i, input) in sig.inputs.iter().enumerate() {
        let FnArg::Typed(pt) = input else {
            return err(input, "a kfunc cannot take `self`");
        };
        if i == 0 && is_call_ctx(&pt.ty) {
            call_args.push(quote!(ctx));
            continue;
        }
        let Pat::Ident(pi) = &*pt.pat else {
            return err(&pt.pat, "kfunc parameters need plain names: the names go into BTF (with annotation suffixes such as `__sz`)");
        };
        let pname = ident_name(&pi.ident);
        any_double_underscore |= pname.trim_matches('_').contains("__");
        let cty = ctype_expr(&pt.ty, krate, Place::Param)?;
        params.push((pname.clone(), cty));
        reg += 1;
        if reg > MAX_ARGS {
            return err(
                input,
                format!(
                    "a kfunc takes at most {MAX_ARGS} arguments (R1-R5); `{kname}` takes {}",
                    sig.inputs.len()
                ),
            );
        }
        let r = format_ident!("r{}", reg);
        let a = format_ident!("a{}", reg);
        let argno = reg - 1;
        let ty = &pt.ty;
        let conv = if let Some(rf) = option_ref(ty) {
            let inner = &rf.elem;
            quote! {
                let #a: ::core::option::Option<&#inner> = match #krate::abi::ref_arg::<#inner>(ctx, #r) {
                    ::core::result::Result::Ok(v) => v,
                    ::core::result::Result::Err(e) => return #krate::abi::arg_fail(ctx, #kname, #argno, e),
                };
            }
        } else if let Type::Reference(rf) = strip(ty) {
            let inner = &rf.elem;
            quote! {
                let #a: &#inner = match #krate::abi::ref_arg::<#inner>(ctx, #r) {
                    ::core::result::Result::Ok(::core::option::Option::Some(v)) => v,
                    ::core::result::Result::Ok(::core::option::Option::None) => {
                        return #krate::abi::arg_fail(ctx, #kname, #argno, #krate::abi::RefArgError::Null)
                    }
                    ::core::result::Result::Err(e) => return #krate::abi::arg_fail(ctx, #kname, #argno, e),
                };
            }
        } else {
            quote_spanned!(ty.span()=> let #a = <#ty as #krate::abi::KfuncArg>::from_reg(#r);)
        };
        conversions.push(conv);
        call_args.push(quote!(#a));
    }
    let (ret_ty, ret_ctype) = match &sig.output {
        ReturnType::Default => (quote!(()), quote!(#krate::ctype::CType::Void)),
        ReturnType::Type(_, t) => (t.to_token_stream(), ctype_expr(t, krate, Place::Ret)?),
    };
    let ret_span = match &sig.output {
        ReturnType::Default => sig.span(),
        ReturnType::Type(_, t) => t.span(),
    };

    let mut flag_expr = quote!(#krate::KfFlags::empty());
    for (word, span) in &attr.flags {
        let c = FLAG_WORDS.iter().find(|(w, _)| w == word).map(|(_, c)| *c).unwrap_or("ACQUIRE");
        let c = format_ident!("{}", c, span = *span);
        flag_expr = quote!(#flag_expr.union(#krate::KfFlags::#c));
    }
    let deprecation = attr.deprecated.clone().unwrap_or_else(|| quote!(::core::option::Option::None));
    let param_descs = params.iter().map(|(n, t)| quote!(#krate::ctype::ParamDesc { name: #n, ty: &#t }));
    let unused_regs: Vec<_> = (reg + 1..=MAX_ARGS).map(|i| format_ident!("r{}", i)).collect();
    let vis = &func.vis;
    let ivis = inner_vis(vis);
    let mod_doc = format!("The kfunc `{kname}`: its descriptor [`KFUNC`] and native entry point [`entry`].");
    let entry_doc =
        format!("Native entry point of the kfunc `{kname}` (a `kfvm_vm::HostFn`): R1–R5 in, R0 out.");
    let allow_names = if any_double_underscore { quote!(#[allow(non_snake_case)]) } else { quote!() };
    let ret_conv = quote_spanned!(ret_span=> <#ret_ty as #krate::abi::KfuncRet>::into_reg(ret));

    Ok(quote! {
        #allow_names
        #func

        #[doc = #mod_doc]
        #vis mod #fn_ident {
            #[allow(unused_imports)]
            use super::*;

            /// The kfunc's descriptor: name, BTF prototype, flags, deprecation, entry point.
            #ivis static KFUNC: #krate::KfuncDesc = #krate::KfuncDesc {
                name: #kname,
                params: &[#(#param_descs),*],
                ret: &#ret_ctype,
                flags: #flag_expr,
                deprecation: #deprecation,
                entry: entry,
                // The module is named after the function: its path is the function's.
                rust_path: ::core::module_path!(),
            };

            #[doc = #entry_doc]
            #[allow(unused_variables)]
            #ivis extern "C" fn entry(
                ctx: &mut #krate::CallCtx,
                r1: u64,
                r2: u64,
                r3: u64,
                r4: u64,
                r5: u64,
            ) -> u64 {
                let _ = (#(#unused_regs,)*);
                #(#conversions)*
                let ret: #ret_ty = super::#fn_ident(#(#call_args),*);
                #ret_conv
            }
        }
    })
}

// ---------------------------------------------------------------------------------------------
// #[derive(HostType)]

#[derive(Default)]
struct BtfAttrs {
    name: Option<LitStr>,
    krate: Option<Path>,
    opaque: bool,
    typedef: bool,
    skip: bool,
    tags: Vec<LitStr>,
}

fn parse_btf_attrs(attrs: &[Attribute], container: bool) -> syn::Result<BtfAttrs> {
    let mut out = BtfAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("btf")) {
        let metas: Punctuated<Meta, Token![,]> = attr.parse_args_with(Punctuated::parse_terminated)?;
        for meta in metas {
            let span = meta.span();
            match &meta {
                Meta::NameValue(nv) if nv.path.is_ident("name") => out.name = Some(lit_str(&nv.value)?),
                Meta::NameValue(nv) if container && nv.path.is_ident("crate") => {
                    out.krate = Some(parse_crate_path(&nv.value)?)
                }
                Meta::NameValue(nv) if !container && nv.path.is_ident("type_tag") => out.tags.push(lit_str(&nv.value)?),
                Meta::Path(p) if container && p.is_ident("opaque") => out.opaque = true,
                Meta::Path(p) if container && p.is_ident("typedef") => out.typedef = true,
                Meta::Path(p) if !container && p.is_ident("skip") => out.skip = true,
                Meta::Path(p) if !container => {
                    let tag = match p.get_ident().map(|i| i.to_string()).as_deref() {
                        Some("rcu") => "rcu",
                        Some("kptr") => "kptr",
                        Some("percpu_kptr") => "percpu_kptr",
                        Some("percpu") => "percpu",
                        Some("user") => "user",
                        _ => {
                            return err(
                                p,
                                "expected `name = \"..\"`, `skip`, `type_tag = \"..\"` or a tag: `rcu`, `kptr`, `percpu_kptr`, `percpu`, `user`",
                            )
                        }
                    };
                    out.tags.push(LitStr::new(tag, span));
                }
                _ if container => {
                    return err(&meta, "expected `name = \"..\"`, `opaque`, `typedef` or `crate = path`")
                }
                _ => {
                    return err(
                        &meta,
                        "expected `name = \"..\"`, `skip`, `type_tag = \"..\"` or a tag: `rcu`, `kptr`, `percpu_kptr`, `percpu`, `user`",
                    )
                }
            }
        }
    }
    Ok(out)
}

/// `TaskStruct` → `task_struct`, `BpfCpumask` → `bpf_cpumask`, `XDPMd` → `xdp_md`.
fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// The words of every `#[repr(...)]`.
fn reprs(attrs: &[Attribute]) -> syn::Result<Vec<String>> {
    let mut out = Vec::new();
    for a in attrs.iter().filter(|a| a.path().is_ident("repr")) {
        let metas: Punctuated<Meta, Token![,]> = a.parse_args_with(Punctuated::parse_terminated)?;
        for m in metas {
            if let Some(i) = m.path().get_ident() {
                out.push(i.to_string());
            }
        }
    }
    Ok(out)
}

/// `#[derive(HostType)]`: describes a host type for the host BTF.
///
/// - `#[repr(C)]` structs and unions: each named field becomes a member with its offset
///   (`offset_of!`). Field attributes: `#[btf(name = "...")]`, `#[btf(skip)]` (host-only
///   bookkeeping, invisible to programs), and type tags on pointer fields: `#[btf(rcu)]`,
///   `#[btf(kptr)]`, `#[btf(percpu_kptr)]`, `#[btf(percpu)]`, `#[btf(user)]`,
///   `#[btf(type_tag = "...")]` (emitted as `PTR -> TYPE_TAG -> pointee`, as clang does).
/// - fieldless enums with `#[repr(C)]` or an integer repr: an ENUM (ENUM64 if a value needs it).
/// - `#[btf(typedef)]` on a `#[repr(transparent)]` one-field tuple struct: a TYPEDEF of the field's type.
/// - `#[btf(opaque)]`: a forward declaration (`struct name;`) for a type programs only point at.
///
/// The BTF name is the snake_case of the Rust name unless `#[btf(name = "...")]` says otherwise.
#[proc_macro_derive(HostType, attributes(btf))]
pub fn derive_host_type(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand_host_type(&input) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn expand_host_type(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let cattrs = parse_btf_attrs(&input.attrs, true)?;
    let krate = cattrs.krate.clone().unwrap_or_else(default_crate);
    let ident = &input.ident;
    if !input.generics.params.is_empty() {
        return err(&input.generics, "a host type cannot be generic: it has one BTF description");
    }
    let name = cattrs.name.as_ref().map(|n| n.value()).unwrap_or_else(|| snake_case(&ident_name(ident)));
    let rust_name = ident.to_string();
    let reprs = reprs(&input.attrs)?;
    let has = |w: &str| reprs.iter().any(|r| r == w);
    let int_repr = reprs.iter().any(|r| {
        matches!(r.as_str(), "u8" | "u16" | "u32" | "u64" | "i8" | "i16" | "i32" | "i64" | "usize" | "isize")
    });
    let hk = quote!(#krate::ctype::HostKind);

    let kind = if cattrs.opaque {
        quote!(#hk::Opaque)
    } else if cattrs.typedef {
        if !has("transparent") {
            return err(ident, "a `#[btf(typedef)]` type must be `#[repr(transparent)]`");
        }
        let Data::Struct(s) = &input.data else {
            return err(ident, "`#[btf(typedef)]` applies to a one-field tuple struct");
        };
        let Fields::Unnamed(f) = &s.fields else {
            return err(ident, "`#[btf(typedef)]` applies to a one-field tuple struct");
        };
        let Some(field) = f.unnamed.first().filter(|_| f.unnamed.len() == 1) else {
            return err(ident, "`#[btf(typedef)]` applies to a one-field tuple struct");
        };
        let t = ctype_expr(&field.ty, &krate, Place::Field)?;
        quote!(#hk::Typedef(&#t))
    } else {
        match &input.data {
            Data::Struct(s) => {
                if !has("C") {
                    return err(
                        ident,
                        "a host struct must be `#[repr(C)]`: its layout is what programs read",
                    );
                }
                let members = members(ident, &s.fields, &krate)?;
                quote!(#hk::Struct(&[#(#members),*]))
            }
            Data::Union(u) => {
                if !has("C") {
                    return err(ident, "a host union must be `#[repr(C)]`");
                }
                let members = members(ident, &Fields::Named(u.fields.clone()), &krate)?;
                quote!(#hk::Union(&[#(#members),*]))
            }
            Data::Enum(e) => {
                if !has("C") && !int_repr {
                    return err(ident, "a host enum must be `#[repr(C)]` or have an integer repr");
                }
                let mut vals = Vec::new();
                for v in &e.variants {
                    if !matches!(v.fields, Fields::Unit) {
                        return err(v, "a host enum's variants carry no data: it is a C enum");
                    }
                    let vattrs = parse_btf_attrs(&v.attrs, false)?;
                    let vname = vattrs.name.map(|n| n.value()).unwrap_or_else(|| ident_name(&v.ident));
                    let vi = &v.ident;
                    vals.push(
                        quote!(#krate::ctype::EnumeratorDesc { name: #vname, value: #ident::#vi as i64 }),
                    );
                }
                quote!(#hk::Enum(&[#(#vals),*]))
            }
        }
    };
    let size = if cattrs.opaque { quote!(0) } else { quote!(::core::mem::size_of::<#ident>() as u32) };
    Ok(quote! {
        impl #krate::ctype::HostType for #ident {
            fn host_type() -> &'static #krate::ctype::HostTypeDesc {
                static DESC: #krate::ctype::HostTypeDesc = #krate::ctype::HostTypeDesc {
                    name: #name,
                    rust_name: #rust_name,
                    kind: #kind,
                    size: #size,
                };
                &DESC
            }
        }
        impl #krate::ctype::BtfRepr for #ident {
            const CTYPE: #krate::ctype::CType =
                #krate::ctype::CType::Host(<#ident as #krate::ctype::HostType>::host_type);
        }
    })
}

fn members(ident: &syn::Ident, fields: &Fields, krate: &Path) -> syn::Result<Vec<TokenStream2>> {
    let Fields::Named(named) = fields else {
        if matches!(fields, Fields::Unit) {
            return Ok(Vec::new());
        }
        return err(fields, "host struct fields need names: they are what CO-RE matches on");
    };
    let mut out = Vec::new();
    for f in &named.named {
        let fattrs = parse_btf_attrs(&f.attrs, false)?;
        if fattrs.skip {
            if !fattrs.tags.is_empty() || fattrs.name.is_some() {
                return err(f, "a `skip`ped field takes no other btf attribute");
            }
            continue;
        }
        let Some(fid) = &f.ident else { continue };
        let fname = fattrs.name.map(|n| n.value()).unwrap_or_else(|| ident_name(fid));
        let ty = if fattrs.tags.is_empty() {
            ctype_expr(&f.ty, krate, Place::Field)?
        } else {
            let Type::Ptr(p) = &f.ty else {
                return err(&f.ty, "type tags (`rcu`, `kptr`, `type_tag = ..`) apply to pointer fields");
            };
            let ct = quote!(#krate::ctype::CType);
            let mut inner = ctype_expr(&p.elem, krate, Place::Pointee)?;
            if p.const_token.is_some() {
                inner = quote!(#ct::Const(&#inner));
            }
            // clang emits the tags between the pointer and the pointee, last-written outermost.
            for tag in fattrs.tags.iter() {
                inner = quote!(#ct::TypeTag(#tag, &#inner));
            }
            quote!(#ct::Ptr(&#inner))
        };
        out.push(quote! {
            #krate::ctype::MemberDesc {
                name: #fname,
                offset: ::core::mem::offset_of!(#ident, #fid) as u32,
                ty: &#ty,
            }
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{expand_host_type, expand_kfunc, snake_case};
    use quote::quote;

    fn kfunc_err(attr: proc_macro2::TokenStream, f: syn::ItemFn) -> String {
        match expand_kfunc(attr, &f) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn unsupported_kfuncs_are_clear_errors() {
        let cases: Vec<(proc_macro2::TokenStream, syn::ItemFn, &str)> = vec![
            (
                quote!(),
                syn::parse_quote!(
                    fn f(a: u64, b: u64, c: u64, d: u64, e: u64, g: u64) {}
                ),
                "at most 5 arguments",
            ),
            (
                quote!(),
                syn::parse_quote!(
                    fn f(x: f64) {}
                ),
                "floating-point",
            ),
            (
                quote!(),
                syn::parse_quote!(
                    fn f() -> f32 {
                        0.0
                    }
                ),
                "floating-point",
            ),
            (
                quote!(),
                syn::parse_quote!(
                    fn f(x: u128) {}
                ),
                "128-bit",
            ),
            (
                quote!(),
                syn::parse_quote!(
                    fn f(x: &mut u64) {}
                ),
                "cannot be `&mut T`",
            ),
            (
                quote!(),
                syn::parse_quote!(
                    fn f(x: Option<&mut u64>) {}
                ),
                "cannot be `Option<&mut T>`",
            ),
            (
                quote!(),
                syn::parse_quote!(
                    fn f() -> &'static u64 {
                        &0
                    }
                ),
                "cannot return a reference",
            ),
            (
                quote!(),
                syn::parse_quote!(
                    fn f(x: [u8; 4]) {}
                ),
                "arrays cannot be passed",
            ),
            (
                quote!(),
                syn::parse_quote!(
                    fn f(x: String) {}
                ),
                "`String` has no C type",
            ),
            (
                quote!(),
                syn::parse_quote!(
                    fn f(x: Vec<u8>) {}
                ),
                "`Vec` has no C type",
            ),
            (
                quote!(),
                syn::parse_quote!(
                    fn f(x: &[u8]) {}
                ),
                "slices have no C type",
            ),
            (
                quote!(),
                syn::parse_quote!(
                    fn f(x: fn(u32) -> u32) {}
                ),
                "Callback<fn",
            ),
            (
                quote!(),
                syn::parse_quote!(
                    fn f(x: c_void) {}
                ),
                "only has a meaning behind a pointer",
            ),
            (
                quote!(),
                syn::parse_quote!(
                    fn f((a, b): (u32, u32)) {}
                ),
                "plain names",
            ),
            (
                quote!(),
                syn::parse_quote!(
                    fn f<T>(x: T) {}
                ),
                "cannot be generic",
            ),
            (
                quote!(),
                syn::parse_quote!(
                    async fn f() {}
                ),
                "cannot be async",
            ),
            (
                quote!(),
                syn::parse_quote!(
                    unsafe fn f() {}
                ),
                "cannot be `unsafe fn`",
            ),
            (
                quote!(acquire, bogus),
                syn::parse_quote!(
                    fn f() {}
                ),
                "unknown kfunc flag `bogus`",
            ),
            (
                quote!(acquire, acquire),
                syn::parse_quote!(
                    fn f() {}
                ),
                "given twice",
            ),
            (
                quote!(deprecated(removed_in = "six")),
                syn::parse_quote!(
                    fn f() {}
                ),
                "is not a version",
            ),
            (
                quote!(deprecated(when = "x")),
                syn::parse_quote!(
                    fn f() {}
                ),
                "expected `note`",
            ),
        ];
        for (attr, f, want) in cases {
            let got = kfunc_err(attr, f);
            assert!(got.contains(want), "wanted {want:?}, got {got:?}");
        }
    }

    #[test]
    fn ctx_first_is_not_a_bpf_argument() {
        // Five BPF arguments after the context are fine.
        let f: syn::ItemFn = syn::parse_quote!(
            fn f(ctx: &mut CallCtx, a: u64, b: u64, c: u64, d: u64, e: u64) {}
        );
        assert!(expand_kfunc(quote!(), &f).is_ok());
    }

    #[test]
    fn host_type_errors() {
        let cases: Vec<(syn::DeriveInput, &str)> = vec![
            (
                syn::parse_quote!(
                    struct S {
                        a: u32,
                    }
                ),
                "must be `#[repr(C)]`",
            ),
            (
                syn::parse_quote!(
                    #[repr(C)]
                    struct S<T> {
                        a: T,
                    }
                ),
                "cannot be generic",
            ),
            (
                syn::parse_quote!(
                    #[repr(C)]
                    struct S {
                        a: &'static u32,
                    }
                ),
                "raw pointers",
            ),
            (
                syn::parse_quote!(
                    #[repr(C)]
                    struct S {
                        #[btf(rcu)]
                        a: u32,
                    }
                ),
                "apply to pointer fields",
            ),
            (
                syn::parse_quote!(
                    #[repr(C)]
                    struct S {
                        #[btf(bogus)]
                        a: *mut u32,
                    }
                ),
                "expected `name",
            ),
            (
                syn::parse_quote!(
                    #[repr(C)]
                    enum E {
                        A(u32),
                    }
                ),
                "carry no data",
            ),
            (
                syn::parse_quote!(
                    enum E {
                        A,
                    }
                ),
                "`#[repr(C)]` or have an integer repr",
            ),
            (
                syn::parse_quote!(
                    #[btf(typedef)]
                    #[repr(C)]
                    struct T(u32);
                ),
                "must be `#[repr(transparent)]`",
            ),
            (
                syn::parse_quote!(
                    #[repr(C)]
                    struct S(u32);
                ),
                "fields need names",
            ),
        ];
        for (input, want) in cases {
            let got = match expand_host_type(&input) {
                Ok(_) => panic!("expected an error for {want}"),
                Err(e) => e.to_string(),
            };
            assert!(got.contains(want), "wanted {want:?}, got {got:?}");
        }
    }

    #[test]
    fn snake_case_names() {
        assert_eq!(snake_case("TaskStruct"), "task_struct");
        assert_eq!(snake_case("BpfCpumask"), "bpf_cpumask");
        assert_eq!(snake_case("XDPMd"), "xdp_md");
        assert_eq!(snake_case("CgroupSubsysState"), "cgroup_subsys_state");
        assert_eq!(snake_case("BpfIterNum"), "bpf_iter_num");
        assert_eq!(snake_case("Cpumask"), "cpumask");
    }
}
