//! `#[agent_tool(timeout = "30s")]`: an async tool's body ends at its deadline, and the
//! call returns a refusal of reason `tool_timeout` as its error.
//!
//! The timer is `futures-timer`'s thread, not a runtime's: the core stays usable on any
//! executor.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::call::ToolCall;
use super::info::ToolInfo;
use crate::guard::Refused;
use crate::schema::StopReason;

pin_project_lite::pin_project! {
    /// A future that ends with `Err(Elapsed)` if `inner` has not finished in time.
    #[must_use = "futures do nothing unless awaited"]
    pub struct Within<F> {
        #[pin]
        inner: F,
        delay: futures_timer::Delay,
        timeout: Duration,
    }
}

/// The deadline of a [`Within`] passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed(Duration);

/// Runs `future` for at most `timeout`.
pub fn within<F: IntoFuture>(timeout: Duration, future: F) -> Within<F::IntoFuture> {
    Within {
        inner: future.into_future(),
        delay: futures_timer::Delay::new(timeout),
        timeout,
    }
}

impl<F: Future> Future for Within<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        // The body first: an answer that arrives with the deadline still counts.
        if let Poll::Ready(output) = this.inner.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(this.delay).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(*this.timeout))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A tool's return type that can say "timed out": `Result<T, E>` with
/// `E: From<Refused>`.
#[diagnostic::on_unimplemented(
    message = "`#[agent_tool(timeout = ..)]` needs a return type that can carry a refusal, not `{Self}`",
    note = "return `Result<_, E>` and implement `From<tracing_agent::Refused>` for `E`: a call that times out returns the refusal as its error"
)]
pub trait TimeoutResult: Sized {
    /// The timed-out call's return value.
    fn timed_out(refused: Refused) -> Self;
}

impl<T, E: From<Refused>> TimeoutResult for Result<T, E> {
    fn timed_out(refused: Refused) -> Self {
        Err(E::from(refused))
    }
}

/// Finishes `call` as timed out (error class `timeout`) and returns the refusal as `R`.
pub fn timed_out<R: TimeoutResult>(
    call: &mut ToolCall<'_>,
    info: &'static ToolInfo,
    elapsed: Elapsed,
) -> R {
    let refused = Refused::new(
        StopReason::ToolTimeout,
        info.name,
        format!("no answer within {} ms", crate::clock::millis(elapsed.0)),
    );
    call.refused(&refused);
    R::timed_out(refused)
}
