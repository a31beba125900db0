//! [`SnapshotStore`]: recorded tool outcomes on disk, content-addressed.
//!
//! Layout under the store's directory:
//! - `v1/sha256/ab/<64 hex>`: one snapshot, named by the SHA-256 of its content (the
//!   canonical JSON of the value; with encryption, an HMAC-SHA256 under the key, so a
//!   name reveals nothing about a guessable value), `ab` being its first two digits.
//! - `v1/pins/<label>.json`: the snapshots a pinned incident keeps.
//!
//! A snapshot is written to a temporary file in its directory, fsynced, then renamed
//! into place (and the directory fsynced), so a crash leaves either nothing or the whole
//! snapshot under its name, and two writers of the same content race harmlessly: both
//! rename identical bytes. Every read hashes the content again. Directories are made
//! 0700 and files 0600: the values a tool returned are as private as its logs.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::error::ReplayError;
use super::recorder::Recorder;
use super::vault::{
    create_private_dir, not_found_or, parse_key, valid_key, write_atomically, Vault, SEALED,
};

const DAY: u64 = 24 * 60 * 60;

/// The snapshots found (key, path), and the stray files.
type Scanned = (Vec<(String, PathBuf)>, Vec<PathBuf>);

/// A directory of recorded tool outcomes, content-addressed. `Clone` is cheap (one
/// `Arc`); every clone writes through the same background recorder.
///
/// ```
/// use tracing_agent::replay::SnapshotStore;
/// let dir = tempfile::tempdir().unwrap();
/// let store = SnapshotStore::open(dir.path())?;
/// let key = store.put(br#"{"id":42}"#)?;
/// assert_eq!(store.get(&key)?, br#"{"id":42}"#);
/// assert_eq!(store.put(br#"{"id":42}"#)?, key); // stored once
/// # Ok::<(), tracing_agent::replay::ReplayError>(())
/// ```
#[derive(Clone)]
pub struct SnapshotStore {
    inner: Arc<Inner>,
}

struct Inner {
    vault: Arc<Vault>,
    retention: Option<Retention>,
    recorder: OnceLock<Recorder>,
}

/// How long snapshots are kept (see [`SnapshotStore::with_retention`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Days after its last write before a snapshot expires (`retention.tool_snapshot_days`).
    pub days: u32,
    /// Days an expired snapshot is kept before `gc` deletes it, so a run that just used
    /// it can still be pinned.
    pub grace_days: u32,
}

/// What [`SnapshotStore::verify`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// Snapshots that hash to their name (and decrypt, when sealed).
    pub intact: u64,
    /// Those that do not, each as the error that says why.
    pub damaged: Vec<String>,
    /// Files in the snapshot tree that are not snapshots (left-over temporary files,
    /// names that are not keys).
    pub strays: Vec<PathBuf>,
}

/// What [`SnapshotStore::gc`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Collected {
    /// Snapshots deleted: expired for longer than the grace period, and not pinned.
    pub deleted: u64,
    /// Expired snapshots kept by a pin.
    pub pinned: u64,
    /// Expired snapshots kept for the grace period.
    pub in_grace: u64,
    /// Snapshots within their retention.
    pub live: u64,
    /// Left-over temporary files (a writer that crashed) removed.
    pub temporaries_removed: u64,
}

/// What [`SnapshotStore::report`] counts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StoreReport {
    /// Snapshots in the store.
    pub snapshots: u64,
    /// Their total size on disk, in bytes.
    pub bytes: u64,
    /// How many are encrypted.
    pub sealed: u64,
    /// How many are past the retention (kept by a pin or the grace period, or not yet
    /// collected).
    pub expired: u64,
    /// The pins, by label.
    pub pins: Vec<String>,
    /// The oldest snapshot's age in days.
    pub oldest_days: Option<u64>,
}

/// A pin: the snapshots of an incident's runs, kept whatever their age.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// Its label, e.g. `INC-2024-113`.
    pub label: String,
    /// The runs pinned.
    pub runs: Vec<String>,
    /// The snapshots they reference.
    pub snapshots: Vec<String>,
}

