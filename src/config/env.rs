//! `${VAR}` expansion inside the YAML text, before it is parsed.

/// Byte offset where a YAML comment starts on this line (a `#` at the start or after
/// whitespace, outside quotes), if any.
fn comment_start(line: &str) -> Option<usize> {
    let (mut single, mut double) = (false, false);
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single => double = !double,
            '#' if !single && !double && prev.is_whitespace() => return Some(i),
            _ => {}
        }
        prev = c;
    }
    None
}

/// Expands `${VAR}` and `${VAR:-default}` using `lookup`; `$${` stays a literal `${`.
/// Comments are left alone. Every unset variable without a default is reported, with its
/// line number.
pub fn expand(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, Vec<String>> {
    let mut out = String::with_capacity(text.len());
    let mut errors = Vec::new();
    for (lineno, full) in text.split_inclusive('\n').enumerate() {
        let (line, comment) = full.split_at(comment_start(full).unwrap_or(full.len()));
        let mut rest = line;
        while let Some(pos) = rest.find("${") {
            if pos > 0 && rest.as_bytes()[pos - 1] == b'$' {
                out.push_str(&rest[..pos - 1]);
                out.push_str("${");
                rest = &rest[pos + 2..];
                continue;
            }
            out.push_str(&rest[..pos]);
            let after = &rest[pos + 2..];
            let Some(end) = after.find('}') else {
                errors.push(format!(
                    "line {}: unterminated '${{' in config; close it with '}}' or write '$${{' for a literal",
                    lineno + 1
                ));
                out.push_str(&rest[pos..]);
                rest = "";
                break;
            };
            let expr = &after[..end];
            let (name, default) = match expr.split_once(":-") {
                Some((n, d)) => (n.trim(), Some(d)),
                None => (expr.trim(), None),
            };
            match (lookup(name), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => errors.push(format!(
                    "line {}: environment variable {name} is not set; export it or write ${{{name}:-default}}",
                    lineno + 1
                )),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out.push_str(comment);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("db.local".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_set_default_and_literal() {
        let t = "host: ${HOST}\nport: ${PORT:-5433}\nx: '$${HOST}'\ne: '${EMPTY}'\n";
        let got = expand(t, env).unwrap();
        assert_eq!(got, "host: db.local\nport: 5433\nx: '${HOST}'\ne: ''\n");
    }

    #[test]
    fn reports_every_unset_variable_with_its_line() {
        let errs = expand("a: ${NOPE}\nb: ${ALSO_NOPE}\n", env).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert!(errs[0].starts_with("line 1: environment variable NOPE"));
        assert!(errs[1].starts_with("line 2: environment variable ALSO_NOPE"));
    }

    #[test]
    fn comments_are_not_expanded() {
        let t = "# export ${NOPE} first\nhost: ${HOST} # or ${NOPE}\nq: 'a # ${HOST}'\n";
        let got = expand(t, env).unwrap();
        assert_eq!(
            got,
            "# export ${NOPE} first\nhost: db.local # or ${NOPE}\nq: 'a # db.local'\n"
        );
    }

    #[test]
    fn unterminated_is_an_error() {
        assert!(expand("a: ${HOST\n", env).is_err());
    }
}
