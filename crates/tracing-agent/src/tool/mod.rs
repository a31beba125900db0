//! The runtime half of `#[agent_tool]`: one [`ToolCall`] per call, from the moment the
//! call begins (step id, args hash, the gate's [`Decision`]) to the one `tool_result`
//! event it writes.
//!
//! The generated code makes three calls into this module: [`ToolCall::begin`], a
//! `match` on [`ToolCall::decision`], and one outcome call (`ok`, `ok_unhashed` or
//! `err`). Whatever decides a call's fate (guards, replay) lives behind the decision.

mod args;
mod call;
mod call_id;
mod gate;
mod info;
mod refuse;
mod timeout;
mod writer;

pub use args::ToolArgs;
pub use call::ToolCall;
pub use call_id::{ToolCallId, WithToolCallId};
pub use gate::Decision;
pub use info::ToolInfo;
pub use refuse::{Refuse, RefuseInPlace, RunAnyway};
pub use timeout::{timed_out, within, Elapsed, TimeoutResult, Within};
