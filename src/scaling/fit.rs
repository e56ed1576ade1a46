//! Curve fitting for scaling analysis: a small Levenberg-Marquardt least-squares solver for
//! three-parameter models, the Universal Scalability Law, linear / logarithmic /
//! exponential / logistic fits with R², and the Kneedle knee finder.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// A three-parameter model y = f(p, x).
pub type Model = fn(&[f64; 3], f64) -> f64;

/// Result of a least-squares fit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LsFit {
    /// Parameters.
    pub(crate) p: [f64; 3],
    /// Covariance of the parameters (`None` when it cannot be estimated).
    pub(crate) cov: Option<[[f64; 3]; 3]>,
    /// Residual sum of squares.
    pub(crate) sse: f64,
}

fn solve3(a: [[f64; 3]; 3], b: [f64; 3]) -> Option<[f64; 3]> {
    let inv = invert3(a)?;
    Some([0, 1, 2].map(|i| (0..3).map(|j| inv[i][j] * b[j]).sum()))
}

/// Inverse of a 3x3 matrix by cofactors (`None` when singular).
pub(crate) fn invert3(m: [[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let c =
        |r0: usize, r1: usize, c0: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    let det = m[0][0] * c(1, 2, 1, 2) - m[0][1] * c(1, 2, 0, 2) + m[0][2] * c(1, 2, 0, 1);
    if !det.is_finite() || det.abs() < 1e-300 {
        return None;
    }
    let adj = [
        [c(1, 2, 1, 2), -c(0, 2, 1, 2), c(0, 1, 1, 2)],
        [-c(1, 2, 0, 2), c(0, 2, 0, 2), -c(0, 1, 0, 2)],
        [c(1, 2, 0, 1), -c(0, 2, 0, 1), c(0, 1, 0, 1)],
    ];
    Some(adj.map(|row| row.map(|v| v / det)))
}

fn sse(f: Model, p: &[f64; 3], data: &[(f64, f64)]) -> f64 {
    data.iter().map(|(x, y)| (y - f(p, *x)).powi(2)).sum()
}

/// Jacobian row by central differences.
fn gradient(f: Model, p: &[f64; 3], x: f64) -> [f64; 3] {
    let mut g = [0.0; 3];
    for k in 0..3 {
        let h = 1e-6 * p[k].abs().max(1e-9);
        let (mut a, mut b) = (*p, *p);
        a[k] += h;
        b[k] -= h;
        g[k] = (f(&a, x) - f(&b, x)) / (2.0 * h);
    }
    g
}

/// Minimizes the squared residuals of `f` over `data` from `p0` (Levenberg-Marquardt);
/// `clamp` keeps parameters in their valid domain after each step.
pub(crate) fn least_squares(
    f: Model,
    p0: [f64; 3],
    data: &[(f64, f64)],
    clamp: fn(&mut [f64; 3]),
) -> LsFit {
    let mut p = p0;
    clamp(&mut p);
    let mut err = sse(f, &p, data);
    let mut mu = 1e-3;
    for _ in 0..500 {
        let mut jtj = [[0.0; 3]; 3];
        let mut jtr = [0.0; 3];
        for (x, y) in data {
            let g = gradient(f, &p, *x);
            let r = y - f(&p, *x);
            for i in 0..3 {
                jtr[i] += g[i] * r;
                for j in 0..3 {
                    jtj[i][j] += g[i] * g[j];
                }
            }
        }
        let mut improved = false;
        for _ in 0..30 {
            let mut a = jtj;
            for (i, row) in a.iter_mut().enumerate() {
                row[i] += mu * jtj[i][i].max(1e-12);
            }
            let Some(delta) = solve3(a, jtr) else {
                mu *= 10.0;
                continue;
            };
            let mut q = [p[0] + delta[0], p[1] + delta[1], p[2] + delta[2]];
            clamp(&mut q);
            let e = sse(f, &q, data);
            if e.is_finite() && e < err {
                let gain = (err - e) / err.max(1e-300);
                p = q;
                err = e;
                mu = (mu / 3.0).max(1e-12);
                improved = gain > 1e-12;
                break;
            }
            mu *= 4.0;
        }
        if !improved {
            break;
        }
    }
    LsFit {
        p,
        cov: covariance(f, &p, data, err),
        sse: err,
    }
}

fn covariance(f: Model, p: &[f64; 3], data: &[(f64, f64)], sse: f64) -> Option<[[f64; 3]; 3]> {
    if data.len() <= 3 {
        return None;
    }
    let mut jtj = [[0.0; 3]; 3];
    for (x, _) in data {
        let g = gradient(f, p, *x);
        for i in 0..3 {
            for j in 0..3 {
                jtj[i][j] += g[i] * g[j];
            }
        }
    }
    let s2 = sse / (data.len() - 3) as f64;
    invert3(jtj).map(|inv| inv.map(|row| row.map(|v| v * s2)))
}

/// R² of predictions against observations.
pub(crate) fn r_squared(data: &[(f64, f64)], predict: impl Fn(f64) -> f64) -> f64 {
    let mean = data.iter().map(|d| d.1).sum::<f64>() / data.len().max(1) as f64;
    let tot: f64 = data.iter().map(|(_, y)| (y - mean).powi(2)).sum();
    let res: f64 = data.iter().map(|(x, y)| (y - predict(*x)).powi(2)).sum();
    if tot <= 0.0 {
        return if res <= 1e-12 { 1.0 } else { 0.0 };
    }
    1.0 - res / tot
}

/// A value with its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) struct Estimate {
    /// Point estimate.
    pub(crate) value: f64,
    /// Lower bound of the 95% interval (`null` when it cannot be estimated).
    pub(crate) ci_low: Option<f64>,
    /// Upper bound.
    pub(crate) ci_high: Option<f64>,
}

fn estimate(fit: &LsFit, k: usize, n: usize) -> Estimate {
    let half = fit.cov.and_then(|c| {
        let var = c[k][k];
        let t = StudentsT::new(0.0, 1.0, (n - 3) as f64)
            .ok()?
            .inverse_cdf(0.975);
        (var >= 0.0).then(|| t * var.sqrt())
    });
    Estimate {
        value: fit.p[k],
        ci_low: half.map(|h| fit.p[k] - h),
        ci_high: half.map(|h| fit.p[k] + h),
    }
}

/// The Universal Scalability Law fitted to throughput against concurrency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct UslFit {
    /// Throughput of one unit of concurrency without contention (lambda).
    pub(crate) lambda: Estimate,
    /// Contention coefficient (sigma).
    pub(crate) sigma: Estimate,
    /// Coherency coefficient (kappa).
    pub(crate) kappa: Estimate,
    /// sqrt((1 - sigma) / kappa): where throughput peaks (`null` when kappa is 0).
    pub(crate) peak_concurrency: Option<f64>,
    /// Throughput the model predicts at the peak.
    pub(crate) peak_throughput: Option<f64>,
    /// Goodness of fit.
    pub(crate) r2: f64,
}

