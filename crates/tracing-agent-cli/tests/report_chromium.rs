//! The report in a real browser: headless Chromium loads it with no console message,
//! every chart is in the DOM it built and has marks, a hostile log's markup stays
//! inert, and screenshots (light and dark) have content.
//!
//! Console messages are read from Chromium's own log (`--enable-logging=stderr --v=0`
//! writes each as a `CONSOLE` line, uncaught errors included) rather than over the
//! DevTools protocol: no websocket client or browser-driving crate to build, nothing
//! to install but Chromium, and `a_console_error_is_seen` proves on a page that logs
//! one that this is where it shows. The page has no scripts, so any console line fails.
//!
//! Without Chromium the tests print `SKIPPED` and pass; with `CI=true` they fail.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::cli;

/// How long one Chromium run may take before it is killed and the test fails.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(90);

/// The charts of a report with a baseline, each one drawn with marks.
const CHARTS: [&str; 11] = [
    "tool_calls_distribution",
    "latency_distribution",
    "spend_distribution",
    "stop_reasons_compared",
    "runs",
    "tool_calls_p95",
    "latency_p95",
    "spend_per_run",
    "stop_reasons",
    "tool_error_rate",
    "waterfall_0",
];

fn chromium() -> Option<PathBuf> {
    let candidates = ["chromium", "chromium-browser", "google-chrome"];
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .flat_map(|dir| candidates.iter().map(move |name| dir.join(name)))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("chromium is not installed, and CI=true (.ci/run installs it)");
        }
        println!("SKIPPED: chromium is not installed (apt-get install chromium)");
    }
    found
}

