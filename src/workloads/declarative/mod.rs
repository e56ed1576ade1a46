//! Declarative workloads: a folder with a `workload.yaml` (schema files, data generators,
//! weighted transactions of parameterized SQL, modes, requirements, checks), discovered at
//! start-up and run like a built-in workload.
//!
//! Every statement is prepared once per connection and bound with typed parameters;
//! generated values never become SQL text. A worker keeps its prepared statements, its
//! RNG and reusable value buffers, so a transaction costs the draws, the binds and the
//! round trips, nothing else.

pub(crate) mod check;
pub(crate) mod gen;
pub(crate) mod plans;
pub(crate) mod spec;
pub(crate) mod sql;
pub(crate) mod value;
pub(crate) mod vecdata;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use rand::Rng as _;
use serde::Deserialize;

use crate::core::load::parallel_copy;
use crate::core::registry::parse_section_lenient;
use crate::core::script::may_write;
use crate::core::{
    intern, rng, run_script, script::find_transaction_control, BoxFuture, CheckResult, Conn, Group,
    LoadProgress, LoadStats, Pool, Rows, SchemaError, Session, Statements, Step, StepTime, Stmt,
    TableLoad, TxError, TxKind, TxOutcome, WorkerTx, Workload, WorkloadInfo, WorkloadParams,
};
pub(crate) use spec::{Spec, FILE_NAME};
use value::Value;

/// Finds the workload folders (sub-folders holding a `workload.yaml`) under each path,
/// in path order, folders sorted by name. Folders without the file are ignored. A
/// workload that does not compile is still listed; building it returns its problems.
pub(crate) fn discover(paths: &[PathBuf]) -> Result<Vec<WorkloadInfo>, Vec<String>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
        let entries = match std::fs::read_dir(root) {
            Ok(e) => e,
            Err(e) => {
                errors.push(format!(
                    "workloads_path: cannot read folder {}: {e}",
                    root.display()
                ));
                continue;
            }
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir() && p.join(FILE_NAME).is_file())
            .collect();
        dirs.sort();
        out.extend(dirs.iter().map(|d| info(d)));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The registry entry of the workload in `dir` (compiled at scale 1 to learn its modes).
pub(crate) fn info(dir: &Path) -> WorkloadInfo {
    let name = spec::workload_name(dir);
    let dir = dir.to_path_buf();
    let (description, modes, scale_meaning) = match spec::load(&dir, 1) {
        Ok(s) => (
            s.description.clone(),
            s.mode_names(),
            s.scale_meaning.clone(),
        ),
        Err(es) => {
            let text = spec::read_or_empty(&dir.join(FILE_NAME));
            (
                format!(
                    "INVALID ({} problem{}; run: stormbench check-workload {})",
                    es.len(),
                    if es.len() == 1 { "" } else { "s" },
                    dir.display()
                ),
                spec::mode_names(&text),
                "unknown".into(),
            )
        }
    };
    let build_dir = dir.clone();
    WorkloadInfo {
        name,
        description,
        modes,
        scale_meaning,
        source: Some(dir.join(FILE_NAME)),
        build: Arc::new(move |p: &WorkloadParams| build(&build_dir, p)),
    }
}

/// The workload's section in the run config (`example_bank: {...}`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Section {
    /// Overrides `check_after_run` of the workload.yaml.
    check_after_run: Option<bool>,
    /// Overrides the workers and rate of the mode's worker groups.
    groups: std::collections::BTreeMap<String, GroupOverride>,
}

/// `groups: {NAME: {workers: N, rate: N}}` in the workload's section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct GroupOverride {
    workers: Option<usize>,
    /// Transactions per second; 0 makes the group a closed loop.
    rate: Option<f64>,
}

