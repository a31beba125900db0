//! `AgentLayer`: the `tracing_subscriber::Layer` that writes the unified events.
//!
//! This is where the parts are wired together: settings, sink, output and metrics become
//! the layer's [`Hooks`], which the run and tool handles reach through
//! [`Layer::downcast_raw`] (see `scope`). The layer itself stays out of the way of the
//! user's other layers: it answers `register_callsite`/`enabled` as a per-layer filter
//! that wants only this crate's spans (see `interest`), so it never switches a callsite
//! off for them nor keeps alive one their filters switched off, and it ignores their
//! events.

use std::any::TypeId;
use std::io;
use std::path::Path;
use std::sync::Arc;

use tracing::level_filters::LevelFilter;
use tracing::span::{self, Id};
use tracing::subscriber::Interest;
use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::config::{Config, ConfigError, Durability, Queue};
use crate::guard::KillSwitch;
use crate::interest::OwnInterest;
use crate::metrics::Metrics;
use crate::output::{self, FlushGuard};
use crate::replay::{Retention, SnapshotStore};
use crate::scope::Hooks;
use crate::settings::Settings;
use crate::sink::{Emitter, LineWriter, SinkStats};

/// The layer that writes one JSON event per tool call, LLM call, run start and stop.
///
/// Install it next to your other layers; it writes to stdout unless given a writer.
///
/// ```
/// use tracing_agent::AgentLayer;
/// use tracing_subscriber::prelude::*;
///
/// let layer = AgentLayer::new().with_writer(std::io::sink);
/// let stats = layer.stats(); // counts written and failed events
/// let subscriber = tracing_subscriber::registry()
///     .with(tracing_subscriber::fmt::layer()) // existing logs keep working
///     .with(layer);
/// # let _ = (subscriber, stats);
/// ```
pub struct AgentLayer {
    hooks: Hooks,
    /// `logging.events.enabled`: when off, the layer answers no downcast and everything
    /// the agent does takes the disabled path.
    enabled: bool,
    interest: OwnInterest,
}

impl AgentLayer {
    /// A layer that writes every field to stdout, on the calling thread. Arguments are
    /// hashed, never stored; every metric is recorded (see [`crate::metrics`]).
    pub fn new() -> Self {
        AgentLayer::build(
            io::stdout,
            Parts {
                settings: Arc::new(Settings::everything()),
                stats: Arc::default(),
                metrics: Metrics::default(),
                enabled: true,
                snapshots: None,
            },
        )
    }

    /// The same layer, writing to `make_writer` instead (any
    /// [`MakeWriter`](tracing_subscriber::fmt::MakeWriter): a file, `std::io::sink`,
    /// a `tracing_appender::non_blocking` writer, a test buffer, ...), on the calling
    /// thread.
    pub fn with_writer<W>(self, make_writer: W) -> Self
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        AgentLayer::build(make_writer, self.into_parts())
    }

    /// The same layer, writing to `writer` on a background thread behind a bounded queue
    /// (see [`Queue`]). Keep the returned guard until the end of `main`: dropping it
    /// flushes the queue.
    ///
    /// ```
    /// use tracing_agent::{config::Queue, AgentLayer};
    /// let file = std::fs::File::create(std::env::temp_dir().join("agent-events.jsonl")).unwrap();
    /// let (layer, flush_guard) = AgentLayer::new().with_background_writer(file, Queue::default());
    /// # drop((layer, flush_guard));
    /// ```
    pub fn with_background_writer<W: io::Write + Send + 'static>(
        self,
        writer: W,
        queue: Queue,
    ) -> (Self, FlushGuard) {
        let parts = self.into_parts();
        let (lines, guard) = output::background(writer, queue, &parts.stats);
        (AgentLayer::build_lines(lines, parts), guard)
    }

    /// Which metrics to record through the `metrics` facade (default: [`Metrics::new`]);
    /// see [`crate::metrics`].
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        // Always unique here: only an installed layer shares its emitter, and installing
        // consumes the layer.
        if let Some(emitter) = self.hooks.emitter_mut() {
            emitter.metrics = metrics;
        }
        self.hooks
            .emitter()
            .stats()
            .count_losses_in_metrics(metrics.is_on());
        self
    }

    /// A layer configured by `config`: its fields, privacy, prices, metrics, output and
    /// durability (`logging.durability`: a background thread by default; keep the guard
    /// until the end of `main`).
    pub fn from_config(config: &Config) -> Result<(Self, FlushGuard), ConfigError> {
        let parts = Parts {
            settings: Arc::new(Settings::from_config(config)?),
            stats: Arc::default(),
            metrics: Metrics::new().track(config.metrics.track.iter().copied()),
            enabled: config.logging.events.enabled,
            snapshots: open_snapshots(config)?,
        };
        let writer = output::open(&config.logging.output, config.retention.logs_days.get())?;
        let (lines, guard) = match config.logging.durability {
            Durability::Queued => output::background(writer, config.logging.queue, &parts.stats),
            Durability::WriteThrough => (output::direct(writer), FlushGuard::direct()),
        };
        let kill_file = config
            .guards
            .kill_file
            .as_ref()
            .map(|path| KillSwitch::global().watch_file(path));
        Ok((
            AgentLayer::build_lines(lines, parts),
            guard.watching(kill_file),
        ))
    }

    /// [`from_config`](AgentLayer::from_config) with the YAML document `yaml`.
    pub fn from_config_str(yaml: &str) -> Result<(Self, FlushGuard), ConfigError> {
        AgentLayer::from_config(&Config::from_yaml_str(yaml)?)
    }

    /// [`from_config`](AgentLayer::from_config) with the YAML file at `path`; a missing
    /// file means the safe defaults.
    pub fn from_config_file(path: impl AsRef<Path>) -> Result<(Self, FlushGuard), ConfigError> {
        AgentLayer::from_config(&Config::from_yaml_file(path)?)
    }

    /// Records the outcome of every `#[agent_tool]` call whose types allow it into
    /// `store` (see [`crate::replay`]), on a background thread: the calling thread only
    /// serializes and hashes the value. Each call's `tool_result` then names its snapshot
    /// (`"replay":{"snapshot":..}`) or says why it has none (`unreplayable`).
    ///
    /// ```
    /// use tracing_agent::{replay::SnapshotStore, AgentLayer};
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = SnapshotStore::open(dir.path())?;
    /// let layer = AgentLayer::new().with_snapshots(store.clone());
    /// # let _ = layer;
    /// # Ok::<(), tracing_agent::replay::ReplayError>(())
    /// ```
    pub fn with_snapshots(mut self, store: SnapshotStore) -> Self {
        self.hooks.record_into(Some(store));
        self
    }

    /// The store tool outcomes are recorded into (set by
    /// [`with_snapshots`](Self::with_snapshots) or the config's `replay:`), to keep a
    /// handle on: [`SnapshotStore::flush`] before exiting writes what is still queued.
    pub fn snapshots(&self) -> Option<SnapshotStore> {
        self.hooks.snapshots().cloned()
    }

    /// A handle on the counts of written, failed and dropped events.
    pub fn stats(&self) -> Arc<SinkStats> {
        Arc::clone(self.hooks.emitter().stats())
    }

    fn build<W>(make_writer: W, parts: Parts) -> Self
    where
        W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
    {
        AgentLayer::build_lines(Emitter::lines_of(make_writer), parts)
    }

    fn build_lines(lines: Box<dyn LineWriter>, parts: Parts) -> Self {
        parts.stats.count_losses_in_metrics(parts.metrics.is_on());
        crate::clock::calibrate();
        let emitter = Emitter::with_lines(lines, parts.settings, parts.stats, parts.metrics);
        let mut hooks = Hooks::new(Arc::new(emitter));
        hooks.record_into(parts.snapshots);
        AgentLayer {
            hooks,
            enabled: parts.enabled,
            interest: OwnInterest::default(),
        }
    }

    fn into_parts(self) -> Parts {
        let emitter = self.hooks.emitter();
        let stats = Arc::clone(emitter.stats());
        let metrics = emitter.metrics;
        Parts {
            settings: Arc::clone(emitter.shared_settings()),
            stats,
            metrics,
            enabled: self.enabled,
            snapshots: self.hooks.snapshots().cloned(),
        }
    }
}

