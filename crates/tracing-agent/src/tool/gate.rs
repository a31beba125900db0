//! The gate: what happens to a call once it has begun, decided by the runtime before the
//! body runs and acted on by the generated code in one `match`.

use crate::guard::Refused;
use crate::replay::Answer;

/// The runtime's decision for one tool call.
///
/// Every variant is one arm of the `match` that `#[agent_tool]` generates, so a new kind
/// of decision (replay answering from a recorded outcome) is a new variant here and a
/// new arm there, never a second branch point.
#[derive(Debug)]
pub enum Decision {
    /// Run the body and report its outcome.
    Run,
    /// A guard or a policy refused the call: return the refusal instead of running the
    /// body, where the tool's return type can carry it (see `Refuse`).
    Refuse(Refused),
    /// A replayed run: return the recorded outcome instead of running the body,
    /// restored into the tool's return type (see `Replayable`).
    Answer(Answer),
}
