//! `simple`: point reads, updates and inserts on an accounts table sized by `scale`
//! (100,000 rows per unit, like pgbench's accounts), keys uniform or zipfian.

use std::sync::Arc;

use bytes::{BufMut, BytesMut};
use rand::Rng as _;
use serde::Deserialize;

use super::check_range;
use crate::core::load::{CopyTable, SqlSchema};
use crate::core::registry::parse_section_lenient;
use crate::core::{
    rng, BoxFuture, KeyChooser, KeyDistribution, Rng, Session, Statements, TxError, TxKind,
    TxOutcome, WorkerTx, Workload, WorkloadInfo, WorkloadParams,
};

static SCHEMA: SqlSchema = SqlSchema {
    name: "simple",
    create: include_str!("../../workloads/simple/schema.sql"),
    after_load: include_str!("../../workloads/simple/indexes.sql"),
    drop: include_str!("../../workloads/simple/drop.sql"),
    tables: &[CopyTable {
        table: "simple_accounts",
        copy_sql: include_str!("../../workloads/simple/copy_accounts.sql"),
        write_row: account_row,
    }],
};
const READ: &str = include_str!("../../workloads/simple/read.sql");
const UPDATE: &str = include_str!("../../workloads/simple/update.sql");
const INSERT: &str = include_str!("../../workloads/simple/insert.sql");

/// Accounts per unit of scale.
pub(crate) const ROWS_PER_SCALE: u64 = 100_000;

const KINDS: &[&str] = &["read", "update", "insert"];
const READ_KIND: TxKind = 0;
const UPDATE_KIND: TxKind = 1;
const INSERT_KIND: TxKind = 2;

/// The registry entry.
pub(crate) fn info() -> WorkloadInfo {
    WorkloadInfo::builtin(
        "simple",
        "point reads, updates and inserts on one accounts table (pgbench-like)",
        &["mixed", "read", "write"],
        "100,000 accounts per unit (scale 10 = 1,000,000 rows, like pgbench -s 10)",
        build,
    )
}

/// The `simple:` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Section {
    /// Share of reads in `mixed` mode (default 0.8).
    read_ratio: Option<f64>,
    /// Share of inserts among writes (default 0.5).
    insert_ratio: Option<f64>,
    /// uniform | zipfian.
    key_distribution: Option<KeyDistribution>,
    /// Zipfian exponent in (0, 1), default 0.99.
    zipf_theta: Option<f64>,
}

/// The built workload.
pub(crate) struct Simple {
    rows: u64,
    /// Cumulative weights of read, update, insert.
    cumulative: [f64; 3],
    keys: KeyChooser,
    seed: u64,
}

