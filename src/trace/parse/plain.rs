//! Plain files: SQL statements one per line, as a statement log holds them, or spread over
//! lines and ended by `;`, as a psql script holds them.
//!
//! How a file ends its statements is read from its first lines: when one of them ends with
//! a `;`, statements run up to each `;` (outside quotes, comments, bodies and parentheses),
//! over as many lines as they take; otherwise a statement ends with its line, unless the
//! next line is indented (`  SET a = 1`), opens a clause (`FROM t`, `UNION ALL`), or the
//! statement is inside a quote or parenthesis. A line that starts no statement where none
//! goes on (a log line) is malformed.

use std::io::{self, BufRead};

use super::{too_long, Event, LineReader, Parsed, MAX_STATEMENT_BYTES};
use crate::core::script::{is_sql_command, Ending, Scanner};

/// Why a line of a plain file is skipped.
const NOT_SQL: &str =
    "not an SQL statement (a plain file holds SQL statements, one per line or each ended by `;`)";

/// Lines read before deciding how a file ends its statements, and at most how many bytes
/// of them are held meanwhile.
const SNIFF_LINES: usize = 1000;
const SNIFF_BYTES: usize = MAX_STATEMENT_BYTES;

pub(super) fn read_plain(r: impl BufRead, tick: &mut dyn FnMut(u64)) -> io::Result<Parsed> {
    let mut lines = LineReader::new(r, false);
    let mut plain = Plain::default();
    // lines read before the file showed how it ends its statements
    let mut held: Vec<(u64, String, bool)> = Vec::new();
    let mut held_bytes = 0;
    while let Some(l) = lines.next_line()? {
        plain.parsed.lines = l.no;
        if l.no % 65536 == 0 {
            tick(l.bytes);
        }
        if plain.semicolons.is_some() {
            plain.line(l.no, &l.text, l.cut);
            continue;
        }
        let mut ended = 0;
        let ends = Scanner::default().feed(&l.text, |_| ended += 1) == Ending::Between && ended > 0;
        held_bytes += l.text.len();
        held.push((l.no, l.text.into_owned(), l.cut));
        if ends || held.len() >= SNIFF_LINES || held_bytes > SNIFF_BYTES {
            plain.semicolons = Some(ends);
            for (no, text, cut) in held.drain(..) {
                plain.line(no, &text, cut);
            }
        }
    }
    plain.semicolons.get_or_insert(false);
    for (no, text, cut) in held.drain(..) {
        plain.line(no, &text, cut);
    }
    plain.flush();
    tick(lines.bytes);
    Ok(plain.parsed)
}

/// Words that open a clause, not a statement: an unindented line of a file without `;`
/// that starts with one of them continues the statement before (`FROM t`, `UNION ALL`).
const CLAUSE_WORDS: &[&str] = &[
    "AND",
    "AS",
    "ASC",
    "BETWEEN",
    "CASE",
    "CROSS",
    "DESC",
    "ELSE",
    "END",
    "EXCEPT",
    "FETCH",
    "FILTER",
    "FOR",
    "FROM",
    "FULL",
    "GROUP",
    "HAVING",
    "ILIKE",
    "IN",
    "INNER",
    "INTERSECT",
    "INTO",
    "IS",
    "JOIN",
    "LATERAL",
    "LEFT",
    "LIKE",
    "LIMIT",
    "NATURAL",
    "NOT",
    "NULLS",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "OUTER",
    "OVER",
    "PARTITION",
    "RETURNING",
    "RIGHT",
    "SET",
    "THEN",
    "UNION",
    "USING",
    "VALUES",
    "WHEN",
    "WHERE",
    "WINDOW",
];

/// Whether line `t` (trimmed) reads as the middle of a statement: a clause word, or a
/// closing parenthesis, comma, operator, number or string first.
fn continues_a_statement(t: &str) -> bool {
    let Some(first) = t.chars().next() else {
        return false;
    };
    if matches!(
        first,
        ')' | ',' | '=' | '<' | '>' | '+' | '-' | '*' | '/' | '|' | ':' | '.' | '\''
    ) || first.is_ascii_digit()
    {
        return true;
    }
    let word = t
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("");
    CLAUSE_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word))
}

#[derive(Default)]
struct Plain {
    parsed: Parsed,
    /// Statements end at `;` (else with their line, unless the next one continues them);
    /// `None` until the first lines tell.
    semicolons: Option<bool>,
    /// The statement read so far, its lines joined by `\n`.
    pending: String,
    /// Where `pending` starts (1-based line).
    start: u64,
    scanner: Scanner,
    /// How `pending` ends.
    ending: Ending,
    /// A statement of `pending` was kept: the next one starts after a `;`, where no line
    /// start was checked.
    kept_one: bool,
}

impl Plain {
    fn line(&mut self, no: u64, text: &str, cut: bool) {
        let t = text.trim();
        let trivia = t.is_empty() || t.starts_with("--");
        let goes_on = self.ending == Ending::Open
            || (!self.pending.is_empty()
                && (self.semicolons == Some(true)
                    || text.starts_with([' ', '\t'])
                    || continues_a_statement(t)));
        if !goes_on {
            if trivia {
                return;
            }
            self.flush();
            if cut || t.len() > MAX_STATEMENT_BYTES {
                self.parsed
                    .bad(no, &too_long("statement", MAX_STATEMENT_BYTES));
                return;
            }
            if !is_sql_command(t) {
                self.parsed.bad(no, NOT_SQL);
                return;
            }
            self.start = no;
        }
        if cut || self.pending.len() + 1 + text.len() > MAX_STATEMENT_BYTES {
            self.parsed
                .bad(self.start, &too_long("statement", MAX_STATEMENT_BYTES));
            self.reset();
            return;
        }
        if !self.pending.is_empty() {
            self.pending.push('\n');
        }
        // as it is: a line may be inside a string, whose spaces are its value's
        self.pending.push_str(text);
        let mut done = Vec::new();
        self.ending = self
            .scanner
            .feed(&self.pending, |s| done.push((s.line, s.text.to_string())));
        for (line, sql) in done {
            self.statement(line, sql);
        }
        if self.ending == Ending::Between {
            self.reset();
        }
    }

    /// Ends the statement read so far (at a new statement or the end of the file).
    fn flush(&mut self) {
        if let Some(rest) = self.scanner.rest(&self.pending) {
            let (line, sql) = (rest.line, rest.text.to_string());
            self.statement(line, sql);
        }
        self.reset();
    }

    /// A statement at `line` of `pending`. The first starts where `pending` does, checked
    /// as an SQL command already; one after a `;` is checked here.
    fn statement(&mut self, line: usize, sql: String) {
        let no = self.start + line as u64 - 1;
        let checked = !std::mem::replace(&mut self.kept_one, true);
        if !checked && !is_sql_command(&sql) {
            self.parsed.bad(no, NOT_SQL);
            return;
        }
        self.parsed.events.push(Event {
            session: "0".to_string(),
            ts_ms: None,
            duration_ms: None,
            sql,
        });
    }

    fn reset(&mut self) {
        self.pending.clear();
        self.scanner = Scanner::default();
        self.ending = Ending::Between;
        self.kept_one = false;
    }
}
