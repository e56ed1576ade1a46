//! `trace` (mode `replay`): replays a SQL trace, either one written by `trace generate` or a
//! PostgreSQL server log, against the database. Each trace session runs on one worker with
//! its own connection, statements in session order, at the trace's timing scaled by
//! `trace.replay.speed`. Every statement is one engine "transaction" whose kind is its
//! template, so the report gives latency per template; start lag against the trace's timing
//! is the replay lag.

mod sessions;

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::check_range;
use crate::core::registry::parse_section_lenient;
use crate::core::script::may_write;
use crate::core::{
    BoxFuture, Conn, LoadProgress, LoadStats, Metric, NextStart, Pacing, Pool, RunCounts,
    SchemaError, Session, TxError, TxKind, TxOutcome, WorkerTx, Workload, WorkloadInfo,
    WorkloadParams,
};
use sessions::{assign, load};

/// Templates that get their own transaction kind by default; the rest share one.
const DEFAULT_TEMPLATES: usize = 50;

/// The registry entry.
pub(crate) fn info() -> WorkloadInfo {
    WorkloadInfo::builtin(
        "trace",
        "replays a SQL trace (trace generate output or a server log): one worker per session at a time, the trace's own timing",
        &["replay"],
        "the trace.schema_from workload's (the trace decides the work)",
        build,
    )
}

/// The `trace:` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Section {
    /// The trace: JSON Lines from `trace generate`, or a server log.
    file: Option<PathBuf>,
    /// Log format (stderr, csvlog, jsonlog, plain, trace); detected when absent.
    format: Option<String>,
    /// A workload in the registry whose schema and data the trace runs on: `--setup`,
    /// `--rebuild` and `--cleanup` manage that one's (at the run's `scale`).
    schema_from: Option<String>,
    /// Replay settings.
    replay: ReplaySection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ReplaySection {
    /// Timing factor: 1.0 = as recorded, 2.0 = twice as fast, 0 = as fast as possible.
    speed: Option<f64>,
    /// Start the trace over when it ends, until the run's duration is up.
    #[serde(rename = "loop")]
    repeat: Option<bool>,
    /// Most frequent templates reported as their own kind (the rest as one).
    templates: Option<usize>,
    /// `simple`: statements as recorded, literals in the text (simple query protocol);
    /// `prepared`: each template prepared once per connection, literals bound as parameters.
    protocol: Option<Protocol>,
    /// Replay statements that drop, empty, change or replace objects (`DROP`, `TRUNCATE`,
    /// `ALTER`, `CREATE OR REPLACE`) as recorded; without it a trace holding one is refused.
    allow_destructive: Option<bool>,
}

/// How statements reach the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Protocol {
    /// The recorded text, simple query protocol.
    #[default]
    Simple,
    /// Templates prepared per connection, the literals bound as text parameters.
    Prepared,
}

/// What to do to the session's transaction state after a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Control {
    None,
    Begin,
    End,
}

/// One statement to replay.
#[derive(Debug)]
struct Stmt {
    /// Intended start, µs after the first statement of the trace.
    offset_us: u64,
    /// Transaction kind (template rank, or the shared "other" kind).
    kind: u32,
    /// Template id.
    tpl: u32,
    control: Control,
    sql: Box<str>,
    /// Its literals, when the statement can be sent as its prepared template (protocol
    /// `prepared`, and no collapsed IN-list or bare `$n` in it).
    bound: Option<Box<[Box<str>]>>,
}

/// The loaded trace: statements grouped by session, sessions ordered by start.
#[derive(Debug)]
struct Trace {
    stmts: Vec<Stmt>,
    sessions: Vec<Range<usize>>,
    /// Offset of the last statement, µs.
    span_us: u64,
    kinds: Vec<&'static str>,
    /// Template texts (placeholders `$1`..), by template id.
    templates: Vec<Box<str>>,
    /// Statements that cannot be replayed (COPY with STDIN/STDOUT), dropped.
    skipped: u64,
    /// Malformed log lines skipped while reading.
    malformed: u64,
    /// Whether each template's statements ever returned or changed a row, by template id.
    seen: crate::core::seen::RowsSeen,
}

