//! Statements read from a script, whole or as it grows line by line: where each ends.

use super::lexer::{Lexer, Token};
use super::ScriptStatement;

/// Splits `sql` into statements; empty statements (only comments or blanks) are left out.
pub(crate) fn split(sql: &str) -> Vec<ScriptStatement<'_>> {
    let mut out = Vec::new();
    let mut scanner = Scanner::default();
    scanner.feed(sql, |s| out.push(s));
    out.extend(scanner.rest(sql));
    out
}

/// How SQL text read so far ends, for reading statements that span lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Ending {
    /// Nothing but blanks and comments since the last statement.
    #[default]
    Between,
    /// Inside a quoted string or identifier, a dollar-quoted body, a block comment, a
    /// parenthesis or a `BEGIN ATOMIC` body: the statement goes on.
    Open,
    /// In a statement that a `;` has not ended yet.
    Unterminated,
}

/// Reads a script that grows (lines appended to one text) without reading its start
/// again: each call lexes from where the last stopped, or from the start of the token the
/// end of the text cut.
#[derive(Debug, Default)]
pub(crate) struct Scanner {
    /// Byte offset to read on from: the end of the last whole token.
    pos: usize,
    /// Whether the current statement defines a routine, as far as its first words tell.
    routine: Routine,
    /// The last word read was `BEGIN`.
    after_begin: bool,
    atomic_depth: usize,
    parens: usize,
    /// Start of the current statement's first token, when it has one.
    code_start: Option<usize>,
    /// The text ended inside a token: what closes it, and how much of the text is known
    /// not to hold that, so a long string or comment is not lexed again line by line.
    waiting: Option<(Vec<u8>, usize)>,
}

impl Scanner {
    /// Reads `sql` on from the last call (`sql` must start with the text of the earlier
    /// calls), passing each statement a `;` ends to `each`; says how the text ends.
    pub(crate) fn feed<'a>(
        &mut self,
        sql: &'a str,
        mut each: impl FnMut(ScriptStatement<'a>),
    ) -> Ending {
        if let Some((close, seen)) = self.waiting.take() {
            let from = seen.saturating_sub(close.len() - 1);
            if !sql.as_bytes()[from..]
                .windows(close.len())
                .any(|w| w == close)
            {
                self.waiting = Some((close, sql.len()));
                return Ending::Open;
            }
            if let [quote @ (b'\'' | b'"')] = close[..] {
                // a string (long, its quotes doubled) is read on, not read again
                let at = self.pos;
                let mut lexer = Lexer::at(sql, seen);
                let after_backslash =
                    quote == b'\'' && lexer.escapes_at(at) && sql[at..seen].ends_with('\\');
                if !after_backslash {
                    if !lexer.resume_quoted(quote, at) {
                        self.waiting = Some((close, sql.len()));
                        return Ending::Open;
                    }
                    self.pos = lexer.i;
                    self.token(sql, Token::Quoted(at), &mut each);
                }
            }
        }
        let mut lexer = Lexer::at(sql, self.pos);
        loop {
            let at = lexer.i;
            let Some(tok) = lexer.next_token() else {
                break;
            };
            if lexer.unclosed {
                // read the cut token again, whole, once the text holds what closes it
                self.pos = at;
                if !matches!(tok, Token::Trivia) {
                    self.code_start.get_or_insert(at);
                }
                self.waiting = Some((closing(&sql[at..]), sql.len()));
                return Ending::Open;
            }
            self.pos = lexer.i;
            self.token(sql, tok, &mut each);
        }
        match self.code_start {
            None => Ending::Between,
            Some(_) if self.parens > 0 || self.atomic_depth > 0 => Ending::Open,
            Some(_) => Ending::Unterminated,
        }
    }

    /// The statement no `;` ended yet, if there is one.
    pub(crate) fn rest<'a>(&self, sql: &'a str) -> Option<ScriptStatement<'a>> {
        self.code_start.map(|from| statement(sql, from, sql.len()))
    }

    fn token<'a>(&mut self, sql: &'a str, tok: Token, each: &mut impl FnMut(ScriptStatement<'a>)) {
        match tok {
            Token::Semicolon(at) if self.parens == 0 && self.atomic_depth == 0 => {
                if let Some(from) = self.code_start.take() {
                    each(statement(sql, from, at));
                }
                self.routine = Routine::Start;
                self.after_begin = false;
            }
            Token::Semicolon(_) | Token::Trivia => {}
            Token::Open(at) | Token::Close(at) | Token::Other(at) | Token::Quoted(at) => {
                self.code_start.get_or_insert(at);
                match tok {
                    Token::Open(_) => self.parens += 1,
                    Token::Close(_) => self.parens = self.parens.saturating_sub(1),
                    _ => {}
                }
            }
            Token::Word(at, w) => {
                self.code_start.get_or_insert(at);
                let is = |k: &str| w.eq_ignore_ascii_case(k);
                if self.routine == Routine::Yes {
                    let opens =
                        (is("ATOMIC") && self.after_begin) || (is("CASE") && self.atomic_depth > 0);
                    if opens {
                        self.atomic_depth += 1;
                    } else if is("END") && self.atomic_depth > 0 {
                        self.atomic_depth -= 1;
                    }
                }
                self.after_begin = is("BEGIN");
                self.routine = self.routine.then(w);
            }
        }
    }
}

/// What closes the quoted string or identifier, dollar-quoted body or block comment that
/// `token` opens.
fn closing(token: &str) -> Vec<u8> {
    match token.as_bytes().first() {
        Some(b'$') => {
            let tag_end = token[1..].find('$').map_or(1, |p| p + 2);
            token.as_bytes()[..tag_end].to_vec()
        }
        Some(b'/') => b"*/".to_vec(),
        // a cut token has a first byte: a quote
        _ => token.as_bytes()[..1].to_vec(),
    }
}

/// Whether the words so far open a `CREATE [OR REPLACE] FUNCTION|PROCEDURE`, read word
/// by word.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Routine {
    #[default]
    Start,
    Create,
    CreateOr,
    CreateOrReplace,
    Yes,
    No,
}

impl Routine {
    /// The state after the statement's next word `w`.
    fn then(self, w: &str) -> Routine {
        let is = |k: &str| w.eq_ignore_ascii_case(k);
        let routine = is("FUNCTION") || is("PROCEDURE");
        match self {
            Routine::Start if is("CREATE") => Routine::Create,
            Routine::Create if routine => Routine::Yes,
            Routine::Create if is("OR") => Routine::CreateOr,
            Routine::CreateOr if is("REPLACE") => Routine::CreateOrReplace,
            Routine::CreateOrReplace if routine => Routine::Yes,
            Routine::Yes => Routine::Yes,
            _ => Routine::No,
        }
    }
}

fn statement(sql: &str, from: usize, to: usize) -> ScriptStatement<'_> {
    ScriptStatement {
        text: sql[from..to].trim(),
        line: sql[..from].matches('\n').count() + 1,
    }
}