fn build(dir: &Path, p: &WorkloadParams) -> Result<Arc<dyn Workload>, Vec<String>> {
    let name = spec::workload_name(dir);
    let mut params = match &p.section {
        serde_yaml::Value::Null => serde_yaml::Mapping::new(),
        serde_yaml::Value::Mapping(m) => m.clone(),
        _ => {
            return Err(vec![format!(
                "{name}: expected a mapping of settings and parameters of the workload"
            )])
        }
    };
    // the section's own keys; the rest are the workload's parameters
    let mut own = serde_yaml::Mapping::new();
    for key in SECTION_KEYS {
        if let Some(v) = params.remove(*key) {
            own.insert((*key).into(), v);
        }
    }
    let spec = spec::load_with(dir, p.scale, &params)?;
    let declared: Vec<&str> = spec.params.defs.iter().map(|d| d.name.as_str()).collect();
    let unknown: Vec<String> = params
        .keys()
        .filter_map(|k| k.as_str())
        .filter(|k| !declared.contains(k))
        .map(|k| {
            format!(
                "{name}.{k}: unknown key; keys: {}",
                SECTION_KEYS
                    .iter()
                    .copied()
                    .chain(declared.iter().copied())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(unknown);
    }
    let (section, errors): (Section, _) =
        parse_section_lenient(&serde_yaml::Value::Mapping(own), &spec.name);
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut w = Declarative::new(spec, &p.mode, p.seed).map_err(|e| vec![e])?;
    if let Some(c) = section.check_after_run {
        w.check_after_run = c;
    }
    let mut errors = Vec::new();
    let wl = w.spec().name.clone();
    let known: Vec<String> = w.groups.iter().map(|g| g.name.clone()).collect();
    for (name, o) in &section.groups {
        let Some(g) = w.groups.iter_mut().find(|g| g.name == *name) else {
            errors.push(if known.is_empty() {
                format!("{wl}.groups.{name}: mode {} has no worker groups", p.mode)
            } else {
                format!(
                    "{wl}.groups.{name}: mode {} has no group {name}; groups: {}",
                    p.mode,
                    known.join(", ")
                )
            });
            continue;
        };
        match o.workers {
            Some(n) if (1..=100_000).contains(&n) => g.workers = Some(n),
            Some(n) => errors.push(format!(
                "{wl}.groups.{name}.workers: {n} is not between 1 and 100000"
            )),
            None => {}
        }
        match o.rate {
            Some(0.0) => g.rate = None,
            Some(r) if r.is_finite() && r > 0.0 && r <= 10_000_000.0 => g.rate = Some(r),
            Some(r) => errors.push(format!(
                "{wl}.groups.{name}.rate: {r} is not a rate in transactions per second (0 for a closed loop)"
            )),
            None => {}
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Arc::new(w))
}

/// Keys of a workload's section that are not its parameters.
const SECTION_KEYS: &[&str] = &["check_after_run", "groups"];

/// A compiled declarative workload, in one mode.
pub(crate) struct Declarative {
    shared: Arc<Shared>,
    kinds: Vec<&'static str>,
    tables: Vec<&'static str>,
    seed: u64,
    check_after_run: bool,
    /// Whether a transaction the mode runs may change data.
    writes: bool,
    /// The mode's worker groups (empty: none).
    groups: Vec<Group>,
    /// The measures taken in this mode.
    measures: Vec<crate::core::measure::Measure>,
    /// A suite mode's claim counter, order and passes.
    suite: Option<Arc<Suite>>,
    /// The kinds whose plan quality is reported, and their plan shapes before the run.
    explain: Vec<TxKind>,
    shapes: std::sync::Mutex<Vec<(TxKind, String)>>,
}

/// A suite: every transaction of `order` once per pass, claimed in order by the workers.
struct Suite {
    order: Vec<TxKind>,
    passes: u64,
    next: std::sync::atomic::AtomicU64,
}

/// What workers share: the spec and where each statement sits in the prepared set.
struct Shared {
    spec: Spec,
    /// Cumulative transaction weights of the mode, per worker group (one without groups).
    cumulative: Vec<Vec<f64>>,
    /// Every SQL text a worker prepares: statements, then BEGIN variants, then COMMIT.
    sql: &'static [&'static str],
    /// Per transaction, the prepared-set index of each statement.
    stmt_ids: Vec<Vec<usize>>,
    /// Per transaction, the index of its BEGIN, if it runs in a transaction block.
    begin_ids: Vec<Option<usize>>,
    /// Index of COMMIT.
    commit_id: usize,
}

impl Declarative {
    /// The workload in `mode`; the mode must exist.
    pub(crate) fn new(spec: Spec, mode: &str, seed: u64) -> Result<Self, String> {
        let weights = spec.weights(mode).ok_or_else(|| {
            format!(
                "mode: unknown mode '{mode}' for workload '{}'; available: {}",
                spec.name,
                spec.mode_names().join(", ")
            )
        })?;
        let cumulate = |weights: &[f64]| -> Vec<f64> {
            let total: f64 = weights.iter().sum();
            let mut acc = 0.0;
            weights
                .iter()
                .map(|w| {
                    acc += w / total;
                    acc
                })
                .collect()
        };
        let groups: Vec<spec::GroupDef> = spec
            .groups
            .iter()
            .find(|(m, _)| m == mode)
            .map(|(_, g)| g.clone())
            .unwrap_or_default();
        let cumulative = if groups.is_empty() {
            vec![cumulate(weights)]
        } else {
            groups.iter().map(|g| cumulate(&g.weights)).collect()
        };
        let mut sql: Vec<&'static str> = Vec::new();
        let mut stmt_ids = Vec::new();
        let mut begin_ids = Vec::new();
        for t in &spec.transactions {
            let ids = t
                .statements
                .iter()
                .map(|s| {
                    sql.push(intern(&s.sql));
                    sql.len() - 1
                })
                .collect();
            stmt_ids.push(ids);
        }
        for t in &spec.transactions {
            begin_ids.push(t.begin.as_ref().map(|b| {
                sql.push(intern(b));
                sql.len() - 1
            }));
        }
        sql.push("COMMIT");
        let commit_id = sql.len() - 1;
        let writes = spec
            .transactions
            .iter()
            .zip(weights.iter())
            .filter(|(_, w)| **w > 0.0)
            .any(|(t, _)| t.copy.is_some() || t.statements.iter().any(|s| may_write(&s.sql)));
        if spec
            .suites
            .iter()
            .any(|(m, order, _)| m == mode && order.is_empty())
        {
            return Err(format!(
                "mode {mode} of {} runs the queries of a folder and none is set; give the folder (transactions_from.folder, e.g. through a parameter of the workload's section)",
                spec.name
            ));
        }
        let suite = spec
            .suites
            .iter()
            .find(|(m, _, _)| m == mode)
            .map(|(_, order, passes)| {
                Arc::new(Suite {
                    order: order.clone(),
                    passes: *passes,
                    next: Default::default(),
                })
            });
        let explain = spec
            .explain
            .iter()
            .copied()
            .filter(|k| weights.get(*k).is_some_and(|w| *w > 0.0))
            .collect();
        Ok(Declarative {
            explain,
            shapes: Default::default(),
            suite,
            measures: spec
                .measures
                .iter()
                .filter(|(_, only)| only.is_empty() || only.iter().any(|m| m == mode))
                .map(|(m, _)| m.clone())
                .collect(),
            groups: groups
                .iter()
                .map(|g| Group {
                    name: g.name.clone(),
                    workers: g.workers,
                    rate: g.rate,
                    kinds: (0..g.weights.len())
                        .filter(|k| g.weights[*k] > 0.0)
                        .collect(),
                })
                .collect(),
            writes,
            kinds: spec.transactions.iter().map(|t| intern(&t.name)).collect(),
            tables: spec.tables.iter().map(|t| intern(t)).collect(),
            check_after_run: spec.check_after_run,
            shared: Arc::new(Shared {
                spec,
                cumulative,
                sql: Box::leak(sql.into_boxed_slice()),
                stmt_ids,
                begin_ids,
                commit_id,
            }),
            seed,
        })
    }

    /// The compiled spec.
    pub(crate) fn spec(&self) -> &Spec {
        &self.shared.spec
    }
}

/// Checks the server against `requires`; one message per problem.
pub(crate) async fn check_requires(
    spec: &Spec,
    conn: &Conn,
    server_version_num: u32,
) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some((min, text)) = &spec.min_server {
        if server_version_num < *min {
            problems.push(format!(
                "{}: requires.server_version: the workload needs PostgreSQL {text} or later; this server is {}.{}",
                spec.file.display(),
                server_version_num / 10_000,
                server_version_num % 10_000
            ));
        }
    }
    if spec.extensions.is_empty() {
        return problems;
    }
    let names: Vec<&str> = spec.extensions.iter().map(String::as_str).collect();
    match conn
        .query(
            "SELECT name FROM pg_available_extensions WHERE name = ANY($1)",
            &[&names],
        )
        .await
    {
        Ok(rows) => {
            let found: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
            for e in &spec.extensions {
                if !found.contains(e) {
                    problems.push(format!(
                        "{}: requires.extensions: the server has no extension '{e}' (not in pg_available_extensions); install it on the server{}",
                        spec.file.display(),
                        if e == "vector" { " (pgvector, e.g. the postgresql-NN-pgvector package)" } else { "" }
                    ));
                }
            }
        }
        Err(e) => problems.push(format!(
            "checking the required extensions: {}",
            crate::core::db_message(&e)
        )),
    }
    problems
}

/// Runs the schema files (extensions first) on `conn`.
pub(crate) async fn create_schema(spec: &Spec, conn: &Conn) -> Result<(), SchemaError> {
    for e in &spec.extensions {
        conn.batch_execute(&format!("CREATE EXTENSION IF NOT EXISTS \"{e}\""))
            .await
            .map_err(SchemaError::db(format!("creating extension {e}")))?;
    }
    for (file, text) in &spec.create {
        if let Some((line, cmd)) = find_transaction_control(text).first() {
            return Err(SchemaError::Refused(format!(
                "{} schema file {file}, line {line}: {cmd} ends or nests the transaction the schema is created in; remove it (stormbench creates the schema in one transaction)",
                spec.name
            )));
        }
        run_script(conn, text, &format!("{} schema file {file}", spec.name)).await?;
    }
    Ok(())
}

/// Appends the COPY text line of row `id` of data table `index` in a load with `seed`.
fn write_row(table: &spec::DataTable, seed: u64, index: usize, id: u64, buf: &mut BytesMut) {
    let mut st = gen::row_state(seed, index, id, table.same_as, table.columns.len());
    let mut first = true;
    for (g, hidden) in table.columns.iter().zip(&table.hidden) {
        let v = g.sample(&mut st);
        if !hidden {
            if !first {
                buf.put_u8(b'\t');
            }
            first = false;
            v.write_copy(buf);
        }
        if table.same_as {
            st.cols.push(v);
        }
    }
    buf.put_u8(b'\n');
}

/// Appends row `id` of data table `index` as loading with seed 1 would (for sample loads).
pub(crate) fn write_sample_row(table: &spec::DataTable, index: usize, id: u64, buf: &mut BytesMut) {
    write_row(table, 1, index, id, buf);
}

impl Declarative {
    /// The rollback rate of the transactions that may roll back on purpose (`rollback_if`):
    /// rolled back against committed + rolled back.
    fn rollback_rate(&self, run: &crate::core::RunCounts) -> Vec<crate::core::Metric> {
        let txs = &self.spec().transactions;
        let kinds: Vec<usize> = (0..txs.len())
            .filter(|&k| {
                let r = &txs[k].rollback;
                !r.sqlstates.is_empty() || r.check.is_some()
            })
            .collect();
        if kinds.is_empty() {
            return Vec::new();
        }
        let get = |v: &[u64], k: usize| v.get(k).copied().unwrap_or(0);
        let rolled: u64 = kinds.iter().map(|&k| get(&run.rolled_back, k)).sum();
        let done: u64 = kinds
            .iter()
            .map(|&k| get(&run.committed, k) + get(&run.rolled_back, k))
            .sum();
        let names: Vec<&str> = kinds.iter().map(|&k| txs[k].name.as_str()).collect();
        vec![crate::core::Metric {
            name: "rollback rate".into(),
            value: if done > 0 {
                rolled as f64 * 100.0 / done as f64
            } else {
                0.0
            },
            unit: "%".into(),
            description: format!(
                "of {} ({rolled} of {done}), rolled back on purpose (rollback_if)",
                names.join(", ")
            ),
        }]
    }

    /// The suite's passes and time per pass.
    fn suite_metrics(&self, run: &crate::core::RunCounts) -> Vec<crate::core::Metric> {
        let Some(s) = &self.suite else {
            return Vec::new();
        };
        let ran = |k: usize| {
            run.committed.get(k).copied().unwrap_or(0)
                + run.rolled_back.get(k).copied().unwrap_or(0)
                + run.failed.get(k).copied().unwrap_or(0)
        };
        let passes = s.order.iter().map(|k| ran(*k)).min().unwrap_or(0);
        let total: f64 = s
            .order
            .iter()
            .map(|k| run.service_s.get(*k).copied().unwrap_or(0.0))
            .sum();
        vec![
            crate::core::Metric {
                name: "suite passes".into(),
                value: passes as f64,
                unit: "passes".into(),
                description: format!(
                    "complete passes of the {} transactions of the suite (of {} asked)",
                    s.order.len(),
                    s.passes
                ),
            },
            crate::core::Metric {
                name: "suite time per pass".into(),
                value: if passes > 0 {
                    total / passes as f64
                } else {
                    total
                },
                unit: "s".into(),
                description: "the suite's transactions' execution time summed, per pass".into(),
            },
        ]
    }
}

impl Workload for Declarative {
    fn kinds(&self) -> &[&'static str] {
        &self.kinds
    }

    fn tables(&self) -> &[&'static str] {
        &self.tables
    }

    fn measures(&self) -> &[crate::core::measure::Measure] {
        &self.measures
    }

    fn metrics(&self, run: &crate::core::RunCounts) -> Vec<crate::core::Metric> {
        let mut out = self.rollback_rate(run);
        out.extend(self.suite_metrics(run));
        out
    }

    fn inspects(&self) -> bool {
        !self.explain.is_empty()
    }

    fn inspect<'a>(
        &'a self,
        conn: &'a Conn,
        before: bool,
    ) -> BoxFuture<'a, Vec<crate::core::Metric>> {
        Box::pin(self.plan_quality(conn, before))
    }

    fn warnings(&self) -> Vec<String> {
        match &self.suite {
            Some(_) => vec![
                "suite mode: the run ends when the suite is done (or at its duration); suite transactions run during a warm-up are not measured".into(),
            ],
            None => Vec::new(),
        }
    }

    fn settings(&self) -> Vec<(String, String)> {
        self.spec().settings.clone()
    }

    fn schema_params(&self) -> String {
        self.spec()
            .params
            .schema
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn needs_schema(&self) -> bool {
        let s = self.spec();
        !(s.create.is_empty() && s.data.is_empty())
    }

    fn writes(&self) -> bool {
        self.writes
    }

    fn preflight<'a>(
        &'a self,
        conn: &'a Conn,
        server_version_num: u32,
    ) -> BoxFuture<'a, Result<(), Vec<String>>> {
        Box::pin(async move {
            let p = check_requires(self.spec(), conn, server_version_num).await;
            if p.is_empty() {
                Ok(())
            } else {
                Err(p)
            }
        })
    }

    fn create_schema<'a>(&'a self, conn: &'a Conn) -> BoxFuture<'a, Result<(), SchemaError>> {
        Box::pin(create_schema(self.spec(), conn))
    }

    fn load<'a>(
        &'a self,
        pool: &'a Pool,
        progress: &'a LoadProgress,
    ) -> BoxFuture<'a, Result<LoadStats, SchemaError>> {
        Box::pin(async move {
            let spec = self.spec();
            let t0 = std::time::Instant::now();
            let parallelism = pool.status().max_size.clamp(1, 8);
            progress.expect(spec.data.iter().map(|t| t.rows).sum());
            let mut tables = Vec::new();
            for (i, t) in spec.data.iter().enumerate() {
                let started = std::time::Instant::now();
                let write = |id: u64, buf: &mut BytesMut| write_row(t, self.seed, i, id, buf);
                let rows =
                    parallel_copy(pool, &t.copy_sql, t.rows, parallelism, &write, progress).await?;
                tables.push(TableLoad {
                    table: t.name.clone(),
                    rows,
                    elapsed_s: started.elapsed().as_secs_f64(),
                });
            }
            let conn = pool
                .get()
                .await
                .map_err(|e| SchemaError::pool("running after_load", &e))?;
            let mut steps = Vec::new();
            for step in &spec.after_load {
                let started = std::time::Instant::now();
                run_script(
                    &conn,
                    &step.sql,
                    &format!("{} after_load {}", spec.name, step.label),
                )
                .await?;
                if let Some(name) = &step.timed {
                    steps.push(StepTime {
                        name: name.clone(),
                        elapsed_s: started.elapsed().as_secs_f64(),
                    });
                }
            }
            let figures = crate::core::measure::take_all(
                &conn,
                &self.measures,
                crate::core::measure::When::AfterLoad,
                crate::db::QUERY_TIMEOUT,
            )
            .await;
            Ok(LoadStats {
                tables,
                steps,
                figures,
                elapsed_s: t0.elapsed().as_secs_f64(),
            })
        })
    }

    fn cleanup_script(&self) -> Option<String> {
        let spec = self.spec();
        (!spec.cleanup.is_empty()).then(|| {
            spec.cleanup
                .iter()
                .map(|(_, text)| format!("{text}\n;\n"))
                .collect()
        })
    }

    fn drop_schema<'a>(&'a self, conn: &'a Conn) -> BoxFuture<'a, Result<(), SchemaError>> {
        Box::pin(async move {
            let spec = self.spec();
            if spec.cleanup.is_empty() {
                if spec.tables.is_empty() {
                    return Ok(());
                }
                let sql = format!("DROP TABLE IF EXISTS {} CASCADE", spec.tables.join(", "));
                return conn
                    .batch_execute(&sql)
                    .await
                    .map_err(SchemaError::db(format!(
                        "dropping the {} tables",
                        spec.name
                    )));
            }
            for (file, text) in &spec.cleanup {
                conn.batch_execute(text)
                    .await
                    .map_err(SchemaError::db(format!(
                        "{} cleanup file {file}",
                        spec.name
                    )))?;
            }
            Ok(())
        })
    }

    fn check<'a>(&'a self, conn: &'a Conn) -> BoxFuture<'a, Result<Vec<CheckResult>, SchemaError>> {
        Box::pin(async move {
            let mut out = Vec::new();
            for (name, sql) in &self.spec().checks {
                out.push(run_check(conn, name, sql).await?);
            }
            Ok(out)
        })
    }

    fn check_after_run(&self) -> bool {
        self.check_after_run && !self.spec().checks.is_empty()
    }

    fn worker(&self, worker_id: usize, seed: u64) -> Box<dyn WorkerTx> {
        self.group_worker(0, worker_id, seed)
    }

    fn groups(&self) -> Vec<Group> {
        self.groups.clone()
    }

    fn group_worker(&self, group: usize, worker_id: usize, seed: u64) -> Box<dyn WorkerTx> {
        let s = &self.shared;
        Box::new(Worker {
            suite: self.suite.clone(),
            pending: 0,
            group: group.min(s.cumulative.len() - 1),
            stmts: Statements::new(s.sql),
            st: gen::State {
                rng: rng(seed ^ self.seed, worker_id as u64),
                seqs: vec![0; s.spec.sequences],
                worker: worker_id as i64 % gen::SEQ_STRIDE,
                row: None,
                cols: Vec::new(),
                cluster: 0,
                seed: self.seed,
            },
            shared: s.clone(),
            vars: Vec::new(),
            slots: Vec::new(),
            params: Vec::new(),
            rows: Default::default(),
            copy_buf: BytesMut::new(),
        })
    }
}

