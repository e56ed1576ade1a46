//! The analysis of a finished sweep: differences, USL, knee, curve fits, M/M/c, and a
//! recommendation.

use serde::Serialize;

use super::fit::{fit_curves, fit_usl, kneedle, CurveFit, UslFit};
use super::queue::{view, BandFigures, QueueView};
use super::Band;
use crate::config::StopWhen;

/// Throughput change between neighbouring bands.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Step {
    /// Concurrency (connections).
    pub(crate) concurrency: f64,
    /// Throughput.
    pub(crate) tps: f64,
    /// p95 latency, ms.
    pub(crate) p95_ms: f64,
    /// p99 latency, ms.
    pub(crate) p99_ms: f64,
    /// Marginal TPS per added connection since the previous band (first difference).
    pub(crate) marginal_tps: Option<f64>,
    /// Change of the marginal TPS per connection (second difference).
    pub(crate) second_difference: Option<f64>,
}

/// The knee of the throughput curve.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Knee {
    /// Concurrency at the knee.
    pub(crate) concurrency: f64,
    /// Throughput there.
    pub(crate) tps: f64,
    /// Distance above the diagonal of the normalized curve, 0..1 (how pronounced).
    pub(crate) strength: f64,
}

/// What to run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Recommendation {
    pub(crate) connections: usize,
    /// Workers of that band.
    pub(crate) workers: usize,
    /// Its throughput.
    pub(crate) tps: f64,
    /// Its p99, ms.
    pub(crate) p99_ms: f64,
    /// One sentence of reasoning.
    pub(crate) reason: String,
}

/// The whole analysis.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Analysis {
    /// What the concurrency axis counts.
    pub(crate) concurrency: String,
    /// Per band, with discrete differences.
    pub(crate) steps: Vec<Step>,
    /// Universal Scalability Law fit (needs 3 bands).
    pub(crate) usl: Option<UslFit>,
    /// Knee by Kneedle.
    pub(crate) knee: Option<Knee>,
    /// Linear, logarithmic, exponential, logistic fits, best first.
    pub(crate) curves: Vec<CurveFit>,
    /// Name of the best-fitting simple curve.
    pub(crate) best_curve: Option<String>,
    /// M/M/c view per band.
    pub(crate) queueing: Vec<QueueView>,
    /// Smallest concurrency within 5% of peak throughput that meets the stop rule.
    pub(crate) recommendation: Option<Recommendation>,
    /// How long the analysis took, ms.
    pub(crate) analysis_ms: f64,
}

fn steps(bands: &[Band]) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::with_capacity(bands.len());
    for (i, b) in bands.iter().enumerate() {
        let n = b.connections as f64;
        let marginal = (i > 0).then(|| {
            let p = &bands[i - 1];
            let dn = n - p.connections as f64;
            if dn.abs() < f64::EPSILON {
                0.0
            } else {
                (b.tps - p.tps) / dn
            }
        });
        let second = match (i > 1, marginal, out.last().and_then(|s| s.marginal_tps)) {
            (true, Some(m), Some(pm)) => {
                let dn = n - bands[i - 1].connections as f64;
                Some(if dn.abs() < f64::EPSILON {
                    0.0
                } else {
                    (m - pm) / dn
                })
            }
            _ => None,
        };
        out.push(Step {
            concurrency: n,
            tps: b.tps,
            p95_ms: b.latency.p95_ms,
            p99_ms: b.latency.p99_ms,
            marginal_tps: marginal,
            second_difference: second,
        });
    }
    out
}

fn recommend(bands: &[Band], stop: &StopWhen) -> Option<Recommendation> {
    let peak = bands.iter().map(|b| b.tps).fold(0.0, f64::max);
    if peak <= 0.0 {
        return None;
    }
    let within = |b: &&Band| {
        stop.p99_ms.is_none_or(|l| b.latency.p99_ms <= l)
            && stop.error_rate.is_none_or(|l| b.error_rate <= l)
    };
    let best = bands
        .iter()
        .filter(within)
        .filter(|b| b.tps >= 0.95 * peak)
        .min_by_key(|b| b.connections)?;
    let bound = match stop.p99_ms {
        Some(l) => format!(
            " with p99 {:.2} ms under the {l} ms bound",
            best.latency.p99_ms
        ),
        None => format!(" (p99 {:.2} ms)", best.latency.p99_ms),
    };
    Some(Recommendation {
        connections: best.connections,
        workers: best.workers,
        tps: best.tps,
        p99_ms: best.latency.p99_ms,
        reason: format!(
            "{} connections reach {:.0} TPS, {:.1}% of the peak {:.0} TPS{bound}; more connections add latency, not throughput.",
            best.connections,
            best.tps,
            100.0 * best.tps / peak,
            peak
        ),
    })
}

