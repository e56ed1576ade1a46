//! Prometheus endpoint: `/metrics` in the text format while the run lasts. Figures are
//! published by the aggregator once per interval (workers never touch them) and by the
//! pg_stat collector; a scrape renders them with the `prometheus` crate's encoder.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use prometheus::proto::{
    Bucket, Counter, Gauge, Histogram as PHistogram, LabelPair, Metric, MetricFamily, MetricType,
};
use prometheus::Encoder as _;

use crate::collect::{Published, Sample};
use crate::config::{Arrival, RunPlan};
use crate::core::ErrorClass;
use crate::exec::{Observer, RunShared};
use crate::stats::{IntervalPoint, Totals};

/// Latency histogram bucket bounds, seconds.
const BUCKETS_S: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// What a scrape shows.
#[derive(Debug, Default)]
struct State {
    kinds: Vec<String>,
    workers: usize,
    connections: usize,
    target_tps: Option<f64>,
    achieved_tps: f64,
    totals: Option<Totals>,
    /// The shard index of a run split over several processes.
    shard: Option<String>,
}

/// The running endpoint; stops serving when dropped.
pub(crate) struct Exporter {
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
    published: Option<Published>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Feed(Arc<Mutex<State>>);

impl Observer for Feed {
    fn tick(&self, totals: &Totals, last: Option<&IntervalPoint>, _shared: &RunShared) {
        if let Ok(mut s) = self.0.lock() {
            s.totals = Some(totals.clone());
            if let Some(p) = last {
                s.achieved_tps = p.tps;
            }
        }
    }
}

impl Exporter {
    /// Binds `addr` and serves `/metrics` until dropped.
    pub(crate) async fn start(
        addr: SocketAddr,
        plan: &RunPlan,
        kinds: &[&str],
        pg: Option<Published>,
    ) -> Result<Exporter, String> {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            format!("cannot serve Prometheus metrics on {addr}: {e}; choose another metrics.prometheus.listen address")
        })?;
        let addr = listener.local_addr().unwrap_or(addr);
        let state = Arc::new(Mutex::new(State {
            kinds: kinds.iter().map(|k| k.to_string()).collect(),
            workers: plan.exec.workers,
            connections: plan.exec.connections,
            target_tps: match plan.exec.arrival {
                Arrival::Open { rate_tps, .. } => Some(rate_tps),
                Arrival::Closed => None,
            },
            shard: plan.exec.shard.map(|s| s.index.to_string()),
            ..Default::default()
        }));
        let task = tokio::spawn(serve(listener, state.clone(), pg.clone()));
        Ok(Exporter {
            state,
            addr,
            published: pg,
            task,
        })
    }

    /// The bound address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The slot the pg_stat collector publishes its latest sample into.
    pub(crate) fn published(&self) -> Option<Published> {
        self.published.clone()
    }

    /// Shows a band's workers and connections (progressive sweeps).
    pub(crate) fn set_band(&self, workers: usize, connections: usize) {
        if let Ok(mut s) = self.state.lock() {
            s.workers = workers;
            s.connections = connections;
        }
    }

    /// The aggregator hook that feeds this endpoint.
    pub(crate) fn observer(&self) -> Arc<dyn Observer> {
        Arc::new(Feed(self.state.clone()))
    }
}

/// How long a metrics client may take to send a request before its connection is closed
/// (an idle connection holds a file descriptor the run's connections may need).
const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Pause after a failed accept (no file descriptor left) before the next.
const ACCEPT_RETRY: std::time::Duration = std::time::Duration::from_millis(100);

async fn serve(listener: tokio::net::TcpListener, state: Arc<Mutex<State>>, pg: Option<Published>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // out of file descriptors (scrapers that connect and never ask): retrying at
            // once would spin a core beside the measured server; the backlog waits
            Err(_) => {
                tokio::time::sleep(ACCEPT_RETRY).await;
                continue;
            }
        };
        let (state, pg) = (state.clone(), pg.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let body = respond(&req, &state, pg.as_ref());
                async move { Ok::<_, std::convert::Infallible>(body) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(io, service)
                .await;
        });
    }
}

