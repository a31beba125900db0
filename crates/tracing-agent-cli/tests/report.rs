//! `tracing-agent report` on hand-written logs: what every chart holds (read back from
//! the points' `data-x`/`data-y` attributes), escaping of hostile names, empty buckets,
//! runs without a stop and of unknown cost, the drift section, and bad input.
//!
//! tests/fixtures/stats.log, worked out by hand (see tests/stats.rs): its runs span 48
//! hours, so the report's buckets are 1 hour long (15 minutes would make 193 buckets,
//! over the 120 allowed). Buckets with runs: 2024-11-24 10:00 (run-a: 2 tool calls, 1 s,
//! $0.01, completed; its first http.get failed), 11:00 (run-b: 1 call, 3 s, unknown
//! cost, completed), 12:00 (py-c: 1 call, 4 s, unknown cost, tool_timeout), 2024-11-26
//! 09:00 (run-d: 4 calls, 2 s, $0.05, completed) and 10:00 (run-e: no calls, no stop,
//! $0.02).

mod common;

use std::path::Path;

use common::cli;

const STATS_LOG: &str = "tests/fixtures/stats.log";
const HOUR: u64 = 3_600_000;
/// 2024-11-24T10:00:00Z and 2024-11-26T09:00:00Z.
const NOV24_10H: u64 = 1_732_442_400_000;
const NOV26_09H: u64 = 1_732_611_600_000;

/// The `<svg>` element whose `data-chart` is `id`, from its start tag to its end.
fn chart<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!(r#"<svg data-chart="{id}""#))
        .unwrap_or_else(|| panic!("no chart {id}"));
    let end = html[start..].find("</svg>").expect("the chart ends") + start;
    &html[start..end]
}

