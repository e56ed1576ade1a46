//! Checks a loaded config, section by section, and builds the [`RunPlan`].

use std::time::Duration;

use super::database::database_plan;
use super::distributed::DistributedPlan;
use super::load::LoadedConfig;
use super::plan::{
    Arrival, BuiltWorkload, CollectPlan, ExecOptions, GroupPlan, ParamSweepPlan, RunPlan, Stop,
};
use super::progressive::progressive_plan;
use super::raw::{ArrivalKind, RawConfig, RawPrometheus, RawSweep, Secret};
use super::Dur;
use crate::core::registry::Resolved;
use crate::core::{ConnectionMode, Registry, Workload, WorkloadParams};

/// Longest `duration` and `warmup`, also of a progressive band: 365 days. Far enough for
/// any soak test, near enough that every deadline computed from it stays representable.
pub const MAX_RUN_TIME: Duration = Duration::from_secs(365 * 86_400);
/// Longest `think_time`: 1 hour.
pub const MAX_THINK_TIME: Duration = Duration::from_secs(3_600);
/// Longest interval (`summary_interval`, `sample_interval`, `stats_interval`,
/// `progressive.cooldown`): 1 day.
pub const MAX_INTERVAL: Duration = Duration::from_secs(86_400);
/// Longest `database.connect_timeout`: 1 hour.
pub const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(3_600);

/// Largest accepted `workers`.
pub const MAX_WORKERS: u64 = 100_000;
/// Largest accepted `connections`.
pub const MAX_CONNECTIONS: u64 = 10_000;

pub(super) fn in_range(errors: &mut Vec<String>, key: &str, v: u64, lo: u64, hi: u64) -> u64 {
    if v < lo || v > hi {
        errors.push(format!("{key}: must be between {lo} and {hi} (got {v})"));
    }
    v.clamp(lo, hi)
}

/// Checks `d` against `min..=max`, pushing an error naming the key, the value and the
/// bound it breaks.
pub(super) fn dur_in(
    errors: &mut Vec<String>,
    key: &str,
    d: Dur,
    min: Duration,
    max: Duration,
) -> Dur {
    if d.0 < min {
        errors.push(format!(
            "{key}: must be at least {} (got {d})",
            humantime::format_duration(min)
        ));
    } else if d.0 > max {
        errors.push(format!(
            "{key}: must be at most {} (got {d})",
            limit_text(max)
        ));
    }
    d
}

/// A limit as people write it: `365 days`, `1 hour`, else humantime's spelling.
fn limit_text(d: Duration) -> String {
    let s = d.as_secs();
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if d.subsec_nanos() == 0 && s > 0 && s % 86_400 == 0 {
        plural(s / 86_400, "day")
    } else if d.subsec_nanos() == 0 && s > 0 && s % 3_600 == 0 {
        plural(s / 3_600, "hour")
    } else {
        humantime::format_duration(d).to_string()
    }
}

/// Masks the password wherever a message would show it. No message quotes the password
/// key's value; this catches the same text given to another key as well. Shorter
/// passwords are left alone: masking two letters would garble every message.
fn redact(problems: Vec<String>, password: Option<&Secret>) -> Vec<String> {
    match password.map(Secret::expose) {
        Some(p) if p.chars().count() >= 4 => problems
            .into_iter()
            .map(|m| m.replace(p, "********"))
            .collect(),
        _ => problems,
    }
}

