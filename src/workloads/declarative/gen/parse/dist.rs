//! Number distributions, choices and foreign keys.

use super::*;

pub(super) fn numeric(name: &str, a: &NumArgs, p: &str, errors: &mut Vec<String>) -> Option<Gen> {
    let float = a.ty == Some(NumType::Float);
    numeric_bounds(a, p, float, errors)?;
    unused_keys(name, a, p, errors);
    let lo = a.min.unwrap_or(f64::MIN);
    let hi = a.max.unwrap_or(f64::MAX);
    let dist = match name {
        "uniform" => {
            let (lo, hi) = (
                need(a.min, "min", name, p, errors),
                need(a.max, "max", name, p, errors),
            );
            NumDist::Uniform { lo, hi }
        }
        "zipfian" => zipfian(name, a, p, float, errors)?,
        "gaussian" => {
            let mean = need(a.mean, "mean", name, p, errors);
            let sd = need(a.stddev, "stddev", name, p, errors);
            match rand_distr::Normal::new(mean, sd) {
                Ok(normal) if sd > 0.0 => NumDist::Gauss { normal, lo, hi },
                _ => {
                    errors.push(format!(
                        "{p}.stddev: must be a positive number (got {})",
                        crate::core::Shown(sd)
                    ));
                    return None;
                }
            }
        }
        "lognormal" => lognormal(a, p, (lo, hi), errors)?,
        _ => {
            let mean = need(a.mean, "mean", name, p, errors);
            let lo = a.min.unwrap_or(0.0);
            match rand_distr::Exp::new(1.0 / mean) {
                Ok(exp) if mean > 0.0 => NumDist::Exp { exp, lo, hi },
                _ => {
                    errors.push(format!(
                        "{p}.mean: must be a positive number (got {})",
                        crate::core::Shown(mean)
                    ));
                    return None;
                }
            }
        }
    };
    min_max(a, p, float, errors)?;
    Some(if float {
        Gen::Float(dist, a.decimals.map(|d| d.min(15) as i32))
    } else {
        Gen::Int(dist)
    })
}

/// The value of `key`, which distribution `name` needs: an error when missing (and 0).
fn need(v: Option<f64>, key: &str, name: &str, p: &str, errors: &mut Vec<String>) -> f64 {
    if v.is_none() {
        errors.push(format!("{p}.{key}: missing; {name} needs {key}"));
    }
    v.unwrap_or(0.0)
}

/// An error for each key given that distribution `name` does not use.
fn unused_keys(name: &str, a: &NumArgs, p: &str, errors: &mut Vec<String>) {
    // what each distribution takes besides min, max, type and decimals
    let takes: &[&str] = match name {
        "uniform" => &[],
        "zipfian" => &["theta", "scramble", "seed"],
        "gaussian" => &["mean", "stddev"],
        "exponential" => &["mean"],
        _ => &["mu", "median", "sigma"],
    };
    for (key, given) in [
        ("mean", a.mean.is_some()),
        ("stddev", a.stddev.is_some()),
        ("theta", a.theta.is_some()),
        ("mu", a.mu.is_some()),
        ("median", a.median.is_some()),
        ("sigma", a.sigma.is_some()),
        ("scramble", a.scramble.is_some()),
        ("seed", a.seed.is_some()),
    ] {
        if given && !takes.contains(&key) {
            errors.push(format!("{p}.{key}: not used by {name}; remove it"));
        }
    }
}