/// The replay workload.
pub(crate) struct Replay {
    /// The trace file (`trace.file`).
    file: PathBuf,
    trace: Arc<Trace>,
    /// The workload whose schema the trace runs on (`trace.schema_from`).
    schema: Option<(String, Arc<dyn Workload>)>,
    /// Session indices per worker.
    plan: Vec<Arc<[usize]>>,
    speed: f64,
    repeat: bool,
    /// Workers needed so that no session waits for another.
    needed_workers: usize,
    /// Workers of the run.
    workers: usize,
}

fn build(p: &WorkloadParams) -> Result<Arc<dyn Workload>, Vec<String>> {
    let (s, mut errors) = parse_section_lenient::<Section>(&p.section, "trace");
    let speed = s.replay.speed.unwrap_or(1.0);
    check_range(&mut errors, "trace.replay.speed", speed, 0.0, 1e6);
    let templates = s.replay.templates.unwrap_or(DEFAULT_TEMPLATES);
    if templates == 0 || templates > 1000 {
        errors.push(format!(
            "trace.replay.templates: must be between 1 and 1000 (got {templates})"
        ));
    }
    let Some(file) = s.file else {
        errors.push(
            "trace.file: missing; set it to a trace from 'stormbench trace generate' (.jsonl) or a server log".into(),
        );
        return Err(errors);
    };
    let schema = s
        .schema_from
        .as_deref()
        .and_then(|name| schema_workload(name, p, &mut errors));
    if !errors.is_empty() {
        return Err(errors);
    }
    let (events, malformed) =
        crate::trace::read_events(&file, s.format.as_deref()).map_err(|e| {
            // unlike `workloads_path`, a relative trace is read from the working directory
            let hint = match std::env::current_dir() {
                Ok(cwd) if file.is_relative() && !file.exists() => format!(
                    " (a relative trace.file is read from the working directory, {}; give \
                     an absolute path or run from the folder it is relative to)",
                    cwd.display()
                ),
                _ => String::new(),
            };
            vec![format!("trace.file: {e:#}{hint}")]
        })?;
    let protocol = s.replay.protocol.unwrap_or_default();
    let mut trace = load(events, templates, protocol);
    trace.malformed = malformed;
    if trace.stmts.is_empty() {
        return Err(vec![format!(
            "trace.file: {} holds no statements to replay ({} malformed lines, {} COPY statements skipped)",
            file.display(),
            malformed,
            trace.skipped
        )]);
    }
    // an empty statement in a trace is recorded behaviour (a client's keep-alive ping);
    // a trace of nothing else would replay as a run of transactions that did no work
    if trace
        .stmts
        .iter()
        .all(|st| crate::core::script::split(&st.sql).is_empty())
    {
        return Err(vec![format!(
            "trace.file: {} holds only empty statements (blanks or comments): nothing to replay; give a trace of the workload's SQL",
            file.display()
        )]);
    }
    beyond_refused(&trace)?;
    if !s.replay.allow_destructive.unwrap_or(false) {
        destructive_refused(&trace)?;
    }
    let workers = p.workers.max(1);
    let (plan, needed_workers) = assign(&trace, workers);
    Ok(Arc::new(Replay {
        file,
        schema,
        workers,
        trace: Arc::new(trace),
        plan: plan.into_iter().map(Arc::from).collect(),
        speed,
        repeat: s.replay.repeat.unwrap_or(false),
        needed_workers,
    }))
}

/// The distinct recorded statements holding a dollar-quoted body (a `DO` block, a function
/// definition), whose text the templates keep only as a placeholder.
fn with_bodies(trace: &Trace) -> impl Iterator<Item = &str> {
    let dollar_quoted = |sql: &str| {
        sql.as_bytes()
            .windows(2)
            .any(|w| w[0] == b'$' && (w[1] == b'$' || w[1] == b'_' || w[1].is_ascii_alphabetic()))
    };
    let mut seen = std::collections::HashSet::new();
    trace
        .stmts
        .iter()
        .map(|s| &*s.sql)
        .filter(move |sql| dollar_quoted(sql) && seen.insert(*sql))
}