fn respond(
    req: &Request<hyper::body::Incoming>,
    state: &Mutex<State>,
    pg: Option<&Published>,
) -> Response<Full<Bytes>> {
    if req.uri().path() != "/metrics" {
        let mut r = Response::new(Full::new(Bytes::from_static(
            b"not found; metrics are at /metrics\n",
        )));
        *r.status_mut() = StatusCode::NOT_FOUND;
        return r;
    }
    let sample = pg.and_then(|p| p.lock().ok().and_then(|s| s.clone()));
    let families = match state.lock() {
        Ok(s) => families(&s, sample.as_ref()),
        Err(_) => Vec::new(),
    };
    let encoder = prometheus::TextEncoder::new();
    let mut buf = Vec::new();
    let _ = encoder.encode(&families, &mut buf);
    let mut r = Response::new(Full::new(Bytes::from(buf)));
    if let Ok(v) = encoder.format_type().parse() {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

fn labels(pairs: &[(&str, &str)]) -> Vec<LabelPair> {
    pairs
        .iter()
        .map(|(k, v)| {
            let mut l = LabelPair::default();
            l.set_name(k.to_string());
            l.set_value(v.to_string());
            l
        })
        .collect()
}

fn family(name: &str, help: &str, kind: MetricType, metrics: Vec<Metric>) -> MetricFamily {
    let mut f = MetricFamily::default();
    f.set_name(name.to_string());
    f.set_help(help.to_string());
    f.set_field_type(kind);
    f.set_metric(metrics);
    f
}

fn counter(l: &[(&str, &str)], v: f64) -> Metric {
    let mut c = Counter::default();
    c.set_value(v);
    let mut m = Metric::default();
    m.set_label(labels(l));
    m.set_counter(c);
    m
}

fn gauge(l: &[(&str, &str)], v: f64) -> Metric {
    let mut g = Gauge::default();
    g.set_value(v);
    let mut m = Metric::default();
    m.set_label(labels(l));
    m.set_gauge(g);
    m
}

/// A Prometheus histogram from an exact HDR histogram of microseconds.
fn histogram(l: &[(&str, &str)], h: &hdrhistogram::Histogram<u64>) -> Metric {
    let mut p = PHistogram::default();
    p.set_sample_count(h.len());
    p.set_sample_sum(h.mean() * h.len() as f64 / 1e6);
    p.set_bucket(
        BUCKETS_S
            .iter()
            .map(|b| {
                let mut bucket = Bucket::default();
                bucket.set_upper_bound(*b);
                let us = (b * 1e6) as u64;
                bucket.set_cumulative_count(if h.is_empty() {
                    0
                } else {
                    h.count_between(0, us)
                });
                bucket
            })
            .collect(),
    );
    let mut m = Metric::default();
    m.set_label(labels(l));
    m.set_histogram(p);
    m
}

fn families(s: &State, pg: Option<&Sample>) -> Vec<MetricFamily> {
    let mut out = Vec::new();
    let mut tx = Vec::new();
    let mut errors = Vec::new();
    let mut latency = Vec::new();
    if let Some(t) = &s.totals {
        for k in &t.kinds {
            let name = k.name.as_str();
            tx.push(counter(
                &[("kind", name), ("outcome", "committed")],
                k.committed as f64,
            ));
            tx.push(counter(
                &[("kind", name), ("outcome", "rolled_back")],
                k.rolled_back as f64,
            ));
            for c in ErrorClass::ALL {
                errors.push(counter(
                    &[("kind", name), ("class", c.as_str())],
                    k.errors[c] as f64,
                ));
            }
            latency.push(histogram(&[("kind", name)], &k.latency));
        }
        out.push(family(
            "stormbench_pool_wait_seconds",
            "Time waiting for a pooled connection.",
            MetricType::HISTOGRAM,
            vec![histogram(&[], &t.pool_wait)],
        ));
        out.push(family(
            "stormbench_retries_total",
            "Retries of serialization failures and deadlocks.",
            MetricType::COUNTER,
            vec![counter(&[], t.retries() as f64)],
        ));
    } else {
        for k in &s.kinds {
            tx.push(counter(&[("kind", k), ("outcome", "committed")], 0.0));
        }
    }
    out.push(family(
        "stormbench_transactions_total",
        "Measured transactions by kind and outcome (warm-up excluded).",
        MetricType::COUNTER,
        tx,
    ));
    out.push(family(
        "stormbench_errors_total",
        "Failed transactions by kind and error class.",
        MetricType::COUNTER,
        errors,
    ));
    out.push(family(
        "stormbench_latency_seconds",
        "Latency from the intended start, by transaction kind.",
        MetricType::HISTOGRAM,
        latency,
    ));
    out.push(family(
        "stormbench_workers",
        "Workers of the run.",
        MetricType::GAUGE,
        vec![gauge(&[], s.workers as f64)],
    ));
    out.push(family(
        "stormbench_connections",
        "Pool size of the run.",
        MetricType::GAUGE,
        vec![gauge(&[], s.connections as f64)],
    ));
    out.push(family(
        "stormbench_achieved_tps",
        "Transactions per second in the last interval.",
        MetricType::GAUGE,
        vec![gauge(&[], s.achieved_tps)],
    ));
    if let Some(t) = s.target_tps {
        out.push(family(
            "stormbench_target_tps",
            "Open-loop target rate.",
            MetricType::GAUGE,
            vec![gauge(&[], t)],
        ));
    }
    if let Some(p) = pg {
        out.extend(pg_families(p));
    }
    if let Some(shard) = &s.shard {
        // every series of a shard says which, so a dashboard sums the shards of a run
        for f in &mut out {
            for m in f.mut_metric().iter_mut() {
                let mut l = m.get_label().to_vec();
                l.extend(labels(&[("shard", shard)]));
                m.set_label(l);
            }
        }
    }
    out
}

fn pg_families(p: &Sample) -> Vec<MetricFamily> {
    let d = &p.database;
    let mut values: BTreeMap<&str, (&str, f64)> = BTreeMap::new();
    values.insert(
        "xact_commit",
        (
            "Commits of the database (pg_stat_database).",
            d.xact_commit as f64,
        ),
    );
    values.insert(
        "xact_rollback",
        ("Rollbacks of the database.", d.xact_rollback as f64),
    );
    values.insert("blks_hit", ("Shared buffer hits.", d.blks_hit as f64));
    values.insert("blks_read", ("Blocks read.", d.blks_read as f64));
    values.insert("deadlocks", ("Deadlocks detected.", d.deadlocks as f64));
    values.insert("temp_bytes", ("Temporary file bytes.", d.temp_bytes as f64));
    let all = (d.blks_hit + d.blks_read) as f64;
    if all > 0.0 {
        values.insert(
            "cache_hit_ratio",
            (
                "Shared buffer hit ratio since stats reset, 0..1.",
                d.blks_hit as f64 / all,
            ),
        );
    }
    if let Some(w) = p.wal {
        values.insert(
            "wal_bytes",
            ("WAL bytes generated (pg_stat_wal).", w.wal_bytes as f64),
        );
        values.insert("wal_records", ("WAL records.", w.wal_records as f64));
        values.insert("wal_fpi", ("WAL full-page images.", w.wal_fpi as f64));
    }
    if let Some(c) = p.checkpoints {
        values.insert(
            "checkpoints_timed",
            ("Scheduled checkpoints.", c.checkpoints_timed as f64),
        );
        values.insert(
            "checkpoints_requested",
            ("Requested checkpoints.", c.checkpoints_requested as f64),
        );
    }
    let k = &p.connections;
    values.insert(
        "connections_active",
        ("Client connections running a statement.", k.active as f64),
    );
    values.insert(
        "connections_idle",
        ("Idle client connections.", k.idle as f64),
    );
    values.insert(
        "connections_idle_in_transaction",
        (
            "Client connections idle in a transaction.",
            k.idle_in_transaction as f64,
        ),
    );
    values.insert(
        "max_connections",
        ("The server's max_connections.", k.max_connections as f64),
    );
    values.insert(
        "locks_waiting",
        ("Lock requests not granted.", p.locks_waiting as f64),
    );
    values.insert(
        "autovacuum_running",
        ("Autovacuum workers running.", p.autovacuum_running as f64),
    );
    values
        .into_iter()
        .map(|(name, (help, v))| {
            family(
                &format!("stormbench_pg_{name}"),
                help,
                MetricType::GAUGE,
                vec![gauge(&[], v)],
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Chunk;

    #[test]
    fn text_format_has_counters_histograms_and_gauges() {
        let mut totals = Totals::new(&["read"]);
        let mut c = Chunk::new(1, 0);
        for us in [200u64, 800, 3000] {
            c.kinds[0].latency.record(us);
            c.kinds[0].committed += 1;
        }
        c.record_error(0, ErrorClass::Deadlock, Some("40P01"), || "x".into());
        totals.absorb(&c);
        let s = State {
            kinds: vec!["read".into()],
            workers: 4,
            connections: 2,
            target_tps: Some(100.0),
            achieved_tps: 99.0,
            totals: Some(totals),
            shard: None,
        };
        let mut buf = Vec::new();
        prometheus::TextEncoder::new()
            .encode(&families(&s, None), &mut buf)
            .unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(
            text.contains("stormbench_transactions_total{kind=\"read\",outcome=\"committed\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("stormbench_errors_total{class=\"deadlock\",kind=\"read\"} 1")
                || text.contains("stormbench_errors_total{kind=\"read\",class=\"deadlock\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("stormbench_latency_seconds_bucket{kind=\"read\",le=\"0.001\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("stormbench_latency_seconds_count{kind=\"read\"} 3"),
            "{text}"
        );
        assert!(text.contains("stormbench_target_tps 100"), "{text}");
        assert!(
            text.contains("# TYPE stormbench_latency_seconds histogram"),
            "{text}"
        );
        // a shard's series carry its index
        let s = State {
            shard: Some("2".into()),
            ..s
        };
        let mut buf = Vec::new();
        prometheus::TextEncoder::new()
            .encode(&families(&s, None), &mut buf)
            .unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(
            text.contains(
                "stormbench_transactions_total{kind=\"read\",outcome=\"committed\",shard=\"2\"} 3"
            ),
            "{text}"
        );
        assert!(
            text.contains("stormbench_target_tps{shard=\"2\"} 100"),
            "{text}"
        );
    }
}
