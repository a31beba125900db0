//! A throwaway PostgreSQL cluster for a test: `initdb` in a temporary directory, the
//! server on a free loopback port (and a Unix socket in that directory), stopped and
//! deleted when dropped, a failing or panicking test included.
//!
//! PostgreSQL refuses to run as root; as root (CI) the cluster is owned by and run as the
//! `postgres` user (Debian's package makes it) or else `nobody`.
#![allow(dead_code)]

use std::ffi::CString;
use std::fs::File;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The superuser of the cluster, and its password.
pub const ADMIN: &str = "tester";
pub const ADMIN_PASSWORD: &str = "s3cret-for-tests";

/// How long the server may take to accept connections, and to stop.
const START_LIMIT: Duration = Duration::from_secs(60);
const STOP_LIMIT: Duration = Duration::from_secs(20);

pub struct PgCluster {
    server: Child,
    pub port: u16,
    log: PathBuf,
    // Dropped after the server is stopped (fields drop after `Drop::drop`).
    dir: TempDir,
}

/// The directory of `initdb` and `postgres`: Debian's `/usr/lib/postgresql/N/bin` (the
/// newest N), else wherever `PATH` has `initdb`.
fn bin_dir() -> Option<PathBuf> {
    let mut debian: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("postgres").is_file())
        .collect();
    debian.sort_by_key(|bin| {
        bin.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
    });
    debian.pop().or_else(|| {
        std::env::split_paths(&std::env::var_os("PATH")?)
            .find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file())
    })
}

/// The uid and gid to run PostgreSQL as: ours, unless we are root.
fn run_as() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions; getpwnam returns a pointer to static data
    // (or null), read at once, and this test runs it from one thread at a time.
    unsafe {
        if libc::geteuid() != 0 {
            return None;
        }
        for name in ["postgres", "nobody"] {
            let name = CString::new(name).unwrap();
            let entry = libc::getpwnam(name.as_ptr());
            if !entry.is_null() {
                return Some(((*entry).pw_uid, (*entry).pw_gid));
            }
        }
    }
    panic!("running as root and neither the user postgres nor nobody exists");
}

fn command(program: PathBuf, owner: Option<(u32, u32)>) -> Command {
    let mut command = Command::new(program);
    if let Some((uid, gid)) = owner {
        command.uid(uid).gid(gid);
    }
    command.stdin(Stdio::null());
    command
}

fn chown(path: &Path, owner: Option<(u32, u32)>) {
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown");
    }
}

impl PgCluster {
    /// Starts a cluster, or returns `None` after saying SKIPPED when PostgreSQL is not
    /// installed (outside CI; in CI that fails).
    pub fn start() -> Option<PgCluster> {
        let Some(bin) = bin_dir() else {
            crate::common::skip(
                "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb, no \
                 initdb on PATH); `apt-get install postgresql` (.ci/run does this)",
            );
            return None;
        };
        let owner = run_as();
        let dir = tempfile::Builder::new()
            .prefix("tracing-agent-pg.")
            .tempdir()
            .expect("a temporary directory");
        chown(dir.path(), owner);
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, ADMIN_PASSWORD).unwrap();
        chown(&pwfile, owner);
        let data = dir.path().join("data");
        let output = command(bin.join("initdb"), owner)
            .arg("-D")
            .arg(&data)
            .args(["-U", ADMIN, "-A", "scram-sha-256", "-E", "UTF8"])
            .args(["--locale=C", "--no-sync"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .expect("initdb runs");
        assert!(
            output.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let log = dir.path().join("server.log");
        // Another process may take the free port before the server binds it: retry.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .expect("a free loopback port")
                .port();
            let stderr = File::create(&log).unwrap();
            chown(&log, owner);
            let mut server = command(bin.join("postgres"), owner)
                .arg("-D")
                .arg(&data)
                .args(["-p", &port.to_string(), "-k"])
                .arg(dir.path())
                .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
                .args(["-c", "timezone=UTC", "-c", "max_connections=20"])
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .expect("postgres starts");
            match wait_ready(&mut server, port, &log) {
                Ok(()) => {
                    return Some(PgCluster {
                        server,
                        port,
                        log,
                        dir,
                    })
                }
                Err(text) => {
                    stop(&mut server);
                    assert!(
                        text.contains("could not bind"),
                        "PostgreSQL did not start:\n{text}"
                    );
                }
            }
        }
        panic!("PostgreSQL found no free port in 5 tries");
    }

    /// The server's log, for failure messages.
    pub fn log_text(&self) -> String {
        log_text(&self.log)
    }

    /// `postgres://USER:PASSWORD@127.0.0.1:PORT/DB`.
    pub fn url(&self, user: &str, password: &str, db: &str) -> String {
        format!("postgres://{user}:{password}@127.0.0.1:{}/{db}", self.port)
    }

    /// The superuser's URL for database `db` over the Unix socket in the cluster's
    /// directory.
    pub fn socket_url(&self, db: &str) -> String {
        format!(
            "postgres://{ADMIN}:{ADMIN_PASSWORD}@/{db}?host={}&port={}",
            self.dir.path().display(),
            self.port
        )
    }

    /// The directory of the Unix socket.
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The superuser's URL for database `db`.
    pub fn admin_url(&self, db: &str) -> String {
        self.url(ADMIN, ADMIN_PASSWORD, db)
    }

    /// A connection as the superuser to database `db`.
    pub fn admin(&self, db: &str) -> Result<postgres::Client, postgres::Error> {
        postgres::Client::connect(&self.admin_url(db), postgres::NoTls)
    }

    /// Runs `sql` as the superuser in database `db`, in one implicit transaction (so no
    /// `CREATE DATABASE` with other statements).
    pub fn execute(&self, db: &str, sql: &str) {
        self.admin(db)
            .and_then(|mut client| client.batch_execute(sql))
            .unwrap_or_else(|error| panic!("{sql}: {error}: {:?}", error.as_db_error()));
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        stop(&mut self.server);
    }
}

fn log_text(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

/// Waits until the server on `port` accepts the superuser, or says why not.
fn wait_ready(server: &mut Child, port: u16, log: &Path) -> Result<(), String> {
    let url = format!("postgres://{ADMIN}:{ADMIN_PASSWORD}@127.0.0.1:{port}/postgres");
    let deadline = Instant::now() + START_LIMIT;
    loop {
        if server.try_wait().ok().flatten().is_some() {
            return Err(log_text(log));
        }
        if postgres::Client::connect(&url, postgres::NoTls).is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "not ready after {START_LIMIT:?}\n{}",
                log_text(log)
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A fast shutdown (SIGINT): the server ends its backends and removes its shared memory;
/// SIGKILL only if it has not stopped in time.
fn stop(server: &mut Child) {
    // SAFETY: kill with the pid of our own child, which has not been reaped yet.
    unsafe {
        libc::kill(server.id() as libc::pid_t, libc::SIGINT);
    }
    let deadline = Instant::now() + STOP_LIMIT;
    while Instant::now() < deadline {
        if server.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = server.kill();
    let _ = server.wait();
}