/// Refuses a trace holding statements on roles, databases or the server, or calls of
/// functions acting on other sessions or the server (`pg_terminate_backend`,
/// `pg_stat_reset`, ...): replayed, they would act beyond the run (on the server's roles,
/// other sessions, the statistics the run collects), whatever `allow_destructive` says.
fn beyond_refused(trace: &Trace) -> Result<(), Vec<String>> {
    use crate::core::script::{beyond_in_bodies, beyond_the_workload, split};
    let mut found: Vec<(String, String)> = trace
        .templates
        .iter()
        .flat_map(|t| split(t))
        .filter_map(|st| beyond_the_workload(st.text).map(|c| (c, st.head())))
        .collect();
    found.extend(
        with_bodies(trace)
            .flat_map(split)
            .filter_map(|st| beyond_in_bodies(st.text).map(|c| (c, st.head()))),
    );
    let Some((cmd, head)) = found.first() else {
        return Ok(());
    };
    Err(vec![format!(
        "trace.file: {} statement{} would act beyond the run's own objects, on roles, \
         databases, the server or other sessions (e.g. {cmd}: {head}); remove {} from the \
         trace",
        found.len(),
        if found.len() == 1 { "" } else { "s" },
        if found.len() == 1 { "it" } else { "them" },
    )])
}

/// Refuses a trace holding statements that drop, empty, change or replace objects: a trace
/// recorded elsewhere would run them on objects stormbench did not create.
fn destructive_refused(trace: &Trace) -> Result<(), Vec<String>> {
    use crate::core::script::{destructive, destructive_in_bodies, split};
    let mut found: Vec<String> = trace
        .templates
        .iter()
        .flat_map(|t| split(t))
        .filter(|st| destructive(st.text).is_some())
        .map(|st| st.head())
        .collect();
    found.extend(
        with_bodies(trace)
            .flat_map(split)
            .filter(|st| destructive_in_bodies(st.text).is_some())
            .map(|st| st.head()),
    );
    let Some(first) = found.first() else {
        return Ok(());
    };
    Err(vec![format!(
        "trace.file: {} statement{} would drop, empty, change or replace existing objects \
         (e.g. {first}); remove {} from the trace, or set trace.replay.allow_destructive: true to \
         replay {} as recorded",
        found.len(),
        if found.len() == 1 { "" } else { "s" },
        if found.len() == 1 { "it" } else { "them" },
        if found.len() == 1 { "it" } else { "them" },
    )])
}