/// Analyzes finished bands (in sweep order).
pub(crate) fn analyze(bands: &[Band], stop: &StopWhen, closed_loop: bool) -> Analysis {
    let t0 = std::time::Instant::now();
    let pts: Vec<(f64, f64)> = bands
        .iter()
        .map(|b| (b.connections as f64, b.tps))
        .collect();
    let usl = fit_usl(&pts);
    let knee = kneedle(&pts).map(|(i, d)| Knee {
        concurrency: pts[i].0,
        tps: pts[i].1,
        strength: d,
    });
    let curves = fit_curves(&pts);
    let queueing = bands
        .iter()
        .map(|b| {
            let m = BandFigures {
                servers: b.connections as u32,
                arrival_rate: b.tps,
                service_ms: b.service.avg_ms,
                wait_ms: b.pool_wait.avg_ms,
                latency_ms: b.latency.avg_ms,
            };
            view(m, closed_loop)
        })
        .collect();
    Analysis {
        concurrency: "connections".into(),
        steps: steps(bands),
        best_curve: curves.first().map(|c| c.model.clone()),
        usl,
        knee,
        curves,
        queueing,
        recommendation: recommend(bands, stop),
        analysis_ms: t0.elapsed().as_secs_f64() * 1000.0,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::report::Latency;
    use crate::scaling::fit::usl;

    pub(crate) fn band(i: usize, n: usize, tps: f64, p99: f64) -> Band {
        Band {
            index: i,
            workers: n,
            connections: n,
            measured_s: 10.0,
            transactions: (tps * 10.0) as u64,
            failed: 0,
            error_rate: 0.0,
            tps,
            qps: tps,
            latency: Latency {
                p99_ms: p99,
                p95_ms: p99 / 2.0,
                ..Default::default()
            },
            service: Latency {
                avg_ms: n as f64 / tps * 1000.0,
                ..Default::default()
            },
            pool_wait: Latency::default(),
            retries: 0,
            histogram: String::new(),
            database_stats: None,
            figures: Vec::new(),
        }
    }

    #[test]
    fn analysis_of_a_usl_shaped_sweep() {
        let ns = [1usize, 2, 4, 8, 16, 32, 48, 64];
        let bands: Vec<_> = ns
            .iter()
            .enumerate()
            .map(|(i, n)| {
                band(
                    i,
                    *n,
                    usl(&[1000.0, 0.03, 0.0005], *n as f64),
                    *n as f64 * 0.2,
                )
            })
            .collect();
        let a = analyze(&bands, &StopWhen::default(), true);
        let u = a.usl.unwrap();
        assert!(
            (u.sigma.value - 0.03).abs() < 1e-3 && (u.kappa.value - 0.0005).abs() < 1e-5,
            "{u:?}"
        );
        assert!(a.knee.is_some());
        assert_eq!(a.steps.len(), 8);
        assert!(a.steps[1].marginal_tps.unwrap() > 0.0);
        assert!(a.steps[7].marginal_tps.unwrap() < a.steps[1].marginal_tps.unwrap());
        assert!(a.steps[2].second_difference.is_some());
        let r = a.recommendation.unwrap();
        // peak is near sqrt(0.97/0.0005) = 44; the smallest band within 5% of it
        assert!(r.connections == 32 || r.connections == 48, "{r:?}");
        assert!(r.reason.contains("of the peak"));
        assert_eq!(a.queueing.len(), 8);
    }

    #[test]
    fn stop_rule_limits_the_recommendation() {
        let bands = vec![
            band(0, 4, 900.0, 5.0),
            band(1, 8, 1000.0, 50.0),
            band(2, 16, 1010.0, 90.0),
        ];
        let stop = StopWhen {
            p99_ms: Some(20.0),
            error_rate: None,
        };
        // only the 4-connection band meets p99 <= 20 ms, but it is not within 5% of peak
        assert!(analyze(&bands, &stop, true).recommendation.is_none());
        let loose = StopWhen {
            p99_ms: Some(60.0),
            error_rate: None,
        };
        assert_eq!(
            analyze(&bands, &loose, true)
                .recommendation
                .unwrap()
                .connections,
            8
        );
    }

    #[test]
    fn fifty_bands_analyze_quickly() {
        let bands: Vec<_> = (1..=50)
            .map(|n| {
                band(
                    n - 1,
                    n * 2,
                    usl(&[800.0, 0.02, 0.0002], (n * 2) as f64),
                    1.0,
                )
            })
            .collect();
        let a = analyze(&bands, &StopWhen::default(), true);
        assert!(a.usl.is_some());
        outln!("analysis of 50 bands: {:.3} ms", a.analysis_ms);
        assert!(a.analysis_ms < 1000.0, "{} ms", a.analysis_ms);
    }
}
