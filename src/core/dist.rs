//! Key distributions for choosing rows: uniform, zipfian (YCSB's generator after Gray et
//! al., "Quickly Generating Billion-Record Synthetic Databases"), and TPC-C's NURand.

use rand::Rng as _;
use std::sync::Arc;

use super::Rng;

/// How keys are drawn from `1..=n`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum KeyDistribution {
    /// Every key equally likely.
    Uniform,
    /// Key k has probability proportional to 1/k^theta (hot keys are the low ids).
    Zipfian,
}

/// A zipfian generator over `1..=n` with exponent `theta` in (0, 1).
#[derive(Debug, Clone)]
pub(crate) struct Zipfian {
    n: u64,
    alpha: f64,
    zeta_n: f64,
    eta: f64,
    half_pow_theta: f64,
}

/// Terms of the zeta sum added one by one before the Euler-Maclaurin tail takes over.
const ZETA_EXACT_TERMS: u64 = 1_000;

/// Generalized harmonic number sum_{i=1..n} i^-theta for theta in (0, 1): exact up to a
/// thousand terms, then the Euler-Maclaurin formula to the third derivative, whose
/// remainder past a thousand terms is below 1e-17 of the sum (a million powers, what this
/// cost before, took tens of milliseconds for every generator over a large table).
pub(crate) fn zeta(n: u64, theta: f64) -> f64 {
    let f = |x: f64| x.powf(-theta);
    if n <= ZETA_EXACT_TERMS {
        return (1..=n).map(|i| f(i as f64)).sum();
    }
    let head: f64 = (1..ZETA_EXACT_TERMS).map(|i| f(i as f64)).sum();
    let (a, b) = (ZETA_EXACT_TERMS as f64, n as f64);
    // the integral of x^-theta from a to b, written so that theta near 1 loses no digits
    let s = 1.0 - theta;
    let integral = a.powf(s) * (s * (b / a).ln()).exp_m1() / s;
    // f' = -theta x^(-theta-1), f''' = -theta (theta+1) (theta+2) x^(-theta-3)
    let d1 = |x: f64| -theta * x.powf(-theta - 1.0);
    let d3 = |x: f64| -theta * (theta + 1.0) * (theta + 2.0) * x.powf(-theta - 3.0);
    head + integral + (f(a) + f(b)) / 2.0 + (d1(b) - d1(a)) / 12.0 - (d3(b) - d3(a)) / 720.0
}

impl Zipfian {
    /// A generator over `1..=n`; `theta` must be in (0, 1) (YCSB's default is 0.99).
    pub(crate) fn new(n: u64, theta: f64) -> Self {
        let n = n.max(1);
        let zeta_n = zeta(n, theta);
        let zeta_2 = zeta(2, theta);
        let alpha = 1.0 / (1.0 - theta);
        let eta = (1.0 - (2.0 / n as f64).powf(1.0 - theta)) / (1.0 - zeta_2 / zeta_n);
        Zipfian {
            n,
            alpha,
            zeta_n,
            eta,
            half_pow_theta: 1.0 + 0.5f64.powf(theta),
        }
    }

    /// Draws a key in `1..=n`.
    pub(crate) fn sample(&self, rng: &mut Rng) -> u64 {
        let u: f64 = rng.gen();
        let uz = u * self.zeta_n;
        if uz < 1.0 {
            return 1;
        }
        if uz < self.half_pow_theta {
            return 2.min(self.n);
        }
        let k = 1 + (self.n as f64 * (self.eta * u - self.eta + 1.0).powf(self.alpha)) as u64;
        k.min(self.n)
    }
}

/// Rounds of the [`Permutation`]'s Feistel network.
const FEISTEL_ROUNDS: usize = 6;

/// A fixed bijection of `0..n` chosen by a key: a keyed Feistel network over the smallest
/// power of four at least `n`, with values that land at `n` or beyond walked on through
/// the network until they fall back into range (cycle walking; under four steps on
/// average). Used to spread a zipfian's hot ranks over the whole key range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Permutation {
    n: u64,
    half: u32,
    mask: u64,
    keys: [u64; FEISTEL_ROUNDS],
}

impl Permutation {
    /// The permutation of `0..n` (n at least 1) for `key`.
    pub(crate) fn new(n: u64, key: u64) -> Self {
        let n = n.max(1);
        let bits = 64 - (n - 1).leading_zeros();
        let half = bits.div_ceil(2).max(1);
        let mut keys = [0; FEISTEL_ROUNDS];
        for (i, k) in keys.iter_mut().enumerate() {
            *k = super::derive_seed(key, i as u64 + 1);
        }
        Permutation {
            n,
            half,
            mask: (1u64 << half) - 1,
            keys,
        }
    }

    /// The image of `x` (`x < n`).
    #[inline]
    pub(crate) fn apply(&self, x: u64) -> u64 {
        debug_assert!(x < self.n);
        let mut y = self.feistel(x);
        while y >= self.n {
            y = self.feistel(y);
        }
        y
    }

