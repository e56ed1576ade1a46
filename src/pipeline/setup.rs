//! Before measuring: the embedded cluster and the workload's schema (inspected, set up or
//! loaded as the command asks).

use anyhow::{anyhow, Context as _};
use tokio_util::sync::CancellationToken;

use crate::config::RunPlan;
use crate::core::{Conn, LoadProgress, LoadStats, Workload};
use crate::db::embedded::{EmbeddedCluster, EmbeddedOptions};
use crate::db::{marker, Target};
use crate::error::AppError;
use crate::schema::{self, Found, SchemaAction};

pub(crate) async fn start_embedded(
    plan: &RunPlan,
    interrupt: &CancellationToken,
) -> Result<Option<EmbeddedCluster>, AppError> {
    if !plan.database.embedded {
        return Ok(None);
    }
    let opts = EmbeddedOptions {
        settings: vec![(
            "max_connections".into(),
            (plan.exec.connections + 20).max(200).to_string(),
        )],
        version: None,
        bindir: plan.database.bindir.clone(),
    };
    errln!("starting an embedded PostgreSQL cluster (removed when stormbench exits)");
    let start = tokio::task::spawn_blocking(move || EmbeddedCluster::start(&opts));
    // an interrupt does not wait for initdb: the cluster's watchdog removes what the
    // start-up leaves when the process exits
    let cluster = tokio::select! {
        c = start => c.context("embedded cluster start-up task failed")?.map_err(|e| anyhow!(e))?,
        _ = interrupt.cancelled() => return Err(AppError::Interrupted("embedded cluster start-up")),
    };
    Ok(Some(cluster))
}

/// What schema preparation found or did.
pub(crate) struct SchemaReady {
    /// The marker found or written.
    pub(crate) marker: Option<marker::Marker>,
    /// The load done now, if any.
    pub(crate) load: Option<LoadStats>,
}

/// What the schema step is asked to do.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SchemaStep {
    /// Use, set up, rebuild (clean-up is its own command path).
    pub(crate) action: SchemaAction,
    /// A throwaway cluster: always set up.
    pub(crate) embedded: bool,
    /// `--force-drop`: tables of the workload's names may be dropped whoever made them.
    pub(crate) force_drop: bool,
    /// `-q`: no load progress on stderr.
    pub(crate) quiet: bool,
    /// The server's `server_version_num`, as the run read it when it connected.
    pub(crate) server_version_num: u32,
}

/// Uses the workload's schema as it is, or sets it up (under the set-up lock) as `step`
/// says.
pub(crate) async fn prepare_schema(
    plan: &RunPlan,
    step: SchemaStep,
    admin: &Conn,
    target: &Target,
    workload: &dyn Workload,
) -> Result<SchemaReady, AppError> {
    let SchemaStep {
        action,
        embedded,
        force_drop,
        quiet,
        server_version_num,
    } = step;
    let name = workload.schema_name().unwrap_or(&plan.workload);
    if !workload.needs_schema() {
        return Ok(SchemaReady {
            marker: None,
            load: None,
        });
    }
    match schema::inspect(admin, workload, name, plan.scale, action, embedded).await? {
        Found::Ready(m) => {
            log::info!("{name} schema present at scale {}", plan.scale);
            return Ok(SchemaReady {
                marker: Some(m),
                load: None,
            });
        }
        Found::MustLoad => {}
    }
    let load = schema::locked(admin, async {
        // a pool just for loading, sized for parallel COPY, with no statement_timeout (as
        // pg_restore: a role's limit for queries is not one for a bulk load, whose waits
        // the liveness probe bounds); on PostgreSQL 14 and later its sessions end their
        // statement within a second of stormbench going away (an interrupted index build
        // does not run on for minutes); its lock waits are bounded as stormbench's own
        // session's are (an after_load step behind another session's lock fails saying so)
        let mut settings = vec![("statement_timeout".to_string(), "0".to_string())];
        if let Some(bound) = current_setting(admin, "lock_timeout").await {
            settings.push(("lock_timeout".to_string(), bound));
        }
        if server_version_num >= 140_000 {
            settings.push((
                "client_connection_check_interval".to_string(),
                "1000".to_string(),
            ));
        }
        let loader = target
            .with_settings(&settings)
            .pool(plan.exec.connections.clamp(1, 8))
            .map_err(|e| anyhow!(e))?;
        load(plan, admin, &loader, workload, force_drop, quiet).await
    })
    .await?;
    let marker = marker::read(admin, name)
        .await
        .context("reading the marker")?;
    Ok(SchemaReady {
        marker,
        load: Some(load),
    })
}

/// A setting of `admin`'s session (`None` when unreadable).
async fn current_setting(admin: &Conn, name: &str) -> Option<String> {
    admin
        .query_one("SELECT current_setting($1)", &[&name])
        .await
        .ok()
        .map(|r| r.get(0))
}

pub(crate) async fn load(
    plan: &RunPlan,
    admin: &Conn,
    pool: &deadpool_postgres::Pool,
    workload: &dyn Workload,
    force_drop: bool,
    quiet: bool,
) -> anyhow::Result<LoadStats> {
    let name = workload.schema_name().unwrap_or(&plan.workload);
    // -q: the figures are in the report; nothing on stderr but errors
    let say = |line: String| {
        if !quiet {
            errln!("{line}");
        }
    };
    say(format!("loading {name} at scale {} ...", plan.scale));
    let before_load = schema::recreate(admin, workload, name, plan.scale, force_drop).await?;
    let progress = LoadProgress::default();
    let stats = show_load_progress(workload.load(pool, &progress), &progress, quiet)
        .await
        .map_err(|e| anyhow!(e))?;
    schema::finish(admin, name, &before_load).await?;
    for t in &stats.tables {
        say(format!(
            "  {}: {} rows in {:.1}s ({:.0} rows/s)",
            t.table,
            t.rows,
            t.elapsed_s,
            t.rows as f64 / t.elapsed_s.max(1e-9)
        ));
    }
    for s in &stats.steps {
        say(format!("  {}: {:.2}s", s.name, s.elapsed_s));
    }
    for f in &stats.figures {
        say(format!(
            "  {}: {} {}",
            f.name,
            crate::report::figure(f.value),
            f.unit
        ));
    }
    say(format!(
        "  total: {:.1}s including keys and indexes",
        stats.elapsed_s
    ));
    Ok(stats)
}

/// Drives the load while showing its progress: a bar on a terminal, a line every 5 s
/// otherwise, nothing when `quiet`.
pub(crate) async fn show_load_progress<T>(
    load: impl std::future::Future<Output = T>,
    progress: &LoadProgress,
    quiet: bool,
) -> T {
    use crate::progress::{bar, Mode, Unit};
    use std::sync::atomic::Ordering::Relaxed;
    let mode = Mode::detect(quiet);
    if mode == Mode::Quiet {
        return load.await;
    }
    let bar = (mode == Mode::Bar).then(|| bar(mode, 0, Unit::Rows));
    let every = if bar.is_some() { 200 } else { 5000 };
    let mut load = std::pin::pin!(load);
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(every));
    tick.tick().await;
    let out = loop {
        tokio::select! {
            out = &mut load => break out,
            _ = tick.tick() => {
                let (done, total) = (progress.done.load(Relaxed), progress.total.load(Relaxed));
                match &bar {
                    Some(b) => {
                        b.set_length(total);
                        b.set_position(done);
                    }
                    None => errln!("  loaded {done} of {total} rows"),
                }
            }
        }
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    out
}
