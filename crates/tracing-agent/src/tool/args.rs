//! Hashing what goes into a call and what comes out: the arguments' `args_sha` (and,
//! with `store_args`, their redacted copy), the returned value's `result_sha`.

use serde::Serialize;
use serde_json::Value;

use crate::hash::{self, ArgsHasher, Sha24};
use crate::redact::REDACTED;
use crate::settings::Settings;

/// What the layer wants from the arguments: their canonical hash (none when
/// `store_args_hash` is off; keyed when a hash key is set) and, with `store_args`, a
/// redacted copy.
pub struct ToolArgs {
    hasher: Option<ArgsHasher>,
    stored: Option<serde_json::Map<String, Value>>,
}

/// The arguments, done.
pub(super) struct Finished {
    pub(super) digest: Option<Sha24>,
    /// Whether the digest goes into the event (`store_args_hash`), or was computed only
    /// for the loop detector.
    pub(super) in_event: bool,
    pub(super) error: Option<String>,
    pub(super) stored: Option<Value>,
}

impl ToolArgs {
    /// Hashes when the settings write `args_sha`, or when `for_guards` (a loop detector
    /// keys on the hash even when the event does not show it).
    pub(super) fn new(settings: &Settings, for_guards: bool) -> Self {
        ToolArgs {
            hasher: (settings.store_args_hash || for_guards).then(ArgsHasher::new),
            stored: settings.store_args.then(serde_json::Map::new),
        }
    }

    /// One parameter, fed in name order.
    pub fn arg<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) {
        self.feed(name, value, false);
    }

    /// One parameter marked `redact(..)`: hashed as usual, stored as `"[REDACTED]"`.
    pub fn redacted_arg<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) {
        self.feed(name, value, true);
    }

    fn feed<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T, redact: bool) {
        if let Some(hasher) = &mut self.hasher {
            hasher.arg(name, value);
        }
        if let Some(stored) = &mut self.stored {
            let value = if redact {
                Value::String(REDACTED.to_owned())
            } else {
                // `serde_json` is lenient where the hash is strict (integer map keys become
                // strings): what is stored is for reading, the hash is for joining.
                serde_json::to_value(value).unwrap_or(Value::Null)
            };
            stored.insert(name.to_owned(), value);
        }
    }

    pub(super) fn finish(self, settings: &Settings) -> Finished {
        let hashed = self.hasher.map(|hasher| match &settings.hash_key {
            None => hasher.finish(),
            Some(key) => key.finish(hasher),
        });
        let (digest, error) = match hashed {
            None => (None, None),
            Some(Ok(sha)) => (Some(sha), None),
            Some(Err(e)) => (None, Some(e.message_without_data().to_owned())),
        };
        let stored = self.stored.map(|map| {
            let mut value = Value::Object(map);
            settings.redactor.redact(None, &mut value);
            value
        });
        Finished {
            digest,
            in_event: settings.store_args_hash,
            error,
            stored,
        }
    }
}

/// The hash of a returned value, under the layer's settings.
pub(super) fn result_digest<T: Serialize + ?Sized>(
    settings: &Settings,
    value: &T,
) -> Result<Sha24, String> {
    match &settings.hash_key {
        None => hash::sha24(value).map_err(|e| e.message_without_data().to_owned()),
        Some(key) => hash::canonical_json(value)
            .map(|canonical| key.sha24(canonical.as_bytes()))
            .map_err(|e| e.message_without_data().to_owned()),
    }
}

/// The `hash_error` key: why the arguments or the result could not be hashed.
pub(super) fn describe_hash_errors(args: Option<&str>, result: Option<&str>) -> Option<String> {
    match (args, result) {
        (None, None) => None,
        (Some(a), None) => Some(format!("args: {a}")),
        (None, Some(r)) => Some(format!("result: {r}")),
        (Some(a), Some(r)) => Some(format!("args: {a}; result: {r}")),
    }
}
