//! The configuration file: the seed's safe default, each error with its key and line,
//! the `include` rule, privacy (redaction, keyed hashes) and prices.

mod common;

use std::collections::BTreeMap;

use common::Capture;
use serde::Serialize;
use serde_json::{json, Value};
use tracing_agent::config::{Config, Field, Output, Tokens, WhenFull};
use tracing_agent::metrics::Tracked;
use tracing_agent::{
    agent_tool, record_llm, AgentLayer, LlmUsage, Run, RunMeta, StopReason, REDACTED,
};
use tracing_subscriber::prelude::*;

/// The seed's safe-default document, verbatim.
const SEED: &str = r#"logging:
  events:
    enabled: true
    schema: "unified"
    store_args: false
    store_args_hash: true
    include: ["run_id", "step_id", "tool", "duration_ms", "status", "error", "stop_reason"]
metrics:
  track: ["tokens_per_request", "tool_calls_per_run", "latency_p95", "spend_per_run", "stop_reason"]
retention:
  tool_snapshot_days: 14
  logs_days: 30
"#;

#[test]
fn the_seed_document_is_the_default_and_so_is_nothing() {
    let seed = Config::from_yaml_str(SEED).unwrap();
    assert_eq!(seed, Config::default());
    assert_eq!(Config::from_yaml_str("").unwrap(), Config::default());
    assert_eq!(
        Config::from_yaml_str("# only a comment\n").unwrap(),
        Config::default()
    );
    let missing = std::env::temp_dir().join("tracing-agent-no-such-config.yaml");
    assert_eq!(Config::from_yaml_file(&missing).unwrap(), Config::default());

    let events = &seed.logging.events;
    assert!(events.enabled && events.store_args_hash && !events.store_args);
    assert_eq!(events.include.len(), 7);
    assert!(!events.include.contains(&Field::Usage));
    assert_eq!(seed.metrics.track.len(), 5);
    assert!(seed.metrics.track.contains(&Tracked::LatencyP95));
    assert_eq!(seed.retention.logs_days.get(), 30);
    assert_eq!(seed.retention.tool_snapshot_days, 14);
    assert_eq!(seed.logging.output, Output::Stdout);
    assert_eq!(seed.logging.queue.when_full, WhenFull::Block);
}

/// Asserts that `yaml` is refused with an error on `line` whose message contains each
/// of `words`.
fn refused(yaml: &str, line: usize, words: &[&str]) {
    let error = Config::from_yaml_str(yaml).expect_err(yaml);
    assert_eq!(error.line(), Some(line), "{error}");
    let text = error.to_string();
    for word in words {
        assert!(text.contains(word), "{text:?} should mention {word:?}");
    }
}

#[test]
fn every_mistake_names_its_key_and_line() {
    // An unknown key (a typo of store_args).
    refused(
        "logging:\n  events:\n    enabled: true\n    stor_args: false\n",
        4,
        &["logging.events", "unknown field `stor_args`", "store_args"],
    );
    // A wrong type.
    refused(
        "logging:\n  events:\n    enabled: yes please\n",
        3,
        &["logging.events.enabled", "expected a boolean"],
    );
    // An unknown field name in include.
    refused(
        "logging:\n  events:\n    include:\n      - run_id\n      - args\n",
        5,
        &["logging.events.include", "`args`", "step_id"],
    );
    // An unknown metric name.
    refused(
        "metrics:\n  track:\n    - latency_p95\n    - latency_p99\n",
        4,
        &["metrics.track", "`latency_p99`", "latency_p95"],
    );
    // An unknown top-level section.
    refused(
        "logging: {}\nmetric:\n  track: []\n",
        2,
        &["unknown field `metric`"],
    );
    // The schema has one value.
    refused(
        "logging:\n  events:\n    schema: \"split\"\n",
        3,
        &["logging.events.schema", "`split`", "unified"],
    );
    // An unknown output, and an output without what it needs.
    refused(
        "logging:\n  output:\n    to: kafka\n",
        3,
        &["logging.output", "`kafka`", "rolling"],
    );
    refused(
        "logging:\n  output:\n    to: file\n",
        2,
        &["`output`", "to: file", "`path"],
    );
    refused(
        "logging:\n  output:\n    to: file\n    path: /tmp/x\n    directory: /tmp\n",
        2,
        &["`output`", "`directory`", "does not apply"],
    );
    refused(
        "logging:\n  output:\n    to: rolling\n",
        2,
        &["`output`", "`directory"],
    );
    // Queue and retention bounds.
    refused(
        "logging:\n  queue:\n    capacity: 0\n",
        3,
        &["logging.queue.capacity"],
    );
    refused(
        "logging:\n  queue:\n    when_full: wait\n",
        3,
        &["when_full", "`wait`", "block", "drop"],
    );
    refused("retention:\n  logs_days: 0\n", 2, &["retention.logs_days"]);
    refused("retention:\n  logs_days: -3\n", 2, &["retention.logs_days"]);
    // Prices.
    refused(
        "pricing:\n  gpt-4o:\n    input_usd_per_million: -2.5\n    output_usd_per_million: 10\n",
        3,
        &["pricing.gpt-4o", ">= 0", "-2.5"],
    );
    refused(
        "pricing:\n  gpt-4o:\n    input_usd_per_million: 2.5\n",
        3,
        &["pricing", "output_usd_per_million"],
    );
    // A section of the wrong shape, and a document that is not YAML.
    refused("logging: [1,\n", 1, &["logging", "expected struct Logging"]);
    refused("logging:\n\tevents: {}\n", 2, &[]);
}

