//! What kind of command a statement is, read from its first word: whether it is an SQL
//! command at all, and whether its command tag counts rows.

use super::leading_words;
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
    let mut lexer = Lexer::new(stmt);
    while let Some(tok) = lexer.next_token() {
        match tok {
            Token::Trivia => {}
            Token::Word(_, w) => return COMMANDS.contains(&w.to_ascii_uppercase().as_str()),
            Token::Open(_) => return true,
            _ => return false,
        }
    }
    false
}

/// Whether a statement's command tag counts the rows it returned or changed (`SELECT`,
/// `INSERT`, `UPDATE`, `DELETE`, `MERGE`, and `WITH`, `VALUES` or `TABLE`, which end in one
/// of them); a `CALL`, a `SET` or a `DO` counts none.
pub(crate) fn counts_rows(stmt: &str) -> bool {
    matches!(
        leading_words(stmt, 1).first().map(String::as_str),
        Some("SELECT" | "INSERT" | "UPDATE" | "DELETE" | "MERGE" | "WITH" | "VALUES" | "TABLE")
    )
}
