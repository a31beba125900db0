//! The configuration file: the seed's safe-default YAML, plus what a deployment needs
//! (output, queue, privacy, model prices).
//!
//! Every key is checked: an unknown key, a wrong type, or an unknown field or metric name
//! is an error naming the key and its line, never a silent default. A key left out takes
//! its default, and an absent file means all defaults.

use std::collections::BTreeMap;
use std::fmt;
use std::num::{NonZeroU32, NonZeroUsize};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::guard::Limits;
use crate::metrics::Tracked;

/// The whole configuration. `Config::default()` is the documented safe default.
///
/// ```
/// use tracing_agent::config::Config;
/// let config = Config::from_yaml_str("logging:\n  events:\n    store_args: true\n").unwrap();
/// assert!(config.logging.events.store_args);
/// assert!(config.logging.events.store_args_hash); // left out: the default
/// ```
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// What events are written, where, and how private they are.
    pub logging: Logging,
    /// Which metrics are recorded.
    pub metrics: Metrics,
    /// How long what is written is kept.
    pub retention: Retention,
    /// USD per million tokens, by model name, or by family as a prefix ending in `*`
    /// (`gpt-4o*`): fills in `spend_usd` when a caller gives tokens but no cost. An exact
    /// name wins over every prefix, a longer prefix over a shorter one.
    pub pricing: BTreeMap<String, Price>,
    /// Limits per agent, and the kill switch's file.
    pub guards: Guards,
}

/// `guards:` limits per agent (`"*"`: every agent) and the kill file.
///
/// ```
/// use tracing_agent::config::Config;
/// let config = Config::from_yaml_str(
///     "guards:\n  kill_file: /run/agent/kill\n  agents:\n    support-agent:\n      max_tool_calls: 30\n      max_duration: 2m\n      loop_repeats: 3\n",
/// )
/// .unwrap();
/// let limits = &config.guards.agents["support-agent"];
/// assert_eq!(limits.get_max_tool_calls(), Some(30));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Guards {
    /// A file whose lines kill runs from outside the process (see
    /// [`KillSwitch`](crate::KillSwitch)); watched while the layer's guard lives.
    pub kill_file: Option<PathBuf>,
    /// Limits by agent name; `"*"` applies to every agent without an entry of its own.
    /// Limits given in code ([`RunMeta::limits`](crate::RunMeta::limits)) take
    /// precedence, limit by limit.
    #[serde(deserialize_with = "limits_by_agent")]
    pub agents: BTreeMap<String, Limits>,
}

/// One agent's `guards.agents.NAME:` entry, as written; every value is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsDoc {
    #[serde(default, deserialize_with = "max_steps")]
    max_steps: Option<u64>,
    #[serde(default, deserialize_with = "max_tool_calls")]
    max_tool_calls: Option<u64>,
    #[serde(default, deserialize_with = "max_tokens")]
    max_tokens: Option<u64>,
    #[serde(default, deserialize_with = "positive_usd")]
    max_spend_usd: Option<f64>,
    #[serde(default, deserialize_with = "duration")]
    max_duration: Option<std::time::Duration>,
    #[serde(default, deserialize_with = "repeats")]
    loop_repeats: Option<u32>,
    #[serde(default)]
    allow_tools: Option<Vec<String>>,
    #[serde(default)]
    deny_tools: Vec<String>,
}

fn limits_by_agent<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Limits>, D::Error> {
    let docs = BTreeMap::<String, LimitsDoc>::deserialize(d)?;
    Ok(docs
        .into_iter()
        .map(|(agent, doc)| (agent, Limits::from(doc)))
        .collect())
}

impl From<LimitsDoc> for Limits {
    fn from(doc: LimitsDoc) -> Self {
        Limits {
            max_steps: doc.max_steps,
            max_tool_calls: doc.max_tool_calls,
            max_tokens: doc.max_tokens,
            max_spend_usd: doc.max_spend_usd,
            max_duration: doc.max_duration,
            loop_repeats: doc.loop_repeats,
            allow_tools: doc.allow_tools.map(|tools| tools.into_iter().collect()),
            deny_tools: doc.deny_tools.into_iter().collect(),
        }
    }
}

// Errors raised after a value was read carry the path only down to the agent's entry, so
// each message names its key itself.
fn max_steps<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    positive_count(d, "max_steps")
}

