//! jsonlog (PostgreSQL 15 and later): one JSON object per line.

use std::io::{self, BufRead};

use serde::Deserialize;

use super::csvlog::severity;
use super::*;

/// The jsonlog keys read; the others are skipped without being kept.
#[derive(Deserialize)]
struct JsonRecord {
    timestamp: Option<String>,
    error_severity: Option<String>,
    message: Option<String>,
    session_id: Option<String>,
    pid: Option<u64>,
    detail: Option<String>,
}

pub(super) fn read_json(r: impl BufRead, tick: &mut dyn FnMut(u64)) -> io::Result<Parsed> {
    let mut b = Builder::default();
    let mut lines = LineReader::new(r, false);
    while let Some(l) = lines.next_line()? {
        b.parsed.lines = l.no;
        if l.no % 65536 == 0 {
            tick(l.bytes);
        }
        if l.text.trim().is_empty() {
            continue;
        }
        if l.cut {
            b.flush();
            b.parsed
                .bad(l.no, &too_long("jsonlog line", MAX_LINE_BYTES));
            continue;
        }
        match serde_json::from_str::<JsonRecord>(&l.text) {
            Ok(v) => json_record(&mut b, l.no, v),
            Err(e) => {
                b.flush();
                b.parsed.bad(l.no, &format!("bad JSON: {e}"));
            }
        }
    }
    tick(lines.bytes);
    Ok(b.finish())
}

fn json_record(b: &mut Builder, no: u64, v: JsonRecord) {
    let (Some(ts), Some(level), Some(msg)) = (v.timestamp, v.error_severity, v.message) else {
        b.flush();
        b.parsed.bad(
            no,
            "jsonlog record without timestamp, error_severity or message",
        );
        return;
    };
    let session = match (v.session_id, v.pid) {
        (Some(id), _) => id,
        (None, Some(pid)) => pid.to_string(),
        _ => "0".to_string(),
    };
    b.entry(
        no,
        session.clone(),
        parse_ts_ms(&ts),
        severity(&level),
        &msg,
        false,
    );
    if let Some(d) = v.detail {
        b.detail(no, &session, &d, false);
    }
}
