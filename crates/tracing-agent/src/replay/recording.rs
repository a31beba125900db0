//! [`Recording`]: one recorded run, read from its logs and checked against the store
//! before anything is replayed.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::ReplayError;
use super::store::{Pin, SnapshotStore};
use crate::divergence::CallSummary;
use crate::read::{EventReader, Item};
use crate::schema::{EventKind, EventRecord, Status};

/// A recorded run: its tool calls in step order, each with its outcome loaded from the
/// store (verified, decrypted, not expired) or marked unreplayable. Hand it to
/// [`RunMeta::replay`](crate::RunMeta::replay) to run the agent against it.
///
/// ```no_run
/// use tracing_agent::replay::{Recording, SnapshotStore};
/// let store = SnapshotStore::open("/var/lib/agent/snapshots")?;
/// let recording = Recording::load(&store, &["events.jsonl"], "0193a5e0-7c4a")?
///     .allow_live(["crm.lookup"]); // read-only: may run live when unanswered
/// # Ok::<(), tracing_agent::replay::ReplayError>(())
/// ```
#[derive(Clone)]
pub struct Recording {
    inner: Arc<Inner>,
    live: BTreeSet<String>,
    record_live: bool,
}

struct Inner {
    run_id: String,
    agent: Option<String>,
    prompt_version: Option<String>,
    stop_reason: Option<String>,
    calls: Vec<RecordedCall>,
    store: SnapshotStore,
}

/// One recorded tool call.
#[derive(Clone)]
pub(crate) struct RecordedCall {
    pub(crate) summary: CallSummary,
    /// The outcome's content (canonical JSON), loaded and verified; `None` when the call
    /// cannot be served.
    pub(crate) content: Option<Arc<[u8]>>,
    /// Why it cannot be served.
    pub(crate) unreplayable: Option<String>,
    /// The key of its snapshot in the store.
    pub(crate) snapshot_key: Option<String>,
    /// The step of the tool call it was made inside, if any.
    pub(crate) parent_step: Option<u64>,
}

/// Names the run and counts its calls; the recorded values stay out of debug output.
impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording")
            .field("run_id", &self.inner.run_id)
            .field("calls", &self.inner.calls.len())
            .field("allow_live", &self.live)
            .field("record_live_calls", &self.record_live)
            .finish_non_exhaustive()
    }
}

/// Two handles on the same loaded recording, with the same live allowlist, are equal.
impl PartialEq for Recording {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
            && self.live == other.live
            && self.record_live == other.record_live
    }
}

impl Eq for Recording {}

impl Recording {
    /// Loads run `run` (its whole id, or a prefix of exactly one run id) from the logs
    /// `files`, and checks every snapshot it references: present, intact (hashed
    /// again), decryptable, and within the store's retention or pinned. Any failure is an
    /// error naming the snapshot and the recorded step, before anything runs.
    pub fn load<P: AsRef<Path>>(
        store: &SnapshotStore,
        files: &[P],
        run: &str,
    ) -> Result<Recording, ReplayError> {
        let files: Vec<PathBuf> = files.iter().map(|f| f.as_ref().to_path_buf()).collect();
        let run_id = resolve_run(&files, run)?;
        let mut started = None;
        let mut stop_reason = None;
        let mut results = Vec::new();
        for_each_event(&files, |event| {
            if event.run_id.as_deref() != Some(run_id.as_str()) {
                return;
            }
            match event.kind {
                EventKind::RunStart => started = Some(event.meta.unwrap_or_default()),
                EventKind::Stop => stop_reason = event.stop_reason.map(|r| r.to_string()),
                EventKind::ToolResult => results.push(event),
                _ => {}
            }
        })?;
        let Some(meta) = started else {
            return Err(ReplayError::NoRunStart { run_id, files });
        };
        results.sort_by_key(|event| event.step_id);
        let pins = if store.retention().is_some() {
            store.pins()?
        } else {
            Vec::new()
        };
        let mut calls = Vec::with_capacity(results.len());
        let mut loaded: HashMap<String, Arc<[u8]>> = HashMap::new();
        for event in results {
            calls.push(load_call(store, &pins, &mut loaded, event)?);
        }
        Ok(Recording {
            inner: Arc::new(Inner {
                run_id,
                agent: meta.agent,
                prompt_version: meta.prompt_version,
                stop_reason,
                calls,
                store: store.clone(),
            }),
            live: BTreeSet::new(),
            record_live: false,
        })
    }

    /// Lets `tools` run live when the recording cannot answer them (read-only tools,
    /// typically); every other unanswered call is refused. Their outcomes are compared
    /// with the recorded ones (`outcome_mismatch`).
    pub fn allow_live<I, S>(mut self, tools: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.live.extend(tools.into_iter().map(Into::into));
        self
    }

    /// Records the outcomes of calls that run live into the layer's store too. Off by
    /// default: a replay does not write into the store it reads from unless asked.
    pub fn record_live_calls(mut self, record: bool) -> Self {
        self.record_live = record;
        self
    }

