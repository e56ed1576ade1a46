//! Random data of the TPC-C specification (clause 4.3): strings, last names, NURand
//! constants, and the keying and think times of clause 5.2.5.

use bytes::{BufMut, BytesMut};
use rand::Rng as _;

use crate::core::Rng;

/// The syllables of customer last names (clause 4.3.2.3).
pub(crate) const SYLLABLES: [&str; 10] = [
    "BAR", "OUGHT", "ABLE", "PRI", "PRES", "ESE", "ANTI", "CALLY", "ATION", "EING",
];

/// C_LOAD for C_LAST: the NURand(255, 0, 999) constant of the loader. Fixed, so that a run
/// can choose its C_RUN by the spec's delta rule without reading the database.
pub(crate) const C_LOAD_LAST: u64 = 157;

/// The last name of number `n` in `0..=999`: the syllables of its three digits.
pub(crate) fn last_name(n: u64) -> String {
    let mut s = String::with_capacity(15);
    for digit in [n / 100 % 10, n / 10 % 10, n % 10] {
        s.push_str(SYLLABLES[digit as usize]);
    }
    s
}

/// All 1,000 last names, indexed by number.
pub(crate) fn last_names() -> Vec<String> {
    (0..1000).map(last_name).collect()
}

/// Whether `c_run` may be used for C_LAST in a run after a load with `c_load`
/// (clause 2.1.6.1: the difference is in 65..=119 and neither 96 nor 112).
pub(crate) fn valid_c_run(c_load: u64, c_run: u64) -> bool {
    let delta = c_load.abs_diff(c_run);
    (65..=119).contains(&delta) && delta != 96 && delta != 112
}

/// A C_RUN for C_LAST valid against [`C_LOAD_LAST`].
pub(crate) fn c_run_last(rng: &mut Rng) -> u64 {
    loop {
        let c = rng.gen_range(0..=255);
        if valid_c_run(C_LOAD_LAST, c) {
            return c;
        }
    }
}

const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Appends a random alphanumeric string of a random length in `min..=max`.
pub(crate) fn a_string(rng: &mut Rng, min: usize, max: usize, buf: &mut BytesMut) {
    let len = rng.gen_range(min..=max);
    for _ in 0..len {
        buf.put_u8(ALNUM[rng.gen_range(0..ALNUM.len())]);
    }
}

/// Appends `len` random digits.
pub(crate) fn n_string(rng: &mut Rng, len: usize, buf: &mut BytesMut) {
    for _ in 0..len {
        buf.put_u8(b'0' + rng.gen_range(0..10u8));
    }
}

/// Appends a zip code: four random digits and "11111" (clause 4.3.2.7).
pub(crate) fn zip(rng: &mut Rng, buf: &mut BytesMut) {
    n_string(rng, 4, buf);
    buf.put_slice(b"11111");
}

/// Appends I_DATA or S_DATA: 26..=50 random characters, and in 10% of rows "ORIGINAL"
/// at a random position (clause 4.3.3.1).
pub(crate) fn data_with_original(rng: &mut Rng, buf: &mut BytesMut) {
    let len = rng.gen_range(26..=50usize);
    if rng.gen_ratio(1, 10) {
        let at = rng.gen_range(0..=len - 8);
        a_fixed(rng, at, buf);
        buf.put_slice(b"ORIGINAL");
        a_fixed(rng, len - 8 - at, buf);
    } else {
        a_fixed(rng, len, buf);
    }
}

fn a_fixed(rng: &mut Rng, len: usize, buf: &mut BytesMut) {
    a_string(rng, len, len, buf);
}

/// Appends a street, a second street, a city, a state and a zip, tab-separated.
pub(crate) fn address(rng: &mut Rng, buf: &mut BytesMut) {
    a_string(rng, 10, 20, buf);
    buf.put_u8(b'\t');
    a_string(rng, 10, 20, buf);
    buf.put_u8(b'\t');
    a_string(rng, 10, 20, buf);
    buf.put_u8(b'\t');
    for _ in 0..2 {
        buf.put_u8(b'A' + rng.gen_range(0..26u8));
    }
    buf.put_u8(b'\t');
    zip(rng, buf);
}

/// Appends an unsigned integer in decimal.
pub(crate) fn int(buf: &mut BytesMut, v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = v;
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.put_slice(&digits[i..]);
}

/// Appends `units / 10^scale` with `scale` decimals, e.g. `(1234, 2)` -> "12.34".
pub(crate) fn decimal(buf: &mut BytesMut, units: u64, scale: u32) {
    let div = 10u64.pow(scale);
    int(buf, units / div);
    buf.put_u8(b'.');
    let frac = units % div;
    let mut d = div / 10;
    while d > 0 {
        buf.put_u8(b'0' + (frac / d % 10) as u8);
        d /= 10;
    }
}