/// Checks a loaded config against the registry and returns the typed plan, or every problem.
pub fn validate(cfg: &LoadedConfig, registry: &Registry) -> Result<RunPlan, Vec<String>> {
    let raw = &cfg.raw;
    let mut errors = cfg.problems.clone();
    let mut warnings = Vec::new();
    let resolved = resolve_workload(cfg, registry, &mut errors, &mut warnings);
    let scale = in_range(
        &mut errors,
        "scale",
        raw.scale.unwrap_or(1),
        1,
        u32::MAX as u64,
    );
    let mut exec = exec_options(raw, &mut errors);
    let env = |k: &str| std::env::var(k).ok();
    let database = database_plan(&raw.database, &env, &mut errors, &mut warnings);
    let log_level = log_level(raw, &mut errors);
    let collect = collect_plan(raw, &mut errors);
    let prometheus = prometheus_addr(&raw.metrics.prometheus, &mut errors);
    let progressive = progressive_plan(&raw.progressive, &mut errors);
    let safety = super::safety::safety_plan(&raw.safety, &mut errors);
    let history = super::store::history_store(raw.history.as_ref(), &env, &mut errors);
    let checkpoint_interval = checkpoint_interval(raw, &exec, &mut errors);
    let mut distributed = super::distributed::distributed_plan(&raw.distributed, &env, &mut errors);
    let mut database = database;
    database.read_only = safety.read_only;
    let section_yaml = resolved
        .as_ref()
        .and_then(|r| cfg.sections.get(&r.info.name).cloned())
        .unwrap_or(serde_yaml::Value::Null);
    let resolved_for_sweep = resolved.clone();
    let built = resolved.and_then(|resolved| {
        let params = workload_params(&resolved, section_yaml.clone(), scale, &exec, registry);
        let shape = RunShape {
            exec: &exec,
            progressive: progressive.is_some(),
        };
        build_workload(resolved, &params, &shape, &mut errors, &mut warnings)
    });
    if let Some(b) = &built {
        run_rules(
            raw,
            b,
            &mut exec,
            &mut distributed,
            progressive.is_some(),
            &mut errors,
            &mut warnings,
        );
    }
    let param_sweep = match (&built, &resolved_for_sweep) {
        (Some(b), Some(r)) => param_sweep(
            raw,
            r,
            b,
            &section_yaml,
            scale,
            registry,
            &exec,
            progressive.is_some(),
            &mut errors,
        ),
        _ => None,
    };
    if !errors.is_empty() {
        return Err(redact(errors, raw.database.password.as_ref()));
    }
    let Some(built) = built else {
        return Err(vec!["workload: could not be built".into()]);
    };
    Ok(RunPlan {
        warnings,
        database,
        workload: built.resolved.info.name.to_string(),
        mode: built.resolved.mode.clone(),
        scale,
        workload_section: serde_json::to_value(&section_yaml).unwrap_or(serde_json::Value::Null),
        exec,
        json: raw.output.json.clone(),
        csv: raw.output.csv.clone(),
        log_level,
        collect,
        prometheus,
        html: raw.output.html.clone(),
        progressive,
        param_sweep,
        safety,
        slo: (!raw.slo.is_empty()).then(|| raw.slo.clone()),
        history,
        checkpoint_interval,
        distributed,
        built,
    })
}

/// The parameters a workload is built from, with its section `section`.
fn workload_params(
    resolved: &Resolved,
    section: serde_yaml::Value,
    scale: u64,
    exec: &ExecOptions,
    registry: &Registry,
) -> WorkloadParams {
    WorkloadParams {
        mode: resolved.mode.clone(),
        scale,
        section,
        seed: exec.seed,
        workers: exec.workers,
        registry: registry.clone(),
    }
}

