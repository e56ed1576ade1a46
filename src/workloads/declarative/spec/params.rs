//! `params:`: a workload's parameters. Each has a default, may be limited to a range or
//! to named choices (a choice may carry derived values, e.g. a distance metric's operator
//! and operator class), and may be marked `rebuild` when the loaded schema depends on it.
//! The run config sets them in the workload's section (`vector: {dimensions: 768}`); they
//! are substituted as `{{name}}` (and `{{name.derived}}`) in the workload file, its SQL
//! files and its statement files.

use serde_yaml::{Mapping, Value};

/// One parameter as declared.
#[derive(Debug, Clone)]
pub(crate) struct ParamDef {
    pub(crate) name: String,
    /// One line for `stormbench list` and messages.
    pub(crate) description: String,
    pub(crate) default: String,
    /// Whether the loaded schema depends on it (kept in the schema marker).
    pub(crate) rebuild: bool,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// A number, optionally bounded; integral when the default is.
    Number {
        integer: bool,
        min: Option<f64>,
        max: Option<f64>,
    },
    /// One of named choices, each with derived values (`{{name.key}}`).
    Choice(Vec<(String, Vec<(String, String)>)>),
    /// A word: letters, digits, `_`, `.`, `-`.
    Word,
}

/// How problems with values set in the run config begin (they are not the workload
/// file's).
pub(crate) const CONFIG: &str = "config: ";

/// The resolved parameters of one build of a workload.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params {
    /// Every variable: `name` and `name.derived`, values substituted.
    pub(crate) vars: Vec<(String, String)>,
    /// `name=value` of the parameters the schema depends on, in declaration order.
    pub(crate) schema: Vec<(String, String)>,
    /// Declared parameters.
    pub(crate) defs: Vec<ParamDef>,
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn word_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'))
}

/// Reads the `params:` mapping; problems are `params.NAME: message`.
pub(crate) fn declare(raw: &Mapping, errors: &mut Vec<String>) -> Vec<ParamDef> {
    let mut out = Vec::new();
    for (k, v) in raw {
        let Some(name) = k.as_str() else {
            errors.push("params: parameter names must be strings".into());
            continue;
        };
        let path = format!("params.{name}");
        if !super::ident_ok(name) || name == "scale" || name == "rows" {
            errors.push(format!(
                "{path}: parameter names are lower-case letters, digits and _, starting with a letter (scale and rows are taken)"
            ));
            continue;
        }
        if let Some(def) = declare_one(name, v, &path, errors) {
            out.push(def);
        }
    }
    out
}

/// The choices of a parameter: each name with its derived values.
type Choices = Vec<(String, Vec<(String, String)>)>;

/// One parameter's declaration (`v`, a mapping or the short form `name: default`);
/// `None` when it is unusable.
fn declare_one(name: &str, v: &Value, path: &str, errors: &mut Vec<String>) -> Option<ParamDef> {
    let map = match v {
        Value::Mapping(m) => m.clone(),
        other => {
            // the short form: `name: default`
            let mut m = Mapping::new();
            m.insert("default".into(), other.clone());
            m
        }
    };
    let (mut def, bounds, choices) = read_keys(name, &map, path, errors);
    // an empty text default (`default: ""`) is an optional word, e.g. a folder
    let optional =
        def.default.is_empty() && map.get("default").is_some_and(|v| v.as_str() == Some(""));
    if def.default.is_empty() && !optional {
        errors.push(format!("{path}: missing default"));
        return None;
    }
    def.kind = kind(&def.default, choices, optional, bounds, path, errors)?;
    if let Err(e) = def.check(&def.default) {
        errors.push(format!("{path}.default: {e}"));
    }
    Some(def)
}

/// The keys of a declaration: the parameter (its kind still to settle), its bounds
/// (min, max) and its choices.
fn read_keys(
    name: &str,
    map: &Mapping,
    path: &str,
    errors: &mut Vec<String>,
) -> (ParamDef, (Option<f64>, Option<f64>), Option<Choices>) {
    let mut def = ParamDef {
        name: name.to_string(),
        description: String::new(),
        default: String::new(),
        rebuild: false,
        kind: Kind::Word,
    };
    let mut min = None;
    let mut max = None;
    let mut choices = None;
    for (key, val) in map {
        match key.as_str().unwrap_or_default() {
            "default" => match scalar(val) {
                Some(s) => def.default = s,
                None => errors.push(format!("{path}.default: give a number or a word")),
            },
            "description" => def.description = scalar(val).unwrap_or_default(),
            "rebuild" => match val.as_bool() {
                Some(b) => def.rebuild = b,
                None => errors.push(format!("{path}.rebuild: true or false")),
            },
            "min" => min = val.as_f64().filter(|v| v.is_finite()).or_else(|| {
                errors.push(format!("{path}.min: a finite number"));
                None
            }),
            "max" => max = val.as_f64().filter(|v| v.is_finite()).or_else(|| {
                errors.push(format!("{path}.max: a finite number"));
                None
            }),
            "choices" => choices = Some(parse_choices(val, path, errors)),
            other => errors.push(format!(
                "{path}: unknown key '{other}'; keys: default, description, rebuild, min, max, choices"
            )),
        }
    }
    (def, (min, max), choices)
}

