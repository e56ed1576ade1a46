//! Lognormal values, recent-skewed times, scrambled zipfians and vocabulary text.

use super::*;
use statrs::distribution::LogNormal;

#[test]
fn lognormal_floats_pass_ks() {
    for (yaml, mu) in [
        ("{lognormal: {mu: 1.5, sigma: 0.6, type: float}}", 1.5),
        (
            "{lognormal: {median: 20, sigma: 0.6, type: float}}",
            20f64.ln(),
        ),
    ] {
        let g = gen(yaml, &[]);
        let mut xs = floats(&g);
        let law = LogNormal::new(mu, 0.6).unwrap();
        let (d, crit) = ks(&mut xs, |x| law.cdf(x));
        assert!(d < crit, "{yaml}: D = {d}, critical {crit}");
    }
}

#[test]
fn lognormal_integers_pass_chi_square_within_their_range() {
    let g = gen(
        "{lognormal: {median: 20, sigma: 0.5, min: 5, max: 60}}",
        &[],
    );
    let law = LogNormal::new(20f64.ln(), 0.5).unwrap();
    // integers are rounded draws, redrawn outside [min, max]: k has the mass of
    // [k - 0.5, k + 0.5) within [4.5, 60.5)
    let inside = law.cdf(60.5) - law.cdf(4.5);
    let expected: Vec<f64> = (5..=60)
        .map(|k| (law.cdf(k as f64 + 0.5) - law.cdf(k as f64 - 0.5)) / inside)
        .collect();
    let mut counts = vec![0u64; 56];
    for v in ints(&g) {
        assert!((5..=60).contains(&v), "{v}");
        counts[(v - 5) as usize] += 1;
    }
    let p = chi_square_p(&counts, &expected);
    assert!(p > 0.001, "p = {p}, {counts:?}");
}

/// Seconds since the epoch of a generated timestamp.
fn epoch_seconds(v: Value) -> i64 {
    let Value::Text(t) = v else { panic!("{v:?}") };
    chrono::NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M:%S+00")
        .unwrap()
        .and_utc()
        .timestamp()
}

#[test]
fn recent_timestamps_follow_the_truncated_exponential() {
    let g = gen(
        "{timestamp: {from: \"2024-01-01\", to: \"2025-01-01\", skew: recent, half_life: 30d}}",
        &[],
    );
    let (from, to) = (1_704_067_200i64, 1_735_689_600i64);
    let rate = std::f64::consts::LN_2 / (30.0 * 86_400.0);
    let mass = 1.0 - (-rate * (to - from + 1) as f64).exp();
    let mut st = state(21);
    let mut ages: Vec<f64> = (0..N)
        .map(|_| {
            let s = epoch_seconds(g.sample(&mut st));
            assert!((from..=to).contains(&s), "{s}");
            (to - s) as f64
        })
        .collect();
    // about half the times are within one half-life of 'to'
    let recent = ages.iter().filter(|a| **a < 30.0 * 86_400.0).count() as f64 / N as f64;
    assert!((recent - 0.5).abs() < 0.01, "{recent}");
    let (d, crit) = ks(&mut ages, |a| (1.0 - (-rate * a).exp()) / mass);
    assert!(d < crit, "D = {d}, critical {crit}");
}

#[test]
fn recent_dates_pass_chi_square() {
    let g = gen(
        "{date: {from: \"2024-01-01\", to: \"2024-01-31\", skew: recent, half_life: 5d}}",
        &[],
    );
    let rate = std::f64::consts::LN_2 / 5.0;
    let mass = 1.0 - (-rate * 31.0).exp();
    let expected: Vec<f64> = (0..31)
        .map(|k| ((-rate * k as f64).exp() - (-rate * (k + 1) as f64).exp()) / mass)
        .collect();
    let mut counts = vec![0u64; 31];
    let mut st = state(22);
    for _ in 0..N {
        let Value::Text(d) = g.sample(&mut st) else {
            panic!()
        };
        let day: u32 = d.strip_prefix("2024-01-").unwrap().parse().unwrap();
        counts[(31 - day) as usize] += 1;
    }
    let p = chi_square_p(&counts, &expected);
    assert!(p > 0.001, "p = {p}, {counts:?}");
    // the newest day is the densest, the oldest still drawn
    assert!(counts[0] > counts[1] && counts[30] > 0, "{counts:?}");
}