/// How long the plan-quality pass lets one query run (as `statement_timeout`).
const PLAN_LIMIT: Duration = Duration::from_secs(5 * 60);

impl Declarative {
    /// Before the run: each explained query's plan shape. After it: its q-error (from
    /// EXPLAIN ANALYZE, which runs it once more) and whether its plan changed; a query
    /// that cannot be explained is a warning.
    async fn plan_quality(&self, conn: &Conn, before: bool) -> Vec<crate::core::Metric> {
        use crate::core::Metric;
        let figure = |name: String, value: f64, unit: &str, description: String| Metric {
            name,
            value,
            unit: unit.into(),
            description,
        };
        // the server stops each query at the limit; the client waits a little longer, so
        // a server that stops answering altogether ends the pass too
        let bound = PLAN_LIMIT + Duration::from_secs(15);
        let set = format!("SET statement_timeout = '{}s'", PLAN_LIMIT.as_secs());
        if tokio::time::timeout(crate::db::QUERY_TIMEOUT, conn.batch_execute(&set))
            .await
            .is_err()
        {
            log::warn!(
                "the server did not answer within {:?}; plan quality is not reported",
                crate::db::QUERY_TIMEOUT
            );
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut errors = Vec::new();
        let mut changed = 0;
        let mut with_rows = 0;
        // the server stopped answering: the session is left as it is
        let mut silent = false;
        for &k in &self.explain {
            let tx = &self.spec().transactions[k];
            let Some(stmt) = tx.statements.first() else {
                continue;
            };
            let options = if before {
                "FORMAT JSON"
            } else {
                // rows are all a q-error needs: no per-node clock reads slowing it down
                "ANALYZE, TIMING OFF, FORMAT JSON"
            };
            let explained = tokio::time::timeout(
                bound,
                conn.query_one(&format!("EXPLAIN ({options}) {}", stmt.sql), &[]),
            )
            .await;
            let Ok(explained) = explained else {
                log::warn!(
                    "plan of {}: the server did not answer within {bound:?}; the plan quality of it and the queries after it is not reported",
                    tx.name
                );
                silent = true;
                break;
            };
            let plan = match explained.and_then(|r| r.try_get::<_, serde_json::Value>(0)) {
                Ok(p) => p,
                Err(e) => {
                    log::warn!(
                        "plan of {}: {}; its plan quality is not reported",
                        tx.name,
                        crate::core::db_message(&e)
                    );
                    continue;
                }
            };
            let shape = plans::shape(&plan).unwrap_or_default();
            let mut shapes = self.shapes.lock().unwrap_or_else(|e| e.into_inner());
            if before {
                shapes.retain(|(x, _)| *x != k);
                shapes.push((k, shape));
                continue;
            }
            with_rows += usize::from(plans::produced(&plan).is_some_and(|r| r > 0.0));
            if let Some(q) = plans::q_error(&plan) {
                errors.push(q);
                out.push(figure(
                    format!("q_error.{}", tx.name),
                    q,
                    "",
                    "the planner's worst row estimate against the rows produced (1 = exact)".into(),
                ));
            }
            if let Some((_, was)) = shapes.iter().find(|(x, _)| *x == k) {
                let c = *was != shape;
                changed += usize::from(c);
                out.push(figure(
                    format!("plan_changed.{}", tx.name),
                    f64::from(u8::from(c)),
                    "",
                    "1 when the plan's shape differs from the one before the run".into(),
                ));
            }
        }
        if !before && !errors.is_empty() {
            let n = errors.len();
            let worst = errors.iter().copied().fold(1.0, f64::max);
            if let Some(m) = plans::median(errors) {
                out.insert(
                    0,
                    figure(
                        "q_error median".into(),
                        m,
                        "",
                        format!("median q-error over {n} queries"),
                    ),
                );
            }
            out.insert(
                1.min(out.len()),
                figure(
                    "q_error max".into(),
                    worst,
                    "",
                    format!("worst q-error over {n} queries"),
                ),
            );
            out.insert(
                2.min(out.len()),
                figure(
                    "queries with rows".into(),
                    with_rows as f64,
                    "queries",
                    format!("queries of the {n} that produced rows (for min()/count() without GROUP BY: rows to aggregate)"),
                ),
            );
            out.insert(
                3.min(out.len()),
                figure(
                    "plans changed".into(),
                    changed as f64,
                    "queries",
                    "queries whose plan shape changed during the run".into(),
                ),
            );
        }
        if !silent {
            let quick = crate::db::QUERY_TIMEOUT;
            let _ =
                tokio::time::timeout(quick, conn.batch_execute("RESET statement_timeout")).await;
        }
        out
    }
}

/// Runs one check query: its first column says whether it passed, the second (if any)
/// is the detail.
async fn run_check(conn: &Conn, name: &str, sql: &str) -> Result<CheckResult, SchemaError> {
    let msgs = conn
        .simple_query(sql)
        .await
        .map_err(SchemaError::db(format!("check '{name}'")))?;
    let row = msgs.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => Some(r),
        _ => None,
    });
    Ok(match row {
        Some(r) => {
            let first = r.get(0).unwrap_or("");
            CheckResult {
                name: name.to_string(),
                passed: matches!(first, "t" | "true"),
                detail: match r.len() {
                    0 | 1 => format!("returned {first}"),
                    _ => r.get(1).unwrap_or("NULL").to_string(),
                },
            }
        }
        None => CheckResult {
            name: name.to_string(),
            passed: false,
            detail: "the query returned no row (it must return one row, a boolean first)".into(),
        },
    })
}

