//! Generated traces (JSON Lines written by `trace generate`) read back.

use std::io::{self, BufRead};

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::{LineReader, MAX_LINE_BYTES};

/// A generated trace's session: written as a number, read as a number or a string.
struct SessionKey(String);

impl<'de> Deserialize<'de> for SessionKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SessionKey, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = SessionKey;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a session number or name")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SessionKey, E> {
                Ok(SessionKey(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SessionKey, E> {
                Ok(SessionKey(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SessionKey, E> {
                Ok(SessionKey(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// One record of a generated trace; the other keys are skipped without being kept.
#[derive(Deserialize)]
struct TraceRecord {
    session: SessionKey,
    ts_ms: Option<f64>,
    sql: String,
    #[serde(default)]
    drain: bool,
}

/// One statement of a generated trace.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceEntry {
    /// Session key.
    pub(crate) session: String,
    /// Arrival time in ms from the trace's start.
    pub(crate) ts_ms: Option<f64>,
    /// The statement.
    pub sql: String,
    /// Written after the statements asked for, while the sessions in progress ran to their
    /// end (the arrival rate falls off there).
    pub(crate) drain: bool,
}

/// Why a generated trace could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The reader failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// A line is not a trace record (1-based line number, why).
    #[error("line {0}: not a trace record: {1}")]
    Record(u64, String),
}

/// Reads a generated trace (JSON Lines written by `trace generate`), calling `f` for each
/// record in file order. A trace is our own output, so a line that is not a record (or
/// longer than [`MAX_LINE_BYTES`]) ends the read with an error.
pub fn read_trace(r: impl BufRead, mut f: impl FnMut(TraceEntry)) -> Result<(), TraceError> {
    let mut lines = LineReader::new(r, false);
    while let Some(l) = lines.next_line()? {
        if l.cut {
            let why = format!("longer than {MAX_LINE_BYTES} bytes (the limit)");
            return Err(TraceError::Record(l.no, why));
        }
        if l.text.trim().is_empty() {
            continue;
        }
        let rec: TraceRecord =
            serde_json::from_str(&l.text).map_err(|e| TraceError::Record(l.no, e.to_string()))?;
        f(TraceEntry {
            session: rec.session.0,
            ts_ms: rec.ts_ms,
            sql: rec.sql,
            drain: rec.drain,
        });
    }
    Ok(())
}
