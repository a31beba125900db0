//! `--to postgres://...`: the rows loaded into PostgreSQL in one transaction.
//!
//! The table is created from `sql/postgres/TABLE.sql` when missing, and an existing one
//! is checked against the columns the export writes before anything is loaded. Rows are
//! streamed with `COPY ... FROM STDIN` into a temporary staging table while the log is
//! read, then merged with one `INSERT ... ON CONFLICT` on the table's key, so exporting
//! the same log again replaces rows rather than adding them. Any failure rolls the
//! whole export back: the table is as it was.

use std::io::Write;
use std::str::FromStr;
use std::time::Duration;

use postgres::config::Host;
use postgres::error::SqlState;
use postgres::{Client, Config, CopyInWriter, NoTls};

use super::table::{Kind, Table, Value, EVENTS, RUNS};
use super::time::rfc3339_ms;
use crate::error::CliError;

/// How long connecting may take when the URL sets no `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the export waits for a lock on its table.
const LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// The staging table rows are copied into before they are merged.
const STAGING: &str = "tracing_agent_export_staging";

/// The DDL of each table, as shipped in the repository for teams to use with their own
/// tools: the export runs these very files.
fn ddl(table: &Table) -> &'static str {
    if table.name == RUNS.name {
        include_str!("../../sql/postgres/agent_runs.sql")
    } else {
        debug_assert_eq!(table.name, EVENTS.name);
        include_str!("../../sql/postgres/agent_events.sql")
    }
}

fn pg_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Text => "text",
        Kind::Int => "bigint",
        Kind::Float => "double precision",
        Kind::Time => "timestamp with time zone",
        Kind::Bool => "boolean",
        Kind::Json => "json",
    }
}

/// Whether an existing column of type `found` (as `format_type` writes it) takes every
/// value of `kind`.
fn fits(kind: Kind, found: &str) -> bool {
    match kind {
        Kind::Text => matches!(found, "text" | "character varying"),
        Kind::Json => matches!(found, "json" | "jsonb"),
        other => found == pg_type(other),
    }
}

/// A connection to the database named by a `postgres://` URL.
pub(crate) struct Database {
    client: Client,
    /// The URL without its password, for messages.
    shown: String,
    user: String,
}

/// The URL as messages show it: without the password.
fn shown(config: &Config) -> String {
    let user = config.get_user().unwrap_or("");
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap_or(user);
    format!("postgres://{user}@{host}:{port}/{db}")
}

/// `error` and its causes: the client's own text ("error connecting to server") says
/// nothing of why without them.
fn with_causes(error: &postgres::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

/// The message for `error`, which happened while doing `what` on `db` (the URL as shown).
fn describe(error: &postgres::Error, what: &str, db: &str, user: &str) -> CliError {
    let Some(db_error) = error.as_db_error() else {
        return CliError::failure(format!(
            "cannot {what} at {db}: {}; nothing was written",
            with_causes(error)
        ));
    };
    let message = db_error.message();
    let code = db_error.code();
    let text = if *code == SqlState::INVALID_PASSWORD {
        format!("wrong password for user \"{user}\" at {db} ({message})")
    } else if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
        format!("{db} does not let user \"{user}\" in: {message}")
    } else if *code == SqlState::INVALID_CATALOG_NAME {
        format!("{db}: {message}")
    } else if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
        format!("{db} is read-only, cannot {what}: {message}")
    } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
        format!("user \"{user}\" may not {what} at {db}: {message}")
    } else {
        format!(
            "cannot {what} at {db}: {message} (SQLSTATE {})",
            code.code()
        )
    };
    CliError::failure(format!("{text}; nothing was written"))
}

