//! Compiling the schema side of `workload.yaml`: its SQL files, `after_load` steps,
//! measures, settings and requirements, and the check that every sequence fits its
//! column.

use super::*;

impl Compiler<'_> {
    /// `schema.after_load`: files, or named steps of a file or SQL.
    pub(super) fn steps(&mut self, raw: &Steps, vars: &[(&str, String)]) -> Vec<LoadStep> {
        let entries = match raw {
            Steps::One(f) => vec![(
                String::from("schema.after_load"),
                StepEntry::File(f.clone()),
            )],
            Steps::Many(v) => v
                .iter()
                .enumerate()
                .map(|(i, e)| (format!("schema.after_load[{i}]"), e.clone()))
                .collect(),
        };
        let mut out = Vec::new();
        for (path, e) in entries {
            let (label, text, timed) = match e {
                StepEntry::File(f) => match self.read(&path, &f) {
                    Some(t) => (f, t, None),
                    None => continue,
                },
                StepEntry::Named(n) => {
                    if n.name.trim().is_empty() {
                        self.err(&path, "a named step needs a name");
                        continue;
                    }
                    match (n.file, n.sql) {
                        (Some(f), None) => match self.read(&path, &f) {
                            Some(t) => (f, t, Some(n.name)),
                            None => continue,
                        },
                        (None, Some(sql)) => (path.clone(), sql, Some(n.name)),
                        _ => {
                            self.err(&path, "give file or sql (one of them)");
                            continue;
                        }
                    }
                }
            };
            match sql::substitute(&text, vars) {
                Ok(sql) => out.push(LoadStep { label, sql, timed }),
                Err(es) => {
                    for e in es {
                        self.err(&format!("{path} ({label})"), e);
                    }
                }
            }
        }
        let mut seen = Vec::new();
        for s in &out {
            if let Some(n) = &s.timed {
                if seen.contains(n) {
                    self.err(
                        "schema.after_load",
                        format!("two steps are named '{n}'; name each once"),
                    );
                }
                seen.push(n.clone());
            }
        }
        out
    }

    /// Schema, after_load and cleanup files (name, SQL) change only objects a set-up
    /// creates: a statement on roles, databases, extensions or the server is refused.
    pub(super) fn own_objects_only<'s>(&mut self, files: impl Iterator<Item = (&'s str, &'s str)>) {
        for (file, sql) in files {
            for stmt in crate::core::script::split(sql) {
                if let Some(cmd) = crate::core::script::beyond_the_workload(stmt.text) {
                    self.err(
                        "schema",
                        format!(
                            "{file}, line {}: {cmd} ({}) changes what the cluster or the whole \
                             database shares, not the workload's own objects; stormbench \
                             cannot check it against what it created: remove it, and do it \
                             yourself if you mean it",
                            stmt.line,
                            stmt.head()
                        ),
                    );
                }
            }
        }
    }

    /// A measure's, check's or transaction statement's SQL (at `path`) acts on the
    /// workload's own objects only: a statement on roles, databases or the server, or a
    /// call of a function acting on other sessions or the server, is refused.
    pub(super) fn within_the_workload(&mut self, path: &str, sql: &str) {
        for stmt in crate::core::script::split(sql) {
            if let Some(cmd) = crate::core::script::beyond_the_workload(stmt.text) {
                self.err(
                    path,
                    format!(
                        "{cmd} ({}) acts beyond the workload's own objects (roles, databases, \
                         the server, other sessions); stormbench cannot check it against \
                         what it created: remove it, and do it yourself if you mean it",
                        stmt.head()
                    ),
                );
            }
        }
    }

    /// `measures:`.
    pub(super) fn measures(
        &mut self,
        raw: &[RawMeasure],
        vars: &[(&str, String)],
    ) -> Vec<(crate::core::measure::Measure, Vec<String>)> {
        use crate::core::measure::{Measure, When};
        let mut out: Vec<(Measure, Vec<String>)> = Vec::new();
        for (i, m) in raw.iter().enumerate() {
            let path = format!("measures[{i}]");
            if !ident_ok(&m.name) {
                self.err(
                    &format!("{path}.name"),
                    "lower-case letters, digits and _, starting with a letter",
                );
                continue;
            }
            if out.iter().any(|(o, _)| o.name == m.name) {
                self.err(
                    &format!("{path}.name"),
                    format!("'{}' is defined twice", m.name),
                );
            }
            let text = match (&m.sql, &m.file) {
                (Some(q), None) => q.clone(),
                (None, Some(f)) => match self.read(&format!("{path}.file"), f) {
                    Some(t) => t,
                    None => continue,
                },
                _ => {
                    self.err(&path, "give sql or file (one of them)");
                    continue;
                }
            };
            let sql = match sql::substitute(&text, vars) {
                Ok(s) => s.trim().trim_end_matches(';').trim().to_string(),
                Err(es) => {
                    for e in es {
                        self.err(&path, e);
                    }
                    continue;
                }
            };
            self.within_the_workload(&path, &sql);
            let when = match m.when.as_deref().unwrap_or("after_run") {
                "after_run" => When::AfterRun,
                "after_load" => When::AfterLoad,
                "interval" => When::Interval,
                other => {
                    self.err(
                        &format!("{path}.when"),
                        format!("'{other}' is not after_run, after_load or interval"),
                    );
                    continue;
                }
            };
            let every = match &m.every {
                None => std::time::Duration::from_secs(10),
                Some(t) => match crate::config::Dur::parse(t) {
                    Ok(d) if d.0 >= std::time::Duration::from_millis(100) => d.0,
                    _ => {
                        self.err(
                            &format!("{path}.every"),
                            format!("'{t}' is not a duration of at least 100ms, e.g. 10s"),
                        );
                        continue;
                    }
                },
            };
            if m.every.is_some() && when != When::Interval {
                self.err(
                    &format!("{path}.every"),
                    "only an interval measure has a period; add when: interval",
                );
            }
            out.push((
                Measure {
                    name: m.name.clone(),
                    sql,
                    when,
                    every,
                    unit: m.unit.clone().unwrap_or_default(),
                    description: m.description.clone().unwrap_or_default(),
                },
                m.modes.clone(),
            ));
        }
        out
    }

    /// `settings:`: names as PostgreSQL spells them (`work_mem`, `hnsw.ef_search`),
    /// scalar values.
    pub(super) fn settings(&mut self, raw: &serde_yaml::Mapping) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (k, v) in raw {
            let name = k.as_str().unwrap_or_default();
            let path = format!("settings.{name}");
            let ok = !name.is_empty()
                && name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
            if !ok {
                self.err(
                    &path,
                    "a setting's name is lower-case letters, digits, _ and . (e.g. hnsw.ef_search)",
                );
                continue;
            }
            let value = match v {
                serde_yaml::Value::Number(n) => n.to_string(),
                serde_yaml::Value::String(s) => s.clone(),
                serde_yaml::Value::Bool(b) => {
                    if *b {
                        "on".into()
                    } else {
                        "off".into()
                    }
                }
                _ => {
                    self.err(&path, "give a number, a word or a quoted string");
                    continue;
                }
            };
            if value.chars().any(|c| c.is_control()) {
                self.err(&path, "the value must be on one line");
                continue;
            }
            out.push((name.to_string(), value));
        }
        out
    }

    /// Every value a data table's sequence loads must fit its column: the integer type
    /// the schema files declare for it, else `bigint` (the generator's own type).
    pub(super) fn sequences_fit(&mut self, ranges: &[TableRange], create: &[(String, String)]) {
        for (i, t) in ranges.iter().enumerate() {
            if t.rows == 0 || t.rows > MAX_ROWS {
                continue;
            }
            for (col, start, step) in &t.sequences {
                let (ty, min, max) = int_column(create, &t.name, col).unwrap_or(BIGINT);
                let last = *start as i128 + *step as i128 * (t.rows as i128 - 1);
                let bad = [*start as i128, last]
                    .into_iter()
                    .find(|v| *v < min as i128 || *v > max as i128);
                if let Some(v) = bad {
                    let (row, limit) = if v == *start as i128 {
                        (1, if v < 0 { min } else { max })
                    } else {
                        (t.rows, if v < 0 { min } else { max })
                    };
                    self.err(
                        &format!("data[{i}].columns.{col}.sequence"),
                        format!(
                            "reaches {v} at row {row} of {} (start {start}, step {step}), beyond the {ty} limit {limit}; lower start, step or the row count, or widen the column",
                            t.rows
                        ),
                    );
                }
            }
        }
    }

    pub(super) fn files(
        &mut self,
        path: &str,
        files: &Files,
        vars: &[(&str, String)],
    ) -> Vec<(String, String)> {
        let list = files.list();
        let mut out = Vec::new();
        for (i, f) in list.iter().enumerate() {
            let p = match files {
                Files::One(_) => path.to_string(),
                Files::Many(_) => format!("{path}[{i}]"),
            };
            let Some(text) = self.read(&p, f) else {
                continue;
            };
            match sql::substitute(&text, vars) {
                Ok(t) => out.push((f.clone(), t)),
                Err(es) => {
                    for e in es {
                        self.err(&format!("{p} ({f})"), e);
                    }
                }
            }
        }
        out
    }

    pub(super) fn requires(&mut self, r: &RawRequires) -> (Option<(u32, String)>, Vec<String>) {
        let min = r.server_version.as_ref().and_then(|v| {
            let s = match v {
                serde_yaml::Value::Number(n) => n.to_string(),
                serde_yaml::Value::String(s) => s.clone(),
                _ => String::new(),
            };
            let mut parts = s.split('.');
            let major = parts.next().and_then(|p| p.trim().parse::<u32>().ok());
            let minor = parts.next().map(|p| p.trim().parse::<u32>().ok());
            match (major, minor) {
                (Some(m), None) if m >= 10 => Some((m * 10_000, s)),
                (Some(m), Some(Some(n))) if m >= 10 => Some((m * 10_000 + n, s)),
                _ => {
                    self.err(
                        "requires.server_version",
                        format!("'{s}' is not a PostgreSQL version such as 14 or \"15.2\""),
                    );
                    None
                }
            }
        });
        for (i, e) in r.extensions.iter().enumerate() {
            if !ident_ok(e)
                && !e
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                self.err(
                    &format!("requires.extensions[{i}]"),
                    format!("'{e}' is not an extension name"),
                );
            }
        }
        (min, r.extensions.clone())
    }
}

