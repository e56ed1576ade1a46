//! Light SQL scanning: `$n` placeholders (outside strings, quoted identifiers and
//! comments), `{{variable}}` substitution in schema files, and table names created.

/// The `$n` numbers a statement uses, in order of appearance (repeats included).
pub(crate) fn placeholders(sql: &str) -> Vec<usize> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' => i = skip_quoted(b, i, b'\''),
            b'"' => i = skip_quoted(b, i, b'"'),
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'$' => {
                let prev_ident = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
                let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
                if digits > 0 && !prev_ident {
                    if let Ok(n) = sql[i + 1..i + 1 + digits].parse() {
                        out.push(n);
                    }
                    i += 1 + digits;
                } else if let Some(end) = dollar_tag_end(b, i).filter(|_| !prev_ident) {
                    // $tag$ ... $tag$
                    let tag = &b[i..end];
                    let mut j = end;
                    while j < b.len() && !b[j..].starts_with(tag) {
                        j += 1;
                    }
                    i = j + tag.len();
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out
}

fn skip_quoted(b: &[u8], start: usize, q: u8) -> usize {
    let mut i = start + 1;
    while i < b.len() {
        if b[i] == q {
            if b.get(i + 1) == Some(&q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    i
}

/// For `$tag$` starting at `i`, the index after the closing `$` of the opening tag.
fn dollar_tag_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
        j += 1;
    }
    (j < b.len() && b[j] == b'$').then_some(j + 1)
}

/// Checks placeholders against `params` declared parameters: every `$1..$n` used, none
/// beyond. Returns a message saying what to fix.
pub(crate) fn check_placeholders(sql: &str, params: usize) -> Option<String> {
    let used = placeholders(sql);
    let max = used.iter().copied().max().unwrap_or(0);
    if used.contains(&0) {
        return Some("uses $0; parameters are numbered from $1".into());
    }
    if max != params {
        return Some(format!(
            "the SQL uses {} parameter{} ($1..${max}) but params lists {params}; give exactly one generator per parameter",
            max,
            if max == 1 { "" } else { "s" }
        ));
    }
    let missing: Vec<String> = (1..=max)
        .filter(|n| !used.contains(n))
        .map(|n| format!("${n}"))
        .collect();
    if !missing.is_empty() {
        return Some(format!(
            "{} never appear{} in the SQL (the server cannot infer their type); renumber the parameters",
            missing.join(", "),
            if missing.len() == 1 { "s" } else { "" }
        ));
    }
    None
}

/// Replaces `{{name}}` by the variable's value; unknown names are returned as errors.
pub(crate) fn substitute(text: &str, vars: &[(&str, String)]) -> Result<String, Vec<String>> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut errors = Vec::new();
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            errors.push("'{{' without a closing '}}'".to_string());
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let name = after[..close].trim();
        match vars.iter().find(|(k, _)| *k == name) {
            Some((_, v)) => out.push_str(v),
            None => errors.push(format!(
                "unknown variable {{{{{name}}}}}; variables: {}",
                vars.iter()
                    .map(|(k, _)| format!("{{{{{k}}}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Names of the tables a schema file creates (`CREATE [UNLOGGED] TABLE [IF NOT EXISTS] x`),
/// lower-cased unless quoted.
pub(crate) fn created_tables(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let words: Vec<&str> = sql
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .flat_map(|l| l.split(|c: char| c.is_whitespace() || c == '('))
        .filter(|w| !w.is_empty())
        .collect();
    let mut i = 0;
    while i + 2 < words.len() {
        if words[i].eq_ignore_ascii_case("create") {
            let mut j = i + 1;
            while j < words.len()
                && ["unlogged", "temp", "temporary", "global", "local"]
                    .iter()
                    .any(|k| words[j].eq_ignore_ascii_case(k))
            {
                j += 1;
            }
            if j + 1 < words.len() && words[j].eq_ignore_ascii_case("table") {
                j += 1;
                if j + 3 < words.len()
                    && words[j].eq_ignore_ascii_case("if")
                    && words[j + 1].eq_ignore_ascii_case("not")
                    && words[j + 2].eq_ignore_ascii_case("exists")
                {
                    j += 3;
                }
                let name = words[j].trim_end_matches(';');
                let name = if name.starts_with('"') {
                    name.trim_matches('"').to_string()
                } else {
                    name.to_ascii_lowercase()
                };
                if !name.is_empty() && !out.contains(&name) {
                    out.push(name);
                }
                i = j;
            }
        }
        i += 1;
    }
    out
}

/// Whether `s` is a plain (optionally schema-qualified) SQL identifier that needs no
/// quoting: lower-case letters, digits, underscores.
pub(crate) fn plain_identifier(s: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && p.len() <= 63
            && p.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    match s.split_once('.') {
        Some((a, b)) => part(a) && part(b),
        None => part(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_skip_strings_comments_and_dollar_quotes() {
        let sql =
            "SELECT $1, '$2', \"a$3\", x$4 -- $5\n /* $6 */ $$ $7 $$, $tag$ $8 $tag$, $2::int";
        assert_eq!(placeholders(sql), vec![1, 2]);
        assert_eq!(check_placeholders(sql, 2), None);
        assert!(check_placeholders(sql, 3)
            .unwrap()
            .contains("params lists 3"));
        assert!(check_placeholders("SELECT $1, $3", 3)
            .unwrap()
            .contains("$2 never appears"));
    }

    #[test]
    fn variables_are_substituted() {
        let vars = [("scale", "3".to_string())];
        assert_eq!(
            substitute("CHECK (x < {{ scale }} * 10)", &vars).unwrap(),
            "CHECK (x < 3 * 10)"
        );
        let e = substitute("{{rows}}", &vars).unwrap_err().join("");
        assert!(e.contains("unknown variable {{rows}}"), "{e}");
    }

    #[test]
    fn created_tables_are_found() {
        let sql = "CREATE TABLE IF NOT EXISTS bank_accounts (id int);\ncreate unlogged table Hist(\n x int);\n-- CREATE TABLE nope (x int)\nCREATE INDEX i ON hist (x);";
        assert_eq!(created_tables(sql), vec!["bank_accounts", "hist"]);
    }

    #[test]
    fn identifiers() {
        assert!(plain_identifier("bank_accounts"));
        assert!(plain_identifier("s.t1"));
        assert!(!plain_identifier("Bank"));
        assert!(!plain_identifier("a; drop"));
    }
}
