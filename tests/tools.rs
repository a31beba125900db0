//! Tool calls: one `tool_result` event per call, for every shape of tool.

mod common;

use std::borrow::Cow;
use std::collections::HashMap;

use common::{capture, current_thread_runtime};
use serde::Serialize;
use serde_json::{json, Value};
use tracing_agent::{agent_tool, ErrorClass, Run, RunMeta, StopReason};
use tracing_subscriber::prelude::*;

// Expected hashes come from the seed's Python reference:
// sha256(json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
//        .encode("utf-8")).hexdigest()[:24]
const SHA_SEND_EMAIL_ARGS: &str = "aee843f2b4cfbb67c6993837"; // {"to":"customer@example.com","subject":"Your order"}
const SHA_MSG_0001: &str = "b7d28efd7e38c7e6c52b21e6"; // "msg-0001"
const SHA_SEARCH_ARGS: &str = "9bc93392dc80d8a6c1954acf"; // {"query":"refund policy","limit":5}
const SHA_SEARCH_HITS: &str = "7fe3ff307aac74f93d3204ad"; // [{"title":"Refunds","score":0.5}]
const SHA_EMPTY_OBJECT: &str = "44136fa355b3678a1146ad16"; // {}
const SHA_LOOKUP_ARGS: &str = "b2cd4705677b6b5311a4b635"; // {"customer_id":4217}
const SHA_NULL: &str = "74234e98afe7498fb5daf1f3"; // None

#[derive(Debug)]
struct EmailError;

#[agent_tool]
fn send_email(to: &str, subject: &str) -> Result<String, EmailError> {
    let _ = (to, subject);
    Ok("msg-0001".to_owned())
}

#[derive(Debug, ErrorClass)]
enum HttpError {
    RateLimited {
        retry_after_s: u64,
    },
    #[allow(dead_code)]
    Status(u16),
}

#[agent_tool(name = "http.get")]
async fn http_get(url: String) -> Result<String, HttpError> {
    tokio::task::yield_now().await;
    if url.contains("429") {
        return Err(HttpError::RateLimited { retry_after_s: 1 });
    }
    Ok(format!("page at {url}"))
}

struct Client;

#[agent_tool(name = "crm.lookup", skip(client), version = "3")]
async fn lookup(client: &Client, customer_id: u64) -> Result<u64, std::io::Error> {
    let _ = client;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    Ok(customer_id)
}

#[derive(Serialize)]
struct Hit {
    title: String,
    score: f64,
}

struct Tools;

impl Tools {
    #[agent_tool]
    fn search(&self, query: &str, limit: u32) -> Vec<Hit> {
        let _ = (query, limit);
        vec![Hit {
            title: "Refunds".into(),
            score: 0.5,
        }]
    }
}

#[agent_tool]
fn generic_echo<T: Serialize + Clone>(value: T) -> T {
    value
}

#[agent_tool]
fn impl_trait_len(items: impl Serialize + AsRef<[u32]>) -> usize {
    items.as_ref().len()
}

#[agent_tool]
fn no_args() {}

fn tool_result(events: &[Value]) -> &Value {
    let results: Vec<_> = events
        .iter()
        .filter(|e| e["kind"] == "tool_result")
        .collect();
    assert_eq!(results.len(), 1, "expected one tool_result in {events:#?}");
    results[0]
}

#[test]
fn sync_tool_writes_one_event_with_reference_hashes() {
    let (out, cap) = capture(|| {
        let run = Run::start(RunMeta::new("t"));
        let out = run.in_scope(|| send_email("customer@example.com", "Your order"));
        run.stop(StopReason::Completed);
        out
    });
    assert_eq!(out.unwrap(), "msg-0001");
    let events = cap.events();
    let event = tool_result(&events);
    assert_eq!(event["tool"], "send_email");
    assert_eq!(event["args_sha"], SHA_SEND_EMAIL_ARGS);
    assert_eq!(event["result_sha"], SHA_MSG_0001);
    assert_eq!(event["status"], "ok");
    assert_eq!(event["error"], Value::Null);
    assert_eq!(event["step_id"], 1);
    assert!(event["duration_ms"].is_u64());
    assert_eq!(event["run_id"], events[0]["run_id"]);
    assert!(event.get("tool_version").is_none());
    assert!(event.get("parent_step_id").is_none());
}