/// `replay: { record: true, store: DIR }`: the store outcomes are recorded into, with
/// `retention.tool_snapshot_days` and, with `key_env`, encryption.
fn open_snapshots(config: &Config) -> Result<Option<SnapshotStore>, ConfigError> {
    let replay = &config.replay;
    if !replay.record {
        return Ok(None);
    }
    let Some(dir) = &replay.store else {
        return Err(ConfigError::new(
            "replay: `record: true` needs `store: DIR`, the snapshot store's directory".into(),
        ));
    };
    let failed =
        |error: crate::replay::ReplayError| ConfigError::new(format!("replay.store: {error}"));
    let mut store = SnapshotStore::open(dir).map_err(failed)?;
    if let Some(var) = &replay.key_env {
        store = store.with_key_env(var).map_err(failed)?;
    }
    Ok(Some(store.with_retention(Retention {
        days: config.retention.tool_snapshot_days,
        grace_days: replay.grace_days,
    })))
}

/// What a layer is made of, but its writer: carried over when the writer changes.
struct Parts {
    settings: Arc<Settings>,
    stats: Arc<SinkStats>,
    metrics: Metrics,
    enabled: bool,
    snapshots: Option<SnapshotStore>,
}

impl Default for AgentLayer {
    fn default() -> Self {
        AgentLayer::new()
    }
}

impl std::fmt::Debug for AgentLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentLayer").finish_non_exhaustive()
    }
}

impl<S> Layer<S> for AgentLayer
where
    S: Subscriber + for<'a> LookupSpan<'a> + 'static,
{
    fn on_layer(&mut self, subscriber: &mut S) {
        // Only here is the registry's type known: keep functions that can reach it.
        self.hooks.reach::<S>();
        self.interest.on_layer(subscriber);
    }

    // The per-layer filter's part (see `interest`); the layer's own work needs none of it.
    fn register_callsite(&self, meta: &'static tracing::Metadata<'static>) -> Interest {
        self.interest.register_callsite::<S>(meta)
    }

    fn enabled(&self, meta: &tracing::Metadata<'_>, cx: Context<'_, S>) -> bool {
        self.interest.enabled(meta, cx)
    }

    fn event_enabled(&self, event: &tracing::Event<'_>, cx: Context<'_, S>) -> bool {
        self.interest.event_enabled(event, cx)
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &Id, cx: Context<'_, S>) {
        self.interest.on_new_span(attrs, id, cx);
    }

    fn on_event(&self, event: &tracing::Event<'_>, cx: Context<'_, S>) {
        self.interest.on_event(event, cx);
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.interest.max_level_hint::<S>()
    }

    // SAFETY: every pointer returned points to a value of the type whose `TypeId` was
    // asked for, owned by `self`, which is what `downcast_raw`'s callers rely on.
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            Some(self as *const Self as *const ())
        } else if id == TypeId::of::<Hooks>() && self.enabled {
            Some(&self.hooks as *const Hooks as *const ())
        } else {
            // SAFETY: the same contract, upheld by `OwnInterest`.
            unsafe { self.interest.downcast_raw::<S>(id) }
        }
    }
}