/// Builds the workload named by `trace.schema_from` (default mode, default section, the
/// run's scale), for its schema only.
fn schema_workload(
    name: &str,
    p: &WorkloadParams,
    errors: &mut Vec<String>,
) -> Option<(String, Arc<dyn Workload>)> {
    let registry = &p.registry;
    let info = registry.get(name).filter(|i| i.name != "trace");
    let Some(info) = info else {
        errors.push(format!(
            "trace.schema_from: unknown workload '{name}'; use one whose schema the trace runs on: {}",
            registry
                .entries()
                .iter()
                .filter(|e| e.name != "trace")
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return None;
    };
    let params = WorkloadParams {
        mode: info.modes()[0].to_string(),
        scale: p.scale,
        section: serde_yaml::Value::Null,
        seed: p.seed,
        workers: p.workers,
        registry: p.registry.clone(),
    };
    match (info.build)(&params) {
        Ok(w) if w.needs_schema() => Some((info.name.to_string(), w)),
        Ok(_) => {
            errors.push(format!(
                "trace.schema_from: workload '{name}' has no schema; remove schema_from"
            ));
            None
        }
        Err(es) => {
            errors.extend(es.into_iter().map(|e| format!("trace.schema_from: {e}")));
            None
        }
    }
}

impl Workload for Replay {
    fn kinds(&self) -> &[&'static str] {
        &self.trace.kinds
    }

    fn tables(&self) -> &[&'static str] {
        match &self.schema {
            Some((_, w)) => w.tables(),
            None => &[],
        }
    }

    fn writes(&self) -> bool {
        const CONTROL: [&str; 7] = [
            "begin",
            "start",
            "commit",
            "end",
            "rollback",
            "savepoint",
            "release",
        ];
        self.trace.templates.iter().any(|t| {
            let first = t
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            !CONTROL.contains(&first.trim_end_matches(';')) && may_write(t)
        })
    }

    fn needs_schema(&self) -> bool {
        self.schema.is_some()
    }

    fn schema_name(&self) -> Option<&str> {
        self.schema.as_ref().map(|(n, _)| n.as_str())
    }

    fn create_schema<'a>(&'a self, conn: &'a Conn) -> BoxFuture<'a, Result<(), SchemaError>> {
        match &self.schema {
            Some((_, w)) => w.create_schema(conn),
            None => Box::pin(async { Ok(()) }),
        }
    }

    fn load<'a>(
        &'a self,
        pool: &'a Pool,
        progress: &'a LoadProgress,
    ) -> BoxFuture<'a, Result<LoadStats, SchemaError>> {
        match &self.schema {
            Some((_, w)) => w.load(pool, progress),
            None => Box::pin(async { Ok(LoadStats::default()) }),
        }
    }

    fn drop_schema<'a>(&'a self, conn: &'a Conn) -> BoxFuture<'a, Result<(), SchemaError>> {
        match &self.schema {
            Some((_, w)) => w.drop_schema(conn),
            None => Box::pin(async { Ok(()) }),
        }
    }

    fn pacing(&self) -> Option<Pacing> {
        (self.speed > 0.0).then(|| Pacing {
            source: "trace".into(),
            speed: self.speed,
        })
    }

    fn session_bound(&self) -> bool {
        true
    }

    fn input_files(&self) -> Vec<PathBuf> {
        vec![self.file.clone()]
    }

    fn warnings(&self) -> Vec<String> {
        let (need, have) = (self.needed_workers, self.workers);
        if need > have && self.speed > 0.0 {
            vec![format!(
                "the trace has up to {need} sessions at once but the run has {have} workers: sessions will wait for each other and start late (set workers: {need})"
            )]
        } else {
            Vec::new()
        }
    }

    fn findings(&self) -> Vec<String> {
        let t = &self.trace;
        t.seen
            .take_untouched()
            .into_iter()
            .map(|i| {
                let text = &t.templates[i];
                let mut shown: String = text.chars().take(80).collect();
                if shown.len() < text.len() {
                    shown.push_str("...");
                }
                format!(
                    "trace statements of the form `{shown}` returned or changed no row in any of their executions: the trace's values do not reach the data it runs on (check trace.schema_from and its scale against the database the trace was recorded on)"
                )
            })
            .collect()
    }

    fn metrics(&self, run: &RunCounts) -> Vec<Metric> {
        let t = &self.trace;
        let ran: u64 = run.committed.iter().chain(&run.failed).sum();
        let m = |name: &str, value: f64, unit: &str, description: &str| Metric {
            name: name.into(),
            value,
            unit: unit.into(),
            description: description.into(),
        };
        vec![
            m(
                "trace statements",
                t.stmts.len() as f64,
                "statements",
                "statements in the trace",
            ),
            m(
                "statements replayed",
                ran as f64,
                "statements",
                "executed during measurement, failed ones included",
            ),
            m(
                "trace sessions",
                t.sessions.len() as f64,
                "sessions",
                "sessions in the trace",
            ),
            m(
                "peak concurrent sessions",
                self.needed_workers as f64,
                "sessions",
                "workers needed so that no session waits for another",
            ),
            m(
                "trace span",
                t.span_us as f64 / 1e6,
                "s",
                "first to last statement start in the trace",
            ),
            m(
                "statements skipped",
                t.skipped as f64,
                "statements",
                "COPY from STDIN / to STDOUT, not replayable",
            ),
            m(
                "malformed lines",
                t.malformed as f64,
                "lines",
                "log lines that could not be read",
            ),
        ]
    }

    fn worker(&self, worker_id: usize, _seed: u64) -> Box<dyn WorkerTx> {
        let sessions = self
            .plan
            .get(worker_id)
            .cloned()
            .unwrap_or_else(|| Arc::from(Vec::new()));
        Box::new(ReplayWorker::new(
            self.trace.clone(),
            sessions,
            self.speed,
            self.repeat,
        ))
    }
}

