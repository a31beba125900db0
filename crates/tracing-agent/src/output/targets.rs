//! Where lines go: stdout and stderr (through duplicated descriptors), a file (appended,
//! a torn last line ended, reopened when deleted), a daily-rolled directory.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tracing_appender::rolling::{RollingFileAppender, Rotation};

use super::say;
use crate::config::{ConfigError, Output};

/// How often a file output checks that its path still names the file it writes.
pub const CHECK_PATH_EVERY: Duration = Duration::from_secs(1);

/// Opens what `output` names.
pub(crate) fn open(output: &Output, logs_days: u32) -> Result<Box<dyn Write + Send>, ConfigError> {
    Ok(match output {
        Output::Stdout => standard(io::stdout()),
        Output::Stderr => standard(io::stderr()),
        Output::File { path } => Box::new(FileTarget::open(path)?),
        Output::Rolling {
            directory,
            file_prefix,
        } => {
            // Created first: the appender's pruning of old files would otherwise report a
            // missing directory on stderr at the first start.
            std::fs::create_dir_all(directory).map_err(|error| {
                ConfigError::new(format!(
                    "logging.output: cannot create the directory {}: {error}",
                    directory.display()
                ))
            })?;
            let appender = RollingFileAppender::builder()
                .rotation(Rotation::DAILY)
                .filename_prefix(file_prefix)
                .filename_suffix("jsonl")
                .max_log_files(logs_days as usize)
                .build(directory)
                .map_err(|error| {
                    ConfigError::new(format!(
                        "logging.output: cannot write rolling files in {}: {error}",
                        directory.display()
                    ))
                })?;
            Box::new(appender)
        }
    })
}

/// Stdout or stderr through a duplicate of its descriptor: writing never takes the
/// standard library's lock, so a writer blocked on a full pipe cannot hang a `println!`
/// or our own message on stderr.
#[cfg(unix)]
fn standard<S: std::os::fd::AsFd + Write + Send + 'static>(stream: S) -> Box<dyn Write + Send> {
    match stream.as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(File::from(fd)),
        Err(_) => Box::new(stream),
    }
}

#[cfg(not(unix))]
fn standard<S: Write + Send + 'static>(stream: S) -> Box<dyn Write + Send> {
    Box::new(stream)
}

/// `to: file`: appends, ends a torn last line before writing after it, and reopens the
/// path when the file it names is no longer the one being written.
struct FileTarget {
    path: PathBuf,
    file: File,
    identity: Option<(u64, u64)>,
    checked: Instant,
    reopen_said: bool,
}

impl FileTarget {
    fn open(path: &Path) -> Result<Self, ConfigError> {
        let file = open_append(path).map_err(|error| cannot_open(path, &error))?;
        Ok(FileTarget {
            identity: identity(&file),
            path: path.to_owned(),
            file,
            checked: Instant::now(),
            reopen_said: false,
        })
    }

    /// Reopens the path when it no longer names our file (deleted, or rotated away).
    fn check_path(&mut self) {
        self.checked = Instant::now();
        let current = std::fs::metadata(&self.path)
            .ok()
            .and_then(|m| meta_identity(&m));
        if self.identity.is_none() || current == self.identity {
            return;
        }
        match open_append(&self.path) {
            Ok(file) => {
                if !self.reopen_said {
                    self.reopen_said = true;
                    say(&format!(
                        "{} was deleted or replaced while events were written to it; reopened it (further reopens are not reported)",
                        self.path.display()
                    ));
                }
                self.identity = identity(&file);
                self.file = file;
            }
            Err(error) => {
                // Keep writing the old file (better than nothing); checked again later.
                if !self.reopen_said {
                    self.reopen_said = true;
                    say(&format!(
                        "{} was deleted or replaced and cannot be reopened ({error})",
                        self.path.display()
                    ));
                }
            }
        }
    }
}

impl Write for FileTarget {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if self.checked.elapsed() >= CHECK_PATH_EVERY {
            self.check_path();
        }
        self.file.write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn identity(file: &File) -> Option<(u64, u64)> {
    file.metadata().ok().and_then(|m| meta_identity(&m))
}

#[cfg(unix)]
fn meta_identity(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn meta_identity(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// Opens `path` for appending; if it ends mid-line (a writer died or ran out of disk
/// mid-event), ends that line first so our first event is not glued to it.
fn open_append(path: &Path) -> io::Result<File> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)?;
    if ends_mid_line(&mut file).unwrap_or(false) {
        // Best effort: on a disk still full this fails, and the fragment and our first
        // event share a line, as they would without the check.
        let _ = file.write_all(b"\n");
    }
    Ok(file)
}

fn ends_mid_line(file: &mut File) -> io::Result<bool> {
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

fn cannot_open(path: &Path, error: &io::Error) -> ConfigError {
    ConfigError::new(format!(
        "logging.output.path: cannot open {} for appending: {error}",
        path.display()
    ))
}
