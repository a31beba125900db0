//! What the layer does with each event, compiled once from [`Config`] (or the
//! everything-on defaults of `AgentLayer::new()`), so the hot path only reads flags.

use std::collections::BTreeMap;

use crate::config::{Config, ConfigError, Field, Price};
use crate::guard::Limits;
use crate::hash::{ArgsHasher, HashError, Sha24};
use crate::redact::Redactor;
use crate::schema::{Event, EventKind};

pub(crate) struct Settings {
    include: Include,
    pub(crate) store_args: bool,
    pub(crate) store_args_hash: bool,
    pub(crate) hash_key: Option<HashKey>,
    pub(crate) redactor: Redactor,
    pricing: BTreeMap<String, Price>,
    /// `guards.agents`: limits by agent, `"*"` for the rest.
    limits: BTreeMap<String, Limits>,
}

/// Which optional core fields are written.
#[derive(Clone, Copy)]
struct Include {
    step_id: bool,
    tool: bool,
    duration_ms: bool,
    status: bool,
    error: bool,
    stop_reason: bool,
    usage: bool,
}

impl Include {
    const ALL: Include = Include {
        step_id: true,
        tool: true,
        duration_ms: true,
        status: true,
        error: true,
        stop_reason: true,
        usage: true,
    };
}

impl Settings {
    /// `AgentLayer::new()`: every field, args hashed, never stored.
    pub(crate) fn everything() -> Self {
        let privacy = crate::config::Privacy::default();
        Settings {
            include: Include::ALL,
            store_args: false,
            store_args_hash: true,
            hash_key: None,
            redactor: Redactor::new(&privacy.redact_keys, privacy.redact_values),
            pricing: BTreeMap::new(),
            limits: BTreeMap::new(),
        }
    }

    pub(crate) fn from_config(config: &Config) -> Result<Self, ConfigError> {
        let events = &config.logging.events;
        let has = |field| events.include.contains(&field);
        let privacy = &config.logging.privacy;
        let hash_key = match &privacy.hash_key_env {
            None => None,
            // Fail closed: the operator asked for keyed hashes, and plain ones would let
            // low-entropy values be recovered by hashing guesses.
            Some(name) => match std::env::var_os(name) {
                Some(key) if !key.is_empty() => Some(HashKey(key.into_encoded_bytes())),
                _ => {
                    return Err(ConfigError::new(format!(
                        "logging.privacy.hash_key_env: the environment variable `{name}` is not set (or empty); \
                         set it, or remove hash_key_env to use unkeyed hashes"
                    )))
                }
            },
        };
        Ok(Settings {
            include: Include {
                step_id: has(Field::StepId),
                tool: has(Field::Tool),
                duration_ms: has(Field::DurationMs),
                status: has(Field::Status),
                error: has(Field::Error),
                stop_reason: has(Field::StopReason),
                usage: has(Field::Usage),
            },
            store_args: events.store_args,
            store_args_hash: events.store_args_hash,
            hash_key,
            redactor: Redactor::new(&privacy.redact_keys, privacy.redact_values),
            pricing: config.pricing.clone(),
            limits: config.guards.agents.clone(),
        })
    }

    /// Clears what `include` leaves out. The keys stay (as `null`): one schema.
    pub(crate) fn mask(&self, event: &mut Event<'_>) {
        let include = self.include;
        if !include.step_id {
            event.step_id = None;
        }
        if !include.tool {
            event.tool = None;
        }
        if !include.duration_ms {
            event.duration_ms = None;
        }
        if !include.status {
            event.status = None;
        }
        if !include.error {
            event.error = None;
        }
        if !include.stop_reason {
            event.stop_reason = None;
        }
        // A stop event always carries its usage: it is the run's bill.
        if !include.usage && event.kind != EventKind::Stop {
            event.usage = None;
        }
    }

    /// The config's limits for runs of `agent`: its own entry, else `"*"`'s.
    pub(crate) fn limits_for(&self, agent: &str) -> Option<&Limits> {
        self.limits.get(agent).or_else(|| self.limits.get("*"))
    }

    /// The configured price of `model`'s tokens, if any (see [`Config::price`]).
    pub(crate) fn price(&self, model: &str) -> Option<&Price> {
        crate::config::price_for(&self.pricing, model)
    }
}

/// A key for HMAC-SHA256 hashes.
pub(crate) struct HashKey(Vec<u8>);

impl HashKey {
    /// HMAC-SHA256 of `canonical`, truncated to 24 hex digits like the plain hash.
    pub(crate) fn sha24(&self, canonical: &[u8]) -> Sha24 {
        crate::hash::hmac_sha24(&self.0, canonical)
    }

    /// The keyed hash of the arguments `hasher` was fed.
    pub(crate) fn finish(&self, hasher: ArgsHasher) -> Result<Sha24, HashError> {
        hasher.finish_keyed(&self.0)
    }
}

impl std::fmt::Debug for HashKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashKey(..)") // never the key itself
    }
}