fn max_tool_calls<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    positive_count(d, "max_tool_calls")
}

fn max_tokens<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    positive_count(d, "max_tokens")
}

fn positive_count<'de, D: serde::Deserializer<'de>>(
    d: D,
    key: &str,
) -> Result<Option<u64>, D::Error> {
    let n = i128::deserialize(d)?;
    match u64::try_from(n) {
        Ok(0) => Err(serde::de::Error::custom(format!(
            "{key}: a budget of 0 lets nothing run: give a number >= 1, or leave the key out for no limit"
        ))),
        Ok(n) => Ok(Some(n)),
        Err(_) => Err(serde::de::Error::custom(format!(
            "{key}: a budget is a whole number >= 1, not {n}"
        ))),
    }
}

fn positive_usd<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let usd = f64::deserialize(d)?;
    if usd.is_finite() && usd > 0.0 {
        Ok(Some(usd))
    } else {
        Err(serde::de::Error::custom(format!(
            "max_spend_usd: a spend budget must be a finite number of USD > 0, not {usd}"
        )))
    }
}

fn duration<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<std::time::Duration>, D::Error> {
    let text = String::deserialize(d)?;
    match humantime::parse_duration(text.trim()) {
        Ok(duration) if !duration.is_zero() => Ok(Some(duration)),
        Ok(_) => Err(serde::de::Error::custom(
            "max_duration: a time budget of 0 lets nothing run: give a duration like \"2m\"",
        )),
        Err(error) => Err(serde::de::Error::custom(format!(
            "max_duration: `{text}` is not a duration like \"120s\" or \"2m\": {error}"
        ))),
    }
}

fn repeats<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let n = i64::deserialize(d)?;
    match u32::try_from(n) {
        Ok(n @ 2..) => Ok(Some(n)),
        _ => Err(serde::de::Error::custom(format!(
            "loop_repeats: counts identical calls in a row and must be >= 2, not {n}"
        ))),
    }
}

/// `logging:`
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Logging {
    /// `logging.events`: which events and fields.
    pub events: Events,
    /// `logging.output`: where events go.
    pub output: Output,
    /// `logging.queue`: the queue between the agent and the writer thread.
    pub queue: Queue,
    /// `logging.durability`: what a crash may cost (see [`Durability`]).
    pub durability: Durability,
    /// `logging.privacy`: redaction and keyed hashing.
    pub privacy: Privacy,
}

/// `logging.events:`
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Events {
    /// Write events at all.
    pub enabled: bool,
    /// The event schema; `unified` is the only one.
    pub schema: Schema,
    /// Write the tool arguments, redacted, as an `args` key.
    pub store_args: bool,
    /// Write `args_sha`.
    pub store_args_hash: bool,
    /// The optional fields to write; `run_id`, `kind` and `ts_ms` are always written.
    pub include: Vec<Field>,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            enabled: true,
            schema: Schema::Unified,
            store_args: false,
            store_args_hash: true,
            include: vec![
                Field::RunId,
                Field::StepId,
                Field::Tool,
                Field::DurationMs,
                Field::Status,
                Field::Error,
                Field::StopReason,
            ],
        }
    }
}

/// The event schema.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schema {
    /// One schema for tool results, LLM calls, run starts and stops.
    #[default]
    Unified,
}

/// A field `include` can select. Excluded fields are written as `null`, so every event
/// keeps the same eleven keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Always written; accepted for the seed's sake.
    RunId,
    /// Always written.
    Kind,
    /// Always written.
    TsMs,
    /// `step_id`.
    StepId,
    /// `tool`.
    Tool,
    /// `duration_ms`.
    DurationMs,
    /// `status`.
    Status,
    /// `error`.
    Error,
    /// `stop_reason`.
    StopReason,
    /// `usage` of `llm_result` events (a `stop` event always carries its usage).
    Usage,
}

/// `metrics:`
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Metrics {
    /// The metrics to record.
    pub track: Vec<Tracked>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            track: Tracked::ALL.to_vec(),
        }
    }
}

/// `retention:`
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Retention {
    /// Days to keep recorded tool results (for replay, which reads them; not yet used).
    pub tool_snapshot_days: u32,
    /// Days of rolled event files to keep (`output.to: rolling`).
    pub logs_days: NonZeroU32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            tool_snapshot_days: 14,
            logs_days: NonZeroU32::new(30).expect("not zero"),
        }
    }
}