/// One worker's replay cursor.
struct ReplayWorker {
    trace: Arc<Trace>,
    sessions: Arc<[usize]>,
    speed: f64,
    repeat: bool,
    /// Index into `sessions` of the next session to start.
    next_session: usize,
    /// Next statement of the current session, and its end.
    pos: usize,
    end: usize,
    /// The statement `run` executes.
    current: usize,
    /// Completed passes over the trace (with `loop`).
    lap: u64,
    /// A transaction is open on the connection.
    in_tx: bool,
    /// Roll back what the last session left open before the next statement.
    reset: bool,
    /// Templates prepared on the current connection (protocol `prepared`).
    prepared: TemplateCache,
}

/// What is known of a template on one connection.
#[derive(Clone)]
enum Prep {
    /// Not tried yet.
    Unknown,
    /// Prepared.
    Ready(crate::core::Stmt),
    /// The server cannot prepare it with parameters (e.g. `DATE $1`): sent as recorded.
    Simple,
}

/// Per-connection prepared templates, forgotten when the worker's connection changes.
struct TemplateCache {
    conn: Option<u64>,
    by_template: Vec<Prep>,
}

impl TemplateCache {
    fn new(templates: usize) -> Self {
        TemplateCache {
            conn: None,
            by_template: vec![Prep::Unknown; templates],
        }
    }

    /// Runs a statement as its prepared template (`text`, id `tpl`) with its literals
    /// bound; a template the server cannot prepare is sent as recorded (`sql`) from then on.
    async fn run(
        &mut self,
        session: &mut dyn Session,
        (tpl, text): (usize, &str),
        params: &[Box<str>],
        sql: &str,
        in_tx: bool,
    ) -> Result<u64, TxError> {
        if self.conn != Some(session.id()) {
            self.conn = Some(session.id());
            self.by_template.iter_mut().for_each(|p| *p = Prep::Unknown);
        }
        let st = match &self.by_template[tpl] {
            Prep::Ready(st) => st.clone(),
            Prep::Simple => return session.simple_query(sql).await,
            Prep::Unknown => match prepare(session, text, in_tx).await? {
                Some(st) => {
                    self.by_template[tpl] = Prep::Ready(st.clone());
                    st
                }
                None => {
                    self.by_template[tpl] = Prep::Simple;
                    return session.simple_query(sql).await;
                }
            },
        };
        let bound: Vec<TextParam> = params.iter().map(|p| TextParam(p)).collect();
        let refs: Vec<&(dyn postgres_types::ToSql + Sync)> = bound
            .iter()
            .map(|p| p as &(dyn postgres_types::ToSql + Sync))
            .collect();
        session.execute(&st, &refs).await
    }
}

/// Prepares `text` on `conn`; `None` when the server cannot. Inside the session's
/// transaction (`in_tx`) a failed preparation would abort it, so it is guarded by a
/// savepoint there.
async fn prepare(
    session: &mut dyn Session,
    text: &str,
    in_tx: bool,
) -> Result<Option<crate::core::Stmt>, TxError> {
    if in_tx {
        // fails when the session's transaction already failed: so does the statement, as
        // it did for the recorded application (preparing is tried another time)
        session.simple_query(SAVEPOINT).await?;
    }
    let prepared = session.prepare(text).await;
    if in_tx {
        let undo = if prepared.is_ok() {
            RELEASE
        } else {
            ROLLBACK_TO
        };
        session.simple_query(undo).await?;
    }
    Ok(prepared.ok())
}