/// The run's settings that depend on the built workload: its worker groups, the SLOs
/// against its kinds, and the shard of it this machine runs.
fn run_rules(
    raw: &RawConfig,
    b: &BuiltWorkload,
    exec: &mut ExecOptions,
    distributed: &mut DistributedPlan,
    progressive: bool,
    errors: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    worker_groups(raw, b.workload.as_ref(), exec, progressive, errors);
    let open_loop = matches!(exec.arrival, Arrival::Open { .. })
        || exec
            .groups
            .iter()
            .any(|g| matches!(g.arrival, Arrival::Open { .. }));
    super::slo::validate(&raw.slo, b.workload.kinds(), open_loop, errors);
    if let Some(shard) = distributed.shard {
        if progressive || raw.sweep.param.is_some() {
            errors.push(format!(
                "shard {}: a progressive or parameter sweep runs on one machine; run it \
                 without --shard",
                shard.label()
            ));
        }
        distributed.run_workers = exec.workers;
        super::distributed::apply_shard(exec, shard, errors);
        if let Some(n) = b.workload.worker_partitions() {
            if n % shard.count as u64 != 0 {
                warnings.push(format!(
                    "shard {}: {} shards over {n} partitions of the data (for tpcc, \
                     warehouses) share some: shard i runs workers i, i+{}, ..., whose home \
                     partitions are their own only when the shard count divides {n}",
                    shard.label(),
                    shard.count,
                    shard.count
                ));
            }
        }
    }
    if !raw.slo.is_empty() && progressive {
        warnings.push(
            "slo: objectives judge a measured run; a progressive sweep does not apply them".into(),
        );
    }
}

