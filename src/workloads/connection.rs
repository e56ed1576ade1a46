//! `connection`: the cost of connecting. The same point query runs over pooled connections
//! (`persistent`), over a new connection per transaction (`transient`), or both at random
//! (`mixed`); the report compares them and shows connection setup time.

use std::sync::Arc;

use bytes::{BufMut, BytesMut};
use rand::Rng as _;
use serde::Deserialize;

use crate::core::load::{CopyTable, SqlSchema};
use crate::core::registry::parse_section;
use crate::core::{
    rng, BoxFuture, ConnectionMode, Rng, Session, Statements, TxError, TxKind, TxOutcome, WorkerTx,
    Workload, WorkloadInfo, WorkloadParams,
};

static SCHEMA: SqlSchema = SqlSchema {
    name: "connection",
    create: include_str!("../../workloads/connection/schema.sql"),
    after_load: include_str!("../../workloads/connection/indexes.sql"),
    drop: include_str!("../../workloads/connection/drop.sql"),
    tables: &[CopyTable {
        table: "connection_probe",
        copy_sql: include_str!("../../workloads/connection/copy_probe.sql"),
        write_row: probe_row,
    }],
};
const QUERY: &str = include_str!("../../workloads/connection/query.sql");

/// Probe rows per unit of scale.
pub(crate) const ROWS_PER_SCALE: u64 = 1_000;

/// The registry entry.
pub(crate) fn info() -> WorkloadInfo {
    WorkloadInfo::builtin(
        "connection",
        "connection overhead: persistent (pooled) vs transient (new connection per transaction)",
        &["mixed", "persistent", "transient"],
        "1,000 rows per unit in the probe table",
        build,
    )
}

/// The `connection:` section (no keys yet; present so unknown keys are rejected).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {}

/// The built workload.
pub(crate) struct Connection {
    rows: u64,
    mode: ConnectionMode,
    seed: u64,
}

fn build(p: &WorkloadParams) -> Result<Arc<dyn Workload>, Vec<String>> {
    let _: Section = parse_section(&p.section, "connection")?;
    let mode = match p.mode.as_str() {
        "persistent" => ConnectionMode::Persistent,
        "transient" => ConnectionMode::Transient,
        _ => ConnectionMode::Mixed,
    };
    Ok(Arc::new(Connection {
        rows: p.scale * ROWS_PER_SCALE,
        mode,
        seed: p.seed,
    }))
}

fn probe_row(id: u64, buf: &mut BytesMut) {
    use std::io::Write as _;
    let _ = writeln!(buf.writer(), "{id}\tprobe-{id}");
}

impl Workload for Connection {
    fn kinds(&self) -> &[&'static str] {
        &["query"]
    }

    fn tables(&self) -> &[&'static str] {
        &["connection_probe"]
    }

    fn writes(&self) -> bool {
        false
    }

    fn connection_mode(&self) -> Option<ConnectionMode> {
        Some(self.mode)
    }

    fn sql_schema(&self) -> Option<(&'static SqlSchema, Vec<u64>)> {
        Some((&SCHEMA, vec![self.rows]))
    }

    fn worker(&self, worker_id: usize, seed: u64) -> Box<dyn WorkerTx> {
        Box::new(ConnectionWorker {
            stmts: Statements::new(&[QUERY]),
            rng: rng(seed ^ self.seed, worker_id as u64),
            rows: self.rows as i32,
        })
    }
}

struct ConnectionWorker {
    stmts: Statements,
    rng: Rng,
    rows: i32,
}

impl WorkerTx for ConnectionWorker {
    fn next_kind(&mut self) -> TxKind {
        0
    }

    fn run<'a>(
        &'a mut self,
        _kind: TxKind,
        session: &'a mut dyn Session,
    ) -> BoxFuture<'a, Result<TxOutcome, TxError>> {
        let id: i32 = self.rng.gen_range(1..=self.rows.max(1));
        Box::pin(async move {
            let st = self.stmts.get(session, 0).await?;
            session.execute(st, &[&id]).await?;
            Ok(TxOutcome::committed(1))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_set_the_connection_mode() {
        for (mode, want) in [
            ("persistent", ConnectionMode::Persistent),
            ("transient", ConnectionMode::Transient),
            ("mixed", ConnectionMode::Mixed),
        ] {
            let p = WorkloadParams {
                mode: mode.into(),
                scale: 1,
                section: serde_yaml::Value::Null,
                seed: 1,
                workers: 1,
                registry: Default::default(),
            };
            assert_eq!(build(&p).unwrap().connection_mode(), Some(want));
        }
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let p = WorkloadParams {
            mode: "mixed".into(),
            scale: 1,
            section: serde_yaml::from_str("pool: 3").unwrap(),
            seed: 1,
            workers: 1,
            registry: Default::default(),
        };
        let e = build(&p).err().unwrap().join("\n");
        assert!(e.contains("connection.pool: unknown key"), "{e}");
    }
}
