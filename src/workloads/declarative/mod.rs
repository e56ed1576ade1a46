//! Declarative workloads: a folder with a `workload.yaml` (schema files, data generators,
//! weighted transactions of parameterized SQL, modes, requirements, checks), discovered at
//! start-up and run like a built-in workload.
//!
//! Every statement is prepared once per connection and bound with typed parameters;
//! generated values never become SQL text. A worker keeps its prepared statements, its
//! RNG and reusable value buffers, so a transaction costs the draws, the binds and the
//! round trips, nothing else.

mod after_load;
pub(crate) mod check;
pub(crate) mod gen;
mod metrics;
pub(crate) mod plans;
pub(crate) mod resume;
pub(crate) mod spec;
pub(crate) mod sql;
pub(crate) mod value;
pub(crate) mod vecdata;
mod worker;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{BufMut, BytesMut};
use serde::Deserialize;

use crate::core::load::parallel_copy;
use crate::core::registry::{parse_section_lenient, Details};
use crate::core::script::may_write;
use crate::core::{
    intern, rng, run_script, script::find_transaction_control, BoxFuture, CheckResult, Conn, Group,
    LoadProgress, LoadStats, Pool, SchemaError, Statements, StepTime, TableLoad, TxKind, WorkerTx,
    Workload, WorkloadInfo, WorkloadParams,
};
pub(crate) use spec::{Spec, FILE_NAME};
use worker::Worker;

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

/// The registry entry of the workload in `dir`: its modes are read from the file when
/// first asked for (resolving a run's workload), its details learnt by compiling it at
/// scale 1 (listing); a run of another workload asks for neither.
pub(crate) fn info(dir: &Path) -> WorkloadInfo {
    let name = spec::workload_name(dir);
    let dir = dir.to_path_buf();
    let source = dir.join(FILE_NAME);
    let modes_of = source.clone();
    let build_dir = dir.clone();
    WorkloadInfo::discovered(
        name,
        source,
        move || spec::mode_names(&spec::read_or_empty(&modes_of)),
        move || describe(&dir),
        Arc::new(move |p: &WorkloadParams| build(&build_dir, p)),
    )
}

/// What `stormbench list` says of the workload in `dir`: from its compiled spec, or that
/// it is invalid and how to learn why.
fn describe(dir: &Path) -> Details {
    match spec::load(dir, 1) {
        Ok(s) => Details {
            description: s.description.clone(),
            scale_meaning: s.scale_meaning.clone(),
        },
        Err(es) => Details {
            description: format!(
                "INVALID ({} problem{}; run: stormbench check-workload {})",
                es.len(),
                if es.len() == 1 { "" } else { "s" },
                dir.display()
            ),
            scale_meaning: "unknown".into(),
        },
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
    /// Per sequence slot, the counter position this run's workers start at (past the
    /// keys earlier runs inserted, for the sequences bound to a column).
    seq_positions: Box<[std::sync::atomic::AtomicI64]>,
    /// Whether each statement ever returned or changed a row (indexed as the prepared
    /// set's statements).
    seen: crate::core::seen::RowsSeen,
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
        let writes = spec
            .transactions
            .iter()
            .zip(weights.iter())
            .filter(|(_, w)| **w > 0.0)
            .any(|(t, _)| t.copy.is_some() || t.statements.iter().any(|s| may_write(&s.sql)));
        let suite = suite(&spec, mode)?;
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
            groups: groups.iter().map(group).collect(),
            writes,
            kinds: spec.transactions.iter().map(|t| intern(&t.name)).collect(),
            tables: spec.tables.iter().map(|t| intern(t)).collect(),
            check_after_run: spec.check_after_run,
            shared: Arc::new(Shared::new(spec, cumulative)),
            seed,
        })
    }

    /// The compiled spec.
    pub(crate) fn spec(&self) -> &Spec {
        &self.shared.spec
    }
}

/// The running sums of `weights`, normalized to end at 1.
fn cumulate(weights: &[f64]) -> Vec<f64> {
    let total: f64 = weights.iter().sum();
    let mut acc = 0.0;
    weights
        .iter()
        .map(|w| {
            acc += w / total;
            acc
        })
        .collect()
}

/// The suite `mode` runs, if it is a suite mode; an error when its folder gave no queries.
fn suite(spec: &Spec, mode: &str) -> Result<Option<Arc<Suite>>, String> {
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
    Ok(spec
        .suites
        .iter()
        .find(|(m, _, _)| m == mode)
        .map(|(_, order, passes)| {
            Arc::new(Suite {
                order: order.clone(),
                passes: *passes,
                next: Default::default(),
            })
        }))
}

/// The worker group of `g`: the transactions it runs are those it gives a weight.
fn group(g: &spec::GroupDef) -> Group {
    Group {
        name: g.name.clone(),
        workers: g.workers,
        rate: g.rate,
        kinds: (0..g.weights.len())
            .filter(|k| g.weights[*k] > 0.0)
            .collect(),
    }
}

impl Shared {
    /// The spec with its prepared set: every transaction's statements, then the BEGIN
    /// variants, then COMMIT.
    fn new(spec: Spec, cumulative: Vec<Vec<f64>>) -> Self {
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
        // the statements come first in the set: their indexes are those of `seen` too
        let statements = sql.len();
        for t in &spec.transactions {
            begin_ids.push(t.begin.as_ref().map(|b| {
                sql.push(intern(b));
                sql.len() - 1
            }));
        }
        sql.push("COMMIT");
        let commit_id = sql.len() - 1;
        Shared {
            seq_positions: (0..spec.sequences).map(|_| Default::default()).collect(),
            seen: crate::core::seen::RowsSeen::new(sql[..statements].iter().map(|s| Some(*s))),
            spec,
            cumulative,
            sql: Box::leak(sql.into_boxed_slice()),
            stmt_ids,
            begin_ids,
            commit_id,
        }
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
    after_load::refuse_sequences_in_schema(conn, &spec.name, &spec.create).await?;
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

    fn prepares_run(&self) -> bool {
        !self.spec().resumes.is_empty()
    }

    fn prepare_run<'a>(&'a self, conn: &'a Conn) -> BoxFuture<'a, Vec<String>> {
        let s = &self.shared;
        Box::pin(resume::read_positions(
            conn,
            &s.spec.resumes,
            &s.seq_positions,
        ))
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
            let guard = after_load::guard(&conn, &spec.name).await?;
            for step in &spec.after_load {
                let started = std::time::Instant::now();
                after_load::run(
                    &conn,
                    &guard,
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

    fn findings(&self) -> Vec<String> {
        self.untouched()
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
                seqs: s
                    .seq_positions
                    .iter()
                    .map(|p| p.load(std::sync::atomic::Ordering::Relaxed))
                    .collect(),
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

/// Runs one check query: its first column says whether it passed, the second (if any)
/// is the detail.
async fn run_check(conn: &Conn, name: &str, sql: &str) -> Result<CheckResult, SchemaError> {
    let msgs = crate::core::read_only_query(conn, sql).await.map_err(|e| {
        let what = if crate::core::refused_as_a_write(&e) {
            format!("check '{name}' (a check is a query: it runs read-only)")
        } else {
            format!("check '{name}'")
        };
        SchemaError::db(what)(e)
    })?;
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

#[cfg(test)]
mod tests;
