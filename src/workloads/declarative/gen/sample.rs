//! Drawing values: the number distributions, and each generator's value for a row or a
//! parameter.

use super::*;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl NumDist {
    #[inline]
    fn draw(&self, rng: &mut Rng) -> f64 {
        match self {
            NumDist::Uniform { lo, hi } => {
                if hi > lo {
                    lo + rng.gen::<f64>() * (hi - lo)
                } else {
                    *lo
                }
            }
            NumDist::Zipf { .. } => self.draw_int(rng) as f64,
            NumDist::Gauss { normal, lo, hi } => within(rng, |r| normal.sample(r), *lo, *hi),
            NumDist::Exp { exp, lo, hi } => within(rng, |r| lo + exp.sample(r), *lo, *hi),
            NumDist::LogNormal { dist, lo, hi } => within(rng, |r| dist.sample(r), *lo, *hi),
        }
    }

    #[inline]
    fn draw_int(&self, rng: &mut Rng) -> i64 {
        match self {
            NumDist::Uniform { lo, hi } => rng.gen_range(*lo as i64..=*hi as i64),
            NumDist::Zipf { lo, z, scramble } => {
                let rank = z.sample(rng) - 1;
                *lo + match scramble {
                    Some(p) => p.apply(rank),
                    None => rank,
                } as i64
            }
            NumDist::Gauss { normal, lo, hi } => {
                within(rng, |r| normal.sample(r).round(), *lo, *hi) as i64
            }
            NumDist::Exp { exp, lo, hi } => {
                within(rng, |r| (lo + exp.sample(r)).floor(), *lo, *hi) as i64
            }
            NumDist::LogNormal { dist, lo, hi } => {
                within(rng, |r| dist.sample(r).round(), *lo, *hi) as i64
            }
        }
    }
}

/// Draws until the value falls in `[lo, hi]` (16 tries, then clamps).
#[inline]
fn within(rng: &mut Rng, mut draw: impl FnMut(&mut Rng) -> f64, lo: f64, hi: f64) -> f64 {
    for _ in 0..16 {
        let x = draw(rng);
        if x >= lo && x <= hi {
            return x;
        }
    }
    draw(rng).clamp(lo, hi)
}

impl Gen {
    /// Draws one value.
    #[inline]
    pub(crate) fn sample(&self, st: &mut State) -> Value {
        match self {
            Gen::Sequence {
                start,
                step,
                slot,
                overflow,
            } => sequence_value(*start, *step, *slot, overflow, st),
            Gen::Int(d) => Value::Int(d.draw_int(&mut st.rng)),
            Gen::Float(d, decimals) => Value::Float(rounded(d.draw(&mut st.rng), *decimals)),
            Gen::Bool(p) => Value::Bool(st.rng.gen::<f64>() < *p),
            Gen::Choice { values, cumulative } => choice(values, cumulative, &mut st.rng),
            Gen::ForeignKey {
                start,
                step,
                rows,
                zipf,
                scramble,
                new_rows,
                ..
            } => {
                let keys = FkKeys {
                    start: *start,
                    step: *step,
                    rows: *rows,
                    zipf: zipf.as_deref(),
                    scramble: scramble.as_ref(),
                };
                foreign_key(&keys, new_rows.as_ref(), &mut st.rng)
            }
            Gen::Timestamp {
                from_s,
                span_s,
                recent,
            } => timestamp_text(*from_s, *span_s, recent.as_ref(), &mut st.rng),
            Gen::Date {
                from_day,
                span_days,
                recent,
            } => date_text(*from_day, *span_days, recent.as_ref(), &mut st.rng),
            Gen::Fake(kind, min, max) => Value::Text(kind.sample(&mut st.rng, *min, *max)),
            Gen::Uuid => Value::Text(uuid_v4(&mut st.rng)),
            Gen::Str(min, max) => Value::Text(random_string(*min, *max, &mut st.rng)),
            Gen::Text {
                vocabulary,
                min,
                max,
            } => Value::Text(vocabulary.text(&mut st.rng, *min, *max)),
            Gen::Json(_) => Value::Text(self.sample_json(st).to_string()),
            Gen::Array(of, min, max) => Value::Text(array_text(of, *min, *max, st)),
            Gen::Vector { dims, lo, hi } => Value::Vector(uniform_vector(*dims, *lo, *hi, st)),
            Gen::Clustered(c) => clustered_vector(c, st),
            Gen::FileVector { file, first, count } => {
                Value::Vector(file.row(file_row(*first, *count, st)).into())
            }
            Gen::ClusterOf { buckets, mislabel } => cluster_label(*buckets, *mislabel, st),
            Gen::Constant(v) => v.clone(),
            Gen::Nullable(ratio, g) => {
                if st.rng.gen::<f64>() < *ratio {
                    Value::Null
                } else {
                    g.sample(st)
                }
            }
            Gen::SameAs(i) => st.cols.get(*i).cloned().unwrap_or(Value::Null),
            Gen::Template { pieces, .. } => Value::Text(template_text(pieces, &st.cols)),
            Gen::Pick { .. } => match self.picked(&st.cols) {
                Some(g) => g.sample(st),
                None => Value::Null,
            },
            Gen::Derived {
                column,
                multiply,
                add,
                modulo,
                ..
            } => derived_value(st.cols.get(*column), *multiply, *add, *modulo),
            Gen::Parent {
                key,
                start,
                step,
                table,
                columns,
                reads_row,
                ..
            } => match st.cols.get(*key) {
                Some(Value::Int(k)) => {
                    parent_value(*k, (*start, *step), *table, columns, *reads_row, st.seed)
                }
                _ => Value::Null,
            },
        }
    }

