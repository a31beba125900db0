//! What the macro knows about a tool at compile time.

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
    pub(super) metric_keys: ToolKeys,
}

impl ToolInfo {
    /// The tool `name`, at `version`.
    pub const fn new(name: &'static str, version: Option<&'static str>) -> Self {
        ToolInfo {
            name,
            version,
            writes: false,
            metric_keys: ToolKeys::new(),
        }
    }

    /// The same tool, marked as one with side effects (`#[agent_tool(writes)]`).
    pub const fn writing(mut self) -> Self {
        self.writes = true;
        self
    }
}
