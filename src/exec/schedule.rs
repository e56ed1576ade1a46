//! Arrival schedules: closed loop (start when free) or an open-loop global rate with
//! uniform or Poisson gaps. Free workers take the next arrival slot from one shared
//! atomic, so the run behaves like a queue served by all workers: when every worker is
//! busy, slots wait, and their latency counts from the slot's intended time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng as _;
use tokio::time::Instant;

use crate::config::{Arrival, ArrivalKind};
use crate::core::Rng;

/// The arrival process of one run, shared by all workers.
#[derive(Debug)]
pub(crate) struct Schedule {
    start: Instant,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Closed,
    Uniform {
        slot: AtomicU64,
        gap_ns: f64,
    },
    Poisson {
        next_ns: AtomicU64,
        mean_gap_ns: f64,
    },
}

impl Schedule {
    /// A schedule starting at `start`.
    pub(crate) fn new(arrival: Arrival, start: Instant) -> Self {
        let kind = match arrival {
            Arrival::Closed => Kind::Closed,
            Arrival::Open { rate_tps, process } => {
                let gap_ns = 1e9 / rate_tps;
                match process {
                    ArrivalKind::Uniform => Kind::Uniform {
                        slot: AtomicU64::new(0),
                        gap_ns,
                    },
                    ArrivalKind::Poisson => Kind::Poisson {
                        next_ns: AtomicU64::new(0),
                        mean_gap_ns: gap_ns,
                    },
                }
            }
        };
        Schedule { start, kind }
    }

    /// Whether this is an open-loop schedule.
    pub(crate) fn is_open(&self) -> bool {
        !matches!(self.kind, Kind::Closed)
    }

    /// Takes the next arrival slot: its intended start, or `None` in a closed loop (start now).
    #[inline]
    pub(crate) fn next(&self, rng: &mut Rng) -> Option<Instant> {
        match &self.kind {
            Kind::Closed => None,
            Kind::Uniform { slot, gap_ns } => {
                let i = slot.fetch_add(1, Ordering::Relaxed);
                Some(self.start + Duration::from_nanos((i as f64 * gap_ns) as u64))
            }
            Kind::Poisson {
                next_ns,
                mean_gap_ns,
            } => {
                // Each taker draws the gap after its slot with its own RNG; the gaps are
                // i.i.d. exponential whichever worker draws them.
                let u: f64 = rng.gen::<f64>().max(f64::MIN_POSITIVE);
                let gap = (-u.ln() * mean_gap_ns) as u64;
                let cur = next_ns.fetch_add(gap.max(1), Ordering::Relaxed);
                Some(self.start + Duration::from_nanos(cur))
            }
        }
    }

    /// Slots due between the start and `end` (open loop only).
    pub(crate) fn due_until(&self, end: Instant) -> Option<u64> {
        let elapsed = end.saturating_duration_since(self.start).as_nanos() as f64;
        match &self.kind {
            Kind::Closed => None,
            Kind::Uniform { gap_ns, .. } => Some((elapsed / gap_ns).ceil() as u64),
            Kind::Poisson { mean_gap_ns, .. } => Some((elapsed / mean_gap_ns).round() as u64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rng;

    #[tokio::test(start_paused = true)]
    async fn uniform_slots_are_evenly_spaced_across_takers() {
        let start = Instant::now();
        let s = Schedule::new(
            Arrival::Open {
                rate_tps: 1000.0,
                process: ArrivalKind::Uniform,
            },
            start,
        );
        let mut r = rng(1, 1);
        let times: Vec<_> = (0..5).map(|_| s.next(&mut r).unwrap() - start).collect();
        assert_eq!(times[0], Duration::ZERO);
        assert_eq!(times[1], Duration::from_millis(1));
        assert_eq!(times[4], Duration::from_millis(4));
        assert_eq!(s.due_until(start + Duration::from_secs(2)), Some(2000));
    }

    #[tokio::test(start_paused = true)]
    async fn poisson_gaps_have_the_right_mean_and_spread() {
        let start = Instant::now();
        let s = Schedule::new(
            Arrival::Open {
                rate_tps: 500.0,
                process: ArrivalKind::Poisson,
            },
            start,
        );
        let mut r = rng(9, 9);
        let n = 20_000;
        let times: Vec<f64> = (0..n)
            .map(|_| (s.next(&mut r).unwrap() - start).as_secs_f64())
            .collect();
        let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
        assert!((mean - 0.002).abs() / 0.002 < 0.03, "mean gap {mean}");
        // exponential: standard deviation equals the mean
        assert!((var.sqrt() - mean).abs() / mean < 0.05, "sd {}", var.sqrt());
    }

    #[tokio::test(start_paused = true)]
    async fn closed_loop_has_no_slots() {
        let s = Schedule::new(Arrival::Closed, Instant::now());
        assert!(s.next(&mut rng(1, 1)).is_none());
        assert!(!s.is_open());
    }
}