/// `zipfian`: integers `min..=max`, low values hot (or spread by `scramble`).
fn zipfian(
    name: &str,
    a: &NumArgs,
    p: &str,
    float: bool,
    errors: &mut Vec<String>,
) -> Option<NumDist> {
    if float {
        errors.push(format!(
            "{p}.type: zipfian draws integers; remove type: float"
        ));
    }
    let (lo, hi) = (
        need(a.min, "min", name, p, errors),
        need(a.max, "max", name, p, errors),
    );
    let theta = a.theta.unwrap_or(0.99);
    if !(0.01..=0.999).contains(&theta) {
        errors.push(format!(
            "{p}.theta: must be between 0.01 and 0.999 (got {})",
            crate::core::Shown(theta)
        ));
        return None;
    }
    if hi < lo || hi - lo > 1e12 {
        errors.push(format!(
            "{p}: max must be at least min and the range at most 10^12 values"
        ));
        return None;
    }
    let scramble = a.scramble.unwrap_or(false);
    if a.seed.is_some() && !scramble {
        errors.push(format!(
            "{p}.seed: only applies with scramble: true; add scramble: true or remove seed"
        ));
    }
    let n = (hi - lo) as u64 + 1;
    Some(NumDist::Zipf {
        lo: lo as i64,
        z: Arc::new(Zipfian::new(n, theta)),
        scramble: scramble.then(|| Permutation::new(n, a.seed.unwrap_or(0))),
    })
}

/// `lognormal`: `ln x` normal with mean `mu` (or `ln median`) and deviation `sigma`,
/// kept within `lo..=hi`.
fn lognormal(
    a: &NumArgs,
    p: &str,
    (lo, hi): (f64, f64),
    errors: &mut Vec<String>,
) -> Option<NumDist> {
    let mu = match (a.mu, a.median) {
        (Some(_), Some(_)) => {
            errors.push(format!("{p}: give mu or median (median = e^mu), not both"));
            return None;
        }
        (Some(mu), None) => mu,
        (None, Some(m)) if m > 0.0 => m.ln(),
        (None, Some(m)) => {
            errors.push(format!(
                "{p}.median: must be a positive number (got {})",
                crate::core::Shown(m)
            ));
            return None;
        }
        (None, None) => {
            errors.push(format!(
                "{p}.mu: missing; lognormal needs mu (the mean of ln x) or median"
            ));
            return None;
        }
    };
    let Some(sigma) = a.sigma else {
        errors.push(format!(
            "{p}.sigma: missing; lognormal needs sigma (the standard deviation of ln x)"
        ));
        return None;
    };
    match rand_distr::LogNormal::new(mu, sigma) {
        Ok(dist) if sigma > 0.0 => Some(NumDist::LogNormal { dist, lo, hi }),
        _ => {
            errors.push(format!(
                "{p}.sigma: must be a positive number (got {})",
                crate::core::Shown(sigma)
            ));
            None
        }
    }
}

/// Checks `min` and `max` against each other: `None` when max is below min.
fn min_max(a: &NumArgs, p: &str, float: bool, errors: &mut Vec<String>) -> Option<()> {
    if let (Some(lo), Some(hi)) = (a.min, a.max) {
        if hi < lo {
            errors.push(format!("{p}: max ({hi}) is less than min ({lo})"));
            return None;
        }
        if !float && (lo.fract() != 0.0 || hi.fract() != 0.0) {
            errors.push(format!(
                "{p}: min and max must be integers (or add type: float)"
            ));
        }
    }
    Some(())
}

/// Checks of a numeric generator's arguments that do not depend on its distribution.
fn numeric_bounds(a: &NumArgs, p: &str, float: bool, errors: &mut Vec<String>) -> Option<()> {
    finite(
        p,
        &[
            ("min", a.min),
            ("max", a.max),
            ("mean", a.mean),
            ("stddev", a.stddev),
            ("theta", a.theta),
            ("mu", a.mu),
            ("sigma", a.sigma),
            ("median", a.median),
        ],
        errors,
    )?;
    if !float {
        // 2^63: every integer bound must convert to i64 without saturating
        const LIMIT: f64 = 9_223_372_036_854_775_808.0;
        for (key, v) in [("min", a.min), ("max", a.max)] {
            if let Some(x) = v.filter(|x| *x < -LIMIT || *x >= LIMIT) {
                errors.push(format!(
                    "{p}.{key}: {x} is beyond the 64-bit integer range; lower it, or add type: float"
                ));
                return None;
            }
        }
    }
    if a.decimals.is_some() && !float {
        errors.push(format!(
            "{p}.decimals: only applies to type: float; add type: float or remove decimals"
        ));
    }
    Some(())
}