/// The value of every `name="..."` attribute in `text`, in order.
fn attributes<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let needle = format!(r#" {name}=""#);
    text.match_indices(&needle)
        .map(|(at, _)| {
            let rest = &text[at + needle.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

/// The points of a chart's series named `series`: (x, y) from the marks' attributes.
fn points(html: &str, id: &str, series: &str) -> Vec<(f64, f64)> {
    let svg = chart(html, id);
    let start = svg
        .find(&format!(r#"data-series="{series}""#))
        .unwrap_or_else(|| panic!("no series {series} in {id}"));
    let group = &svg[start..svg[start..].find("</g>").unwrap() + start];
    let xs = attributes(group, "data-x");
    let ys = attributes(group, "data-y");
    assert_eq!(xs.len(), ys.len());
    xs.iter()
        .zip(&ys)
        .map(|(x, y)| (x.parse().unwrap(), y.parse().unwrap()))
        .collect()
}

/// A bucket's middle, where its point is.
fn mid(start: u64) -> f64 {
    (start + HOUR / 2) as f64
}

fn report(args: &[&str]) -> (String, common::Run) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    let mut all = vec!["report", "-o", out.to_str().unwrap()];
    all.extend_from_slice(args);
    let run = cli(&all, "");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    (std::fs::read_to_string(&out).unwrap(), run)
}

#[test]
fn every_chart_holds_the_fixtures_numbers() {
    let (html, run) = report(&[STATS_LOG]);
    assert!(run.stdout.starts_with("wrote "), "{}", run.stdout);
    assert!(
        run.stdout.contains("report.html (5 runs, "),
        "{}",
        run.stdout
    );
    // The skipped lines are said, as every command says them.
    assert!(run.stderr.contains("skipped 2 lines"), "{}", run.stderr);
    assert!(html.contains("buckets of 1 hour"));
    let hours = [
        NOV24_10H,
        NOV24_10H + HOUR,
        NOV24_10H + 2 * HOUR,
        NOV26_09H,
        NOV26_09H + HOUR,
    ];
    let all: Vec<f64> = hours.iter().copied().map(mid).collect();
    assert_eq!(
        points(&html, "runs", "runs"),
        all.iter().map(|x| (*x, 1.0)).collect::<Vec<_>>()
    );
    assert_eq!(
        points(&html, "tool_calls_p95", "p95"),
        all.iter()
            .copied()
            .zip([2.0, 1.0, 1.0, 4.0, 0.0])
            .collect::<Vec<_>>()
    );
    // run-e has no stop: no latency, no point in its bucket.
    assert_eq!(
        points(&html, "latency_p95", "p95"),
        vec![
            (all[0], 1000.0),
            (all[1], 3000.0),
            (all[2], 4000.0),
            (all[3], 2000.0)
        ]
    );
    // run-b and py-c are of unknown cost: no mean in their buckets, and said.
    assert_eq!(
        points(&html, "spend_per_run", "mean"),
        vec![(all[0], 0.01), (all[3], 0.05), (all[4], 0.02)]
    );
    assert!(html.contains(
        "share of runs by bucket: 2024-11-24T11:00:00Z 100.0%, 2024-11-24T12:00:00Z 100.0%"
    ));
    assert_eq!(
        points(&html, "tool_error_rate", "http.get"),
        vec![(all[0], 0.5), (all[2], 0.0)]
    );
    assert_eq!(
        points(&html, "tool_error_rate", "kb.search"),
        vec![(all[1], 0.0), (all[3], 0.0)]
    );
    // Stop reasons: completed first, then the others, then the runs without a stop;
    // every bucket's column adds up to its runs.
    let stops = chart(&html, "stop_reasons");
    assert_eq!(
        attributes(stops, "data-category"),
        [
            "completed",
            "completed",
            "tool_timeout",
            "completed",
            "(no stop)"
        ]
    );
    assert_eq!(attributes(stops, "data-y"), ["1", "1", "1", "1", "1"]);
    // No baseline: no drift section.
    assert!(!html.contains("data-verdict"));
}

#[test]
fn an_empty_bucket_breaks_the_lines() {
    let (html, _) = report(&[STATS_LOG]);
    let svg = chart(&html, "tool_calls_p95");
    let path = attributes(svg, "d")[0];
    // 10:00, 11:00, 12:00 on the 24th joined; then 09:00 and 10:00 on the 26th.
    assert_eq!(path.matches('M').count(), 2, "{path}");
    assert_eq!(path.matches('L').count(), 3, "{path}");
    // Nothing is drawn for the 25th.
    let nov25 = NOV24_10H + 14 * HOUR..NOV26_09H;
    for (x, _) in points(&html, "runs", "runs") {
        assert!(!nov25.contains(&(x as u64)), "a point at {x}");
    }
}

#[test]
fn the_slowest_and_costliest_runs_and_their_waterfalls() {
    let (html, _) = report(&[STATS_LOG]);
    let table = |id: &str| {
        let start = html.find(&format!(r#"<table data-table="{id}""#)).unwrap();
        let end = html[start..].find("</table>").unwrap() + start;
        attributes(&html[start..end], "title")
    };
    assert_eq!(table("slowest"), ["py-c", "run-b", "run-d", "run-a"]);
    // run-b and py-c are of unknown cost: not ranked.
    assert_eq!(table("costliest"), ["run-d", "run-e", "run-a"]);
    // Waterfalls of the three slowest; the costliest, run-d, is one of them.
    assert!(html.contains(r#"data-chart="waterfall_2""#));
    assert!(!html.contains(r#"data-chart="waterfall_3""#));
    // run-b: kb.search from 0 to 50 ms, its LLM call (no duration) at 2 s.
    let run_b = chart(&html, "waterfall_1");
    assert!(run_b.contains("<title>Run run-b (3.0s"));
    assert_eq!(attributes(run_b, "data-x"), ["0", "2000"]);
    assert_eq!(attributes(run_b, "data-y"), ["50", "0"]);
    // run-a is not drawn; run-d's four calls are.
    let run_d = chart(&html, "waterfall_2");
    assert_eq!(attributes(run_d, "data-x"), ["0", "10", "30", "60"]);
    assert_eq!(attributes(run_d, "data-y"), ["10", "20", "30", "40"]);
    assert!(html.contains("(no stop)"));
}

#[test]
fn the_failed_call_is_marked_in_its_waterfall() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("one.log");
    std::fs::write(
        &log,
        concat!(
            r#"{"run_id":"slow","kind":"run_start","ts_ms":1000,"meta":{"agent":"a","model":"m"}}"#,
            "\n",
            r#"{"run_id":"slow","kind":"tool_result","ts_ms":1500,"tool":"http.get","duration_ms":400,"status":"error","error":"RateLimited"}"#,
            "\n",
            r#"{"run_id":"slow","kind":"stop","ts_ms":2000,"duration_ms":1000,"stop_reason":"completed"}"#,
            "\n"
        ),
    )
    .unwrap();
    let (html, _) = report(&[log.to_str().unwrap()]);
    let svg = chart(&html, "waterfall_0");
    assert_eq!(attributes(svg, "data-x"), ["100"]);
    assert_eq!(attributes(svg, "data-y"), ["400"]);
    assert!(
        svg.contains(r#"class="pt k3""#),
        "a failed call in the error color"
    );
    assert!(svg.contains("✕ RateLimited"));
    assert!(svg.contains("failed: RateLimited"));
}

/// A log whose every name is markup.
pub fn hostile_log(path: &Path) {
    let lines = [
        r#"{"run_id":"\"><svg onload=alert(1)>","kind":"run_start","ts_ms":1000,"meta":{"agent":"<script>console.error('pwned-agent')</script>","model":"<b>m</b>"}}"#,
        r#"{"run_id":"\"><svg onload=alert(1)>","kind":"tool_result","ts_ms":1500,"tool":"<img src=x onerror=console.error('pwned-tool')>","duration_ms":400,"status":"error","error":"</title><script>console.error('pwned-class')</script>"}"#,
        r#"{"run_id":"\"><svg onload=alert(1)>","kind":"stop","ts_ms":2000,"duration_ms":1000,"stop_reason":"completed","usage":{"spend_usd":0.5}}"#,
    ];
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn markup_in_names_stays_text() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("hostile.log");
    hostile_log(&log);
    let (html, _) = report(&[log.to_str().unwrap()]);
    assert!(!html.contains("<script"), "a script tag got through");
    assert!(!html.contains("<img"));
    assert!(!html.contains("<svg onload"));
    assert!(!html.contains("<b>m</b>"));
    assert!(html.contains("&lt;script&gt;console.error(&#39;pwned-agent&#39;)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=console.error(&#39;pwned-tool&#39;)&gt;"));
    assert!(html.contains("&quot;&gt;&lt;svg onload=alert(1)&gt;"));
    // Every element the page opens is one of ours.
    let allowed = [
        "!DOCTYPE",
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "h1",
        "h2",
        "h3",
        "p",
        "div",
        "b",
        "table",
        "tr",
        "th",
        "td",
        "figure",
        "figcaption",
        "svg",
        "g",
        "line",
        "text",
        "path",
        "circle",
        "rect",
    ];
    for (at, _) in html.match_indices('<') {
        let name: String = html[at + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect();
        if name.is_empty() {
            continue; // a closing tag
        }
        assert!(allowed.contains(&name.as_str()), "<{name} in the page");
    }
}

#[test]
fn nothing_is_loaded_from_elsewhere() {
    let (html, _) = report(&[STATS_LOG]);
    for needle in [
        "<script", "<link", "src=", "href=", "@import", "url(", "<img",
    ] {
        assert!(!html.contains(needle), "{needle} in the page");
    }
    assert!(html.contains("prefers-color-scheme: dark"));
    assert!(html.contains("@media print"));
}

/// `n` runs an hour apart from `start`, each calling `search` `calls` times.
fn runs(start: u64, n: u64, calls: u64) -> String {
    let mut log = String::new();
    for i in 0..n {
        let (id, ts) = (format!("r{start}-{i}"), start + i * 60_000);
        log += &format!(
            r#"{{"run_id":"{id}","kind":"run_start","ts_ms":{ts},"meta":{{"agent":"a"}}}}"#
        );
        log.push('\n');
        for c in 0..calls {
            log += &format!(
                r#"{{"run_id":"{id}","kind":"tool_result","ts_ms":{},"tool":"search","args_sha":"{c:024}","duration_ms":5,"status":"ok"}}"#,
                ts + 10 * (c + 1)
            );
            log.push('\n');
        }
        log += &format!(
            r#"{{"run_id":"{id}","kind":"stop","ts_ms":{},"duration_ms":1000,"stop_reason":"completed","usage":{{"spend_usd":0.01}}}}"#,
            ts + 1000
        );
        log.push('\n');
    }
    log
}

#[test]
fn with_a_baseline_the_verdict_and_its_drivers() {
    let dir = tempfile::tempdir().unwrap();
    let (baseline, current) = (dir.path().join("b.log"), dir.path().join("c.log"));
    // 40 runs of 1 call each, then 40 of 5: tool calls per run 5x, on 40 runs a side.
    std::fs::write(&baseline, runs(NOV24_10H, 40, 1)).unwrap();
    std::fs::write(&current, runs(NOV24_10H + 3 * HOUR, 40, 5)).unwrap();
    let (html, _) = report(&[
        current.to_str().unwrap(),
        "--baseline",
        baseline.to_str().unwrap(),
    ]);
    assert!(html.contains(r#"data-verdict="drifted">Drifted: tool calls per run</p>"#));
    assert!(html.contains("<td>tool calls per run</td><td class=\"n\">1.00</td><td class=\"n\">5.00</td><td class=\"n\">5.00x</td>"));
    assert!(html.contains("<table data-table=\"drivers\"><tr>"));
    assert!(html.contains(
        "<td>search</td><td>calls per run</td><td class=\"n\">1.00</td><td class=\"n\">5.00</td>"
    ));
    // Baseline and current on the same axes: each distribution chart has both.
    let calls = points(&html, "tool_calls_distribution", "baseline");
    assert!(calls.iter().all(|(x, _)| *x == 1.0) && calls.len() == 50);
    let calls = points(&html, "tool_calls_distribution", "current");
    assert!(calls.iter().all(|(x, _)| *x == 5.0) && calls.len() == 50);
    // And over time: buckets of 5 minutes (3 h 39 min of runs are 220 1-minute ones),
    // the baseline's points in its own series.
    assert!(html.contains("buckets of 5 minutes"));
    let base = points(&html, "tool_calls_p95", "p95, baseline");
    let cur = points(&html, "tool_calls_p95", "p95, current");
    assert!(
        base.iter().all(|(_, y)| *y == 1.0) && base.len() == 8,
        "{base:?}"
    );
    assert!(
        cur.iter().all(|(_, y)| *y == 5.0) && cur.len() == 8,
        "{cur:?}"
    );
    let stops = chart(&html, "stop_reasons_compared");
    assert_eq!(attributes(stops, "data-x"), ["baseline", "current"]);
}

#[test]
fn the_same_logs_as_baseline_have_not_drifted() {
    let (html, _) = report(&[STATS_LOG, "--baseline", STATS_LOG]);
    assert!(html.contains(r#"data-verdict="no drift""#));
    // Five runs a side are fewer than --min-runs.
    assert!(html.contains("too few runs on a side"));
}

#[test]
fn an_existing_output_is_kept_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    std::fs::write(&out, "mine").unwrap();
    let args = ["report", STATS_LOG, "-o", out.to_str().unwrap()];
    let run = cli(&args, "");
    assert_eq!(run.code, Some(2));
    assert!(
        run.stderr.contains("exists; give --force to replace it"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "mine");
    let run = cli(&[&args[..], &["--force"]].concat(), "");
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .starts_with("<!DOCTYPE html>"));
    // Nothing else is left in the directory (the temporary file was renamed).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn bad_input_is_refused_with_status_2_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    let out_arg = out.to_str().unwrap();
    let empty = dir.path().join("empty.log");
    std::fs::write(&empty, "not an event\n").unwrap();
    let no_run = dir.path().join("norun.log");
    std::fs::write(
        &no_run,
        "{\"run_id\":null,\"kind\":\"tool_result\",\"ts_ms\":1}\n",
    )
    .unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["tests/fixtures/no-such.log"],
            "cannot open tests/fixtures/no-such.log",
        ),
        (&[empty.to_str().unwrap()], "no events in the logs"),
        (&[no_run.to_str().unwrap()], "no runs in the logs"),
        (
            &[STATS_LOG, "--baseline", empty.to_str().unwrap()],
            "no events in the baseline logs",
        ),
    ];
    for (inputs, message) in cases {
        let mut args = vec!["report", "-o", out_arg];
        args.extend_from_slice(inputs);
        let run = cli(&args, "");
        assert_eq!(run.code, Some(2), "{inputs:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{inputs:?}: {}", run.stderr);
        assert!(!out.exists());
    }
    // Only the two logs written above: no temporary file left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}