/// A Chromium process, killed when dropped (a failed assertion included).
struct Browser(Child);

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs headless Chromium on `page` with `extra` arguments, in a fresh profile under
/// `dir`; returns its stdout and stderr.
fn run_chromium(chromium: &Path, dir: &Path, page: &Path, extra: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir_in(dir).unwrap();
    let stdout = dir.join("chromium.out");
    let stderr = dir.join("chromium.err");
    let mut browser = Browser(
        Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(format!("file://{}", page.display()))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("chromium starts"),
    );
    let deadline = Instant::now() + CHROMIUM_TIMEOUT;
    loop {
        if let Some(status) = browser.0.try_wait().unwrap() {
            let err = std::fs::read_to_string(&stderr).unwrap_or_default();
            assert!(status.success(), "chromium failed: {status}\n{err}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "chromium took more than {CHROMIUM_TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (
        std::fs::read_to_string(&stdout).unwrap(),
        std::fs::read_to_string(&stderr).unwrap(),
    )
}

/// The console lines of Chromium's log.
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|line| line.contains("CONSOLE") || line.contains("Uncaught"))
        .collect()
}

/// A report of tests/fixtures/stats.log and a log whose every name is markup that
/// logs to the console if it ever runs, against stats.log as the baseline.
fn hostile_report(dir: &Path) -> PathBuf {
    let hostile = dir.join("hostile.log");
    let lines = [
        r#"{"run_id":"\"><svg onload=console.error('pwned-id')>","kind":"run_start","ts_ms":1732442500000,"meta":{"agent":"<script>console.error('pwned-agent')</script>","model":"m"}}"#,
        r#"{"run_id":"\"><svg onload=console.error('pwned-id')>","kind":"tool_result","ts_ms":1732442500500,"tool":"<img src=x onerror=console.error('pwned-tool')>","duration_ms":400,"status":"error","error":"</title><script>console.error('pwned-class')</script>"}"#,
        r#"{"run_id":"\"><svg onload=console.error('pwned-id')>","kind":"stop","ts_ms":1732442509000,"duration_ms":9000,"stop_reason":"<script>console.error('pwned-stop')</script>","usage":{"spend_usd":0.5}}"#,
    ];
    std::fs::write(&hostile, lines.join("\n") + "\n").unwrap();
    let page = dir.join("report.html");
    let stats = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/stats.log");
    let run = cli(
        &[
            "report",
            stats.to_str().unwrap(),
            hostile.to_str().unwrap(),
            "--baseline",
            stats.to_str().unwrap(),
            "-o",
            page.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    page
}

#[test]
fn a_console_error_is_seen() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("control.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><p>control</p><script>console.error('control-error'); missing();</script>",
    )
    .unwrap();
    let (_, stderr) = run_chromium(&chromium, dir.path(), &page, &["--dump-dom"]);
    let lines = console_lines(&stderr);
    assert!(
        lines.iter().any(|l| l.contains("control-error")),
        "{stderr}"
    );
    assert!(
        lines.iter().any(|l| l.contains("Uncaught ReferenceError")),
        "{stderr}"
    );
}

#[test]
fn the_report_loads_clean_with_every_chart_drawn() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = hostile_report(dir.path());
    let (dom, stderr) = run_chromium(&chromium, dir.path(), &page, &["--dump-dom"]);
    assert_eq!(console_lines(&stderr), Vec::<&str>::new(), "{stderr}");
    assert!(dom.contains("tracing-agent report"), "{dom}");
    // Every hostile name is in the page, as text: had any become an element or an
    // attribute, its console.error would be in the console lines checked above.
    assert!(dom.contains("&lt;script&gt;console.error('pwned-agent')&lt;/script&gt;"));
    for payload in ["pwned-id", "pwned-tool", "pwned-class"] {
        assert!(dom.contains(payload), "{payload} is not in the page");
    }
    for id in CHARTS {
        let start = dom
            .find(&format!(r#"<svg data-chart="{id}""#))
            .unwrap_or_else(|| panic!("chart {id} is not in the DOM"));
        let svg = &dom[start..start + dom[start..].find("</svg>").unwrap()];
        let marks = svg.matches(r#"class="pt "#).count();
        assert!(marks > 0, "chart {id} has no marks");
        assert!(svg.contains("class=\"tick\""), "chart {id} has no axis");
    }
}

/// Decodes a PNG into (width, height, RGBA pixels).
fn decode(path: &Path) -> (u32, u32, Vec<[u8; 4]>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buffer).unwrap();
    let bytes = &buffer[..info.buffer_size()];
    let pixels = match info.color_type {
        png::ColorType::Rgba => bytes
            .chunks_exact(4)
            .map(|p| [p[0], p[1], p[2], p[3]])
            .collect(),
        png::ColorType::Rgb => bytes
            .chunks_exact(3)
            .map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        other => panic!("a screenshot in {other:?}"),
    };
    (info.width, info.height, pixels)
}

fn luminance(p: [u8; 4]) -> f64 {
    0.2126 * f64::from(p[0]) + 0.7152 * f64::from(p[1]) + 0.0722 * f64::from(p[2])
}

/// Checks a screenshot has content: many colors, and a good share of pixels other than
/// the background (the top-left corner's color). Returns the background's luminance.
fn check_content(path: &Path) -> f64 {
    let (width, height, pixels) = decode(path);
    assert_eq!(pixels.len(), (width * height) as usize);
    let background = pixels[0];
    let colors: std::collections::HashSet<[u8; 4]> = pixels.iter().copied().collect();
    let drawn = pixels.iter().filter(|p| **p != background).count();
    let share = drawn as f64 / pixels.len() as f64;
    assert!(colors.len() >= 64, "{} colors: a blank page?", colors.len());
    assert!(
        share >= 0.03,
        "{:.1}% of pixels drawn: a blank page?",
        share * 100.0
    );
    luminance(background)
}

#[test]
fn screenshots_have_content_in_light_and_dark() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = hostile_report(dir.path());
    let light = dir.path().join("light.png");
    let dark = dir.path().join("dark.png");
    for (shot, extra) in [(&light, None), (&dark, Some("--force-dark-mode"))] {
        let mut args = vec![
            "--window-size=900,2400".to_owned(),
            format!("--screenshot={}", shot.display()),
        ];
        args.extend(extra.map(str::to_owned));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (_, stderr) = run_chromium(&chromium, dir.path(), &page, &args);
        assert_eq!(console_lines(&stderr), Vec::<&str>::new(), "{stderr}");
    }
    // The page follows the reader's setting: a light background, then a dark one.
    assert!(check_content(&light) > 200.0);
    assert!(check_content(&dark) < 60.0);
}

#[test]
fn it_prints() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = hostile_report(dir.path());
    let pdf = dir.path().join("report.pdf");
    let (_, stderr) = run_chromium(
        &chromium,
        dir.path(),
        &page,
        &[
            "--no-pdf-header-footer",
            &format!("--print-to-pdf={}", pdf.display()),
        ],
    );
    assert_eq!(console_lines(&stderr), Vec::<&str>::new(), "{stderr}");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF"), "not a PDF");
    // The charts, tables and waterfalls take several A4/Letter pages.
    // Chromium's PDFs keep their page dictionaries uncompressed: `/Type /Page` each
    // (the page tree's root is `/Type /Pages`).
    let needle = b"/Type /Page";
    let pages = bytes
        .windows(needle.len() + 1)
        .filter(|w| &w[..needle.len()] == needle && w[needle.len()] != b's')
        .count();
    assert!(pages >= 3, "{pages} pages");
}