/// The registry entry of `workload` and `mode`; a warning for each workload section the
/// run does not use.
fn resolve_workload(
    cfg: &LoadedConfig,
    registry: &Registry,
    errors: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Option<Resolved> {
    let raw = &cfg.raw;
    let workload_name = raw.workload.clone().unwrap_or_else(|| "simple".to_string());
    let resolved = match registry.resolve(&workload_name, raw.mode.as_deref()) {
        Ok(r) => Some(r),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    for name in cfg.sections.keys() {
        if resolved.as_ref().is_some_and(|r| r.info.name != *name) {
            warnings.push(format!(
                "config section '{name}' is ignored: the run's workload is '{workload_name}'"
            ));
        }
    }
    resolved
}

/// Builds the workload from its section and checks the rules it puts on the run.
fn build_workload(
    resolved: Resolved,
    params: &WorkloadParams,
    shape: &RunShape,
    errors: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Option<BuiltWorkload> {
    match (resolved.info.build)(params) {
        Ok(workload) => {
            workload_rules(workload.as_ref(), shape, errors);
            warnings.extend(workload.warnings());
            Some(BuiltWorkload { resolved, workload })
        }
        Err(es) => {
            errors.extend(es);
            None
        }
    }
}

/// The engine's settings: concurrency, stop rule, timing, arrival, driver.
fn exec_options(raw: &RawConfig, errors: &mut Vec<String>) -> ExecOptions {
    let workers = in_range(errors, "workers", raw.workers.unwrap_or(4), 1, MAX_WORKERS) as usize;
    // unset: one per worker, up to the limit (more workers then share the pool)
    let connections = match raw.connections {
        Some(c) => in_range(errors, "connections", c, 1, MAX_CONNECTIONS) as usize,
        None => workers.min(MAX_CONNECTIONS as usize),
    };
    let max_tries = in_range(
        errors,
        "max_tries",
        raw.max_tries.unwrap_or(1) as u64,
        1,
        1000,
    ) as u32;
    let threads = match raw.threads {
        Some(t) => in_range(errors, "threads", t, 1, 1024) as usize,
        None => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2),
    };
    let stop = stop_rule(raw, errors);
    let warmup = dur_in(
        errors,
        "warmup",
        raw.warmup.unwrap_or_default(),
        Duration::ZERO,
        MAX_RUN_TIME,
    );
    let arrival = arrival(raw, errors);
    let think_time = dur_in(
        errors,
        "think_time",
        raw.think_time.unwrap_or_default(),
        Duration::ZERO,
        MAX_THINK_TIME,
    );
    if think_time.0 > Duration::ZERO && matches!(arrival, Arrival::Open { .. }) {
        errors
            .push("think_time: only applies to closed-loop runs; remove it or remove rate".into());
    }
    let (summary_interval, sample_interval) = intervals(raw, errors);
    ExecOptions {
        stop,
        warmup,
        workers,
        connections,
        arrival,
        think_time,
        max_tries,
        seed: raw.seed.unwrap_or(1),
        summary_interval,
        sample_interval,
        // 3600 points unless set: an hour at the default 1 s
        full_resolution: match raw.time_series_full_resolution {
            Some(d) => dur_in(
                errors,
                "time_series_full_resolution",
                d,
                sample_interval.0 * 2,
                Duration::from_secs(30 * 86_400),
            ),
            None => Dur(sample_interval.0.saturating_mul(3600)),
        },
        connection_mode: raw.connection_mode.unwrap_or(ConnectionMode::Persistent),
        driver: raw.driver.unwrap_or_default(),
        threads,
        groups: Vec::new(),
        shard: None,
    }
}

/// `sweep:`: the workload built once per value of the parameter, each checked now.
#[allow(clippy::too_many_arguments)]
fn param_sweep(
    raw: &RawConfig,
    resolved: &Resolved,
    built: &BuiltWorkload,
    section: &serde_yaml::Value,
    scale: u64,
    registry: &Registry,
    exec: &ExecOptions,
    progressive: bool,
    errors: &mut Vec<String>,
) -> Option<ParamSweepPlan> {
    let s = &raw.sweep;
    let (param, run_duration) = sweep_shape(s, exec, progressive, errors)?;
    let band_duration = s.band_duration.unwrap_or(run_duration);
    let warmup = s.warmup.unwrap_or(exec.warmup);
    let mut values = Vec::new();
    let mut workloads = Vec::new();
    let base = built.workload.schema_params();
    for (i, v) in s.values.iter().enumerate() {
        let value = match v {
            serde_yaml::Value::Number(n) => n.to_string(),
            serde_yaml::Value::String(t) => t.clone(),
            _ => {
                errors.push(format!("sweep.values[{i}]: give a number or a word"));
                continue;
            }
        };
        let mut section = match section {
            serde_yaml::Value::Mapping(m) => m.clone(),
            _ => serde_yaml::Mapping::new(),
        };
        section.insert(param.as_str().into(), v.clone());
        let params = workload_params(
            resolved,
            serde_yaml::Value::Mapping(section),
            scale,
            exec,
            registry,
        );
        match (resolved.info.build)(&params) {
            Ok(w) => {
                if w.schema_params() != base {
                    errors.push(format!(
                        "sweep.param: {param} changes the loaded schema ({} against {base}), so each band would need a rebuild; sweep a parameter of the search instead",
                        w.schema_params()
                    ));
                    return None;
                }
                values.push(value);
                workloads.push(w);
            }
            Err(es) => {
                for e in es {
                    errors.push(format!("sweep.values[{i}]: {e}"));
                }
            }
        }
    }
    // a parameter the workload does not declare is an unknown key of its section
    let figure = s.figure.clone().unwrap_or_else(|| "recall".into());
    let at = if s.at.is_empty() {
        vec![0.9, 0.95, 0.99]
    } else {
        s.at.clone()
    };
    if at.iter().any(|a| !a.is_finite()) {
        errors.push("sweep.at: levels must be numbers".into());
    }
    Some(ParamSweepPlan {
        param: param.clone(),
        values,
        band_duration,
        warmup,
        figure,
        at,
        workloads,
    })
}

/// The parameter a sweep varies and the run's duration (each band's unless set); `None`,
/// with the problem in `errors`, when the sweep cannot run.
fn sweep_shape<'a>(
    s: &'a RawSweep,
    exec: &ExecOptions,
    progressive: bool,
    errors: &mut Vec<String>,
) -> Option<(&'a String, Dur)> {
    let Some(param) = &s.param else {
        if !s.values.is_empty() {
            errors.push(
                "sweep.param: missing; name the workload parameter the values are for".into(),
            );
        }
        return None;
    };
    if progressive {
        errors.push(
            "sweep: a parameter sweep and a progressive sweep cannot run together; run one of them"
                .into(),
        );
        return None;
    }
    if s.values.is_empty() {
        errors.push(format!(
            "sweep.values: give the values of {param} to run, one band each"
        ));
        return None;
    }
    if s.values.len() > 1000 {
        errors.push("sweep.values: more than 1000 bands; sweep fewer values".into());
        return None;
    }
    let Stop::Duration(run_duration) = exec.stop else {
        errors.push("sweep: each band runs for a time; set duration (or sweep.band_duration) instead of a transaction count".into());
        return None;
    };
    Some((param, run_duration))
}

/// The workload's worker groups as the run's: a group without workers takes the run's
/// `workers`, one without a rate the run's arrival; the run's workers (and connections,
/// unless set) become their sum.
fn worker_groups(
    raw: &RawConfig,
    w: &dyn Workload,
    exec: &mut ExecOptions,
    progressive: bool,
    errors: &mut Vec<String>,
) {
    let groups = w.groups();
    if groups.is_empty() {
        return;
    }
    if progressive {
        errors.push("progressive: this mode runs worker groups with their own worker counts; a sweep of workers does not apply (sweep a parameter instead, or pick a mode without groups)".into());
        return;
    }
    let process = match exec.arrival {
        Arrival::Open { process, .. } => process,
        Arrival::Closed => ArrivalKind::Uniform,
    };
    exec.groups = groups
        .into_iter()
        .map(|g| GroupPlan {
            name: g.name,
            workers: g.workers.unwrap_or(exec.workers),
            arrival: match g.rate {
                Some(rate_tps) => Arrival::Open { rate_tps, process },
                None => exec.arrival,
            },
            kinds: g.kinds,
        })
        .collect();
    let total: usize = exec.groups.iter().map(|g| g.workers).sum();
    if total as u64 > MAX_WORKERS {
        errors.push(format!(
            "workers: the groups add up to {total} workers, above the limit of {MAX_WORKERS}; lower their workers"
        ));
    }
    exec.workers = total;
    if raw.connections.is_none() {
        exec.connections = total.min(MAX_CONNECTIONS as usize);
    }
}

/// How often the run so far is checkpointed: 5 minutes unless set; `0s` turns it off.
fn checkpoint_interval(
    raw: &RawConfig,
    exec: &ExecOptions,
    errors: &mut Vec<String>,
) -> Option<Dur> {
    match raw.checkpoint_interval {
        Some(d) if d.0.is_zero() => None,
        Some(d) if d.0 < exec.sample_interval.0 => {
            errors.push(format!(
                "checkpoint_interval: must be at least sample_interval ({}), or 0s for no \
                 checkpoints (got {d})",
                exec.sample_interval
            ));
            None
        }
        Some(d) => Some(dur_in(
            errors,
            "checkpoint_interval",
            d,
            Duration::ZERO,
            MAX_INTERVAL,
        )),
        None => Some(Dur(Duration::from_secs(300))),
    }
}

/// The summary-line interval (`None`: no periodic summary) and the time-series interval.
fn intervals(raw: &RawConfig, errors: &mut Vec<String>) -> (Option<Dur>, Dur) {
    let sample_interval = dur_in(
        errors,
        "sample_interval",
        raw.sample_interval.unwrap_or(Dur(Duration::from_secs(1))),
        Duration::from_millis(100),
        MAX_INTERVAL,
    );
    let summary_interval = match raw.summary_interval {
        Some(d) if d.0.is_zero() => None,
        Some(d) => Some(dur_in(
            errors,
            "summary_interval",
            d,
            Duration::from_millis(100),
            MAX_INTERVAL,
        )),
        None => Some(Dur(Duration::from_secs(10))),
    };
    (summary_interval, sample_interval)
}

fn log_level(raw: &RawConfig, errors: &mut Vec<String>) -> String {
    let log_level = raw.log_level.clone().unwrap_or_else(|| "warn".into());
    if !["error", "warn", "info", "debug", "trace", "off"].contains(&log_level.as_str()) {
        errors.push(format!(
            "log_level: unknown level '{log_level}'; use error, warn, info, debug, trace or off"
        ));
    }
    log_level
}

fn collect_plan(raw: &RawConfig, errors: &mut Vec<String>) -> Option<CollectPlan> {
    let statements = raw.pg_stat_statements.unwrap_or(false);
    if !(raw.collect_pg_stats.unwrap_or(false) || statements) {
        return None;
    }
    let interval = dur_in(
        errors,
        "stats_interval",
        raw.stats_interval.unwrap_or(Dur(Duration::from_secs(1))),
        Duration::from_millis(100),
        MAX_INTERVAL,
    );
    let top = in_range(
        errors,
        "top_statements",
        raw.top_statements.unwrap_or(10),
        1,
        1000,
    );
    Some(CollectPlan {
        interval,
        statements,
        top_statements: top as usize,
    })
}

/// What the workload rules below need to know of the run.
struct RunShape<'a> {
    exec: &'a ExecOptions,
    progressive: bool,
}

