//! `workload.yaml`: the raw, strictly parsed file and its compiled form. Every problem is
//! reported at once, as `FILE: YAML.PATH: what to fix`.

use std::path::{Path, PathBuf};

use super::gen::{self, Ctx, Gen, TableRange};
use super::sql;
use crate::config::yaml;
use crate::core::registry::parse_section_lenient;

pub(crate) mod params;
mod raw;
mod transaction;

pub(crate) use raw::*;

/// The file a workload folder must hold.
pub(crate) const FILE_NAME: &str = "workload.yaml";

/// Most rows of one data table at the compiled scale: 10^12. Loading that many takes
/// weeks; the bound keeps row numbers, sequence values and row totals far from the
/// limits of 64-bit integers.
pub(crate) const MAX_ROWS: u64 = 1_000_000_000_000;

/// A data table, compiled.
#[derive(Debug, Clone)]
pub(crate) struct DataTable {
    /// Table name.
    pub(crate) name: String,
    /// Rows at this scale.
    pub(crate) rows: u64,
    /// Column generators in COPY order.
    pub(crate) columns: Vec<Gen>,
    /// `COPY name (c1, ...) FROM STDIN`.
    pub(crate) copy_sql: String,
    /// Whether a column reads earlier ones (`same_as`, `template`, `pick`, `derived`), so
    /// rows keep their values.
    pub(crate) same_as: bool,
    /// Per column: a helper column (its name starts with `_`): generated for the columns
    /// after it to read, not loaded.
    pub(crate) hidden: Vec<bool>,
    /// Column names, helper columns included, in generation order.
    pub(crate) names: Vec<String>,
}

/// Where a parameter's value comes from.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    /// Drawn from a generator.
    Gen(Gen),
    /// A transaction variable (index into the transaction's vars).
    Var(usize),
    /// A value returned by an earlier statement (index into the transaction's slots).
    Returned(usize),
}

/// A statement, compiled.
#[derive(Debug, Clone)]
pub(crate) struct Statement {
    /// `transaction.name` or `transaction[i]`, for messages.
    pub(crate) label: String,
    /// Its YAML path.
    pub(crate) path: String,
    pub(crate) sql: String,
    /// Parameters, `$1` first.
    pub(crate) params: Vec<Param>,
    /// Returned columns later statements use: column name, slot.
    pub(crate) captures: Vec<(String, usize)>,
    /// `inserts:`: the slot of the new row's key, recorded once the transaction commits,
    /// and the table's keys it joins.
    pub(crate) inserts: Option<(usize, std::sync::Arc<super::gen::NewKeys>)>,
}

/// A transaction, compiled.
#[derive(Debug, Clone)]
pub(crate) struct Transaction {
    pub(crate) name: String,
    /// `BEGIN ...` when the statements run in an explicit transaction block.
    pub(crate) begin: Option<String>,
    /// Per-transaction variables.
    pub(crate) vars: Vec<Gen>,
    pub(crate) statements: Vec<Statement>,
    /// Returned-value slots.
    pub(crate) slots: usize,
    /// A COPY transaction (then there are no statements).
    pub(crate) copy: Option<CopyTx>,
    /// What makes it a deliberate rollback.
    pub(crate) rollback: RollbackIf,
}

/// What makes a transaction a deliberate rollback.
#[derive(Debug, Clone, Default)]
pub(crate) struct RollbackIf {
    /// Errors with these SQLSTATEs.
    pub(crate) sqlstates: Vec<String>,
    /// After statement `.0`, the returned value in slot `.1`: NULL (no row) always rolls
    /// back; false too when `.2`.
    pub(crate) check: Option<(usize, usize, bool)>,
}

/// Rows streamed with COPY, one COPY per transaction.
#[derive(Debug, Clone)]
pub(crate) struct CopyTx {
    /// `COPY table (c1, ...) FROM STDIN`.
    pub(crate) sql: String,
    /// Rows per COPY.
    pub(crate) rows: u64,
    /// Column generators in COPY order.
    pub(crate) columns: Vec<Gen>,
}

