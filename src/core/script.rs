//! SQL scripts read the way the server reads them: statements end at a `;` outside quotes,
//! dollar quotes, comments, parentheses and `BEGIN ATOMIC ... END` bodies. Used to run a
//! schema file statement by statement (naming the one that fails) and to find transaction
//! control that would end a caller's transaction early.

mod lexer;
mod scanner;
pub(crate) use scanner::{split, Ending, Scanner};

use lexer::{Lexer, Token};

/// One statement of a script, without its terminating `;`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScriptStatement<'a> {
    /// The statement's text, trimmed (comments inside are kept).
    pub(crate) text: &'a str,
    /// 1-based line of the script where the statement starts.
    pub(crate) line: usize,
}

impl ScriptStatement<'_> {
    /// The statement's first line, shortened, for messages; in a statement that mentions a
    /// password (`CREATE ROLE ... PASSWORD '...'`, a connection string) every string
    /// literal is shown as `'***'`.
    pub(crate) fn head(&self) -> String {
        let text = if self.text.to_ascii_lowercase().contains("passw") {
            literals_hidden(self.text)
        } else {
            self.text.to_string()
        };
        let words: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if words.chars().count() > 60 {
            format!("{}...", words.chars().take(60).collect::<String>())
        } else {
            words
        }
    }
}

/// `sql` with each string literal and dollar-quoted body replaced by `'***'`.
fn literals_hidden(sql: &str) -> String {
    let mut lexer = Lexer::new(sql);
    let mut out = String::with_capacity(sql.len());
    let mut at = 0;
    while let Some(tok) = lexer.next_token() {
        if let Token::Quoted(start) = tok {
            if sql[start..].starts_with(['\'', '$']) {
                out.push_str(&sql[at..start]);
                out.push_str("'***'");
                at = lexer.i;
            }
        }
    }
    out.push_str(&sql[at..]);
    out
}

/// The transaction-control command a statement is (`COMMIT`, `ROLLBACK`, `BEGIN`, ...), if
/// it is one: such a statement would end or nest a transaction its caller holds open.
pub(crate) fn transaction_control(stmt: &str) -> Option<&'static str> {
    let words = leading_words(stmt, 2);
    let first = words.first()?.as_str();
    let second = words.get(1).map(String::as_str);
    Some(match (first, second) {
        ("BEGIN", Some("ATOMIC")) => return None,
        ("BEGIN", _) => "BEGIN",
        ("START", Some("TRANSACTION")) => "START TRANSACTION",
        ("COMMIT", _) => "COMMIT",
        ("END", _) => "END",
        ("ROLLBACK", _) => "ROLLBACK",
        ("ABORT", _) => "ABORT",
        ("SAVEPOINT", _) => "SAVEPOINT",
        ("RELEASE", _) => "RELEASE",
        ("PREPARE", Some("TRANSACTION")) => "PREPARE TRANSACTION",
        _ => return None,
    })
}

/// The first `n` words of a statement, upper-cased; comments and blanks are skipped, and
/// anything else (a quote, a parenthesis, an operator) ends them.
fn leading_words(stmt: &str, n: usize) -> Vec<String> {
    let mut lexer = Lexer::new(stmt);
    let mut words = Vec::new();
    while let Some(tok) = lexer.next_token() {
        match tok {
            Token::Word(_, w) => {
                words.push(w.to_ascii_uppercase());
                if words.len() == n {
                    break;
                }
            }
            Token::Trivia => {}
            _ => break,
        }
    }
    words
}

/// The command, if a statement drops, empties, changes or replaces existing objects
/// (`DROP`, `TRUNCATE`, `ALTER`, `CREATE OR REPLACE`, `COMMENT`, `SECURITY LABEL`): what stormbench never runs on objects
/// it cannot prove it created unless told to.
pub(crate) fn destructive(stmt: &str) -> Option<&'static str> {
    let words = leading_words(stmt, 3);
    let word = |i: usize| words.get(i).map(String::as_str);
    Some(match (word(0)?, word(1), word(2)) {
        ("DROP", ..) => "DROP",
        ("TRUNCATE", ..) => "TRUNCATE",
        ("ALTER", ..) => "ALTER",
        ("CREATE", Some("OR"), Some("REPLACE")) => "CREATE OR REPLACE",
        // a comment or label replaces the one the object had
        ("COMMENT", Some("ON"), _) => "COMMENT",
        ("SECURITY", Some("LABEL"), _) => "SECURITY LABEL",
        _ => return None,
    })
}

