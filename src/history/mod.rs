//! The results history: every finished run recorded, by default in a single-file SQLite
//! database, or in a PostgreSQL table for a team; read back by `stormbench history` (runs
//! and trends) and by `compare --baseline`.
//!
//! A record is made from the run's JSON report, so a report written earlier (or on
//! another machine) can be recorded the same way (`history --import`).

mod pg;
mod sqlite;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub(crate) use crate::config::StoreSpec;

/// One transaction kind of a recorded run.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub(crate) struct KindRow {
    pub(crate) kind: String,
    pub(crate) transactions: i64,
    pub(crate) tps: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p95_ms: f64,
    pub(crate) p99_ms: f64,
}

/// One recorded run: its identity, headline figures and SLO outcome (the report itself is
/// stored beside it).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub(crate) struct RunRow {
    /// The store's number for the run.
    pub(crate) id: i64,
    /// The run's own key (start time and a digest of the report's first figures).
    pub(crate) run_key: String,
    /// Start of measurement, RFC 3339.
    pub(crate) started_at: String,
    /// completed | interrupted | failed.
    pub(crate) status: String,
    /// Recorded before the run ended (a checkpoint of a run still going or killed).
    pub(crate) partial: bool,
    pub(crate) workload: String,
    pub(crate) mode: String,
    pub(crate) scale: i64,
    /// A digest of the settings that make runs comparable (see [`config_hash`]).
    pub(crate) config_hash: String,
    /// `stormbench x.y.z`.
    pub(crate) tool: String,
    pub(crate) server_version: String,
    /// Where it ran (no password).
    pub(crate) database: String,
    pub(crate) measured_s: f64,
    pub(crate) transactions: i64,
    pub(crate) failed: i64,
    pub(crate) tps: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p95_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
    /// Whether the run met its objectives; `None` when it had none.
    pub(crate) slo_passed: Option<bool>,
    /// The p99 objective in ms, when the run had one (drawn on the trend charts).
    pub(crate) slo_p99_ms: Option<f64>,
    pub(crate) kinds: Vec<KindRow>,
}

/// A run to record: its row and its JSON report.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) row: RunRow,
    pub(crate) report: String,
}

/// The parts of a report a record reads; the rest (the time series, the histograms, the
/// server statistics) is skipped while parsing, never held.
#[derive(serde::Deserialize)]
struct Head {
    #[serde(default)]
    started_at: Value,
    #[serde(default)]
    status: Value,
    #[serde(default)]
    tool: Value,
    #[serde(default)]
    database: Value,
    #[serde(default)]
    measured_s: Value,
    #[serde(default)]
    server: Value,
    #[serde(default)]
    config: Value,
    #[serde(default)]
    summary: Value,
    #[serde(default)]
    transactions: Value,
    #[serde(default)]
    slo: Value,
}

impl Record {
    /// The record of a report's JSON text, reading only its head (a day-long run's
    /// time series is not turned into a tree of values to find its figures).
    pub(crate) fn from_text(text: String, partial: bool) -> Result<Record, String> {
        let h: Head = serde_json::from_str(&text)
            .map_err(|e| format!("not a run report ({e}); is it a stormbench run report?"))?;
        let head = serde_json::json!({
            "started_at": h.started_at, "status": h.status, "tool": h.tool,
            "database": h.database, "measured_s": h.measured_s, "server": h.server,
            "config": h.config, "summary": h.summary, "transactions": h.transactions,
            "slo": h.slo,
        });
        Record::read(&head, text, partial)
    }

    fn read(v: &Value, report: String, partial: bool) -> Result<Record, String> {
        Ok(Record {
            row: RunRow::of_report(v, partial)?,
            report,
        })
    }
}

