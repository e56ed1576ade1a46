//! A run split over several processes (shards): which part this process runs, how the
//! shards start together, and how long a shard waits for another one's set-up.
//!
//! Shard `i` of `n` runs the workers whose ids are `i`, `i + n`, `i + 2n`, ... of the
//! whole run, with their seeds, so the `n` shards together are the single-machine run:
//! the same workers, the same seeds, and keys derived from worker ids (TPC-C home
//! warehouses, per-worker sequences) disjoint between shards. Rates, worker groups'
//! rates, transaction budgets and connections are split in proportion.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::plan::{Arrival, ExecOptions, Stop};
use super::validate::dur_in;
use super::Dur;

/// Most shards of one run.
pub const MAX_SHARDS: usize = 1024;

/// The longest `application_name` PostgreSQL keeps (NAMEDATALEN - 1).
const MAX_SESSION_NAME: usize = 63;

/// `distributed:` as written (each key also has a flag).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawDistributed {
    /// `INDEX/COUNT` (`--shard`, `STORMBENCH_SHARD`).
    pub shard: Option<String>,
    /// The shard count, the index coming from `JOB_COMPLETION_INDEX` (`--shards`).
    pub shards: Option<u64>,
    /// Start measuring at this instant, RFC 3339 (`--start-at`).
    pub start_at: Option<String>,
    /// Start when every shard has joined this barrier in the database (`--barrier`).
    pub barrier: Option<String>,
    /// Longest wait at the barrier (default 10m).
    pub barrier_timeout: Option<Dur>,
    /// Longest wait of a shard other than 0 for the set-up shard 0 does (default 30m).
    pub setup_wait: Option<Dur>,
}

/// This process's part of the run: shard `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// From 0.
    pub index: usize,
    /// Shards of the run.
    pub count: usize,
}

impl Shard {
    /// Ids in `0..end` that belong to this shard.
    fn below(&self, end: usize) -> usize {
        (end + self.count - 1 - self.index) / self.count
    }

    /// The workers of this shard among ids `first..first + len` of the whole run.
    pub(crate) fn share_of(&self, first: usize, len: usize) -> usize {
        self.below(first + len) - self.below(first)
    }

    /// Shard `i` of the same run.
    fn sibling(&self, index: usize) -> Shard {
        Shard { index, ..*self }
    }

    /// This shard's part of `total` (a transaction budget) split as `workers` are: exact,
    /// the parts of all shards add up to `total`.
    fn part_of(&self, total: u64, workers: usize) -> u64 {
        let before: usize = (0..self.index)
            .map(|j| self.sibling(j).share_of(0, workers))
            .sum();
        let upto = before + self.share_of(0, workers);
        let at = |w: usize| (u128::from(total) * w as u128 / workers.max(1) as u128) as u64;
        at(upto) - at(before)
    }

    /// `INDEX/COUNT`.
    pub(crate) fn label(&self) -> String {
        format!("{}/{}", self.index, self.count)
    }
}

/// How the shards of a run start measuring together.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StartRule {
    /// At this instant.
    At(chrono::DateTime<chrono::Utc>),
    /// When every shard has joined the named barrier (a table in the database).
    Barrier {
        /// The barrier's name, the same for every shard of a run.
        name: String,
        /// Longest wait for the others.
        timeout: Dur,
    },
}

/// The distributed part of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DistributedPlan {
    /// This process's shard; `None`: the whole run.
    pub shard: Option<Shard>,
    /// A coordinated start; `None`: start when ready.
    pub start: Option<StartRule>,
    /// Longest wait for another shard's set-up.
    pub setup_wait: Dur,
    /// The whole run's workers (all shards together).
    pub run_workers: usize,
}

/// Parses `INDEX/COUNT`.
fn parse_shard(text: &str) -> Result<Shard, String> {
    let bad = || {
        format!("'{text}' is not a shard; write INDEX/COUNT with INDEX from 0 to COUNT-1, e.g. 0/4")
    };
    let (i, n) = text.trim().split_once('/').ok_or_else(bad)?;
    let index: usize = i.trim().parse().map_err(|_| bad())?;
    let count: usize = n.trim().parse().map_err(|_| bad())?;
    if count == 0 || count > MAX_SHARDS {
        return Err(format!(
            "'{text}': the shard count must be 1 to {MAX_SHARDS}"
        ));
    }
    if index >= count {
        return Err(format!(
            "'{text}': the index counts from 0, so it must be below {count}"
        ));
    }
    Ok(Shard { index, count })
}