/// Rules a built workload puts on the run (its own timing, per-worker sessions).
fn workload_rules(w: &dyn Workload, shape: &RunShape, errors: &mut Vec<String>) {
    let run = shape.exec;
    let open_loop = matches!(run.arrival, Arrival::Open { .. });
    if w.session_bound() && run.connections < run.workers {
        errors.push(format!(
            "connections: this workload keeps one connection per worker (its sessions carry transactions and settings), so connections ({}) must be at least workers ({}); raise connections or lower workers",
            run.connections, run.workers
        ));
    }
    if let Some(p) = w.pacing() {
        if open_loop {
            errors.push(format!(
                "rate: the {} sets its own timing (speed {}); remove rate, or set the speed to 0 to run at rate",
                p.source, p.speed
            ));
        }
    }
    if shape.progressive && w.session_bound() {
        errors.push(
            "progressive: a sweep varies workers, which would re-split this workload's sessions each band; run it without progressive".into(),
        );
    }
}

fn prometheus_addr(p: &RawPrometheus, errors: &mut Vec<String>) -> Option<std::net::SocketAddr> {
    if !p.enabled.unwrap_or(false) {
        return None;
    }
    let listen = p.listen.as_deref().unwrap_or("127.0.0.1:9187");
    match listen.parse() {
        Ok(a) => Some(a),
        Err(_) => {
            errors.push(format!(
                "metrics.prometheus.listen: '{listen}' is not an address; write it like \"127.0.0.1:9187\""
            ));
            None
        }
    }
}

