//! Recording a tool's outcome and restoring a recorded one, for the types that allow it:
//! the `Decision::Answer` arm of the generated code, and the line before its outcome
//! report.
//!
//! Restoring needs serde's `Serialize` and `DeserializeOwned`. Rather than demand them of
//! every tool, the expansion calls through autoref specialization (as `Refuse` does): the
//! most capable impl that applies to the tool's return type is picked at compile time,
//! and a type that cannot be restored is marked unreplayable instead of failing to
//! compile. The receiver is `&&&Replayable<R>`, so the impls are tried in this order:
//! `&&Replayable` (a `Result` both of whose sides restore), `&&&Replayable` (a `Result`
//! whose `Ok` side restores), `&Replayable` (any other restorable value), `Replayable`
//! (nothing restores).

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::call::ToolCall;
use crate::guard::Refused;
use crate::replay::Answer;

/// The recording and restoring of a tool returning `R`, picked by autoref specialization.
pub struct Replayable<R>(PhantomData<fn() -> R>);

impl<R> Replayable<R> {
    /// For a tool returning `R`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Replayable(PhantomData)
    }
}

const ERROR_TYPE: &str =
    "its error type cannot be restored (it needs serde's Serialize and DeserializeOwned)";
const RETURN_TYPE: &str =
    "its return type cannot be restored (it needs serde's Serialize and DeserializeOwned)";

// Out of line: only a replayed run's answered calls get here.
#[inline(never)]
fn restore<T: DeserializeOwned>(call: &mut ToolCall<'_>, answer: &Answer) -> Result<T, Refused> {
    serde_json::from_slice(answer.json()).map_err(|error| {
        call.cannot_answer(&format!(
            "the recorded value does not fit the return type: {error}"
        ))
    })
}

/// `Result<T, E>` where both sides restore.
pub trait ReplayResult<R> {
    /// Records the outcome, if this call records.
    fn record(&self, call: &mut ToolCall<'_>, result: &R);
    /// The recorded outcome as `R`, or the refusal to return instead.
    fn answer(&self, call: &mut ToolCall<'_>, answer: Answer) -> Result<R, Refused>;
}

impl<T, E> ReplayResult<Result<T, E>> for &&Replayable<Result<T, E>>
where
    T: Serialize + DeserializeOwned,
    E: Serialize + DeserializeOwned,
{
    #[inline]
    fn record(&self, call: &mut ToolCall<'_>, result: &Result<T, E>) {
        if call.records() {
            match result {
                Ok(value) => call.snapshot(value),
                Err(error) => call.snapshot(error),
            }
        }
    }

    fn answer(&self, call: &mut ToolCall<'_>, answer: Answer) -> Result<Result<T, E>, Refused> {
        if answer.is_ok() {
            restore(call, &answer).map(Ok)
        } else {
            restore(call, &answer).map(Err)
        }
    }
}

/// `Result<T, E>` where only `T` restores: an `Err` is unreplayable.
pub trait ReplayOk<R> {
    /// Records the outcome, if this call records.
    fn record(&self, call: &mut ToolCall<'_>, result: &R);
    /// The recorded outcome as `R`, or the refusal to return instead.
    fn answer(&self, call: &mut ToolCall<'_>, answer: Answer) -> Result<R, Refused>;
}

impl<T, E> ReplayOk<Result<T, E>> for &&&Replayable<Result<T, E>>
where
    T: Serialize + DeserializeOwned,
{
    #[inline]
    fn record(&self, call: &mut ToolCall<'_>, result: &Result<T, E>) {
        if call.records() {
            match result {
                Ok(value) => call.snapshot(value),
                Err(_) => call.unreplayable(ERROR_TYPE),
            }
        }
    }

    fn answer(&self, call: &mut ToolCall<'_>, answer: Answer) -> Result<Result<T, E>, Refused> {
        if answer.is_ok() {
            restore(call, &answer).map(Ok)
        } else {
            Err(call.cannot_answer(ERROR_TYPE))
        }
    }
}

/// Any other value that restores.
pub trait ReplayValue<R> {
    /// Records the outcome, if this call records.
    fn record(&self, call: &mut ToolCall<'_>, result: &R);
    /// The recorded outcome as `R`, or the refusal to return instead.
    fn answer(&self, call: &mut ToolCall<'_>, answer: Answer) -> Result<R, Refused>;
}

impl<R: Serialize + DeserializeOwned> ReplayValue<R> for &Replayable<R> {
    #[inline]
    fn record(&self, call: &mut ToolCall<'_>, result: &R) {
        if call.records() {
            call.snapshot(result);
        }
    }

    fn answer(&self, call: &mut ToolCall<'_>, answer: Answer) -> Result<R, Refused> {
        restore(call, &answer)
    }
}

/// The fallback: nothing restores, the call is marked unreplayable.
pub trait NotReplayable<R> {
    /// Marks the call unreplayable, if it records.
    fn record(&self, call: &mut ToolCall<'_>, result: &R);
    /// The refusal to return instead.
    fn answer(&self, call: &mut ToolCall<'_>, answer: Answer) -> Result<R, Refused>;
}

impl<R> NotReplayable<R> for Replayable<R> {
    #[inline]
    fn record(&self, call: &mut ToolCall<'_>, _result: &R) {
        if call.records() {
            call.unreplayable(RETURN_TYPE);
        }
    }

    fn answer(&self, call: &mut ToolCall<'_>, _answer: Answer) -> Result<R, Refused> {
        Err(call.cannot_answer(RETURN_TYPE))
    }
}