    #[inline]
    fn feistel(&self, x: u64) -> u64 {
        let (mut l, mut r) = (x >> self.half, x & self.mask);
        for k in &self.keys {
            let f = super::derive_seed(*k, r) & self.mask;
            (l, r) = (r, l ^ f);
        }
        (l << self.half) | r
    }
}

/// A stable 64-bit hash of a name (FNV-1a), for keys that must not change between builds.
pub(crate) fn name_key(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Chooses keys in `1..=n` by a distribution; cheap to clone (the zipfian table is shared).
#[derive(Debug, Clone)]
pub(crate) enum KeyChooser {
    /// Uniform over `1..=n`.
    Uniform {
        /// Largest key.
        n: u64,
    },
    /// Zipfian over `1..=n`.
    Zipfian(Arc<Zipfian>),
}

impl KeyChooser {
    /// Builds a chooser; `theta` is used by zipfian only.
    pub(crate) fn new(dist: KeyDistribution, n: u64, theta: f64) -> Self {
        match dist {
            KeyDistribution::Uniform => KeyChooser::Uniform { n: n.max(1) },
            KeyDistribution::Zipfian => KeyChooser::Zipfian(Arc::new(Zipfian::new(n, theta))),
        }
    }

    /// Draws a key.
    #[inline]
    pub(crate) fn sample(&self, rng: &mut Rng) -> u64 {
        match self {
            KeyChooser::Uniform { n } => rng.gen_range(1..=*n),
            KeyChooser::Zipfian(z) => z.sample(rng),
        }
    }
}

/// TPC-C's non-uniform random NURand(A, x, y) with run-time constant `c`.
pub(crate) fn nurand(rng: &mut Rng, a: u64, c: u64, x: u64, y: u64) -> u64 {
    (((rng.gen_range(0..=a) | rng.gen_range(x..=y)) + c) % (y - x + 1)) + x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rng;

    #[test]
    fn zeta_tail_matches_exact_sum() {
        for theta in [0.01, 0.5, 0.8, 0.99, 0.999] {
            for n in [1u64, 2, 999, 1_000, 1_001, 5_000, 3_000_000] {
                let exact: f64 = (1..=n).map(|i| (i as f64).powf(-theta)).sum();
                let approx = zeta(n, theta);
                assert!(
                    ((exact - approx) / exact).abs() < 1e-11,
                    "n {n}, theta {theta}: {exact} vs {approx}"
                );
            }
        }
    }

    #[test]
    fn zipfian_frequencies_follow_the_law() {
        let n = 1000;
        let z = Zipfian::new(n, 0.99);
        let mut r = rng(7, 0);
        let draws = 400_000;
        let mut counts = vec![0u64; n as usize + 1];
        for _ in 0..draws {
            let k = z.sample(&mut r);
            assert!((1..=n).contains(&k));
            counts[k as usize] += 1;
        }
        let zn = zeta(n, 0.99);
        for k in [1usize, 2, 10] {
            let expected = draws as f64 * (k as f64).powf(-0.99) / zn;
            let got = counts[k] as f64;
            assert!(
                (got - expected).abs() / expected < 0.05,
                "key {k}: got {got}, expected {expected}"
            );
        }
    }

    #[test]
    fn uniform_stays_in_range_and_covers_it() {
        let c = KeyChooser::new(KeyDistribution::Uniform, 10, 0.0);
        let mut r = rng(1, 1);
        let mut seen = [false; 11];
        for _ in 0..1000 {
            let k = c.sample(&mut r);
            assert!((1..=10).contains(&k));
            seen[k as usize] = true;
        }
        assert!(seen[1..].iter().all(|s| *s));
    }

    #[test]
    fn permutations_are_bijections() {
        for n in 1..=300u64 {
            for key in [0u64, 1, 0xdead_beef] {
                let p = Permutation::new(n, key);
                let mut seen = vec![false; n as usize];
                for x in 0..n {
                    let y = p.apply(x);
                    assert!(y < n, "n {n} key {key}: {x} -> {y}");
                    assert!(!seen[y as usize], "n {n} key {key}: {y} twice");
                    seen[y as usize] = true;
                }
            }
        }
        for n in [1000u64, 1024, 1025, 4097, 65_536, 100_003] {
            let p = Permutation::new(n, 42);
            let mut seen = vec![false; n as usize];
            for x in 0..n {
                let y = p.apply(x) as usize;
                assert!(!seen[y], "n {n}: {y} twice");
                seen[y] = true;
            }
        }
        // huge ranges stay in range; different keys give different permutations
        let p = Permutation::new(1_000_000_000_000, 7);
        assert!((0..1000).all(|x| p.apply(x) < 1_000_000_000_000));
        let q = Permutation::new(1_000_000_000_000, 8);
        assert!((0..1000).any(|x| p.apply(x) != q.apply(x)));
        let full = Permutation::new(u64::MAX, 1);
        assert!(full.apply(u64::MAX - 1) < u64::MAX);
    }

    #[test]
    fn nurand_in_range() {
        let mut r = rng(3, 3);
        for _ in 0..10_000 {
            let v = nurand(&mut r, 1023, 42, 1, 3000);
            assert!((1..=3000).contains(&v));
        }
    }
}