/// `logging.output:` where events go.
///
/// ```yaml
/// output: { to: stdout }
/// output: { to: file, path: /var/log/agent/events.jsonl }
/// output: { to: rolling, directory: /var/log/agent, file_prefix: events }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "OutputDoc")]
pub enum Output {
    /// Standard output.
    #[default]
    Stdout,
    /// Standard error.
    Stderr,
    /// One file, appended to.
    File {
        /// The file; created if missing.
        path: PathBuf,
    },
    /// A new file every day (`PREFIX.YYYY-MM-DD.jsonl`), keeping `retention.logs_days`.
    Rolling {
        /// The directory; created if missing.
        directory: PathBuf,
        /// The files' name prefix.
        file_prefix: String,
    },
}

/// `logging.output` as written; checked into an [`Output`] so that a missing or misplaced
/// key is reported with what `to` needs.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a map such as `{ to: stdout }`, `{ to: file, path: FILE }` or `{ to: rolling, directory: DIR }`"
)]
struct OutputDoc {
    to: OutputKind,
    path: Option<PathBuf>,
    directory: Option<PathBuf>,
    file_prefix: Option<String>,
}

#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum OutputKind {
    Stdout,
    Stderr,
    File,
    Rolling,
}

impl TryFrom<OutputDoc> for Output {
    type Error = String;

    fn try_from(doc: OutputDoc) -> Result<Self, String> {
        let unexpected =
            |key: &str, to: &str| Err(format!("`output`: `{key}` does not apply to `to: {to}`"));
        match doc {
            OutputDoc {
                to: OutputKind::Stdout | OutputKind::Stderr,
                path: Some(_),
                ..
            } => unexpected("path", "stdout/stderr"),
            OutputDoc {
                to: OutputKind::Stdout | OutputKind::Stderr | OutputKind::File,
                directory: Some(_),
                ..
            } => unexpected("directory", "stdout/stderr/file"),
            OutputDoc {
                to: OutputKind::Stdout | OutputKind::Stderr | OutputKind::File,
                file_prefix: Some(_),
                ..
            } => unexpected("file_prefix", "stdout/stderr/file"),
            OutputDoc {
                to: OutputKind::Rolling,
                path: Some(_),
                ..
            } => unexpected("path", "rolling"),
            OutputDoc {
                to: OutputKind::Stdout,
                ..
            } => Ok(Output::Stdout),
            OutputDoc {
                to: OutputKind::Stderr,
                ..
            } => Ok(Output::Stderr),
            OutputDoc {
                to: OutputKind::File,
                path,
                ..
            } => path
                .map(|path| Output::File { path })
                .ok_or_else(|| "`output` with `to: file` needs `path: FILE`".to_owned()),
            OutputDoc {
                to: OutputKind::Rolling,
                directory,
                file_prefix,
                ..
            } => {
                let file_prefix = file_prefix.unwrap_or_else(default_prefix);
                check_prefix(&file_prefix)?;
                directory
                    .map(|directory| Output::Rolling {
                        directory,
                        file_prefix,
                    })
                    .ok_or_else(|| "`output` with `to: rolling` needs `directory: DIR`".to_owned())
            }
        }
    }
}

/// A prefix is a file name, never a path: `../x` or `a/b` would write outside `directory`
/// (and outside what `retention.logs_days` prunes).
fn check_prefix(prefix: &str) -> Result<(), String> {
    let bad =
        prefix.is_empty() || prefix == "." || prefix == ".." || prefix.contains(['/', '\\', '\0']);
    if bad {
        return Err(format!(
            "`output.file_prefix` must be a plain file name (no `/`, `\\`, `..`), not {prefix:?}"
        ));
    }
    Ok(())
}

fn default_prefix() -> String {
    "events".to_owned()
}