impl SnapshotStore {
    /// Opens (creating, 0700) the store in `dir`. Snapshots are kept forever until
    /// [`with_retention`](Self::with_retention) says otherwise.
    pub fn open(dir: impl AsRef<Path>) -> Result<SnapshotStore, ReplayError> {
        let root = dir.as_ref().to_path_buf();
        for sub in ["v1/sha256", "v1/pins"] {
            create_private_dir(&root.join(sub))?;
        }
        Ok(SnapshotStore {
            inner: Arc::new(Inner {
                vault: Arc::new(Vault { root, key: None }),
                retention: None,
                recorder: OnceLock::new(),
            }),
        })
    }

    /// The same store, encrypting what it writes and decrypting what it reads with the
    /// 256-bit key in the environment variable `var` (64 hex digits). Never from a file:
    /// a key next to the data it protects protects nothing.
    pub fn with_key_env(self, var: &str) -> Result<SnapshotStore, ReplayError> {
        let text = std::env::var(var).map_err(|_| {
            ReplayError::Key(format!(
                "the environment variable {var} is not set (or not UTF-8)"
            ))
        })?;
        let key = parse_key(text.trim())
            .ok_or_else(|| ReplayError::Key(format!("{var} must hold 64 hex digits (32 bytes)")))?;
        Ok(self.rebuild(Some(key), self.inner.retention))
    }

    /// The same store, with snapshots expiring `retention.days` days after their last
    /// write (`retention.tool_snapshot_days` in the config). A recording that needs an
    /// expired snapshot does not load unless a pin keeps it; `gc` deletes it after the
    /// grace period.
    pub fn with_retention(self, retention: Retention) -> SnapshotStore {
        let key = self.inner.vault.key;
        self.rebuild(key, Some(retention))
    }

    fn rebuild(&self, key: Option<[u8; 32]>, retention: Option<Retention>) -> SnapshotStore {
        SnapshotStore {
            inner: Arc::new(Inner {
                vault: Arc::new(Vault {
                    root: self.inner.vault.root.clone(),
                    key,
                }),
                retention,
                recorder: OnceLock::new(),
            }),
        }
    }

    /// The store's directory.
    pub fn root(&self) -> &Path {
        &self.inner.vault.root
    }

    /// The retention, if one was set.
    pub fn retention(&self) -> Option<Retention> {
        self.inner.retention
    }

    /// Whether snapshots are encrypted (and named by an HMAC rather than a SHA-256).
    pub fn is_encrypted(&self) -> bool {
        self.inner.vault.key.is_some()
    }

    /// The key `content` is stored under.
    pub fn key_of(&self, content: &[u8]) -> String {
        self.inner.vault.key_of(content)
    }

    /// Stores `content` now, on this thread, and returns its key. Content already stored
    /// is not written again (its time is refreshed, so retention counts from the last
    /// run that recorded it).
    pub fn put(&self, content: &[u8]) -> Result<String, ReplayError> {
        let key = self.key_of(content);
        self.inner.vault.write(&key, content)?;
        Ok(key)
    }

    /// The content stored under `key`, hashed again (and decrypted) before it is
    /// returned: a damaged snapshot is an error, never a wrong answer.
    pub fn get(&self, key: &str) -> Result<Vec<u8>, ReplayError> {
        self.inner.vault.read(key)
    }

    /// Whether a snapshot is stored under `key` (unverified).
    pub fn contains(&self, key: &str) -> Result<bool, ReplayError> {
        Ok(self.inner.vault.path_of(key)?.is_file())
    }

    /// The snapshot's age, from its last write.
    pub fn age(&self, key: &str) -> Result<Duration, ReplayError> {
        let path = self.inner.vault.path_of(key)?;
        let modified = fs::metadata(&path)
            .and_then(|m| m.modified())
            .map_err(|e| not_found_or(e, key, "reading the time of", &path))?;
        Ok(SystemTime::now()
            .duration_since(modified)
            .unwrap_or_default())
    }