/// A workload, compiled at a scale.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    /// Name (the folder's name).
    pub(crate) name: String,
    /// The `workload.yaml` path.
    pub(crate) file: PathBuf,
    /// One line.
    pub(crate) description: String,
    /// What scale means.
    pub(crate) scale_meaning: String,
    /// Minimum `server_version_num`, and its spelling.
    pub(crate) min_server: Option<(u32, String)>,
    /// Required extensions.
    pub(crate) extensions: Vec<String>,
    /// Schema files (label, SQL with variables substituted).
    pub(crate) create: Vec<(String, String)>,
    /// After-load steps.
    pub(crate) after_load: Vec<LoadStep>,
    /// Cleanup files (empty: drop every table).
    pub(crate) cleanup: Vec<(String, String)>,
    /// Tables created or loaded.
    pub(crate) tables: Vec<String>,
    /// Tables to load, in order.
    pub(crate) data: Vec<DataTable>,
    /// Transactions, in order (kind = index).
    pub(crate) transactions: Vec<Transaction>,
    /// Modes: name, weight per transaction (of every group, in a mode with groups).
    pub(crate) modes: Vec<(String, Vec<f64>)>,
    /// Modes with worker groups: mode name, its groups.
    pub(crate) groups: Vec<(String, Vec<GroupDef>)>,
    /// Suite modes: mode name, the transactions in order and the passes.
    pub(crate) suites: Vec<(String, Vec<usize>, u64)>,
    /// Transactions whose plan quality is reported (`transactions_from.explain`).
    pub(crate) explain: Vec<usize>,
    /// Checks: name, SQL.
    pub(crate) checks: Vec<(String, String)>,
    /// Run checks after each run.
    pub(crate) check_after_run: bool,
    /// Sequence generators (per-worker counters).
    pub(crate) sequences: usize,
    /// The workload's parameters, resolved.
    pub(crate) params: params::Params,
    /// Server settings of every session of a run.
    pub(crate) settings: Vec<(String, String)>,
    /// Measures, each with the modes it is taken in (empty: every mode).
    pub(crate) measures: Vec<(crate::core::measure::Measure, Vec<String>)>,
}

/// A worker group of a mode: its own transaction mix, workers and rate.
#[derive(Debug, Clone)]
pub(crate) struct GroupDef {
    pub(crate) name: String,
    /// Weight per transaction.
    pub(crate) weights: Vec<f64>,
    /// Workers (default: the run's).
    pub(crate) workers: Option<usize>,
    /// Open-loop rate (default: the run's arrival).
    pub(crate) rate: Option<f64>,
}

/// A step of `after_load`.
#[derive(Debug, Clone)]
pub(crate) struct LoadStep {
    /// The file's name, or `after_load[i]` for inline SQL, for messages.
    pub(crate) label: String,
    /// SQL, variables substituted.
    pub(crate) sql: String,
    /// The name a timed step reports under.
    pub(crate) timed: Option<String>,
}

/// Reads `dir/workload.yaml` and compiles it at `scale`; every problem is one line
/// `FILE: PATH: message`.
pub(crate) fn load(dir: &Path, scale: u64) -> Result<Spec, Vec<String>> {
    load_with(dir, scale, &serde_yaml::Mapping::new())
}

/// [`load`] with parameter values from the run config's section of the workload
/// (undeclared keys are the caller's to judge).
pub(crate) fn load_with(
    dir: &Path,
    scale: u64,
    overrides: &serde_yaml::Mapping,
) -> Result<Spec, Vec<String>> {
    let file = dir.join(FILE_NAME);
    let text = yaml::read_text(&file).map_err(|e| {
        vec![match e {
            yaml::ReadError::TooLarge => format!(
                "{}: larger than {}, the limit for a workload file; a {FILE_NAME} is a few hundred lines",
                file.display(),
                yaml::limit_text()
            ),
            yaml::ReadError::Io(e) => format!(
                "{}: cannot read: {e}; a workload folder needs a {FILE_NAME}",
                file.display()
            ),
        }]
    })?;
    let name = workload_name(dir);
    compile_with(&name, dir, &text, scale, overrides).map_err(|es| {
        es.into_iter()
            .map(|e| {
                if let Some(rest) = e.strip_prefix(params::CONFIG) {
                    rest.to_string()
                } else {
                    format!("{}: {e}", file.display())
                }
            })
            .collect()
    })
}