/// A literal bound as a text-format parameter: the server parses it for whatever type it
/// inferred, as it would parse the literal in the statement's text.
#[derive(Debug)]
struct TextParam<'a>(&'a str);

impl tokio_postgres::types::ToSql for TextParam<'_> {
    fn to_sql(
        &self,
        _ty: &tokio_postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(tokio_postgres::types::IsNull::No)
    }

    fn accepts(_ty: &tokio_postgres::types::Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &tokio_postgres::types::Type) -> tokio_postgres::types::Format {
        tokio_postgres::types::Format::Text
    }

    tokio_postgres::types::to_sql_checked!();
}

/// The savepoint that guards a template's first preparation inside a session's
/// transaction, and its ends.
const SAVEPOINT: &str = "SAVEPOINT stormbench_replay_prepare";
const RELEASE: &str = "RELEASE SAVEPOINT stormbench_replay_prepare";
const ROLLBACK_TO: &str = "ROLLBACK TO SAVEPOINT stormbench_replay_prepare";

impl ReplayWorker {
    fn new(trace: Arc<Trace>, sessions: Arc<[usize]>, speed: f64, repeat: bool) -> Self {
        ReplayWorker {
            prepared: TemplateCache::new(trace.templates.len()),
            trace,
            sessions,
            speed,
            repeat,
            next_session: 0,
            pos: 0,
            end: 0,
            current: 0,
            lap: 0,
            in_tx: false,
            reset: false,
        }
    }

    /// Moves to the next session; false when there is none.
    fn next_session(&mut self) -> bool {
        if self.next_session == self.sessions.len() {
            if !self.repeat || self.sessions.is_empty() {
                return false;
            }
            self.next_session = 0;
            self.lap += 1;
        }
        let r = self.trace.sessions[self.sessions[self.next_session]].clone();
        self.next_session += 1;
        self.pos = r.start;
        self.end = r.end;
        self.reset = self.in_tx;
        true
    }
}

impl WorkerTx for ReplayWorker {
    fn next_start(&mut self) -> NextStart {
        if self.pos == self.end && !self.next_session() {
            return NextStart::Finished;
        }
        self.current = self.pos;
        self.pos += 1;
        if self.speed <= 0.0 {
            return NextStart::Schedule;
        }
        // a lap lasts the trace's span plus a millisecond, so laps never overlap
        let at = self.lap * (self.trace.span_us + 1000) + self.trace.stmts[self.current].offset_us;
        NextStart::At(Duration::from_micros((at as f64 / self.speed) as u64))
    }

    fn next_kind(&mut self) -> TxKind {
        self.trace.stmts[self.current].kind as TxKind
    }

    fn run<'a>(
        &'a mut self,
        _kind: TxKind,
        session: &'a mut dyn Session,
    ) -> BoxFuture<'a, Result<TxOutcome, TxError>> {
        Box::pin(async move {
            if std::mem::take(&mut self.reset) {
                // the previous session ended inside a transaction; this one starts clean
                self.in_tx = false;
                session.simple_query("ROLLBACK").await?;
            }
            let stmt = &self.trace.stmts[self.current];
            let tpl = stmt.tpl as usize;
            let result = match &stmt.bound {
                Some(params) => {
                    let text = &*self.trace.templates[tpl];
                    self.prepared
                        .run(session, (tpl, text), params, &stmt.sql, self.in_tx)
                        .await
                }
                None => session.simple_query(&stmt.sql).await,
            };
            if let Ok(n) = result {
                self.trace.seen.saw(tpl, n);
            }
            match stmt.control {
                Control::Begin if result.is_ok() => self.in_tx = true,
                // COMMIT of a failed transaction rolls back and succeeds; either way it ends
                Control::End => self.in_tx = false,
                _ => {}
            }
            result.map(|_| TxOutcome::committed(1))
        })
    }
}

#[cfg(test)]
mod tests;
