//! `bpf_trace_printk` and `bpf_trace_vprintk`: the kernel's format rules
//! (`bpf_bprintf_prepare` in kernel/bpf/helpers.c) and its output.
//!
//! The format must be NUL-terminated within its size and printable; conversions are `%%`,
//! `%d %i %u %x %X` with `l`/`ll` (32-bit without), `%c`, `%s`, `%p` and its `%pK %px %pB %pi4
//! %pI4 %pi6 %pI6 %pks %pus` forms, each after optional `0 +-` flags and a width. At most 3
//! arguments for `bpf_trace_printk`, 12 for `bpf_trace_vprintk`. Anything else is `-EINVAL`, as
//! in the kernel. Strings (`%s`) are read from memory the run may read, up to 512 bytes
//! (`MAX_BPRINTF_BUF`); an unreadable one prints as `(efault)`. Plain `%p` prints the address
//! as `%px` does (kfvm hashes no pointers).

use kfvm_vm::CallCtx;

/// `MAX_TRACE_PRINTK_VARARGS`.
pub const MAX_TRACE_PRINTK_VARARGS: usize = 3;
/// `MAX_BPRINTF_VARARGS`.
pub const MAX_BPRINTF_VARARGS: usize = 12;
const MAX_STR: usize = 512;
const EINVAL: i64 = 22;

fn read_cstr(ctx: &CallCtx, addr: u64, max: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    while out.len() < max {
        let a = addr.checked_add(out.len() as u64)?;
        if !ctx.can_access(a, 1, false) {
            return None;
        }
        // SAFETY: one readable byte of the run's memory.
        let b = unsafe { *(a as *const u8) };
        if b == 0 {
            break;
        }
        out.push(b);
    }
    Some(out)
}

fn read_bytes(ctx: &CallCtx, addr: u64, n: usize) -> Option<Vec<u8>> {
    if !ctx.can_access(addr, n as u64, false) {
        return None;
    }
    // SAFETY: `n` readable bytes of the run's memory.
    Some(unsafe { std::slice::from_raw_parts(addr as *const u8, n) }.to_vec())
}

fn pad(s: String, width: usize, left: bool, zero: bool) -> String {
    if s.len() >= width {
        return s;
    }
    let fill = width - s.len();
    if left {
        format!("{s}{}", " ".repeat(fill))
    } else if zero {
        let (sign, digits) =
            if s.starts_with('-') || s.starts_with('+') { s.split_at(1) } else { ("", s.as_str()) };
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{s}", " ".repeat(fill))
    }
}

