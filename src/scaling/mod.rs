//! Progressive connection scaling: bands of increasing concurrency, each measured on its
//! own (fresh pool, own warm-up, exact histograms), then an analysis of where the server
//! stops scaling.

pub mod analysis;
pub mod fit;
pub mod output;
pub mod queue;

pub use analysis::{analyze, Analysis};

use serde::Serialize;

use crate::collect::DbStatsReport;
use crate::report::Latency;

/// One band's results.
#[derive(Debug, Clone, Serialize)]
pub struct Band {
    /// Position in the sweep (0-based).
    pub index: usize,
    /// Workers.
    pub workers: usize,
    /// Connections (the concurrency the server sees).
    pub connections: usize,
    /// Measured seconds (warm-up excluded).
    pub measured_s: f64,
    /// Successful transactions.
    pub transactions: u64,
    /// Failed transactions.
    pub failed: u64,
    /// failed / (successful + failed).
    pub error_rate: f64,
    /// Successful transactions per second.
    pub tps: f64,
    /// Statements per second.
    pub qps: f64,
    /// Latency from the intended start, from the band's merged histogram.
    pub latency: Latency,
    /// Execution time on the connection.
    pub service: Latency,
    /// Time waiting for a pooled connection.
    pub pool_wait: Latency,
    /// Retries.
    pub retries: u64,
    /// The band's latency histogram (HdrHistogram V2 deflate, base64, µs).
    pub histogram: String,
    /// Server statistics of the band, when collection is on.
    pub database_stats: Option<DbStatsReport>,
}