#[test]
fn a_config_error_names_the_file() {
    let path = std::env::temp_dir().join(format!("ta-config-{}.yaml", std::process::id()));
    std::fs::write(&path, "retention:\n  logs_days: zero\n").unwrap();
    let error = AgentLayer::from_config_file(&path).map(|_| ()).unwrap_err();
    let text = error.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("line 2"), "{text}");
    std::fs::remove_file(path).unwrap();
}

#[derive(Serialize)]
struct Hit {
    title: &'static str,
    score: f64,
}

#[agent_tool]
fn search(query: &str, limit: u32) -> Vec<Hit> {
    let _ = (query, limit);
    vec![Hit {
        title: "Refunds",
        score: 0.5,
    }]
}

#[derive(Serialize)]
struct Meta {
    api_key: &'static str,
    tags: Vec<&'static str>,
}

#[agent_tool(redact(body))]
fn send(to: &str, body: &str, meta: Meta) -> bool {
    let _ = (to, body, meta);
    true
}

/// Runs a small agent under a layer built from `yaml`, writing to a capture.
fn run_with_config(yaml: &str) -> Vec<Value> {
    let config = Config::from_yaml_str(yaml).unwrap();
    let (layer, guard) = AgentLayer::from_config(&config).unwrap();
    drop(guard); // the config's own output (stdout) is replaced below
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(layer.with_writer(capture.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let run = Run::start(RunMeta::new("support-agent").model("gpt-4o"));
        run.in_scope(|| {
            search("refund policy", 5);
            send(
                "zoë@exämple.com",
                "secret text",
                Meta {
                    api_key: "abc",
                    tags: vec!["x"],
                },
            );
            record_llm(LlmUsage::new("gpt-4o", 1000, 500));
        });
        run.stop(StopReason::Completed);
    });
    capture.events()
}

#[test]
fn include_selects_the_optional_fields_and_keeps_every_key() {
    let events = run_with_config(SEED);
    let search = &events[1];
    assert_eq!(search["tool"], "search");
    assert_eq!(search["args_sha"], "9bc93392dc80d8a6c1954acf"); // Python reference
    assert!(search["step_id"].is_u64() && search["duration_ms"].is_u64());
    assert_eq!(search["status"], "ok");
    let llm = &events[3];
    assert_eq!(llm["kind"], "llm_result");
    assert!(
        llm.as_object().unwrap().contains_key("usage"),
        "the key stays"
    );
    assert_eq!(
        llm["usage"],
        Value::Null,
        "usage is not in the seed's include"
    );
    let stop = &events[4];
    assert_eq!(stop["stop_reason"], "completed");
    assert_eq!(
        stop["usage"]["tool_calls"], 2,
        "a stop event always carries usage"
    );
    for event in &events {
        assert!(event.get("args").is_none(), "store_args is off: {event}");
    }

    let trimmed = run_with_config(
        "logging:\n  events:\n    store_args_hash: false\n    include: [\"tool\", \"usage\"]\n",
    );
    let search = &trimmed[1];
    assert_eq!(search["tool"], "search");
    for key in ["args_sha", "step_id", "duration_ms", "status", "error"] {
        assert!(search.as_object().unwrap().contains_key(key));
        assert_eq!(search[key], Value::Null, "{key}");
    }
    assert!(trimmed[0]["run_id"].is_string() && trimmed[0]["ts_ms"].is_u64());
    assert_eq!(trimmed[3]["usage"]["input_tokens"], 1000);
    assert_eq!(trimmed[4]["stop_reason"], Value::Null);
}

