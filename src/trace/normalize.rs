//! Statement normalization: literals become numbered placeholders (`$1`, `$2`, ...), IN-lists
//! of literals collapse to one placeholder, whitespace collapses, comments go, and keywords are
//! upper-cased. The literal values are returned alongside, as SQL text.

use serde::{Deserialize, Serialize};

/// The SQL class of a statement, from its first keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "UPPERCASE")]
pub(crate) enum QueryType {
    /// SELECT (and WITH ... SELECT, VALUES, TABLE).
    Select,
    Insert,
    Update,
    Delete,
    /// Anything else (BEGIN, COMMIT, SET, DDL...).
    Other,
}

impl QueryType {
    /// All classes, in report order.
    pub(crate) const ALL: [QueryType; 5] = [
        QueryType::Select,
        QueryType::Insert,
        QueryType::Update,
        QueryType::Delete,
        QueryType::Other,
    ];

    /// The upper-case name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            QueryType::Select => "SELECT",
            QueryType::Insert => "INSERT",
            QueryType::Update => "UPDATE",
            QueryType::Delete => "DELETE",
            QueryType::Other => "OTHER",
        }
    }

    /// Classifies a normalized template by its first keyword (a WITH prefix looks further).
    pub(crate) fn of(template: &str) -> QueryType {
        let first = template
            .trim_start_matches('(')
            .split([' ', '('])
            .next()
            .unwrap_or("");
        match first {
            "SELECT" | "VALUES" | "TABLE" => QueryType::Select,
            "INSERT" => QueryType::Insert,
            "UPDATE" => QueryType::Update,
            "DELETE" => QueryType::Delete,
            "WITH" => Self::of_with(template),
            _ => QueryType::Other,
        }
    }

    /// For WITH queries, the main statement is the last top-level verb.
    fn of_with(template: &str) -> QueryType {
        let mut last = QueryType::Select;
        for w in template.split(' ') {
            match w {
                "INSERT" => last = QueryType::Insert,
                "UPDATE" => last = QueryType::Update,
                "DELETE" => last = QueryType::Delete,
                _ => {}
            }
        }
        last
    }
}

/// What kind of literal a parameter was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamKind {
    /// A bare number.
    Num,
    /// A quoted string ('..', E'..', $$..$$); the text is the unquoted value.
    Str,
    /// A collapsed IN-list; the text is the list as written between the parentheses.
    List,
    /// A `$n` placeholder without a value.
    Unbound,
}

/// One extracted literal.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// The kind of literal.
    pub kind: ParamKind,
    /// The value: unquoted for strings, as written for numbers and lists.
    pub(crate) text: String,
}

/// A normalized statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// The template, placeholders numbered from `$1`.
    pub(crate) template: String,
    /// The literals in placeholder order.
    pub params: Vec<Param>,
}

const KEYWORDS: &[&str] = &[
    "ALL",
    "ALTER",
    "AND",
    "ANY",
    "AS",
    "ASC",
    "BEGIN",
    "BETWEEN",
    "BY",
    "CASE",
    "CAST",
    "COMMIT",
    "CREATE",
    "CROSS",
    "DELETE",
    "DESC",
    "DISTINCT",
    "DO",
    "DROP",
    "ELSE",
    "END",
    "EXISTS",
    "FALSE",
    "FETCH",
    "FOR",
    "FROM",
    "FULL",
    "GROUP",
    "HAVING",
    "ILIKE",
    "IN",
    "INNER",
    "INSERT",
    "INTO",
    "IS",
    "JOIN",
    "LEFT",
    "LIKE",
    "LIMIT",
    "NOT",
    "NOTHING",
    "NULL",
    "OFFSET",
    "ON",
    "CONFLICT",
    "OR",
    "ORDER",
    "OUTER",
    "RETURNING",
    "RIGHT",
    "ROLLBACK",
    "SELECT",
    "SET",
    "SHARE",
    "SHOW",
    "START",
    "TABLE",
    "THEN",
    "TRANSACTION",
    "TRUE",
    "TRUNCATE",
    "UNION",
    "UPDATE",
    "USING",
    "VALUES",
    "WHEN",
    "WHERE",
    "WITH",
    "ISOLATION",
    "LEVEL",
    "READ",
    "WRITE",
    "ONLY",
    "COMMITTED",
    "REPEATABLE",
    "SERIALIZABLE",
    "SAVEPOINT",
    "RELEASE",
    "LOCK",
    "NOWAIT",
    "SKIP",
    "LOCKED",
    "ROWS",
    "ROW",
    "FIRST",
    "NEXT",
    "INTERVAL",
    "COUNT",
    "SUM",
    "MIN",
    "MAX",
    "AVG",
    "COALESCE",
    "EXPLAIN",
    "ANALYZE",
    "VACUUM",
    "COPY",
    "DEFAULT",
    "WORK",
    "PREPARE",
    "EXECUTE",
    "DEALLOCATE",
    "LATERAL",
    "NULLS",
    "LAST",
    "OVER",
    "PARTITION",
    "WINDOW",
];

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// A scanner over one statement.
struct Scanner<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    out: String,
    params: Vec<Param>,
    last_word_in: bool,
}

