//! Which layer writes a tool call's event and which run counts it.

use std::sync::Arc;

use crate::run_state::RunState;
use crate::sink::Emitter;

pub(super) enum Writer {
    /// In a run whose events this same layer writes: reached through the run, a call
    /// clones one `Arc` instead of two.
    Run(Arc<RunState>),
    /// Outside any run, or in a run started under another layer.
    Layer(Arc<Emitter>, Option<Arc<RunState>>),
}

impl Writer {
    pub(super) fn new(emitter: &Arc<Emitter>, run: Option<Arc<RunState>>) -> Writer {
        match run {
            Some(run) if run.emitter().is_some_and(|e| Arc::ptr_eq(e, emitter)) => Writer::Run(run),
            run => Writer::Layer(Arc::clone(emitter), run),
        }
    }

    /// Always `Some` (`Run` is only made for a run with this emitter); an `Option` so
    /// that nothing here can panic.
    pub(super) fn emitter(&self) -> Option<&Emitter> {
        match self {
            Writer::Run(run) => run.emitter().map(|e| &**e),
            Writer::Layer(emitter, _) => Some(emitter),
        }
    }

    pub(super) fn run(&self) -> Option<&RunState> {
        match self {
            Writer::Run(run) => Some(run),
            Writer::Layer(_, run) => run.as_deref(),
        }
    }
}