#[test]
fn async_tool_error_gets_the_variant_as_class_and_no_message() {
    let (_, cap) = capture(|| {
        current_thread_runtime().block_on(async {
            let run = Run::start(RunMeta::new("t"));
            let page = run.instrument(http_get("https://x/429".into())).await;
            assert!(matches!(
                page,
                Err(HttpError::RateLimited { retry_after_s: 1 })
            ));
            run.stop(StopReason::ToolError)
        })
    });
    let events = cap.events();
    let event = tool_result(&events);
    assert_eq!(event["tool"], "http.get");
    assert_eq!(event["status"], "error");
    assert_eq!(event["error"], "RateLimited");
    assert!(event.get("result_sha").is_none());
    assert!(
        !cap.text().contains("retry_after"),
        "the error's content leaked"
    );
    let stop = events.last().unwrap();
    assert_eq!(stop["usage"]["tool_errors"], 1);
}

#[test]
fn async_tool_duration_spans_awaits_and_skip_and_version_apply() {
    let (_, cap) = capture(|| {
        current_thread_runtime().block_on(async {
            let run = Run::start(RunMeta::new("t"));
            run.instrument(lookup(&Client, 4217)).await.unwrap();
            run.stop(StopReason::Completed)
        })
    });
    let events = cap.events();
    let event = tool_result(&events);
    assert_eq!(event["tool"], "crm.lookup");
    assert_eq!(event["tool_version"], "3");
    assert_eq!(
        event["args_sha"], SHA_LOOKUP_ARGS,
        "client must not be hashed"
    );
    assert!(event["duration_ms"].as_u64().unwrap() >= 20, "{event}");
    // std::io::Error's class is its kind; here it succeeded.
    assert_eq!(event["status"], "ok");
}

#[test]
fn io_error_class_is_its_kind() {
    #[agent_tool]
    fn read_config(path: &str) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }
    let (_, cap) = capture(|| read_config("/definitely/not/here").ok());
    assert_eq!(tool_result(&cap.events())["error"], "NotFound");
}

#[test]
fn error_class_is_the_type_name_without_path_or_generics() {
    #[derive(Debug)]
    struct Wrapped<T>(T);
    #[agent_tool]
    fn parse(text: &str) -> Result<u8, std::num::ParseIntError> {
        text.parse()
    }
    #[agent_tool]
    fn wrapped() -> Result<(), Wrapped<Vec<String>>> {
        Err(Wrapped(vec![]))
    }
    let (_, cap) = capture(|| {
        let _ = parse("x");
        let _ = wrapped();
    });
    let events = cap.events();
    assert_eq!(events[0]["error"], "ParseIntError");
    assert_eq!(events[1]["error"], "Wrapped");
}

#[test]
fn method_tool_never_hashes_self() {
    let (hits, cap) = capture(|| Tools.search("refund policy", 5));
    assert_eq!(hits.len(), 1);
    let event = tool_result(&cap.events()).clone();
    assert_eq!(event["tool"], "search");
    assert_eq!(event["args_sha"], SHA_SEARCH_ARGS);
    assert_eq!(event["result_sha"], SHA_SEARCH_HITS);
    assert_eq!(event["status"], "ok");
}

#[test]
fn generic_and_impl_trait_tools_hash_their_values() {
    let (_, cap) = capture(|| {
        assert_eq!(
            generic_echo(json!({"to": "customer@example.com", "subject": "Your order"}))["to"],
            "customer@example.com"
        );
        assert_eq!(impl_trait_len(vec![1, 2, 3]), 3);
        no_args();
    });
    let events = cap.events();
    assert_eq!(events.len(), 3);
    // {"value": {...}} — the parameter object wraps the value.
    let expected_generic = tracing_agent::hash::sha24(
        &json!({"value": {"to": "customer@example.com", "subject": "Your order"}}),
    )
    .unwrap();
    assert_eq!(events[0]["args_sha"], expected_generic.as_str());
    assert_eq!(events[1]["tool"], "impl_trait_len");
    assert_eq!(
        events[1]["args_sha"],
        tracing_agent::hash::sha24(&json!({"items": [1, 2, 3]}))
            .unwrap()
            .as_str()
    );
    assert_eq!(events[2]["args_sha"], SHA_EMPTY_OBJECT);
    assert_eq!(events[2]["result_sha"], SHA_NULL);
}

