//! PostgreSQL log readers: stderr (with a `log_line_prefix`), csvlog, jsonlog and plain SQL,
//! turned into statement events, and the reader of generated traces. Malformed lines are
//! counted, never fatal. What is kept is bounded: a line or record longer than
//! [`MAX_LINE_BYTES`] is read past, and a statement longer than [`MAX_STATEMENT_BYTES`] is
//! skipped and counted as malformed.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, BufRead};

use chrono::NaiveDateTime;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// The input format of a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Server stderr log lines with a `log_line_prefix`.
    Stderr,
    /// `log_destination = csvlog`.
    Csvlog,
    /// `log_destination = jsonlog`.
    Jsonlog,
    /// One SQL statement per line, no timing.
    Plain,
    /// A generated trace (JSON Lines written by `trace generate`).
    Trace,
}

impl LogFormat {
    /// Parses a `--format` value.
    pub fn parse(s: &str) -> Result<LogFormat, String> {
        match s {
            "stderr" => Ok(LogFormat::Stderr),
            "csvlog" | "csv" => Ok(LogFormat::Csvlog),
            "jsonlog" | "json" => Ok(LogFormat::Jsonlog),
            "plain" | "sql" => Ok(LogFormat::Plain),
            "trace" | "jsonl" => Ok(LogFormat::Trace),
            _ => Err(format!(
                "unknown log format '{s}'; available: stderr, csvlog, jsonlog, plain, trace"
            )),
        }
    }

    /// Guesses the format from the file name, then from the first non-empty line.
    pub fn detect(path: &std::path::Path, first_line: &str) -> LogFormat {
        let name = path.to_string_lossy();
        let line = first_line.trim_start();
        if name.ends_with(".jsonl") && line.contains("\"template_id\"") {
            LogFormat::Trace
        } else if name.ends_with(".csv") {
            LogFormat::Csvlog
        } else if line.starts_with('{') {
            if line.contains("\"template_id\"") {
                LogFormat::Trace
            } else {
                LogFormat::Jsonlog
            }
        } else if name.ends_with(".sql") {
            LogFormat::Plain
        } else if starts_with_timestamp(line) {
            LogFormat::Stderr
        } else {
            LogFormat::Plain
        }
    }
}

/// One logged statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Session key: the session id (`%c`) when logged, else the pid, else "0".
    pub session: String,
    /// Arrival time in ms since the epoch (log time minus duration when both are known).
    pub ts_ms: Option<f64>,
    /// Logged duration in ms.
    pub duration_ms: Option<f64>,
    /// The statement text, with logged bind parameters substituted.
    pub sql: String,
}

/// A line that could not be understood.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Malformed {
    /// 1-based line number.
    pub line: u64,
    /// Why.
    pub reason: String,
}

/// How far back a DETAIL or bare duration line looks for its session's statement.
const LOOKBACK: usize = 256;

/// At most this many malformed lines are listed; all are counted.
pub const MALFORMED_CAP: usize = 20;

/// Longest statement kept, in bytes, after its continuation lines and bind parameters are
/// joined in: a longer one is counted as malformed and skipped, so memory stays proportional
/// to what is kept (PostgreSQL's own `track_activity_query_size` stops at 1 MiB too).
pub const MAX_STATEMENT_BYTES: usize = 1 << 20;

/// Longest physical line, csvlog record or trace record kept, in bytes: room for a statement
/// of [`MAX_STATEMENT_BYTES`] with its prefix and other fields. The rest of a longer one is
/// read past without being kept.
pub const MAX_LINE_BYTES: usize = 2 * MAX_STATEMENT_BYTES;

/// The field counts of a csvlog record: 23 up to PostgreSQL 12, 24 in 13 (`backend_type`),
/// 26 from 14 on (`leader_pid`, `query_id`).
pub const CSVLOG_FIELDS: [usize; 3] = [23, 24, 26];

/// The result of reading a log.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Statements in log order.
    pub events: Vec<Event>,
    /// Lines read.
    pub lines: u64,
    /// Malformed lines counted.
    pub malformed_count: u64,
    /// The first malformed lines.
    pub malformed: Vec<Malformed>,
}