/// The kind `default` makes of a parameter: one of its choices, a number (integral
/// when the default is) or a word; `None` when the default is none of these.
fn kind(
    default: &str,
    choices: Option<Choices>,
    optional: bool,
    (min, max): (Option<f64>, Option<f64>),
    path: &str,
    errors: &mut Vec<String>,
) -> Option<Kind> {
    Some(match choices {
        Some(c) => {
            if !c.iter().any(|(n, _)| *n == default) {
                errors.push(format!(
                    "{path}.default: '{}' is not one of the choices ({})",
                    default,
                    c.iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            Kind::Choice(c)
        }
        None if optional => Kind::Word,
        None => match default.parse::<f64>() {
            Ok(_) => Kind::Number {
                integer: default.parse::<i64>().is_ok(),
                min,
                max,
            },
            Err(_) if word_ok(default) => Kind::Word,
            Err(_) => {
                errors.push(format!(
                    "{path}.default: '{}' is neither a number nor a word (letters, digits, _ . - /); use choices for other text",
                    default
                ));
                return None;
            }
        },
    })
}

fn parse_choices(v: &Value, path: &str, errors: &mut Vec<String>) -> Choices {
    let mut out = Vec::new();
    match v {
        Value::Sequence(s) => {
            for x in s {
                match scalar(x) {
                    Some(n) if word_ok(&n) => out.push((n, Vec::new())),
                    _ => errors.push(format!("{path}.choices: each choice is a word")),
                }
            }
        }
        Value::Mapping(m) => {
            for (k, derived) in m {
                let Some(n) = scalar(k).filter(|n| word_ok(n)) else {
                    errors.push(format!("{path}.choices: each choice is a word"));
                    continue;
                };
                let mut d = Vec::new();
                match derived {
                    Value::Null => {}
                    Value::Mapping(dm) => {
                        for (dk, dv) in dm {
                            match (dk.as_str(), scalar(dv)) {
                                (Some(key), Some(val)) if super::ident_ok(key) => {
                                    d.push((key.to_string(), val))
                                }
                                _ => errors.push(format!(
                                    "{path}.choices.{n}: derived values are `key: value` with lower-case keys"
                                )),
                            }
                        }
                    }
                    _ => errors.push(format!(
                        "{path}.choices.{n}: give a mapping of derived values (or nothing)"
                    )),
                }
                out.push((n, d));
            }
        }
        _ => errors.push(format!(
            "{path}.choices: a list of words or a mapping of choice to derived values"
        )),
    }
    if out.is_empty() {
        errors.push(format!("{path}.choices: give at least one choice"));
    }
    // every choice derives the same keys, so `{{name.key}}` is defined whatever is chosen
    if let Some((first, keys)) = out.first() {
        let mut want: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
        want.sort_unstable();
        for (n, d) in &out[1..] {
            let mut got: Vec<&str> = d.iter().map(|(k, _)| k.as_str()).collect();
            got.sort_unstable();
            if got != want {
                errors.push(format!(
                    "{path}.choices.{n}: derives {{{}}} but {first} derives {{{}}}; give every choice the same keys",
                    got.join(", "),
                    want.join(", ")
                ));
            }
        }
    }
    out
}

impl ParamDef {
    /// Checks a value for this parameter; the message says what is allowed.
    fn check(&self, value: &str) -> Result<(), String> {
        match &self.kind {
            Kind::Number { integer, min, max } => {
                let v: f64 = value
                    .parse()
                    .ok()
                    .filter(|v: &f64| v.is_finite())
                    .ok_or_else(|| format!("'{value}' is not a number"))?;
                if *integer && value.parse::<i64>().is_err() {
                    return Err(format!("'{value}' is not an integer"));
                }
                if min.is_some_and(|m| v < m) || max.is_some_and(|m| v > m) {
                    return Err(format!(
                        "{value} is outside {}..{}",
                        min.map_or("".into(), |m| m.to_string()),
                        max.map_or("".into(), |m| m.to_string())
                    ));
                }
                Ok(())
            }
            Kind::Choice(c) => {
                if c.iter().any(|(n, _)| n == value) {
                    Ok(())
                } else {
                    Err(format!(
                        "'{value}' is not one of {}",
                        c.iter()
                            .map(|(n, _)| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }
            }
            Kind::Word => {
                if value.is_empty() || word_ok(value) {
                    Ok(())
                } else {
                    Err(format!(
                        "'{value}' must be a word (letters, digits, _ . - /)"
                    ))
                }
            }
        }
    }

    /// Allowed values, for messages and listings.
    pub(crate) fn allowed(&self) -> String {
        match &self.kind {
            Kind::Number { integer, min, max } => format!(
                "{}{}",
                if *integer { "an integer" } else { "a number" },
                match (min, max) {
                    (Some(a), Some(b)) => format!(" in {a}..{b}"),
                    (Some(a), None) => format!(" >= {a}"),
                    (None, Some(b)) => format!(" <= {b}"),
                    (None, None) => String::new(),
                }
            ),
            Kind::Choice(c) => format!(
                "one of {}",
                c.iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Kind::Word => "a word".into(),
        }
    }
}

/// Resolves the declared parameters with the run config's `overrides` (the workload's
/// section: keys not declared are left to the caller). `scale` is a variable too.
/// Problems name `section` (the run config's section name) for values set there.
pub(crate) fn resolve(
    defs: Vec<ParamDef>,
    overrides: &Mapping,
    section: &str,
    scale: u64,
    errors: &mut Vec<String>,
) -> Params {
    let mut vars: Vec<(String, String)> = vec![("scale".into(), scale.to_string())];
    let mut schema = Vec::new();
    for def in &defs {
        let value = match overrides.get(def.name.as_str()) {
            Some(v) => match scalar(v) {
                Some(s) => match def.check(&s) {
                    Ok(()) => s,
                    Err(e) => {
                        errors.push(format!(
                            "{CONFIG}{section}.{}: {e}; the parameter takes {}",
                            def.name,
                            def.allowed()
                        ));
                        def.default.clone()
                    }
                },
                None => {
                    errors.push(format!(
                        "{CONFIG}{section}.{}: give {}",
                        def.name,
                        def.allowed()
                    ));
                    def.default.clone()
                }
            },
            None => def.default.clone(),
        };
        if let Kind::Choice(c) = &def.kind {
            if let Some((_, derived)) = c.iter().find(|(n, _)| *n == value) {
                for (k, v) in derived {
                    vars.push((format!("{}.{k}", def.name), v.clone()));
                }
            }
        }
        if def.rebuild {
            schema.push((def.name.clone(), value.clone()));
        }
        vars.push((def.name.clone(), value));
    }
    // derived values may name other parameters: expand until nothing changes
    for _ in 0..4 {
        let snapshot = vars.clone();
        let mut changed = false;
        for (k, v) in vars.iter_mut() {
            if !v.contains("{{") {
                continue;
            }
            match super::sql::substitute(v, &refs(&snapshot)) {
                Ok(s) => {
                    changed |= s != *v;
                    *v = s;
                }
                Err(es) => {
                    for e in es {
                        errors.push(format!("params ({k}): {e}"));
                    }
                    v.clear();
                }
            }
        }
        if !changed {
            break;
        }
    }
    if let Some((k, _)) = vars.iter().find(|(_, v)| v.contains("{{")) {
        errors.push(format!(
            "params ({k}): derived values refer to each other in a loop"
        ));
    }
    Params { vars, schema, defs }
}

/// The variables as [`super::sql::substitute`] takes them.
pub(crate) fn refs(vars: &[(String, String)]) -> Vec<(&str, String)> {
    vars.iter().map(|(k, v)| (k.as_str(), v.clone())).collect()
}

/// Substitutes the parameters in the text of a workload file: `{{rows.TABLE}}` (known only
/// after compiling) is left as written for the SQL files; any other unknown name is an
/// error.
pub(crate) fn substitute_file(
    text: &str,
    vars: &[(String, String)],
) -> Result<String, Vec<String>> {
    if !text.contains("{{") {
        return Ok(text.to_string());
    }
    let mut all = refs(vars);
    // leave {{rows.x}} for later: substitute it by itself
    let mut rows = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        if let Some(j) = after.find("}}") {
            let name = after[..j].trim();
            if name.starts_with("rows.") && !rows.contains(&name.to_string()) {
                rows.push(name.to_string());
            }
            rest = &after[j + 2..];
        } else {
            break;
        }
    }
    for r in &rows {
        all.push((r.as_str(), format!("{{{{{r}}}}}")));
    }
    super::sql::substitute(&unquote_numbers(text, vars), &all)
}

/// `"{{name}}"` (or single-quoted) whose value is a number or a boolean loses its quotes,
/// so `max: "{{width}}"` reads as the number, as it would unquoted.
fn unquote_numbers(text: &str, vars: &[(String, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        let quote = rest[..i].chars().last().filter(|c| *c == '"' || *c == '\'');
        let close = rest[i..].find("}}").map(|j| i + j);
        let bare = match (quote, close) {
            (Some(q), Some(j)) if rest[j + 2..].starts_with(q) => {
                let name = rest[i + 2..j].trim();
                vars.iter()
                    .find(|(k, _)| k == name)
                    .filter(|(_, v)| {
                        v.parse::<f64>().is_ok_and(f64::is_finite) || v == "true" || v == "false"
                    })
                    .map(|(_, v)| (v.clone(), j))
            }
            _ => None,
        };
        match bare {
            Some((v, j)) => {
                out.push_str(&rest[..i - 1]);
                out.push_str(&v);
                rest = &rest[j + 3..];
            }
            None => {
                out.push_str(&rest[..i + 2]);
                rest = &rest[i + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(y: &str) -> Mapping {
        serde_yaml::from_str(y).unwrap()
    }

    #[test]
    fn defaults_overrides_and_derived_values() {
        let mut errors = Vec::new();
        let defs = declare(
            &parse(
                r#"
dimensions: {default: 128, min: 1, max: 16000, rebuild: true}
metric:
  default: l2
  rebuild: true
  choices:
    l2: {op: "<->", ops: vector_l2_ops}
    inner: {op: "<#>", ops: vector_ip_ops}
m: 16
index:
  default: hnsw
  choices:
    hnsw: {using: "hnsw (embedding {{metric.ops}}) WITH (m = {{m}})"}
    none: {using: ""}
"#,
            ),
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:?}");
        let p = resolve(
            defs.clone(),
            &parse("{dimensions: 768, metric: inner}"),
            "vector",
            3,
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:?}");
        let get = |k: &str| p.vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("dimensions"), Some("768"));
        assert_eq!(get("metric.op"), Some("<#>"));
        assert_eq!(get("scale"), Some("3"));
        assert_eq!(
            get("index.using"),
            Some("hnsw (embedding vector_ip_ops) WITH (m = 16)")
        );
        assert_eq!(
            p.schema,
            vec![
                ("dimensions".to_string(), "768".to_string()),
                ("metric".to_string(), "inner".to_string())
            ]
        );
        let text = substitute_file("d: {{dimensions}} n: {{rows.items}}", &p.vars).unwrap();
        assert_eq!(text, "d: 768 n: {{rows.items}}");
        // a quoted whole-value reference to a number reads as the number; text stays quoted
        let text = substitute_file(
            "a: \"{{dimensions}}\", b: '{{m}}', c: \"{{metric.op}}\", d: \"x{{m}}\"",
            &p.vars,
        )
        .unwrap();
        assert_eq!(text, "a: 768, b: 16, c: \"<#>\", d: \"x16\"");
        assert!(substitute_file("{{nope}}", &p.vars).unwrap_err()[0].contains("unknown variable"));
    }

    #[test]
    fn bad_values_name_the_section_and_what_is_allowed() {
        let mut errors = Vec::new();
        let defs = declare(
            &parse("{k: {default: 10, min: 1, max: 1000}, metric: {default: l2, choices: [l2, cosine]}}"),
            &mut errors,
        );
        resolve(
            defs,
            &parse("{k: 0, metric: hamming}"),
            "vector",
            1,
            &mut errors,
        );
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].starts_with("config: vector.k: 0 is outside 1..1000"),
            "{}",
            errors[0]
        );
        assert!(
            errors[1].contains("'hamming' is not one of l2, cosine"),
            "{}",
            errors[1]
        );
        let mut errors = Vec::new();
        declare(&parse("{k: {default: 1.5, min: 2}, bad: {default: 'a b'}, c: {default: x, choices: {x: {a: 1}, y: {b: 2}}}}"), &mut errors);
        assert_eq!(errors.len(), 3, "{errors:?}");
        let mut errors = Vec::new();
        let defs = declare(&parse("{k: {default: 10}}"), &mut errors);
        resolve(defs, &parse("{k: 1.5}"), "w", 1, &mut errors);
        assert!(errors[0].contains("not an integer"), "{errors:?}");
        // a bound that is no number would let every value through
        let mut errors = Vec::new();
        declare(
            &parse("{k: {default: 1, min: .nan, max: .inf}}"),
            &mut errors,
        );
        assert!(
            errors
                .iter()
                .any(|e| e.contains("params.k.min: a finite number"))
                && errors
                    .iter()
                    .any(|e| e.contains("params.k.max: a finite number")),
            "{errors:?}"
        );
    }
}