#[agent_tool]
fn inner_tool(n: u32) -> u32 {
    n + 1
}

#[agent_tool]
fn outer_tool(n: u32) -> u32 {
    inner_tool(n) + inner_tool(n)
}

#[test]
fn nested_tools_record_their_parent_step() {
    let (_, cap) = capture(|| {
        let run = Run::start(RunMeta::new("t"));
        run.in_scope(|| outer_tool(1));
        run.stop(StopReason::Completed)
    });
    let results = cap.of_kind("tool_result");
    // Inner calls end first; the outer call took step 1 when it started.
    assert_eq!(results.len(), 3);
    let outer = results.iter().find(|e| e["tool"] == "outer_tool").unwrap();
    assert_eq!(outer["step_id"], 1);
    assert!(outer.get("parent_step_id").is_none());
    let inner: Vec<_> = results
        .iter()
        .filter(|e| e["tool"] == "inner_tool")
        .collect();
    assert_eq!(inner[0]["step_id"], 2);
    assert_eq!(inner[1]["step_id"], 3);
    for event in inner {
        assert_eq!(event["parent_step_id"], 1);
    }
    let stop = cap.of_kind("stop").remove(0);
    assert_eq!(stop["usage"]["tool_calls"], 3);
    assert_eq!(stop["usage"]["steps"], 3);
}

#[agent_tool]
fn explode(reason: &str) -> u32 {
    panic!("boom: {reason}")
}

#[test]
fn a_panicking_tool_is_an_error_of_class_panic_and_the_panic_continues() {
    let (caught, cap) = capture(|| {
        let run = Run::start(RunMeta::new("t"));
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run.in_scope(|| explode("secret detail"))
        }));
        run.stop(StopReason::Error);
        caught
    });
    assert!(caught.is_err(), "the panic must reach the caller");
    let event = tool_result(&cap.events()).clone();
    assert_eq!(event["status"], "error");
    assert_eq!(event["error"], "panic");
    assert!(!cap.text().contains("secret detail"));
}

/// A result whose `Serialize` impl panics while it is hashed.
struct Explosive;

impl Serialize for Explosive {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("serialize bug")
    }
}

#[agent_tool]
fn explosive_result() -> Explosive {
    Explosive
}

/// Changed deliberately (issue 10): the panic used to reach the caller, reported as class
/// `panic`. The layer must not change what the program does: the caller gets its value,
/// and the event says the result could not be hashed.
#[test]
fn a_result_whose_serialize_panics_is_ok_with_a_hash_error() {
    let (caught, cap) = capture(|| {
        let run = Run::start(RunMeta::new("t"));
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run.in_scope(explosive_result)
        }));
        run.stop(StopReason::Error);
        caught
    });
    assert!(caught.is_ok(), "the caller gets its value, not a panic");
    let events = cap.of_kind("tool_result");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["status"], "ok");
    assert_eq!(events[0]["error"], Value::Null);
    assert_eq!(events[0]["result_sha"], Value::Null);
    assert_eq!(
        events[0]["hash_error"],
        "result: a `Serialize` impl panicked"
    );
}

/// A `metrics` recorder that panics on every histogram.
struct PanickingRecorder;

impl metrics::Recorder for PanickingRecorder {
    fn describe_counter(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn register_counter(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        metrics::Counter::noop()
    }
    fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::noop()
    }
    fn register_histogram(
        &self,
        _: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        panic!("recorder bug")
    }
}

#[agent_tool]
fn plain(n: u32) -> u32 {
    n
}

