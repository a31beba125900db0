//! `tracing-agent snapshots`: verify, garbage-collect, report and pin a replay snapshot
//! store, through the library's `replay::SnapshotStore`.

use std::io::Write;
use std::path::PathBuf;
use std::time::SystemTime;

use clap::{Args, Subcommand};
use tracing_agent::replay::{Recording, Retention, SnapshotStore};

use crate::error::CliError;

/// The arguments of `snapshots`.
#[derive(Args, Debug)]
pub struct SnapshotsArgs {
    /// The store's directory (`replay.store` in the config).
    #[arg(long, value_name = "DIR")]
    store: PathBuf,

    /// Read encrypted snapshots with the key in this environment variable (64 hex
    /// digits): what the config's `replay.key_env` names.
    #[arg(long, value_name = "NAME")]
    key_env: Option<String>,

    /// Snapshots expire this many days after their last write
    /// (`retention.tool_snapshot_days`).
    #[arg(long, value_name = "DAYS", default_value_t = 14)]
    retention_days: u32,

    /// Expired snapshots are deleted by `gc` only this many days later (`replay.grace_days`).
    #[arg(long, value_name = "DAYS", default_value_t = 3)]
    grace_days: u32,

    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,

    /// What to do.
    #[command(subcommand)]
    action: Action,
}

/// What `snapshots` does.
#[derive(Subcommand, Debug)]
enum Action {
    /// Read every snapshot back and check it hashes to its name (and decrypts). Exits
    /// with 1 when any is damaged.
    Verify,
    /// Delete snapshots expired for longer than the grace period and not pinned, and
    /// temporary files a crashed writer left.
    Gc,
    /// Count the snapshots, their size, the expired ones and the pins.
    Report,
    /// Pin the snapshots of a run, so retention keeps them (an incident's runs).
    Pin {
        /// The pin's name, e.g. INC-113.
        label: String,
        /// The run: its id or a prefix of exactly one run id.
        run: String,
        /// Event logs holding the run.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Remove a pin.
    Unpin {
        /// The pin's name.
        label: String,
    },
}

/// Runs `snapshots`; `Ok(false)` when `verify` found damage.
pub(crate) fn run(args: &SnapshotsArgs, out: &mut dyn Write) -> Result<bool, CliError> {
    let failed = |error: tracing_agent::replay::ReplayError| CliError::failure(error.to_string());
    let mut store = SnapshotStore::open(&args.store).map_err(failed)?;
    if let Some(var) = &args.key_env {
        store = store.with_key_env(var).map_err(failed)?;
    }
    // Pinning reads the run without its retention: pinning an expired snapshot during
    // its grace period is what the grace period is for.
    let unexpiring = store.clone();
    let store = store.with_retention(Retention {
        days: args.retention_days,
        grace_days: args.grace_days,
    });
    let json = |out: &mut dyn Write, value: &dyn erased::Json| -> Result<(), CliError> {
        out.write_all(value.to_json().as_bytes())?;
        writeln!(out)?;
        Ok(())
    };
    match &args.action {
        Action::Verify => {
            let verified = store.verify().map_err(failed)?;
            if args.json {
                json(out, &verified)?;
            } else {
                writeln!(out, "{} snapshots intact", verified.intact)?;
                for damage in &verified.damaged {
                    writeln!(out, "damaged: {damage}")?;
                }
                for stray in &verified.strays {
                    writeln!(out, "not a snapshot: {}", stray.display())?;
                }
            }
            Ok(verified.damaged.is_empty())
        }
        Action::Gc => {
            let collected = store.gc(SystemTime::now()).map_err(failed)?;
            if args.json {
                json(out, &collected)?;
            } else {
                writeln!(
                    out,
                    "deleted {} expired snapshots; kept {} pinned, {} in their grace period, {} live; removed {} temporary files",
                    collected.deleted,
                    collected.pinned,
                    collected.in_grace,
                    collected.live,
                    collected.temporaries_removed
                )?;
            }
            Ok(true)
        }
        Action::Report => {
            let report = store.report().map_err(failed)?;
            if args.json {
                json(out, &report)?;
            } else {
                writeln!(
                    out,
                    "{} snapshots, {} bytes, {} encrypted, {} expired; oldest {} days; pins: {}",
                    report.snapshots,
                    report.bytes,
                    report.sealed,
                    report.expired,
                    report
                        .oldest_days
                        .map_or_else(|| "-".into(), |d| d.to_string()),
                    if report.pins.is_empty() {
                        "none".to_owned()
                    } else {
                        report.pins.join(", ")
                    }
                )?;
            }
            Ok(true)
        }
        Action::Pin { label, run, files } => {
            // Loading checks every snapshot: a pin of a damaged recording fails here.
            let recording = Recording::load(&unexpiring, files, run).map_err(failed)?;
            let pin = recording.pin(label).map_err(failed)?;
            if args.json {
                json(out, &pin)?;
            } else {
                writeln!(
                    out,
                    "pinned {} snapshots of run {} as {}",
                    pin.snapshots.len(),
                    recording.run_id(),
                    pin.label
                )?;
            }
            Ok(true)
        }
        Action::Unpin { label } => {
            let removed = store.unpin(label).map_err(failed)?;
            if !removed {
                return Err(CliError::failure(format!("no pin named {label:?}")));
            }
            writeln!(out, "unpinned {label}")?;
            Ok(true)
        }
    }
}

/// JSON for the few result types, without a generic closure.
mod erased {
    pub(super) trait Json {
        fn to_json(&self) -> String;
    }

    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> String {
            serde_json::to_string(self).unwrap_or_default()
        }
    }
}