/// X(N) = lambda N / (1 + sigma (N - 1) + kappa N (N - 1)).
pub(crate) fn usl(p: &[f64; 3], n: f64) -> f64 {
    p[0] * n / (1.0 + p[1] * (n - 1.0) + p[2] * n * (n - 1.0))
}

fn usl_clamp(p: &mut [f64; 3]) {
    p[0] = p[0].max(1e-12);
    p[1] = p[1].clamp(0.0, 1.0);
    p[2] = p[2].max(0.0);
}

/// Fits the USL (needs at least 3 points); the start comes from Gunther's linearization.
pub(crate) fn fit_usl(points: &[(f64, f64)]) -> Option<UslFit> {
    if points.len() < 3 || points.iter().any(|(n, x)| *n <= 0.0 || *x < 0.0) {
        return None;
    }
    let (n0, x0) = points
        .iter()
        .copied()
        .fold((f64::MAX, 0.0), |a, b| if b.0 < a.0 { b } else { a });
    let lambda0 = x0 / n0;
    // N/C(N) - 1 = (sigma + kappa) x + kappa x^2 with x = N - 1: least squares through the origin
    let (mut s11, mut s12, mut s22, mut t1, mut t2) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (n, x) in points {
        let c = x / lambda0;
        if c <= 0.0 {
            continue;
        }
        let (u, v) = (n - 1.0, n / c - 1.0);
        s11 += u * u;
        s12 += u * u * u;
        s22 += u * u * u * u;
        t1 += u * v;
        t2 += u * u * v;
    }
    let det = s11 * s22 - s12 * s12;
    let (a, b) = if det.abs() > 1e-12 {
        ((t1 * s22 - t2 * s12) / det, (s11 * t2 - s12 * t1) / det)
    } else {
        (0.01, 0.0001)
    };
    let p0 = [lambda0, (a - b).clamp(0.0, 1.0), b.max(0.0)];
    let fit = least_squares(usl, p0, points, usl_clamp);
    let n = points.len();
    let [l, s, k] = fit.p;
    let peak = (k > 1e-15).then(|| ((1.0 - s) / k).sqrt());
    Some(UslFit {
        lambda: estimate(&fit, 0, n),
        sigma: estimate(&fit, 1, n),
        kappa: estimate(&fit, 2, n),
        peak_concurrency: peak,
        peak_throughput: peak.map(|n| usl(&[l, s, k], n)),
        r2: r_squared(points, |x| usl(&fit.p, x)),
    })
}

