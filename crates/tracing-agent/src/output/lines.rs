//! Writing whole lines: one `write` when the writer takes it whole, a torn line ended
//! before the next one, and the write-through (`durability: write_through`) writer.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::Mutex;

use crate::sink::{Handed, LineWriter};

/// Writes `line` whole, one `write` when the writer takes it whole. After a line was cut
/// short (`torn`), the next one starts with a newline, so the fragment ends there and
/// the next event stays a line of its own.
pub(super) fn write_whole(writer: &mut dyn Write, line: &[u8], torn: &mut bool) -> io::Result<()> {
    let bytes: Cow<'_, [u8]> = if *torn {
        let mut terminated = Vec::with_capacity(line.len() + 1);
        terminated.push(b'\n');
        terminated.extend_from_slice(line);
        Cow::Owned(terminated)
    } else {
        Cow::Borrowed(line)
    };
    let mut done = 0;
    while done < bytes.len() {
        match writer.write(&bytes[done..]) {
            Ok(0) => {
                let error = io::Error::new(io::ErrorKind::WriteZero, "the writer took nothing");
                return Err(cut(&bytes, done, torn, error));
            }
            Ok(n) => done += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(cut(&bytes, done, torn, error)),
        }
    }
    *torn = false;
    Ok(())
}

/// Records whether a write that stopped after `done` bytes left the output mid-line.
fn cut(bytes: &[u8], done: usize, torn: &mut bool, error: io::Error) -> io::Error {
    if done > 0 {
        *torn = bytes[done - 1] != b'\n';
    }
    error
}

/// `durability: write_through`: each line written on the calling thread, under a lock so
/// that the torn-line state stays right.
struct Direct {
    target: Mutex<(Box<dyn Write + Send>, bool)>,
}

impl LineWriter for Direct {
    fn write_line(&self, line: &[u8]) -> io::Result<Handed> {
        let mut target = self.target.lock().unwrap_or_else(|e| e.into_inner());
        let (writer, torn) = &mut *target;
        write_whole(writer.as_mut(), line, torn)?;
        Ok(Handed::Written)
    }
}

/// A write-through line writer for `writer`.
pub(crate) fn direct(writer: Box<dyn Write + Send>) -> Box<dyn LineWriter> {
    Box::new(Direct {
        target: Mutex::new((writer, false)),
    })
}