/// `logging.queue:` the bounded queue between the agent's threads and the writer thread.
///
/// ```
/// use tracing_agent::config::Config;
/// let config = Config::from_yaml_str("logging:\n  queue:\n    block_timeout: 2s\n").unwrap();
/// assert_eq!(config.logging.queue.block_timeout, std::time::Duration::from_secs(2));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Queue {
    /// Events the queue holds before `when_full` applies, at most [`MAX_QUEUE_CAPACITY`]
    /// (the queue's slots are allocated up front).
    #[serde(deserialize_with = "queue_capacity")]
    pub capacity: NonZeroUsize,
    /// What a full queue does.
    pub when_full: WhenFull,
    /// With `when_full: block`, how long a producer waits for room before the writer is
    /// declared stuck (said once on stderr); while it stays stuck, events are dropped and
    /// counted instead of waited for. Default 5 s.
    #[serde(deserialize_with = "block_timeout")]
    pub block_timeout: std::time::Duration,
}

/// The largest `logging.queue.capacity`: about 40 MB of queue slots, allocated at start.
pub const MAX_QUEUE_CAPACITY: usize = 1 << 20;

impl Default for Queue {
    fn default() -> Self {
        Queue {
            capacity: NonZeroUsize::new(8192).expect("not zero"),
            when_full: WhenFull::Block,
            block_timeout: std::time::Duration::from_secs(5),
        }
    }
}

fn queue_capacity<'de, D: serde::Deserializer<'de>>(d: D) -> Result<NonZeroUsize, D::Error> {
    // Read as u128 so that a huge number is refused with this message, not an overflow.
    let capacity = u128::deserialize(d)?;
    match usize::try_from(capacity).ok().and_then(NonZeroUsize::new) {
        Some(capacity) if capacity.get() <= MAX_QUEUE_CAPACITY => Ok(capacity),
        _ => Err(serde::de::Error::custom(format!(
            "logging.queue.capacity: {capacity} is not between 1 and {MAX_QUEUE_CAPACITY}"
        ))),
    }
}

fn block_timeout<'de, D: serde::Deserializer<'de>>(d: D) -> Result<std::time::Duration, D::Error> {
    let text = String::deserialize(d)?;
    match humantime::parse_duration(text.trim()) {
        Ok(timeout) if !timeout.is_zero() => Ok(timeout),
        Ok(_) => Err(serde::de::Error::custom(
            "logging.queue.block_timeout: 0 would drop at once: use `when_full: drop` for that",
        )),
        Err(error) => Err(serde::de::Error::custom(format!(
            "logging.queue.block_timeout: `{text}` is not a duration like \"5s\": {error}"
        ))),
    }
}

/// What a full queue does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenFull {
    /// The producer waits (up to `block_timeout`): nothing is lost while the writer keeps
    /// up (the default).
    #[default]
    Block,
    /// The event is dropped and counted: the agent never waits.
    Drop,
}

/// `logging.durability:` which events a crash may cost, named by what it promises.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// Events go through the background queue: the agent never waits on I/O. Nothing is
    /// lost on a clean exit (the `FlushGuard` drops), on `process::exit` after
    /// [`flush`](crate::flush), or on SIGTERM/SIGINT with
    /// [`flush_on_signals`](crate::flush_on_signals); a SIGKILL or an abort loses what is
    /// still queued.
    #[default]
    Queued,
    /// Each event is written (one `write(2)`) on the calling thread before the call that
    /// made it returns: a SIGKILL loses at most the event in flight. The agent waits on
    /// the disk. Not an `fsync`: a power loss can still lose what the kernel had not yet
    /// written.
    WriteThrough,
}

/// `logging.privacy:`
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Privacy {
    /// Keys whose values are redacted in stored args, whatever the value. Keys and entries
    /// are first normalized (Unicode NFKC, zero-width characters and soft hyphens removed:
    /// `ｐａｓｓｗｏｒｄ` is `password`). An entry is one of:
    ///
    /// - a fragment, matched case-insensitively anywhere in the key with `_`, `-`, `.`
    ///   and spaces removed: `api_key` catches `X-Api-Key`, `apiKey`, `user_api_key`;
    /// - `=word`, the whole key only, the same way: `=session` catches `session` and
    ///   `Session`, not `session_id`;
    /// - a glob with `*`, over the key's words (split at punctuation and inside camelCase),
    ///   `*` standing for any number of whole words: `*token` catches `token`,
    ///   `access_token`, `refreshToken` and `X-CSRF-Token` but not `max_tokens` or
    ///   `token_count`; `*tel*` catches `tel` and `home_tel` but not `telemetry` or `hotel`.
    ///
    /// Setting it replaces the default list, [`DEFAULT_REDACT_KEYS`].
    pub redact_keys: Vec<String>,
    /// Also apply the value rules: redact strings (and map keys) holding an email
    /// address, a phone number, a card number, an IBAN, a US SSN, a bearer or basic
    /// credential, a JWT, a provider API key, a PEM private key, a password in a URL, or
    /// a secret-named parameter (`?token=…`); integers and integral floats that are card
    /// numbers; and card numbers split over an array. README.md's "What redaction
    /// catches" lists every rule, and what each does not catch.
    pub redact_values: bool,
    /// The environment variable holding the key for keyed hashes (HMAC-SHA256). Unset:
    /// plain SHA-256, comparable with the reference in any language.
    #[serde(deserialize_with = "env_var_name")]
    pub hash_key_env: Option<String>,
}