impl Database {
    /// Parses `url` and connects (without TLS; see the README), waiting at most
    /// [`CONNECT_TIMEOUT`] unless the URL sets `connect_timeout`.
    pub fn connect(url: &str) -> Result<Self, CliError> {
        let mut config = Config::from_str(url)
            .map_err(|error| CliError::usage(format!("--to: not a PostgreSQL URL ({error})")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.application_name("tracing-agent export");
        // A database's notices ("relation already exists, skipping") are not news here.
        config.notice_callback(|_| {});
        let shown = shown(&config);
        let user = config.get_user().unwrap_or("").to_owned();
        let client = config.connect(NoTls).map_err(|error| {
            if error.as_db_error().is_some() {
                describe(&error, "connect", &shown, &user)
            } else {
                CliError::failure(format!(
                    "cannot reach the database at {shown}: {}",
                    with_causes(&error)
                ))
            }
        })?;
        Ok(Database {
            client,
            shown,
            user,
        })
    }

    fn fail(&self, error: &postgres::Error, what: &str) -> CliError {
        describe(error, what, &self.shown, &self.user)
    }

    /// The URL as messages show it.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Opens the transaction, creates `table` if it is missing, checks that it fits the
    /// rows, and creates the staging table.
    pub fn prepare(&mut self, table: &Table) -> Result<(), CliError> {
        // Another session holding a lock on the table makes the export wait at most this
        // long, then fail with PostgreSQL's "lock timeout", rather than hang.
        let begin = format!(
            "BEGIN; SET LOCAL lock_timeout = '{}s'",
            LOCK_TIMEOUT.as_secs()
        );
        self.client
            .batch_execute(&begin)
            .map_err(|e| self.fail(&e, "begin a transaction"))?;
        let create = format!("create the table {}", table.name);
        self.client
            .batch_execute(ddl(table))
            .map_err(|e| self.fail(&e, &create))?;
        self.check(table)?;
        let columns: Vec<String> = table
            .columns
            .iter()
            .map(|column| format!("{} {}", column.name, pg_type(column.kind)))
            .collect();
        let staging = format!(
            "CREATE TEMPORARY TABLE {STAGING} ({}) ON COMMIT DROP",
            columns.join(", ")
        );
        self.client
            .batch_execute(&staging)
            .map_err(|e| self.fail(&e, "create a temporary table"))
    }

    /// Compares the existing `table` with the columns the export writes.
    fn check(&mut self, table: &Table) -> Result<(), CliError> {
        let rows = self
            .client
            .query(
                "SELECT a.attname::text, format_type(a.atttypid, NULL), a.attnotnull \
                 FROM pg_attribute a \
                 WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
                &[&table.name],
            )
            .map_err(|e| self.fail(&e, &format!("read the columns of {}", table.name)))?;
        let found: Vec<(String, String, bool)> = rows
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2)))
            .collect();
        let mut problems = Vec::new();
        let mut missing = Vec::new();
        for column in table.columns {
            match found.iter().find(|(name, ..)| name == column.name) {
                None => missing.push(column.name),
                Some((_, found_type, _)) if !fits(column.kind, found_type) => {
                    problems.push(format!(
                        "column {} is {found_type}, the export writes {}",
                        column.name,
                        pg_type(column.kind)
                    ))
                }
                Some((_, _, true)) if column.nullable => problems.push(format!(
                    "column {} is NOT NULL, the export writes NULL where a value is unknown",
                    column.name
                )),
                Some(_) => {}
            }
        }
        if !missing.is_empty() {
            problems.push(format!("columns missing: {}", missing.join(", ")));
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(CliError::failure(format!(
            "the table {} at {} does not fit the export: {}; nothing was written \
             (drop or rename it, or export to another schema with \
             ?options=-csearch_path%3DSCHEMA)",
            table.name,
            self.shown,
            problems.join("; ")
        )))
    }

