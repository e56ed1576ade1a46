//! The tokens of SQL text as the server splits it: words, quoted strings and identifiers,
//! dollar-quoted bodies, parentheses, semicolons; comments and blanks as trivia.

#[derive(Debug)]
pub(super) enum Token<'a> {
    /// Whitespace or a comment.
    Trivia,
    /// A bare word (keyword or identifier) starting at a byte offset.
    Word(usize, &'a str),
    /// A quoted string, quoted identifier or dollar-quoted body.
    Quoted(usize),
    Open(usize),
    Close(usize),
    Semicolon(usize),
    /// Any other character (operators, numbers, parameters).
    Other(usize),
}

pub(super) struct Lexer<'a> {
    s: &'a [u8],
    text: &'a str,
    pub(super) i: usize,
    /// Read dollar-quoted bodies as SQL: a `$tag$` delimiter is trivia.
    through_bodies: bool,
    /// The last token read was cut by the end of the text: a quoted string or identifier,
    /// dollar-quoted body or block comment not closed yet.
    pub(super) unclosed: bool,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Lexer {
            s: text.as_bytes(),
            text,
            i: 0,
            through_bodies: false,
            unclosed: false,
        }
    }

    /// A lexer that starts reading at byte `at` of `text` (a token's start).
    pub(super) fn at(text: &'a str, at: usize) -> Self {
        Lexer {
            i: at,
            ..Lexer::new(text)
        }
    }

    /// A lexer that reads the text of every dollar-quoted body (a `DO` block's, a
    /// function's, nested ones included) as SQL, in one pass whatever the nesting.
    pub(super) fn through_bodies(text: &'a str) -> Self {
        Lexer {
            through_bodies: true,
            ..Lexer::new(text)
        }
    }

    fn peek(&self, k: usize) -> Option<u8> {
        self.s.get(self.i + k).copied()
    }

    pub(super) fn next_token(&mut self) -> Option<Token<'a>> {
        let c = self.peek(0)?;
        let at = self.i;
        Some(match c {
            b if b.is_ascii_whitespace() => {
                self.i += 1;
                Token::Trivia
            }
            b'-' if self.peek(1) == Some(b'-') => {
                while self.peek(0).is_some_and(|b| b != b'\n') {
                    self.i += 1;
                }
                Token::Trivia
            }
            b'/' if self.peek(1) == Some(b'*') => {
                self.block_comment();
                Token::Trivia
            }
            b'\'' => {
                let backslash = self.escapes_at(at);
                self.i += 1;
                self.quoted(b'\'', backslash);
                Token::Quoted(at)
            }
            b'"' => {
                self.i += 1;
                self.quoted(b'"', false);
                Token::Quoted(at)
            }
            b'$' => match self.dollar_tag() {
                Some(tag_len) if self.through_bodies => {
                    self.i += tag_len;
                    Token::Trivia
                }
                Some(tag_len) => {
                    self.dollar_body(tag_len);
                    Token::Quoted(at)
                }
                None => {
                    self.i += 1;
                    while self.peek(0).is_some_and(|b| b.is_ascii_digit()) {
                        self.i += 1;
                    }
                    Token::Other(at)
                }
            },
            b'(' => {
                self.i += 1;
                Token::Open(at)
            }
            b')' => {
                self.i += 1;
                Token::Close(at)
            }
            b';' => {
                self.i += 1;
                Token::Semicolon(at)
            }
            b if is_ident_start(b) => {
                while self.peek(0).is_some_and(is_ident_byte) {
                    self.i += 1;
                }
                Token::Word(at, &self.text[at..self.i])
            }
            _ => {
                // one whole character, so slicing stays on UTF-8 boundaries
                self.i += self.text[at..].chars().next().map_or(1, char::len_utf8);
                Token::Other(at)
            }
        })
    }

    /// Whether the `'` at byte `at` opens an escape string (`E'...'`, backslashes escape).
    pub(super) fn escapes_at(&self, at: usize) -> bool {
        at > 0
            && matches!(self.s[at - 1], b'e' | b'E')
            && (at < 2 || !is_ident_byte(self.s[at - 2]))
    }

    /// Reads on inside a quoted string or identifier opened by `quote` at `at` that an
    /// earlier, shorter text ended in; `self.i` is where that text ended. True when it closes
    /// now (the lexer then stands after it).
    pub(super) fn resume_quoted(&mut self, quote: u8, at: usize) -> bool {
        let backslash = quote == b'\'' && self.escapes_at(at);
        self.unclosed = false;
        self.quoted(quote, backslash);
        !self.unclosed
    }

    /// Skips a `/* ... */` comment; they nest in PostgreSQL.
    fn block_comment(&mut self) {
        let mut depth = 0usize;
        while let Some(c) = self.peek(0) {
            if c == b'/' && self.peek(1) == Some(b'*') {
                depth += 1;
                self.i += 2;
            } else if c == b'*' && self.peek(1) == Some(b'/') {
                depth -= 1;
                self.i += 2;
                if depth == 0 {
                    return;
                }
            } else {
                self.i += 1;
            }
        }
        self.unclosed = true;
    }

    /// Skips to the closing `quote` (a doubled quote is part of the text).
    fn quoted(&mut self, quote: u8, backslash: bool) {
        while let Some(c) = self.peek(0) {
            self.i += 1;
            if backslash && c == b'\\' {
                // the escaped byte, unless the text ends at the backslash
                self.i = (self.i + 1).min(self.s.len());
            } else if c == quote {
                if self.peek(0) == Some(quote) {
                    self.i += 1;
                } else {
                    return;
                }
            }
        }
        self.unclosed = true;
    }

    /// At a `$`: the length of a `$tag$` opening here, if it is one (not `$1`, not part
    /// of an identifier such as `a$b`).
    fn dollar_tag(&self) -> Option<usize> {
        if self.i > 0 && is_ident_byte(self.s[self.i - 1]) {
            return None;
        }
        let mut k = 1;
        if self.peek(1).is_some_and(|b| b.is_ascii_digit()) {
            return None;
        }
        while let Some(b) = self.peek(k) {
            if b == b'$' {
                return Some(k + 1);
            }
            if !is_ident_byte(b) || b == b'$' {
                return None;
            }
            k += 1;
        }
        None
    }

    /// Skips a dollar-quoted body up to the same tag.
    fn dollar_body(&mut self, tag_len: usize) {
        let tag = &self.s[self.i..self.i + tag_len];
        let body = self.i + tag_len;
        let rest = &self.s[body..];
        match rest.windows(tag_len).position(|w| w == tag) {
            Some(p) => self.i = body + p + tag_len,
            None => {
                self.i = self.s.len();
                self.unclosed = true;
            }
        }
    }
}

pub(super) fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

pub(super) fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}