/// [`destructive`] of the statement, or of a statement inside one of its dollar-quoted
/// bodies (a `DO` block's, a function's).
pub(crate) fn destructive_anywhere(stmt: &str) -> Option<&'static str> {
    destructive(stmt).or_else(|| destructive_in_bodies(stmt))
}

/// [`destructive`] of a statement inside one of `stmt`'s dollar-quoted bodies.
pub(crate) fn destructive_in_bodies(stmt: &str) -> Option<&'static str> {
    body_tokens(stmt)?.into_iter().find_map(|(t, _)| match t {
        Token::Word(at, _) => destructive(&stmt[at..]),
        _ => None,
    })
}

/// The command, if a statement changes what the cluster or the whole database shares
/// rather than objects a set-up creates and records (roles, databases, tablespaces, server
/// settings, extensions, default privileges, everything a role owns), or calls a function
/// acting on other sessions or the server ([`SERVER_FUNCTIONS`]): nothing stormbench can
/// check against its record, so never a workload file's business. Statements and calls
/// inside a dollar-quoted body (a `DO` block's, a function's) count as the statement's; one
/// built as a string at run time (`EXECUTE 'DROP ' || ...`) is not seen.
pub(crate) fn beyond_the_workload(stmt: &str) -> Option<String> {
    shared_head(stmt)
        .or_else(|| server_call(stmt).map(call_of))
        .or_else(|| beyond_in_bodies(stmt))
}

/// [`beyond_the_workload`] of a statement or call inside one of `stmt`'s dollar-quoted
/// bodies. One pass over the tokens: the `ON` a `GRANT` or `REVOKE` may have is found from
/// a table of where the next `ON` or `;` is, not by reading on from each.
pub(crate) fn beyond_in_bodies(stmt: &str) -> Option<String> {
    let toks = body_tokens(stmt)?;
    let word = |k: usize| word_at(&toks, k);
    // next_stop[k]: the first `ON` or `;` at or after k
    let mut next_stop = vec![toks.len(); toks.len() + 1];
    for k in (0..toks.len()).rev() {
        let stop = matches!(toks[k].0, Token::Semicolon(_)) || word(k).as_deref() == Some("ON");
        next_stop[k] = if stop { k } else { next_stop[k + 1] };
    }
    (0..toks.len()).find_map(|k| {
        let verb = word(k)?;
        if matches!(toks.get(k + 1), Some((Token::Open(_), _))) {
            return server_function(&verb).map(call_of);
        }
        match verb.as_str() {
            "GRANT" | "REVOKE" => {
                let stop = next_stop[k + 1];
                let after_on = (word(stop).as_deref() == Some("ON"))
                    .then(|| word(stop + 1).unwrap_or_default());
                grant_target(after_on.as_deref()).map(|on| format!("{verb} {on}"))
            }
            // `comment` alone may be a column's name: only `COMMENT ON` is the statement
            "COMMENT" if word(k + 1).as_deref() == Some("ON") => shared_note(&verb, &word(k + 2)?),
            "SECURITY" if word(k + 1).as_deref() == Some("LABEL") => {
                let stop = next_stop[k + 2];
                (word(stop).as_deref() == Some("ON"))
                    .then(|| shared_note(&verb, &word(stop + 1)?))
                    .flatten()
            }
            _ => shared_pair(&verb, &word(k + 1)?),
        }
    })
}

/// The tokens of `stmt` (blanks and comments left out) with every dollar-quoted body read
/// as SQL; `None` when it has no such body (an unterminated one is none: the server would
/// not run it).
fn body_tokens(stmt: &str) -> Option<Vec<(Token<'_>, usize)>> {
    let has_body = tokens(stmt).iter().any(|(t, end)| match t {
        Token::Quoted(at) if stmt[*at..].starts_with('$') => {
            let text = &stmt[*at..*end];
            let tag_len = text[1..].find('$').map_or(text.len(), |i| i + 2);
            text.len() >= 2 * tag_len && text.ends_with(&text[..tag_len])
        }
        _ => false,
    });
    if !has_body {
        return None;
    }
    let mut lexer = Lexer::through_bodies(stmt);
    let mut toks = Vec::new();
    while let Some(t) = lexer.next_token() {
        if !matches!(t, Token::Trivia) {
            toks.push((t, lexer.i));
        }
    }
    Some(toks)
}

