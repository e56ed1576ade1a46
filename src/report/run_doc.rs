//! The run report as a [`Document`]: the console report, the HTML page, and the time
//! series as CSV (one row per interval, a count column per kind).

use super::document::{Document, Table};
use super::Report;

impl Document for Report {
    fn console(&self) -> String {
        super::console::render(self)
    }

    fn html(&self) -> String {
        super::html::render(self)
    }

    fn table(&self) -> Table {
        let mut header: Vec<String> = [
            "interval",
            "t_s",
            "transactions",
            "errors",
            "retries",
            "tps",
            "qps",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "max_ms",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        header.extend(
            self.workload
                .kinds
                .iter()
                .map(|k| format!("{k}_transactions")),
        );
        let rows = self
            .time_series
            .iter()
            .map(|p| {
                let mut row = vec![
                    p.interval.to_string(),
                    format!("{:.3}", p.t_s),
                    p.transactions.to_string(),
                    p.errors.to_string(),
                    p.retries.to_string(),
                    format!("{:.3}", p.tps),
                    format!("{:.3}", p.qps),
                    format!("{:.3}", p.p50_ms),
                    format!("{:.3}", p.p95_ms),
                    format!("{:.3}", p.p99_ms),
                    format!("{:.3}", p.max_ms),
                ];
                row.extend(p.by_kind.iter().map(u64::to_string));
                row
            })
            .collect();
        Table { header, rows }
    }
}