impl Parsed {
    fn bad(&mut self, line: u64, reason: &str) {
        self.malformed_count += 1;
        if self.malformed.len() < MALFORMED_CAP {
            self.malformed.push(Malformed {
                line,
                reason: reason.to_string(),
            });
        }
    }
}

/// Reads a whole log of the given format; `tick` is called with the bytes read so far every
/// few thousand lines (for a progress bar).
pub fn read_log(
    r: impl BufRead,
    format: LogFormat,
    tick: &mut dyn FnMut(u64),
) -> io::Result<Parsed> {
    match format {
        LogFormat::Stderr => read_stderr(r, tick),
        LogFormat::Csvlog => read_csv(r, tick),
        LogFormat::Jsonlog => read_json(r, tick),
        LogFormat::Plain => read_plain(r, tick),
        LogFormat::Trace => Err(io::Error::other("a generated trace is not a server log")),
    }
}

fn starts_with_timestamp(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() >= 19 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[10] == b' '
}

/// Parses `YYYY-MM-DD HH:MM:SS[.fff]` at the start of `s` into ms since the epoch.
pub fn parse_ts_ms(s: &str) -> Option<f64> {
    let end = s
        .bytes()
        .enumerate()
        .skip(19)
        .find(|(_, b)| !(b.is_ascii_digit() || *b == b'.'))
        .map_or(s.len(), |(i, _)| i);
    let t = NaiveDateTime::parse_from_str(s.get(..end)?, "%Y-%m-%d %H:%M:%S%.f").ok()?;
    Some(t.and_utc().timestamp_micros() as f64 / 1000.0)
}

/// What a message (the text after `LOG:  `) says.
#[derive(Debug, PartialEq)]
enum Message<'a> {
    /// A statement, with its duration when logged on the same line.
    Statement(Option<f64>, &'a str),
    /// A bare `duration: X ms` for the previous statement.
    Duration(f64),
    /// Not about a statement (or a parse/bind step).
    Ignored,
}

fn parse_message(msg: &str) -> Message<'_> {
    let mut rest = msg;
    let mut duration = None;
    if let Some(d) = rest.strip_prefix("duration: ") {
        let Some((num, after)) = d.split_once(" ms") else {
            return Message::Ignored;
        };
        duration = num.trim().parse::<f64>().ok();
        rest = after.trim_start();
        if rest.is_empty() {
            return duration.map_or(Message::Ignored, Message::Duration);
        }
    }
    if let Some(sql) = rest.strip_prefix("statement: ") {
        return Message::Statement(duration, sql);
    }
    if let Some(ex) = rest.strip_prefix("execute ") {
        if let Some((_, sql)) = ex.split_once(": ") {
            return Message::Statement(duration, sql);
        }
    }
    Message::Ignored
}

/// Parses `$1 = '42', $2 = NULL` into values by parameter number (already quoted); a map, so
/// a lone `$65535` costs one entry.
fn parse_bind_params(detail: &str) -> BTreeMap<usize, String> {
    let mut out = BTreeMap::new();
    let b = detail.as_bytes();
    let mut i = 0;
    while let Some(k) = detail[i..].find('$') {
        i += k + 1;
        let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        // PostgreSQL allows at most 65535 bind parameters.
        let n = match detail[i..i + digits].parse::<usize>() {
            Ok(n) if (1..=65_535).contains(&n) => n,
            _ => break,
        };
        i += digits;
        let Some(rest) = detail[i..].strip_prefix(" = ") else {
            break;
        };
        i += 3;
        let len = if rest.starts_with('\'') {
            quoted_len(rest)
        } else {
            rest.find(", $").unwrap_or(rest.len())
        };
        out.insert(n, rest[..len].to_string());
        i += len;
    }
    out
}