#[test]
fn scrambled_zipfian_keeps_the_frequencies_and_spreads_the_hot_keys() {
    let (n, theta) = (1000usize, 0.99f64);
    let plain = gen("{zipfian: {min: 1, max: 1000, theta: 0.99}}", &[]);
    let scrambled = gen(
        "{zipfian: {min: 1, max: 1000, theta: 0.99, scramble: true}}",
        &[],
    );
    let Gen::Int(gen::NumDist::Zipf {
        scramble: Some(perm),
        ..
    }) = &scrambled
    else {
        panic!("not a scrambled zipfian")
    };
    // the same draws, mapped through the permutation
    let (a, b) = (ints(&plain), ints(&scrambled));
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(*y, perm.apply(*x as u64 - 1) as i64 + 1);
    }
    let mut counts = vec![0u64; n];
    for v in &b {
        assert!((1..=n as i64).contains(v));
        counts[(*v - 1) as usize] += 1;
    }
    let (hot, top) = counts
        .iter()
        .enumerate()
        .max_by_key(|(_, c)| **c)
        .map(|(i, c)| (i as u64 + 1, *c))
        .unwrap();
    let z: f64 = (1..=n).map(|k| (k as f64).powf(-theta)).sum();
    let p1 = top as f64 / N as f64;
    assert!(
        (p1 - 1.0 / z).abs() < 0.005,
        "p(hottest) = {p1}, rank 1: {}",
        1.0 / z
    );
    assert_eq!(hot, perm.apply(0) + 1);
    // the ten hottest keys are not the ten lowest
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|i| std::cmp::Reverse(counts[*i]));
    assert!(
        order[..10].iter().filter(|i| **i < 10).count() <= 2,
        "{:?}",
        &order[..10]
    );
    // another seed, another permutation
    let other = gen(
        "{zipfian: {min: 1, max: 1000, theta: 0.99, scramble: true, seed: 5}}",
        &[],
    );
    assert_ne!(ints(&other)[..100], b[..100]);
}

#[test]
fn scrambled_foreign_keys_into_one_table_share_their_hot_key() {
    let tables = [
        TableRange {
            name: "title".into(),
            rows: 10_000,
            sequences: vec![("id".into(), 1000, 10)],
            ..Default::default()
        },
        TableRange {
            name: "person".into(),
            rows: 10_000,
            sequences: vec![("id".into(), 1000, 10)],
            ..Default::default()
        },
    ];
    let hottest = |yaml: &str| {
        let g = gen(yaml, &tables);
        let mut counts = std::collections::HashMap::new();
        for v in ints(&g) {
            assert!((v - 1000) % 10 == 0 && (1000..101_000).contains(&v), "{v}");
            *counts.entry(v).or_insert(0u64) += 1;
        }
        counts.into_iter().max_by_key(|(_, c)| *c).unwrap()
    };
    let (a, ca) = hottest(
        "{foreign_key: {table: title, distribution: zipfian, theta: 0.99, scramble: true}}",
    );
    let (b, _) =
        hottest("{foreign_key: {table: title, distribution: zipfian, theta: 0.8, scramble: true}}");
    let (c, _) = hottest(
        "{foreign_key: {table: person, distribution: zipfian, theta: 0.99, scramble: true}}",
    );
    let (plain, cp) = hottest("{foreign_key: {table: title, distribution: zipfian, theta: 0.99}}");
    assert_eq!(
        a, b,
        "two foreign keys into title disagree on the hottest row"
    );
    assert_eq!(plain, 1000, "unscrambled, the first row is the hottest");
    assert_ne!(a, 1000, "scrambled, the hottest row is not the first");
    assert_ne!(a, c, "another table has other hot rows");
    // the hottest row is as hot as rank 1 unscrambled
    let (pa, pp) = (ca as f64 / N as f64, cp as f64 / N as f64);
    assert!((pa - pp).abs() < 0.006, "{pa} vs {pp}");
}

/// Least-squares slope of ln(count) over ln(rank), ranks `1..=k`.
fn rank_slope(counts: &[u64], k: usize) -> f64 {
    let pts: Vec<(f64, f64)> = (0..k)
        .map(|i| (((i + 1) as f64).ln(), (counts[i] as f64).ln()))
        .collect();
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / k as f64;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / k as f64;
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    sxy / sxx
}

