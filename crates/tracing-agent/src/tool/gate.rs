//! The gate: what happens to a call once it has begun, decided by the runtime before the
//! body runs and acted on by the generated code in one `match`.

/// The runtime's decision for one tool call.
///
/// Every variant is one arm of the `match` that `#[agent_tool]` generates, so a new kind
/// of decision (a guard refusing the call, replay answering from a recorded outcome) is
/// a new variant here and a new arm there, never a second branch point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Run the body and report its outcome.
    Run,
}