    /// The recorded run's id.
    pub fn run_id(&self) -> &str {
        &self.inner.run_id
    }

    /// The recorded run's agent, from its `run_start`.
    pub fn agent(&self) -> Option<&str> {
        self.inner.agent.as_deref()
    }

    /// The recorded run's prompt version.
    pub fn prompt_version(&self) -> Option<&str> {
        self.inner.prompt_version.as_deref()
    }

    /// How the recorded run stopped, if its `stop` is in the logs.
    pub fn stop_reason(&self) -> Option<&str> {
        self.inner.stop_reason.as_deref()
    }

    /// The recorded tool calls, in step order.
    pub fn calls(&self) -> impl Iterator<Item = &CallSummary> {
        self.inner.calls.iter().map(|call| &call.summary)
    }

    /// The snapshot keys the recording references (to pin them).
    pub fn snapshots(&self) -> Vec<String> {
        let keys: BTreeSet<String> = self
            .inner
            .calls
            .iter()
            .filter_map(|call| call.snapshot_key.clone())
            .collect();
        keys.into_iter().collect()
    }

    /// Pins this recording's snapshots in its store under `label`, so retention keeps
    /// them (an incident's runs).
    pub fn pin(&self, label: &str) -> Result<Pin, ReplayError> {
        self.inner.store.pin(
            label,
            std::slice::from_ref(&self.inner.run_id),
            &self.snapshots(),
        )
    }

    pub(crate) fn recorded(&self) -> &[RecordedCall] {
        &self.inner.calls
    }

    pub(crate) fn may_run_live(&self, tool: &str) -> bool {
        self.live.contains(tool)
    }

    pub(crate) fn records_live_calls(&self) -> bool {
        self.record_live
    }
}

fn load_call(
    store: &SnapshotStore,
    pins: &[Pin],
    loaded: &mut HashMap<String, Arc<[u8]>>,
    event: EventRecord,
) -> Result<RecordedCall, ReplayError> {
    let note = event.replay.unwrap_or_default();
    let summary = CallSummary {
        step: event.step_id,
        tool: event.tool.unwrap_or_default(),
        args_sha: event.args_sha,
        error: match event.status {
            Some(Status::Error) => Some(event.error.unwrap_or_default()),
            _ => None,
        },
        result_sha: event.result_sha,
        replay: None,
    };
    let (content, unreplayable) = match (&note.snapshot, note.unreplayable) {
        (Some(key), _) => {
            let content = match loaded.get(key) {
                Some(content) => Arc::clone(content),
                None => {
                    let bytes = store.get(key).map_err(|e| e.at_step(event.step_id))?;
                    store
                        .check_fresh(key, pins)
                        .map_err(|e| e.at_step(event.step_id))?;
                    let content: Arc<[u8]> = bytes.into();
                    loaded.insert(key.clone(), Arc::clone(&content));
                    content
                }
            };
            (Some(content), None)
        }
        (None, Some(why)) => (None, Some(why)),
        (None, None) => (
            None,
            Some(match &summary.error {
                Some(class) => format!("it ended in `{class}`, which has no recorded value"),
                None => "no snapshot was recorded (the layer had no store)".to_owned(),
            }),
        ),
    };
    Ok(RecordedCall {
        summary,
        content,
        unreplayable,
        snapshot_key: note.snapshot,
        parent_step: event.parent_step_id,
    })
}

/// Every event of `files`, in order; lines that are not events are passed over (the
/// CLI reports them; a recording only needs the run's events).
fn for_each_event(files: &[PathBuf], mut each: impl FnMut(EventRecord)) -> Result<(), ReplayError> {
    for path in files {
        let file = File::open(path).map_err(|e| ReplayError::io("opening log", path, e))?;
        for item in EventReader::new(file) {
            match item.map_err(|e| ReplayError::io("reading log", path, e))? {
                Item::Event(event) => each(event),
                Item::Skipped(_) => {}
            }
        }
    }
    Ok(())
}

/// The one run id equal to `asked`, or else the one starting with it.
pub(crate) fn resolve_run(files: &[PathBuf], asked: &str) -> Result<String, ReplayError> {
    let mut ids = BTreeSet::new();
    for_each_event(files, |event| {
        if let Some(run_id) = event.run_id {
            if run_id.starts_with(asked) && !ids.contains(&run_id) {
                ids.insert(run_id);
            }
        }
    })?;
    if ids.contains(asked) {
        return Ok(asked.to_owned());
    }
    let mut candidates = ids.into_iter();
    match (candidates.next(), candidates.next()) {
        (Some(only), None) if !asked.is_empty() => Ok(only),
        (None, _) => Err(ReplayError::UnknownRun {
            asked: asked.to_owned(),
            files: files.to_vec(),
        }),
        (Some(first), second) => {
            let mut shown = vec![first];
            shown.extend(second);
            shown.extend(candidates.by_ref().take(6));
            Err(ReplayError::AmbiguousRun {
                asked: asked.to_owned(),
                candidates: shown,
            })
        }
    }
}