    /// Starts copying rows into the staging table.
    pub fn copy(&mut self, table: &Table) -> Result<PgRows<'_>, CliError> {
        let names: Vec<&str> = table.columns.iter().map(|column| column.name).collect();
        let copy = format!("COPY {STAGING} ({}) FROM STDIN", names.join(", "));
        let shown = self.shown.clone();
        let user = self.user.clone();
        let writer = self
            .client
            .copy_in(&copy)
            .map_err(|e| describe(&e, "start COPY", &shown, &user))?;
        Ok(PgRows {
            writer,
            line: Vec::with_capacity(1024),
            rows: 0,
            nul_replaced: 0,
            shown,
            user,
        })
    }

    /// Merges the staged rows into `table` (a row whose key is there already replaces
    /// it: `agent_runs`; or is left out: `agent_events`, whose rows never change) and
    /// commits. Returns how many rows were new and how many were there already.
    pub fn merge(&mut self, table: &Table) -> Result<(i64, i64), CliError> {
        let names: Vec<&str> = table.columns.iter().map(|column| column.name).collect();
        let list = names.join(", ");
        let key = table.key;
        let on_conflict = if table.name == RUNS.name {
            let set: Vec<String> = names
                .iter()
                .filter(|name| **name != key)
                .map(|name| format!("{name} = EXCLUDED.{name}"))
                .collect();
            format!("DO UPDATE SET {}", set.join(", "))
        } else {
            "DO NOTHING".to_owned()
        };
        // `xmax = 0` tells a row inserted by this statement from one it updated; a row left
        // out by DO NOTHING is not returned, hence the count of distinct keys.
        let merge = format!(
            "WITH merged AS (\
               INSERT INTO {table} ({list}) \
               SELECT DISTINCT ON ({key}) {list} FROM {STAGING} \
               ON CONFLICT ({key}) {on_conflict} \
               RETURNING (xmax = 0) AS inserted) \
             SELECT count(*) FILTER (WHERE inserted), \
               (SELECT count(DISTINCT {key}) FROM {STAGING}) - count(*) FILTER (WHERE inserted) \
             FROM merged",
            table = table.name
        );
        let row = self.client.query_one(&merge, &[]).map_err(|error| {
            if error.code() == Some(&SqlState::INVALID_COLUMN_REFERENCE) {
                CliError::failure(format!(
                    "the table {} at {} has no primary key or unique index on {key}, which \
                     the export needs to replace the rows it exported before; nothing was \
                     written",
                    table.name, self.shown
                ))
            } else {
                self.fail(&error, &format!("write {}", table.name))
            }
        })?;
        self.client
            .batch_execute("COMMIT")
            .map_err(|e| self.fail(&e, "commit"))?;
        Ok((row.get(0), row.get(1)))
    }
}

/// Rows on their way into the staging table, in COPY's text format.
pub(crate) struct PgRows<'a> {
    writer: CopyInWriter<'a>,
    line: Vec<u8>,
    rows: u64,
    /// PostgreSQL's text cannot hold U+0000; it is written as U+FFFD and counted.
    pub nul_replaced: u64,
    shown: String,
    user: String,
}

impl PgRows<'_> {
    /// Sends one row.
    pub fn write(&mut self, row: &[Value]) -> Result<(), CliError> {
        self.line.clear();
        for (i, value) in row.iter().enumerate() {
            if i > 0 {
                self.line.push(b'\t');
            }
            match *value {
                Value::Null => self.line.extend_from_slice(b"\\N"),
                Value::Text(text) | Value::Json(text) => self.text(text),
                Value::Int(n) => {
                    let _ = write!(self.line, "{n}");
                }
                Value::Float(x) => {
                    let _ = write!(self.line, "{x}");
                }
                Value::Time(ms) => self.line.extend_from_slice(rfc3339_ms(ms).as_bytes()),
                Value::Bool(b) => self.line.push(if b { b't' } else { b'f' }),
            }
        }
        self.line.push(b'\n');
        self.rows += 1;
        self.writer.write_all(&self.line).map_err(|error| {
            CliError::failure(format!(
                "cannot send rows to {}: {error}; nothing was written",
                self.shown
            ))
        })
    }

    /// COPY's text format: backslash escapes for the characters that end a value or a
    /// row.
    fn text(&mut self, text: &str) {
        for byte in text.bytes() {
            match byte {
                b'\\' => self.line.extend_from_slice(b"\\\\"),
                b'\t' => self.line.extend_from_slice(b"\\t"),
                b'\n' => self.line.extend_from_slice(b"\\n"),
                b'\r' => self.line.extend_from_slice(b"\\r"),
                0 => {
                    self.nul_replaced += 1;
                    self.line.extend_from_slice("\u{FFFD}".as_bytes());
                }
                byte => self.line.push(byte),
            }
        }
    }

    /// Ends the COPY; returns how many rows were sent.
    pub fn finish(self) -> Result<u64, CliError> {
        let rows = self.rows;
        self.writer
            .finish()
            .map_err(|e| describe(&e, "COPY the rows", &self.shown, &self.user))?;
        Ok(rows)
    }
}
