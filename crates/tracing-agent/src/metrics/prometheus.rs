//! Serving the metrics to Prometheus (feature `prometheus`), through
//! `metrics-exporter-prometheus` with explicit buckets, so every histogram is exported as
//! `_bucket` series (the exporter's default is a summary, which cannot be aggregated across
//! instances nor fed to `histogram_quantile`).

use std::fmt;
use std::net::SocketAddr;

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder};

use super::HISTOGRAM_BUCKETS;

/// Installs a Prometheus recorder as the global `metrics` recorder and serves `/metrics`
/// (in fact any path) on `addr`, from a background task: on the current Tokio runtime when
/// called inside one, else on a thread of its own.
///
/// Call it once, before the agent's first run. It fails, saying where, if `addr` cannot be
/// bound or a global recorder is already installed.
///
/// ```no_run
/// let addr: std::net::SocketAddr = "127.0.0.1:9464".parse().unwrap();
/// tracing_agent::metrics::install_prometheus(addr).expect("serve /metrics");
/// ```
pub fn install_prometheus(addr: SocketAddr) -> Result<(), MetricsError> {
    prometheus_builder()?
        .with_http_listener(addr)
        .install()
        .map_err(|source| MetricsError::Install { addr, source })?;
    super::describe();
    Ok(())
}

/// A `PrometheusBuilder` with this crate's buckets set, for setups `install_prometheus` does
/// not cover: global labels, another listener, or `build_recorder` to render the page
/// yourself.
///
/// ```
/// let recorder = tracing_agent::metrics::prometheus_builder().unwrap().build_recorder();
/// let page = recorder.handle().render(); // the text Prometheus scrapes
/// # let _ = page;
/// ```
pub fn prometheus_builder() -> Result<PrometheusBuilder, MetricsError> {
    HISTOGRAM_BUCKETS
        .iter()
        .try_fold(PrometheusBuilder::new(), |builder, (name, bounds)| {
            builder
                .set_buckets_for_metric(Matcher::Full((*name).to_owned()), bounds)
                .map_err(|source| MetricsError::Buckets {
                    metric: name,
                    source,
                })
        })
}

/// Why the Prometheus exporter could not be set up.
#[derive(Debug)]
#[non_exhaustive]
pub enum MetricsError {
    /// The buckets of `metric` were refused.
    Buckets {
        /// The histogram.
        metric: &'static str,
        /// The exporter's reason.
        source: BuildError,
    },
    /// The exporter could not listen on `addr`, or a recorder was already installed.
    Install {
        /// The address it was to listen on.
        addr: SocketAddr,
        /// The exporter's reason.
        source: BuildError,
    },
}

impl fmt::Display for MetricsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricsError::Buckets { metric, source } => {
                write!(f, "buckets of {metric} refused: {source}")
            }
            MetricsError::Install { addr, source } => {
                write!(f, "could not serve Prometheus metrics on {addr}: {source}")
            }
        }
    }
}

impl std::error::Error for MetricsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MetricsError::Buckets { source, .. } | MetricsError::Install { source, .. } => {
                Some(source)
            }
        }
    }
}