/// Formats `fmt` (the bytes at `fmt_addr`, `fmt_size` long) with `args`, as
/// `bpf_bprintf_prepare` + `bstr_printf` would; `Err(-EINVAL)` where the kernel refuses.
pub fn format(
    ctx: &CallCtx,
    fmt_addr: u64,
    fmt_size: u64,
    args: &[u64],
    max_args: usize,
) -> Result<String, i64> {
    if fmt_size == 0 || fmt_size > 1 << 16 {
        return Err(-EINVAL);
    }
    let fmt = read_bytes(ctx, fmt_addr, fmt_size as usize).ok_or(-EINVAL)?;
    let Some(end) = fmt.iter().position(|&b| b == 0) else { return Err(-EINVAL) };
    let fmt = &fmt[..end];
    let mut out = String::new();
    let mut argi = 0usize;
    let mut next_arg = || -> Result<u64, i64> {
        if argi >= max_args || argi >= args.len() {
            return Err(-EINVAL);
        }
        argi += 1;
        Ok(args[argi - 1])
    };
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        if !(c.is_ascii_graphic() || c.is_ascii_whitespace() || c == b' ') {
            return Err(-EINVAL);
        }
        if c != b'%' {
            out.push(c as char);
            i += 1;
            continue;
        }
        i += 1;
        if fmt.get(i) == Some(&b'%') {
            out.push('%');
            i += 1;
            continue;
        }
        let (mut left, mut zero, mut plus, mut space) = (false, false, false, false);
        while let Some(&f) = fmt.get(i) {
            match f {
                b'-' => left = true,
                b'0' => zero = true,
                b'+' => plus = true,
                b' ' => space = true,
                _ => break,
            }
            i += 1;
        }
        let mut width = 0usize;
        if matches!(fmt.get(i), Some(b'1'..=b'9')) {
            while let Some(d @ b'0'..=b'9') = fmt.get(i) {
                width = (width * 10 + (d - b'0') as usize).min(4096);
                i += 1;
            }
        }
        match fmt.get(i) {
            Some(b'p') => {
                i += 1;
                let v = next_arg()?;
                let m = fmt.get(i).copied();
                let s = match m {
                    Some(b'K') | Some(b'x') | Some(b'B') => {
                        i += 1;
                        format!("{v:016x}")
                    }
                    Some(b'i') | Some(b'I') => {
                        let ver = fmt.get(i + 1).copied();
                        let big = m == Some(b'I');
                        i += 2;
                        match ver {
                            Some(b'4') => {
                                let b = read_bytes(ctx, v, 4).ok_or(-EINVAL)?;
                                if big {
                                    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
                                } else {
                                    format!("{:03}.{:03}.{:03}.{:03}", b[0], b[1], b[2], b[3])
                                }
                            }
                            Some(b'6') => {
                                let b = read_bytes(ctx, v, 16).ok_or(-EINVAL)?;
                                let words: Vec<String> = b
                                    .chunks(2)
                                    .map(|w| {
                                        if big {
                                            format!("{:x}", u16::from_be_bytes([w[0], w[1]]))
                                        } else {
                                            format!("{:02x}{:02x}", w[0], w[1])
                                        }
                                    })
                                    .collect();
                                words.join(if big { ":" } else { "" })
                            }
                            _ => return Err(-EINVAL),
                        }
                    }
                    Some(b'k') | Some(b'u') => {
                        if fmt.get(i + 1) != Some(&b's') {
                            return Err(-EINVAL);
                        }
                        i += 2;
                        match read_cstr(ctx, v, MAX_STR) {
                            Some(s) => String::from_utf8_lossy(&s).into_owned(),
                            None => "(efault)".into(),
                        }
                    }
                    _ => format!("{v:016x}"),
                };
                out.push_str(&pad(s, width, left, false));
            }
            Some(b'c') => {
                i += 1;
                let v = next_arg()? as u8;
                out.push_str(&pad((v as char).to_string(), width, left, false));
            }
            Some(b's') => {
                i += 1;
                let v = next_arg()?;
                let s = match read_cstr(ctx, v, MAX_STR) {
                    Some(s) => String::from_utf8_lossy(&s).into_owned(),
                    None => "(efault)".into(),
                };
                out.push_str(&pad(s, width, left, false));
            }
            _ => {
                let mut long = false;
                if fmt.get(i) == Some(&b'l') {
                    long = true;
                    i += 1;
                }
                if fmt.get(i) == Some(&b'l') {
                    i += 1;
                }
                let conv = *fmt.get(i).ok_or(-EINVAL)?;
                i += 1;
                let v = next_arg()?;
                let s = match conv {
                    b'd' | b'i' => {
                        let n = if long { v as i64 } else { v as u32 as i32 as i64 };
                        let sign = if n >= 0 && plus {
                            "+"
                        } else if n >= 0 && space {
                            " "
                        } else {
                            ""
                        };
                        format!("{sign}{n}")
                    }
                    b'u' => {
                        if long {
                            v.to_string()
                        } else {
                            (v as u32).to_string()
                        }
                    }
                    b'x' | b'X' => {
                        let n = if long { v } else { v as u32 as u64 };
                        if conv == b'x' {
                            format!("{n:x}")
                        } else {
                            format!("{n:X}")
                        }
                    }
                    _ => return Err(-EINVAL),
                };
                out.push_str(&pad(s, width, left, zero && !left));
            }
        }
    }
    Ok(out)
}
