//! `workload.yaml` as written: strict serde structs, every key known.

use serde::Deserialize;

use crate::types::Isolation;

/// One file name or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Files {
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

/// `workload.yaml` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawWorkload {
    /// One line for `stormbench list`.
    pub description: Option<String>,
    /// What one unit of scale means.
    pub scale_meaning: Option<String>,
    /// What the server must have.
    pub requires: RawRequires,
    /// Schema SQL files.
    pub schema: RawSchema,
    /// Tables to fill.
    pub data: Vec<RawTable>,
    /// Transactions.
    pub transactions: Vec<RawTransaction>,
    /// Named weight sets over the transactions, in order (the first is the default).
    pub modes: serde_yaml::Mapping,
    /// Consistency checks (`--check`, and after every run with `check_after_run`).
    pub checks: Vec<RawCheck>,
    /// Run the checks after every run.
    pub check_after_run: Option<bool>,
}

/// `requires:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawRequires {
    /// Minimum server version, e.g. 14 or "15.2".
    pub server_version: Option<serde_yaml::Value>,
    /// Extensions that must be installed or available; setup creates them.
    pub extensions: Vec<String>,
}

/// `schema:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSchema {
    /// Run by setup before loading.
    pub create: Files,
    /// Run after loading (keys, indexes, ANALYZE), statement by statement.
    pub after_load: Files,
    /// Run by `--cleanup` and before a rebuild.
    pub cleanup: Files,
}

/// One entry of `data:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawTable {
    /// Table name.
    pub table: String,
    /// Rows per unit of scale.
    pub rows_per_scale: Option<u64>,
    /// A fixed number of rows, whatever the scale.
    pub rows: Option<u64>,
    /// Column name -> generator, in COPY order.
    pub columns: serde_yaml::Mapping,
}

/// One entry of `transactions:`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawTransaction {
    /// Name, reported as the transaction kind.
    pub name: String,
    /// Weight when the workload has no `modes` (default 1).
    pub weight: Option<f64>,
    /// BEGIN ISOLATION LEVEL ...
    pub isolation: Option<Isolation>,
    /// BEGIN ... READ ONLY.
    pub read_only: Option<bool>,
    /// Values drawn once per transaction, used by several statements (`var: name`).
    pub vars: serde_yaml::Mapping,
    /// The statements, in order.
    pub statements: Vec<RawStatement>,
}

/// One statement.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawStatement {
    /// Name, so later statements can use its returned values (`returned: name.column`).
    pub name: Option<String>,
    /// The SQL, with `$1..$n`.
    pub sql: Option<String>,
    /// Or a file holding the SQL.
    pub file: Option<String>,
    /// One generator, `var` or `returned` per parameter.
    pub params: Vec<serde_yaml::Value>,
}

/// One consistency check.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawCheck {
    /// Short name.
    pub name: String,
    /// A query returning one row: a boolean (passed) and optionally a detail.
    pub sql: String,
}
