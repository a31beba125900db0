//! [`ReplayError`]: what can go wrong opening a store, reading a snapshot or loading a
//! recording, each naming what and where.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// A snapshot store or a recording could not be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReplayError {
    /// The store's directory, a snapshot file or a log could not be read or written.
    Io {
        /// What was being done, e.g. `reading snapshot 3fa1…`.
        doing: String,
        /// The path involved.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// A snapshot key is not 64 lowercase hex digits (no path is built from it).
    BadKey(String),
    /// No snapshot under this key.
    Missing {
        /// The key.
        key: String,
        /// The recorded step that needs it, when known.
        step: Option<u64>,
    },
    /// The snapshot's content does not hash to its name: it was altered or damaged.
    Corrupt {
        /// The key.
        key: String,
        /// The recorded step that needs it, when known.
        step: Option<u64>,
        /// The file.
        path: PathBuf,
    },
    /// The snapshot is encrypted and no key was given, the key is wrong, or it was
    /// altered (the AEAD's tag does not verify).
    Undecryptable {
        /// The key (the snapshot's name).
        key: String,
        /// The recorded step that needs it, when known.
        step: Option<u64>,
        /// Why.
        why: String,
    },
    /// The snapshot is past the store's retention and no pin keeps it.
    Expired {
        /// The key.
        key: String,
        /// The recorded step that needs it.
        step: Option<u64>,
        /// Its age in days.
        age_days: u64,
        /// The retention, in days.
        retention_days: u32,
    },
    /// The encryption key's environment variable is unset or not 64 hex digits.
    Key(String),
    /// No run in the logs has this id, or it does not start with this prefix.
    UnknownRun {
        /// The id or prefix asked for.
        asked: String,
        /// The files read.
        files: Vec<PathBuf>,
    },
    /// More than one run starts with this prefix.
    AmbiguousRun {
        /// The prefix asked for.
        asked: String,
        /// The runs it matches (the first few).
        candidates: Vec<String>,
    },
    /// The logs hold the run's tool calls but not its `run_start`: the log is incomplete
    /// (rotated away, or another file).
    NoRunStart {
        /// The run.
        run_id: String,
        /// The files read.
        files: Vec<PathBuf>,
    },
}

impl ReplayError {
    pub(crate) fn io(
        doing: impl Into<String>,
        path: impl Into<PathBuf>,
        source: io::Error,
    ) -> Self {
        ReplayError::Io {
            doing: doing.into(),
            path: path.into(),
            source,
        }
    }

    /// The same error, naming the recorded step that needed the snapshot.
    pub(crate) fn at_step(mut self, at: Option<u64>) -> Self {
        match &mut self {
            ReplayError::Missing { step, .. }
            | ReplayError::Corrupt { step, .. }
            | ReplayError::Undecryptable { step, .. }
            | ReplayError::Expired { step, .. } => *step = at,
            _ => {}
        }
        self
    }
}

fn step_of(step: &Option<u64>) -> String {
    step.map_or_else(String::new, |step| format!(" (recorded step {step})"))
}

fn file_list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Io {
                doing,
                path,
                source,
            } => write!(f, "{doing} {}: {source}", path.display()),
            ReplayError::BadKey(key) => write!(
                f,
                "snapshot key {key:?} is not 64 lowercase hex digits (a SHA-256)"
            ),
            ReplayError::Missing { key, step } => {
                write!(f, "snapshot {key}{} is not in the store", step_of(step))
            }
            ReplayError::Corrupt { key, step, path } => write!(
                f,
                "snapshot {key}{} is corrupt: {} does not hash to its name",
                step_of(step),
                path.display()
            ),
            ReplayError::Undecryptable { key, step, why } => {
                write!(f, "snapshot {key}{} cannot be decrypted: {why}", step_of(step))
            }
            ReplayError::Expired {
                key,
                step,
                age_days,
                retention_days,
            } => write!(
                f,
                "snapshot {key}{} expired: {age_days} days old, retention is {retention_days} days (pin the run to keep it)",
                step_of(step)
            ),
            ReplayError::Key(why) => write!(f, "snapshot encryption key: {why}"),
            ReplayError::UnknownRun { asked, files } => write!(
                f,
                "no run id is or starts with {asked:?} in {}",
                file_list(files)
            ),
            ReplayError::AmbiguousRun { asked, candidates } => write!(
                f,
                "{asked:?} starts several run ids: {}; give more of the id",
                candidates.join(", ")
            ),
            ReplayError::NoRunStart { run_id, files } => write!(
                f,
                "run {run_id} has no run_start in {}: the log is incomplete",
                file_list(files)
            ),
        }
    }
}

impl std::error::Error for ReplayError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReplayError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
