//! M/M/c queueing (Erlang C) from measured quantities.

use serde::Serialize;

/// Probability that an arrival has to wait in an M/M/c queue with `c` servers and offered
/// load `a` = arrival rate x mean service time (Erlangs). `None` when the queue is unstable
/// (a >= c) or the inputs make no sense.
pub(crate) fn erlang_c(c: u32, a: f64) -> Option<f64> {
    if c == 0 || !(a.is_finite() && a >= 0.0) || a >= c as f64 {
        return None;
    }
    // Erlang B by its stable recurrence, then C from B
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    let rho = a / c as f64;
    Some(b / (1.0 - rho * (1.0 - b)))
}

/// Mean wait in the queue: C(c, a) x S / (c - a), seconds.
pub(crate) fn mean_wait_s(c: u32, a: f64, service_s: f64) -> Option<f64> {
    erlang_c(c, a).map(|p| p * service_s / (c as f64 - a))
}

/// The M/M/c view of one band.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct QueueView {
    /// Servers: the band's connections.
    pub(crate) servers: u32,
    /// Arrival rate: the achieved throughput, per second.
    pub(crate) arrival_rate: f64,
    /// Mean service time: server execution time of a transaction, ms.
    pub(crate) service_ms: f64,
    /// Utilization a / c.
    pub(crate) utilization: f64,
    /// Probability of waiting (Erlang C); `null` when the queue would be unstable.
    pub(crate) p_wait: Option<f64>,
    /// Predicted mean wait for a connection, ms.
    pub(crate) predicted_wait_ms: Option<f64>,
    /// Measured mean pool wait, ms.
    pub(crate) measured_wait_ms: f64,
    /// Predicted mean latency: queueing delay + service time, ms.
    pub(crate) predicted_latency_ms: Option<f64>,
    /// Measured mean latency of the band, ms.
    pub(crate) measured_latency_ms: f64,
    /// Whether the prediction and the measurement agree (within a factor of 2, or both
    /// under 0.05 ms).
    pub(crate) fits: bool,
    /// Why the model does or does not describe the band.
    pub(crate) note: String,
}

/// Measured figures of one band.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BandFigures {
    /// Connections.
    pub(crate) servers: u32,
    /// Achieved throughput, per second.
    pub(crate) arrival_rate: f64,
    /// Mean execution time, ms.
    pub(crate) service_ms: f64,
    /// Mean pool wait, ms.
    pub(crate) wait_ms: f64,
    /// Mean latency, ms.
    pub(crate) latency_ms: f64,
}

/// Builds the view from measured figures.
pub(crate) fn view(m: BandFigures, closed_loop: bool) -> QueueView {
    let BandFigures {
        servers,
        arrival_rate,
        service_ms,
        wait_ms: measured_wait_ms,
        latency_ms,
    } = m;
    let a = arrival_rate * service_ms / 1000.0;
    let utilization = a / servers.max(1) as f64;
    let p_wait = erlang_c(servers, a);
    let predicted = mean_wait_s(servers, a, service_ms / 1000.0).map(|s| s * 1000.0);
    let (fits, note) = match predicted {
        None => (
            false,
            format!("utilization {utilization:.2} >= 1: the model has no steady state; the pool is saturated"),
        ),
        Some(p) if (p < 0.05 && measured_wait_ms < 0.05) || (p > 0.0 && (0.5..=2.0).contains(&(measured_wait_ms / p))) => {
            (true, "M/M/c predicts the measured pool wait".to_string())
        }
        Some(_) if closed_loop => (
            false,
            "closed loop: arrivals are not Poisson (each worker waits for its own transaction), so M/M/c does not describe this band; use the utilization only".to_string(),
        ),
        Some(_) => (false, "the measured wait departs from M/M/c (service times are not exponential or arrivals not Poisson)".to_string()),
    };
    QueueView {
        servers,
        arrival_rate,
        service_ms,
        utilization,
        p_wait,
        predicted_wait_ms: predicted,
        measured_wait_ms,
        predicted_latency_ms: predicted.map(|w| w + service_ms),
        measured_latency_ms: latency_ms,
        fits,
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_matches_published_values() {
        // c = 2, A = 1 Erlang: C = 1/3
        assert!((erlang_c(2, 1.0).unwrap() - 1.0 / 3.0).abs() < 1e-12);
        // c = 3, A = 2: C = 4/9
        assert!((erlang_c(3, 2.0).unwrap() - 4.0 / 9.0).abs() < 1e-12);
        // c = 1 is M/M/1: C = rho
        assert!((erlang_c(1, 0.7).unwrap() - 0.7).abs() < 1e-12);
        // a textbook call centre: 10 agents, 8 Erlangs -> P(wait) = 0.4092
        assert!((erlang_c(10, 8.0).unwrap() - 0.4092).abs() < 5e-4);
        assert!(erlang_c(4, 4.0).is_none());
    }

    #[test]
    fn mean_wait_of_mm1() {
        // M/M/1, rho = 0.5, S = 1 s: Wq = rho S / (1 - rho) = 1 s
        assert!((mean_wait_s(1, 0.5, 1.0).unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn saturated_pool_is_called_out() {
        let m = |servers, arrival_rate, service_ms, wait_ms| BandFigures {
            servers,
            arrival_rate,
            service_ms,
            wait_ms,
            latency_ms: service_ms + wait_ms,
        };
        let v = view(m(4, 1000.0, 5.0, 30.0), true);
        assert!(!v.fits && v.note.contains("saturated"), "{v:?}");
        let v = view(m(8, 100.0, 1.0, 0.0), false);
        assert!(v.fits, "{v:?}");
        assert!(
            (v.predicted_latency_ms.unwrap() - 1.0).abs() < 0.01,
            "{v:?}"
        );
        // a busy closed loop with a pool per worker never waits: the model does not apply
        let v = view(m(4, 3900.0, 1.0, 0.0), true);
        assert!(!v.fits && v.note.contains("closed loop"), "{v:?}");
    }
}
