//! `stormbench check-workload DIR`: validates a declarative workload without running it.
//!
//! First the static checks (the same ones a run makes before connecting). Then, when a
//! database is reachable, inside one transaction that is rolled back at the end: a
//! throwaway schema first on the `search_path`, the workload's schema files, a few sample
//! rows of every data table through COPY, and every statement and check prepared, with
//! its parameters checked against the generators bound to them. Nothing is left behind:
//! DDL is transactional in PostgreSQL, and the prepared statements die with the
//! connection.

use std::time::Duration;

use anyhow::anyhow;
use bytes::{Bytes, BytesMut};
use futures_util::SinkExt as _;

use crate::app::{AppError, Exit};
use crate::cli::{CheckWorkloadArgs, RunArgs};
use crate::config::{self, ConfigError};
use crate::core::{db_message, Conn};
use crate::db::Target;
use crate::workloads::declarative::spec::{self, Param, Spec};
use crate::workloads::declarative::value::OutKind;
use crate::workloads::declarative::{self as decl, FILE_NAME};

/// Sample rows loaded per data table.
const SAMPLE_ROWS: u64 = 100;

/// Runs the command; exit 2 when the workload is invalid, 1 when a database named
/// explicitly cannot be reached.
pub fn run(args: &CheckWorkloadArgs, parent: &RunArgs) -> Result<Exit, AppError> {
    let dir = &args.dir;
    if !dir.join(FILE_NAME).is_file() {
        return Err(AppError::Usage(format!(
            "{} has no {FILE_NAME}; give the workload's folder (e.g. workloads/example_bank)",
            dir.display()
        )));
    }
    let mut problems = Vec::new();
    // the same range a run's `scale` accepts
    if !(1..=u64::from(u32::MAX)).contains(&args.scale) {
        return Ok(report_problems(&[format!(
            "--scale: must be between 1 and {} (got {})",
            u32::MAX,
            args.scale
        )]));
    }
    let spec = match spec::load(dir, args.scale) {
        Ok(s) => Some(s),
        Err(es) => {
            problems.extend(es);
            None
        }
    };
    // the same name rules as a run's registry: no built-in name, no `name_mode` spelling
    if let Err(clashes) = crate::workloads::registry().extend(vec![decl::info(dir)]) {
        problems.extend(clashes);
    }
    let Some(spec) = spec.filter(|_| problems.is_empty()) else {
        return Ok(report_problems(&problems));
    };
    println!("{}: valid", spec.file.display());
    print!("{}", summary(&spec));
    if args.offline {
        return Ok(Exit::Ok);
    }
    let (target, explicit) = target(args, parent)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow!("cannot start the async runtime: {e}"))?;
    rt.block_on(async {
        let conn = match tokio::time::timeout(Duration::from_secs(10), target.connect_once()).await
        {
            Ok(Ok(c)) => c,
            Ok(Err(e)) if explicit => return Err(anyhow!("{e}").into()),
            Err(_) if explicit => {
                return Err(anyhow!("connecting to {} timed out", target.display).into())
            }
            Ok(Err(e)) => {
                println!("database: none reachable ({e}); statements were not prepared (give --host/--dbname or -c, or --offline to skip this step)");
                return Ok(Exit::Ok);
            }
            Err(_) => {
                println!("database: connecting to {} timed out; statements were not prepared", target.display);
                return Ok(Exit::Ok);
            }
        };
        let problems = against_database(&spec, &conn).await;
        if problems.is_empty() {
            println!(
                "database {}: schema created, {SAMPLE_ROWS} sample rows per table loaded and {} statements prepared inside a transaction that was rolled back",
                target.display,
                spec.transactions.iter().map(|t| t.statements.len()).sum::<usize>() + spec.checks.len()
            );
            Ok(Exit::Ok)
        } else {
            Ok(report_problems(&problems))
        }
    })
}