fn call_of(f: &str) -> String {
    format!("a call of {f}()")
}

/// The command, if `stmt` begins as a statement on what the cluster or the database shares.
fn shared_head(stmt: &str) -> Option<String> {
    let words = leading_words(stmt, 2);
    let (verb, what) = (words.first()?, words.get(1)?);
    match verb.as_str() {
        "GRANT" | "REVOKE" => shared_grant(stmt).map(|on| format!("{verb} {on}")),
        "COMMENT" | "SECURITY" if what == "ON" || what == "LABEL" => {
            shared_note(verb, word_after_on(stmt).as_deref()?)
        }
        _ => shared_pair(verb, what),
    }
}

/// The command, if `COMMENT ON what` or `SECURITY LABEL ... ON what` (`verb` is `COMMENT`
/// or `SECURITY`, `what` upper case) describes what the cluster or the database shares: a
/// role's, a database's or an extension's comment is the user's, as no set-up records one.
fn shared_note(verb: &str, what: &str) -> Option<String> {
    let command = if verb == "COMMENT" {
        "COMMENT ON"
    } else {
        "SECURITY LABEL ON"
    };
    (SHARED.contains(&what) || what == "LANGUAGE").then(|| format!("{command} {what}"))
}

/// What the cluster or the database shares, as the word naming it after `DROP`, `ALTER`,
/// `CREATE` or `COMMENT ON`.
const SHARED: [&str; 12] = [
    "ROLE",
    "USER",
    "GROUP",
    "DATABASE",
    "TABLESPACE",
    "SYSTEM",
    "EXTENSION",
    "SUBSCRIPTION",
    "PUBLICATION",
    "SERVER",
    "EVENT",
    "LARGE",
];

/// The command, if the words `verb what` (upper case) begin a statement on what the cluster
/// or the database shares (`GRANT` and `REVOKE` aside: their target follows `ON`).
fn shared_pair(verb: &str, what: &str) -> Option<String> {
    match (verb, what) {
        ("DROP" | "ALTER", w) if SHARED.contains(&w) => Some(format!("{verb} {what}")),
        // what no set-up records, and what acts on the user's tables or sessions once
        // made: a publication of every table (their updates then need a replica identity),
        // an event trigger (it runs on their DDL); an extension stays allowed
        ("CREATE", w) if w != "EXTENSION" && w != "SYSTEM" && SHARED.contains(&w) => {
            Some(format!("{verb} {what}"))
        }
        ("ALTER", "DEFAULT") => Some("ALTER DEFAULT PRIVILEGES".into()),
        ("DROP" | "REASSIGN", "OWNED") => Some(format!("{verb} OWNED")),
        _ => None,
    }
}

/// Server functions that act beyond a workload's own objects: on other sessions, the
/// server's configuration, logs, WAL, replication slots and statistics, large objects, or
/// the server's files. Lower case, as a call is compared.
const SERVER_FUNCTIONS: [&str; 37] = [
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_promote",
    "pg_wal_replay_pause",
    "pg_wal_replay_resume",
    "pg_backup_start",
    "pg_backup_stop",
    "pg_start_backup",
    "pg_stop_backup",
    "pg_create_physical_replication_slot",
    "pg_create_logical_replication_slot",
    "pg_drop_replication_slot",
    "pg_replication_slot_advance",
    "pg_stat_reset",
    "pg_stat_reset_shared",
    "pg_stat_reset_single_table_counters",
    "pg_stat_reset_single_function_counters",
    "pg_stat_reset_slru",
    "pg_stat_reset_replication_slot",
    "pg_stat_reset_subscription_stats",
    "pg_stat_statements_reset",
    "lo_unlink",
    "lo_import",
    "lo_export",
    "lo_put",
    "lowrite",
    "lo_truncate",
    "lo_truncate64",
    "pg_read_file",
    "pg_read_binary_file",
    "pg_file_write",
    "pg_file_unlink",
    "pg_file_rename",
];