    /// `Err(Expired)` when `key` is past the retention and no pin keeps it.
    pub(crate) fn check_fresh(&self, key: &str, pins: &[Pin]) -> Result<(), ReplayError> {
        let Some(retention) = self.inner.retention else {
            return Ok(());
        };
        let age_days = self.age(key)?.as_secs() / DAY;
        let pinned = || {
            pins.iter()
                .any(|pin| pin.snapshots.iter().any(|k| k == key))
        };
        if age_days >= u64::from(retention.days) && !pinned() {
            return Err(ReplayError::Expired {
                key: key.to_owned(),
                step: None,
                age_days,
                retention_days: retention.days,
            });
        }
        Ok(())
    }

    /// Waits until every snapshot queued by the layer's recorder so far is written, at
    /// most `timeout`; `false` when time ran out. Call it before reading a recording
    /// made by the same process, and before exiting.
    pub fn flush(&self, timeout: Duration) -> bool {
        match self.inner.recorder.get() {
            Some(recorder) => recorder.flush(timeout),
            None => true,
        }
    }

    /// Snapshots the recorder could not write or had to drop (queue full past its
    /// bound, disk errors); each is also marked in no event, so this is where to look.
    pub fn lost(&self) -> u64 {
        self.inner.recorder.get().map_or(0, Recorder::lost)
    }

    /// The background recorder, started on first use.
    pub(crate) fn recorder(&self) -> &Recorder {
        self.inner
            .recorder
            .get_or_init(|| Recorder::start(Arc::clone(&self.inner.vault)))
    }

    /// Every snapshot key in the store (with its path), and the files that are not
    /// snapshots.
    fn scan(&self) -> Result<Scanned, ReplayError> {
        let tree = self.inner.vault.root.join("v1/sha256");
        let mut keys = Vec::new();
        let mut strays = Vec::new();
        for shard in read_dir(&tree)? {
            let shard = shard.map_err(|e| ReplayError::io("listing", &tree, e))?;
            let shard_path = shard.path();
            if !shard_path.is_dir() {
                strays.push(shard_path);
                continue;
            }
            for file in read_dir(&shard_path)? {
                let file = file.map_err(|e| ReplayError::io("listing", &shard_path, e))?;
                let name = file.file_name().to_string_lossy().into_owned();
                let prefix = shard.file_name().to_string_lossy().into_owned();
                if valid_key(&name) && name.starts_with(&prefix) {
                    keys.push((name, file.path()));
                } else {
                    strays.push(file.path());
                }
            }
        }
        keys.sort();
        strays.sort();
        Ok((keys, strays))
    }

    /// Reads every snapshot back and checks it hashes to its name (and decrypts).
    pub fn verify(&self) -> Result<Verified, ReplayError> {
        let (keys, strays) = self.scan()?;
        let mut verified = Verified {
            strays,
            ..Verified::default()
        };
        for (key, _) in keys {
            match self.get(&key) {
                Ok(_) => verified.intact += 1,
                Err(error) => verified.damaged.push(error.to_string()),
            }
        }
        Ok(verified)
    }