/// Validates `distributed:` (flags already applied) with the environment's
/// `STORMBENCH_SHARD` and `JOB_COMPLETION_INDEX`.
pub(super) fn distributed_plan(
    raw: &RawDistributed,
    env: &dyn Fn(&str) -> Option<String>,
    errors: &mut Vec<String>,
) -> DistributedPlan {
    let given = given_shard(raw, env, errors);
    let timeout = dur_in(
        errors,
        "barrier_timeout",
        raw.barrier_timeout.unwrap_or(Dur(Duration::from_secs(600))),
        Duration::from_secs(1),
        Duration::from_secs(7 * 86_400),
    );
    let setup_wait = dur_in(
        errors,
        "setup_wait",
        raw.setup_wait.unwrap_or(Dur(Duration::from_secs(1800))),
        Duration::ZERO,
        Duration::from_secs(7 * 86_400),
    );
    let start = start_rule(raw, timeout, errors);
    let shard = given.filter(|s| s.count > 1);
    if let Some(StartRule::Barrier { name, .. }) = &start {
        match shard {
            None => errors.push(
                "barrier: a barrier starts the shards of a run together; give --shard \
                 INDEX/COUNT (or --shards COUNT), or leave the barrier out"
                    .into(),
            ),
            Some(s) => {
                // every shard's session name must fit PostgreSQL's 63 bytes whole, or the
                // server cuts the shard's label and the barrier miscounts
                let longest = barrier_session_name(name, s.count - 1, s.count);
                if longest.len() > MAX_SESSION_NAME {
                    errors.push(format!(
                        "barrier: '{name}' is too long for {} shards (their session names \
                         would be cut at {MAX_SESSION_NAME} bytes); give at most {} characters",
                        s.count,
                        name.len() - (longest.len() - MAX_SESSION_NAME)
                    ));
                }
            }
        }
    }
    DistributedPlan {
        shard,
        start,
        setup_wait,
        run_workers: 0,
    }
}

/// The shard this machine runs, as given (`--shard`, `--shards` with
/// `JOB_COMPLETION_INDEX`, or `STORMBENCH_SHARD`), a count of 1 included.
fn given_shard(
    raw: &RawDistributed,
    env: &dyn Fn(&str) -> Option<String>,
    errors: &mut Vec<String>,
) -> Option<Shard> {
    let mut push = |e: String| errors.push(e);
    let given = match (&raw.shard, raw.shards) {
        (Some(s), _) => parse_shard(s).map_err(|e| push(format!("shard: {e}"))).ok(),
        (None, Some(n)) => match env("JOB_COMPLETION_INDEX") {
            Some(i) => parse_shard(&format!("{i}/{n}"))
                .map_err(|e| push(format!("shards: {n} with JOB_COMPLETION_INDEX={i}: {e}")))
                .ok(),
            None => {
                push(format!(
                    "shards: {n} takes the shard index from JOB_COMPLETION_INDEX (set by a \
                     Kubernetes Indexed Job), which is not set; give --shard INDEX/{n} instead"
                ));
                None
            }
        },
        (None, None) => env("STORMBENCH_SHARD").and_then(|s| {
            parse_shard(&s)
                .map_err(|e| push(format!("STORMBENCH_SHARD: {e}")))
                .ok()
        }),
    };
    if let (Some(s), Some(n)) = (given, raw.shards) {
        if s.count as u64 != n {
            push(format!(
                "shards: {n} does not match shard {} (of {}); give one of them",
                s.label(),
                s.count
            ));
        }
    }
    given
}

/// The `application_name` prefix of the sessions at barrier `name`.
pub(crate) fn barrier_prefix(name: &str) -> String {
    format!("stormbench-barrier:{name}:")
}

/// The `application_name` of shard `index` of `count` at barrier `name`.
pub(crate) fn barrier_session_name(name: &str, index: usize, count: usize) -> String {
    format!("{}{index}/{count}", barrier_prefix(name))
}

