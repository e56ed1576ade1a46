//! Progressive connection scaling: bands of increasing concurrency, each measured on its
//! own (fresh pool, own warm-up, exact histograms), then an analysis of where the server
//! stops scaling.

pub(crate) mod analysis;
pub(crate) mod fit;
pub(crate) mod output;
pub(crate) mod params;
pub(crate) mod queue;

pub(crate) use analysis::{analyze, Analysis};

use serde::Serialize;

use crate::collect::DbStatsReport;
use crate::report::Latency;

/// One band's results.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Band {
    /// Position in the sweep (0-based).
    pub(crate) index: usize,
    pub(crate) workers: usize,
    /// Connections (the concurrency the server sees).
    pub(crate) connections: usize,
    /// Measured seconds (warm-up excluded).
    pub(crate) measured_s: f64,
    /// Successful transactions.
    pub(crate) transactions: u64,
    /// Failed transactions.
    pub(crate) failed: u64,
    /// failed / (successful + failed).
    pub(crate) error_rate: f64,
    /// Successful transactions per second.
    pub(crate) tps: f64,
    /// Statements per second.
    pub(crate) qps: f64,
    /// Latency from the intended start, from the band's merged histogram.
    pub(crate) latency: Latency,
    /// Execution time on the connection.
    pub(crate) service: Latency,
    /// Time waiting for a pooled connection.
    pub(crate) pool_wait: Latency,
    pub(crate) retries: u64,
    /// The band's latency histogram (HdrHistogram V2 deflate, base64, µs).
    pub(crate) histogram: String,
    /// Server statistics of the band, when collection is on.
    pub(crate) database_stats: Option<DbStatsReport>,
    /// The workload's measures after the band (e.g. recall).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) figures: Vec<crate::core::Metric>,
}