/// Normalizes one statement.
pub fn normalize(sql: &str) -> Normalized {
    let mut sc = Scanner {
        s: sql,
        b: sql.as_bytes(),
        i: 0,
        out: String::with_capacity(sql.len()),
        params: Vec::new(),
        last_word_in: false,
    };
    sc.run();
    let mut template = sc.out;
    while template.ends_with(' ') || template.ends_with(';') {
        template.pop();
    }
    Normalized {
        template,
        params: sc.params,
    }
}

impl<'a> Scanner<'a> {
    fn run(&mut self) {
        while self.i < self.b.len() {
            let was_in = std::mem::replace(&mut self.last_word_in, false);
            let c = self.b[self.i];
            match c {
                b' ' | b'\t' | b'\n' | b'\r' => self.space(),
                b'-' if self.peek(1) == Some(b'-') => self.line_comment(),
                b'/' if self.peek(1) == Some(b'*') => self.block_comment(),
                b'\'' => self.string_lit(self.i),
                b'E' | b'e' if self.peek(1) == Some(b'\'') && !self.prev_ident() => {
                    self.string_lit(self.i + 1)
                }
                b'$' => self.dollar(),
                b'"' => self.quoted_ident(),
                b'(' if was_in => self.in_list(),
                b'0'..=b'9' if !self.prev_ident() => self.number(),
                b'.' if !self.prev_ident() && self.peek(1).is_some_and(|d| d.is_ascii_digit()) => {
                    self.number()
                }
                _ if is_ident_byte(c) => self.word(),
                _ => {
                    let ch = self.s[self.i..].chars().next().unwrap_or(' ');
                    self.out.push(ch);
                    self.i += ch.len_utf8().max(1);
                }
            }
        }
    }

    fn peek(&self, k: usize) -> Option<u8> {
        self.b.get(self.i + k).copied()
    }

    fn prev_ident(&self) -> bool {
        self.out
            .as_bytes()
            .last()
            .is_some_and(|&b| is_ident_byte(b))
    }

    fn space(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
        self.push_space();
    }

    fn push_space(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with(' ') {
            self.out.push(' ');
        }
    }

    fn line_comment(&mut self) {
        while self.i < self.b.len() && self.b[self.i] != b'\n' {
            self.i += 1;
        }
        self.push_space();
    }

    fn block_comment(&mut self) {
        let rest = &self.s[self.i + 2..];
        self.i = match rest.find("*/") {
            Some(k) => self.i + 2 + k + 2,
            None => self.b.len(),
        };
        self.push_space();
    }

