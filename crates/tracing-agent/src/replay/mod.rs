//! Replay: record every `#[agent_tool]` outcome into a content-addressed
//! [`SnapshotStore`], then run the same agent code against a [`Recording`] of a run, with
//! no tool body running unless allowed, and get back a [`Report`] of every place the new
//! run departs from the recorded one.
//!
//! ```no_run
//! use tracing_agent::replay::{Recording, SnapshotStore};
//! use tracing_agent::{AgentLayer, Run, RunMeta, StopReason};
//!
//! // Recording: the layer hands every outcome to the store's background writer.
//! let store = SnapshotStore::open("/var/lib/agent/snapshots")?;
//! let layer = AgentLayer::new().with_snapshots(store.clone());
//! # let _ = layer;
//!
//! // Replaying: the same agent code, the recorded outcomes.
//! let recording = Recording::load(&store, &["events.jsonl"], "0193a5e0-7c4a")?;
//! let run = Run::start(RunMeta::new("support-agent").prompt_version("v13").replay(recording));
//! // ... run the agent inside `run` ...
//! let stopped = run.stop(StopReason::Completed);
//! let report = stopped.replay.as_ref().expect("a replayed run has a report");
//! for d in report.divergences() {
//!     println!("{} at step {:?}: {}", d.code(), d.recorded_step(), d.tool());
//! }
//! println!("{report}");
//! # Ok::<(), tracing_agent::replay::ReplayError>(())
//! ```
//!
//! Files: `store` (the snapshots on disk), `recorder` (writing them off the hot path),
//! `recording` (a recorded run, loaded and checked), `session` (the matcher of one
//! replayed run), `error`. The alignment and the report are in the crate's `divergence`
//! module, below the event schema, since [`Stopped`](crate::Stopped) carries the report;
//! they are re-exported here.

mod error;
mod recorder;
mod recording;
mod session;
mod store;
mod vault;

pub use crate::divergence::{
    align, AlignedRow, Alignment, CallSummary, CompareOutcomes, Divergence, DivergenceCode, Report,
    ALIGNMENT_VERSION,
};
pub use error::ReplayError;
pub use recording::Recording;
pub use session::Answer;
pub(crate) use session::{cannot_restore, Session, Verdict};
pub use store::{Collected, Pin, Retention, SnapshotStore, StoreReport, Verified};