/// The only test of this binary that installs `PanickingRecorder`: the first panic it
/// causes stops metrics for the rest of the process.
#[test]
fn a_panicking_recorder_never_panics_into_the_agent_nor_doubles_events() {
    // A tool that panics inside a run the panic unwinds through: the recorder panics in the
    // tool call's `drop` while unwinding, which uncaught would abort the process.
    let (caught, cap) = capture(|| {
        std::panic::catch_unwind(|| {
            metrics::with_local_recorder(&PanickingRecorder, || {
                let run = Run::start(RunMeta::new("t"));
                run.in_scope(|| explode("during unwinding"))
            })
        })
    });
    let message = caught.expect_err("the tool's own panic reaches the caller");
    assert!(format!("{:?}", message.downcast_ref::<String>()).contains("during unwinding"));
    let tool = cap.of_kind("tool_result");
    assert_eq!(tool.len(), 1, "{tool:?}");
    assert_eq!(tool[0]["error"], "panic");
    let stop = cap.of_kind("stop");
    assert_eq!(stop.len(), 1, "{stop:?}");
    assert_eq!(stop[0]["stop_reason"], "panic");

    // Afterwards the recorder is left alone and tools go on being recorded, once each.
    let (value, cap) = capture(|| {
        let run = Run::start(RunMeta::new("t"));
        let value = metrics::with_local_recorder(&PanickingRecorder, || run.in_scope(|| plain(1)));
        run.stop(StopReason::Completed);
        value
    });
    assert_eq!(value, 1, "the tool's value reaches the caller");
    let events = cap.of_kind("tool_result");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["status"], "ok");
}

#[agent_tool]
async fn slow_tool(ms: u64) -> u64 {
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    ms
}

#[test]
fn a_dropped_async_tool_is_cancelled() {
    let (_, cap) = capture(|| {
        current_thread_runtime().block_on(async {
            let run = Run::start(RunMeta::new("t"));
            let timed_out = run
                .instrument(tokio::time::timeout(
                    std::time::Duration::from_millis(10),
                    slow_tool(10_000),
                ))
                .await;
            assert!(timed_out.is_err());
            run.stop(StopReason::ToolTimeout)
        })
    });
    let event = tool_result(&cap.events()).clone();
    assert_eq!(event["status"], "error");
    assert_eq!(event["error"], "cancelled");
    assert_eq!(event["step_id"], 1);
}

#[agent_tool]
async fn panics_after_await(n: u32) -> u32 {
    tokio::task::yield_now().await;
    if n > 0 {
        panic!("async boom");
    }
    n
}

#[test]
fn a_panicking_async_tool_is_class_panic() {
    let (_, cap) = capture(|| {
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            use tracing::instrument::WithSubscriber;
            let run = Run::start(RunMeta::new("t"));
            let task = tokio::spawn(
                run.instrument(panics_after_await(1))
                    .with_subscriber(dispatch),
            );
            assert!(task.await.unwrap_err().is_panic());
            run.stop(StopReason::Panic)
        })
    });
    let event = tool_result(&cap.events()).clone();
    assert_eq!(event["error"], "panic");
}

#[test]
fn a_tool_outside_any_run_is_still_written() {
    let (_, cap) = capture(|| send_email("customer@example.com", "Your order"));
    let events = cap.events();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event["kind"], "tool_result");
    assert_eq!(event["run_id"], Value::Null);
    assert_eq!(event["step_id"], Value::Null);
    assert_eq!(event["args_sha"], SHA_SEND_EMAIL_ARGS);
}

#[agent_tool]
fn with_int_keys(counts: HashMap<u32, u32>) -> usize {
    counts.len()
}

struct Unserializable;
impl Serialize for Unserializable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("refused on purpose"))
    }
}

#[agent_tool]
fn with_failing_arg(value: Unserializable, label: &str) -> usize {
    let _ = value;
    label.len()
}

#[test]
fn unhashable_arguments_never_break_the_call() {
    let (lens, cap) = capture(|| {
        (
            with_int_keys(HashMap::from([(1, 2)])),
            with_failing_arg(Unserializable, "abc"),
        )
    });
    assert_eq!(lens, (1, 3), "the tools ran");
    let events = cap.events();
    assert_eq!(events.len(), 2);
    for event in &events {
        assert_eq!(event["args_sha"], Value::Null);
        assert_eq!(event["status"], "ok");
    }
    let first = events[0]["hash_error"].as_str().unwrap();
    assert!(
        first.contains("counts") && first.contains("not a string"),
        "{first}"
    );
    let second = events[1]["hash_error"].as_str().unwrap();
    assert!(
        second.contains("value") && second.contains("`Serialize` impl failed"),
        "{second}"
    );
    assert!(
        !second.contains("refused on purpose"),
        "an impl's own words may hold data: {second}"
    );
}