pub(super) fn choice(v: &serde_yaml::Value, p: &str, errors: &mut Vec<String>) -> Option<Gen> {
    let a: ChoiceArgs = if v.is_sequence() {
        let mut m = serde_yaml::Mapping::new();
        m.insert("values".into(), v.clone());
        args(&serde_yaml::Value::Mapping(m), p, errors)
    } else {
        args(v, p, errors)
    };
    if a.values.is_empty() {
        errors.push(format!("{p}.values: give at least one value"));
        return None;
    }
    let mut values = Vec::with_capacity(a.values.len());
    for (i, v) in a.values.iter().enumerate() {
        match scalar(v) {
            Some(x) => values.push(x),
            None => errors.push(format!(
                "{p}.values[{i}]: must be a number, string, boolean or null"
            )),
        }
    }
    let kinds: std::collections::BTreeSet<_> = values
        .iter()
        .filter(|v| !matches!(v, Value::Null))
        .map(|v| match v {
            Value::Int(_) | Value::Float(_) => "number",
            other => other.kind(),
        })
        .collect();
    if kinds.len() > 1 {
        errors.push(format!(
            "{p}.values: mixes {}; use values of one kind (quote numbers to make them text)",
            kinds.into_iter().collect::<Vec<_>>().join(" and ")
        ));
    }
    if values.iter().any(|v| matches!(v, Value::Float(_))) {
        for v in values.iter_mut() {
            if let Value::Int(i) = v {
                *v = Value::Float(*i as f64);
            }
        }
    }
    let weights = a.weights.unwrap_or_else(|| vec![1.0; values.len()]);
    if weights.len() != a.values.len() {
        errors.push(format!(
            "{p}.weights: {} weights for {} values; give one weight per value",
            weights.len(),
            a.values.len()
        ));
        return None;
    }
    let sum = weights.iter().sum::<f64>();
    if weights.iter().any(|w| !w.is_finite() || *w < 0.0) || sum <= 0.0 || !sum.is_finite() {
        errors.push(format!(
            "{p}.weights: must be non-negative with a positive sum that a number holds (they are relative: give smaller ones)"
        ));
        return None;
    }
    let cumulative = weights
        .iter()
        .scan(0.0, |acc, w| {
            *acc += w;
            Some(*acc)
        })
        .collect();
    Some(Gen::Choice { values, cumulative })
}

pub(super) fn foreign_key(
    v: &serde_yaml::Value,
    p: &str,
    ctx: &mut Ctx<'_>,
    errors: &mut Vec<String>,
) -> Option<Gen> {
    let a: FkArgs = if let Some(t) = v.as_str() {
        FkArgs {
            table: t.to_string(),
            ..Default::default()
        }
    } else {
        args(v, p, errors)
    };
    let (table, t, start, step) = referenced(&a, p, ctx.tables, errors)?;
    let scramble = a.scramble.unwrap_or(false);
    if a.seed.is_some() && !scramble {
        errors.push(format!(
            "{p}.seed: only applies with scramble: true; add scramble: true or remove seed"
        ));
    }
    if t.rows == 0 && a.new_rows != Some(1.0) {
        errors.push(format!(
            "{p}: table '{}' is loaded with no rows, so a key drawn from its range names no row; give it rows, or draw only the keys the run inserts (new_rows: 1.0, in a transaction)",
            t.name
        ));
        return None;
    }
    let zipf = fk_zipf(&a, p, t.rows, scramble, errors)?;
    let new_rows = new_rows(a.new_rows, p, ctx, t, errors);
    let rows = t.rows.max(1);
    // keyed by the table's name: every foreign key into the table has the same hot rows
    let key = crate::core::derive_seed(crate::core::name_key(&t.name), a.seed.unwrap_or(0));
    Some(Gen::ForeignKey {
        start,
        step,
        rows,
        scramble: (scramble && zipf.is_some()).then(|| Permutation::new(rows, key)),
        zipf,
        new_rows,
        table,
    })
}

