//! `timestamp` and `date` ranges, and the instants that bound them.

use super::*;

pub(super) fn time_range(
    name: &str,
    v: &serde_yaml::Value,
    p: &str,
    errors: &mut Vec<String>,
) -> Option<Gen> {
    let a: RangeArgs = args(v, p, errors);
    let from = parse_instant(&a.from, &format!("{p}.from"), errors)?;
    let to = parse_instant(&a.to, &format!("{p}.to"), errors)?;
    if to < from {
        errors.push(format!(
            "{p}: 'to' ({}) is before 'from' ({})",
            a.to, a.from
        ));
        return None;
    }
    let half_life = match (a.skew, &a.half_life) {
        (None, None) => None,
        (None, Some(_)) => {
            errors.push(format!(
                "{p}.half_life: only applies with skew: recent; add skew: recent or remove half_life"
            ));
            return None;
        }
        (Some(Skew::Recent), None) => {
            errors.push(format!(
                "{p}.half_life: missing; skew: recent needs the age at which times are half as dense as at 'to', e.g. half_life: 30d"
            ));
            return None;
        }
        (Some(Skew::Recent), Some(h)) => match humantime::parse_duration(h.trim()) {
            Ok(d) if d.as_secs_f64() > 0.0 => Some(d.as_secs_f64()),
            _ => {
                errors.push(format!(
                    "{p}.half_life: '{h}' is not a positive duration (e.g. 30d, 12h, 90min)"
                ));
                return None;
            }
        },
    };
    Some(if name == "date" {
        let span_days = to.div_euclid(86_400) - from.div_euclid(86_400);
        Gen::Date {
            from_day: from.div_euclid(86_400),
            span_days,
            recent: half_life.map(|h| Recent::new(h / 86_400.0, span_days)),
        }
    } else {
        Gen::Timestamp {
            from_s: from,
            span_s: to - from,
            recent: half_life.map(|h| Recent::new(h, to - from)),
        }
    })
}

/// Seconds since the epoch of `now`, `now-30d`, `now+1h`, a date `2024-01-31`, a
/// date-time `2024-01-31 12:00:00` (UTC) or RFC 3339.
fn parse_instant(s: &str, path: &str, errors: &mut Vec<String>) -> Option<i64> {
    let s = s.trim();
    let now = chrono::Utc::now().timestamp();
    if let Some(rest) = s.strip_prefix("now") {
        let rest = rest.trim();
        if rest.is_empty() {
            return Some(now);
        }
        let (sign, d) = if let Some(d) = rest.strip_prefix('-') {
            (-1, d)
        } else if let Some(d) = rest.strip_prefix('+') {
            (1, d)
        } else {
            (0, rest)
        };
        let at = match humantime::parse_duration(d.trim()) {
            Ok(d) if sign != 0 => i64::try_from(d.as_secs())
                .ok()
                .and_then(|secs| now.checked_add(sign * secs)),
            _ => {
                errors.push(format!(
                    "{path}: '{s}' is not now, now-DURATION or now+DURATION (e.g. now-30d)"
                ));
                return None;
            }
        };
        return in_years(at, s, path, errors);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return in_years(Some(t.timestamp()), s, path, errors);
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
        return in_years(Some(t.and_utc().timestamp()), s, path, errors);
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let t = d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp());
        return in_years(t, s, path, errors);
    }
    errors.push(format!(
        "{path}: '{s}' is not a date (2024-01-31), a date-time (2024-01-31 12:00:00, UTC), RFC 3339, or now-30d"
    ));
    None
}

/// `secs` (since the epoch) when it falls in the years 1 to 9999, the range every
/// generated timestamp and date is written in; otherwise an error naming the input.
fn in_years(secs: Option<i64>, s: &str, path: &str, errors: &mut Vec<String>) -> Option<i64> {
    use chrono::Datelike as _;
    let ok = secs
        .and_then(|x| chrono::DateTime::from_timestamp(x, 0))
        .is_some_and(|t| (1..=9999).contains(&t.year()));
    if !ok {
        errors.push(format!(
            "{path}: '{s}' is outside the years 1 to 9999; pick a nearer instant"
        ));
        return None;
    }
    secs
}