#[agent_tool]
fn by_email(index: HashMap<String, HashMap<u64, bool>>) -> usize {
    index.len()
}

#[test]
fn hash_errors_never_carry_argument_data() {
    let index = HashMap::from([("alice@example.com".to_owned(), HashMap::from([(7, true)]))]);
    let (_, cap) = capture(|| by_email(index));
    let text = cap.text();
    assert!(
        !text.contains("alice"),
        "a map key leaked into the event: {text}"
    );
    let event = &cap.events()[0];
    let message = event["hash_error"].as_str().unwrap();
    assert!(
        message.contains("index[<key>].<key>") && message.contains("not a string"),
        "{message}"
    );
}

#[derive(Debug)]
struct Weird;
impl ErrorClass for Weird {
    fn error_class(&self) -> Cow<'static, str> {
        "Bad\"Class\n{\"kind\":\"stop\"}\u{2028}".into()
    }
}

#[agent_tool(name = "quote\"and\nnewline")]
fn weird_tool() -> Result<(), Weird> {
    Err(Weird)
}

#[test]
fn names_and_classes_cannot_forge_a_second_line() {
    let (_, cap) = capture(weird_tool);
    let text = cap.text();
    assert_eq!(text.matches('\n').count(), 1, "{text}");
    assert!(!text.contains('\u{2028}'), "U+2028 must be escaped: {text}");
    let event = tool_result(&cap.events()).clone();
    assert_eq!(event["tool"], "quote\"and\nnewline");
    assert_eq!(event["error"], "Bad\"Class\n{\"kind\":\"stop\"}\u{2028}");
}

#[test]
fn tools_work_without_any_subscriber() {
    assert_eq!(send_email("a", "b").unwrap(), "msg-0001");
    assert_eq!(Tools.search("q", 1).len(), 1);
    assert_eq!(
        current_thread_runtime()
            .block_on(http_get("ok".into()))
            .unwrap(),
        "page at ok"
    );
}

#[test]
fn tools_work_with_only_a_fmt_layer() {
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::sink)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let run = Run::start(RunMeta::new("t"));
        assert_eq!(run.in_scope(|| outer_tool(1)), 4);
        let stopped = run.stop(StopReason::Completed);
        assert_eq!(
            stopped.usage.tool_calls, 0,
            "nothing is counted without AgentLayer"
        );
    });
}

static GATED_BODIES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

#[agent_tool]
fn gated(n: u32) -> Result<u32, EmailError> {
    GATED_BODIES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    Ok(n * 2)
}

#[agent_tool]
async fn gated_async(n: u32) -> u32 {
    GATED_BODIES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    n + 1
}

/// The gate's one decision today, `Run`, wherever the call happens: in a run, outside
/// any, with no layer, and with the tool's span filtered out. Each call runs its body
/// exactly once and returns what the body returned.
#[test]
fn the_gate_runs_the_body_once_in_every_setting() {
    use std::sync::atomic::Ordering::SeqCst;
    let bodies_before = GATED_BODIES.load(SeqCst);
    let rt = current_thread_runtime();
    let (_, cap) = capture(|| {
        let run = Run::start(RunMeta::new("gate"));
        assert_eq!(run.in_scope(|| gated(2)).unwrap(), 4);
        assert_eq!(rt.block_on(run.instrument(gated_async(2))), 3);
        run.stop(StopReason::Completed);
        assert_eq!(gated(5).unwrap(), 10, "outside any run");
    });
    let results = cap.of_kind("tool_result");
    assert_eq!(results.len(), 3, "{results:?}");
    assert!(results.iter().all(|e| e["status"] == "ok"), "{results:?}");
    assert_eq!(GATED_BODIES.load(SeqCst) - bodies_before, 3);

    assert_eq!(gated(1).unwrap(), 2, "no subscriber");
    assert_eq!(rt.block_on(gated_async(1)), 2, "no subscriber");
    let filtered = tracing_subscriber::registry()
        .with(tracing_subscriber::filter::filter_fn(|meta| {
            meta.target() != "tracing_agent::tool"
        }))
        .with(tracing_agent::AgentLayer::new().with_writer(cap.clone()));
    tracing::subscriber::with_default(filtered, || {
        assert_eq!(gated(3).unwrap(), 6, "span filtered out");
    });
    assert_eq!(GATED_BODIES.load(SeqCst) - bodies_before, 6);
    assert_eq!(cap.of_kind("tool_result").len(), 3, "nothing more written");
}

