//! Measures: SQL a workload gives whose numeric results become figures of the report
//! (e.g. the recall of an index), taken after loading, after each run (each band of a
//! sweep), or every few seconds during a run.

use std::time::Duration;

use super::{db_message, Conn, Metric};

/// When a measure is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum When {
    /// Once the data is loaded (after `after_load`), when the run loads it.
    AfterLoad,
    /// After each run, and after each band of a sweep.
    AfterRun,
    /// Every `every` during the measured phase.
    Interval,
}

/// One measure.
#[derive(Debug, Clone)]
pub(crate) struct Measure {
    /// Name: the figure's name when the query returns one column; a query of several
    /// columns gives one figure per column, named by the column.
    pub(crate) name: String,
    /// A query returning one row of numbers.
    pub(crate) sql: String,
    pub(crate) when: When,
    /// The period of an interval measure.
    pub(crate) every: Duration,
    /// Unit of its figures.
    pub(crate) unit: String,
    /// One line on what it measures.
    pub(crate) description: String,
}

/// An interval measure's figures over time.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct MeasureSeries {
    /// Figure name.
    pub(crate) name: String,
    pub(crate) unit: String,
    /// `[seconds since measurement started, value]`.
    pub(crate) points: Vec<(f64, f64)>,
}

/// Takes `m` on `conn` within `limit`: one figure per numeric column of its first row
/// (NULLs skipped). A failure is one line naming the measure.
pub(crate) async fn take(conn: &Conn, m: &Measure, limit: Duration) -> Result<Vec<Metric>, String> {
    // the server gives up when the client does: at the limit, or (PostgreSQL 14 and
    // later) within a second of the session being dropped
    let bound = format!("SET statement_timeout = {}", limit.as_millis().max(1));
    let _ = conn.batch_execute(&bound).await;
    let _ = conn
        .batch_execute("SET client_connection_check_interval = 1000")
        .await;
    // a measure only reads: the server refuses a write hidden in one
    let msgs = tokio::time::timeout(limit, super::read_only_query(conn, &m.sql)).await;
    // (read-only too: a measure cut off at the limit did not get to reset it)
    let _ = conn
        .batch_execute("RESET statement_timeout; RESET default_transaction_read_only")
        .await;
    let msgs = match msgs {
        Ok(Ok(msgs)) => msgs,
        Ok(Err(e)) if super::refused_as_a_write(&e) => {
            return Err(format!(
                "measure '{}': {} (a measure is a query: it runs read-only)",
                m.name,
                db_message(&e)
            ))
        }
        Ok(Err(e)) => return Err(format!("measure '{}': {}", m.name, db_message(&e))),
        Err(_) => {
            return Err(format!(
                "measure '{}' took longer than {}s; it was cancelled",
                m.name,
                limit.as_secs()
            ))
        }
    };
    let row = msgs.iter().find_map(|x| match x {
        tokio_postgres::SimpleQueryMessage::Row(r) => Some(r),
        _ => None,
    });
    let Some(row) = row else {
        return Err(format!("measure '{}': the query returned no row", m.name));
    };
    let cols = row.columns();
    let mut out = Vec::new();
    for (i, c) in cols.iter().enumerate() {
        let Some(text) = row.get(i) else { continue };
        let value = match text {
            "t" | "true" => 1.0,
            "f" | "false" => 0.0,
            t => t.trim().parse::<f64>().map_err(|_| {
                format!(
                    "measure '{}': column {} returned '{t}', not a number; return numbers (cast with ::float8)",
                    m.name,
                    c.name()
                )
            })?,
        };
        out.push(Metric {
            name: if cols.len() == 1 {
                m.name.clone()
            } else {
                c.name().to_string()
            },
            value,
            unit: m.unit.clone(),
            description: m.description.clone(),
        });
    }
    Ok(out)
}

/// Takes every measure of `when` in turn; a failing one is logged as a warning and the
/// others still run.
pub(crate) async fn take_all(
    conn: &Conn,
    measures: &[Measure],
    when: When,
    limit: Duration,
) -> Vec<Metric> {
    let mut out = Vec::new();
    for m in measures.iter().filter(|m| m.when == when) {
        match take(conn, m, limit).await {
            Ok(figures) => out.extend(figures),
            Err(e) => log::warn!("{e}"),
        }
    }
    out
}

/// Adds interval figures taken at `t_s` to their series.
pub(crate) fn record(series: &mut Vec<MeasureSeries>, t_s: f64, figures: Vec<Metric>) {
    for f in figures {
        match series.iter_mut().find(|s| s.name == f.name) {
            Some(s) => s.points.push((t_s, f.value)),
            None => series.push(MeasureSeries {
                name: f.name,
                unit: f.unit,
                points: vec![(t_s, f.value)],
            }),
        }
    }
}