fn env_var_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let name = Option::<String>::deserialize(d)?;
    match &name {
        Some(n) if n.is_empty() || n.contains(['=', '\0']) => Err(serde::de::Error::custom(
            format!("`{n}` is not an environment variable name"),
        )),
        _ => Ok(name),
    }
}

/// The keys redacted by default (see [`Privacy::redact_keys`] for the entry syntax).
///
/// Globs (`*pass*`) rather than fragments where the word is short enough to sit inside
/// harmless ones: `pass` in `passenger` and `compass`, `tel` in `hotel` and
/// `telemetry`, `pin` in `shipping`, `ssn` in `classname`. `*token` rather than `token`
/// so that LLM usage keys (`max_tokens`, `input_tokens`, `tokens`) stay readable.
/// `*sessionid*` catches Django's `sessionid` cookie but not `session_id`, which agents
/// use for their own conversation ids.
pub const DEFAULT_REDACT_KEYS: &[&str] = &[
    // Passwords and other secrets.
    "password",
    "passwd",
    "passphrase",
    "*pass*",
    "*pwd*",
    "secret",
    "credential",
    "*auth*",
    "authorization",
    "cookie",
    "*otp*",
    "*totp*",
    "*pin*",
    // Keys and tokens.
    "api_key",
    "apikey",
    "access_key",
    "private_key",
    "privkey",
    "signing_key",
    "encryption_key",
    "*pem*",
    "access_token",
    "refresh_token",
    "auth_token",
    "api_token",
    "id_token",
    "session_token",
    "*token",
    "csrf",
    "xsrf",
    "=session",
    "*sessionid*",
    "jsessionid",
    "sessid",
    // Personal data.
    "email",
    "phone",
    "*mobile*",
    "*tel*",
    "*ssn*",
    "socialsecurity",
    "passport",
    "*dob*",
    "birthdate",
    "dateofbirth",
    "card_number",
    "credit_card",
    "cvv",
    "cvc",
    "iban",
];

impl Default for Privacy {
    fn default() -> Self {
        Privacy {
            redact_keys: DEFAULT_REDACT_KEYS
                .iter()
                .map(|k| (*k).to_owned())
                .collect(),
            redact_values: true,
            hash_key_env: None,
        }
    }
}

/// A model's price in USD per million tokens.
///
/// `input_tokens` counts every prompt token, cached ones included, and `output_tokens`
/// every generated token, reasoning ones included (as OpenAI and Anthropic report them).
/// The cached part is billed at `cached_input_usd_per_million` and the reasoning part at
/// `reasoning_usd_per_million` where those are set, and at the plain rates where not.
///
/// ```
/// use tracing_agent::config::Config;
/// let config = Config::from_yaml_str(
///     "pricing:\n  gpt-4o*: { input_usd_per_million: 2.5, output_usd_per_million: 10, cached_input_usd_per_million: 1.25 }\n",
/// )
/// .unwrap();
/// let price = config.price("gpt-4o-2024-08-06").unwrap();
/// // 1M input tokens of which 400k cached, 100k output tokens.
/// let usd = price.spend_usd(&tracing_agent::config::Tokens { input: 1_000_000, cached_input: 400_000, output: 100_000, reasoning: 0 });
/// assert!((usd - (0.6 * 2.5 + 0.4 * 1.25 + 0.1 * 10.0)).abs() < 1e-9);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// USD per million input tokens.
    #[serde(deserialize_with = "price")]
    pub input_usd_per_million: f64,
    /// USD per million output tokens.
    #[serde(deserialize_with = "price")]
    pub output_usd_per_million: f64,
    /// USD per million cached input tokens; the input rate when not set.
    #[serde(default, deserialize_with = "optional_price")]
    pub cached_input_usd_per_million: Option<f64>,
    /// USD per million reasoning tokens; the output rate when not set.
    #[serde(default, deserialize_with = "optional_price")]
    pub reasoning_usd_per_million: Option<f64>,
}