/// How the shards start together: at a time, or at a barrier that waits at most `timeout`.
fn start_rule(raw: &RawDistributed, timeout: Dur, errors: &mut Vec<String>) -> Option<StartRule> {
    match (&raw.start_at, &raw.barrier) {
        (Some(_), Some(_)) => {
            errors.push(
                "start_at and barrier: each starts the shards together; give one of them".into(),
            );
            None
        }
        (Some(t), None) => match chrono::DateTime::parse_from_rfc3339(t.trim()) {
            Ok(at) => Some(StartRule::At(at.with_timezone(&chrono::Utc))),
            Err(_) => {
                errors.push(format!(
                    "start_at: '{t}' is not an RFC 3339 time; write e.g. 2026-12-04T02:30:00Z"
                ));
                None
            }
        },
        (None, Some(name)) => {
            let ok = !name.is_empty()
                && name.len() <= 40
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            if ok {
                Some(StartRule::Barrier {
                    name: name.clone(),
                    timeout,
                })
            } else {
                errors.push(format!(
                    "barrier: '{name}' must be 1 to 40 letters, digits, '-', '_' or '.'; \
                     give every shard of the run the same name"
                ));
                None
            }
        }
        (None, None) => None,
    }
}

/// Narrows the whole run's engine settings to this shard's part: its workers (ids of the
/// whole run, so seeds and keys stay those of the single run), its share of the
/// connections, of the open-loop rate (overall and per group) and of a transaction budget.
pub(super) fn apply_shard(exec: &mut ExecOptions, shard: Shard, errors: &mut Vec<String>) {
    let total = exec.workers;
    let mine = shard.share_of(0, total);
    if total < shard.count {
        errors.push(format!(
            "shard {}: {} shards need at least {} workers (workers: {total}); give more \
             workers or fewer shards",
            shard.label(),
            shard.count,
            shard.count
        ));
        return;
    }
    let scale = |a: Arrival, part: usize, of: usize| match a {
        Arrival::Open { rate_tps, process } if of > 0 => Arrival::Open {
            rate_tps: rate_tps * part as f64 / of as f64,
            process,
        },
        other => other,
    };
    exec.arrival = scale(exec.arrival, mine, total);
    let mut first = 0;
    for g in &mut exec.groups {
        let part = shard.share_of(first, g.workers);
        g.arrival = scale(g.arrival, part, g.workers);
        first += g.workers;
    }
    if let Stop::Transactions { count, limit } = exec.stop {
        exec.stop = Stop::Transactions {
            count: shard.part_of(count, total),
            limit,
        };
    }
    let c = exec.connections;
    exec.connections = (c / shard.count + usize::from(shard.index < c % shard.count)).max(1);
    exec.workers = mine;
    exec.shard = Some(shard);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_worker_once() {
        for n in 1..=7 {
            for total in [1usize, 2, 5, 6, 12, 13, 100] {
                let mut seen = vec![0; total];
                for i in 0..n {
                    let s = Shard { index: i, count: n };
                    let ids: Vec<usize> = (i..total).step_by(n).collect();
                    assert_eq!(s.share_of(0, total), ids.len());
                    for id in ids {
                        seen[id] += 1;
                    }
                    // a group in the middle of the run
                    if total > 3 {
                        let in_group = (1..total - 1).filter(|x| x % n == i).count();
                        assert_eq!(s.share_of(1, total - 2), in_group);
                    }
                }
                assert!(seen.iter().all(|&c| c == 1), "{n} {total}");
            }
        }
    }

    #[test]
    fn budgets_split_exactly() {
        for n in 1..=5 {
            for (total, workers) in [(1000u64, 7usize), (3, 5), (10, 10), (7, 3)] {
                if workers < n {
                    continue;
                }
                let parts: Vec<u64> = (0..n)
                    .map(|i| Shard { index: i, count: n }.part_of(total, workers))
                    .collect();
                assert_eq!(parts.iter().sum::<u64>(), total, "{parts:?}");
            }
        }
    }

    #[test]
    fn shard_text_is_checked() {
        assert_eq!(parse_shard("1/4").unwrap(), Shard { index: 1, count: 4 });
        for bad in ["4/4", "1", "a/b", "0/0", "-1/4", "1/5000"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
        let env = |k: &str| (k == "JOB_COMPLETION_INDEX").then(|| "2".to_string());
        let mut errors = Vec::new();
        let raw = RawDistributed {
            shards: Some(3),
            ..Default::default()
        };
        let p = distributed_plan(&raw, &env, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(p.shard, Some(Shard { index: 2, count: 3 }));
        let none = |_: &str| None;
        let p = distributed_plan(&raw, &none, &mut errors);
        assert_eq!(p.shard, None);
        assert!(errors[0].contains("JOB_COMPLETION_INDEX"), "{errors:?}");
    }
}
