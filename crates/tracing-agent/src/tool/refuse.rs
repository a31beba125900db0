//! A refusal returned in place of the body's value, where the tool's return type can
//! carry one: the `Decision::Refuse` arm of the generated code.

use std::marker::PhantomData;

use super::call::ToolCall;
use crate::guard::Refused;

/// Turns a refusal into the tool's return type `R`, where `R` can carry one:
/// `Result<T, E>` with `E: From<Refused>`. Picked by autoref specialization, so a tool
/// whose type cannot carry a refusal still compiles, and runs its body (the trip is
/// recorded all the same, and `Run::check` ends the run at its next call).
pub struct Refuse<R>(PhantomData<fn() -> R>);

impl<R> Refuse<R> {
    /// For a tool returning `R`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Refuse(PhantomData)
    }
}

/// The specialization for `Result<T, E>` with `E: From<Refused>`.
pub trait RefuseInPlace<R> {
    /// Finishes `call` as refused and returns the refusal as `R`.
    fn refuse(&self, call: &mut ToolCall<'_>, refused: Refused) -> Option<R>;
}

impl<T, E: From<Refused>> RefuseInPlace<Result<T, E>> for Refuse<Result<T, E>> {
    #[inline]
    fn refuse(&self, call: &mut ToolCall<'_>, refused: Refused) -> Option<Result<T, E>> {
        call.refused(&refused);
        Some(Err(E::from(refused)))
    }
}

/// The fallback for every other return type: nothing to return, so the body runs.
pub trait RunAnyway<R> {
    /// `None`: the body runs.
    fn refuse(&self, call: &mut ToolCall<'_>, refused: Refused) -> Option<R>;
}

impl<R> RunAnyway<R> for &Refuse<R> {
    #[inline]
    fn refuse(&self, _call: &mut ToolCall<'_>, _refused: Refused) -> Option<R> {
        None
    }
}