/// The table a foreign key refers to in `tables` (its position and range) and the
/// sequence (start, step) of the referenced column.
fn referenced<'t>(
    a: &FkArgs,
    p: &str,
    tables: &'t [TableRange],
    errors: &mut Vec<String>,
) -> Option<(usize, &'t TableRange, i64, i64)> {
    let known = || {
        let names: Vec<_> = tables.iter().map(|t| t.name.as_str()).collect();
        if names.is_empty() {
            "there are no tables in data".to_string()
        } else {
            format!("tables in data: {}", names.join(", "))
        }
    };
    let Some((table, t)) = tables.iter().enumerate().find(|(_, t)| t.name == a.table) else {
        errors.push(format!(
            "{p}.table: no table '{}' in data (a foreign key draws from a loaded table's key range); {}",
            a.table,
            known()
        ));
        return None;
    };
    let seq = match &a.column {
        Some(c) => t.sequences.iter().find(|s| s.0 == *c),
        None => t.sequences.first(),
    };
    let Some((_, start, step)) = seq else {
        errors.push(format!(
            "{p}: table '{}' has no sequence column{}; a foreign key needs the referenced key to be a sequence",
            t.name,
            a.column.as_ref().map(|c| format!(" named '{c}'")).unwrap_or_default()
        ));
        return None;
    };
    Some((table, t, *start, *step))
}

/// The zipfian over the referenced table's `rows`, for `distribution: zipfian` (inner
/// `None` for a uniform draw); `None` when theta is out of range.
fn fk_zipf(
    a: &FkArgs,
    p: &str,
    rows: u64,
    scramble: bool,
    errors: &mut Vec<String>,
) -> Option<Option<Arc<Zipfian>>> {
    match a.distribution {
        Some(crate::core::KeyDistribution::Zipfian) => {
            let theta = a.theta.unwrap_or(0.99);
            if !(0.01..=0.999).contains(&theta) {
                errors.push(format!(
                    "{p}.theta: must be between 0.01 and 0.999 (got {})",
                    crate::core::Shown(theta)
                ));
                return None;
            }
            Some(Some(Arc::new(Zipfian::new(rows, theta))))
        }
        _ => {
            if a.theta.is_some() {
                errors.push(format!("{p}.theta: only applies to distribution: zipfian"));
            }
            if scramble {
                errors.push(format!(
                    "{p}.scramble: only applies to distribution: zipfian (a uniform draw has no hot keys to spread)"
                ));
            }
            Some(None)
        }
    }
}

/// `new_rows`: the share of draws taken from the keys of rows the run inserts into
/// table `t` (only in transactions).
fn new_rows(
    share: Option<f64>,
    p: &str,
    ctx: &Ctx<'_>,
    t: &TableRange,
    errors: &mut Vec<String>,
) -> Option<(f64, Arc<NewKeys>)> {
    match share {
        None => None,
        Some(_) if ctx.columns.is_some() => {
            errors.push(format!(
                "{p}.new_rows: only in transactions (data is loaded before any row is inserted by the run); remove it here"
            ));
            None
        }
        Some(share) if !(0.0..=1.0).contains(&share) => {
            errors.push(format!(
                "{p}.new_rows: a share between 0 and 1 of the draws (got {})",
                crate::core::Shown(share)
            ));
            None
        }
        Some(share) => {
            let _ = t.new_keys.drawn_by.set(format!("{p}.new_rows"));
            Some((share, t.new_keys.clone()))
        }
    }
}
