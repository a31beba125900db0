//! How a span finds its run: the per-span state kept in the registry's span extensions
//! (a run's state on its span, a tool call's step id on its span) and the walk up the
//! scope that reads it.
//!
//! The registry's type is known only to the installed layer, so the walks are generic
//! functions that [`AgentLayer`](crate::AgentLayer) instantiates in `on_layer` and hands
//! out as [`Hooks`], reached through `Dispatch::downcast_ref` (the pattern of
//! `tracing-error`'s `ErrorLayer`).

use std::cell::Cell;
use std::sync::Arc;

use tracing::span::Id;
use tracing::{Dispatch, Subscriber};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::replay::SnapshotStore;
use crate::run_state::RunState;
use crate::sink::Emitter;

/// What the run handle and generated tool code need from an installed `AgentLayer`.
pub(crate) struct Hooks {
    emitter: Arc<Emitter>,
    /// Where tool outcomes are recorded (`AgentLayer::with_snapshots`).
    snapshots: Option<SnapshotStore>,
    find: fn(&Dispatch, &Id) -> Found,
    start_step: fn(&Dispatch, &Id) -> Found,
    attach_run: fn(&Dispatch, &Id, Arc<RunState>),
}

impl Hooks {
    /// Hooks for a layer writing through `emitter` that has not been installed yet: they
    /// find nothing until [`Hooks::reach`] gives them the registry.
    pub(crate) fn new(emitter: Arc<Emitter>) -> Self {
        Hooks {
            emitter,
            snapshots: None,
            find: |_, _| Found::default(),
            start_step: |_, _| Found::default(),
            attach_run: |_, _, _| {},
        }
    }

    /// Makes the walks reach the registry `S` the layer is installed in.
    pub(crate) fn reach<S>(&mut self)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        self.find = find_in_scope::<S>;
        self.start_step = start_step::<S>;
        self.attach_run = attach_run::<S>;
    }

    /// The writer of the installing layer.
    pub(crate) fn emitter(&self) -> &Arc<Emitter> {
        &self.emitter
    }

    /// The store tool outcomes are recorded into, if any.
    pub(crate) fn snapshots(&self) -> Option<&SnapshotStore> {
        self.snapshots.as_ref()
    }

    /// Records tool outcomes into `store` from now on (before the layer is installed).
    pub(crate) fn record_into(&mut self, store: Option<SnapshotStore>) {
        self.snapshots = store;
    }

    /// The writer, to change before the layer is installed (`None` once it is shared).
    pub(crate) fn emitter_mut(&mut self) -> Option<&mut Emitter> {
        Arc::get_mut(&mut self.emitter)
    }

    /// The run and the enclosing tool step of the span `id` (searched from `id` up).
    pub(crate) fn find(&self, dispatch: &Dispatch, id: &Id) -> Found {
        (self.find)(dispatch, id)
    }

    /// For the tool span `id`: finds its run and enclosing step, as [`find`](Hooks::find),
    /// and when it is in a run, gives it the run's next step id (returned in `step`).
    /// One walk up the registry where `find` then `attach` would take two.
    pub(crate) fn start_step(&self, dispatch: &Dispatch, id: &Id) -> Found {
        (self.start_step)(dispatch, id)
    }

    /// Makes the span `id` the span of `run`.
    pub(crate) fn attach_run(&self, dispatch: &Dispatch, id: &Id, run: Arc<RunState>) {
        (self.attach_run)(dispatch, id, run)
    }
}

// Per-span state, kept in the registry's span extensions.
/// On a run's span: its state.
struct RunExt(Arc<RunState>);
/// On a tool call's span inside a run: its step id.
struct StepExt(u64);

/// The run a span belongs to, and the step of the tool call it is nested in.
#[derive(Default)]
pub(crate) struct Found {
    pub(crate) run: Option<Arc<RunState>>,
    pub(crate) parent_step: Option<u64>,
    /// Only from [`Hooks::start_step`]: the step id given to the span.
    pub(crate) step: Option<u64>,
}