/// The tokens of one LLM call, as [`Price::spend_usd`] bills them: `cached_input` is the
/// part of `input` read from the provider's cache, `reasoning` the part of `output` spent
/// reasoning.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tokens {
    /// Every input token, cached ones included.
    pub input: u64,
    /// Input tokens read from the cache.
    pub cached_input: u64,
    /// Every output token, reasoning ones included.
    pub output: u64,
    /// Output tokens spent reasoning.
    pub reasoning: u64,
}

fn price<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let usd = f64::deserialize(d)?;
    if usd.is_finite() && usd >= 0.0 {
        Ok(usd)
    } else {
        Err(serde::de::Error::custom(format!(
            "a price must be a finite number >= 0, not {usd}"
        )))
    }
}

fn optional_price<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    price(d).map(Some)
}

impl Price {
    /// The cost of one call. A cached or reasoning count larger than its total is taken
    /// as the total: the provider's numbers are not trusted to add up.
    pub fn spend_usd(&self, tokens: &Tokens) -> f64 {
        let cached = tokens.cached_input.min(tokens.input);
        let reasoning = tokens.reasoning.min(tokens.output);
        let cached_rate = self
            .cached_input_usd_per_million
            .unwrap_or(self.input_usd_per_million);
        let reasoning_rate = self
            .reasoning_usd_per_million
            .unwrap_or(self.output_usd_per_million);
        ((tokens.input - cached) as f64 * self.input_usd_per_million
            + cached as f64 * cached_rate
            + (tokens.output - reasoning) as f64 * self.output_usd_per_million
            + reasoning as f64 * reasoning_rate)
            / 1_000_000.0
    }
}

/// The price for `model` in `pricing`: its own entry, else the longest `prefix*` entry
/// the name starts with, so `gpt-4o-mini*` wins over `gpt-4o*` for `gpt-4o-mini-2024-07-18`.
pub(crate) fn price_for<'p>(
    pricing: &'p BTreeMap<String, Price>,
    model: &str,
) -> Option<&'p Price> {
    if let Some(price) = pricing.get(model) {
        return Some(price);
    }
    pricing
        .iter()
        .filter_map(|(key, price)| Some((key.strip_suffix('*')?, price)))
        .filter(|(prefix, _)| model.starts_with(prefix))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, price)| price)
}

impl Config {
    /// The price of `model`'s tokens: its own `pricing` entry, else the longest
    /// `prefix*` entry that `model` starts with.
    pub fn price(&self, model: &str) -> Option<&Price> {
        price_for(&self.pricing, model)
    }

    /// Parses a YAML document; an empty one means all defaults.
    pub fn from_yaml_str(yaml: &str) -> Result<Config, ConfigError> {
        Config::parse(yaml, None)
    }

    /// Reads a YAML file; a file that does not exist means all defaults.
    pub fn from_yaml_file(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        use std::io::Read as _;
        let path = path.as_ref();
        let cannot_read = |error: std::io::Error| ConfigError {
            file: Some(path.to_owned()),
            line: None,
            column: None,
            message: format!("cannot read the file: {error}"),
        };
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Config::default())
            }
            Err(error) => return Err(cannot_read(error)),
        };
        // Read no more than the limit (and one byte to know it was passed), whatever the
        // file's size says: it may be a pipe, or growing.
        let mut yaml = String::new();
        file.take(MAX_CONFIG_BYTES as u64 + 1)
            .read_to_string(&mut yaml)
            .map_err(cannot_read)?;
        Config::parse(&yaml, Some(path))
    }

    fn parse(yaml: &str, file: Option<&Path>) -> Result<Config, ConfigError> {
        let at = |line: Option<usize>, column: Option<usize>, message: String| ConfigError {
            file: file.map(Path::to_owned),
            line,
            column,
            message,
        };
        // Checked before the parser sees the text: its time grows with the square of the
        // nesting depth, and its memory many times the size (a 96 MB file peaked at 9 GB).
        if yaml.len() > MAX_CONFIG_BYTES {
            return Err(at(
                None,
                None,
                format!(
                    "the config is larger than {} KiB: not read (a config is a few KiB)",
                    MAX_CONFIG_BYTES >> 10
                ),
            ));
        }
        if let Some((line, column, what)) = too_deep(yaml) {
            return Err(at(Some(line), Some(column), what));
        }
        // An empty document (or one holding only comments) is YAML's null: all defaults.
        if yaml.lines().all(|l| {
            let l = l.trim();
            l.is_empty() || l.starts_with('#') || l == "---"
        }) {
            return Ok(Config::default());
        }
        serde_yaml_ng::from_str(yaml).map_err(|error| {
            let location = error.location();
            at(
                location.as_ref().map(|l| l.line()),
                location.as_ref().map(|l| l.column()),
                strip_location(&error.to_string()),
            )
        })
    }
}