    /// The generator a `pick` takes for the row's values `cols`: the one its column's
    /// value names, else the default; `None` for NULL.
    fn picked(&self, cols: &[Value]) -> Option<&Gen> {
        let Gen::Pick {
            column,
            values,
            default,
        } = self
        else {
            return None;
        };
        let mut buf = itoa::Buffer::new();
        let mut owned = String::new();
        let key: Option<&str> = match cols.get(*column) {
            None | Some(Value::Null | Value::Missing(_) | Value::Raw(..)) => None,
            Some(Value::Int(i)) => Some(buf.format(*i)),
            Some(Value::Text(t)) => Some(t.as_str()),
            Some(v) => {
                v.push_text(&mut owned);
                Some(owned.as_str())
            }
        };
        key.and_then(|k| values.binary_search_by(|(x, _)| x.as_str().cmp(k)).ok())
            .map(|i| &values[i].1)
            .or(default.as_deref())
    }

    /// Draws one value as JSON (objects and arrays nest as JSON).
    pub(crate) fn sample_json(&self, st: &mut State) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Gen::Json(fields) => J::Object(
                fields
                    .iter()
                    .map(|(k, g)| (k.clone(), g.sample_json(st)))
                    .collect(),
            ),
            Gen::Array(of, min, max) => {
                let n = st.rng.gen_range(*min..=*max);
                J::Array((0..n).map(|_| of.sample_json(st)).collect())
            }
            Gen::Nullable(ratio, g) => {
                if st.rng.gen::<f64>() < *ratio {
                    J::Null
                } else {
                    g.sample_json(st)
                }
            }
            Gen::Pick { .. } => match self.picked(&st.cols) {
                Some(g) => g.sample_json(st),
                None => J::Null,
            },
            _ => match self.sample(st) {
                Value::Int(v) => J::from(v),
                Value::Float(v) => J::from(v),
                Value::Bool(b) => J::Bool(b),
                Value::Text(s) => J::String(s),
                Value::Vector(v) => J::Array(v.iter().map(|x| J::from(*x as f64)).collect()),
                _ => J::Null,
            },
        }
    }
}

/// Value `start + step * k` of a sequence at its next position `k`; the overflow
/// message past the `bigint` range.
#[inline]
fn sequence_value(
    start: i64,
    step: i64,
    slot: usize,
    overflow: &'static str,
    st: &mut State,
) -> Value {
    match sequence_index(slot, st).and_then(|k| step.checked_mul(k)?.checked_add(start)) {
        Some(v) => Value::Int(v),
        None => Value::Missing(overflow),
    }
}

/// `x` rounded to `decimals` places, when set.
#[inline]
fn rounded(x: f64, decimals: Option<i32>) -> f64 {
    match decimals {
        Some(p) => {
            let m = 10f64.powi(p);
            (x * m).round() / m
        }
        None => x,
    }
}