#[test]
fn stored_args_are_redacted_but_hashed_whole() {
    let events = run_with_config("logging:\n  events:\n    store_args: true\n");
    let send = events.iter().find(|e| e["tool"] == "send").unwrap();
    assert_eq!(
        send["args"],
        json!({"to": REDACTED, "body": REDACTED, "meta": {"api_key": REDACTED, "tags": ["x"]}})
    );
    // Python reference over the unredacted arguments:
    // {"to": "zoë@exämple.com", "body": "secret text", "meta": {"api_key": "abc", "tags": ["x"]}}
    assert_eq!(send["args_sha"], "b6e428ab0b42abfbffb1a2c4");
    let search = events.iter().find(|e| e["tool"] == "search").unwrap();
    assert_eq!(
        search["args"],
        json!({"query": "refund policy", "limit": 5})
    );
    let text = serde_json::to_string(&events).unwrap();
    for secret in ["zoë@exämple.com", "secret text", "\"abc\""] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
}

#[test]
fn configured_redaction_keys_replace_the_default_list() {
    let events = run_with_config(
        "logging:\n  events:\n    store_args: true\n  privacy:\n    redact_keys: [\"query\"]\n    redact_values: false\n",
    );
    let search = events.iter().find(|e| e["tool"] == "search").unwrap();
    assert_eq!(search["args"], json!({"query": REDACTED, "limit": 5}));
    let send = events.iter().find(|e| e["tool"] == "send").unwrap();
    // Neither the email value nor api_key is redacted now; `redact(body)` still is.
    assert_eq!(
        send["args"],
        json!({"to": "zoë@exämple.com", "body": REDACTED, "meta": {"api_key": "abc", "tags": ["x"]}})
    );
}

#[test]
fn keyed_hashes_are_hmac_sha256_with_the_key_from_the_environment() {
    // A variable no other test touches, set before any layer reads it.
    std::env::set_var("TRACING_AGENT_TEST_HASH_KEY", "k3y-for-tests");
    let events =
        run_with_config("logging:\n  privacy:\n    hash_key_env: TRACING_AGENT_TEST_HASH_KEY\n");
    let search = events.iter().find(|e| e["tool"] == "search").unwrap();
    // Python: hmac.new(b"k3y-for-tests", canonical, sha256).hexdigest()[:24]
    assert_eq!(search["args_sha"], "19c633bf4869bd24360dc339");
    assert_eq!(search["result_sha"], "e1fd75ba0726fb0cba4ecedd");
    assert_ne!(
        search["args_sha"], "9bc93392dc80d8a6c1954acf",
        "not the unkeyed hash"
    );

    let error = AgentLayer::from_config_str(
        "logging:\n  privacy:\n    hash_key_env: TRACING_AGENT_TEST_UNSET_KEY\n",
    )
    .map(|_| ())
    .unwrap_err();
    assert!(
        error.to_string().contains("TRACING_AGENT_TEST_UNSET_KEY"),
        "{error}"
    );
}

#[test]
fn prices_fill_in_spend_when_the_caller_gives_none() {
    let events = run_with_config(
        "logging:\n  events:\n    include: [\"usage\"]\npricing:\n  gpt-4o:\n    input_usd_per_million: 2.5\n    output_usd_per_million: 10\n",
    );
    let llm = events.iter().find(|e| e["kind"] == "llm_result").unwrap();
    // 1000 * 2.5 / 1e6 + 500 * 10 / 1e6
    assert_eq!(llm["usage"]["spend_usd"], 0.0075);
    let stop = events.iter().find(|e| e["kind"] == "stop").unwrap();
    assert_eq!(stop["usage"]["spend_usd"], 0.0075);
}

#[test]
fn a_disabled_config_writes_nothing_and_tools_still_run() {
    let events = run_with_config("logging:\n  events:\n    enabled: false\n");
    assert!(events.is_empty());
}