#[agent_tool]
fn where_am_i() -> (String, Option<u64>) {
    let here = tracing_agent::current().expect("in a run");
    (here.run_id().to_owned(), here.step_id())
}

#[agent_tool]
fn outer_where() -> ((String, Option<u64>), (String, Option<u64>)) {
    let mine = tracing_agent::current().map(|c| (c.run_id().to_owned(), c.step_id()));
    (mine.unwrap(), where_am_i())
}

#[agent_tool]
async fn async_where(n: u32) -> (Option<u64>, u64) {
    tokio::task::yield_now().await;
    let here = tracing_agent::current().expect("in a run, across an await");
    (here.step_id(), here.usage().tool_calls + u64::from(n))
}

/// Inside a tool, the run and the tool's own step; nested, the innermost's; across
/// awaits too; and the run's usage so far.
#[test]
fn current_gives_the_run_and_the_innermost_step() {
    let rt = current_thread_runtime();
    let (_, cap) = capture(|| {
        assert!(tracing_agent::current().is_none(), "no run yet");
        let run = Run::start(RunMeta::new("where").run_id("run-here"));
        let here = run.in_scope(tracing_agent::current).expect("in the run");
        assert_eq!((here.run_id(), here.step_id()), ("run-here", None));
        assert_eq!(run.in_scope(where_am_i), ("run-here".to_owned(), Some(1)));
        let (outer, inner) = run.in_scope(outer_where);
        assert_eq!(outer, ("run-here".to_owned(), Some(2)));
        assert_eq!(inner, ("run-here".to_owned(), Some(3)));
        // Three calls ended before this one: its usage says so.
        assert_eq!(rt.block_on(run.instrument(async_where(0))), (Some(4), 3));
        run.stop(StopReason::Completed);
    });
    let steps: Vec<u64> = cap
        .of_kind("tool_result")
        .iter()
        .map(|e| e["step_id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        steps,
        [1, 3, 2, 4],
        "the ids current() gave are the events'"
    );
}

/// A client that is not `Serialize`: `skip_all` hashes no parameter, so none has to be.
struct Opaque;

#[agent_tool(skip_all, fields(region = "eu-west", order = %order_id))]
fn skip_all_with_fields(client: &Opaque, order_id: u64) -> u64 {
    let _ = client;
    tracing::info!("inside");
    order_id
}

/// `skip_all` hashes no parameter (the hash of `{}`, as `skip` of each would give), and
/// `fields(..)` puts more fields on the tool's span, in `tracing`'s syntax.
#[test]
fn skip_all_and_fields_carry_over_from_instrument() {
    use tracing_subscriber::prelude::*;
    let logs = common::Capture::default();
    let events = common::Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(logs.clone()),
        )
        .with(tracing_agent::AgentLayer::new().with_writer(events.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let run = Run::start(RunMeta::new("t"));
        assert_eq!(run.in_scope(|| skip_all_with_fields(&Opaque, 4217)), 4217);
        run.stop(StopReason::Completed);
    });
    let empty = tracing_agent::hash::sha24(&json!({})).unwrap();
    let result = tool_result(&events.events()).clone();
    assert_eq!(result["args_sha"], empty.as_str());
    let line = logs.text();
    let inside = line.lines().find(|l| l.contains("inside")).unwrap();
    assert!(inside.contains("region=\"eu-west\""), "{inside}");
    assert!(inside.contains("order=4217"), "{inside}");
}