    /// Deletes snapshots expired for longer than the grace period that no pin keeps,
    /// and temporary files left by a writer that crashed (older than an hour), as of
    /// `now`. Without a retention nothing expires.
    pub fn gc(&self, now: SystemTime) -> Result<Collected, ReplayError> {
        let pins = self.pins()?;
        let (keys, strays) = self.scan()?;
        let mut collected = Collected::default();
        for (key, path) in keys {
            let age = age_at(&path, now)?;
            let Some(retention) = self.inner.retention else {
                collected.live += 1;
                continue;
            };
            let days = age.as_secs() / DAY;
            if days < u64::from(retention.days) {
                collected.live += 1;
            } else if pins.iter().any(|pin| pin.snapshots.contains(&key)) {
                collected.pinned += 1;
            } else if days < u64::from(retention.days) + u64::from(retention.grace_days) {
                collected.in_grace += 1;
            } else {
                fs::remove_file(&path).map_err(|e| ReplayError::io("deleting", &path, e))?;
                collected.deleted += 1;
            }
        }
        for stray in strays {
            let temporary = stray
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".tmp"));
            if temporary && age_at(&stray, now)? > Duration::from_secs(3600) {
                fs::remove_file(&stray).map_err(|e| ReplayError::io("deleting", &stray, e))?;
                collected.temporaries_removed += 1;
            }
        }
        Ok(collected)
    }

    /// Counts what the store holds.
    pub fn report(&self) -> Result<StoreReport, ReplayError> {
        let (keys, _) = self.scan()?;
        let mut report = StoreReport {
            pins: self.pins()?.into_iter().map(|pin| pin.label).collect(),
            ..StoreReport::default()
        };
        let now = SystemTime::now();
        for (_, path) in keys {
            let meta = fs::metadata(&path).map_err(|e| ReplayError::io("reading", &path, e))?;
            report.snapshots += 1;
            report.bytes += meta.len();
            let mut magic = [0u8; 4];
            let sealed = File::open(&path)
                .and_then(|mut f| f.read_exact(&mut magic))
                .is_ok()
                && &magic == SEALED;
            report.sealed += u64::from(sealed);
            let days = age_at(&path, now)?.as_secs() / DAY;
            report.oldest_days = Some(report.oldest_days.unwrap_or(0).max(days));
            if self
                .inner
                .retention
                .is_some_and(|r| days >= u64::from(r.days))
            {
                report.expired += 1;
            }
        }
        Ok(report)
    }

    /// Pins `snapshots` (those of `runs`) under `label`, so retention keeps them. A pin
    /// of the same label is replaced.
    pub fn pin(
        &self,
        label: &str,
        runs: &[String],
        snapshots: &[String],
    ) -> Result<Pin, ReplayError> {
        let path = self.pin_path(label)?;
        for key in snapshots {
            self.inner.vault.path_of(key)?;
        }
        let pin = Pin {
            label: label.to_owned(),
            runs: runs.to_vec(),
            snapshots: snapshots.to_vec(),
        };
        let text = serde_json::to_vec_pretty(&pin).unwrap_or_default();
        write_atomically(&path, &text)?;
        Ok(pin)
    }

    /// Removes the pin `label`; `false` when there was none.
    pub fn unpin(&self, label: &str) -> Result<bool, ReplayError> {
        let path = self.pin_path(label)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(ReplayError::io("removing pin", &path, e)),
        }
    }

    /// Every pin.
    pub fn pins(&self) -> Result<Vec<Pin>, ReplayError> {
        let dir = self.inner.vault.root.join("v1/pins");
        let mut pins = Vec::new();
        for entry in read_dir(&dir)? {
            let path = entry
                .map_err(|e| ReplayError::io("listing", &dir, e))?
                .path();
            if path.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            let text = fs::read(&path).map_err(|e| ReplayError::io("reading pin", &path, e))?;
            let pin: Pin = serde_json::from_slice(&text).map_err(|e| {
                ReplayError::io(
                    "reading pin",
                    &path,
                    io::Error::new(io::ErrorKind::InvalidData, e),
                )
            })?;
            pins.push(pin);
        }
        pins.sort_by(|a, b| a.label.cmp(&b.label));
        Ok(pins)
    }

    fn pin_path(&self, label: &str) -> Result<PathBuf, ReplayError> {
        let plain = !label.is_empty()
            && label.len() <= 128
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && !label.starts_with('.');
        if !plain {
            return Err(ReplayError::Key(format!(
                "pin label {label:?} must be letters, digits, `-`, `_` and `.` (not first)"
            )));
        }
        Ok(self
            .inner
            .vault
            .root
            .join("v1/pins")
            .join(format!("{label}.json")))
    }
}

impl std::fmt::Debug for SnapshotStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotStore")
            .field("root", &self.inner.vault.root)
            .field("encrypted", &self.inner.vault.key.is_some())
            .field("retention", &self.inner.retention)
            .finish()
    }
}

fn read_dir(dir: &Path) -> Result<fs::ReadDir, ReplayError> {
    fs::read_dir(dir).map_err(|e| ReplayError::io("listing", dir, e))
}

fn age_at(path: &Path, now: SystemTime) -> Result<Duration, ReplayError> {
    let modified = fs::metadata(path)
        .and_then(|m| m.modified())
        .map_err(|e| ReplayError::io("reading the time of", path, e))?;
    Ok(now.duration_since(modified).unwrap_or_default())
}