/// One of the simple curve families fitted for comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct CurveFit {
    /// linear | logarithmic | exponential | logistic.
    pub(crate) model: String,
    /// The formula with its fitted parameters.
    pub(crate) formula: String,
    /// Parameters in formula order.
    pub(crate) params: Vec<f64>,
    /// Goodness of fit in the original units.
    pub(crate) r2: f64,
}

/// Ordinary least squares y = a + b x.
fn ols(data: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = data.len() as f64;
    let (sx, sy) = data.iter().fold((0.0, 0.0), |a, d| (a.0 + d.0, a.1 + d.1));
    let (mx, my) = (sx / n, sy / n);
    let sxx: f64 = data.iter().map(|d| (d.0 - mx).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let b = data.iter().map(|d| (d.0 - mx) * (d.1 - my)).sum::<f64>() / sxx;
    Some((my - b * mx, b))
}

fn logistic(p: &[f64; 3], x: f64) -> f64 {
    p[0] / (1.0 + (-p[1] * (x - p[2])).exp())
}

fn logistic_clamp(p: &mut [f64; 3]) {
    p[0] = p[0].max(1e-12);
    p[1] = p[1].clamp(1e-9, 100.0);
}

/// Linear, logarithmic, exponential and logistic fits, best R² first.
pub(crate) fn fit_curves(data: &[(f64, f64)]) -> Vec<CurveFit> {
    let mut out = Vec::new();
    if data.len() < 2 {
        return out;
    }
    if let Some((a, b)) = ols(data) {
        out.push(CurveFit {
            model: "linear".into(),
            formula: format!("y = {a:.4} + {b:.4} x"),
            params: vec![a, b],
            r2: r_squared(data, |x| a + b * x),
        });
    }
    if data.iter().all(|d| d.0 > 0.0) {
        let logs: Vec<_> = data.iter().map(|d| (d.0.ln(), d.1)).collect();
        if let Some((a, b)) = ols(&logs) {
            out.push(CurveFit {
                model: "logarithmic".into(),
                formula: format!("y = {a:.4} + {b:.4} ln x"),
                params: vec![a, b],
                r2: r_squared(data, |x| a + b * x.ln()),
            });
        }
    }
    if data.iter().all(|d| d.1 > 0.0) {
        let lys: Vec<_> = data.iter().map(|d| (d.0, d.1.ln())).collect();
        if let Some((la, b)) = ols(&lys) {
            let a = la.exp();
            out.push(CurveFit {
                model: "exponential".into(),
                formula: format!("y = {a:.4} e^({b:.6} x)"),
                params: vec![a, b],
                r2: r_squared(data, |x| a * (b * x).exp()),
            });
        }
    }
    if data.len() >= 3 {
        let ymax = data.iter().map(|d| d.1).fold(0.0, f64::max);
        let xs: Vec<f64> = data.iter().map(|d| d.0).collect();
        let (xmin, xmax) = xs
            .iter()
            .fold((f64::MAX, f64::MIN), |a, x| (a.0.min(*x), a.1.max(*x)));
        let mid = (xmin + xmax) / 2.0;
        let p0 = [ymax * 1.05, 4.0 / (xmax - xmin).max(1e-9), mid];
        let fit = least_squares(logistic, p0, data, logistic_clamp);
        let [l, k, x0] = fit.p;
        out.push(CurveFit {
            model: "logistic".into(),
            formula: format!("y = {l:.4} / (1 + e^(-{k:.6} (x - {x0:.4})))"),
            params: vec![l, k, x0],
            r2: r_squared(data, |x| logistic(&fit.p, x)),
        });
    }
    out.sort_by(|a, b| b.r2.total_cmp(&a.r2));
    out
}

/// The knee of an increasing curve by Kneedle (Satopää et al. 2011): on the curve
/// normalized to the unit square, the point farthest above the diagonal. Returns its index
/// and that distance (0..1; small means no pronounced knee).
pub(crate) fn kneedle(data: &[(f64, f64)]) -> Option<(usize, f64)> {
    if data.len() < 3 {
        return None;
    }
    let (x0, x1) = data
        .iter()
        .fold((f64::MAX, f64::MIN), |a, d| (a.0.min(d.0), a.1.max(d.0)));
    let (y0, y1) = data
        .iter()
        .fold((f64::MAX, f64::MIN), |a, d| (a.0.min(d.1), a.1.max(d.1)));
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    data.iter()
        .enumerate()
        .map(|(i, (x, y))| (i, (y - y0) / (y1 - y0) - (x - x0) / (x1 - x0)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(l: f64, s: f64, k: f64, ns: &[f64], noise: f64) -> Vec<(f64, f64)> {
        ns.iter()
            .enumerate()
            .map(|(i, n)| {
                // deterministic +-noise pattern
                let e = if i % 2 == 0 { 1.0 + noise } else { 1.0 - noise };
                (*n, usl(&[l, s, k], *n) * e)
            })
            .collect()
    }

    #[test]
    fn usl_recovers_known_coefficients() {
        let ns = [1.0, 2.0, 4.0, 8.0, 16.0, 24.0, 32.0, 48.0, 64.0];
        let f = fit_usl(&curve(1000.0, 0.05, 0.0008, &ns, 0.0)).unwrap();
        assert!((f.lambda.value - 1000.0).abs() < 1.0, "{f:?}");
        assert!((f.sigma.value - 0.05).abs() < 1e-4, "{f:?}");
        assert!((f.kappa.value - 0.0008).abs() < 1e-6, "{f:?}");
        let peak = f.peak_concurrency.unwrap();
        assert!(
            (peak - ((1.0 - 0.05) / 0.0008f64).sqrt()).abs() < 0.1,
            "{peak}"
        );
        assert!(f.r2 > 0.9999);
    }

    #[test]
    fn usl_with_noise_stays_close_and_reports_intervals() {
        let ns = [1.0, 2.0, 4.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0];
        let f = fit_usl(&curve(500.0, 0.1, 0.002, &ns, 0.02)).unwrap();
        assert!((f.sigma.value - 0.1).abs() < 0.03, "{f:?}");
        assert!((f.kappa.value - 0.002).abs() < 0.0008, "{f:?}");
        let (lo, hi) = (f.kappa.ci_low.unwrap(), f.kappa.ci_high.unwrap());
        assert!(lo < f.kappa.value && f.kappa.value < hi);
        assert!(f.r2 > 0.98);
    }

    #[test]
    fn linear_scaling_has_no_peak() {
        let data: Vec<_> = (1..=8).map(|n| (n as f64, 100.0 * n as f64)).collect();
        let f = fit_usl(&data).unwrap();
        assert!(f.sigma.value < 1e-6 && f.kappa.value < 1e-8, "{f:?}");
        assert!(f.peak_concurrency.is_none() || f.peak_concurrency.unwrap() > 1000.0);
    }

    #[test]
    fn curve_families_pick_the_right_model() {
        let lin: Vec<_> = (1..=10).map(|x| (x as f64, 3.0 + 2.0 * x as f64)).collect();
        assert_eq!(fit_curves(&lin)[0].model, "linear");
        let log: Vec<_> = (1..=10)
            .map(|x| (x as f64, 5.0 + 7.0 * (x as f64).ln()))
            .collect();
        assert_eq!(fit_curves(&log)[0].model, "logarithmic");
        let exp: Vec<_> = (1..=10)
            .map(|x| (x as f64, 2.0 * (0.3 * x as f64).exp()))
            .collect();
        assert_eq!(fit_curves(&exp)[0].model, "exponential");
        let lgs: Vec<_> = (1..=20)
            .map(|x| (x as f64, logistic(&[100.0, 0.8, 10.0], x as f64)))
            .collect();
        let best = &fit_curves(&lgs)[0];
        assert_eq!(best.model, "logistic");
        assert!(
            best.r2 > 0.999 && (best.params[0] - 100.0).abs() < 1.0,
            "{best:?}"
        );
    }

    #[test]
    fn kneedle_finds_a_known_knee() {
        // linear growth to x = 8, then flat: the knee is at 8
        let data: Vec<_> = (1..=20)
            .map(|x| (x as f64, (x.min(8) * 100) as f64))
            .collect();
        let (i, d) = kneedle(&data).unwrap();
        assert_eq!(data[i].0, 8.0);
        assert!(d > 0.5);
        // a straight line has no knee worth the name
        let line: Vec<_> = (1..=20).map(|x| (x as f64, x as f64)).collect();
        assert!(kneedle(&line).unwrap().1 < 1e-9);
    }

    #[test]
    #[allow(clippy::needless_range_loop)] // matrix indices read clearer here
    fn invert3_works() {
        let m = [[4.0, 7.0, 2.0], [3.0, 6.0, 1.0], [2.0, 5.0, 3.0]];
        let inv = invert3(m).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| m[i][k] * inv[k][j]).sum();
                assert!((v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        assert!(invert3([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]]).is_none());
    }
}
