//! `workload.yaml` as written: strict serde structs, every key known.

use serde::Deserialize;

use crate::types::Isolation;

/// One file name or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum Files {
    /// One file.
    One(String),
    /// Several, run in order.
    Many(Vec<String>),
}

impl Default for Files {
    fn default() -> Self {
        Files::Many(Vec::new())
    }
}

impl Files {
    pub(super) fn list(&self) -> Vec<String> {
        match self {
            Files::One(f) => vec![f.clone()],
            Files::Many(v) => v.clone(),
        }
    }
}

/// One step of `after_load`: a file, or a named (and timed) file or SQL text.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum StepEntry {
    /// A file, untimed.
    File(String),
    /// A named step.
    Named(RawNamedStep),
}

/// A named step of `after_load`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawNamedStep {
    /// Its name in the load's figures (e.g. "build the hnsw index").
    pub(crate) name: String,
    /// A file of SQL.
    pub(crate) file: Option<String>,
    /// Or SQL text.
    pub(crate) sql: Option<String>,
}

/// `after_load:` one file or a list of steps.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum Steps {
    /// One file.
    One(String),
    /// Steps, run in order.
    Many(Vec<StepEntry>),
}

impl Default for Steps {
    fn default() -> Self {
        Steps::Many(Vec::new())
    }
}

/// One entry of `measures:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawMeasure {
    /// Name of its figure (`name.column` for a query of several columns).
    pub(crate) name: String,
    /// A query returning one row of numbers.
    pub(crate) sql: Option<String>,
    /// Or a file holding it.
    pub(crate) file: Option<String>,
    /// `after_run` (default), `after_load` or `interval`.
    pub(crate) when: Option<String>,
    /// The period of an interval measure (default 10s).
    pub(crate) every: Option<String>,
    pub(crate) unit: Option<String>,
    pub(crate) description: Option<String>,
    /// The modes it is taken in (default: every mode).
    pub(crate) modes: Vec<String>,
}

/// `workload.yaml` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawWorkload {
    /// One line for `stormbench list`.
    pub(crate) description: Option<String>,
    /// What one unit of scale means.
    pub(crate) scale_meaning: Option<String>,
    /// What the server must have.
    pub(crate) requires: RawRequires,
    /// Schema SQL files.
    pub(crate) schema: RawSchema,
    /// Tables to fill.
    pub(crate) data: Vec<RawTable>,
    pub(crate) transactions: Vec<RawTransaction>,
    /// Named weight sets over the transactions, in order (the first is the default).
    pub(crate) modes: serde_yaml::Mapping,
    /// Consistency checks (`--check`, and after every run with `check_after_run`).
    pub(crate) checks: Vec<RawCheck>,
    /// Run the checks after every run.
    pub(crate) check_after_run: Option<bool>,
    /// Parameters (read before the rest, see `params.rs`).
    pub(crate) params: serde_yaml::Mapping,
    /// Server settings of every session of a run (`hnsw.ef_search: 40`).
    pub(crate) settings: serde_yaml::Mapping,
    /// SQL whose numeric results are figures of the report.
    pub(crate) measures: Vec<RawMeasure>,
    /// More transactions: one per `.sql` file of a folder (e.g. a benchmark's queries).
    pub(crate) transactions_from: Option<RawFrom>,
}

/// `transactions_from:` a folder of `.sql` files, one transaction each.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawFrom {
    /// The folder (relative to the workload's); empty: none.
    pub(crate) folder: String,
    /// Put before each file's name to make the transaction's name (default `q`).
    pub(crate) prefix: Option<String>,
    /// Report each query's plan quality (q-error, plan changes) after every run.
    pub(crate) explain: bool,
}

/// `requires:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawRequires {
    /// Minimum server version, e.g. 14 or "15.2".
    pub(crate) server_version: Option<serde_yaml::Value>,
    /// Extensions that must be installed or available; setup creates them.
    pub(crate) extensions: Vec<String>,
}

/// `schema:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawSchema {
    /// Run by setup before loading.
    pub(crate) create: Files,
    /// Run after loading (keys, indexes, ANALYZE), statement by statement; named steps
    /// are timed on their own.
    pub(crate) after_load: Steps,
    /// Run by `--cleanup` and before a rebuild.
    pub(crate) cleanup: Files,
}

/// One entry of `data:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawTable {
    /// Table name.
    pub(crate) table: String,
    /// Rows per unit of scale.
    pub(crate) rows_per_scale: Option<u64>,
    /// A fixed number of rows, whatever the scale.
    pub(crate) rows: Option<u64>,
    /// Column name -> generator, in COPY order.
    pub(crate) columns: serde_yaml::Mapping,
}

/// One entry of `transactions:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawTransaction {
    /// Name, reported as the transaction kind.
    pub(crate) name: String,
    /// Weight when the workload has no `modes` (default 1).
    pub(crate) weight: Option<f64>,
    /// BEGIN ISOLATION LEVEL ...
    pub(crate) isolation: Option<Isolation>,
    /// BEGIN ... READ ONLY.
    pub(crate) read_only: Option<bool>,
    /// Values drawn once per transaction, used by several statements (`var: name`).
    pub(crate) vars: serde_yaml::Mapping,
    /// The statements, in order.
    pub(crate) statements: Vec<RawStatement>,
    /// Or: rows streamed into a table with COPY, one COPY per transaction.
    pub(crate) copy: Option<RawCopy>,
    /// When the transaction is rolled back on purpose (counted as rolled back, not failed).
    pub(crate) rollback_if: Option<RawRollbackIf>,
}

/// `rollback_if:` what makes a transaction a deliberate rollback.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawRollbackIf {
    /// SQLSTATEs of errors that mean a deliberate rollback (e.g. 23514, a check violation).
    pub(crate) sqlstate: Vec<serde_yaml::Value>,
    /// `STATEMENT.COLUMN`: rolled back when the statement returned no row or NULL there.
    pub(crate) missing: Option<String>,
    /// `STATEMENT.COLUMN`: rolled back unless that column is true (false, NULL, no row).
    #[serde(rename = "not")]
    pub(crate) is_false: Option<String>,
}

/// A transaction that is one `COPY ... FROM STDIN` of generated rows.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawCopy {
    /// The table the generated rows are copied into.
    pub(crate) table: String,
    /// Rows per transaction.
    pub(crate) rows: u64,
    /// Column name -> generator, in COPY order.
    pub(crate) columns: serde_yaml::Mapping,
}

/// One statement.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawStatement {
    /// Name, so later statements can use its returned values (`returned: name.column`).
    pub(crate) name: Option<String>,
    /// The SQL, with `$1..$n`.
    pub(crate) sql: Option<String>,
    /// Or a file holding the SQL.
    pub(crate) file: Option<String>,
    /// One generator, `var` or `returned` per parameter.
    pub(crate) params: Vec<serde_yaml::Value>,
    /// The data table the statement adds a row to, its key returned (`inserts: table`
    /// or `{table: t, key: column}`), so foreign keys with `new_rows:` can draw it.
    pub(crate) inserts: Option<serde_yaml::Value>,
}

/// One consistency check.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawCheck {
    /// Short name.
    pub(crate) name: String,
    /// A query returning one row: a boolean (passed) and optionally a detail.
    pub(crate) sql: String,
}
