//! Shared by the tests that drive programs outside Rust (`prometheus`, `promtool`, the
//! example agent): finding them, free loopback ports, and children that are always stopped.
#![allow(dead_code)]

use std::fs::File;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The repository root (the workspace package's manifest dir).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Whether this runs in CI, where a missing tool is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false" | "no"))
}

/// `program`'s path on `PATH`. Missing: in CI the test fails (`.ci/run` installs it);
/// elsewhere the test is skipped with a message that says how to install it.
pub fn require(program: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        let why = format!(
            "`{program}` is not on PATH; install it with `apt-get install prometheus` \
             (Debian's package ships prometheus and promtool; .ci/run does this)"
        );
        assert!(!in_ci(), "CI=true and {why}");
        // Straight to the process's stderr: the test harness captures `eprintln!` of
        // passing tests, and a skip must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {}: {why}",
            std::thread::current().name().unwrap_or("test")
        );
    }
    found
}

/// Runs `program args..` to completion; panics with its output unless it succeeds.
pub fn run_ok(program: &Path, args: &[&str], dir: &Path) -> String {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "`{} {}` in {} failed ({}):\n{text}",
        program.display(),
        args.join(" "),
        dir.display(),
        output.status
    );
    text
}

/// A loopback address whose port was free a moment ago. Another process may take it
/// before it is bound again: callers that start servers retry on "address in use".
pub fn free_loopback_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
}

/// A child process that is killed and reaped when dropped (a test that fails or panics
/// included), with its stderr in a log file.
pub struct Process {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Process {
    /// Starts `command` with stdout discarded and stderr into `log`.
    pub fn start(name: &str, mut command: Command, log: PathBuf) -> Process {
        let stderr = File::create(&log).expect("log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Process {
            name: name.to_owned(),
            child,
            log,
        }
    }

    /// Whether it has exited already.
    pub fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// The last lines it wrote to stderr, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        format!("--- last lines of {}'s stderr ---\n{tail}", self.name)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Calls `probe` every `every` until it returns `Some`, for at most `limit`.
pub fn poll<T>(
    limit: Duration,
    every: Duration,
    mut probe: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(every);
    }
}

/// An HTTP client for loopback only: no proxy (a proxy from the environment must not see
/// loopback traffic), short timeouts, and 4xx/5xx returned as responses, not errors.
pub fn http() -> ureq::Agent {
    ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into()
}

/// `GET url` with `query` parameters: the status and body, or `None` if nothing answered.
pub fn get(agent: &ureq::Agent, url: &str, query: &[(&str, &str)]) -> Option<(u16, String)> {
    let mut request = agent.get(url);
    for (key, value) in query {
        request = request.query(*key, *value);
    }
    let mut response = request.call().ok()?;
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().ok()?;
    Some((status, body))
}