/// The workload's name: its folder's name.
pub(crate) fn workload_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string())
}

/// The text of a workload's file, at most [`yaml::MAX_FILE_BYTES`]; empty when it cannot
/// be read (for listing a workload that does not compile: its problems come from
/// [`load`]).
pub(crate) fn read_or_empty(file: &Path) -> String {
    yaml::read_text(file).unwrap_or_default()
}

/// Mode names as written (for listing a workload that does not compile).
pub(crate) fn mode_names(text: &str) -> Vec<String> {
    let v = yaml::parse(text).unwrap_or_default();
    let names: Vec<String> = v
        .get("modes")
        .and_then(|m| m.as_mapping())
        .map(|m| {
            m.keys()
                .filter_map(|k| k.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() {
        vec!["default".into()]
    } else {
        names
    }
}

fn ident_ok(s: &str) -> bool {
    !s.is_empty()
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Compiles the text of a `workload.yaml` with parameter values set by the run config
/// (`overrides`); errors are `PATH: message`.
pub(crate) fn compile_with(
    name: &str,
    dir: &Path,
    text: &str,
    scale: u64,
    overrides: &serde_yaml::Mapping,
) -> Result<Spec, Vec<String>> {
    // parameters first: their values are substituted in the file before it is read
    let first = yaml::parse(text).map_err(|e| vec![e])?;
    let mut errors = Vec::new();
    let declared = match first.get("params") {
        None | Some(serde_yaml::Value::Null) => Vec::new(),
        Some(serde_yaml::Value::Mapping(m)) => params::declare(m, &mut errors),
        Some(_) => {
            errors.push("params: expected a mapping of parameter name to its declaration".into());
            Vec::new()
        }
    };
    let params = params::resolve(declared, overrides, name, scale, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    let text = params::substitute_file(text, &params.vars)?;
    let value = yaml::parse(&text).map_err(|e| vec![e])?;
    if !value.is_mapping() {
        return Err(vec![
            "the file must be a YAML mapping (description:, schema:, data:, transactions:, modes:)"
                .into(),
        ]);
    }
    let (raw, mut errors) = parse_section_lenient::<RawWorkload>(&value, "");
    if !ident_ok(name) {
        errors.push(format!(
            "the folder name '{name}' is the workload's name and must be lower-case letters, digits and underscores, starting with a letter; rename the folder"
        ));
    }
    let mut c = Compiler {
        dir,
        scale,
        errors,
        sequences: 0,
        vars: params.vars.clone(),
        groups: Vec::new(),
        suites: Vec::new(),
    };
    let mut spec = c.spec(name, dir, &raw);
    spec.params = params;
    if c.errors.is_empty() {
        Ok(spec)
    } else {
        Err(c.errors)
    }
}

struct Compiler<'a> {
    dir: &'a Path,
    scale: u64,
    errors: Vec<String>,
    sequences: usize,
    /// `scale` and the parameters (with derived values), for `{{name}}` in SQL files.
    vars: Vec<(String, String)>,
    /// Modes with worker groups, as compiled.
    groups: Vec<(String, Vec<GroupDef>)>,
    /// Suite modes, as compiled.
    suites: Vec<(String, Vec<usize>, u64)>,
}

impl Compiler<'_> {
    fn err(&mut self, path: &str, msg: impl std::fmt::Display) {
        self.errors.push(format!("{path}: {msg}"));
    }

    fn read(&mut self, path: &str, f: &str) -> Option<String> {
        let p = self.dir.join(f);
        // a pipe nobody writes would block the open: regular files only
        if std::fs::metadata(&p).is_ok_and(|m| !m.is_file()) {
            self.err(
                path,
                format!("{f} is not a regular file (a folder, device or pipe); name a file of SQL"),
            );
            return None;
        }
        match yaml::read_text(&p) {
            Ok(t) => Some(t),
            Err(yaml::ReadError::TooLarge) => {
                self.err(
                    path,
                    format!(
                        "{f} is larger than {}, the limit for a file of a workload; split it or load the data with generators",
                        yaml::limit_text()
                    ),
                );
                None
            }
            Err(yaml::ReadError::Io(e)) => {
                self.err(
                    path,
                    format!("cannot read {f} ({e}); paths are relative to the workload folder"),
                );
                None
            }
        }
    }

    fn spec(&mut self, name: &str, dir: &Path, raw: &RawWorkload) -> Spec {
        let ranges = self.table_ranges(raw);
        let data = self.data(raw, &ranges);
        let own = self.vars.clone();
        let mut vars: Vec<(&str, String)> = params::refs(&own);
        let row_vars: Vec<(String, String)> = data
            .iter()
            .map(|t| (format!("rows.{}", t.name), t.rows.to_string()))
            .collect();
        vars.extend(row_vars.iter().map(|(k, v)| (k.as_str(), v.clone())));
        let create = self.files("schema.create", &raw.schema.create, &vars);
        for (file, sql) in &create {
            for (line, cmd) in crate::core::script::find_transaction_control(sql) {
                self.err(
                    "schema.create",
                    format!("{file}, line {line}: {cmd} would end or nest the transaction the schema is created in; remove it"),
                );
            }
        }
        self.sequences_fit(&ranges, &create);
        let after_load = self.steps(&raw.schema.after_load, &vars);
        let measures = self.measures(&raw.measures, &vars);
        let cleanup = self.files("schema.cleanup", &raw.schema.cleanup, &vars);
        let mut tables: Vec<String> = data.iter().map(|t| t.name.clone()).collect();
        for (_, sql) in &create {
            for t in sql::created_tables(sql) {
                if !tables.contains(&t) {
                    tables.push(t);
                }
            }
        }
        if create.is_empty() && !raw.data.is_empty() {
            self.err(
                "schema.create",
                "missing; data needs tables: list the SQL files that create them",
            );
        }
        let transactions = self.transactions(raw, &ranges);
        for t in &ranges {
            if let Some(p) = t.new_keys.drawn_by.get() {
                if !t
                    .new_keys
                    .recorded
                    .load(std::sync::atomic::Ordering::Relaxed)
                {
                    self.err(
                        p,
                        format!(
                            "no statement records the rows it inserts into '{}'; add inserts: {} to the statement that inserts them (with the key in RETURNING)",
                            t.name, t.name
                        ),
                    );
                }
            }
        }
        let explain: Vec<usize> = match &raw.transactions_from {
            Some(f) if f.explain => (raw.transactions.len()..transactions.len()).collect(),
            _ => Vec::new(),
        };
        let modes = self.modes(raw, &transactions);
        for (i, m) in raw.measures.iter().enumerate() {
            for name in &m.modes {
                if !modes.iter().any(|(n, _)| n == name) {
                    self.err(
                        &format!("measures[{i}].modes"),
                        format!(
                            "unknown mode '{name}'; modes: {}",
                            modes
                                .iter()
                                .map(|(n, _)| n.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                }
            }
        }
        let (min_server, extensions) = self.requires(&raw.requires);
        self.vectors_need_extension(&extensions, &data, &transactions);
        let checks = raw
            .checks
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                if c.name.trim().is_empty() || c.sql.trim().is_empty() {
                    self.err(&format!("checks[{i}]"), "needs a name and a sql query");
                    return None;
                }
                Some((c.name.clone(), c.sql.clone()))
            })
            .collect();
        let description = raw
            .description
            .clone()
            .unwrap_or_else(|| format!("declarative workload from {}", dir.display()));
        let scale_meaning = raw.scale_meaning.clone().unwrap_or_else(|| {
            let per: Vec<String> = raw
                .data
                .iter()
                .filter_map(|t| t.rows_per_scale.map(|n| format!("{n} {} rows", t.table)))
                .collect();
            if per.is_empty() {
                "unused".into()
            } else {
                format!("{} per unit", per.join(", "))
            }
        });
        Spec {
            name: name.to_string(),
            file: dir.join(FILE_NAME),
            description,
            scale_meaning,
            min_server,
            extensions,
            create,
            after_load,
            cleanup,
            tables,
            data,
            transactions,
            modes,
            checks,
            check_after_run: raw.check_after_run.unwrap_or(false),
            sequences: self.sequences,
            params: Default::default(),
            settings: self.settings(&raw.settings),
            measures,
            groups: std::mem::take(&mut self.groups),
            suites: std::mem::take(&mut self.suites),
            explain,
        }
    }

    /// `schema.after_load`: files, or named steps of a file or SQL.
    fn steps(&mut self, raw: &Steps, vars: &[(&str, String)]) -> Vec<LoadStep> {
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

    /// `measures:`.
    fn measures(
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
    fn settings(&mut self, raw: &serde_yaml::Mapping) -> Vec<(String, String)> {
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
    fn sequences_fit(&mut self, ranges: &[TableRange], create: &[(String, String)]) {
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

    fn files(
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

    fn requires(&mut self, r: &RawRequires) -> (Option<(u32, String)>, Vec<String>) {
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

    /// First pass over `data`: every table's rows and sequence columns, so foreign keys
    /// may point at any table, in any order.
    fn table_ranges(&mut self, raw: &RawWorkload) -> Vec<TableRange> {
        let mut out: Vec<TableRange> = Vec::new();
        for (i, t) in raw.data.iter().enumerate() {
            let path = format!("data[{i}]");
            if !sql::plain_identifier(&t.table) {
                self.err(
                    &format!("{path}.table"),
                    format!(
                        "'{}' must be a lower-case table name (letters, digits, _; optionally schema.table)",
                        t.table
                    ),
                );
            }
            if out.iter().any(|o| o.name == t.table) {
                self.err(
                    &format!("{path}.table"),
                    format!("table '{}' is listed twice in data", t.table),
                );
            }
            let rows = match (t.rows, t.rows_per_scale) {
                (Some(n), None) => n,
                (None, Some(n)) => n.saturating_mul(self.scale),
                (Some(_), Some(_)) => {
                    self.err(&path, "give rows (fixed) or rows_per_scale, not both");
                    0
                }
                (None, None) => {
                    self.err(
                        &path,
                        "missing rows_per_scale (rows per unit of scale) or rows (a fixed count)",
                    );
                    0
                }
            };
            if rows > MAX_ROWS {
                self.err(
                    &path,
                    format!(
                        "{rows} rows at scale {} is above the limit of {MAX_ROWS} rows per table; lower rows, rows_per_scale or the scale",
                        self.scale
                    ),
                );
            }
            let mut sequences = Vec::new();
            for (k, v) in &t.columns {
                let (Some(col), Some(seq)) = (k.as_str(), v.get("sequence")) else {
                    continue;
                };
                let get = |key: &str, d: i64| seq.get(key).and_then(|x| x.as_i64()).unwrap_or(d);
                sequences.push((col.to_string(), get("start", 1), get("step", 1)));
            }
            out.push(TableRange {
                name: t.table.clone(),
                rows,
                sequences,
                new_keys: Default::default(),
            });
        }
        out
    }

    fn data(&mut self, raw: &RawWorkload, ranges: &[TableRange]) -> Vec<DataTable> {
        let mut out = Vec::new();
        for (i, t) in raw.data.iter().enumerate() {
            let path = format!("data[{i}]");
            if t.columns.is_empty() {
                self.err(
                    &format!("{path}.columns"),
                    "give at least one column: name: generator",
                );
                continue;
            }
            let mut names = Vec::new();
            let mut columns = Vec::new();
            for (k, v) in &t.columns {
                let col = k.as_str().unwrap_or_default();
                let p = format!("{path}.columns.{col}");
                if !sql::plain_identifier(col) || col.contains('.') {
                    self.err(&p, "column names must be lower-case letters, digits and _");
                    continue;
                }
                let mut ctx = Ctx {
                    dir: self.dir,
                    tables: ranges,
                    sequences: self.sequences,
                    columns: Some(&names),
                    column_gens: &columns,
                    parents: &out,
                };
                let g = gen::parse(v, &p, &mut ctx, &mut self.errors);
                self.sequences = ctx.sequences;
                if let Some(g) = g {
                    names.push(col.to_string());
                    columns.push(g);
                }
            }
            let row_bytes = columns.iter().fold(0u64, |acc, mut g| {
                // a copied column weighs what the column it copies does (indexes only
                // point at earlier columns, so this ends)
                while let Gen::SameAs(i) = g {
                    match columns.get(*i) {
                        Some(c) if !std::ptr::eq(c, g) => g = c,
                        _ => break,
                    }
                }
                acc.saturating_add(g.max_bytes())
            });
            if row_bytes > gen::MAX_ROW_BYTES {
                self.err(
                    &path,
                    format!(
                        "one row can reach {row_bytes} bytes, above the limit of {} MiB; lower the lengths of its generators",
                        gen::MAX_ROW_BYTES >> 20
                    ),
                );
            }
            let hidden: Vec<bool> = names.iter().map(|n| n.starts_with('_')).collect();
            let loaded: Vec<&str> = names
                .iter()
                .filter(|n| !n.starts_with('_'))
                .map(String::as_str)
                .collect();
            if loaded.is_empty() {
                self.err(
                    &format!("{path}.columns"),
                    "every column is a helper (named _...); give at least one column to load",
                );
            }
            out.push(DataTable {
                name: t.table.clone(),
                rows: ranges[i].rows,
                copy_sql: format!("COPY {} ({}) FROM STDIN", t.table, loaded.join(", ")),
                same_as: columns.iter().any(Gen::reads_row),
                columns,
                hidden,
                names,
            });
        }
        out
    }

    fn modes(&mut self, raw: &RawWorkload, txs: &[Transaction]) -> Vec<(String, Vec<f64>)> {
        let names = || -> String {
            txs.iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if raw.modes.is_empty() {
            let w: Vec<f64> = raw
                .transactions
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let w = t.weight.unwrap_or(1.0);
                    if !w.is_finite() || w < 0.0 {
                        self.err(
                            &format!("transactions[{i}].weight"),
                            "must be a non-negative number",
                        );
                    }
                    w
                })
                .collect();
            if !w.is_empty() && w.iter().sum::<f64>() <= 0.0 {
                self.err(
                    "transactions",
                    "every weight is 0; give at least one a positive weight",
                );
            }
            return vec![("default".into(), w)];
        }
        let mut out: Vec<(String, Vec<f64>)> = Vec::new();
        let mut grouped = Vec::new();
        for (k, v) in &raw.modes {
            let mode = k.as_str().unwrap_or_default().to_string();
            let path = format!("modes.{mode}");
            if !ident_ok(&mode) {
                self.err(&path, "mode names must be lower-case letters, digits and _");
            }
            if let Some(suite) = v.get("suite") {
                let (order, passes) = self.suite(&path, v, suite, txs, raw.transactions.len());
                let mut weights = vec![0.0; txs.len()];
                for k in &order {
                    weights[*k] = 1.0;
                }
                self.suites.push((mode.clone(), order, passes));
                out.push((mode, weights));
                continue;
            }
            if v.get("groups").is_some() {
                // after the plain modes, which its groups may name
                grouped.push((mode, path, v));
                out.push((String::new(), Vec::new()));
                continue;
            }
            let weights = self.weights(&path, v, txs, &names);
            out.push((mode, weights));
        }
        let plain: Vec<(String, Vec<f64>)> =
            out.iter().filter(|(m, _)| !m.is_empty()).cloned().collect();
        let mut slots = out
            .iter()
            .enumerate()
            .filter(|(_, (m, _))| m.is_empty())
            .map(|(i, _)| i)
            .collect::<Vec<_>>()
            .into_iter();
        for (mode, path, v) in grouped {
            let groups = self.groups(&path, v, txs, &plain, &names);
            // the mode's weights: every kind a group runs (for what the mode may write)
            let mut weights = vec![0.0; txs.len()];
            for g in &groups {
                for (w, x) in weights.iter_mut().zip(&g.weights) {
                    *w += x;
                }
            }
            if let Some(i) = slots.next() {
                out[i] = (mode.clone(), weights);
            }
            self.groups.push((mode, groups));
        }
        out
    }

    /// `modes.NAME.suite`: transactions run in order, each once per pass.
    fn suite(
        &mut self,
        path: &str,
        mode: &serde_yaml::Value,
        v: &serde_yaml::Value,
        txs: &[Transaction],
        from_folder: usize,
    ) -> (Vec<usize>, u64) {
        if mode.as_mapping().map(|m| m.len()) != Some(1) {
            self.err(path, "a suite mode has only the key suite");
        }
        let p = format!("{path}.suite");
        let Some(m) = v.as_mapping() else {
            self.err(
                &p,
                "expected {passes: N, transactions: [names]} (both optional)",
            );
            return (Vec::new(), 1);
        };
        let mut passes = 1;
        let mut order: Vec<usize> = (0..txs.len()).collect();
        for (key, val) in m {
            match key.as_str().unwrap_or_default() {
                "passes" => match val.as_u64() {
                    Some(n) if (1..=1_000_000).contains(&n) => passes = n,
                    _ => self.err(&format!("{p}.passes"), "a whole number from 1 to 1000000"),
                },
                "transactions" if val.as_str() == Some("folder") => {
                    order = (from_folder..txs.len()).collect();
                }
                "transactions" => {
                    order.clear();
                    for (i, t) in val.as_sequence().into_iter().flatten().enumerate() {
                        let name = t.as_str().unwrap_or_default();
                        match txs.iter().position(|x| x.name == name) {
                            Some(k) => order.push(k),
                            None => self.err(
                                &format!("{p}.transactions[{i}]"),
                                format!("unknown transaction '{name}'"),
                            ),
                        }
                    }
                }
                other => self.err(
                    &p,
                    format!("unknown key '{other}'; keys: passes, transactions"),
                ),
            }
        }
        // a suite of a folder left unset is refused when its mode is chosen, not here
        let of_folder = m.get("transactions").and_then(|v| v.as_str()) == Some("folder");
        if order.is_empty() && !of_folder {
            self.err(&p, "the suite has no transactions");
        }
        (order, passes)
    }

    /// A mapping of transaction name to weight.
    fn weights(
        &mut self,
        path: &str,
        v: &serde_yaml::Value,
        txs: &[Transaction],
        names: &dyn Fn() -> String,
    ) -> Vec<f64> {
        let mut weights = vec![0.0; txs.len()];
        let Some(map) = v.as_mapping() else {
            self.err(
                path,
                format!(
                    "expected a mapping of transaction name to weight; transactions: {}",
                    names()
                ),
            );
            return weights;
        };
        for (tk, tv) in map {
            let tx = tk.as_str().unwrap_or_default();
            let p = format!("{path}.{tx}");
            let Some(idx) = txs.iter().position(|t| t.name == tx) else {
                self.err(
                    &p,
                    format!("unknown transaction '{tx}'; transactions: {}", names()),
                );
                continue;
            };
            match tv.as_f64() {
                Some(w) if w.is_finite() && w >= 0.0 => weights[idx] = w,
                _ => self.err(&p, "the weight must be a non-negative number"),
            }
        }
        if weights.iter().sum::<f64>() <= 0.0 {
            self.err(path, "no transaction has a positive weight in this mode");
        }
        weights
    }

    /// `modes.NAME.groups`: worker groups, each with its weights (or another mode's),
    /// its workers and its rate.
    fn groups(
        &mut self,
        path: &str,
        v: &serde_yaml::Value,
        txs: &[Transaction],
        plain: &[(String, Vec<f64>)],
        names: &dyn Fn() -> String,
    ) -> Vec<GroupDef> {
        let mut out = Vec::new();
        if v.as_mapping().map(|m| m.len()) != Some(1) {
            self.err(path, "a mode with groups has only the key groups");
        }
        let Some(groups) = v.get("groups").and_then(|g| g.as_mapping()) else {
            self.err(
                &format!("{path}.groups"),
                "expected a mapping of group name to {weights: ..., workers: N, rate: N}",
            );
            return out;
        };
        for (k, g) in groups {
            let name = k.as_str().unwrap_or_default().to_string();
            let p = format!("{path}.groups.{name}");
            if !ident_ok(&name) {
                self.err(&p, "group names are lower-case letters, digits and _");
            }
            let Some(m) = g.as_mapping() else {
                self.err(
                    &p,
                    "expected {weights: {...} or mode: NAME, workers: N, rate: N}",
                );
                continue;
            };
            let mut def = GroupDef {
                name,
                weights: Vec::new(),
                workers: None,
                rate: None,
            };
            for (key, val) in m {
                match key.as_str().unwrap_or_default() {
                    "weights" => {
                        def.weights = self.weights(&format!("{p}.weights"), val, txs, names)
                    }
                    "mode" => {
                        let want = val.as_str().unwrap_or_default();
                        match plain.iter().find(|(m, _)| m == want) {
                            Some((_, w)) => def.weights = w.clone(),
                            None => self.err(
                                &format!("{p}.mode"),
                                format!(
                                    "'{want}' is not a mode without groups; modes: {}",
                                    plain
                                        .iter()
                                        .map(|(m, _)| m.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            ),
                        }
                    }
                    "workers" => match val.as_u64() {
                        Some(n) if (1..=100_000).contains(&n) => def.workers = Some(n as usize),
                        _ => self.err(&format!("{p}.workers"), "a whole number from 1 to 100000"),
                    },
                    "rate" => match val.as_f64() {
                        Some(r) if r > 0.0 && r.is_finite() && r <= 10_000_000.0 => {
                            def.rate = Some(r)
                        }
                        _ => self.err(
                            &format!("{p}.rate"),
                            "transactions per second, above 0 (leave it out for a closed loop)",
                        ),
                    },
                    other => self.err(
                        &p,
                        format!("unknown key '{other}'; keys: weights, mode, workers, rate"),
                    ),
                }
            }
            if def.weights.is_empty() {
                self.err(
                    &p,
                    "give weights (transaction: weight) or mode (a mode's weights)",
                );
                continue;
            }
            out.push(def);
        }
        if out.is_empty() {
            self.err(&format!("{path}.groups"), "give at least one group");
        }
        out
    }

    fn vectors_need_extension(
        &mut self,
        extensions: &[String],
        data: &[DataTable],
        txs: &[Transaction],
    ) {
        if extensions.iter().any(|e| e == "vector") {
            return;
        }
        let used = data.iter().flat_map(|t| t.columns.iter()).any(uses_vector)
            || txs.iter().any(|t| {
                t.vars.iter().any(uses_vector)
                    || t.statements.iter().any(|s| {
                        s.params
                            .iter()
                            .any(|p| matches!(p, Param::Gen(g) if uses_vector(g)))
                    })
            });
        if used {
            self.err(
                "requires.extensions",
                "a vector generator is used: add vector (the pgvector extension) to requires.extensions",
            );
        }
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

fn uses_vector(g: &Gen) -> bool {
    match g {
        Gen::Vector { .. } | Gen::Clustered(_) | Gen::FileVector { .. } => true,
        Gen::Json(f) => f.iter().any(|(_, g)| uses_vector(g)),
        Gen::Array(g, ..) | Gen::Nullable(_, g) => uses_vector(g),
        Gen::Pick {
            values, default, ..
        } => {
            values.iter().any(|(_, g)| uses_vector(g))
                || default.as_deref().is_some_and(uses_vector)
        }
        _ => false,
    }
}

impl Spec {
    /// The weights of `mode`, or `None` when there is no such mode.
    pub(crate) fn weights(&self, mode: &str) -> Option<&[f64]> {
        self.modes
            .iter()
            .find(|(m, _)| m == mode)
            .map(|(_, w)| w.as_slice())
    }

    /// Mode names, default first.
    pub(crate) fn mode_names(&self) -> Vec<String> {
        self.modes.iter().map(|(m, _)| m.clone()).collect()
    }
}