/// One of `values`, by their `cumulative` weights.
#[inline]
fn choice(values: &[Value], cumulative: &[f64], rng: &mut Rng) -> Value {
    let u = rng.gen::<f64>() * cumulative[cumulative.len() - 1];
    let i = cumulative.partition_point(|c| *c <= u);
    values[i.min(values.len() - 1)].clone()
}

/// The loaded keys a foreign key draws from: the referenced sequence, its rows, and
/// the skew.
struct FkKeys<'a> {
    start: i64,
    step: i64,
    rows: u64,
    zipf: Option<&'a Zipfian>,
    scramble: Option<&'a Permutation>,
}

/// A foreign key: one of the run's new keys with their share (once there are some),
/// else a loaded row's key.
#[inline]
fn foreign_key(keys: &FkKeys, new_rows: Option<&(f64, Arc<NewKeys>)>, rng: &mut Rng) -> Value {
    if let Some((share, new)) = new_rows {
        if rng.gen::<f64>() < *share {
            if let Some(k) = new.draw(rng) {
                return Value::Int(k);
            }
        }
    }
    let k = match (keys.zipf, keys.scramble) {
        (Some(z), Some(p)) => p.apply(z.sample(rng) - 1) + 1,
        (Some(z), None) => z.sample(rng),
        (None, _) => rng.gen_range(1..=keys.rows),
    };
    Value::Int(keys.start + keys.step * (k as i64 - 1))
}

/// A UTC timestamp's text, `from_s + span_s` back by a recent age, or uniform.
#[inline]
fn timestamp_text(from_s: i64, span_s: i64, recent: Option<&Recent>, rng: &mut Rng) -> Value {
    let s = match recent {
        Some(r) => from_s + span_s - r.age(rng, span_s),
        None => from_s + rng.gen_range(0..=span_s),
    };
    let t = chrono::DateTime::from_timestamp(s, 0).unwrap_or_default();
    Value::Text(t.format("%Y-%m-%d %H:%M:%S+00").to_string())
}

/// A date's text, `from_day + span_days` back by a recent age, or uniform.
#[inline]
fn date_text(from_day: i64, span_days: i64, recent: Option<&Recent>, rng: &mut Rng) -> Value {
    let d = match recent {
        Some(r) => from_day + span_days - r.age(rng, span_days),
        None => from_day + rng.gen_range(0..=span_days),
    };
    let t = chrono::DateTime::from_timestamp(d * 86_400, 0).unwrap_or_default();
    Value::Text(t.format("%Y-%m-%d").to_string())
}

/// `min..=max` random letters and digits.
#[inline]
fn random_string(min: usize, max: usize, rng: &mut Rng) -> String {
    let n = rng.gen_range(min..=max);
    (0..n)
        .map(|_| ALNUM[rng.gen_range(0..ALNUM.len())] as char)
        .collect()
}

/// A vector near one of the centres of `c`; the row keeps its cluster.
#[inline]
fn clustered_vector(c: &super::super::vecdata::Clustered, st: &mut State) -> Value {
    let mut v = Vec::with_capacity(c.dims());
    st.cluster = c.sample(&mut st.rng, &mut v);
    Value::Vector(v.into())
}

/// The row of a vector file's range `first..first + count`: loaded row n's, or a random
/// one at run time.
#[inline]
fn file_row(first: usize, count: usize, st: &mut State) -> usize {
    match st.row {
        Some(n) => first + (n.saturating_sub(1) % count as u64) as usize,
        None => first + st.rng.gen_range(0..count),
    }
}

/// The label (from 1) of the row's cluster, or a random one with probability `mislabel`.
#[inline]
fn cluster_label(buckets: u32, mislabel: f64, st: &mut State) -> Value {
    let label = if mislabel > 0.0 && st.rng.gen::<f64>() < mislabel {
        st.rng.gen_range(0..buckets)
    } else {
        st.cluster % buckets
    };
    Value::Int(i64::from(label) + 1)
}

/// A template's text with the row's values `cols` put in.
#[inline]
fn template_text(pieces: &[Piece], cols: &[Value]) -> String {
    let mut s = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => s.push_str(t),
            Piece::Column(i) => {
                if let Some(v) = cols.get(*i) {
                    v.push_text(&mut s);
                }
            }
        }
    }
    s
}

