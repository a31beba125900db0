//! [`current`]: the run and step the calling code is in, for code that has no `Run` at
//! hand (a tool forwarding ids as request headers, a helper deep in the agent).

use std::sync::Arc;

use crate::guard::Remaining;
use crate::run_state::RunState;
use crate::schema::{RunUsage, StopReason};
use crate::scope::Hooks;

/// The run (and, inside a tool, the step) the calling code runs in. See [`current`].
pub struct Current {
    run: Arc<RunState>,
    step_id: Option<u64>,
}

/// Where the calling code is: its run, and inside an `#[agent_tool]` call its step.
/// `None` outside any run, or when no `AgentLayer` sees the run's span.
///
/// ```
/// use tracing_agent::{agent_tool, AgentLayer, Run, RunMeta, StopReason};
/// use tracing_subscriber::prelude::*;
///
/// #[agent_tool]
/// fn call_upstream(path: &str) -> String {
///     let here = tracing_agent::current().expect("inside a run");
///     // e.g. as `X-Run-Id` and `X-Step-Id` request headers
///     format!("{path} run={} step={:?}", here.run_id(), here.step_id())
/// }
///
/// let subscriber = tracing_subscriber::registry().with(AgentLayer::new().with_writer(std::io::sink));
/// tracing::subscriber::with_default(subscriber, || {
///     let run = Run::start(RunMeta::new("agent").run_id("r-1"));
///     assert_eq!(run.in_scope(|| call_upstream("/orders")), "/orders run=r-1 step=Some(1)");
///     assert!(tracing_agent::current().is_none(), "outside the run");
///     run.stop(StopReason::Completed);
/// });
/// ```
pub fn current() -> Option<Current> {
    tracing::dispatcher::get_default(|dispatch| {
        let hooks = dispatch.downcast_ref::<Hooks>()?;
        let span = dispatch.current_span();
        let found = hooks.find(dispatch, span.id()?);
        Some(Current {
            run: found.run?,
            step_id: found.parent_step,
        })
    })
}

impl Current {
    /// The run's id.
    pub fn run_id(&self) -> &str {
        self.run.run_id()
    }

    /// The step of the innermost tool call the code runs in, if any.
    pub fn step_id(&self) -> Option<u64> {
        self.step_id
    }

    /// What the run has used so far.
    pub fn usage(&self) -> RunUsage {
        self.run.usage()
    }

    /// What is left of each of the run's budgets.
    pub fn remaining(&self) -> Remaining {
        self.run.remaining()
    }

    /// `Ok` while no guard has tripped (as [`Run::check`](crate::Run::check)).
    pub fn check(&self) -> Result<(), StopReason> {
        self.run.check()
    }
}

impl std::fmt::Debug for Current {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Current")
            .field("run_id", &self.run_id())
            .field("step_id", &self.step_id)
            .finish_non_exhaustive()
    }
}
