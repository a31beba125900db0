//! [`Guarded`]: a future that a run's guards can end.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tracing::Span;

use crate::clock;
use crate::guard::KillSwitch;
use crate::run_state::RunState;
use crate::schema::StopReason;

pin_project_lite::pin_project! {
    /// The future returned by [`Run::guard`](crate::Run::guard): the inner future's
    /// output, or the stop reason of the guard that ended it.
    #[must_use = "futures do nothing unless awaited"]
    pub struct Guarded<F> {
        span: Span,
        state: Arc<RunState>,
        // Dropped as soon as a guard trips, so what it awaited is cancelled then, not
        // when the caller drops this future.
        #[pin]
        inner: Option<F>,
        deadline: Option<futures_timer::Delay>,
        waiting: Option<u64>,
    }

    impl<F> PinnedDrop for Guarded<F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(key) = this.waiting {
                KillSwitch::global().unwait(key);
            }
        }
    }
}

impl<F> Guarded<F> {
    pub(crate) fn new(span: Span, state: Arc<RunState>, inner: F) -> Self {
        let deadline = state.deadline().map(|deadline| {
            futures_timer::Delay::new(deadline.saturating_duration_since(clock::now()))
        });
        Guarded {
            span,
            state,
            inner: Some(inner),
            deadline,
            waiting: None,
        }
    }
}

impl<F: Future> Future for Guarded<F> {
    type Output = Result<F::Output, StopReason>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Err(reason) = this.state.check() {
            this.inner.set(None);
            return Poll::Ready(Err(reason));
        }
        let Some(inner) = this.inner.as_mut().as_pin_mut() else {
            // Polled again after it finished: say why it cannot go on, rather than panic.
            return Poll::Ready(Err(this.state.trip_reason().unwrap_or(StopReason::Error)));
        };
        let polled = {
            let _entered = this.span.enter();
            inner.poll(cx)
        };
        if let Poll::Ready(output) = polled {
            this.inner.set(None);
            return Poll::Ready(Ok(output));
        }
        if let Some(deadline) = this.deadline.as_mut() {
            if Pin::new(deadline).poll(cx).is_ready() {
                *this.deadline = None;
                // The deadline passed: `check` trips the time budget.
                if let Err(reason) = this.state.check() {
                    this.inner.set(None);
                    return Poll::Ready(Err(reason));
                }
            }
        }
        let switch = KillSwitch::global();
        let key = *this.waiting.get_or_insert_with(|| switch.waiter_key());
        switch.wait(key, cx.waker());
        // A kill between `check` and `wait` would have found no waker to wake.
        if let Err(reason) = this.state.check() {
            this.inner.set(None);
            return Poll::Ready(Err(reason));
        }
        Poll::Pending
    }
}
