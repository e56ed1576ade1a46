//! PostgreSQL log readers: stderr (with a `log_line_prefix`), csvlog, jsonlog and plain SQL,
//! turned into statement events, and the reader of generated traces. Malformed lines are
//! counted, never fatal. What is kept is bounded: a line or record longer than
//! [`MAX_LINE_BYTES`] is read past, and a statement longer than [`MAX_STATEMENT_BYTES`] is
//! skipped and counted as malformed.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, BufRead};

mod csvlog;
mod jsonlog;
mod plain;
mod traces;

use csvlog::read_csv;
use jsonlog::read_json;
use plain::read_plain;
pub use traces::{read_trace, TraceEntry, TraceError};

use chrono::NaiveDateTime;
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
    pub(crate) fn parse(s: &str) -> Result<LogFormat, String> {
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

    /// Guesses the format from the file name (a `.gz` ending aside), then from the first
    /// non-empty line (all there is to go by on standard input).
    pub(crate) fn detect(path: &std::path::Path, first_line: &str) -> LogFormat {
        let name = path.to_string_lossy();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
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
        } else if starts_with_timestamp(line) && csv_record(line) {
            LogFormat::Csvlog
        } else if starts_with_timestamp(line) {
            LogFormat::Stderr
        } else {
            LogFormat::Plain
        }
    }
}

/// Whether a line that starts with a timestamp is a csvlog record: its first field, the
/// timestamp alone, ends at a comma (a stderr line goes on with `[pid]` or the severity).
fn csv_record(line: &str) -> bool {
    line.split_once(',').is_some_and(|(first, _)| {
        first.len() <= 40 && !first.contains('[') && !first.contains(": ")
    })
}

/// One logged statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Session key: the session id (`%c`) when logged, else the pid, else "0".
    pub(crate) session: String,
    /// Arrival time in ms since the epoch (log time minus duration when both are known).
    pub(crate) ts_ms: Option<f64>,
    /// Logged duration in ms.
    pub(crate) duration_ms: Option<f64>,
    /// The statement text, with logged bind parameters substituted.
    pub(crate) sql: String,
}

/// A line that could not be understood.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Malformed {
    /// 1-based line number.
    pub(crate) line: u64,
    /// Why.
    pub(crate) reason: String,
}

/// How far back a DETAIL or bare duration line looks for its session's statement.
const LOOKBACK: usize = 256;

/// At most this many malformed lines are listed; all are counted.
pub(crate) const MALFORMED_CAP: usize = 20;

/// Longest statement kept, in bytes, after its continuation lines and bind parameters are
/// joined in: a longer one is counted as malformed and skipped, so memory stays proportional
/// to what is kept (PostgreSQL's own `track_activity_query_size` stops at 1 MiB too).
pub const MAX_STATEMENT_BYTES: usize = 1 << 20;

/// Longest physical line, csvlog record or trace record kept, in bytes: room for a statement
/// of [`MAX_STATEMENT_BYTES`] with its prefix and other fields. The rest of a longer one is
/// read past without being kept.
pub(crate) const MAX_LINE_BYTES: usize = 2 * MAX_STATEMENT_BYTES;

/// The field counts of a csvlog record: 23 up to PostgreSQL 12, 24 in 13 (`backend_type`),
/// 26 from 14 on (`leader_pid`, `query_id`).
pub(crate) const CSVLOG_FIELDS: [usize; 3] = [23, 24, 26];

/// The result of reading a log.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Statements in log order.
    pub events: Vec<Event>,
    /// Lines read.
    pub(crate) lines: u64,
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
pub(crate) fn parse_ts_ms(s: &str) -> Option<f64> {
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

#[cfg(test)]
mod tests;