/// The first call in `stmt` (outside quotes and comments) of a function of
/// [`SERVER_FUNCTIONS`], as it is named there.
fn server_call(stmt: &str) -> Option<&'static str> {
    let toks = tokens(stmt);
    (0..toks.len()).find_map(|k| {
        let Some((Token::Word(_, w), _)) = toks.get(k) else {
            return None;
        };
        if !matches!(toks.get(k + 1), Some((Token::Open(_), _))) {
            return None;
        }
        server_function(w)
    })
}

/// `name` as it stands in [`SERVER_FUNCTIONS`], if it is one (any case).
fn server_function(name: &str) -> Option<&'static str> {
    SERVER_FUNCTIONS
        .iter()
        .find(|f| f.eq_ignore_ascii_case(name))
        .copied()
}

/// What a `GRANT` or `REVOKE` gives or takes beyond the database's objects: role
/// membership (no `ON`), or privileges on the database, a tablespace, a server setting, a
/// language or a foreign server.
fn shared_grant(stmt: &str) -> Option<&'static str> {
    grant_target(word_after_on(stmt).as_deref())
}

/// The word (upper case) after the first `ON` of `stmt`: `None` when it has no `ON`, an
/// empty word when nothing follows it.
fn word_after_on(stmt: &str) -> Option<String> {
    let mut lexer = Lexer::new(stmt);
    let mut after_on = None;
    while let Some(tok) = lexer.next_token() {
        match tok {
            Token::Word(_, w) if after_on.is_none() && w.eq_ignore_ascii_case("ON") => {
                after_on = Some(String::new());
            }
            Token::Word(_, w) if after_on.as_deref() == Some("") => {
                after_on = Some(w.to_ascii_uppercase());
                break;
            }
            Token::Semicolon(_) => break,
            _ => {}
        }
    }
    after_on
}

/// What a `GRANT` or `REVOKE` reaches beyond the database's objects, from the word after
/// its `ON` (`None`: no `ON`, a role's membership).
fn grant_target(after_on: Option<&str>) -> Option<&'static str> {
    match after_on {
        None => Some("of a role"),
        Some("DATABASE") => Some("ON DATABASE"),
        Some("TABLESPACE") => Some("ON TABLESPACE"),
        Some("PARAMETER") => Some("ON PARAMETER"),
        Some("LANGUAGE") => Some("ON LANGUAGE"),
        Some("FOREIGN") => Some("ON FOREIGN"),
        Some("LARGE") => Some("ON LARGE OBJECT"),
        _ => None,
    }
}

/// What a statement that runs outside a transaction builds, rebuilds or rewrites.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BuildsOn<'a> {
    /// Relations, as written (`t`, `s.t`, `"T"`): the table of `CREATE INDEX
    /// CONCURRENTLY ... ON t`, the table or index of `REINDEX TABLE|INDEX t`, the tables of
    /// `VACUUM FULL a, b` or `CLUSTER t`.
    Relations(Vec<&'a str>),
    /// Every table of a schema, of the database or of the catalogs (`REINDEX
    /// SCHEMA|DATABASE|SYSTEM`, `VACUUM FULL` or `CLUSTER` without a table), as a phrase.
    Many(&'static str),
}

/// What a statement does to the tables [`builds_on`] names.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Rebuild<'a> {
    /// `build or rebuild indexes on` (`CREATE INDEX`, `REINDEX`) or `rewrite` (`VACUUM
    /// FULL`, `CLUSTER`): what the statement would do to them.
    pub(crate) action: &'static str,
    pub(crate) on: BuildsOn<'a>,
}

/// A statement's tokens but blanks and comments, each with the offset where it ends.
fn tokens(stmt: &str) -> Vec<(Token<'_>, usize)> {
    let mut lexer = Lexer::new(stmt);
    let mut toks = Vec::new();
    while let Some(t) = lexer.next_token() {
        if !matches!(t, Token::Trivia) {
            toks.push((t, lexer.i));
        }
    }
    toks
}

/// The word at `k`, upper-cased.
fn word_at(toks: &[(Token, usize)], k: usize) -> Option<String> {
    match toks.get(k) {
        Some((Token::Word(_, w), _)) => Some(w.to_ascii_uppercase()),
        _ => None,
    }
}

/// The text of the token at `k`.
fn text_at<'a>(stmt: &'a str, toks: &[(Token, usize)], k: usize) -> Option<&'a str> {
    let (t, end) = toks.get(k)?;
    let at = match t {
        Token::Word(at, _)
        | Token::Quoted(at)
        | Token::Other(at)
        | Token::Open(at)
        | Token::Close(at)
        | Token::Semicolon(at) => *at,
        Token::Trivia => return None,
    };
    Some(&stmt[at..*end])
}

