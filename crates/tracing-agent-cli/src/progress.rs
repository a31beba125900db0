//! The progress indicator on stderr: only for a person (stderr is a terminal), and only
//! once reading has taken more than a second, so quick runs and pipelines never see it.

use std::io::{self, IsTerminal};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const DELAY: Duration = Duration::from_secs(1);

/// Updating the bar for every line would cost more than the line; every 16 KiB is often
/// enough for a bar a person watches.
const UPDATE_EVERY: u64 = 1 << 14;

pub(crate) struct Progress {
    position: u64,
    next_update: u64,
    shown: Option<Shown>,
}

/// The bar, hidden until a timer thread reveals it after [`DELAY`]. A timer rather than
/// a clock check while reading, so that a slow stdin that sends nothing for a while
/// still gets its spinner.
struct Shown {
    bar: ProgressBar,
    done: Sender<()>,
    timer: JoinHandle<()>,
}

impl Progress {
    /// `total`: bytes expected, when every input is a file.
    pub fn new(total: Option<u64>) -> Self {
        let shown = io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::hidden());
            let template = match total {
                Some(_) => {
                    "{spinner} reading {wide_bar} {binary_bytes}/{binary_total_bytes} ({eta})"
                }
                None => "{spinner} reading {binary_bytes} ({binary_bytes_per_sec})",
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            let (done, finished) = mpsc::channel::<()>();
            let revealed = bar.clone();
            let timer = thread::spawn(move || {
                if let Err(RecvTimeoutError::Timeout) = finished.recv_timeout(DELAY) {
                    revealed.set_draw_target(ProgressDrawTarget::stderr());
                    revealed.enable_steady_tick(Duration::from_millis(200));
                }
            });
            Shown { bar, done, timer }
        });
        Progress {
            position: 0,
            next_update: UPDATE_EVERY,
            shown,
        }
    }

    /// `bytes` more have been read.
    pub fn advance(&mut self, bytes: u64) {
        self.position += bytes;
        if self.position < self.next_update {
            return;
        }
        self.next_update = self.position + UPDATE_EVERY;
        if let Some(shown) = &self.shown {
            shown.bar.set_position(self.position);
        }
    }

    /// Clears the indicator before the output is written.
    pub fn finish(self) {}
}

impl Drop for Progress {
    /// Also on an error while reading: the error must not land beside a stale bar.
    fn drop(&mut self) {
        if let Some(Shown { bar, done, timer }) = self.shown.take() {
            drop(done);
            let _ = timer.join();
            bar.finish_and_clear();
        }
    }
}