    fn placeholder(&mut self, kind: ParamKind, text: String) {
        // a password (`PASSWORD 'x'`, `password=x` in a connection string) is not kept
        let secret = kind == ParamKind::Str
            && (self
                .out
                .trim_end()
                .rsplit(' ')
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case("PASSWORD"))
                || text.to_ascii_lowercase().contains("password="));
        let text = if secret { "***".to_string() } else { text };
        self.params.push(Param { kind, text });
        self.out.push('$');
        push_usize(&mut self.out, self.params.len());
        // Digits right after a literal (`'x'2024`) would read as part of the placeholder; apart,
        // they are a literal of their own.
        if self.peek(0).is_some_and(|c| c.is_ascii_digit()) {
            self.out.push(' ');
        }
    }

    /// A quoted string starting at the quote at `q`; `''` escapes a quote, and in E-strings a
    /// backslash escapes the next byte.
    fn string_lit(&mut self, q: usize) {
        let escape = q > self.i;
        let (text, end) = scan_string(self.s, q, escape);
        self.i = end;
        self.placeholder(ParamKind::Str, text);
    }

    fn dollar(&mut self) {
        let rest = &self.b[self.i + 1..];
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 {
            self.i += 1 + digits;
            self.placeholder(ParamKind::Unbound, String::new());
            return;
        }
        let tag_len = rest.iter().take_while(|&&b| is_ident_byte(b)).count();
        if rest.get(tag_len) == Some(&b'$') && !self.prev_ident() {
            let tag = &self.s[self.i..self.i + tag_len + 2];
            let body_start = self.i + tag.len();
            if let Some(k) = self.s[body_start..].find(tag) {
                let text = self.s[body_start..body_start + k].to_string();
                self.i = body_start + k + tag.len();
                self.placeholder(ParamKind::Str, text);
                return;
            }
        }
        self.out.push('$');
        self.i += 1;
    }

    fn quoted_ident(&mut self) {
        let start = self.i;
        self.i += 1;
        while self.i < self.b.len() {
            if self.b[self.i] == b'"' {
                if self.peek(1) == Some(b'"') {
                    self.i += 2;
                    continue;
                }
                self.i += 1;
                break;
            }
            self.i += 1;
        }
        self.out.push_str(&self.s[start..self.i]);
    }

    fn number(&mut self) {
        let start = self.i;
        let n = number_len(&self.b[self.i..]);
        self.i += n;
        self.placeholder(ParamKind::Num, self.s[start..self.i].to_string());
    }

    fn word(&mut self) {
        let start = self.i;
        while self.i < self.b.len() && is_ident_byte(self.b[self.i]) {
            self.i += 1;
        }
        let w = &self.s[start..self.i];
        let upper = w.to_ascii_uppercase();
        if KEYWORDS.contains(&upper.as_str()) {
            self.last_word_in = upper == "IN";
            self.out.push_str(&upper);
        } else {
            self.out.push_str(w);
        }
        // `IN (` may have a space between the keyword and the parenthesis.
        if self.last_word_in {
            while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
            if self.peek(0) == Some(b'(') {
                self.out.push(' ');
            } else {
                self.last_word_in = false;
            }
        }
    }

    /// `IN (lit, lit, ...)`: collapses to `IN ($n)` when every element is a literal.
    fn in_list(&mut self) {
        match scan_literal_list(self.s, self.i + 1) {
            Some((end, inner)) => {
                self.out.push('(');
                self.placeholder(ParamKind::List, inner);
                self.out.push(')');
                self.i = end;
            }
            None => {
                self.out.push('(');
                self.i += 1;
            }
        }
    }
}

fn push_usize(out: &mut String, n: usize) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Length of a numeric literal at the start of `b` (digits, one dot, an exponent).
fn number_len(b: &[u8]) -> usize {
    let mut i = 0;
    let mut seen_dot = false;
    while i < b.len() {
        match b[i] {
            b'0'..=b'9' | b'_' => i += 1,
            b'.' if !seen_dot => {
                seen_dot = true;
                i += 1;
            }
            b'e' | b'E'
                if b.get(i + 1).is_some_and(|c| c.is_ascii_digit())
                    || (matches!(b.get(i + 1), Some(b'+' | b'-'))
                        && b.get(i + 2).is_some_and(|c| c.is_ascii_digit())) =>
            {
                i += 2;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                break;
            }
            _ => break,
        }
    }
    i
}

/// Scans a quoted string whose opening quote is at `q`; returns the unescaped value and the
/// index after the closing quote (the end of input when unterminated).
fn scan_string(s: &str, q: usize, backslash: bool) -> (String, usize) {
    let b = s.as_bytes();
    let mut i = q + 1;
    let mut seg = i;
    let mut text = String::new();
    while i < b.len() {
        match b[i] {
            b'\'' if b.get(i + 1) == Some(&b'\'') => {
                text.push_str(&s[seg..=i]);
                i += 2;
                seg = i;
            }
            b'\'' => {
                text.push_str(&s[seg..i]);
                return (text, i + 1);
            }
            b'\\' if backslash && i + 1 < b.len() => {
                text.push_str(&s[seg..i]);
                let ch = s[i + 1..].chars().next().unwrap_or('\\');
                text.push(match ch {
                    'n' => '\n',
                    't' => '\t',
                    c => c,
                });
                i += 1 + ch.len_utf8();
                seg = i;
            }
            _ => i += 1,
        }
    }
    text.push_str(&s[seg.min(b.len())..]);
    (text, b.len())
}

/// Elements of a parenthesized list starting after `(` at `start`, if all are literals: the
/// index after `)` and the list text with whitespace collapsed.
fn scan_literal_list(s: &str, start: usize) -> Option<(usize, String)> {
    let b = s.as_bytes();
    let mut i = start;
    let mut items: Vec<&str> = Vec::new();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let item_start = i;
        match *b.get(i)? {
            b'\'' => i = scan_string(s, i, false).1,
            b'E' | b'e' if b.get(i + 1) == Some(&b'\'') => i = scan_string(s, i + 1, true).1,
            b'-' | b'+' | b'0'..=b'9' | b'.' => {
                let sign = usize::from(matches!(b[i], b'-' | b'+'));
                let n = number_len(&b[i + sign..]);
                if n == 0 {
                    return None;
                }
                i += sign + n;
            }
            _ => return None,
        }
        items.push(&s[item_start..i]);
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        match *b.get(i)? {
            b',' => i += 1,
            b')' => return Some((i + 1, items.join(", "))),
            _ => return None,
        }
    }
}

