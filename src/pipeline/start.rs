//! The shards of a run split over several processes: waiting for the set-up shard 0 does,
//! and starting together (at an instant, or through a barrier in the database).
//!
//! The barrier needs no table: each shard keeps one session open whose
//! `application_name` names the barrier and the shard, and reads `pg_stat_activity` until
//! all shards are there. The start is then one second after the last of those sessions
//! began, by the server's clock, which every shard reads the same; each shard sleeps until
//! then as the server counts it, so the shards start within a network round trip of each
//! other whatever their own clocks say.

use std::time::{Duration, Instant};

use crate::config::{barrier_prefix, barrier_session_name, RunPlan, Shard, StartRule};
use crate::core::{db_message, Conn, Workload};
use crate::db::Target;
use crate::error::AppError;
use crate::exec::Gate;

use super::Waits;

/// How often a waiting shard looks again.
const POLL: Duration = Duration::from_millis(100);

/// Longest wait for the server's answer to one barrier query.
const ANSWER: Duration = Duration::from_secs(15);

/// The gate a run waits at before its clock starts: the plan's coordinated start.
pub(crate) fn gate(plan: &RunPlan, target: &Target) -> Option<Gate> {
    let rule = plan.distributed.start.clone()?;
    let target = target.clone();
    let shard = plan.exec.shard;
    Some(Box::pin(async move {
        match rule {
            StartRule::At(at) => {
                let ahead = at - chrono::Utc::now();
                match ahead.to_std() {
                    Ok(d) => {
                        log::info!("starting at {at} ({:.1} s from now)", d.as_secs_f64());
                        tokio::time::sleep(d).await;
                    }
                    Err(_) => log::warn!(
                        "start_at {at} was {:.1} s ago; starting now",
                        -ahead.num_milliseconds() as f64 / 1000.0
                    ),
                }
                Ok(())
            }
            StartRule::Barrier { name, timeout } => match shard {
                Some(shard) => barrier(&target, &name, shard, timeout.0).await,
                None => Ok(()),
            },
        }
    }))
}

/// Joins barrier `name` as `shard` and returns at the agreed instant.
async fn barrier(
    target: &Target,
    name: &str,
    shard: Shard,
    timeout: Duration,
) -> Result<(), String> {
    let what = format!("barrier {name}");
    let conn = target
        .connect_once()
        .await
        .map_err(|e| format!("{what}: {e}"))?;
    let prefix = barrier_prefix(name);
    let me = barrier_session_name(name, shard.index, shard.count);
    // a server that stops answering ends the wait instead of holding it
    answered(
        &what,
        tokio::time::timeout(
            ANSWER,
            conn.execute("SELECT set_config('application_name', $1, false)", &[&me]),
        )
        .await,
    )?;
    let _ = conn.batch_execute("SET statement_timeout = '10s'").await;
    log::info!(
        "shard {}: waiting up to {} for {} shards at the {what}",
        shard.label(),
        humantime::format_duration(timeout),
        shard.count
    );
    let deadline = Instant::now() + timeout;
    let mut seen = 0;
    loop {
        let (joined, sessions, wait_s, other) = answered(
            &what,
            tokio::time::timeout(ANSWER, look(&conn, &prefix, shard.count)).await,
        )?;
        if let Some(other) = other {
            return Err(format!(
                "{what}: a shard of another run is there (shard {other}, this run has {} \
                 shards); give each run its own barrier name",
                shard.count
            ));
        }
        if sessions > joined {
            return Err(format!(
                "{what}: two shards joined with the same index ({sessions} sessions for {joined} \
                 shards); give each shard its own --shard INDEX/{}",
                shard.count
            ));
        }
        if joined as usize >= shard.count {
            if let Some(w) = wait_s.filter(|w| *w > 0.0) {
                tokio::time::sleep(Duration::from_secs_f64(w.min(10.0))).await;
            }
            log::info!(
                "shard {}: all {} shards joined; starting",
                shard.label(),
                shard.count
            );
            return Ok(());
        }
        if joined != seen {
            seen = joined;
            log::info!("{what}: {joined} of {} shards", shard.count);
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{what}: {joined} of {} shards joined within {}; start the others, or check \
                 that they connect to the same database as the same role",
                shard.count,
                humantime::format_duration(timeout)
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// A barrier query's answer, or what went wrong (a server error, or none within
/// [`ANSWER`]).
fn answered<T>(
    what: &str,
    r: Result<Result<T, tokio_postgres::Error>, tokio::time::error::Elapsed>,
) -> Result<T, String> {
    match r {
        Ok(r) => r.map_err(|e| format!("{what}: {}", db_message(&e))),
        Err(_) => Err(format!(
            "{what}: the server did not answer within {}s; is it overloaded, frozen or unreachable?",
            ANSWER.as_secs()
        )),
    }
}

/// The barrier's shards of a run of `count` shards (distinct application names), their
/// sessions, how long until one second after the last one joined, by the server's clock,
/// and the label of a session at the barrier from a run of another shard count, if any.
async fn look(
    conn: &Conn,
    prefix: &str,
    count: usize,
) -> Result<(i64, i64, Option<f64>, Option<String>), tokio_postgres::Error> {
    let suffix = format!("/{count}");
    let row = conn
        .query_one(
            "WITH b AS (
                 SELECT application_name AS name, backend_start,
                        right(application_name, length($2)) = $2 AS ours
                 FROM pg_stat_activity
                 WHERE left(application_name, length($1)) = $1 AND datname = current_database())
             SELECT count(DISTINCT name) FILTER (WHERE ours), count(*) FILTER (WHERE ours),
                    extract(epoch FROM max(backend_start) FILTER (WHERE ours)
                            + interval '1 second' - clock_timestamp())::float8,
                    substr(min(name) FILTER (WHERE NOT ours), length($1) + 1)
             FROM b",
            &[&prefix, &suffix],
        )
        .await?;
    Ok((row.get(0), row.get(1), row.get(2), row.get(3)))
}

/// Shards other than 0 wait for the schema shard 0 sets up (its marker ready and the
/// set-up lock free), at most `plan.distributed.setup_wait`.
pub(crate) async fn wait_for_setup(
    plan: &RunPlan,
    waits: Waits<'_>,
    admin: &Conn,
    workload: &dyn Workload,
    shard: Shard,
) -> Result<(), AppError> {
    let name = workload.schema_name().unwrap_or(&plan.workload).to_string();
    let limit = plan.distributed.setup_wait.0;
    let deadline = Instant::now() + limit;
    let mut said = false;
    loop {
        let pending = waits
            .quick(
                "looking for the set-up of shard 0",
                crate::db::QUERY_TIMEOUT,
                crate::schema::being_set_up(admin, &name),
            )
            .await?;
        if !pending {
            return Ok(());
        }
        if !said {
            log::info!(
                "shard {}: waiting up to {} for shard 0 to set up the {name} schema",
                shard.label(),
                humantime::format_duration(limit)
            );
            said = true;
        }
        if Instant::now() >= deadline {
            return Err(AppError::Fatal(anyhow::anyhow!(
                "shard {}: the {name} schema was not set up within {} (setup_wait); is shard 0 \
                 running with --setup against the same database?",
                shard.label(),
                humantime::format_duration(limit)
            )));
        }
        waits
            .interruptible("waiting for the set-up of shard 0", async {
                tokio::time::sleep(Duration::from_secs(1)).await;
                Ok::<_, AppError>(())
            })
            .await?;
    }
}