struct Worker {
    /// The suite this worker claims its transactions from, in a suite mode.
    suite: Option<Arc<Suite>>,
    /// The suite transaction claimed by `next_start`.
    pending: TxKind,
    /// The worker group (index into the shared cumulative weights).
    group: usize,
    shared: Arc<Shared>,
    stmts: Statements,
    st: gen::State,
    /// This transaction's variables.
    vars: Vec<Value>,
    /// This transaction's returned values.
    slots: Vec<Value>,
    /// The parameters of the statement being sent.
    params: Vec<Value>,
    /// Rows of the statements of one round trip.
    rows: [Rows; 3],
    /// The text of a COPY transaction's rows.
    copy_buf: BytesMut,
}

/// Draws the parameters of `stmt` into `out`.
#[inline]
fn fill(
    out: &mut Vec<Value>,
    stmt: &spec::Statement,
    st: &mut gen::State,
    vars: &[Value],
    slots: &[Value],
) {
    out.clear();
    for p in &stmt.params {
        out.push(match p {
            spec::Param::Gen(g) => g.sample(st),
            spec::Param::Var(i) => vars[*i].clone(),
            spec::Param::Returned(i) => slots[*i].clone(),
        });
    }
}

type Param<'a> = &'a (dyn postgres_types::ToSql + Sync);