impl RunRow {
    /// The row of a run's JSON report (its id still 0); the error names what it lacks.
    pub(crate) fn of_report(v: &Value, partial: bool) -> Result<RunRow, String> {
        let str_at = |p: &str| {
            v.pointer(p)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("it has no {p}; is it a stormbench run report?"))
        };
        let f = |p: &str| v.pointer(p).and_then(Value::as_f64).unwrap_or(0.0);
        let i = |p: &str| v.pointer(p).and_then(Value::as_i64).unwrap_or(0);
        let started_at = str_at("/started_at")?;
        let workload = str_at("/config/workload")?;
        let kinds = v
            .pointer("/transactions")
            .and_then(Value::as_array)
            .ok_or("it has no /transactions; is it a stormbench run report?")?
            .iter()
            .map(|k| KindRow {
                kind: k["name"].as_str().unwrap_or("").to_string(),
                transactions: k["transactions"].as_i64().unwrap_or(0),
                tps: k["tps"].as_f64().unwrap_or(0.0),
                p50_ms: k["latency"]["p50_ms"].as_f64().unwrap_or(0.0),
                p95_ms: k["latency"]["p95_ms"].as_f64().unwrap_or(0.0),
                p99_ms: k["latency"]["p99_ms"].as_f64().unwrap_or(0.0),
            })
            .collect();
        let digest = Sha256::digest(
            format!(
                "{started_at}\n{}\n{}",
                v.pointer("/database").unwrap_or(&Value::Null),
                v.pointer("/config/seed").unwrap_or(&Value::Null)
            )
            .as_bytes(),
        );
        Ok(RunRow {
            id: 0,
            run_key: format!("{started_at}/{}", hex(&digest[..6])),
            started_at,
            status: str_at("/status")?,
            partial,
            workload,
            mode: str_at("/config/mode")?,
            scale: i("/config/scale"),
            config_hash: config_hash(v.pointer("/config").unwrap_or(&Value::Null)),
            tool: str_at("/tool")?,
            server_version: str_at("/server/version").unwrap_or_default(),
            database: str_at("/database").unwrap_or_default(),
            measured_s: f("/measured_s"),
            transactions: i("/summary/transactions"),
            failed: i("/summary/failed"),
            tps: f("/summary/tps"),
            p50_ms: f("/summary/latency/p50_ms"),
            p95_ms: f("/summary/latency/p95_ms"),
            p99_ms: f("/summary/latency/p99_ms"),
            max_ms: f("/summary/latency/max_ms"),
            slo_passed: v.pointer("/slo/passed").and_then(Value::as_bool),
            slo_p99_ms: v.pointer("/config/slo/p99_ms").and_then(Value::as_f64),
            kinds,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A digest of the settings that make two runs comparable: the server and database, the
/// workload, mode, scale and workload section, and how it was driven (workers,
/// connections, rate, duration, driver...). Output paths, the seed, the log level, the
/// summary interval, the guards' verdict and the objectives are left out: they do not
/// change what is measured.
pub(crate) fn config_hash(config: &Value) -> String {
    let mut c = config.clone();
    if let Some(o) = c.as_object_mut() {
        for k in [
            "warnings",
            "json",
            "csv",
            "html",
            "log_level",
            "prometheus",
            "safety",
            "slo",
            "seed",
        ] {
            o.remove(k);
        }
        if let Some(db) = o.get_mut("database").and_then(Value::as_object_mut) {
            db.retain(|k, _| ["host", "port", "dbname", "embedded"].contains(&k.as_str()));
        }
        if let Some(exec) = o.get_mut("exec").and_then(Value::as_object_mut) {
            exec.remove("seed");
            exec.remove("summary_interval");
        }
    }
    // serde_json keeps object keys sorted, so equal settings give equal text
    hex(&Sha256::digest(c.to_string().as_bytes())[..8])
}

/// Which runs to read.
#[derive(Debug, Clone, Default)]
pub(crate) struct Filter {
    pub(crate) workload: Option<String>,
    pub(crate) mode: Option<String>,
    pub(crate) scale: Option<i64>,
    /// At most this many, the newest.
    pub(crate) limit: Option<usize>,
}

impl Filter {
    fn keeps(&self, r: &RunRow) -> bool {
        self.workload.as_ref().is_none_or(|w| *w == r.workload)
            && self.mode.as_ref().is_none_or(|m| *m == r.mode)
            && self.scale.is_none_or(|s| s == r.scale)
    }
}

/// An open history. SQLite's calls block (a write may wait for another process holding
/// the file), so they run on tokio's blocking threads, never on the runtime that
/// aggregates a run.
pub(crate) enum Store {
    Sqlite(std::sync::Arc<std::sync::Mutex<sqlite::SqliteStore>>),
    Postgres(pg::PgStore),
}

/// Runs `f` on the SQLite store on a blocking thread.
async fn blocking<T: Send + 'static>(
    s: &std::sync::Arc<std::sync::Mutex<sqlite::SqliteStore>>,
    f: impl FnOnce(&mut sqlite::SqliteStore) -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let s = s.clone();
    tokio::task::spawn_blocking(move || {
        let mut g = s
            .lock()
            .map_err(|_| "the history is unusable after an earlier failure".to_string())?;
        f(&mut g)
    })
    .await
    .map_err(|e| format!("history: {e}"))?
}

impl Store {
    /// Opens (creating when missing) the history at `spec`; `None` when it is off.
    pub(crate) async fn open(spec: &StoreSpec) -> Result<Option<Store>, String> {
        Ok(match spec {
            StoreSpec::Off => None,
            StoreSpec::File(p) => {
                let p = p.clone();
                let s = tokio::task::spawn_blocking(move || sqlite::SqliteStore::open(&p))
                    .await
                    .map_err(|e| format!("history: {e}"))??;
                Some(Store::Sqlite(std::sync::Arc::new(std::sync::Mutex::new(s))))
            }
            StoreSpec::Postgres(url) => Some(Store::Postgres(pg::PgStore::open(url).await?)),
        })
    }

    /// Records a run (replacing an earlier record of the same run, such as a checkpoint);
    /// returns its id.
    pub(crate) async fn record(&mut self, r: &Record) -> Result<i64, String> {
        match self {
            Store::Sqlite(s) => {
                let r = r.clone();
                blocking(s, move |s| s.record(&r)).await
            }
            Store::Postgres(s) => s.record(r).await,
        }
    }

    /// The runs `filter` keeps, oldest first.
    pub(crate) async fn runs(&mut self, filter: &Filter) -> Result<Vec<RunRow>, String> {
        let mut all = match self {
            Store::Sqlite(s) => blocking(s, |s| s.runs()).await?,
            Store::Postgres(s) => s.runs().await?,
        };
        all.retain(|r| filter.keeps(r));
        if let Some(n) = filter.limit {
            let skip = all.len().saturating_sub(n);
            all.drain(..skip);
        }
        Ok(all)
    }

    /// The JSON report of run `id`.
    pub(crate) async fn report(&mut self, id: i64) -> Result<Value, String> {
        let text = match self {
            Store::Sqlite(s) => blocking(s, move |s| s.report(id)).await?,
            Store::Postgres(s) => s.report(id).await?,
        };
        let text = text.ok_or_else(|| format!("the history has no run {id}"))?;
        serde_json::from_str(&text).map_err(|e| format!("run {id}'s stored report: {e}"))
    }
}

/// Runs `work` unless an interrupt comes while it waits (`Err` saying so then). After an
/// interrupt that already came (the run it records was interrupted) the work runs: its
/// waits are bounded, and a second interrupt exits at once.
pub(crate) async fn unless_interrupted<T>(
    interrupt: &tokio_util::sync::CancellationToken,
    work: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, String> {
    if interrupt.is_cancelled() {
        return work.await;
    }
    tokio::select! {
        r = work => r,
        _ = interrupt.cancelled() => Err("interrupted while writing to the history".into()),
    }
}

/// The columns of a run row, in the order both stores read and write them.
pub(crate) const COLUMNS: &str = "id, run_key, started_at, status, partial, workload, mode, \
     scale, config_hash, tool, server_version, database, measured_s, transactions, failed, \
     tps, p50_ms, p95_ms, p99_ms, max_ms, slo_passed, slo_p99_ms, kinds";

/// Which earlier run a comparison takes as its base.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Baseline {
    /// The newest complete run of the same workload, mode and scale.
    Last,
    /// The newest complete run of the same workload, mode and scale that met its
    /// objectives.
    LastPass,
    /// Run number `id`.
    Id(i64),
}

impl Baseline {
    pub(crate) fn parse(s: &str) -> Result<Baseline, String> {
        match s.trim() {
            "last" => Ok(Baseline::Last),
            "last-pass" => Ok(Baseline::LastPass),
            t => t.parse().map(Baseline::Id).map_err(|_| {
                format!("--baseline {s}: give last, last-pass or a run number from `stormbench history`")
            }),
        }
    }

    /// The run of `runs` (oldest first) this baseline picks for `new`: never `new`
    /// itself, never a partial or unfinished run.
    pub(crate) fn pick<'a>(&self, runs: &'a [RunRow], new: &RunRow) -> Result<&'a RunRow, String> {
        if let Baseline::Id(id) = self {
            return runs
                .iter()
                .find(|r| r.id == *id)
                .ok_or_else(|| format!("the history has no run {id}"));
        }
        let mut candidates = runs.iter().rev().filter(|r| {
            r.run_key != new.run_key
                && !r.partial
                && r.status == "completed"
                && r.workload == new.workload
                && r.mode == new.mode
                && r.scale == new.scale
        });
        let what = format!("{} (mode {}, scale {})", new.workload, new.mode, new.scale);
        match self {
            Baseline::LastPass => {
                candidates
                    .find(|r| r.slo_passed == Some(true))
                    .ok_or_else(|| {
                        format!(
                            "the history has no completed run of {what} that met its objectives"
                        )
                    })
            }
            _ => candidates
                .next()
                .ok_or_else(|| format!("the history has no other completed run of {what}")),
        }
    }
}

#[cfg(test)]
mod tests;