fn stop_rule(raw: &RawConfig, errors: &mut Vec<String>) -> Stop {
    let duration = raw.duration.map(|d| {
        dur_in(
            errors,
            "duration",
            d,
            Duration::from_millis(100),
            MAX_RUN_TIME,
        )
    });
    match raw.transactions {
        Some(0) => {
            errors.push("transactions: must be at least 1".into());
            Stop::Transactions {
                count: 1,
                limit: duration,
            }
        }
        Some(count) => Stop::Transactions {
            count,
            limit: duration,
        },
        None => Stop::Duration(duration.unwrap_or(Dur(Duration::from_secs(60)))),
    }
}

fn arrival(raw: &RawConfig, errors: &mut Vec<String>) -> Arrival {
    match (raw.rate, raw.arrival) {
        (None, None) => Arrival::Closed,
        (None, Some(_)) => {
            errors.push("arrival: needs a target rate; set rate (transactions per second) or remove arrival".into());
            Arrival::Closed
        }
        (Some(r), a) => {
            if !(r.is_finite() && r > 0.0 && r <= 10_000_000.0) {
                errors.push(format!("rate: must be a positive number of transactions per second up to 10000000 (got {})", crate::core::Shown(r)));
            }
            Arrival::Open {
                rate_tps: r,
                process: a.unwrap_or(ArrivalKind::Uniform),
            }
        }
    }
}
