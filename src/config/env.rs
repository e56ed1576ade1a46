//! `${VAR}` expansion inside the string values of parsed YAML.
//!
//! The YAML is parsed first and variables are expanded inside string scalars only, so a
//! variable's value is data: it can never add a key, end a value at a `#`, or become a
//! mapping, a sequence, an alias or a tag, whatever characters it holds. Keys are never
//! expanded.

use serde_yaml::Value;

/// Expands `${VAR}` and `${VAR:-default}` in one string using `lookup`; `$${` stays a
/// literal `${`. Returns every problem (an unset variable without a default, an unclosed
/// `${`); messages name variables, never their values.
pub fn expand_str(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, Vec<String>> {
    let mut out = String::with_capacity(s.len());
    let mut errors = Vec::new();
    let mut rest = s;
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
            errors.push(
                "unterminated '${' in config; close it with '}' or write '$${' for a literal"
                    .to_string(),
            );
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
                "environment variable {name} is not set; export it or write ${{{name}:-default}}"
            )),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Whether `s` is exactly one `${...}` expression (not `$${`), nothing around it.
fn single_expression(s: &str) -> bool {
    s.starts_with("${") && s.find('}') == Some(s.len() - 1)
}

/// The scalar a whole-value `${VAR}` stands for, by YAML's scalar rules: `true`/`false`,
/// an integer or a decimal number when the text is exactly how that value is written
/// back (so nothing of the text is lost: `0123`, `1.50`, `+5`, `1e3` stay strings),
/// otherwise the string itself. Never a mapping, a sequence, an alias or a tag.
pub fn scalar(text: String) -> Value {
    match text.as_str() {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(i) = text.parse::<i64>() {
        if i.to_string() == text {
            return Value::Number(i.into());
        }
    }
    if let Ok(u) = text.parse::<u64>() {
        if u.to_string() == text {
            return Value::Number(u.into());
        }
    }
    if text.contains('.') {
        if let Ok(f) = text.parse::<f64>() {
            if f.is_finite() && f.to_string() == text {
                return Value::Number(f.into());
            }
        }
    }
    Value::String(text)
}

/// Expands variables in every string scalar of `value`, keys left alone. A string that
/// is exactly one `${...}` becomes a number or a boolean by [`scalar`], unless `text_key`
/// says its YAML path holds text (a password stays the exact characters of the
/// variable). Every problem is reported, each prefixed by its YAML path.
pub fn expand(
    value: &mut Value,
    lookup: &dyn Fn(&str) -> Option<String>,
    text_key: &dyn Fn(&str) -> bool,
) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    walk(value, "", lookup, text_key, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn walk(
    value: &mut Value,
    path: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    text_key: &dyn Fn(&str) -> bool,
    errors: &mut Vec<String>,
) {
    match value {
        Value::String(s) if s.contains("${") => match expand_str(s, lookup) {
            Ok(text) => {
                *value = if single_expression(s) && !text_key(path) {
                    scalar(text)
                } else {
                    Value::String(text)
                };
            }
            Err(es) => {
                let at = if path.is_empty() { "." } else { path };
                errors.extend(es.into_iter().map(|e| format!("{at}: {e}")));
            }
        },
        Value::Sequence(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                walk(v, &format!("{path}[{i}]"), lookup, text_key, errors);
            }
        }
        Value::Mapping(map) => {
            for (k, v) in map.iter_mut() {
                let key = match k {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => "?".to_string(),
                };
                let p = if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                };
                walk(v, &p, lookup, text_key, errors);
            }
        }
        Value::Tagged(t) => walk(&mut t.value, path, lookup, text_key, errors),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("db.local".into()),
            "EMPTY" => Some(String::new()),
            "PORT" => Some("5433".into()),
            "INJECT" => Some("x\nsslmode: require".into()),
            "PW" => Some("12345".into()),
            "HASH" => Some("se cret #not a comment".into()),
            "COLON" => Some("a: b".into()),
            "STAR" => Some("*alias".into()),
            "FLOW" => Some("{a: 1}".into()),
            _ => None,
        }
    }

    fn no_text_keys(_: &str) -> bool {
        false
    }

    fn expanded(yaml: &str) -> Result<Value, Vec<String>> {
        let mut v: Value = serde_yaml::from_str(yaml).unwrap();
        expand(&mut v, &env, &|p| p == "database.password").map(|_| v)
    }

    #[test]
    fn expands_set_default_and_literal() {
        let v = expanded(
            "host: ${HOST}\nport: ${PORT:-5434}\nx: '$${HOST}'\ne: '${EMPTY}'\nd: ${NOPE:-5434}\n",
        )
        .unwrap();
        assert_eq!(v["host"], Value::String("db.local".into()));
        assert_eq!(v["port"], Value::Number(5433.into()));
        assert_eq!(v["x"], Value::String("${HOST}".into()));
        assert_eq!(v["e"], Value::String(String::new()));
        assert_eq!(v["d"], Value::Number(5434.into()));
    }

    #[test]
    fn reports_every_unset_variable_with_its_path() {
        let errs = expanded("a: ${NOPE}\nb: [x, '${ALSO_NOPE} y']\n").unwrap_err();
        assert_eq!(errs.len(), 2);
        assert!(
            errs[0].starts_with("a: environment variable NOPE is not set"),
            "{errs:?}"
        );
        assert!(
            errs[1].starts_with("b[1]: environment variable ALSO_NOPE"),
            "{errs:?}"
        );
    }

    #[test]
    fn comments_and_keys_are_not_expanded() {
        let v =
            expanded("# export ${NOPE} first\nhost: ${HOST} # or ${NOPE}\n${HOST}: 1\n").unwrap();
        assert_eq!(v["host"], Value::String("db.local".into()));
        assert_eq!(v["${HOST}"], Value::Number(1.into()));
    }

    #[test]
    fn a_value_stays_one_scalar_whatever_it_holds() {
        let v = expanded(
            "database:\n  dbname: ${INJECT}\n  password: ${HASH}\nc: ${COLON}\ns: ${STAR}\nf: ${FLOW}\n",
        )
        .unwrap();
        assert_eq!(
            v["database"]["dbname"],
            Value::String("x\nsslmode: require".into())
        );
        assert!(v["database"].get("sslmode").is_none(), "no injected key");
        assert_eq!(
            v["database"]["password"],
            Value::String("se cret #not a comment".into())
        );
        assert_eq!(v["c"], Value::String("a: b".into()));
        assert_eq!(v["s"], Value::String("*alias".into()));
        assert_eq!(v["f"], Value::String("{a: 1}".into()));
    }

    #[test]
    fn a_numeric_password_stays_text_and_other_numbers_are_typed() {
        let v = expanded("database:\n  password: ${PW}\n  port: ${PW}\nmix: pre${PW}\n").unwrap();
        assert_eq!(v["database"]["password"], Value::String("12345".into()));
        assert_eq!(v["database"]["port"], Value::Number(12345.into()));
        assert_eq!(v["mix"], Value::String("pre12345".into()));
    }

    #[test]
    fn only_exact_spellings_become_numbers_or_booleans() {
        for (text, typed) in [
            ("5433", true),
            ("-7", true),
            ("18446744073709551615", true),
            ("0.25", true),
            ("true", true),
            ("0123", false),
            ("1.50", false),
            ("+5", false),
            ("1e3", false),
            ("0x1F", false),
            ("True", false),
            ("NaN", false),
            ("inf", false),
            ("", false),
        ] {
            let v = scalar(text.to_string());
            assert_eq!(!v.is_string(), typed, "{text:?} -> {v:?}");
        }
        let mut v: Value = serde_yaml::from_str("a: ${X}").unwrap();
        expand(&mut v, &|_| Some("1.50".into()), &no_text_keys).unwrap();
        assert_eq!(v["a"], Value::String("1.50".into()));
    }

    #[test]
    fn unterminated_is_an_error() {
        let e = expanded("a: ${HOST\n").unwrap_err();
        assert!(e[0].starts_with("a: unterminated '${'"), "{e:?}");
    }
}