/// `bigint`: the type of a sequence's values when the schema does not say otherwise.
const BIGINT: (&str, i64, i64) = ("bigint", i64::MIN, i64::MAX);

/// The integer type (name, least and greatest value) that a `CREATE TABLE` of `table` in
/// the schema files gives `col`; `None` when no such column is found or it is not a
/// 2-, 4- or 8-byte integer.
fn int_column(
    files: &[(String, String)],
    table: &str,
    col: &str,
) -> Option<(&'static str, i64, i64)> {
    for (_, sql) in files {
        let text: String = sql
            .lines()
            .map(|l| l.split("--").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n")
            .to_ascii_lowercase();
        let words = words(&text);
        let word = |k: usize| words.get(k).map(|w| w.1);
        for i in 0..words.len() {
            if word(i) != Some("table")
                || !(i.saturating_sub(3)..i).any(|k| word(k) == Some("create"))
            {
                continue;
            }
            let mut j = i + 1;
            if (word(j), word(j + 1), word(j + 2)) == (Some("if"), Some("not"), Some("exists")) {
                j += 3;
            }
            let Some(&(at, name)) = words.get(j) else {
                continue;
            };
            if name.split('(').next().unwrap_or_default().trim_matches('"') != table {
                continue;
            }
            // the column list: from the first `(` after the name to its matching `)`
            let Some(body) = column_list(&text[at..]) else {
                continue;
            };
            for item in split_top_level(body) {
                let mut parts = item.split_whitespace();
                if parts.next().map(|c| c.trim_matches('"')) != Some(col) {
                    continue;
                }
                let ty = parts.next().unwrap_or_default();
                return match ty.split(|c: char| !c.is_ascii_alphanumeric()).next() {
                    Some("smallint" | "int2" | "smallserial" | "serial2") => {
                        Some(("smallint", i16::MIN.into(), i16::MAX.into()))
                    }
                    Some("integer" | "int" | "int4" | "serial" | "serial4") => {
                        Some(("integer", i32::MIN.into(), i32::MAX.into()))
                    }
                    Some("bigint" | "int8" | "bigserial" | "serial8") => Some(BIGINT),
                    _ => None,
                };
            }
        }
    }
    None
}

/// The words of `text` (split at whitespace) with their byte offsets.
fn words(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

/// The text inside the first parenthesis of `s` and its matching close.
fn column_list(s: &str) -> Option<&str> {
    let open = s.find('(')?;
    let mut depth = 0usize;
    for (i, c) in s[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&s[open + 1..open + i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// `s` split at the commas outside parentheses.
fn split_top_level(s: &str) -> Vec<&str> {
    let (mut out, mut depth, mut from) = (Vec::new(), 0usize, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&s[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[from..]);
    out
}
