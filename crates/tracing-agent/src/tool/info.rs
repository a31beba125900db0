//! What the macro knows about a tool at compile time.

use crate::guard::{text_fingerprint, CallKey};
use crate::metrics::ToolKeys;

/// A tool's name and version, in one `static` per tool, with the metric keys built on
/// its first call.
#[derive(Debug)]
pub struct ToolInfo {
    /// The tool's name (`name = ".."`, or the fn's name).
    pub name: &'static str,
    /// `version = ".."`, if given.
    pub version: Option<&'static str>,
    /// `writes`: the tool has side effects, and a "deny writes" kill switch refuses it.
    pub writes: bool,
    /// The name's fingerprint for the loop detector, computed at compile time.
    pub(super) fingerprint: u64,
    pub(super) metric_keys: ToolKeys,
}

impl ToolInfo {
    /// The tool as the guards identify it.
    pub(super) fn call_key(&self) -> CallKey<'static> {
        CallKey {
            tool: self.name,
            tool_fingerprint: self.fingerprint,
        }
    }

    /// The tool `name`, at `version`.
    pub const fn new(name: &'static str, version: Option<&'static str>) -> Self {
        ToolInfo {
            name,
            version,
            writes: false,
            fingerprint: text_fingerprint(name),
            metric_keys: ToolKeys::new(),
        }
    }

    /// The same tool, marked as one with side effects (`#[agent_tool(writes)]`).
    pub const fn writing(mut self) -> Self {
        self.writes = true;
        self
    }
}