/// A config larger than this is refused before it is parsed.
const MAX_CONFIG_BYTES: usize = 1 << 20;

/// Flow collections (`[`, `{`) nested deeper than this are refused before parsing.
const MAX_FLOW_DEPTH: usize = 64;

/// Block content starting further right than this (indentation and compact `- ` / `? `
/// indicators, which nest a level each) is refused before parsing.
const MAX_BLOCK_COLUMN: usize = 256;

/// Where `yaml` nests deeper than a config ever needs, and what is wrong there (line and
/// column 1-based). A scan of the text, not a parse: quoted strings and comments are
/// skipped; brackets in plain scalars may count, which only matters past the limit.
fn too_deep(yaml: &str) -> Option<(usize, usize, String)> {
    let mut flow = 0usize;
    for (n, line) in yaml.lines().enumerate() {
        let bytes = line.as_bytes();
        // Block nesting: where the content starts after indentation and indicators.
        if flow == 0 {
            let mut column = 0;
            while let Some(&b) = bytes.get(column) {
                let indicator = matches!(b, b'-' | b'?' | b':')
                    && matches!(bytes.get(column + 1), None | Some(b' ' | b'\t'));
                if b == b' ' || b == b'\t' {
                    column += 1;
                } else if indicator {
                    column += 2;
                } else {
                    break;
                }
                if column > MAX_BLOCK_COLUMN {
                    return Some((
                        n + 1,
                        column,
                        format!(
                            "nested deeper than a config may be: content starts past column {MAX_BLOCK_COLUMN}"
                        ),
                    ));
                }
            }
        }
        let mut quote = None;
        let mut escaped = false;
        for (column, &b) in bytes.iter().enumerate() {
            match quote {
                Some(q) => {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' && q == b'"' {
                        escaped = true;
                    } else if b == q {
                        quote = None;
                    }
                }
                None => {
                    match b {
                        b'"' | b'\'' => quote = Some(b),
                        b'#' if column == 0 || matches!(bytes[column - 1], b' ' | b'\t') => break,
                        b'[' | b'{' => {
                            flow += 1;
                            if flow > MAX_FLOW_DEPTH {
                                return Some((
                                n + 1,
                                column + 1,
                                format!("nested deeper than {MAX_FLOW_DEPTH} levels of [ ] and {{ }}"),
                            ));
                            }
                        }
                        b']' | b'}' => flow = flow.saturating_sub(1),
                        _ => {}
                    }
                }
            }
        }
    }
    None
}

/// serde_yaml_ng appends " at line L column C"; the location is kept apart instead.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// A configuration that could not be used: what was wrong, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    file: Option<PathBuf>,
    line: Option<usize>,
    column: Option<usize>,
    message: String,
}

impl ConfigError {
    pub(crate) fn new(message: String) -> Self {
        ConfigError {
            file: None,
            line: None,
            column: None,
            message,
        }
    }

    /// The 1-based line of the offending key, when known.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// What was wrong, starting with the key's path (`logging.events: unknown field ...`).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tracing-agent config")?;
        if let Some(file) = &self.file {
            write!(f, " {}", file.display())?;
        }
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, ", line {line} column {column}")?,
            (Some(line), None) => write!(f, ", line {line}")?,
            _ => {}
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}