fn build(p: &WorkloadParams) -> Result<Arc<dyn Workload>, Vec<String>> {
    let (s, mut errors): (Section, _) = parse_section_lenient(&p.section, "simple");
    let read_ratio = s.read_ratio.unwrap_or(0.8);
    let insert_ratio = s.insert_ratio.unwrap_or(0.5);
    let theta = s.zipf_theta.unwrap_or(0.99);
    check_range(&mut errors, "simple.read_ratio", read_ratio, 0.0, 1.0);
    check_range(&mut errors, "simple.insert_ratio", insert_ratio, 0.0, 1.0);
    check_range(&mut errors, "simple.zipf_theta", theta, 0.01, 0.999);
    if s.read_ratio.is_some() && p.mode != "mixed" {
        errors.push(format!(
            "simple.read_ratio: only applies to mode mixed (this run's mode is {}); remove it or use mode: mixed",
            p.mode
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let read = match p.mode.as_str() {
        "read" => 1.0,
        "write" => 0.0,
        _ => read_ratio,
    };
    let writes = 1.0 - read;
    let weights = [read, writes * (1.0 - insert_ratio), writes * insert_ratio];
    let rows = p.scale * ROWS_PER_SCALE;
    let dist = s.key_distribution.unwrap_or(KeyDistribution::Uniform);
    Ok(Arc::new(Simple {
        rows,
        cumulative: [weights[0], weights[0] + weights[1], 1.0],
        keys: KeyChooser::new(dist, rows, theta),
        seed: p.seed,
    }))
}

fn account_row(id: u64, buf: &mut BytesMut) {
    use std::io::Write as _;
    let mut w = buf.writer();
    // balance 0, category 1..=100, an 84-byte payload like pgbench's filler
    let _ = writeln!(w, "{id}\t0\t{}\t{:0>84}", id % 100 + 1, id);
}

impl Workload for Simple {
    fn kinds(&self) -> &[&'static str] {
        KINDS
    }

    fn tables(&self) -> &[&'static str] {
        &["simple_accounts", "simple_history"]
    }

    fn writes(&self) -> bool {
        self.cumulative[0] < 1.0
    }

    fn sql_schema(&self) -> Option<(&'static SqlSchema, Vec<u64>)> {
        Some((&SCHEMA, vec![self.rows]))
    }

    fn worker(&self, worker_id: usize, seed: u64) -> Box<dyn WorkerTx> {
        Box::new(SimpleWorker {
            stmts: Statements::new(&[READ, UPDATE, INSERT]),
            rng: rng(seed ^ self.seed, worker_id as u64),
            keys: self.keys.clone(),
            cumulative: self.cumulative,
        })
    }
}

struct SimpleWorker {
    /// Indexed by kind: read, update, insert.
    stmts: Statements,
    rng: Rng,
    keys: KeyChooser,
    cumulative: [f64; 3],
}

impl WorkerTx for SimpleWorker {
    #[inline]
    fn next_kind(&mut self) -> TxKind {
        let u: f64 = self.rng.gen();
        self.cumulative
            .iter()
            .position(|c| u < *c)
            .unwrap_or(READ_KIND)
    }

    fn run<'a>(
        &'a mut self,
        kind: TxKind,
        session: &'a mut dyn Session,
    ) -> BoxFuture<'a, Result<TxOutcome, TxError>> {
        let key = self.keys.sample(&mut self.rng) as i64;
        // drawn only for the kinds that use it
        let delta: Option<i64> =
            matches!(kind, UPDATE_KIND | INSERT_KIND).then(|| self.rng.gen_range(-5000..=5000));
        Box::pin(async move {
            let st = self.stmts.get(session, kind).await?;
            match delta {
                Some(delta) => session.execute(st, &[&key, &delta]).await?,
                None => session.execute(st, &[&key]).await?,
            };
            Ok(TxOutcome::committed(1))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(mode: &str, section: &str) -> WorkloadParams {
        WorkloadParams {
            mode: mode.into(),
            scale: 1,
            section: serde_yaml::from_str(section).unwrap(),
            seed: 1,
            workers: 1,
            registry: Default::default(),
        }
    }

    #[test]
    fn mixed_mode_follows_read_ratio() {
        let w = build(&params("mixed", "read_ratio: 0.3\ninsert_ratio: 0.25")).unwrap();
        let mut g = w.worker(0, 5);
        let mut counts = [0u32; 3];
        for _ in 0..100_000 {
            counts[g.next_kind()] += 1;
        }
        let share = |i: usize| counts[i] as f64 / 100_000.0;
        assert!((share(0) - 0.3).abs() < 0.01, "{counts:?}");
        assert!((share(1) - 0.525).abs() < 0.01, "{counts:?}");
        assert!((share(2) - 0.175).abs() < 0.01, "{counts:?}");
    }

    #[test]
    fn read_mode_only_reads() {
        let w = build(&params("read", "key_distribution: zipfian")).unwrap();
        let mut g = w.worker(3, 5);
        assert!((0..1000).all(|_| g.next_kind() == READ_KIND));
    }

    #[test]
    fn bad_section_reports_every_problem() {
        let errs = build(&params(
            "read",
            "read_ratio: 1.5\nkey_distribution: pareto\nbogus: 1",
        ))
        .err()
        .unwrap();
        let all = errs.join("\n");
        assert!(all.contains("simple.key_distribution"), "{all}");
        assert!(all.contains("simple.bogus: unknown key"), "{all}");
        assert!(all.contains("simple.read_ratio: must be between"), "{all}");
        assert!(all.contains("only applies to mode mixed"), "{all}");
    }

    #[test]
    fn account_rows_are_copy_text() {
        let mut b = BytesMut::new();
        account_row(42, &mut b);
        let line = std::str::from_utf8(&b).unwrap();
        let cols: Vec<_> = line.trim_end().split('\t').collect();
        assert_eq!(cols.len(), 4);
        assert_eq!(cols[0], "42");
        assert_eq!(cols[3].len(), 84);
    }
}
