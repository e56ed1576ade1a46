//! PostgreSQL log readers: stderr (with a `log_line_prefix`), csvlog, jsonlog and plain SQL,
//! turned into statement events. Malformed lines are counted, never fatal.

use std::io::BufRead;

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
) -> std::io::Result<Parsed> {
    match format {
        LogFormat::Stderr => read_stderr(r, tick),
        LogFormat::Csvlog => read_csv(r, tick),
        LogFormat::Jsonlog => read_json(r, tick),
        LogFormat::Plain => read_plain(r, tick),
        LogFormat::Trace => Err(std::io::Error::other(
            "a generated trace is not a server log",
        )),
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

/// Parses `$1 = '42', $2 = NULL` into values indexed by parameter number (already quoted).
fn parse_bind_params(detail: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
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
        if out.len() < n {
            out.resize(n, String::new());
        }
        out[n - 1] = rest[..len].to_string();
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
fn substitute(sql: &str, values: &[String]) -> String {
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
                if let Some(v) = n.checked_sub(1).and_then(|k| values.get(k)) {
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

/// Collects events; a statement stays pending until its entry ends (continuation lines and
/// a DETAIL with bind parameters may follow).
#[derive(Default)]
struct Builder {
    parsed: Parsed,
    pending: Option<Event>,
}

impl Builder {
    fn flush(&mut self) {
        if let Some(e) = self.pending.take() {
            self.parsed.events.push(e);
        }
    }

    /// Handles one log entry; `line` is for error reports.
    fn entry(&mut self, line: u64, session: String, ts: Option<f64>, level: &str, msg: &str) {
        match level {
            "LOG" => match parse_message(msg) {
                Message::Statement(d, sql) => {
                    self.flush();
                    let ts_ms = match (ts, d) {
                        (Some(t), Some(d)) => Some(t - d),
                        (t, _) => t,
                    };
                    self.pending = Some(Event {
                        session,
                        ts_ms,
                        duration_ms: d,
                        sql: sql.to_string(),
                    });
                }
                Message::Duration(d) => self.attach_duration(&session, d),
                Message::Ignored => self.flush(),
            },
            "DETAIL" => self.detail(&session, msg),
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

    fn detail(&mut self, session: &str, msg: &str) {
        let Some(params) = msg.strip_prefix("parameters: ") else {
            return;
        };
        // Lines of concurrent sessions interleave: the DETAIL belongs to the latest statement
        // of its own session, which may already be flushed.
        let target = match self.pending.as_mut().filter(|e| e.session == session) {
            Some(e) => Some(e),
            None => self
                .parsed
                .events
                .iter_mut()
                .rev()
                .take(LOOKBACK)
                .find(|e| e.session == session),
        };
        if let Some(e) = target.filter(|e| e.sql.contains('$')) {
            e.sql = substitute(&e.sql, &parse_bind_params(params));
        }
    }

    fn continuation(&mut self, line: u64, text: &str) {
        match self.pending.as_mut() {
            Some(e) => {
                e.sql.push('\n');
                e.sql.push_str(text.strip_prefix('\t').unwrap_or(text));
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

/// Session key from a prefix: a `%c` session id (hex.hex), else a `[pid]`, else "0".
fn session_of(prefix: &str) -> String {
    let mut pid = None;
    for tok in prefix.split_whitespace() {
        let t = tok.trim_matches(|c| c == '[' || c == ']' || c == ':');
        if let Some((a, b)) = t.split_once('.') {
            let hex = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_hexdigit());
            if hex(a) && hex(b) && a.len() >= 6 && !tok.contains(':') {
                return t.to_string();
            }
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

fn read_stderr(r: impl BufRead, tick: &mut dyn FnMut(u64)) -> std::io::Result<Parsed> {
    let mut b = Builder::default();
    let mut r = r;
    let (mut bytes, mut no) = (0u64, 0u64);
    let mut buf = String::new();
    loop {
        buf.clear();
        let n = r.read_line(&mut buf)?;
        if n == 0 {
            break;
        }
        let line = buf.trim_end_matches(['\n', '\r']);
        no += 1;
        bytes += n as u64;
        b.parsed.lines = no;
        if no % 65536 == 0 {
            tick(bytes);
        }
        if line.trim().is_empty() {
            continue;
        }
        if starts_with_timestamp(line) {
            match split_level(line) {
                Some((prefix, level, msg)) => {
                    b.entry(no, session_of(prefix), parse_ts_ms(prefix), level, msg)
                }
                None => {
                    b.flush();
                    b.parsed.bad(no, "no severity marker (LOG:, ERROR:, ...)");
                }
            }
        } else if line.starts_with('\t') {
            b.continuation(no, line);
        } else {
            b.flush();
            b.parsed.bad(no, "not a log line (no timestamp prefix)");
        }
    }
    tick(bytes);
    Ok(b.finish())
}

fn read_csv(r: impl BufRead, tick: &mut dyn FnMut(u64)) -> std::io::Result<Parsed> {
    let mut b = Builder::default();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(r);
    let mut rec = csv::StringRecord::new();
    loop {
        let line = rdr.position().line();
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => csv_record(&mut b, line, &rec),
            Err(e) => {
                b.flush();
                b.parsed.bad(line, &format!("bad CSV: {e}"));
                if e.is_io_error() {
                    break;
                }
            }
        }
        b.parsed.lines = rdr.position().line();
        if b.parsed.lines % 65536 == 0 {
            tick(rdr.position().byte());
        }
    }
    tick(rdr.position().byte());
    Ok(b.finish())
}

/// csvlog columns: 0 log_time, 3 process_id, 5 session_id, 11 error_severity, 13 message,
/// 14 detail.
fn csv_record(b: &mut Builder, line: u64, rec: &csv::StringRecord) {
    if rec.len() < 15 {
        b.flush();
        b.parsed
            .bad(line, "csvlog record with fewer than 15 fields");
        return;
    }
    let ts = parse_ts_ms(&rec[0]);
    let session = if rec[5].is_empty() { &rec[3] } else { &rec[5] };
    let (level, msg, detail) = (&rec[11], &rec[13], &rec[14]);
    if ts.is_none() {
        b.flush();
        b.parsed.bad(line, "csvlog record without a valid log_time");
        return;
    }
    b.entry(line, session.to_string(), ts, severity(level), msg);
    if !detail.is_empty() {
        b.detail(session, detail);
    }
}

fn severity(level: &str) -> &'static str {
    LEVELS.into_iter().find(|l| *l == level).unwrap_or("OTHER")
}

fn read_json(r: impl BufRead, tick: &mut dyn FnMut(u64)) -> std::io::Result<Parsed> {
    let mut b = Builder::default();
    let mut bytes = 0u64;
    for (n, line) in r.lines().enumerate() {
        let line = line?;
        let no = n as u64 + 1;
        bytes += line.len() as u64 + 1;
        b.parsed.lines = no;
        if no % 65536 == 0 {
            tick(bytes);
        }
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(v) => json_record(&mut b, no, &v),
            Err(e) => {
                b.flush();
                b.parsed.bad(no, &format!("bad JSON: {e}"));
            }
        }
    }
    tick(bytes);
    Ok(b.finish())
}

fn json_record(b: &mut Builder, no: u64, v: &serde_json::Value) {
    let s = |k: &str| v.get(k).and_then(|x| x.as_str());
    let (Some(ts), Some(level), Some(msg)) = (s("timestamp"), s("error_severity"), s("message"))
    else {
        b.flush();
        b.parsed.bad(
            no,
            "jsonlog record without timestamp, error_severity or message",
        );
        return;
    };
    let session = match (s("session_id"), v.get("pid").and_then(|p| p.as_u64())) {
        (Some(id), _) => id.to_string(),
        (None, Some(pid)) => pid.to_string(),
        _ => "0".to_string(),
    };
    b.entry(no, session.clone(), parse_ts_ms(ts), severity(level), msg);
    if let Some(d) = s("detail") {
        b.detail(&session, d);
    }
}

fn read_plain(r: impl BufRead, tick: &mut dyn FnMut(u64)) -> std::io::Result<Parsed> {
    let mut p = Parsed::default();
    let mut bytes = 0u64;
    for (n, line) in r.lines().enumerate() {
        let line = line?;
        p.lines = n as u64 + 1;
        bytes += line.len() as u64 + 1;
        if p.lines % 65536 == 0 {
            tick(bytes);
        }
        let t = line.trim();
        if t.is_empty() || t.starts_with("--") {
            continue;
        }
        p.events.push(Event {
            session: "0".to_string(),
            ts_ms: None,
            duration_ms: None,
            sql: t.to_string(),
        });
    }
    tick(bytes);
    Ok(p)
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
        assert_eq!(parse_bind_params("$2 = 'a', $1 = NULL"), ["NULL", "'a'"]);
        assert!(parse_bind_params("$99999999999 = '1'").is_empty());
        assert!(parse_bind_params("$0 = '1'").is_empty());
        assert_eq!(
            substitute("SELECT $1, '$1', $3", &["7".into()]),
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
}
