//! `kfvm run` and `kfvm test-run`: an object's programs against the kernel model.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use crate::json::js;
use kfvm::kernel::{ArgSpec, Kernel, KernelConfig, ModelSpec};
use kfvm::link::{link, Target};
use kfvm::runtime::{LoadOptions, Mode, Runtime};

/// The model: a model file, or a snapshot of this machine.
fn model(path: Option<&Path>) -> Result<ModelSpec, String> {
    match path {
        Some(p) => ModelSpec::load(p).map_err(|e| e.to_string()),
        None => Ok(ModelSpec::snapshot()),
    }
}

fn load(obj_path: &Path, spec: &ModelSpec, opts: &LoadOptions) -> Result<Runtime, String> {
    let kernel =
        Kernel::from_spec(spec, KernelConfig::default()).map_err(|e| format!("{}: {e}", spec.origin))?;
    let registry = kfvm::kernel::registry();
    let obj = kfvm::object::Object::open(obj_path).map_err(|e| format!("{}: {e}", obj_path.display()))?;
    let target = Target::from_registry(&registry).map_err(|e| format!("host BTF: {e}"))?;
    let linked = link(&obj, &target).map_err(|e| format!("{}: {e}", obj_path.display()))?;
    let rt = Runtime::load(&kernel, &registry, &linked, opts)
        .map_err(|e| format!("{}: {e}", obj_path.display()))?;
    for p in rt.progs() {
        for w in &p.warnings {
            eprintln!("kfvm: {}: {w}", p.name);
        }
    }
    let checked: Vec<(&str, &str)> = rt
        .progs()
        .iter()
        .filter_map(|p| match &p.mode {
            Mode::Checked(why) => Some((p.name.as_str(), why.as_str())),
            Mode::Verified => None,
        })
        .collect();
    if let Some((_, why)) = checked.first() {
        let names: Vec<&str> = checked.iter().map(|(n, _)| *n).collect();
        eprintln!(
            "kfvm: the verifier cannot decide yet ({why}); running {} in the interpreter's checked mode",
            names.join(", ")
        );
    }
    Ok(rt)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub(crate) fn cmd_run(
    obj: &Path,
    model_path: Option<&Path>,
    show_maps: bool,
    no_verify: bool,
) -> Result<ExitCode, String> {
    let spec = model(model_path)?;
    let rt = load(obj, &spec, &LoadOptions { no_verify, only: None })?;
    rt.set_printk_sink(|line| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    });
    let mut errors = 0usize;
    rt.replay(&spec, |e| {
        errors += 1;
        eprintln!("kfvm: {e}");
    })
    .map_err(|e| e.to_string())?;
    println!();
    println!("{:<28} {:<28} {:>8} {:>12}  mode", "program", "hook", "runs", "avg ns");
    for p in rt.progs() {
        let (runs, ns) = p.stats();
        let avg = ns.checked_div(runs).unwrap_or(0);
        let mode = match p.mode {
            Mode::Verified => "verified",
            Mode::Checked(_) => "checked",
        };
        println!("{:<28} {:<28} {:>8} {:>12}  {mode}", p.name, p.hook.to_string(), runs, avg);
    }
    if show_maps {
        for m in rt.maps() {
            println!();
            let s = m.spec();
            println!(
                "map {} (type {}, key {} B, value {} B, max_entries {})",
                s.name, s.map_type, s.key_size, s.value_size, s.max_entries
            );
            if !s.vars.is_empty() {
                // Global data: each variable, integers in decimal.
                let v = m.get(&0u32.to_ne_bytes()).unwrap_or_default();
                for (name, off, size) in &s.vars {
                    let b = v.get(*off as usize..(*off + *size) as usize).unwrap_or(&[]);
                    let shown = match b.len() {
                        1 | 2 | 4 | 8 => {
                            let mut w = [0u8; 8];
                            w[..b.len()].copy_from_slice(b);
                            u64::from_le_bytes(w).to_string()
                        }
                        _ if is_c_string(b) => {
                            let n = b.iter().position(|&c| c == 0).unwrap_or(b.len());
                            format!("{:?}", String::from_utf8_lossy(&b[..n]))
                        }
                        _ => hex(b),
                    };
                    println!("  {name} = {shown}");
                }
                continue;
            }
            if let Some(rb) = m.ringbuf() {
                let n = rb.consume(|rec| println!("  record {}", hex(rec)));
                println!("  {n} records");
                continue;
            }
            let mut shown = 0;
            for k in m.keys() {
                if let Some(v) = m.get(&k) {
                    if s.map_type == kfvm::runtime::maps::map_type::ARRAY
                        && v.iter().all(|&b| b == 0)
                        && s.max_entries > 1
                    {
                        continue;
                    }
                    println!("  {}: {}", hex(&k), hex(&v));
                    shown += 1;
                }
            }
            if shown == 0 {
                println!("  (empty)");
            }
        }
    }
    let kernel = rt.kernel().clone();
    drop(rt);
    kernel.synchronize_rcu();
    Ok(if errors == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn cmd_test_run(
    obj: &Path,
    prog: &str,
    args: &[String],
    data_in: Option<&Path>,
    repeat: u32,
    model_path: Option<&Path>,
    json: bool,
    no_verify: bool,
) -> Result<ExitCode, String> {
    let args: Vec<ArgSpec> =
        args.iter().map(|a| ArgSpec::parse(a).map_err(|e| format!("--arg {e}"))).collect::<Result<_, _>>()?;
    let data = match data_in {
        Some(p) => Some(std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => None,
    };
    let spec = model(model_path)?;
    let rt = load(obj, &spec, &LoadOptions { no_verify, only: None })?;
    if rt.prog(prog).is_none() {
        // Programs not loaded by default (`SEC("?...")`) run when named.
        drop(rt);
        let rt = load(obj, &spec, &LoadOptions { no_verify, only: Some(vec![prog.to_string()]) })?;
        return finish_test_run(&rt, prog, &args, data.as_deref(), repeat, json);
    }
    finish_test_run(&rt, prog, &args, data.as_deref(), repeat, json)
}

fn finish_test_run(
    rt: &Runtime,
    prog: &str,
    args: &[ArgSpec],
    data: Option<&[u8]>,
    repeat: u32,
    json: bool,
) -> Result<ExitCode, String> {
    if !json {
        rt.set_printk_sink(|line| println!("{line}"));
    }
    let r = rt.test_run(prog, args, data, repeat).map_err(|e| e.to_string())?;
    let retval = r.retval as u32;
    let mode = match rt.prog(prog).map(|i| &rt.progs()[i].mode) {
        Some(Mode::Verified) => "verified",
        _ => "checked",
    };
    if json {
        let trace: Vec<String> = rt.take_trace().iter().map(|l| js(l)).collect();
        let out = match &r.data_out {
            Some(d) => format!("\"{}\"", hex(d)),
            None => "null".into(),
        };
        println!(
            "{{\"retval\": {retval}, \"duration_ns\": {}, \"repeat\": {}, \"mode\": \"{mode}\", \"data_out\": {out}, \"printk\": [{}]}}",
            r.duration_ns,
            repeat.max(1),
            trace.join(", ")
        );
    } else {
        println!("retval: {retval}");
        println!("duration: {} ns (average of {}, {mode} mode)", r.duration_ns, repeat.max(1));
        if let Some(d) = &r.data_out {
            println!("data_out: {}", hex(d));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A NUL-terminated printable string, zero-padded (`char comm[16]`).
fn is_c_string(b: &[u8]) -> bool {
    match b.iter().position(|&c| c == 0) {
        Some(n) if n > 0 => {
            b[..n].iter().all(|c| c.is_ascii_graphic() || *c == b' ') && b[n..].iter().all(|&c| c == 0)
        }
        _ => false,
    }
}