fn find_in_scope<S>(dispatch: &Dispatch, id: &Id) -> Found
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let mut found = Found::default();
    if let Some(span) = dispatch.downcast_ref::<S>().and_then(|s| s.span(id)) {
        search_up(Some(span), &mut found);
    }
    found
}

fn start_step<S>(dispatch: &Dispatch, id: &Id) -> Found
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let mut found = Found::default();
    let Some(span) = dispatch.downcast_ref::<S>().and_then(|s| s.span(id)) else {
        return found;
    };
    // A new tool span holds nothing yet: the search starts at its parent.
    search_up(span.parent(), &mut found);
    if let Some(run) = &found.run {
        let step = run.next_step();
        span.extensions_mut().replace(StepExt(step));
        found.step = Some(step);
    }
    found
}

/// Walks from `span` to the root until a run is found, noting the nearest step on the
/// way. By `parent()` rather than `scope()`: `scope()` looks each span up again, and
/// every registry lookup is two atomic operations on a tool call's hot path.
fn search_up<R>(mut span: Option<SpanRef<'_, R>>, found: &mut Found)
where
    R: for<'a> LookupSpan<'a>,
{
    while let Some(current) = span {
        {
            let extensions = current.extensions();
            if let Some(RunExt(run)) = extensions.get::<RunExt>() {
                found.run = Some(Arc::clone(run));
                return;
            }
            if found.parent_step.is_none() {
                found.parent_step = extensions.get::<StepExt>().map(|step| step.0);
            }
        }
        span = current.parent();
    }
}

fn attach_run<S>(dispatch: &Dispatch, id: &Id, run: Arc<RunState>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if let Some(span) = dispatch.downcast_ref::<S>().and_then(|s| s.span(id)) {
        span.extensions_mut().replace(RunExt(run));
    }
}

thread_local! {
    /// The attempt number for the next tool call that begins on this thread: set by a
    /// retry around its attempt's call (or first poll), taken by `ToolCall::begin`.
    static ATTEMPT: Cell<Option<u32>> = const { Cell::new(None) };
}

/// The attempt number a retry set around this call, if any. Taken, so that a tool called
/// from inside the retried tool is not numbered too.
pub(crate) fn take_attempt() -> Option<u32> {
    ATTEMPT.try_with(Cell::take).ok().flatten()
}

/// Runs `f` with `attempt` as the number of the tool call it begins.
pub(crate) fn with_attempt<T>(attempt: u32, f: impl FnOnce() -> T) -> T {
    let _ = ATTEMPT.try_with(|cell| cell.set(Some(attempt)));
    let value = f();
    let _ = ATTEMPT.try_with(Cell::take);
    value
}

thread_local! {
    /// The provider's id for the next tool call that begins on this thread: set by
    /// `ToolCallId` around its call (or first poll), taken by `ToolCall::begin`.
    static TOOL_CALL_ID: Cell<Option<Box<str>>> = const { Cell::new(None) };
}

/// The tool-call id set around this call, if any; taken, as the attempt is.
pub(crate) fn take_tool_call_id() -> Option<Box<str>> {
    TOOL_CALL_ID.try_with(Cell::take).ok().flatten()
}

/// Runs `f` with `id` as the provider's id of the tool call it begins.
pub(crate) fn with_tool_call_id<T>(id: Box<str>, f: impl FnOnce() -> T) -> T {
    let _ = TOOL_CALL_ID.try_with(|cell| cell.set(Some(id)));
    let value = f();
    let _ = TOOL_CALL_ID.try_with(Cell::take);
    value
}

/// A count as a span field: as i64, since OpenTelemetry's attributes have no unsigned
/// integer and a `u64` reaches `tracing-opentelemetry` as text.
pub(crate) fn otel_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
