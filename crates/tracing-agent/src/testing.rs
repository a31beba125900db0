//! Shared by the crate's unit tests: a writer that keeps what an emitter wrote.

use std::io;
use std::sync::{Arc, Mutex};

/// Lines written, shared by every clone (use `move || lines.clone()` as a `MakeWriter`).
#[derive(Clone, Default)]
pub(crate) struct Lines(Arc<Mutex<Vec<u8>>>);

impl io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Lines {
    /// Every line, parsed as JSON.
    pub(crate) fn events(&self) -> Vec<serde_json::Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// The `stop_reason` of every `stop` event, in order.
    pub(crate) fn stop_reasons(&self) -> Vec<String> {
        self.events()
            .into_iter()
            .filter(|event| event["kind"] == "stop")
            .map(|event| event["stop_reason"].as_str().unwrap().to_owned())
            .collect()
    }
}
