//! `kfvm link`: an object linked against a host, as libbpf would load it.

use std::path::Path;
use std::process::ExitCode;

use kfvm::link::{link, Target};

/// What `--target` names: the kernel model, this machine's kernel, or a raw BTF file.
fn target(spec: &str) -> Result<Target, String> {
    match spec {
        "host" => Target::from_registry(&kfvm::kernel::registry()).map_err(|e| format!("host BTF: {e}")),
        "vmlinux" => Target::running_kernel(),
        file => Target::from_btf_file(file),
    }
}

pub(crate) fn cmd_link(
    path: &Path,
    prog: Option<&str>,
    target_spec: &str,
    kconfig: Option<&Path>,
    verbose: bool,
) -> Result<ExitCode, String> {
    let obj = kfvm::object::Object::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut t = target(target_spec)?;
    if let Some(k) = kconfig {
        let text = std::fs::read_to_string(k).map_err(|e| format!("{}: {e}", k.display()))?;
        t = t.with_kconfig(&text);
    }
    let linked = link(&obj, &t).map_err(|e| format!("{}: {e}", path.display()))?;
    if verbose {
        for (warn, line) in &linked.log.lines {
            println!("libbpf: {}{line}", if *warn { "warning: " } else { "" });
        }
        println!();
    }
    print!("{}", linked.dump(prog)?);
    Ok(ExitCode::SUCCESS)
}