fn quoted_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        if b[i] == b'\'' {
            if b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// Replaces `$n` outside quotes with the bound values.
fn substitute(sql: &str, values: &BTreeMap<usize, String>) -> String {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 16);
    let mut i = 0;
    let mut seg = 0;
    let mut in_quote = false;
    while i < b.len() {
        match b[i] {
            b'\'' => in_quote = !in_quote,
            b'$' if !in_quote => {
                let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
                let n = sql[i + 1..i + 1 + digits].parse::<usize>().unwrap_or(0);
                if let Some(v) = values.get(&n) {
                    if !v.is_empty() {
                        out.push_str(&sql[seg..i]);
                        out.push_str(v);
                        i += 1 + digits;
                        seg = i;
                        continue;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    out.push_str(&sql[seg..]);
    out
}

/// One physical line, its end-of-line removed, bytes that are not UTF-8 replaced by U+FFFD.
struct Line<'a> {
    text: Cow<'a, str>,
    /// Longer than [`MAX_LINE_BYTES`]: `text` holds its start only.
    cut: bool,
    /// Double quotes in the whole line, the part not kept included (csvlog framing).
    quotes: u64,
    /// 1-based line number.
    no: u64,
    /// Bytes read so far, this line included.
    bytes: u64,
}

/// Reads physical lines keeping at most [`MAX_LINE_BYTES`] of each, so one endless line
/// cannot take the memory `BufRead::read_line` would give it.
struct LineReader<R> {
    r: R,
    buf: Vec<u8>,
    count_quotes: bool,
    no: u64,
    bytes: u64,
}

impl<R: BufRead> LineReader<R> {
    fn new(r: R, count_quotes: bool) -> LineReader<R> {
        LineReader {
            r,
            buf: Vec::new(),
            count_quotes,
            no: 0,
            bytes: 0,
        }
    }

    fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.buf.clear();
        let (mut cut, mut quotes, mut any) = (false, 0u64, false);
        loop {
            let chunk = match self.r.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (n, end) = match chunk.iter().position(|&c| c == b'\n') {
                Some(k) => (k + 1, true),
                None => (chunk.len(), false),
            };
            let part = &chunk[..n];
            if self.count_quotes {
                quotes += part.iter().filter(|&&c| c == b'"').count() as u64;
            }
            let room = MAX_LINE_BYTES - self.buf.len();
            cut |= n > room;
            self.buf.extend_from_slice(&part[..n.min(room)]);
            self.r.consume(n);
            self.bytes += n as u64;
            if end {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.no += 1;
        while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
            self.buf.pop();
        }
        Ok(Some(Line {
            text: String::from_utf8_lossy(&self.buf),
            cut,
            quotes,
            no: self.no,
            bytes: self.bytes,
        }))
    }
}

fn too_long(what: &str, limit: usize) -> String {
    format!("{what} longer than {limit} bytes (the limit); skipped")
}

/// A statement whose entry has not ended yet.
struct Pending {
    event: Event,
    /// Where it starts, for the malformed report.
    line: u64,
    /// Longer than [`MAX_STATEMENT_BYTES`]: its text is dropped and it is reported at flush.
    /// It stays pending so its continuation lines and DETAIL still find it.
    oversize: bool,
}

impl Pending {
    fn drop_text(&mut self) {
        self.oversize = true;
        self.event.sql = String::new();
    }
}

/// Collects events; a statement stays pending until its entry ends (continuation lines and
/// a DETAIL with bind parameters may follow).
#[derive(Default)]
struct Builder {
    parsed: Parsed,
    pending: Option<Pending>,
}

impl Builder {
    fn flush(&mut self) {
        if let Some(p) = self.pending.take() {
            if p.oversize {
                self.parsed
                    .bad(p.line, &too_long("statement", MAX_STATEMENT_BYTES));
            } else {
                self.parsed.events.push(p.event);
            }
        }
    }

    /// Handles one log entry; `line` is for error reports, `cut` says the entry's line was
    /// longer than [`MAX_LINE_BYTES`] and `msg` holds its start only.
    fn entry(
        &mut self,
        line: u64,
        session: String,
        ts: Option<f64>,
        level: &str,
        msg: &str,
        cut: bool,
    ) {
        match level {
            "LOG" => match parse_message(msg) {
                Message::Statement(d, sql) => {
                    self.flush();
                    let ts_ms = match (ts, d) {
                        (Some(t), Some(d)) => Some(t - d),
                        (t, _) => t,
                    };
                    let oversize = cut || sql.len() > MAX_STATEMENT_BYTES;
                    self.pending = Some(Pending {
                        event: Event {
                            session,
                            ts_ms,
                            duration_ms: d,
                            sql: if oversize {
                                String::new()
                            } else {
                                sql.to_string()
                            },
                        },
                        line,
                        oversize,
                    });
                }
                Message::Duration(d) => self.attach_duration(&session, d),
                Message::Ignored => self.flush(),
            },
            "DETAIL" => self.detail(line, &session, msg, cut),
            "" => self
                .parsed
                .bad(line, "no severity marker (LOG:, ERROR:, ...)"),
            _ => self.flush(),
        }
    }

    fn attach_duration(&mut self, session: &str, d: f64) {
        self.flush();
        let mut recent = self.parsed.events.iter_mut().rev().take(LOOKBACK);
        if let Some(e) = recent.find(|e| e.session == session) {
            if e.duration_ms.is_none() {
                e.duration_ms = Some(d);
            }
        }
    }

    /// A DETAIL line; `cut` says its parameters were cut at [`MAX_LINE_BYTES`], which makes
    /// their statement too long to keep.
    fn detail(&mut self, line: u64, session: &str, msg: &str, cut: bool) {
        let Some(params) = msg.strip_prefix("parameters: ") else {
            return;
        };
        if let Some(p) = self.pending.as_mut().filter(|p| p.event.session == session) {
            if p.oversize || !p.event.sql.contains('$') {
                return;
            }
            if cut {
                p.drop_text();
                return;
            }
            let sql = substitute(&p.event.sql, &parse_bind_params(params));
            if sql.len() > MAX_STATEMENT_BYTES {
                p.drop_text();
            } else {
                p.event.sql = sql;
            }
            return;
        }
        // Lines of concurrent sessions interleave: the DETAIL belongs to the latest statement
        // of its own session, which may already be flushed.
        let events = &mut self.parsed.events;
        let mut recent = events.iter().rev().take(LOOKBACK);
        let Some(k) = recent
            .position(|e| e.session == session)
            .map(|k| events.len() - 1 - k)
        else {
            return;
        };
        if !events[k].sql.contains('$') {
            return;
        }
        let sql = (!cut).then(|| substitute(&events[k].sql, &parse_bind_params(params)));
        match sql {
            Some(sql) if sql.len() <= MAX_STATEMENT_BYTES => events[k].sql = sql,
            _ => {
                events.remove(k);
                self.parsed.bad(
                    line,
                    &too_long("statement with its parameters", MAX_STATEMENT_BYTES),
                );
            }
        }
    }

    fn continuation(&mut self, line: u64, text: &str, cut: bool) {
        match self.pending.as_mut() {
            Some(p) if p.oversize => {}
            Some(p) => {
                let text = text.strip_prefix('\t').unwrap_or(text);
                if cut || p.event.sql.len() + 1 + text.len() > MAX_STATEMENT_BYTES {
                    p.drop_text();
                } else {
                    p.event.sql.push('\n');
                    p.event.sql.push_str(text);
                }
            }
            None if text.starts_with('\t') => {}
            None => self
                .parsed
                .bad(line, "continuation line without a statement"),
        }
    }

    fn finish(mut self) -> Parsed {
        self.flush();
        self.parsed
    }
}

const LEVELS: [&str; 10] = [
    "LOG",
    "DETAIL",
    "ERROR",
    "STATEMENT",
    "HINT",
    "WARNING",
    "FATAL",
    "NOTICE",
    "CONTEXT",
    "PANIC",
];

/// Splits a stderr line into (prefix, level, message) at the first `LEVEL:  ` marker.
fn split_level(line: &str) -> Option<(&str, &'static str, &str)> {
    let mut from = 0;
    while let Some(k) = line[from..].find(":  ") {
        let at = from + k;
        let word_start = line[..at].rfind(' ').map_or(0, |i| i + 1);
        if let Some(lv) = LEVELS.into_iter().find(|l| *l == &line[word_start..at]) {
            return Some((&line[..word_start], lv, &line[at + 3..]));
        }
        from = at + 3;
    }
    None
}

/// A `%c` session id: two hex numbers joined by a dot.
fn is_session_id(s: &str) -> bool {
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_hexdigit());
    s.split_once('.').is_some_and(|(a, b)| hex(a) && hex(b))
}

/// Session key from a prefix: a `%c` session id (hex.hex), else a `[pid]`, else "0".
fn session_of(prefix: &str) -> String {
    let mut pid = None;
    for tok in prefix.split_whitespace() {
        let t = tok.trim_matches(|c| c == '[' || c == ']' || c == ':');
        if is_session_id(t) && t.find('.').is_some_and(|k| k >= 6) && !tok.contains(':') {
            return t.to_string();
        }
        if tok.starts_with('[') && pid.is_none() {
            let inner = tok
                .trim_start_matches('[')
                .split([']', '-'])
                .next()
                .unwrap_or("");
            if !inner.is_empty() && inner.bytes().all(|c| c.is_ascii_digit()) {
                pid = Some(inner.to_string());
            }
        }
    }
    pid.unwrap_or_else(|| "0".to_string())
}

fn read_stderr(r: impl BufRead, tick: &mut dyn FnMut(u64)) -> io::Result<Parsed> {
    let mut b = Builder::default();
    let mut lines = LineReader::new(r, false);
    while let Some(l) = lines.next_line()? {
        b.parsed.lines = l.no;
        if l.no % 65536 == 0 {
            tick(l.bytes);
        }
        let line = &*l.text;
        if line.trim().is_empty() {
            continue;
        }
        if starts_with_timestamp(line) {
            match split_level(line) {
                Some((prefix, level, msg)) => b.entry(
                    l.no,
                    session_of(prefix),
                    parse_ts_ms(prefix),
                    level,
                    msg,
                    l.cut,
                ),
                None => {
                    b.flush();
                    b.parsed.bad(l.no, "no severity marker (LOG:, ERROR:, ...)");
                }
            }
        } else if line.starts_with('\t') {
            b.continuation(l.no, line, l.cut);
        } else {
            b.flush();
            b.parsed.bad(l.no, "not a log line (no timestamp prefix)");
        }
    }
    tick(lines.bytes);
    Ok(b.finish())
}

/// The fields of one csvlog record, unescaped into one buffer.
#[derive(Default)]
struct CsvFields {
    buf: String,
    ends: Vec<usize>,
}

impl CsvFields {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, k: usize) -> &str {
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        &self.buf[start..self.ends[k]]
    }

    /// Splits a whole record (RFC 4180: `""` escapes a quote inside a quoted field), stopping
    /// after `limit` fields. Strict where lenient readers guess: a quote inside an unquoted
    /// field or text after a closing quote is an error, since that is what broken quoting
    /// looks like once a record has been framed.
    fn split(&mut self, rec: &str, limit: usize) -> Result<(), &'static str> {
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
fn looks_like_csvlog_start(line: &str) -> bool {
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
fn read_csv(r: impl BufRead, tick: &mut dyn FnMut(u64)) -> io::Result<Parsed> {
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

fn severity(level: &str) -> &'static str {
    LEVELS.into_iter().find(|l| *l == level).unwrap_or("OTHER")
}

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

fn read_json(r: impl BufRead, tick: &mut dyn FnMut(u64)) -> io::Result<Parsed> {
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

fn read_plain(r: impl BufRead, tick: &mut dyn FnMut(u64)) -> io::Result<Parsed> {
    let mut p = Parsed::default();
    let mut lines = LineReader::new(r, false);
    while let Some(l) = lines.next_line()? {
        p.lines = l.no;
        if l.no % 65536 == 0 {
            tick(l.bytes);
        }
        let t = l.text.trim();
        if t.is_empty() || t.starts_with("--") {
            continue;
        }
        if l.cut || t.len() > MAX_STATEMENT_BYTES {
            p.bad(l.no, &too_long("statement", MAX_STATEMENT_BYTES));
            continue;
        }
        p.events.push(Event {
            session: "0".to_string(),
            ts_ms: None,
            duration_ms: None,
            sql: t.to_string(),
        });
    }
    tick(lines.bytes);
    Ok(p)
}

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
    pub session: String,
    /// Arrival time in ms from the trace's start.
    pub ts_ms: Option<f64>,
    /// The statement.
    pub sql: String,
    /// Written after the statements asked for, while the sessions in progress ran to their
    /// end (the arrival rate falls off there).
    pub drain: bool,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, f: LogFormat) -> Parsed {
        read_log(text.as_bytes(), f, &mut |_| {}).unwrap()
    }

    #[test]
    fn stderr_statements_durations_and_continuations() {
        let log = "2024-05-01 10:00:00.000 UTC [101] app@db LOG:  statement: SELECT 1\n\
                   2024-05-01 10:00:00.500 UTC [102] app@db LOG:  duration: 0.250 ms  statement: SELECT *\n\
                   \tFROM t WHERE a = 'x'\n\
                   garbage here\n\
                   2024-05-01 10:00:01.000 UTC [101] app@db LOG:  duration: 1.5 ms\n\
                   2024-05-01 10:00:02.000 UTC [101] app@db LOG:  duration: 0.100 ms  execute s0: SELECT a FROM t WHERE id = $1 AND s = $2\n\
                   2024-05-01 10:00:02.000 UTC [101] app@db DETAIL:  parameters: $1 = '7', $2 = 'it''s, $1'\n\
                   2024-05-01 10:00:03.000 UTC [101] app@db LOG:  checkpoint starting: time\n";
        let p = parse(log, LogFormat::Stderr);
        assert_eq!(p.events.len(), 3, "{:?}", p.events);
        assert_eq!(p.events[0].session, "101");
        assert_eq!(p.events[0].duration_ms, Some(1.5));
        assert_eq!(p.events[1].sql, "SELECT *\nFROM t WHERE a = 'x'");
        assert_eq!(p.events[1].ts_ms.unwrap() % 1000.0, 499.75);
        assert_eq!(
            p.events[2].sql,
            "SELECT a FROM t WHERE id = '7' AND s = 'it''s, $1'"
        );
        assert_eq!(p.malformed_count, 1);
        assert_eq!(p.malformed[0].line, 4);
    }

    #[test]
    fn stderr_session_ids_win_over_pids() {
        let log = "2024-05-01 10:00:00 UTC [7] 6630a1b2.1f4 u@d LOG:  statement: BEGIN\n";
        let p = parse(log, LogFormat::Stderr);
        assert_eq!(p.events[0].session, "6630a1b2.1f4");
    }

    #[test]
    fn csvlog_and_jsonlog() {
        let csv = "2024-05-01 10:00:00.123 UTC,\"u\",\"d\",42,\"[local]\",6630a1b2.2a,1,\"SELECT\",2024-05-01 09:00:00 UTC,3/4,0,LOG,00000,\"statement: SELECT 'a,\"\"b'\nFROM t\",,,,,,,,,\"\"\nnot,enough\n";
        let p = parse(csv, LogFormat::Csvlog);
        assert_eq!(p.events.len(), 1);
        assert_eq!(p.events[0].sql, "SELECT 'a,\"b'\nFROM t");
        assert_eq!(p.events[0].session, "6630a1b2.2a");
        assert_eq!(p.malformed_count, 1);
        let json = "{\"timestamp\":\"2024-05-01 10:00:00.123 UTC\",\"pid\":42,\"session_id\":\"66.2a\",\"error_severity\":\"LOG\",\"message\":\"duration: 2.0 ms  execute <unnamed>: SELECT $1\",\"detail\":\"parameters: $1 = '5'\"}\n{oops\n";
        let p = parse(json, LogFormat::Jsonlog);
        assert_eq!(p.events[0].sql, "SELECT '5'");
        assert_eq!(p.events[0].duration_ms, Some(2.0));
        assert_eq!(p.malformed_count, 1);
    }

    #[test]
    fn bind_parameters_are_bounded() {
        let p = parse_bind_params("$2 = 'a', $1 = NULL");
        assert_eq!(
            p.into_iter().collect::<Vec<_>>(),
            [(1, "NULL".into()), (2, "'a'".into())]
        );
        assert!(parse_bind_params("$99999999999 = '1'").is_empty());
        assert!(parse_bind_params("$0 = '1'").is_empty());
        assert_eq!(parse_bind_params("$65535 = 1").len(), 1);
        assert_eq!(
            substitute("SELECT $1, '$1', $3", &BTreeMap::from([(1, "7".into())])),
            "SELECT 7, '$1', $3"
        );
    }

    #[test]
    fn plain_and_detection() {
        let p = parse("SELECT 1;\n\n-- c\nUPDATE t SET a = 2\n", LogFormat::Plain);
        assert_eq!(p.events.len(), 2);
        let path = std::path::Path::new("x.log");
        assert_eq!(
            LogFormat::detect(path, "2024-05-01 10:00:00 UTC [1]"),
            LogFormat::Stderr
        );
        assert_eq!(
            LogFormat::detect(path, "{\"timestamp\":1}"),
            LogFormat::Jsonlog
        );
        assert_eq!(LogFormat::detect(path, "SELECT 1"), LogFormat::Plain);
        assert!(LogFormat::parse("xml").is_err());
    }

    /// A csvlog record of PostgreSQL 14+ (26 fields) at second `sec` of session 6630a1b2.2a.
    fn csv_rec(sec: u32, msg: &str) -> String {
        format!(
            "2024-05-01 10:00:{sec:02}.000 UTC,\"u\",\"d\",42,\"[local]\",6630a1b2.2a,{sec},\"idle\",\
             2024-05-01 09:00:00 UTC,3/4,0,LOG,00000,\"{}\",,,,,,,,,\"psql\",\"client backend\",,0\n",
            msg.replace('"', "\"\"")
        )
    }

    fn lines_of(p: &Parsed) -> Vec<u64> {
        p.malformed.iter().map(|m| m.line).collect()
    }

    #[test]
    fn csvlog_broken_quoting_is_counted() {
        let ok1 = csv_rec(1, "statement: SELECT 1");
        // The message's closing quote is missing: the field runs into the next record.
        let open = csv_rec(2, "statement: SELECT 'x'").replacen("'\",", "',", 1);
        let ok3 = csv_rec(3, "statement: SELECT 3");
        // A stray quote inside an unquoted field opens a field that runs into the next record.
        let stray = csv_rec(4, "statement: SELECT 4").replacen(",42,", ",4\"2,", 1);
        // Quotes inside a quoted field that are not doubled.
        let undoubled =
            csv_rec(5, "statement: SELECT 5").replacen("SELECT 5", "SELECT \"x\" FROM t", 1);
        // Five fields short.
        let short = csv_rec(5, "statement: SELECT 5").replacen(",,,,,,,,,", ",,,,", 1);
        // A multi-line statement whose second line starts like a record: still one record.
        let multi = csv_rec(
            6,
            "statement: INSERT INTO l VALUES ('x\n2024-05-01 10:00:07,y')",
        );
        let tail = "2024-05-01 10:00:08.000 UTC,\"u\",\"d\",42,\"[local]\",6630a1b2.2a,8,\"idle\",\
                    2024-05-01 09:00:00 UTC,3/4,0,LOG,00000,\"statement: SELECT 'never closed\n";
        let log = [
            ok1,
            open,
            ok3,
            stray,
            undoubled,
            short,
            multi,
            tail.to_string(),
        ]
        .concat();
        let p = parse(&log, LogFormat::Csvlog);
        let sqls: Vec<&str> = p.events.iter().map(|e| e.sql.as_str()).collect();
        assert_eq!(
            sqls,
            [
                "SELECT 1",
                "SELECT 3",
                "INSERT INTO l VALUES ('x\n2024-05-01 10:00:07,y')"
            ]
        );
        assert_eq!(p.malformed_count, 5, "{:?}", p.malformed);
        assert_eq!(lines_of(&p), [2, 4, 5, 6, 9]);
        assert!(p.malformed[0]
            .reason
            .contains("still open where the record of line 3"));
        assert!(p.malformed[1]
            .reason
            .contains("still open where the record of line 5"));
        assert!(p.malformed[2]
            .reason
            .contains("broken quoting: text after the closing quote"));
        assert!(p.malformed[3].reason.contains("21 fields"));
        assert!(p.malformed[4].reason.contains("end of the file"));
    }

    #[test]
    fn csvlog_fields_follow_rfc_4180() {
        let mut f = CsvFields::default();
        f.split("a,\"b,\"\"c\"\"\",,\"\"", usize::MAX).unwrap();
        assert_eq!(
            (0..f.len()).map(|k| f.get(k)).collect::<Vec<_>>(),
            ["a", "b,\"c\"", "", ""]
        );
        assert!(f.split("\"a\"b", usize::MAX).is_err());
        assert!(f.split("a\"b", usize::MAX).is_err());
        assert!(f.split("\"a", usize::MAX).is_err());
        assert!(looks_like_csvlog_start(&csv_rec(9, "x")));
        assert!(!looks_like_csvlog_start("2024-05-01 10:00:07,y')"));
    }

    #[test]
    fn oversize_statements_are_counted_not_kept() {
        let big = "x".repeat(MAX_STATEMENT_BYTES);
        let pre = "2024-05-01 10:00:00.000 UTC [7] u@d LOG:  statement: ";
        let detail = "2024-05-01 10:00:00.000 UTC [7] u@d DETAIL:  parameters: $1 = '";
        let log = [
            format!("{pre}SELECT 1\n"),
            // One byte over the statement limit.
            format!("{pre}SELECT '{}'\n", &big[..MAX_STATEMENT_BYTES - 8]),
            // Continuation lines that add up to more than the limit.
            format!(
                "{pre}SELECT\n\t{}\n\t{}\n",
                &big[..600_000],
                &big[..600_000]
            ),
            // A line longer than the line limit.
            format!("{pre}SELECT '{big}{big}'\n"),
            // Bind parameters that make the statement too long.
            format!("{pre}SELECT $1\n{detail}{big}'\n"),
            format!("{pre}SELECT 2\n"),
        ]
        .concat();
        let p = parse(&log, LogFormat::Stderr);
        let sqls: Vec<String> = p
            .events
            .iter()
            .map(|e| e.sql.chars().take(20).collect())
            .collect();
        assert_eq!(sqls, ["SELECT 1", "SELECT 2"]);
        assert_eq!(lines_of(&p), [2, 3, 6, 7], "{:?}", p.malformed);
        assert!(p.malformed[0].reason.contains("longer than 1048576 bytes"));
        let plain = format!("SELECT 1\nSELECT '{big}'\n");
        let p = parse(&plain, LogFormat::Plain);
        assert_eq!((p.events.len(), lines_of(&p)), (1, vec![2]));
        let json = format!(
            "{{\"timestamp\":\"2024-05-01 10:00:00 UTC\",\"error_severity\":\"LOG\",\"message\":\"statement: SELECT '{big}'\"}}\n"
        );
        let p = parse(&json, LogFormat::Jsonlog);
        assert_eq!((p.events.len(), lines_of(&p)), (0, vec![1]));
    }

    #[test]
    fn bytes_that_are_not_utf8_are_replaced() {
        let mut log = b"2024-05-01 10:00:00 UTC [7] LOG:  statement: SELECT '".to_vec();
        log.extend_from_slice(&[0xff, 0xfe]);
        log.extend_from_slice(b"'\n");
        let p = read_log(&log[..], LogFormat::Stderr, &mut |_| {}).unwrap();
        assert_eq!(p.events[0].sql, "SELECT '\u{fffd}\u{fffd}'");
    }

    #[test]
    fn trace_records_are_read_and_bad_ones_refused() {
        let text = "{\"session\":3,\"ts_ms\":1.5,\"template_id\":0,\"sql\":\"SELECT 1\"}\n\n\
                    {\"session\":\"a\",\"ts_ms\":2.0,\"sql\":\"SELECT 2\",\"drain\":true}\n";
        let mut got = Vec::new();
        read_trace(text.as_bytes(), |e| got.push(e)).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].session.as_str(), got[0].ts_ms), ("3", Some(1.5)));
        assert!(!got[0].drain && got[1].drain);
        let e = read_trace("{\"session\":[1]}\n".as_bytes(), |_| {}).unwrap_err();
        assert!(
            e.to_string().starts_with("line 1: not a trace record"),
            "{e}"
        );
    }
}
