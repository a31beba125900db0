//! Hashing what goes into a call and what comes out: the arguments' `args_sha` (and,
//! with `store_args`, their redacted copy), the returned value's `result_sha`.

use std::panic::{self, AssertUnwindSafe};

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
    /// The first parameter whose `Serialize` impl panicked.
    panicked: Option<&'static str>,
}

/// What a `Serialize` impl that panicked while hashed leaves in `hash_error`.
const PANICKED: &str = "a `Serialize` impl panicked";

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
            panicked: None,
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

    /// The layer must not change what the program does: a `Serialize` impl that panics
    /// is the program's own code running only because the layer is installed, so its
    /// panic is caught and recorded, and the call goes on.
    fn feed<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T, redact: bool) {
        if self.panicked.is_some() {
            return;
        }
        let fed = panic::catch_unwind(AssertUnwindSafe(|| {
            self.feed_unguarded(name, value, redact)
        }));
        if fed.is_err() {
            self.panicked = Some(name);
            if let Some(stored) = &mut self.stored {
                stored.insert(name.to_owned(), Value::Null);
            }
        }
    }

    fn feed_unguarded<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
        redact: bool,
    ) {
        if let Some(hasher) = &mut self.hasher {
            hasher.arg(name, value);
        }
        if let Some(stored) = &mut self.stored {
            let value = if redact {
                Value::String(REDACTED.to_owned())
            } else if hash::nesting_error(value).is_some() {
                // `to_value` recurses without a limit: too deep a value would overflow the
                // stack. The hash (if on) says why it is missing.
                Value::Null
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
        let (digest, error) = match (hashed, self.panicked) {
            (_, Some(name)) => (None, Some(format!("parameter `{name}`: {PANICKED}"))),
            (None, None) => (None, None),
            (Some(Ok(sha)), None) => (Some(sha), None),
            (Some(Err(e)), None) => (None, Some(e.message_without_data().to_owned())),
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

/// The hash of a returned value, under the layer's settings. A `Serialize` impl that
/// panics is recorded as a hash error: the caller gets its value, as without the layer.
pub(super) fn result_digest<T: Serialize + ?Sized>(
    settings: &Settings,
    value: &T,
) -> Result<Sha24, String> {
    panic::catch_unwind(AssertUnwindSafe(|| {
        result_digest_unguarded(settings, value)
    }))
    .unwrap_or_else(|_| Err(PANICKED.to_owned()))
}

fn result_digest_unguarded<T: Serialize + ?Sized>(
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
