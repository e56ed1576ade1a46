//! `workload.yaml`: the raw, strictly parsed file and its compiled form. Every problem is
//! reported at once, as `FILE: YAML.PATH: what to fix`.

use std::path::{Path, PathBuf};

use super::gen::{self, Ctx, Gen, TableRange};
use super::sql;
use crate::config::yaml;
use crate::core::registry::parse_section_lenient;

mod data;
mod modes;
pub(crate) mod params;
mod raw;
mod schema;
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
    /// The run-time sequences bound to a column, resumed past its keys at each run.
    pub(crate) resumes: Vec<super::resume::Resume>,
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
/// be read (its problems come from [`load`]).
pub(crate) fn read_or_empty(file: &Path) -> String {
    yaml::read_text(file).unwrap_or_default()
}

/// Mode names as written, default first, without compiling the file: for a file that
/// compiles they are its modes (`["default"]` without `modes:`); for one that does not,
/// what listing it can still show.
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
        resumes: Vec::new(),
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
    /// Run-time sequences bound to a column, as compiled.
    resumes: Vec<super::resume::Resume>,
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
        let create = self.schema_create(raw, &vars);
        self.sequences_fit(&ranges, &create);
        let after_load = self.steps(&raw.schema.after_load, &vars);
        let measures = self.measures(&raw.measures, &vars);
        let cleanup = self.files("schema.cleanup", &raw.schema.cleanup, &vars);
        let files = create
            .iter()
            .chain(&cleanup)
            .map(|(f, sql)| (f.as_str(), sql.as_str()));
        let steps = after_load
            .iter()
            .map(|s| (s.label.as_str(), s.sql.as_str()));
        self.own_objects_only(files.chain(steps));
        let tables = tables(&data, &create);
        if create.is_empty() && !raw.data.is_empty() {
            self.err(
                "schema.create",
                "missing; data needs tables: list the SQL files that create them",
            );
        }
        let transactions = self.transactions(raw, &ranges);
        self.new_keys_recorded(&ranges);
        let explain: Vec<usize> = match &raw.transactions_from {
            Some(f) if f.explain => (raw.transactions.len()..transactions.len()).collect(),
            _ => Vec::new(),
        };
        let modes = self.modes(raw, &transactions);
        self.measure_modes(&raw.measures, &modes);
        let (min_server, extensions) = self.requires(&raw.requires);
        self.vectors_need_extension(&extensions, &data, &transactions);
        let checks = self.checks(&raw.checks);
        let description = raw
            .description
            .clone()
            .unwrap_or_else(|| format!("declarative workload from {}", dir.display()));
        Spec {
            name: name.to_string(),
            file: dir.join(FILE_NAME),
            description,
            scale_meaning: scale_meaning(raw),
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
            resumes: std::mem::take(&mut self.resumes),
            params: Default::default(),
            settings: self.settings(&raw.settings),
            measures,
            groups: std::mem::take(&mut self.groups),
            suites: std::mem::take(&mut self.suites),
            explain,
        }
    }

    /// `schema.create`: the files, none of which may end or nest the transaction the
    /// schema is created in.
    fn schema_create(
        &mut self,
        raw: &RawWorkload,
        vars: &[(&str, String)],
    ) -> Vec<(String, String)> {
        let create = self.files("schema.create", &raw.schema.create, vars);
        for (file, sql) in &create {
            for (line, cmd) in crate::core::script::find_transaction_control(sql) {
                self.err(
                    "schema.create",
                    format!("{file}, line {line}: {cmd} would end or nest the transaction the schema is created in; remove it"),
                );
            }
        }
        create
    }

    /// A table some foreign key draws run-inserted keys of (`new_rows:`) needs a
    /// statement that records them (`inserts:`).
    fn new_keys_recorded(&mut self, ranges: &[TableRange]) {
        for t in ranges {
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
    }

    /// The modes a measure is limited to must exist.
    fn measure_modes(&mut self, raw: &[RawMeasure], modes: &[(String, Vec<f64>)]) {
        for (i, m) in raw.iter().enumerate() {
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
    }

    /// `checks:`: name and query of each.
    fn checks(&mut self, raw: &[RawCheck]) -> Vec<(String, String)> {
        raw.iter()
            .enumerate()
            .filter_map(|(i, c)| {
                if c.name.trim().is_empty() || c.sql.trim().is_empty() {
                    self.err(&format!("checks[{i}]"), "needs a name and a sql query");
                    return None;
                }
                self.within_the_workload(&format!("checks[{i}]"), &c.sql);
                Some((c.name.clone(), c.sql.clone()))
            })
            .collect()
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

/// The workload's tables: the data tables, then the others the schema files create.
fn tables(data: &[DataTable], create: &[(String, String)]) -> Vec<String> {
    let mut tables: Vec<String> = data.iter().map(|t| t.name.clone()).collect();
    for (_, sql) in create {
        for t in sql::created_tables(sql) {
            if !tables.contains(&t) {
                tables.push(t);
            }
        }
    }
    tables
}

/// `scale_meaning`, or what the data tables' `rows_per_scale` make of a unit of scale.
fn scale_meaning(raw: &RawWorkload) -> String {
    raw.scale_meaning.clone().unwrap_or_else(|| {
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
    })
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