/// Statements with up to this many parameters bind them without allocating.
const INLINE_PARAMS: usize = 16;

/// The parameters as the statement API takes them: on the stack for the usual few, in
/// a vector beyond [`INLINE_PARAMS`]. The inline array is the point: it lives on the
/// stack for the span of one statement.
#[allow(clippy::large_enum_variant)]
enum Refs<'a> {
    Inline([Param<'a>; INLINE_PARAMS], usize),
    Heap(Vec<Param<'a>>),
}

/// Fills the unused inline slots (never bound).
static UNUSED: Value = Value::Null;

#[inline]
fn refs(params: &[Value]) -> Refs<'_> {
    if params.len() > INLINE_PARAMS {
        return Refs::Heap(params.iter().map(|v| v as Param).collect());
    }
    let mut buf: [Param; INLINE_PARAMS] = [&UNUSED; INLINE_PARAMS];
    for (slot, v) in buf.iter_mut().zip(params) {
        *slot = v;
    }
    Refs::Inline(buf, params.len())
}

impl<'a> std::ops::Deref for Refs<'a> {
    type Target = [Param<'a>];
    #[inline]
    fn deref(&self) -> &[Param<'a>] {
        match self {
            Refs::Inline(buf, n) => &buf[..*n],
            Refs::Heap(v) => v,
        }
    }
}

/// Keeps the columns of `rows`' first row that later statements use (NULL when it
/// returned no row).
fn capture(
    rows: &Rows,
    prepared: &Stmt,
    stmt: &spec::Statement,
    slots: &mut [Value],
) -> Result<(), TxError> {
    for (col, slot) in &stmt.captures {
        slots[*slot] = match prepared.column(col) {
            _ if rows.is_empty() => Value::Null,
            Some(i) => rows.get::<Value>(0, i)?,
            None => Value::Missing(intern(&format!(
                "statement {} returns no column '{col}'; add it to RETURNING (or the select list)",
                stmt.label
            ))),
        };
    }
    Ok(())
}

/// Whether the value `rollback_if` checks after statement `i` makes the transaction a
/// deliberate rollback.
fn deliberate(tx: &spec::Transaction, i: usize, slots: &[Value]) -> bool {
    match tx.rollback.check {
        Some((at, slot, on_false)) if at == i => match slots.get(slot) {
            None | Some(Value::Null) => true,
            Some(Value::Bool(false)) => on_false,
            Some(_) => false,
        },
        _ => false,
    }
}

/// Sends one statement; keeps the returned columns later statements use.
async fn send(
    session: &mut dyn Session,
    prepared: &Stmt,
    stmt: &spec::Statement,
    params: &[Value],
    rows: &mut Rows,
    slots: &mut [Value],
) -> Result<(), TxError> {
    if stmt.captures.is_empty() {
        session.execute(prepared, &refs(params)).await?;
        return Ok(());
    }
    session.query(prepared, &refs(params), rows).await?;
    capture(rows, prepared, stmt, slots)
}

impl Worker {
    async fn run_tx(
        &mut self,
        kind: TxKind,
        session: &mut dyn Session,
    ) -> Result<TxOutcome, TxError> {
        let Worker {
            suite: _,
            pending: _,
            group: _,
            shared,
            stmts,
            st,
            vars,
            slots,
            params,
            rows,
            copy_buf,
        } = self;
        let tx = &shared.spec.transactions[kind];
        if let Some(c) = &tx.copy {
            copy_buf.clear();
            for _ in 0..c.rows {
                for (i, g) in c.columns.iter().enumerate() {
                    if i > 0 {
                        copy_buf.put_u8(b'\t');
                    }
                    g.sample(st).write_copy(copy_buf);
                }
                copy_buf.put_u8(b'\n');
            }
            session.copy_in(&c.sql, copy_buf).await?;
            return Ok(TxOutcome::committed(1));
        }
        let ids = &shared.stmt_ids[kind];
        stmts.ready(session, ids).await?;
        if let Some(b) = shared.begin_ids[kind] {
            stmts.ready(session, &[b, shared.commit_id]).await?;
        }
        let stmts: &Statements = stmts;
        let prepared = |i: usize| stmts.at(ids[i]);
        vars.clear();
        for g in &tx.vars {
            vars.push(g.sample(st));
        }
        slots.clear();
        slots.resize(tx.slots, Value::Null);
        let n = tx.statements.len();
        let Some(begin_id) = shared.begin_ids[kind] else {
            // one statement, no options: the server's implicit transaction
            fill(params, &tx.statements[0], st, vars, slots);
            send(
                session,
                prepared(0),
                &tx.statements[0],
                params,
                &mut rows[0],
                slots,
            )
            .await?;
            return Ok(TxOutcome::committed(1));
        };
        let (begin, commit) = (stmts.at(begin_id), stmts.at(shared.commit_id));
        // BEGIN travels with the first statement and COMMIT with the last, in one round
        // trip each; after a failure the block is rolled back.
        fill(params, &tx.statements[0], st, vars, slots);
        let first = refs(params);
        let steps: &[Step] = &[
            Step::new(begin, &[]),
            Step::new(prepared(0), &first),
            Step::new(commit, &[]),
        ];
        let steps = if n == 1 { steps } else { &steps[..2] };
        let sent = session.pipeline(steps, &mut rows[..steps.len()]).await;
        drop(first);
        if let Err(e) = sent.and_then(|()| capture(&rows[1], prepared(0), &tx.statements[0], slots))
        {
            let _ = session.simple_query("ROLLBACK").await;
            return Err(e);
        }
        if n == 1 {
            return Ok(TxOutcome::committed(1));
        }
        if deliberate(tx, 0, slots) {
            session.simple_query("ROLLBACK").await?;
            return Ok(TxOutcome::RolledBack { queries: 2 });
        }
        for (i, stmt) in tx.statements.iter().enumerate().take(n - 1).skip(1) {
            let ps = prepared(i);
            fill(params, stmt, st, vars, slots);
            if let Err(e) = send(session, ps, stmt, params, &mut rows[0], slots).await {
                let _ = session.simple_query("ROLLBACK").await;
                return Err(e);
            }
            if deliberate(tx, i, slots) {
                session.simple_query("ROLLBACK").await?;
                return Ok(TxOutcome::RolledBack {
                    queries: i as u32 + 2,
                });
            }
        }
        let last = &tx.statements[n - 1];
        fill(params, last, st, vars, slots);
        let p = refs(params);
        let steps = [Step::new(prepared(n - 1), &p), Step::new(commit, &[])];
        let sent = session.pipeline(&steps, &mut rows[..2]).await;
        if let Err(e) = sent.and_then(|()| capture(&rows[0], prepared(n - 1), last, slots)) {
            let _ = session.simple_query("ROLLBACK").await;
            return Err(e);
        }
        Ok(TxOutcome::committed(n as u32))
    }
}

impl WorkerTx for Worker {
    #[inline]
    fn next_kind(&mut self) -> TxKind {
        if self.suite.is_some() {
            return self.pending;
        }
        let c = &self.shared.cumulative[self.group];
        if c.len() == 1 {
            return 0;
        }
        let u: f64 = self.st.rng.gen();
        c.iter().position(|x| u < *x).unwrap_or(c.len() - 1)
    }

    fn next_start(&mut self) -> crate::core::NextStart {
        let Some(s) = &self.suite else {
            return crate::core::NextStart::Schedule;
        };
        let i = s.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let n = s.order.len() as u64;
        if n == 0 || i >= n.saturating_mul(s.passes) {
            return crate::core::NextStart::Finished;
        }
        self.pending = s.order[(i % n) as usize];
        crate::core::NextStart::Schedule
    }

    fn run<'a>(
        &'a mut self,
        kind: TxKind,
        session: &'a mut dyn Session,
    ) -> BoxFuture<'a, Result<TxOutcome, TxError>> {
        Box::pin(async move {
            let r = self.run_tx(kind, session).await;
            let tx = &self.shared.spec.transactions[kind];
            if let Ok(TxOutcome::Committed { .. }) = r {
                for s in &tx.statements {
                    if let Some((slot, keys)) = &s.inserts {
                        if let Some(Value::Int(k)) = self.slots.get(*slot) {
                            keys.add(*k);
                        }
                    }
                }
            }
            match r {
                // an error the workload expects: a deliberate rollback (the block, if any,
                // was rolled back already)
                Err(e)
                    if e.code()
                        .is_some_and(|c| tx.rollback.sqlstates.iter().any(|s| s == c.code())) =>
                {
                    Ok(TxOutcome::RolledBack {
                        queries: tx.statements.len().max(1) as u32,
                    })
                }
                other => other,
            }
        })
    }
}

#[cfg(test)]
mod tests;