#[test]
fn pricing_parses_per_model() {
    let config = Config::from_yaml_str(
        "pricing:\n  gpt-4o-2024-08-06: {input_usd_per_million: 2.5, output_usd_per_million: 10.0}\n  \"claude-3.5\": {input_usd_per_million: 3, output_usd_per_million: 15}\n",
    )
    .unwrap();
    let models: BTreeMap<_, _> = config
        .pricing
        .iter()
        .map(|(model, price)| {
            let tokens = Tokens {
                input: 1_000_000,
                output: 1_000_000,
                ..Tokens::default()
            };
            (model.as_str(), price.spend_usd(&tokens))
        })
        .collect();
    assert_eq!(models["gpt-4o-2024-08-06"], 12.5);
    assert_eq!(models["claude-3.5"], 18.0);
}

/// A family price by prefix: the exact name first, then the longest `prefix*`; a model
/// no entry covers has no price.
#[test]
fn a_price_matches_the_exact_name_then_the_longest_prefix() {
    let config = Config::from_yaml_str(concat!(
        "pricing:\n",
        "  \"gpt-4o*\": {input_usd_per_million: 2.5, output_usd_per_million: 10}\n",
        "  \"gpt-4o-mini*\": {input_usd_per_million: 0.15, output_usd_per_million: 0.6}\n",
        "  gpt-4o-2024-05-13: {input_usd_per_million: 5, output_usd_per_million: 15}\n",
    ))
    .unwrap();
    let input_rate = |model: &str| config.price(model).map(|p| p.input_usd_per_million);
    assert_eq!(input_rate("gpt-4o-2024-08-06"), Some(2.5));
    assert_eq!(input_rate("gpt-4o"), Some(2.5));
    assert_eq!(input_rate("gpt-4o-mini-2024-07-18"), Some(0.15));
    assert_eq!(input_rate("gpt-4o-mini"), Some(0.15));
    assert_eq!(input_rate("gpt-4o-2024-05-13"), Some(5.0));
    assert_eq!(input_rate("gpt-4"), None);
    assert_eq!(input_rate("o1"), None);
}

/// Cached input and reasoning output at their own rates, the rest at the plain ones; a
/// rate not set falls back to the plain one; counts larger than their totals are capped.
#[test]
fn cached_and_reasoning_tokens_are_billed_at_their_rates() {
    let config = Config::from_yaml_str(concat!(
        "pricing:\n",
        "  o3: {input_usd_per_million: 2, output_usd_per_million: 8, cached_input_usd_per_million: 0.5, reasoning_usd_per_million: 4}\n",
        "  plain: {input_usd_per_million: 2, output_usd_per_million: 8}\n",
    ))
    .unwrap();
    let tokens = Tokens {
        input: 1_000_000,
        cached_input: 600_000,
        output: 500_000,
        reasoning: 200_000,
    };
    // By hand: 0.4M x $2 + 0.6M x $0.5 + 0.3M x $8 + 0.2M x $4 = 0.8 + 0.3 + 2.4 + 0.8.
    let o3 = config.price("o3").unwrap().spend_usd(&tokens);
    assert!((o3 - 4.3).abs() < 1e-12, "{o3}");
    // Without the two rates: 1M x $2 + 0.5M x $8.
    let plain = config.price("plain").unwrap().spend_usd(&tokens);
    assert!((plain - 6.0).abs() < 1e-12, "{plain}");
    let overcounted = Tokens {
        input: 100,
        cached_input: 1_000,
        output: 10,
        reasoning: 1_000,
    };
    // All input cached (100 x $0.5), all output reasoning (10 x $4), per million.
    let capped = config.price("o3").unwrap().spend_usd(&overcounted);
    assert!((capped - 90.0 / 1e6).abs() < 1e-15, "{capped}");
    let refused = Config::from_yaml_str(
        "pricing:\n  m: {input_usd_per_million: 1, output_usd_per_million: 1, cached_input_usd_per_million: -1}\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        refused.contains("a price must be a finite number >= 0"),
        "{refused}"
    );
}

