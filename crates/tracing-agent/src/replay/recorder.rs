//! Writing snapshots off the agent's hot path: the calling thread hands the serialized
//! outcome to a bounded `crossbeam-channel` queue; a thread of ours writes it to the
//! store (temporary file, fsync, rename), as the event output's background writer does.

use std::collections::HashSet;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};

use super::vault::Vault;

/// How many snapshots may wait for the writer thread.
const CAPACITY: usize = 4096;
/// How long a caller waits for room in a full queue before the snapshot is dropped (and
/// counted in [`SnapshotStore::lost`](super::SnapshotStore::lost)).
const FULL_WAIT: Duration = Duration::from_millis(100);
/// Keys remembered as written, to skip the `stat` of identical outcomes; forgotten in
/// bulk past this many, so memory stays bounded.
const REMEMBERED: usize = 65_536;

enum Msg {
    Put { key: String, content: Vec<u8> },
    Flush(Sender<()>),
}

/// The producer side of the snapshot writer.
pub(crate) struct Recorder {
    /// Tells this recorder's entries in the per-thread cache from another's.
    id: u64,
    queue: Sender<Msg>,
    lost: Arc<AtomicU64>,
    said: Arc<AtomicBool>,
}

impl Recorder {
    pub(super) fn start(vault: Arc<Vault>) -> Recorder {
        let (queue, jobs) = crossbeam_channel::bounded(CAPACITY);
        let lost = Arc::new(AtomicU64::new(0));
        let said = Arc::new(AtomicBool::new(false));
        let (thread_lost, thread_said) = (Arc::clone(&lost), Arc::clone(&said));
        let spawned = std::thread::Builder::new()
            .name("tracing-agent-snapshots".into())
            .spawn(move || drain(&vault, &jobs, &thread_lost, &thread_said));
        if let Err(error) = spawned {
            say_once(
                &said,
                &format!("could not start the snapshot writer thread ({error}); nothing will be recorded"),
            );
        }
        static IDS: AtomicU64 = AtomicU64::new(1);
        Recorder {
            id: IDS.fetch_add(1, Ordering::Relaxed),
            queue,
            lost,
            said,
        }
    }

    /// Queues `content` under `key`; waits at most [`FULL_WAIT`] for room. A key this
    /// thread queued a moment ago is not queued again: a tool that keeps returning the
    /// same value costs the hot path no hand-over (the writer would skip it anyway).
    pub(crate) fn submit(&self, key: String, content: Vec<u8>) {
        if recently_queued(self.id, &key) {
            return;
        }
        let msg = Msg::Put { key, content };
        let sent = match self.queue.try_send(msg) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(msg)) => self
                .queue
                .send_timeout(msg, FULL_WAIT)
                .map_err(|_| "the snapshot queue stayed full"),
            Err(TrySendError::Disconnected(_)) => Err("the snapshot writer thread is gone"),
        };
        if let Err(why) = sent {
            self.lost.fetch_add(1, Ordering::Relaxed);
            say_once(
                &self.said,
                &format!("a snapshot was dropped ({why}); further losses are counted in SnapshotStore::lost"),
            );
        }
    }

    /// Waits until everything queued before the call is written, at most `timeout`.
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let (ack, acked) = crossbeam_channel::bounded(1);
        if self.queue.send_deadline(Msg::Flush(ack), deadline).is_err() {
            return false;
        }
        acked.recv_deadline(deadline).is_ok()
    }

    pub(crate) fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }
}

/// Whatever is still queued when the last store handle goes is written first (bounded:
/// at most [`DROP_WAIT`]), so a layer dropped at the end of `main` loses nothing.
impl Drop for Recorder {
    fn drop(&mut self) {
        self.flush(DROP_WAIT);
    }
}

/// The longest a dropped recorder waits for its queue to be written.
const DROP_WAIT: Duration = Duration::from_secs(5);

fn drain(vault: &Vault, jobs: &Receiver<Msg>, lost: &AtomicU64, said: &AtomicBool) {
    let mut written: HashSet<String> = HashSet::new();
    for msg in jobs {
        match msg {
            Msg::Put { key, content } => {
                if written.contains(&key) {
                    continue;
                }
                // The store must not take the agent down: a panic here is a lost snapshot.
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    vault.write(&key, &content)
                }));
                match result {
                    Ok(Ok(())) => {
                        if written.len() >= REMEMBERED {
                            written.clear();
                        }
                        written.insert(key);
                    }
                    Ok(Err(error)) => {
                        lost.fetch_add(1, Ordering::Relaxed);
                        say_once(said, &format!("could not write a snapshot: {error}"));
                    }
                    Err(_) => {
                        lost.fetch_add(1, Ordering::Relaxed);
                        say_once(said, "writing a snapshot panicked");
                    }
                }
            }
            Msg::Flush(ack) => {
                let _ = ack.send(());
            }
        }
    }
}

/// How many keys each thread remembers having queued.
const RECENT: usize = 16;

thread_local! {
    /// The last keys this thread queued, as (recorder, first 64 bits of the key).
    static QUEUED: std::cell::RefCell<([(u64, u64); RECENT], usize)> =
        const { std::cell::RefCell::new(([(0, 0); RECENT], 0)) };
}

/// Whether this thread queued `key` to recorder `id` among its last [`RECENT`] keys;
/// remembers it if not. 64 bits of a SHA-256 tell keys apart (a false match would leave
/// a snapshot missing, which a replay's preflight reports, never a wrong answer).
fn recently_queued(id: u64, key: &str) -> bool {
    let Some(bits) = key
        .get(..16)
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
    else {
        return false;
    };
    QUEUED
        .try_with(|cell| {
            let Ok(mut recent) = cell.try_borrow_mut() else {
                return false;
            };
            let (keys, next) = &mut *recent;
            if keys.contains(&(id, bits)) {
                return true;
            }
            keys[*next] = (id, bits);
            *next = (*next + 1) % RECENT;
            false
        })
        .unwrap_or(false)
}

fn say_once(said: &AtomicBool, what: &str) {
    if !said.swap(true, Ordering::Relaxed) {
        let _ = writeln!(std::io::stderr(), "tracing-agent: {what}");
    }
}