/// Renders a string as a SQL literal: `'it''s'`, or `E'..'` when it holds a backslash.
pub(crate) fn quote_literal(out: &mut String, s: &str) {
    if s.contains('\\') {
        out.push_str("E'");
        for ch in s.chars() {
            match ch {
                '\'' => out.push_str("''"),
                '\\' => out.push_str("\\\\"),
                c => out.push(c),
            }
        }
    } else {
        out.push('\'');
        for ch in s.chars() {
            if ch == '\'' {
                out.push('\'');
            }
            out.push(ch);
        }
    }
    out.push('\'');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(n: &Normalized) -> Vec<&str> {
        n.params.iter().map(|p| p.text.as_str()).collect()
    }

    #[test]
    fn literals_become_placeholders() {
        let n = normalize("select  *\n from t where a = 42 and b = 'x''y' and c=1.5e3;");
        assert_eq!(
            n.template,
            "SELECT * FROM t WHERE a = $1 AND b = $2 AND c=$3"
        );
        assert_eq!(texts(&n), ["42", "x'y", "1.5e3"]);
        assert_eq!(n.params[1].kind, ParamKind::Str);
    }

    #[test]
    fn passwords_are_not_kept() {
        let n = normalize("ALTER ROLE app WITH password 'hunter2' VALID UNTIL '2030-01-01'");
        assert_eq!(texts(&n), ["***", "2030-01-01"]);
        let n =
            normalize("CREATE SUBSCRIPTION s CONNECTION 'host=h Password=hunter2' PUBLICATION p");
        assert_eq!(texts(&n), ["***"]);
        let n = normalize("SELECT 'password' FROM t WHERE note = 'no secret'");
        assert_eq!(texts(&n), ["password", "no secret"]);
    }

    #[test]
    fn in_lists_collapse() {
        let n = normalize("SELECT 1 FROM t WHERE id IN (1, 2,3) AND s in ('a','b')");
        assert_eq!(
            n.template,
            "SELECT $1 FROM t WHERE id IN ($2) AND s IN ($3)"
        );
        assert_eq!(texts(&n), ["1", "1, 2, 3", "'a', 'b'"]);
        let sub = normalize("SELECT 1 FROM t WHERE id IN (SELECT id FROM u)");
        assert_eq!(
            sub.template,
            "SELECT $1 FROM t WHERE id IN (SELECT id FROM u)"
        );
    }

    #[test]
    fn dollar_quotes_escapes_and_comments() {
        let n = normalize("INSERT INTO t2 VALUES ($tag$it's $x$tag$, E'a\\'b', $1) -- c\n/* d */");
        assert_eq!(n.template, "INSERT INTO t2 VALUES ($1, $2, $3)");
        assert_eq!(texts(&n), ["it's $x", "a'b", ""]);
        assert_eq!(n.params[2].kind, ParamKind::Unbound);
    }

    #[test]
    fn identifiers_keep_digits_and_quotes() {
        let n = normalize("SELECT \"Col 1\", t1.c2 FROM t1");
        assert_eq!(n.template, "SELECT \"Col 1\", t1.c2 FROM t1");
        assert!(n.params.is_empty());
        assert_eq!(QueryType::of(&n.template), QueryType::Select);
        assert_eq!(
            QueryType::of("WITH x AS (SELECT $1) UPDATE t SET a=$2"),
            QueryType::Update
        );
        assert_eq!(QueryType::of("BEGIN"), QueryType::Other);
    }

    #[test]
    fn digits_after_a_literal_stay_apart_from_its_placeholder() {
        let n = normalize("SELECT 'x'2024, $$a$$1");
        assert_eq!(n.template, "SELECT $1 $2, $3 $4");
        assert_eq!(texts(&n), ["x", "2024", "a", "1"]);
    }

    #[test]
    fn unterminated_input_does_not_panic() {
        for s in ["'abc", "$$abc", "E'\\", "\"x", "IN (1,", "/* x", "é'ü"] {
            let _ = normalize(s);
        }
    }

    #[test]
    fn quoting_round_trips() {
        let mut out = String::new();
        quote_literal(&mut out, "it's a\\b");
        let n = normalize(&format!("SELECT {out}"));
        assert_eq!(texts(&n), ["it's a\\b"]);
    }
}
