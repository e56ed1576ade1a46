//! csvlog: records of 26 fields (23 before PostgreSQL 13, 24 before 14), quoted fields
//! spanning lines.

use std::io::{self, BufRead};

use super::*;

/// The fields of one csvlog record, unescaped into one buffer.
#[derive(Default)]
pub(super) struct CsvFields {
    buf: String,
    ends: Vec<usize>,
}

impl CsvFields {
    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(super) fn get(&self, k: usize) -> &str {
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        &self.buf[start..self.ends[k]]
    }

    /// Splits a whole record (RFC 4180: `""` escapes a quote inside a quoted field), stopping
    /// after `limit` fields. Strict where lenient readers guess: a quote inside an unquoted
    /// field or text after a closing quote is an error, since that is what broken quoting
    /// looks like once a record has been framed.
    pub(super) fn split(&mut self, rec: &str, limit: usize) -> Result<(), &'static str> {
        self.buf.clear();
        self.ends.clear();
        let b = rec.as_bytes();
        let mut i = 0;
        while self.ends.len() < limit {
            if b.get(i) == Some(&b'"') {
                i += 1;
                loop {
                    let Some(k) = rec[i..].find('"').map(|k| i + k) else {
                        return Err("a quoted field is not closed");
                    };
                    self.buf.push_str(&rec[i..k]);
                    if b.get(k + 1) == Some(&b'"') {
                        self.buf.push('"');
                        i = k + 2;
                    } else {
                        i = k + 1;
                        break;
                    }
                }
                self.ends.push(self.buf.len());
                match b.get(i) {
                    None => return Ok(()),
                    Some(b',') => i += 1,
                    Some(_) => return Err("text after the closing quote of a field"),
                }
            } else {
                let end = rec[i..].find(',').map_or(rec.len(), |k| i + k);
                let field = &rec[i..end];
                if field.contains('"') {
                    return Err("a quote inside an unquoted field");
                }
                self.buf.push_str(field);
                self.ends.push(self.buf.len());
                if end == rec.len() {
                    return Ok(());
                }
                i = end + 1;
            }
        }
        Ok(())
    }
}

/// Whether a line starts a csvlog record: a log time, then a process id, a session id and a
/// session line number in their columns. A line inside a quoted field (a multi-line
/// statement) has its quotes doubled and does not look like this.
pub(super) fn looks_like_csvlog_start(line: &str) -> bool {
    if !starts_with_timestamp(line) {
        return false;
    }
    let mut f = CsvFields::default();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    f.split(line, 7).is_ok()
        && f.len() == 7
        && parse_ts_ms(f.get(0)).is_some()
        && digits(f.get(3))
        && is_session_id(f.get(5))
        && digits(f.get(6))
}

/// Reads a csvlog. Records are framed by quote parity (a record ends at the end of a line
/// outside quotes); a record whose quoted field is still open where the next record
/// obviously starts, or at the end of the file, whose quoting or field count is wrong, or
/// that is longer than [`MAX_LINE_BYTES`], is counted as malformed.
pub(super) fn read_csv(r: impl BufRead, tick: &mut dyn FnMut(u64)) -> io::Result<Parsed> {
    let mut b = Builder::default();
    let mut lines = LineReader::new(r, true);
    let mut fields = CsvFields::default();
    let mut rec = String::new();
    // Line where the open record starts (0: none), whether a quoted field is open, and
    // whether the record outgrew the limit (its text is then dropped).
    let (mut start, mut open, mut long) = (0u64, false, false);
    while let Some(l) = lines.next_line()? {
        b.parsed.lines = l.no;
        if l.no % 65536 == 0 {
            tick(l.bytes);
        }
        if open && looks_like_csvlog_start(&l.text) {
            b.flush();
            b.parsed.bad(
                start,
                &format!(
                    "csvlog record with a quoted field still open where the record of line {} starts",
                    l.no
                ),
            );
            (start, open, long) = (0, false, false);
            rec.clear();
        }
        if start == 0 {
            if l.text.trim().is_empty() {
                continue;
            }
            start = l.no;
        } else if !long {
            rec.push('\n');
        }
        if l.cut || long || rec.len() + l.text.len() > MAX_LINE_BYTES {
            long = true;
            rec = String::new();
        } else {
            rec.push_str(&l.text);
        }
        if l.quotes % 2 == 1 {
            open = !open;
        }
        if open {
            continue;
        }
        if long {
            b.flush();
            b.parsed
                .bad(start, &too_long("csvlog record", MAX_LINE_BYTES));
        } else {
            match fields.split(&rec, usize::MAX) {
                Ok(()) => csv_record(&mut b, start, &fields),
                Err(why) => {
                    b.flush();
                    b.parsed
                        .bad(start, &format!("csvlog record with broken quoting: {why}"));
                }
            }
        }
        (start, long) = (0, false);
        rec.clear();
    }
    if start != 0 {
        b.flush();
        b.parsed.bad(
            start,
            "csvlog record with a quoted field still open at the end of the file",
        );
    }
    tick(lines.bytes);
    Ok(b.finish())
}

/// csvlog columns: 0 log_time, 3 process_id, 5 session_id, 11 error_severity, 13 message,
/// 14 detail.
fn csv_record(b: &mut Builder, line: u64, rec: &CsvFields) {
    if !CSVLOG_FIELDS.contains(&rec.len()) {
        b.flush();
        b.parsed.bad(
            line,
            &format!(
                "csvlog record with {} fields (PostgreSQL writes 23, 24 or 26)",
                rec.len()
            ),
        );
        return;
    }
    let ts = parse_ts_ms(rec.get(0));
    let session = if rec.get(5).is_empty() {
        rec.get(3)
    } else {
        rec.get(5)
    };
    let (level, msg, detail) = (rec.get(11), rec.get(13), rec.get(14));
    if ts.is_none() {
        b.flush();
        b.parsed.bad(line, "csvlog record without a valid log_time");
        return;
    }
    b.entry(line, session.to_string(), ts, severity(level), msg, false);
    if !detail.is_empty() {
        b.detail(line, session, detail, false);
    }
}

pub(super) fn severity(level: &str) -> &'static str {
    LEVELS.into_iter().find(|l| *l == level).unwrap_or("OTHER")
}