/// The index just past the parenthesised group opening at `k` (nested groups included).
fn past_group(toks: &[(Token, usize)], k: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, (t, _)) in toks.iter().enumerate().skip(k) {
        match t {
            Token::Open(_) => depth += 1,
            Token::Close(_) => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(j + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The relation name starting at token `k` (`t`, `s.t`, `"T"`: words, quoted parts and
/// the dots between them, touching), and the index of the token after it.
fn name_at<'a>(stmt: &'a str, toks: &[(Token, usize)], k: usize) -> Option<(&'a str, usize)> {
    let start = match toks.get(k)? {
        (Token::Word(at, _) | Token::Quoted(at), _) => *at,
        _ => return None,
    };
    let mut end = toks[k].1;
    let mut next = k + 1;
    for (t, t_end) in &toks[k + 1..] {
        let at = match t {
            Token::Word(at, _) | Token::Quoted(at) | Token::Other(at) => *at,
            _ => break,
        };
        if at != end || (matches!(t, Token::Other(_)) && &stmt[at..*t_end] != ".") {
            break;
        }
        end = *t_end;
        next += 1;
    }
    Some((&stmt[start..end], next))
}

/// What an index build or rebuild (`CREATE INDEX`, `REINDEX`) or a table rewrite (`VACUUM
/// FULL`, `CLUSTER`) works on, if `stmt` is one.
pub(crate) fn builds_on(stmt: &str) -> Option<Rebuild<'_>> {
    const INDEXES: &str = "build or rebuild indexes on";
    let toks = tokens(stmt);
    let word = |k: usize| word_at(&toks, k);
    let (action, mut k) = match word(0)?.as_str() {
        "CREATE" => {
            let index = word(1).as_deref() == Some("INDEX")
                || (word(1).as_deref() == Some("UNIQUE") && word(2).as_deref() == Some("INDEX"));
            if !index {
                return None;
            }
            (
                INDEXES,
                (1..toks.len()).find(|&k| word(k).as_deref() == Some("ON"))? + 1,
            )
        }
        "REINDEX" => {
            let mut k = 1;
            if matches!(toks.get(1), Some((Token::Open(_), _))) {
                k = past_group(&toks, 1)?;
            }
            let many = |what| {
                Some(Rebuild {
                    action: INDEXES,
                    on: BuildsOn::Many(what),
                })
            };
            match word(k)?.as_str() {
                "TABLE" | "INDEX" => (INDEXES, k + 1),
                "SCHEMA" => return many("every table of a schema"),
                "DATABASE" => return many("every table of the database"),
                "SYSTEM" => return many("the system catalogs"),
                _ => return None,
            }
        }
        "VACUUM" => return vacuum_full(stmt, &toks),
        "CLUSTER" => {
            let mut k = 1;
            if matches!(toks.get(1), Some((Token::Open(_), _))) {
                k = past_group(&toks, 1)?;
            } else if word(1).as_deref() == Some("VERBOSE") {
                k = 2;
            }
            let on = match name_at(stmt, &toks, k) {
                Some((name, _)) => BuildsOn::Relations(vec![name]),
                None => BuildsOn::Many("every clustered table of the database"),
            };
            return Some(Rebuild {
                action: "rewrite",
                on,
            });
        }
        _ => return None,
    };
    while matches!(word(k).as_deref(), Some("ONLY" | "CONCURRENTLY")) {
        k += 1;
    }
    let (name, _) = name_at(stmt, &toks, k)?;
    Some(Rebuild {
        action,
        on: BuildsOn::Relations(vec![name]),
    })
}

/// The tables `VACUUM FULL` rewrites (every table without a list); `None` for a `VACUUM`
/// that is not `FULL` (it changes no table's storage).
fn vacuum_full<'a>(stmt: &'a str, toks: &[(Token, usize)]) -> Option<Rebuild<'a>> {
    let word = |k: usize| word_at(toks, k);
    let mut full = false;
    let mut k = 1;
    if matches!(toks.get(1), Some((Token::Open(_), _))) {
        // `(FULL, ANALYZE)`, `(FULL true)`, `(FULL false)`, `(FULL 0)`
        k = past_group(toks, 1)?;
        for j in 2..k - 1 {
            if word(j).as_deref() == Some("FULL") {
                let off = matches!(word(j + 1).as_deref(), Some("FALSE" | "OFF"))
                    || text_at(stmt, toks, j + 1) == Some("0");
                full = !off;
            }
        }
    } else {
        while let Some(w) = word(k) {
            match w.as_str() {
                "FULL" => full = true,
                "FREEZE" | "VERBOSE" | "ANALYZE" | "ANALYSE" => {}
                _ => break,
            }
            k += 1;
        }
    }
    if !full {
        return None;
    }
    let mut names = Vec::new();
    while let Some((name, next)) = name_at(stmt, toks, k) {
        names.push(name);
        k = next;
        if matches!(toks.get(k), Some((Token::Open(_), _))) {
            k = past_group(toks, k)?; // a column list
        }
        if text_at(stmt, toks, k) != Some(",") {
            break;
        }
        k += 1;
    }
    Some(Rebuild {
        action: "rewrite",
        on: if names.is_empty() {
            BuildsOn::Many("every table of the database")
        } else {
            BuildsOn::Relations(names)
        },
    })
}

