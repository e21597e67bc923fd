//! One program run against the kernel model: [`RunCtx`], what a kfunc or helper finds behind
//! [`CallCtx::host_data`].

use crate::model::Kernel;
use crate::types::TaskStruct;
use kfvm_kfunc::CallCtx;
use std::cell::Cell;
use std::ffi::c_void;

/// The state of one program run: the kernel, the current task and CPU, the run's RCU read-side
/// section, and what the runtime adds ([`RunCtx::ext`]).
///
/// The runtime starts a run with [`RunCtx::new`] and passes its address as the run's host data.
pub struct RunCtx {
    /// The kernel model.
    pub kernel: Kernel,
    /// The RCU read-side section this run holds (objects released during the run stay valid
    /// until it ends).
    _rcu: crossbeam_epoch::Guard,
    /// `current` (`bpf_get_current_task`).
    pub current: *mut TaskStruct,
    /// The CPU the program runs on (`bpf_get_smp_processor_id`).
    pub cpu: u32,
    /// The packet of an XDP run: `[data, data_end)`.
    pub packet: Option<(u64, u64)>,
    /// Sizes of the program's BTF types, for `bpf_obj_new` (type id → size).
    pub obj_sizes: Vec<(u32, u32)>,
    /// The runtime's own state for this run (maps, output), opaque to the kernel model.
    pub ext: *mut c_void,
    /// `bpf_rcu_read_lock` nesting.
    pub rcu_nest: Cell<u32>,
    /// `bpf_preempt_disable` nesting.
    pub preempt_nest: Cell<u32>,
    /// `bpf_local_irq_save` nesting.
    pub irq_nest: Cell<u32>,
    /// The references the program owns now (acquired, or taken out of a map with
    /// `bpf_kptr_xchg`): what the verifier tracks, checked at run time for runs it did not
    /// check. A release must give back one of them; what is left when the run ends is a leak.
    pub owned: std::cell::RefCell<Vec<u64>>,
}

impl std::fmt::Debug for RunCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunCtx").field("current", &self.current).field("cpu", &self.cpu).finish()
    }
}

impl RunCtx {
    /// Starts a run on `cpu` with `current` (NULL: the idle task): enters the RCU read-side
    /// section that lasts until the `RunCtx` is dropped.
    pub fn new(kernel: &Kernel, current: *mut TaskStruct, cpu: u32) -> RunCtx {
        let rcu = kernel.rcu_read_lock();
        RunCtx {
            current: if current.is_null() { kernel.idle_task() } else { current },
            kernel: kernel.clone(),
            _rcu: rcu,
            cpu: cpu.min(kernel.nr_cpu_ids() - 1),
            packet: None,
            obj_sizes: Vec::new(),
            ext: std::ptr::null_mut(),
            rcu_nest: Cell::new(0),
            preempt_nest: Cell::new(0),
            irq_nest: Cell::new(0),
            owned: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// The run's context behind a host call, if the run was started with one.
    pub fn of<'a>(ctx: &CallCtx) -> Option<&'a RunCtx> {
        let p = ctx.host_data() as *const RunCtx;
        // SAFETY: runs of the kernel model are started with the address of their `RunCtx` as
        // host data (`RunCtx::new`'s contract with the runtime), which outlives the run; a null
        // host pointer means no kernel model.
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// Records that the program owns a new reference to the object at `p` (if not NULL); `p`.
    pub fn own<T>(&self, p: *mut T) -> *mut T {
        if !p.is_null() {
            self.owned.borrow_mut().push(p as u64);
        }
        p
    }

    /// Takes back one reference the program owns to the object at `addr`; `false` if it owns
    /// none.
    pub fn disown(&self, addr: u64) -> bool {
        let mut o = self.owned.borrow_mut();
        match o.iter().rposition(|&a| a == addr) {
            Some(i) => {
                o.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// Whether the run is inside `bpf_rcu_read_lock` (or, as for the kernel's programs, always
    /// inside RCU: every run is a read-side section).
    pub fn in_rcu(&self) -> bool {
        true
    }
}

/// Ends the run: the kfunc was called with no kernel model behind the run.
#[cold]
pub(crate) fn no_kernel<R: kfvm_kfunc::abi::KfuncRet>(ctx: &mut CallCtx, name: &str) -> R {
    ctx.fail(format!("kfunc {name}: this run has no kernel model (start it with a kfvm_kernel::RunCtx)"));
    R::zeroed()
}

/// Ends the run: argument `argno` of `name` is not what it must be.
#[cold]
pub(crate) fn bad_arg<R: kfvm_kfunc::abi::KfuncRet>(
    ctx: &mut CallCtx,
    name: &str,
    argno: usize,
    what: &str,
    v: u64,
) -> R {
    ctx.fail(format!("kfunc {name}: arg#{argno}: {v:#x} is not {what}"));
    R::zeroed()
}

/// Drops the reference a program passes to a release kfunc (`name`): ends the run if `addr` is
/// no live `what` of `kind`, or if its count is already zero (a reference the program does not
/// hold: the verifier would have refused the program).
pub(crate) fn release(ctx: &mut CallCtx, rc: &RunCtx, name: &str, kind: crate::Kind, addr: u64, what: &str) {
    match rc.kernel.0.cache(kind).index_of(addr) {
        None => bad_arg::<()>(ctx, name, 0, what, addr),
        Some(_) if !rc.disown(addr) => ctx.fail(format!(
            "kfunc {name}: arg#0: the program releases a reference to {what} {addr:#x} it does not own"
        )),
        Some(i) => {
            if !rc.kernel.put(kind, i) {
                ctx.fail(format!("kfunc {name}: arg#0: {addr:#x} is a {what} whose reference is not held"));
            }
        }
    }
}

/// `let rc = kernel!(ctx, "name");`: the run's [`RunCtx`], or the kfunc ends the run.
macro_rules! kernel {
    ($ctx:ident, $name:literal) => {
        match $crate::run::RunCtx::of($ctx) {
            Some(rc) => rc,
            None => return $crate::run::no_kernel($ctx, $name),
        }
    };
}
pub(crate) use kernel;