fn report_problems(problems: &[String]) -> Exit {
    for p in problems {
        eprintln!("error: {p}");
    }
    eprintln!(
        "{} problem{} found",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    Exit::Usage
}

/// Transactions, modes and tables in a few lines.
fn summary(spec: &Spec) -> String {
    let mut out = format!("  {}\n", spec.description);
    for t in &spec.data {
        out.push_str(&format!(
            "  table {}: {} rows at this scale, {} columns\n",
            t.name,
            t.rows,
            t.columns.len()
        ));
    }
    for t in &spec.transactions {
        out.push_str(&format!(
            "  transaction {}: {} statement{}{}\n",
            t.name,
            t.statements.len(),
            if t.statements.len() == 1 { "" } else { "s" },
            t.begin
                .as_ref()
                .map(|b| format!(" in {b} ... COMMIT"))
                .unwrap_or_default()
        ));
    }
    for (mode, w) in &spec.modes {
        let total: f64 = w.iter().sum();
        let parts: Vec<String> = spec
            .transactions
            .iter()
            .zip(w)
            .filter(|(_, w)| **w > 0.0)
            .map(|(t, w)| format!("{} {:.1}%", t.name, 100.0 * w / total))
            .collect();
        out.push_str(&format!("  mode {mode}: {}\n", parts.join(", ")));
    }
    out
}

/// The database to use, and whether it was named explicitly (flags, config file or
/// STORMBENCH_DB_* variables).
fn target(args: &CheckWorkloadArgs, parent: &RunArgs) -> Result<(Target, bool), AppError> {
    let t = args.target.or(&parent.target);
    let config_path = t.config.as_ref();
    let mut raw = match config_path {
        Some(p) => {
            let reg = crate::workloads::registry();
            config::load_file(p, &reg)?.raw
        }
        None => config::RawConfig::default(),
    };
    let mut problems = config::apply_env(&mut raw, |k| std::env::var(k).ok());
    let o = config::Overrides {
        host: t.host.clone(),
        port: t.port,
        dbname: t.dbname.clone(),
        username: t.username.clone(),
        ..Default::default()
    };
    let explicit = config_path.is_some()
        || o.host.is_some()
        || o.port.is_some()
        || o.dbname.is_some()
        || std::env::var_os("STORMBENCH_DB_HOST").is_some();
    config::apply_overrides(&mut raw, &o);
    let db = config::database_plan(&raw.database, &mut problems);
    if !problems.is_empty() {
        return Err(ConfigError {
            source_name: config_path.map(|p| p.display().to_string()),
            problems,
        }
        .into());
    }
    if db.embedded {
        return Err(AppError::Usage(
            "check-workload does not start an embedded cluster; give a server with --host/--port/--dbname, or use --offline".into(),
        ));
    }
    Ok((Target::from_plan(&db, None), explicit))
}

/// Every database-side problem: requirements, schema, sample rows, statements.
pub async fn against_database(spec: &Spec, conn: &Conn) -> Vec<String> {
    let version = match crate::db::server_info(conn).await {
        Ok(s) => s.version_num,
        Err(e) => return vec![format!("reading the server version: {e}")],
    };
    let problems = decl::check_requires(spec, conn, version).await;
    if !problems.is_empty() {
        return problems;
    }
    if let Err(e) = conn.batch_execute("BEGIN").await {
        return vec![format!("BEGIN: {}", db_message(&e))];
    }
    let problems = in_transaction(spec, conn).await;
    let _ = conn.batch_execute("ROLLBACK").await;
    problems
}

async fn in_transaction(spec: &Spec, conn: &Conn) -> Vec<String> {
    let file = spec.file.display().to_string();
    let schema = format!("stormbench_check_{}", std::process::id());
    if let Err(e) = conn
        .batch_execute(&format!(
            "CREATE SCHEMA {schema}; SET LOCAL search_path TO {schema}, public"
        ))
        .await
    {
        return vec![format!("creating a throwaway schema: {}", db_message(&e))];
    }
    if let Err(e) = decl::create_schema(spec, conn).await {
        return vec![format!("{file}: schema.create: {e}")];
    }
    let mut problems = Vec::new();
    for (i, t) in spec.data.iter().enumerate() {
        if let Err(e) = sample_copy(spec, i, conn).await {
            problems.push(format!(
                "{file}: data[{i}] ({}): loading sample rows failed: {}; check each column's generator against the column's type",
                t.name,
                db_message(&e)
            ));
            // the transaction is aborted; nothing more can be checked
            return problems;
        }
    }
    for t in &spec.transactions {
        for s in &t.statements {
            let _ = conn.batch_execute("SAVEPOINT sb_check").await;
            match conn.prepare(&s.sql).await {
                Ok(st) => {
                    for (k, p) in s.params.iter().enumerate() {
                        let kind = match p {
                            Param::Gen(g) => g.out_kind(),
                            Param::Var(v) => t.vars[*v].out_kind(),
                            Param::Returned(_) => OutKind::Any,
                        };
                        if let Some(ty) = st.params().get(k) {
                            if let Some(m) = kind.incompatible(ty) {
                                problems.push(format!(
                                    "{file}: {}.params[{k}] (${}): {m}",
                                    s.path,
                                    k + 1
                                ));
                            }
                        }
                    }
                    for (col, _) in &s.captures {
                        if !st.columns().iter().any(|c| c.name() == col) {
                            problems.push(format!(
                                "{file}: {}: a later statement uses returned: {}.{col}, but this statement returns no column '{col}'; add it to RETURNING or the select list",
                                s.path,
                                s.label.rsplit('.').next().unwrap_or_default()
                            ));
                        }
                    }
                }
                Err(e) => {
                    problems.push(format!("{file}: {}.sql: {}", s.path, db_message(&e)));
                    let _ = conn.batch_execute("ROLLBACK TO SAVEPOINT sb_check").await;
                }
            }
        }
    }
    for (i, (name, sql)) in spec.checks.iter().enumerate() {
        let _ = conn.batch_execute("SAVEPOINT sb_check").await;
        if let Err(e) = conn.prepare(sql).await {
            problems.push(format!("{file}: checks[{i}] ({name}): {}", db_message(&e)));
            let _ = conn.batch_execute("ROLLBACK TO SAVEPOINT sb_check").await;
        }
    }
    problems
}

/// COPYs the first rows of data table `i` (what loading would send).
async fn sample_copy(spec: &Spec, i: usize, conn: &Conn) -> Result<u64, tokio_postgres::Error> {
    let t = &spec.data[i];
    let sink = conn.copy_in::<_, Bytes>(&t.copy_sql).await?;
    futures_util::pin_mut!(sink);
    let mut buf = BytesMut::new();
    for id in 1..=t.rows.min(SAMPLE_ROWS) {
        decl::write_sample_row(t, id, &mut buf);
    }
    sink.send(buf.freeze()).await?;
    sink.finish().await
}
