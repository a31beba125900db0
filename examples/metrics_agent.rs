//! A simulated support agent that serves its metrics on `/metrics` for Prometheus.
//!
//! It runs one agent run after another, each with a few tool calls, LLM calls and a stop
//! reason (mostly `completed`, sometimes `loop_detected`, `tool_timeout` or `max_steps`),
//! and keeps going until killed or until `--runs` runs are done. `--drift` replays the
//! incident: more tool calls per run, slower tools, more timeouts.
//!
//! ```text
//! cargo run --example metrics_agent -- --listen 127.0.0.1:9464 [--runs N] [--interval-ms M] [--drift] [--gen-ai]
//! curl -s http://127.0.0.1:9464/metrics
//! ```
//!
//! Its unified events go to stdout, one JSON line each, as in the quickstart.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use tracing_agent::metrics::Metrics;
use tracing_agent::{agent_tool, AgentLayer, ErrorClass, LlmUsage, Run, RunMeta, StopReason};
use tracing_subscriber::prelude::*;

struct Args {
    listen: SocketAddr,
    runs: Option<u64>,
    interval: Duration,
    drift: bool,
    gen_ai: bool,
}

const USAGE: &str =
    "usage: metrics_agent --listen ADDR [--runs N] [--interval-ms M] [--drift] [--gen-ai]";

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut listen = None;
    let mut runs = None;
    let mut interval = Duration::from_millis(100);
    let (mut drift, mut gen_ai) = (false, false);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name}: a value is missing"));
        match arg.as_str() {
            "--listen" => {
                let text = value("--listen")?;
                let addr = text.parse().map_err(|e| {
                    format!("--listen: {text:?} is not an address like 127.0.0.1:9464 ({e})")
                })?;
                listen = Some(addr);
            }
            "--runs" => {
                let text = value("--runs")?;
                runs = Some(
                    text.parse()
                        .map_err(|_| format!("--runs: {text:?} is not a whole number"))?,
                );
            }
            "--interval-ms" => {
                let text = value("--interval-ms")?;
                let ms = text
                    .parse()
                    .map_err(|_| format!("--interval-ms: {text:?} is not a whole number"))?;
                interval = Duration::from_millis(ms);
            }
            "--drift" => drift = true,
            "--gen-ai" => gen_ai = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args {
        listen: listen.ok_or("--listen is required")?,
        runs,
        interval,
        drift,
        gen_ai,
    })
}

#[derive(Debug, ErrorClass)]
enum HttpError {
    TimedOut,
    RateLimited,
}

/// A source of deterministic variety: xorshift64, seeded per run.
struct Dice(u64);

impl Dice {
    fn new(seed: u64) -> Self {
        Dice(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A number in `low..=high`.
    fn roll(&mut self, low: u64, high: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        low + self.0 % (high - low + 1)
    }
}

#[agent_tool(name = "kb.search")]
async fn search(query: String, wait_ms: u64) -> Vec<String> {
    tokio::time::sleep(Duration::from_millis(wait_ms)).await;
    vec![format!("article about {query}")]
}

#[agent_tool(name = "crm.lookup")]
async fn lookup(customer_id: u64, wait_ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(wait_ms)).await;
    customer_id
}

#[agent_tool(name = "http.get")]
async fn http_get(url: String, wait_ms: u64, fail: Option<u8>) -> Result<String, HttpError> {
    tokio::time::sleep(Duration::from_millis(wait_ms)).await;
    match fail {
        Some(0) => Err(HttpError::TimedOut),
        Some(_) => Err(HttpError::RateLimited),
        None => Ok(format!("200 OK from {url}")),
    }
}

async fn llm_call(dice: &mut Dice, slow: u64) {
    tokio::time::sleep(Duration::from_millis(dice.roll(20, 60) * slow)).await;
    let (input, output) = (dice.roll(400, 3000), dice.roll(50, 600));
    let spend = (input as f64 * 2.5 + output as f64 * 10.0) / 1_000_000.0;
    tracing_agent::record_llm(LlmUsage::new("gpt-4o-2024-08-06", input, output).spend_usd(spend));
}

/// One run: an LLM call, then tool calls each followed by an LLM call every other time.
async fn one_run(number: u64, drift: bool) {
    let mut dice = Dice::new(number);
    let (tools, slow) = if drift {
        (dice.roll(6, 14), 4)
    } else {
        (dice.roll(1, 6), 1)
    };
    let reason = match dice.roll(1, 100) {
        1..=5 => StopReason::LoopDetected,
        6..=10 => StopReason::ToolTimeout,
        11..=13 => StopReason::MaxSteps,
        _ if drift && dice.roll(1, 4) == 1 => StopReason::ToolTimeout,
        _ => StopReason::Completed,
    };
    let run = Run::start(
        RunMeta::new("support-agent")
            .model("gpt-4o-2024-08-06")
            .prompt_version("v12"),
    );
    run.instrument(async {
        llm_call(&mut dice, slow).await;
        for step in 0..tools {
            let wait = dice.roll(5, 30) * slow;
            match dice.roll(1, 3) {
                1 => drop(search(format!("refund policy {step}"), wait).await),
                2 => drop(lookup(4217, wait).await),
                _ => {
                    let fail = (dice.roll(1, 10) == 1).then(|| dice.roll(0, 1) as u8);
                    let _ = http_get("https://status.example/api".into(), wait, fail).await;
                }
            }
            if step % 2 == 1 {
                llm_call(&mut dice, slow).await;
            }
        }
    })
    .await;
    run.stop(reason);
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(error) => {
            eprintln!("metrics_agent: {error}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::registry()
        .with(AgentLayer::new().with_metrics(Metrics::new().gen_ai(args.gen_ai)))
        .init();
    if let Err(error) = tracing_agent::metrics::install_prometheus(args.listen) {
        eprintln!("metrics_agent: {error}");
        return ExitCode::FAILURE;
    }
    eprintln!("metrics_agent: serving http://{}/metrics", args.listen);
    let mut number = 0;
    while args.runs != Some(number) {
        one_run(number, args.drift).await;
        number += 1;
        tokio::time::sleep(args.interval).await;
    }
    ExitCode::SUCCESS
}
