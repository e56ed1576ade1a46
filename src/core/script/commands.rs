//! What kind of command a statement is, read from its first word: whether it is an SQL
//! command at all, and whether its command tag counts rows.

use super::lexer::{Lexer, Token};

/// Whether `stmt` starts as an SQL command does: its first word (comments skipped) is one
/// of PostgreSQL's commands, or it opens with a parenthesis (`(SELECT ...) UNION ...`).
pub(crate) fn is_sql_command(stmt: &str) -> bool {
    const COMMANDS: &[&str] = &[
        "ABORT",
        "ALTER",
        "ANALYSE",
        "ANALYZE",
        "BEGIN",
        "CALL",
        "CHECKPOINT",
        "CLOSE",
        "CLUSTER",
        "COMMENT",
        "COMMIT",
        "COPY",
        "CREATE",
        "DEALLOCATE",
        "DECLARE",
        "DELETE",
        "DISCARD",
        "DO",
        "DROP",
        "END",
        "EXECUTE",
        "EXPLAIN",
        "FETCH",
        "GRANT",
        "IMPORT",
        "INSERT",
        "LISTEN",
        "LOAD",
        "LOCK",
        "MERGE",
        "MOVE",
        "NOTIFY",
        "PREPARE",
        "REASSIGN",
        "REFRESH",
        "REINDEX",
        "RELEASE",
        "RESET",
        "REVOKE",
        "ROLLBACK",
        "SAVEPOINT",
        "SECURITY",
        "SELECT",
        "SET",
        "SHOW",
        "START",
        "TABLE",
        "TRUNCATE",
        "UNLISTEN",
        "UPDATE",
        "VACUUM",
        "VALUES",
        "WITH",
    ];
    match first(stmt) {
        First::Word(w) => COMMANDS.iter().any(|c| c.eq_ignore_ascii_case(w)),
        First::Parenthesis => true,
        First::Other => false,
    }
}

/// Whether a statement's command tag counts the rows it returned or changed (`SELECT`,
/// `INSERT`, `UPDATE`, `DELETE`, `MERGE`, and `WITH`, `VALUES` or `TABLE`, which end in one
/// of them, or a query in parentheses); a `CALL`, a `SET` or a `DO` counts none.
pub(crate) fn counts_rows(stmt: &str) -> bool {
    match first(stmt) {
        First::Word(w) => [
            "SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "WITH", "VALUES", "TABLE",
        ]
        .iter()
        .any(|c| c.eq_ignore_ascii_case(w)),
        // only a query can open with a parenthesis
        First::Parenthesis => true,
        First::Other => false,
    }
}

/// How a statement starts, comments and blanks skipped.
enum First<'a> {
    /// A word, as written.
    Word(&'a str),
    Parenthesis,
    /// Anything else, or nothing.
    Other,
}

fn first(stmt: &str) -> First<'_> {
    let mut lexer = Lexer::new(stmt);
    while let Some(tok) = lexer.next_token() {
        match tok {
            Token::Trivia => {}
            Token::Word(_, w) => return First::Word(w),
            Token::Open(_) => return First::Parenthesis,
            _ => return First::Other,
        }
    }
    First::Other
}
