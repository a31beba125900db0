//! An output file that appears under its name only when complete: written as a
//! temporary file in the same directory, synced, then renamed over the name. A failed
//! or interrupted export leaves nothing under the final name (the temporary file is
//! removed when dropped).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::error::CliError;

pub(crate) struct OutputFile {
    path: PathBuf,
    temp: NamedTempFile,
    force: bool,
}

impl OutputFile {
    /// Refuses an existing `path` unless `force`, and starts its temporary file.
    pub fn create(path: &Path, force: bool) -> Result<Self, CliError> {
        let shown = path.display();
        if !force && path.symlink_metadata().is_ok() {
            return Err(CliError::failure(format!(
                "{shown} exists; give --force to replace it"
            )));
        }
        if path.is_dir() {
            return Err(CliError::failure(format!("{shown} is a directory")));
        }
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let name = path.file_name().map(|name| name.to_string_lossy());
        let prefix = format!(".{}.", name.as_deref().unwrap_or("export"));
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // A temporary file is private (0600); the output is a file like any the user
        // writes, so it gets what the umask leaves of 0666, as `> runs.csv` would.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        let temp = builder.tempfile_in(dir).map_err(|error| {
            CliError::failure(format!(
                "cannot create a file in {}: {error}",
                dir.display()
            ))
        })?;
        Ok(OutputFile {
            path: path.to_owned(),
            temp,
            force,
        })
    }

    /// Where to write: the temporary file, buffered.
    pub fn writer(&mut self) -> BufWriter<&mut File> {
        BufWriter::with_capacity(256 * 1024, self.temp.as_file_mut())
    }

    /// Puts the complete file under its name. Without `--force` a file that appeared
    /// there meanwhile is not replaced.
    pub fn commit(self) -> Result<(), CliError> {
        let shown = self.path.display().to_string();
        let write_error =
            |error: std::io::Error| CliError::failure(format!("cannot write {shown}: {error}"));
        self.temp.as_file().sync_all().map_err(write_error)?;
        let persisted = if self.force {
            self.temp.persist(&self.path)
        } else {
            self.temp.persist_noclobber(&self.path)
        };
        persisted.map(drop).map_err(|error| {
            if error.error.kind() == std::io::ErrorKind::AlreadyExists {
                CliError::failure(format!("{shown} exists; give --force to replace it"))
            } else {
                write_error(error.error)
            }
        })
    }
}

/// Flushes a buffered writer, saying which file failed.
pub(crate) fn flush(mut writer: impl Write, path: &Path) -> Result<(), CliError> {
    writer
        .flush()
        .map_err(|error| CliError::failure(format!("cannot write {}: {error}", path.display())))
}