/// The last of `columns` for the row of data table `table` whose key (of the sequence
/// `(start, step)`) is `k`, made again as the load with `seed` made it; NULL when no
/// row has that key.
#[inline]
fn parent_value(
    k: i64,
    (start, step): (i64, i64),
    table: usize,
    columns: &[Gen],
    reads_row: bool,
    seed: u64,
) -> Value {
    let row = (k - start) / step + 1;
    if row < 1 || (k - start) % step != 0 {
        return Value::Null;
    }
    let mut p = row_state(seed, table, row as u64, reads_row, columns.len());
    let mut v = Value::Null;
    for g in columns.iter() {
        v = g.sample(&mut p);
        if reads_row {
            p.cols.push(v.clone());
        }
    }
    v
}

/// `(x * multiply + add) mod modulo` of a row's value `x`: integers when `x` and the
/// numbers are (NULL past the 64-bit range), floats otherwise; NULL when `x` is not a
/// number. The modulo is the non-negative remainder.
fn derived_value(x: Option<&Value>, multiply: Num, add: Num, modulo: Option<Num>) -> Value {
    let all_int = matches!(multiply, Num::Int(_))
        && matches!(add, Num::Int(_))
        && !matches!(modulo, Some(Num::Float(_)));
    match x {
        Some(Value::Int(x)) if all_int => {
            let (Num::Int(m), Num::Int(a)) = (multiply, add) else {
                return Value::Null;
            };
            let mut v = i128::from(*x) * i128::from(m) + i128::from(a);
            if let Some(Num::Int(d)) = modulo {
                v = v.rem_euclid(i128::from(d));
            }
            i64::try_from(v).map_or(Value::Null, Value::Int)
        }
        Some(Value::Int(x)) => derive_float(*x as f64, multiply, add, modulo),
        Some(Value::Float(x)) => derive_float(*x, multiply, add, modulo),
        _ => Value::Null,
    }
}

fn derive_float(x: f64, multiply: Num, add: Num, modulo: Option<Num>) -> Value {
    let mut v = x * multiply.f() + add.f();
    if let Some(d) = modulo {
        v = v.rem_euclid(d.f());
    }
    Value::Float(v)
}

/// The position of a sequence's next value: the row number when loading, else this
/// worker's next slot (workers interleave by [`SEQ_STRIDE`]); `None` past the range.
fn sequence_index(slot: usize, st: &mut State) -> Option<i64> {
    match st.row {
        Some(row) => row.checked_sub(1).and_then(|r| i64::try_from(r).ok()),
        None => {
            let k = st.seqs[slot];
            st.seqs[slot] = k.saturating_add(1);
            k.checked_mul(SEQ_STRIDE)
                .and_then(|x| x.checked_add(st.worker))
        }
    }
}

/// A PostgreSQL array literal of `min..=max` values of `of`.
fn array_text(of: &Gen, min: usize, max: usize, st: &mut State) -> String {
    let n = st.rng.gen_range(min..=max);
    let mut s = String::from("{");
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        push_array_element(&mut s, &of.sample(st));
    }
    s.push('}');
    s
}

/// A vector of `dims` values uniform in `lo..hi`.
fn uniform_vector(dims: usize, lo: f64, hi: f64, st: &mut State) -> std::sync::Arc<[f32]> {
    (0..dims)
        .map(|_| (lo + st.rng.gen::<f64>() * (hi - lo)) as f32)
        .collect()
}

fn push_array_element(s: &mut String, v: &Value) {
    match v {
        Value::Null => s.push_str("NULL"),
        Value::Int(i) => s.push_str(itoa::Buffer::new().format(*i)),
        Value::Float(f) => s.push_str(&f.to_string()),
        Value::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
        Value::Text(t) => {
            s.push('"');
            for c in t.chars() {
                if c == '"' || c == '\\' {
                    s.push('\\');
                }
                s.push(c);
            }
            s.push('"');
        }
        Value::Vector(v) => {
            let mut b = bytes::BytesMut::new();
            Value::Vector(v.clone()).write_copy(&mut b);
            s.push('"');
            s.push_str(&String::from_utf8_lossy(&b));
            s.push('"');
        }
        Value::Raw(..) | Value::Missing(_) => s.push_str("NULL"),
    }
}

fn uuid_v4(rng: &mut Rng) -> String {
    let mut b: [u8; 16] = rng.gen();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::with_capacity(36);
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(char::from(b"0123456789abcdef"[(x >> 4) as usize]));
        s.push(char::from(b"0123456789abcdef"[(x & 15) as usize]));
    }
    s
}