/// Keying time (before) and mean think time (after) of each transaction kind, seconds,
/// in kind order: New-Order, Payment, Order-Status, Delivery, Stock-Level (clause 5.2.5).
pub(crate) const KEYING_S: [f64; 5] = [18.0, 3.0, 2.0, 2.0, 2.0];
/// Mean think times, seconds, in kind order.
pub(crate) const THINK_MEAN_S: [f64; 5] = [12.0, 12.0, 10.0, 5.0, 5.0];

/// Keying time plus a negative-exponential think time (capped at 10 means), seconds.
pub(crate) fn keying_and_think_s(rng: &mut Rng, kind: usize) -> f64 {
    let mean = THINK_MEAN_S[kind];
    let u: f64 = rng.gen_range(f64::MIN_POSITIVE..1.0);
    KEYING_S[kind] + (-u.ln() * mean).min(10.0 * mean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::dist::nurand;
    use crate::core::rng;

    #[test]
    fn last_names_follow_the_syllables() {
        assert_eq!(last_name(0), "BARBARBAR");
        assert_eq!(last_name(371), "PRICALLYOUGHT");
        assert_eq!(last_name(999), "EINGEINGEING");
        assert_eq!(last_name(40), "BARPRESBAR");
        let all = last_names();
        assert_eq!(all.len(), 1000);
        let distinct: std::collections::HashSet<_> = all.iter().collect();
        assert_eq!(distinct.len(), 1000);
        assert!(all.iter().all(|n| n.len() <= 16));
    }

    #[test]
    fn c_run_obeys_the_delta_rule() {
        assert!(valid_c_run(157, 157 + 65));
        assert!(valid_c_run(157, 157 - 119));
        assert!(!valid_c_run(157, 157 + 64));
        assert!(!valid_c_run(157, 157 + 96));
        assert!(!valid_c_run(157, 157 - 112));
        assert!(!valid_c_run(157, 157 + 120));
        let mut r = rng(1, 1);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let c = c_run_last(&mut r);
            assert!(c <= 255 && valid_c_run(C_LOAD_LAST, c), "{c}");
            seen.insert(c);
        }
        assert!(seen.len() > 20, "C_RUN should vary with the seed");
    }

    #[test]
    fn nurand_last_names_are_skewed() {
        let mut r = rng(5, 5);
        let mut counts = vec![0u32; 1000];
        for _ in 0..200_000 {
            counts[nurand(&mut r, 255, C_LOAD_LAST, 0, 999) as usize] += 1;
        }
        // a uniform draw would give about 200 per name; NURand piles up on some
        let max = *counts.iter().max().unwrap_or(&0);
        let reached = counts.iter().filter(|c| **c > 0).count();
        assert!(
            max > 1_000 && reached > 900,
            "max {max}, {reached} names drawn"
        );
    }

    #[test]
    fn data_has_original_in_about_ten_percent() {
        let mut r = rng(2, 2);
        let mut original = 0;
        for _ in 0..20_000 {
            let mut b = BytesMut::new();
            data_with_original(&mut r, &mut b);
            assert!((26..=50).contains(&b.len()), "{}", b.len());
            if b.windows(8).any(|w| w == b"ORIGINAL") {
                original += 1;
            }
        }
        assert!((1800..=2200).contains(&original), "{original}");
    }

    #[test]
    fn strings_and_numbers() {
        let mut r = rng(3, 3);
        let mut b = BytesMut::new();
        zip(&mut r, &mut b);
        assert_eq!(b.len(), 9);
        assert!(b.ends_with(b"11111") && b[..4].iter().all(u8::is_ascii_digit));
        for _ in 0..100 {
            let mut b = BytesMut::new();
            a_string(&mut r, 8, 16, &mut b);
            assert!((8..=16).contains(&b.len()));
            assert!(b.iter().all(u8::is_ascii_alphanumeric));
        }
        let mut b = BytesMut::new();
        decimal(&mut b, 1234, 2);
        b.put_u8(b' ');
        decimal(&mut b, 5, 4);
        b.put_u8(b' ');
        int(&mut b, 0);
        b.put_u8(b' ');
        int(&mut b, 18446744073709551615);
        assert_eq!(&b[..], b"12.34 0.0005 0 18446744073709551615");
        let mut b = BytesMut::new();
        address(&mut r, &mut b);
        assert_eq!(b.iter().filter(|c| **c == b'\t').count(), 4);
    }

    #[test]
    fn think_times_have_the_spec_means() {
        let mut r = rng(4, 4);
        let n = 50_000;
        let mean = (0..n).map(|_| keying_and_think_s(&mut r, 0)).sum::<f64>() / n as f64;
        assert!((mean - 30.0).abs() < 0.5, "{mean}");
    }
}
