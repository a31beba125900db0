//! Retrying a tool call: exponential backoff with full jitter, each attempt its own step
//! and event, every attempt counted in the run's budgets, and none once the run tripped.
//!
//! The schedule is `backon`'s capped exponential one; its jitter adds to the delay,
//! whereas full jitter (AWS's "Exponential Backoff and Jitter") draws each delay
//! uniformly from zero to the capped value, which is what spreads a herd of retries.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, BlockingRetryable, ExponentialBuilder, Retryable};

use super::Run;
use crate::scope::with_attempt;

/// How to retry: at most `max_attempts` attempts (the first included) within
/// `max_elapsed`, waiting between them a random time up to `min_delay * 2^n`, capped at
/// `max_delay`.
///
/// ```
/// use std::time::Duration;
/// use tracing_agent::Retry;
/// let retry = Retry::new()
///     .max_attempts(4)
///     .min_delay(Duration::from_millis(200))
///     .max_delay(Duration::from_secs(5))
///     .max_elapsed(Duration::from_secs(20));
/// # let _ = retry;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retry {
    max_attempts: u32,
    min_delay: Duration,
    max_delay: Duration,
    max_elapsed: Option<Duration>,
    seed: Option<u64>,
}

impl Default for Retry {
    fn default() -> Self {
        Retry::new()
    }
}

impl Retry {
    /// 3 attempts, delays up to 100 ms, 200 ms (capped at 10 s), no time cap.
    pub fn new() -> Self {
        Retry {
            max_attempts: 3,
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            max_elapsed: None,
            seed: None,
        }
    }

    /// Attempts in all, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The cap of the first delay; each next cap doubles.
    pub fn min_delay(mut self, delay: Duration) -> Self {
        self.min_delay = delay;
        self
    }

    /// No delay is longer than this.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// No attempt starts this long after the first.
    pub fn max_elapsed(mut self, elapsed: Duration) -> Self {
        self.max_elapsed = Some(elapsed);
        self
    }

    /// A fixed seed for the jitter, for reproducible tests.
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The delays before attempts 2, 3, ...: each drawn uniformly from zero to its cap.
    pub fn delays(&self) -> impl Iterator<Item = Duration> + Send + Sync + Unpin {
        let schedule = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize)
            .build();
        FullJitter {
            caps: schedule,
            rng: match self.seed {
                Some(seed) => fastrand::Rng::with_seed(seed),
                None => fastrand::Rng::new(),
            },
        }
    }
}

struct FullJitter<I> {
    caps: I,
    rng: fastrand::Rng,
}

impl<I: Iterator<Item = Duration>> Iterator for FullJitter<I> {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let cap = self.caps.next()?;
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        Some(Duration::from_nanos(self.rng.u64(0..=nanos)))
    }
}

pin_project_lite::pin_project! {
    /// An attempt's future, numbered during its first poll, when an async tool begins.
    struct Numbered<F> {
        #[pin]
        inner: F,
        attempt: Option<u32>,
    }
}

impl<F: Future> Future for Numbered<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        match this.attempt.take() {
            Some(attempt) => with_attempt(attempt, || this.inner.poll(cx)),
            None => this.inner.poll(cx),
        }
    }
}

impl Run {
    /// Calls `call` until it returns `Ok`, as `retry` says: every attempt is its own tool
    /// call (its own step and event, with its `attempt` number, counted in the budgets);
    /// no attempt starts once the run has tripped, and a refused attempt is not retried.
    /// Waits on a timer thread, so it runs on any executor.
    ///
    /// The attempt number reaches the tool that `call` calls first.
    pub async fn retry<T, E, F, Fut>(&self, retry: &Retry, mut call: F) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let started = Instant::now();
        let attempt = Cell::new(0u32);
        let numbered = || {
            attempt.set(attempt.get().saturating_add(1));
            Numbered {
                inner: call(),
                attempt: Some(attempt.get()),
            }
        };
        numbered
            .retry(RetryBuilder(retry.clone()))
            .sleep(futures_timer::Delay::new)
            .when(|_| self.may_retry(retry, started))
            .await
    }

    /// [`retry`](Run::retry) for a blocking call, sleeping on this thread.
    pub fn retry_blocking<T, E>(
        &self,
        retry: &Retry,
        mut call: impl FnMut() -> Result<T, E>,
    ) -> Result<T, E> {
        let started = Instant::now();
        let mut attempt = 0u32;
        let numbered = || {
            attempt = attempt.saturating_add(1);
            with_attempt(attempt, &mut call)
        };
        numbered
            .retry(RetryBuilder(retry.clone()))
            .sleep(std::thread::sleep)
            .when(|_| self.may_retry(retry, started))
            .call()
    }

    fn may_retry(&self, retry: &Retry, started: Instant) -> bool {
        self.check().is_ok() && retry.max_elapsed.is_none_or(|max| started.elapsed() < max)
    }
}

/// `backon`'s builder for [`Retry::delays`].
struct RetryBuilder(Retry);

impl BackoffBuilder for RetryBuilder {
    type Backoff = Box<dyn Iterator<Item = Duration> + Send + Sync + Unpin>;

    fn build(self) -> Self::Backoff {
        Box::new(self.0.delays())
    }
}