#[test]
fn text_words_follow_zipf_over_a_fixed_vocabulary() {
    for theta in [1.0f64, 0.5] {
        let g = gen(
            &format!("{{text: {{words: 10, vocabulary: 1000, theta: {theta}, seed: 3}}}}"),
            &[],
        );
        let Gen::Text { vocabulary, .. } = &g else {
            panic!("not text")
        };
        let rank: std::collections::HashMap<&str, usize> = (0..vocabulary.len())
            .map(|i| (vocabulary.word(i), i))
            .collect();
        assert_eq!(rank.len(), 1000, "words are distinct");
        let mut counts = vec![0u64; 1000];
        let (mut with_first, mut with_500th) = (0usize, 0usize);
        let mut st = state(23);
        // 10,000 texts of 10 words: 100,000 words
        for _ in 0..N / 10 {
            let Value::Text(t) = g.sample(&mut st) else {
                panic!()
            };
            let words: Vec<&str> = t.split(' ').collect();
            assert_eq!(words.len(), 10, "{t}");
            for w in &words {
                counts[rank[w]] += 1;
            }
            with_first += usize::from(words.contains(&vocabulary.word(0)));
            with_500th += usize::from(words.contains(&vocabulary.word(499)));
        }
        let weights: Vec<f64> = (1..=1000).map(|k| (k as f64).powf(-theta)).collect();
        let total: f64 = weights.iter().sum();
        // ranks 1..=50 one by one, the rest together
        let mut observed = counts[..50].to_vec();
        observed.push(counts[50..].iter().sum());
        let mut expected: Vec<f64> = weights[..50].iter().map(|w| w / total).collect();
        expected.push(weights[50..].iter().sum::<f64>() / total);
        let p = chi_square_p(&observed, &expected);
        assert!(p > 0.001, "theta {theta}: p = {p}");
        let slope = rank_slope(&counts, 100);
        assert!((slope + theta).abs() < 0.05, "theta {theta}: slope {slope}");
        // common words are in most rows, rare ones in few
        let share = with_first as f64 / (N / 10) as f64;
        let want = 1.0 - (1.0 - weights[0] / total).powi(10);
        assert!(
            (share - want).abs() < 0.015,
            "theta {theta}: {share} vs {want}"
        );
        assert!(with_500th < with_first / 10, "{with_500th} vs {with_first}");
    }
}

#[test]
fn text_vocabularies_are_pronounceable_and_fixed_by_their_seed() {
    let words = |yaml: &str| {
        let Gen::Text { vocabulary, .. } = gen(yaml, &[]) else {
            panic!("not text")
        };
        (0..vocabulary.len())
            .map(|i| vocabulary.word(i).to_string())
            .collect::<Vec<_>>()
    };
    let a = words("{text: {vocabulary: 20000}}");
    assert_eq!(a, words("{text: {vocabulary: 20000, seed: 0}}"));
    assert_eq!(
        a[..5000],
        words("{text: {}}"),
        "a vocabulary's first words do not depend on its size"
    );
    let b = words("{text: {vocabulary: 20000, seed: 1}}");
    assert!(a.iter().zip(&b).filter(|(x, y)| x == y).count() < 100);
    let distinct: std::collections::HashSet<&String> = a.iter().collect();
    assert_eq!(distinct.len(), a.len());
    for w in &a {
        assert!(
            !w.is_empty() && w.bytes().all(|c| c.is_ascii_lowercase()),
            "{w}"
        );
        assert!(w.bytes().any(|c| b"aeiou".contains(&c)), "{w}");
        assert!(
            !["the", "and", "were", "here", "some"].contains(&w.as_str()),
            "{w}"
        );
    }
    // frequent words are short
    assert!(a[..50].iter().all(|w| w.len() <= 6), "{:?}", &a[..50]);
    let mean = |ws: &[String]| ws.iter().map(|w| w.len()).sum::<usize>() as f64 / ws.len() as f64;
    assert!(mean(&a[..50]) < mean(&a[10_000..]), "rare words are longer");
    // counts: a range, a mapping, one number
    let mut st = state(24);
    for (yaml, lo, hi) in [
        ("{text: {words: 2..4}}", 2, 4),
        ("{text: {words: \"0..=3\"}}", 0, 3),
        ("{text: {words: {min: 5, max: 6}}}", 5, 6),
        ("{text: {}}", 5, 20),
    ] {
        let g = gen(yaml, &[]);
        for _ in 0..200 {
            let Value::Text(t) = g.sample(&mut st) else {
                panic!()
            };
            let k = t.split_whitespace().count();
            assert!((lo..=hi).contains(&k), "{yaml}: {t}");
            assert!(t.len() as u64 <= g.max_bytes());
        }
    }
}
