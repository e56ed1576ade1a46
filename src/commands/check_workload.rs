//! `stormbench check-workload DIR`: validates a declarative workload without running it.
//!
//! First the static checks (the same ones a run makes before connecting), then, when a
//! database is reachable, the checks of `workloads::declarative::check` inside a
//! transaction that is rolled back.

use std::time::Duration;

use anyhow::anyhow;

use crate::cli::{CheckWorkloadArgs, RunArgs};
use crate::config::{self, ConfigError};
use crate::db::Target;
use crate::error::{AppError, Exit};
use crate::workloads::declarative::check::{against_database, SAMPLE_ROWS};
use crate::workloads::declarative::spec::{self, Spec};
use crate::workloads::declarative::{self as decl, FILE_NAME};

/// Runs the command; exit 2 when the workload is invalid, 1 when a database named
/// explicitly cannot be reached.
pub(crate) fn run(args: &CheckWorkloadArgs, parent: &RunArgs) -> Result<Exit, AppError> {
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
    outln!("{}: valid", spec.file.display());
    out!("{}", summary(&spec));
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
                outln!("database: none reachable ({e}); statements were not prepared (give --host/--dbname or -c, or --offline to skip this step)");
                return Ok(Exit::Ok);
            }
            Err(_) => {
                outln!("database: connecting to {} timed out; statements were not prepared", target.display);
                return Ok(Exit::Ok);
            }
        };
        // the check's statements wait for other sessions' locks at most as long as a run's
        // set-up does, and are abandoned by the server if stormbench goes
        if let Err(e) = crate::db::bound_lock_waits(&conn).await {
            return Err(anyhow!("{}: {}", target.display, crate::core::db_message(&e)).into());
        }
        // as long as the server answers a probe of its own: a server that stops answering
        // mid-check (frozen, a network partition) ends the check instead of holding it
        let problems = tokio::select! {
            p = against_database(&spec, &conn) => p,
            why = crate::db::unresponsive(&target) => {
                return Err(anyhow!(
                    "{}: {why}; the check stopped, and its transaction is rolled back when the \
                     server sees the connection gone",
                    target.display
                )
                .into())
            }
        };
        if problems.is_empty() {
            outln!(
                "database {}: schema created, {SAMPLE_ROWS} sample rows per table loaded, after_load run and {} statements prepared inside a transaction that was rolled back",
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
        errln!("error: {p}");
    }
    errln!(
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
            t.hidden.iter().filter(|h| !**h).count()
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
            config::ConfigFile::read(p)?.load(&reg)?.raw
        }
        None => config::RawConfig::default(),
    };
    let mut problems = config::apply_env(&mut raw, |k| std::env::var(k).ok());
    let o = config::Overrides {
        url: t.url.clone().map(config::Secret::new),
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
        || o.url.is_some()
        || ["STORMBENCH_DB_HOST", "PGHOST", "PGSERVICE"]
            .iter()
            .any(|v| std::env::var_os(v).is_some());
    problems.extend(config::apply_overrides(&mut raw, &o));
    let env = |k: &str| std::env::var(k).ok();
    let mut warnings = Vec::new();
    let db = config::database_plan(&raw.database, &env, &mut problems, &mut warnings);
    for w in warnings {
        log::warn!("{w}");
    }
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
    let target = Target::from_plan(&db, None);
    target
        .check_tls_files()
        .map_err(|e| AppError::Usage(e.to_string()))?;
    Ok((target, explicit))
}
