//! Guards: the limits that end a run with the right stop reason, and the kill switch.
//!
//! A guard decides before a tool call's body runs (through the tool gate), when an LLM
//! call is recorded, and when the agent asks (`Run::check`, `Run::guard`). It decides
//! here and the run state acts: refuses the call, records the trip (first one wins),
//! writes the `guard` and `budget_warning` events.

mod budget;
mod kill;
mod limits;
mod refused;

pub use budget::Remaining;
pub(crate) use budget::{
    digest_fingerprint, text_fingerprint, Budgets, CallKey, Hit, Outcome, Warning,
};
pub(crate) use kill::Verdict;
pub use kill::{KillFileWatch, KillSwitch};
pub use limits::Limits;
pub use refused::Refused;