#[test]
fn every_guard_mistake_names_its_key_and_line() {
    let agent = |body: &str| format!("guards:\n  agents:\n    support-agent:\n{body}");
    refused(
        &agent("      max_tool_calls: 0\n"),
        4,
        &[
            "guards.agents.support-agent",
            "max_tool_calls",
            "0 lets nothing run",
        ],
    );
    refused(
        &agent("      max_steps: -5\n"),
        4,
        &["guards.agents.support-agent", "max_steps", "-5"],
    );
    refused(
        &agent("      max_spend_usd: .nan\n"),
        4,
        &["max_spend_usd", "NaN"],
    );
    refused(
        &agent("      max_spend_usd: -0.5\n"),
        4,
        &["max_spend_usd", "> 0", "-0.5"],
    );
    refused(
        &agent("      max_spend_usd: 0\n"),
        4,
        &["max_spend_usd", "> 0"],
    );
    refused(
        &agent("      max_duration: 0s\n"),
        4,
        &["max_duration", "0 lets nothing run"],
    );
    refused(
        &agent("      max_duration: soon\n"),
        4,
        &["max_duration", "`soon`", "2m"],
    );
    refused(
        &agent("      loop_repeats: 1\n"),
        4,
        &["loop_repeats", ">= 2"],
    );
    refused(
        &agent("      max_tool_call: 3\n"),
        4,
        &["unknown field `max_tool_call`", "max_tool_calls"],
    );
    refused(
        "guards:\n  kill_fil: /tmp/k\n",
        2,
        &["unknown field `kill_fil`"],
    );
}

#[test]
fn limits_come_from_the_config_per_agent_and_code_wins_limit_by_limit() {
    use tracing_agent::Limits;
    let yaml = "guards:\n  agents:\n    support-agent:\n      max_tool_calls: 1\n      loop_repeats: 5\n    \"*\":\n      max_tool_calls: 2\n";
    let config = Config::from_yaml_str(yaml).unwrap();
    let (layer, guard) = AgentLayer::from_config(&config).unwrap();
    drop(guard);
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(layer.with_writer(capture.clone()));
    let calls = |run: &Run| -> usize {
        run.in_scope(|| {
            (0..4)
                .filter(|n| search(&n.to_string(), 1).len() == 1)
                .count()
        })
    };
    tracing::subscriber::with_default(subscriber, || {
        let run = Run::start(RunMeta::new("support-agent"));
        calls(&run);
        assert_eq!(run.remaining().tool_calls, Some(0));
        assert_eq!(
            run.stop(StopReason::Completed).stop_reason,
            StopReason::MaxToolCalls
        );

        let other = Run::start(RunMeta::new("billing-agent"));
        calls(&other);
        assert_eq!(other.remaining().tool_calls, Some(0), "`*` applies: 2 of 2");
        other.stop(StopReason::Completed);

        // Code gives max_tool_calls; the config's loop_repeats still applies.
        let coded =
            Run::start(RunMeta::new("support-agent").limits(Limits::new().max_tool_calls(10)));
        calls(&coded);
        assert_eq!(coded.remaining().tool_calls, Some(6));
        assert_eq!(
            coded.stop(StopReason::Completed).stop_reason,
            StopReason::Completed
        );
    });
    let guards: Vec<Value> = capture
        .events()
        .into_iter()
        .filter(|e| e["kind"] == "guard")
        .collect();
    assert_eq!(guards.len(), 2, "{guards:?}");
    assert_eq!(guards[0]["limit"], 1);
    assert_eq!(guards[1]["limit"], 2);
}

#[test]
fn loop_detection_keys_on_keyed_hashes_too() {
    std::env::set_var("TRACING_AGENT_TEST_LOOP_KEY", "loop-k3y");
    let yaml = "logging:\n  privacy:\n    hash_key_env: TRACING_AGENT_TEST_LOOP_KEY\nguards:\n  agents:\n    looper:\n      loop_repeats: 2\n";
    let (layer, guard) = AgentLayer::from_config_str(yaml).unwrap();
    drop(guard);
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(layer.with_writer(capture.clone()));
    let stopped = tracing::subscriber::with_default(subscriber, || {
        let run = Run::start(RunMeta::new("looper"));
        run.in_scope(|| {
            search("same", 1);
            search("same", 1);
        });
        run.stop(StopReason::Completed)
    });
    // `search` cannot carry a refusal, so its body ran; the run stops for the loop.
    assert_eq!(stopped.stop_reason, StopReason::LoopDetected);
}

/// The README's full example ("Beyond the seed") is a config the library accepts, and its
/// values are the defaults it says they are.
#[test]
fn the_readme_full_example_parses_and_shows_the_defaults() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let after = readme
        .split("**Beyond the seed**")
        .nth(1)
        .expect("the README's full example");
    let yaml = after
        .split("```yaml\n")
        .nth(1)
        .and_then(|block| block.split("```").next())
        .expect("a yaml block");
    let config = Config::from_yaml_str(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let defaults = Config::default();
    assert_eq!(config.logging, defaults.logging);
    assert_eq!(config.guards, defaults.guards);
    assert_eq!(config.pricing.len(), 1);
}