/// The sequences a statement names as a string literal to `setval` or `nextval` (`SELECT
/// setval('s.seq', 10)`, `nextval('"Seq"'::regclass)`), also inside a dollar-quoted body (a
/// `DO` block's, a function's), as SQL writes a relation name: what a rollback would not
/// undo, so what to check before the statement runs.
pub(crate) fn sequences_set(stmt: &str) -> Vec<String> {
    let toks = body_tokens(stmt).unwrap_or_else(|| tokens(stmt));
    let mut out = Vec::new();
    for k in 0..toks.len() {
        let call = matches!(word_at(&toks, k).as_deref(), Some("SETVAL" | "NEXTVAL"))
            && matches!(toks.get(k + 1), Some((Token::Open(_), _)));
        if !call {
            continue;
        }
        let Some(lit) = text_at(stmt, &toks, k + 2) else {
            continue;
        };
        if let Some(inner) = lit.strip_prefix('\'').and_then(|l| l.strip_suffix('\'')) {
            out.push(inner.replace("''", "'"));
        }
    }
    out
}

/// Whether a statement is maintenance (`ANALYZE`, `VACUUM`, `CHECKPOINT`): it changes no
/// rows and no definitions, though `ANALYZE` of a whole database locks every table the way
/// DDL does.
pub(crate) fn maintenance(stmt: &str) -> bool {
    matches!(
        leading_words(stmt, 1).first().map(String::as_str),
        Some("ANALYZE" | "ANALYSE" | "VACUUM" | "CHECKPOINT")
    )
}

/// Every statement of `sql` that is transaction control, as (line, command).
pub(crate) fn find_transaction_control(sql: &str) -> Vec<(usize, &'static str)> {
    split(sql)
        .iter()
        .filter_map(|s| transaction_control(s.text).map(|c| (s.line, c)))
        .collect()
}

mod commands;
pub(crate) use commands::{counts_rows, is_sql_command};

#[cfg(test)]
mod tests;

/// Whether a statement may change data: anything but a plain read (`SELECT`, `VALUES`,
/// `TABLE`, `SHOW`, `EXPLAIN` without `ANALYZE`) counts as a write, and so does a read
/// that locks rows (`FOR UPDATE`/`FOR SHARE`) or carries a data-changing statement (`WITH
/// ... INSERT`). Conservative: the server's `default_transaction_read_only` catches what
/// text cannot show (a function that writes).
pub(crate) fn may_write(sql: &str) -> bool {
    let words: Vec<String> = sql
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let Some(first) = words.first() else {
        return false;
    };
    let reads = ["select", "values", "table", "show", "with", "explain"];
    if !reads.contains(&first.as_str()) {
        return true;
    }
    let writes = [
        "insert", "update", "delete", "merge", "truncate", "analyze", "copy", "into", "create",
        "drop", "alter", "lock", "share", "nextval", "setval", "vacuum",
    ];
    // `SELECT ... FOR UPDATE` / `FOR SHARE` lock rows, which a read-only transaction refuses
    words.iter().any(|w| writes.contains(&w.as_str()))
}

#[cfg(test)]
mod write_tests;
