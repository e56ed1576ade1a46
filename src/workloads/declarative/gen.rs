//! Generators: parsed once from YAML into a [`Gen`], then sampled per row (loading) or
//! per parameter (running) without parsing anything again.

use std::sync::Arc;

use rand::Rng as _;
use rand_distr::Distribution as _;
use serde::Deserialize;

use super::value::{OutKind, Value};
use crate::core::registry::parse_section_lenient;
use crate::core::{Rng, Zipfian};

/// Every generator name, for messages.
pub const NAMES: &[&str] = &[
    "sequence",
    "uniform",
    "zipfian",
    "gaussian",
    "exponential",
    "boolean",
    "choice",
    "foreign_key",
    "timestamp",
    "date",
    "fake",
    "uuid",
    "string",
    "json",
    "array",
    "vector",
    "constant",
    "same_as",
];

/// What a generator may refer to while it is compiled.
pub struct Ctx<'a> {
    /// Tables of `data:` known so far: name, rows at this scale, sequence columns
    /// (name, start, step).
    pub tables: &'a [TableRange],
    /// Counts sequence generators, each gets its own per-worker counter.
    pub sequences: usize,
    /// When compiling a data column: the earlier columns of the row (for `same_as`).
    pub columns: Option<&'a [String]>,
}

/// A table's key range, for `foreign_key`.
#[derive(Debug, Clone)]
pub struct TableRange {
    /// Table name.
    pub name: String,
    /// Rows loaded at this scale.
    pub rows: u64,
    /// Sequence columns: name, start, step.
    pub sequences: Vec<(String, i64, i64)>,
}

/// Per-worker (or per-load-row) mutable state of generators.
pub struct State {
    /// The random source.
    pub rng: Rng,
    /// Per-worker sequence counters, by sequence slot.
    pub seqs: Vec<i64>,
    /// Worker id (sequences at run time interleave by worker).
    pub worker: i64,
    /// Row number when loading (sequences then follow the row).
    pub row: Option<u64>,
    /// When loading: the values of the row's columns so far (for `same_as`).
    pub cols: Vec<Value>,
}

/// Longest `string`, in characters (`max_length`): 1,000,000.
pub const MAX_STRING_LENGTH: usize = 1_000_000;
/// Most elements of an `array` (`max_length`): 10,000.
pub const MAX_ARRAY_LENGTH: usize = 10_000;
/// Most words (`words`, `sentence`) or sentences (`paragraph`) of a `fake` text: 1,000.
pub const MAX_FAKE_COUNT: usize = 1_000;
/// Largest value one generator may produce, in bytes of its text form, as
/// [`Gen::max_bytes`] bounds it (16 MiB): the lengths above multiply when arrays and JSON
/// nest, and every value is held in memory while a row or a statement is sent.
pub const MAX_VALUE_BYTES: u64 = 16 << 20;
/// Largest data row, or set of values drawn for one transaction, in bytes (64 MiB).
pub const MAX_ROW_BYTES: u64 = 64 << 20;

/// Workers a run-time sequence keeps apart: worker `w`'s `k`-th value is
/// `start + step * (k * SEQ_STRIDE + w)`.
pub const SEQ_STRIDE: i64 = 65_536;

/// A distribution of numbers.
#[derive(Debug, Clone)]
pub enum NumDist {
    /// Uniform over `[lo, hi]`.
    Uniform { lo: f64, hi: f64 },
    /// Zipfian over the integers `lo..=lo+n-1`, low values hot.
    Zipf { lo: i64, z: Arc<Zipfian> },
    /// Normal, kept within `[lo, hi]` by redrawing.
    Gauss {
        normal: rand_distr::Normal<f64>,
        lo: f64,
        hi: f64,
    },
    /// Exponential with the given mean, shifted to start at `lo`, kept within `hi`.
    Exp {
        exp: rand_distr::Exp<f64>,
        lo: f64,
        hi: f64,
    },
}

/// A compiled generator.
#[derive(Debug, Clone)]
pub enum Gen {
    /// `start, start+step, ...`: the row number when loading, a per-worker counter when
    /// running. A value past the `bigint` range is `Value::Missing(overflow)`: binding it
    /// fails the transaction with that message instead of wrapping around.
    Sequence {
        start: i64,
        step: i64,
        slot: usize,
        overflow: &'static str,
    },
    /// Integers.
    Int(NumDist),
    /// Floats, rounded to `decimals` when set.
    Float(NumDist, Option<i32>),
    /// `true` with the given probability.
    Bool(f64),
    /// One of `values`, by cumulative weight.
    Choice {
        values: Vec<Value>,
        cumulative: Vec<f64>,
    },
    /// A key of another table's sequence column, uniform or zipfian over its rows.
    ForeignKey {
        start: i64,
        step: i64,
        rows: u64,
        zipf: Option<Arc<Zipfian>>,
    },
    /// A UTC timestamp in `[from_s, from_s + span_s]`.
    Timestamp { from_s: i64, span_s: i64 },
    /// A date in `[from_day, from_day + span_days]` (days since 1970-01-01).
    Date { from_day: i64, span_days: i64 },
    /// Fake text.
    Fake(FakeKind, usize, usize),
    /// A random (version 4) UUID.
    Uuid,
    /// Random letters and digits, length in `[min, max]`.
    Str(usize, usize),
    /// A JSON object of generated fields.
    Json(Vec<(String, Gen)>),
    /// An array (JSON inside `json`, a PostgreSQL array literal elsewhere).
    Array(Box<Gen>, usize, usize),
    /// A pgvector vector of `dims` floats uniform in `[lo, hi]`.
    Vector { dims: usize, lo: f64, hi: f64 },
    /// Always the same value.
    Constant(Value),
    /// NULL with probability `ratio`, otherwise the inner generator.
    Nullable(f64, Box<Gen>),
    /// The value of an earlier column of the same row (loading only).
    SameAs(usize),
}

/// Kinds of fake text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FakeKind {
    /// Full name.
    Name,
    /// First name.
    FirstName,
    /// Last name.
    LastName,
    /// A safe e-mail address (example.com/org/net).
    Email,
    /// A free-provider e-mail address.
    FreeEmail,
    /// A user name.
    Username,
    /// A phone number.
    Phone,
    /// Street name.
    Street,
    /// Building number and street.
    StreetAddress,
    /// City.
    City,
    /// State.
    State,
    /// Country.
    Country,
    /// Country code.
    CountryCode,
    /// Zip code.
    Zip,
    /// Street, city, state and zip on one line.
    Address,
    /// Company name.
    Company,
    /// Industry.
    Industry,
    /// Profession.
    Profession,
    /// Job title.
    JobTitle,
    /// Catch phrase.
    CatchPhrase,
    /// One lorem word.
    Word,
    /// `min..=max` lorem words.
    Words,
    /// A sentence of `min..=max` words.
    Sentence,
    /// A paragraph of `min..=max` sentences.
    Paragraph,
    /// IPv4 address.
    Ipv4,
    /// Browser user agent.
    UserAgent,
    /// ISBN-13.
    Isbn,
    /// Credit card number.
    CreditCard,
    /// ISO currency code.
    CurrencyCode,
    /// File name.
    FileName,
    /// MIME type.
    MimeType,
}

impl FakeKind {
    fn default_counts(&self) -> (usize, usize) {
        match self {
            FakeKind::Words => (3, 6),
            FakeKind::Sentence => (4, 12),
            FakeKind::Paragraph => (3, 6),
            _ => (1, 1),
        }
    }

    fn sample(&self, rng: &mut Rng, min: usize, max: usize) -> String {
        use fake::faker::{address::en as a, company::en as c, internet::en as i, lorem::en as l};
        use fake::faker::{barcode::en as b, creditcard::en as cc, currency::en as cu};
        use fake::faker::{
            filesystem::en as fs, job::en as j, name::en as n, phone_number::en as p,
        };
        use fake::rand::SeedableRng as _;
        use fake::Fake as _;
        let mut r = fake::rand::rngs::SmallRng::seed_from_u64(rng.gen());
        let r = &mut r;
        let count = || min..max + 1;
        match self {
            FakeKind::Name => n::Name().fake_with_rng(r),
            FakeKind::FirstName => n::FirstName().fake_with_rng(r),
            FakeKind::LastName => n::LastName().fake_with_rng(r),
            FakeKind::Email => i::SafeEmail().fake_with_rng(r),
            FakeKind::FreeEmail => i::FreeEmail().fake_with_rng(r),
            FakeKind::Username => i::Username().fake_with_rng(r),
            FakeKind::Phone => p::PhoneNumber().fake_with_rng(r),
            FakeKind::Street => a::StreetName().fake_with_rng(r),
            FakeKind::StreetAddress => {
                let no: String = a::BuildingNumber().fake_with_rng(r);
                let st: String = a::StreetName().fake_with_rng(r);
                format!("{no} {st}")
            }
            FakeKind::City => a::CityName().fake_with_rng(r),
            FakeKind::State => a::StateName().fake_with_rng(r),
            FakeKind::Country => a::CountryName().fake_with_rng(r),
            FakeKind::CountryCode => a::CountryCode().fake_with_rng(r),
            FakeKind::Zip => a::ZipCode().fake_with_rng(r),
            FakeKind::Address => {
                let no: String = a::BuildingNumber().fake_with_rng(r);
                let st: String = a::StreetName().fake_with_rng(r);
                let city: String = a::CityName().fake_with_rng(r);
                let state: String = a::StateAbbr().fake_with_rng(r);
                let zip: String = a::ZipCode().fake_with_rng(r);
                format!("{no} {st}, {city}, {state} {zip}")
            }
            FakeKind::Company => c::CompanyName().fake_with_rng(r),
            FakeKind::Industry => c::Industry().fake_with_rng(r),
            FakeKind::Profession => c::Profession().fake_with_rng(r),
            FakeKind::JobTitle => j::Title().fake_with_rng(r),
            FakeKind::CatchPhrase => c::CatchPhrase().fake_with_rng(r),
            FakeKind::Word => l::Word().fake_with_rng(r),
            FakeKind::Words => {
                let w: Vec<String> = l::Words(count()).fake_with_rng(r);
                w.join(" ")
            }
            FakeKind::Sentence => l::Sentence(count()).fake_with_rng(r),
            FakeKind::Paragraph => l::Paragraph(count()).fake_with_rng(r),
            FakeKind::Ipv4 => i::IPv4().fake_with_rng(r),
            FakeKind::UserAgent => i::UserAgent().fake_with_rng(r),
            FakeKind::Isbn => b::Isbn13().fake_with_rng(r),
            FakeKind::CreditCard => cc::CreditCardNumber().fake_with_rng(r),
            FakeKind::CurrencyCode => cu::CurrencyCode().fake_with_rng(r),
            FakeKind::FileName => fs::FileName().fake_with_rng(r),
            FakeKind::MimeType => fs::MimeType().fake_with_rng(r),
        }
    }
}

/// Longest text of a float (`f64` prints without an exponent: up to about 330 digits).
const FLOAT_BYTES: u64 = 330;
/// Longest lorem word, with its separator, rounded up.
const WORD_BYTES: u64 = 16;

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
            NumDist::Zipf { lo, z } => (*lo + z.sample(rng) as i64 - 1) as f64,
            NumDist::Gauss { normal, lo, hi } => within(rng, |r| normal.sample(r), *lo, *hi),
            NumDist::Exp { exp, lo, hi } => within(rng, |r| lo + exp.sample(r), *lo, *hi),
        }
    }

    #[inline]
    fn draw_int(&self, rng: &mut Rng) -> i64 {
        match self {
            NumDist::Uniform { lo, hi } => rng.gen_range(*lo as i64..=*hi as i64),
            NumDist::Zipf { lo, z } => *lo + z.sample(rng) as i64 - 1,
            NumDist::Gauss { normal, lo, hi } => {
                within(rng, |r| normal.sample(r).round(), *lo, *hi) as i64
            }
            NumDist::Exp { exp, lo, hi } => {
                within(rng, |r| (lo + exp.sample(r)).floor(), *lo, *hi) as i64
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
    /// The kind of value produced, for checks against parameter types.
    pub fn out_kind(&self) -> OutKind {
        match self {
            Gen::Sequence { .. } | Gen::Int(_) | Gen::ForeignKey { .. } => OutKind::Int,
            Gen::Float(..) => OutKind::Float,
            Gen::Bool(_) => OutKind::Bool,
            Gen::Choice { values, .. } => match values.first() {
                Some(Value::Int(_)) => OutKind::Int,
                Some(Value::Float(_)) => OutKind::Float,
                Some(Value::Bool(_)) => OutKind::Bool,
                _ => OutKind::Text,
            },
            Gen::Constant(v) => match v {
                Value::Int(_) => OutKind::Int,
                Value::Float(_) => OutKind::Float,
                Value::Bool(_) => OutKind::Bool,
                Value::Text(_) => OutKind::Text,
                _ => OutKind::Any,
            },
            Gen::Timestamp { .. } => OutKind::Typed("timestamp"),
            Gen::Date { .. } => OutKind::Typed("date"),
            Gen::Fake(..) | Gen::Str(..) => OutKind::Text,
            Gen::Uuid => OutKind::Typed("uuid"),
            Gen::Json(_) => OutKind::Typed("json"),
            Gen::Array(..) => OutKind::Typed("array"),
            Gen::Vector { .. } => OutKind::Typed("vector"),
            Gen::Nullable(_, g) => g.out_kind(),
            Gen::SameAs(_) => OutKind::Any,
        }
    }

    /// Draws one value.
    #[inline]
    pub fn sample(&self, st: &mut State) -> Value {
        match self {
            Gen::Sequence {
                start,
                step,
                slot,
                overflow,
            } => {
                let k = match st.row {
                    Some(row) => row.checked_sub(1).and_then(|r| i64::try_from(r).ok()),
                    None => {
                        let k = st.seqs[*slot];
                        st.seqs[*slot] = k.saturating_add(1);
                        k.checked_mul(SEQ_STRIDE)
                            .and_then(|x| x.checked_add(st.worker))
                    }
                };
                match k.and_then(|k| step.checked_mul(k)?.checked_add(*start)) {
                    Some(v) => Value::Int(v),
                    None => Value::Missing(overflow),
                }
            }
            Gen::Int(d) => Value::Int(d.draw_int(&mut st.rng)),
            Gen::Float(d, decimals) => {
                let x = d.draw(&mut st.rng);
                Value::Float(match decimals {
                    Some(p) => {
                        let m = 10f64.powi(*p);
                        (x * m).round() / m
                    }
                    None => x,
                })
            }
            Gen::Bool(p) => Value::Bool(st.rng.gen::<f64>() < *p),
            Gen::Choice { values, cumulative } => {
                let u = st.rng.gen::<f64>() * cumulative[cumulative.len() - 1];
                let i = cumulative.partition_point(|c| *c <= u);
                values[i.min(values.len() - 1)].clone()
            }
            Gen::ForeignKey {
                start,
                step,
                rows,
                zipf,
            } => {
                let k = match zipf {
                    Some(z) => z.sample(&mut st.rng),
                    None => st.rng.gen_range(1..=*rows),
                };
                Value::Int(start + step * (k as i64 - 1))
            }
            Gen::Timestamp { from_s, span_s } => {
                let s = from_s + st.rng.gen_range(0..=*span_s);
                let t = chrono::DateTime::from_timestamp(s, 0).unwrap_or_default();
                Value::Text(t.format("%Y-%m-%d %H:%M:%S+00").to_string())
            }
            Gen::Date {
                from_day,
                span_days,
            } => {
                let d = from_day + st.rng.gen_range(0..=*span_days);
                let t = chrono::DateTime::from_timestamp(d * 86_400, 0).unwrap_or_default();
                Value::Text(t.format("%Y-%m-%d").to_string())
            }
            Gen::Fake(kind, min, max) => Value::Text(kind.sample(&mut st.rng, *min, *max)),
            Gen::Uuid => Value::Text(uuid_v4(&mut st.rng)),
            Gen::Str(min, max) => {
                let n = st.rng.gen_range(*min..=*max);
                let s: String = (0..n)
                    .map(|_| ALNUM[st.rng.gen_range(0..ALNUM.len())] as char)
                    .collect();
                Value::Text(s)
            }
            Gen::Json(_) => Value::Text(self.sample_json(st).to_string()),
            Gen::Array(of, min, max) => {
                let n = st.rng.gen_range(*min..=*max);
                let mut s = String::from("{");
                for i in 0..n {
                    if i > 0 {
                        s.push(',');
                    }
                    push_array_element(&mut s, &of.sample(st));
                }
                s.push('}');
                Value::Text(s)
            }
            Gen::Vector { dims, lo, hi } => {
                use std::fmt::Write as _;
                let mut s = String::with_capacity(dims * 10 + 2);
                s.push('[');
                for i in 0..*dims {
                    if i > 0 {
                        s.push(',');
                    }
                    let x = lo + st.rng.gen::<f64>() * (hi - lo);
                    let _ = write!(s, "{}", x as f32);
                }
                s.push(']');
                Value::Text(s)
            }
            Gen::Constant(v) => v.clone(),
            Gen::Nullable(ratio, g) => {
                if st.rng.gen::<f64>() < *ratio {
                    Value::Null
                } else {
                    g.sample(st)
                }
            }
            Gen::SameAs(i) => st.cols.get(*i).cloned().unwrap_or(Value::Null),
        }
    }

    /// An upper bound of the bytes of one value in its text form (COPY or JSON escaping
    /// included, about). `same_as` counts 0: the column it copies is counted.
    pub fn max_bytes(&self) -> u64 {
        let text = |s: &Value| match s {
            Value::Text(t) => t.len() as u64,
            _ => FLOAT_BYTES,
        };
        match self {
            Gen::Sequence { .. } | Gen::Int(_) | Gen::ForeignKey { .. } => 20,
            Gen::Float(..) => FLOAT_BYTES,
            Gen::Bool(_) => 5,
            Gen::Choice { values, .. } => values.iter().map(text).max().unwrap_or(0) * 2,
            Gen::Timestamp { .. } => 32,
            Gen::Date { .. } => 16,
            Gen::Fake(kind, _, max) => {
                let n = *max as u64;
                match kind {
                    FakeKind::Words | FakeKind::Sentence => n * WORD_BYTES + 1,
                    FakeKind::Paragraph => n * (10 * WORD_BYTES + 2),
                    _ => 256,
                }
            }
            Gen::Uuid => 36,
            Gen::Str(_, max) => *max as u64,
            Gen::Json(fields) => fields.iter().fold(2, |acc: u64, (k, g)| {
                acc.saturating_add(2 * k.len() as u64 + 4)
                    .saturating_add(g.max_bytes().saturating_mul(2))
            }),
            Gen::Array(of, _, max) => (*max as u64)
                .saturating_mul(of.max_bytes().saturating_mul(2).saturating_add(3))
                .saturating_add(2),
            Gen::Vector { dims, .. } => *dims as u64 * 16 + 2,
            Gen::Constant(v) => text(v) * 2,
            Gen::Nullable(_, g) => g.max_bytes(),
            Gen::SameAs(_) => 0,
        }
    }

    /// Draws one value as JSON (objects and arrays nest as JSON).
    pub fn sample_json(&self, st: &mut State) -> serde_json::Value {
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
            _ => match self.sample(st) {
                Value::Int(v) => J::from(v),
                Value::Float(v) => J::from(v),
                Value::Bool(b) => J::Bool(b),
                Value::Text(s) => J::String(s),
                _ => J::Null,
            },
        }
    }
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

// ---------------------------------------------------------------------------------------
// Parsing

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SeqArgs {
    start: Option<i64>,
    step: Option<i64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum NumType {
    #[default]
    Int,
    Float,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct NumArgs {
    min: Option<f64>,
    max: Option<f64>,
    mean: Option<f64>,
    stddev: Option<f64>,
    theta: Option<f64>,
    #[serde(rename = "type")]
    ty: Option<NumType>,
    decimals: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct BoolArgs {
    true_ratio: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ChoiceArgs {
    values: Vec<serde_yaml::Value>,
    weights: Option<Vec<f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FkArgs {
    table: String,
    column: Option<String>,
    distribution: Option<crate::core::KeyDistribution>,
    theta: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RangeArgs {
    from: String,
    to: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FakeArgs {
    kind: Option<FakeKind>,
    min: Option<usize>,
    max: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct LenArgs {
    min_length: Option<usize>,
    max_length: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ArrayArgs {
    of: serde_yaml::Value,
    min_length: Option<usize>,
    max_length: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct VectorArgs {
    dimensions: usize,
    min: Option<f64>,
    max: Option<f64>,
}

/// Parses the generator at `path`; pushes every problem (prefixed by its YAML path) and
/// returns `None` when it cannot be compiled.
pub fn parse(
    v: &serde_yaml::Value,
    path: &str,
    ctx: &mut Ctx<'_>,
    errors: &mut Vec<String>,
) -> Option<Gen> {
    let serde_yaml::Value::Mapping(map) = v else {
        errors.push(format!(
            "{path}: expected a generator such as {{uniform: {{min: 1, max: 100}}}}; generators: {}",
            NAMES.join(", ")
        ));
        return None;
    };
    let mut null_ratio = None;
    let mut found: Option<(&str, &serde_yaml::Value)> = None;
    for (k, val) in map {
        let Some(k) = k.as_str() else {
            errors.push(format!("{path}: generator keys must be strings"));
            return None;
        };
        if k == "null_ratio" {
            match val.as_f64() {
                Some(r) if (0.0..=1.0).contains(&r) => null_ratio = Some(r),
                _ => errors.push(format!(
                    "{path}.null_ratio: must be a number between 0 and 1"
                )),
            }
            continue;
        }
        if let Some((first, _)) = found {
            errors.push(format!(
                "{path}: more than one generator ('{first}' and '{k}'); keep one"
            ));
            return None;
        }
        found = Some((k, val));
    }
    let Some((name, args)) = found else {
        errors.push(format!(
            "{path}: no generator given; use one of {}",
            NAMES.join(", ")
        ));
        return None;
    };
    let p = format!("{path}.{name}");
    let before = errors.len();
    let g = parse_one(name, args, &p, ctx, errors);
    if errors.len() > before {
        return None;
    }
    let g = g?;
    let size = g.max_bytes();
    if size > MAX_VALUE_BYTES {
        errors.push(format!(
            "{p}: one value can reach {size} bytes, above the limit of {} MiB; lower max_length, the array lengths or the fake counts",
            MAX_VALUE_BYTES >> 20
        ));
        return None;
    }
    Some(match null_ratio {
        Some(r) if r > 0.0 => Gen::Nullable(r, Box::new(g)),
        _ => g,
    })
}

fn args<T: serde::de::DeserializeOwned + Default>(
    v: &serde_yaml::Value,
    path: &str,
    errors: &mut Vec<String>,
) -> T {
    let (t, mut es) = parse_section_lenient::<T>(v, path);
    errors.append(&mut es);
    t
}

fn parse_one(
    name: &str,
    v: &serde_yaml::Value,
    p: &str,
    ctx: &mut Ctx<'_>,
    errors: &mut Vec<String>,
) -> Option<Gen> {
    match name {
        "sequence" => {
            let a: SeqArgs = args(v, p, errors);
            let slot = ctx.sequences;
            ctx.sequences += 1;
            Some(Gen::Sequence {
                start: a.start.unwrap_or(1),
                step: a.step.unwrap_or(1),
                slot,
                overflow: crate::core::intern(&format!(
                    "{p}: the sequence passed the bigint range ({}..{}); lower start or step",
                    i64::MIN,
                    i64::MAX
                )),
            })
        }
        "uniform" | "zipfian" | "gaussian" | "exponential" => {
            let a: NumArgs = args(v, p, errors);
            numeric(name, &a, p, errors)
        }
        "boolean" => {
            let a: BoolArgs = args(v, p, errors);
            let r = a.true_ratio.unwrap_or(0.5);
            if !(0.0..=1.0).contains(&r) {
                errors.push(format!("{p}.true_ratio: must be between 0 and 1 (got {r})"));
            }
            Some(Gen::Bool(r))
        }
        "choice" => choice(v, p, errors),
        "foreign_key" => foreign_key(v, p, ctx, errors),
        "timestamp" | "date" => {
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
            Some(if name == "date" {
                Gen::Date {
                    from_day: from.div_euclid(86_400),
                    span_days: to.div_euclid(86_400) - from.div_euclid(86_400),
                }
            } else {
                Gen::Timestamp {
                    from_s: from,
                    span_s: to - from,
                }
            })
        }
        "fake" => {
            let a: FakeArgs = if v.is_string() {
                let mut m = serde_yaml::Mapping::new();
                m.insert("kind".into(), v.clone());
                args(&serde_yaml::Value::Mapping(m), p, errors)
            } else {
                args(v, p, errors)
            };
            let Some(kind) = a.kind else {
                errors.push(format!("{p}.kind: missing; e.g. fake: name, fake: email, fake: {{kind: sentence, min: 4, max: 12}}"));
                return None;
            };
            let (dmin, dmax) = kind.default_counts();
            let (min, max) = (a.min.unwrap_or(dmin), a.max.unwrap_or(dmax));
            if min == 0 || min > max {
                errors.push(format!(
                    "{p}: min ({min}) must be at least 1 and at most max ({max})"
                ));
            }
            if max > MAX_FAKE_COUNT {
                errors.push(format!(
                    "{p}.max: must be at most {MAX_FAKE_COUNT} (got {max})"
                ));
            }
            Some(Gen::Fake(kind, min, max))
        }
        "uuid" => Some(Gen::Uuid),
        "string" => {
            let a: LenArgs = args(v, p, errors);
            let (min, max) = lengths(a.min_length, a.max_length, 10, MAX_STRING_LENGTH, p, errors);
            Some(Gen::Str(min, max))
        }
        "json" => {
            let serde_yaml::Value::Mapping(fields) = v else {
                errors.push(format!(
                    "{p}: expected a mapping of field names to generators"
                ));
                return None;
            };
            let mut out = Vec::with_capacity(fields.len());
            for (k, g) in fields {
                let key = k.as_str().unwrap_or_default().to_string();
                if let Some(g) = parse(g, &format!("{p}.{key}"), ctx, errors) {
                    out.push((key, g));
                }
            }
            Some(Gen::Json(out))
        }
        "array" => {
            let a: ArrayArgs = args(v, p, errors);
            let (min, max) = lengths(a.min_length, a.max_length, 3, MAX_ARRAY_LENGTH, p, errors);
            let of = parse(&a.of, &format!("{p}.of"), ctx, errors)?;
            Some(Gen::Array(Box::new(of), min, max))
        }
        "vector" => {
            let a: VectorArgs = args(v, p, errors);
            if a.dimensions == 0 || a.dimensions > 16_000 {
                errors.push(format!(
                    "{p}.dimensions: must be between 1 and 16000 (got {})",
                    a.dimensions
                ));
            }
            let (lo, hi) = (a.min.unwrap_or(-1.0), a.max.unwrap_or(1.0));
            finite(p, &[("min", a.min), ("max", a.max)], errors)?;
            if hi < lo {
                errors.push(format!("{p}: max ({hi}) is less than min ({lo})"));
            }
            Some(Gen::Vector {
                dims: a.dimensions,
                lo,
                hi,
            })
        }
        "same_as" => {
            let col = v.as_str().unwrap_or_default();
            let Some(cols) = ctx.columns else {
                errors.push(format!(
                    "{p}: same_as only applies to data columns; in a transaction use vars to share a value"
                ));
                return None;
            };
            match cols.iter().position(|c| c == col) {
                Some(i) => Some(Gen::SameAs(i)),
                None => {
                    errors.push(format!(
                        "{p}: no earlier column '{col}' in this table; columns before this one: {}",
                        if cols.is_empty() {
                            "none".to_string()
                        } else {
                            cols.join(", ")
                        }
                    ));
                    None
                }
            }
        }
        "constant" => match scalar(v) {
            Some(v) => Some(Gen::Constant(v)),
            None => {
                errors.push(format!("{p}: must be a number, string, boolean or null"));
                None
            }
        },
        other => {
            let hint = match other {
                "var" | "returned" => {
                    " ('var' and 'returned' are only allowed in a statement's params)".to_string()
                }
                _ => String::new(),
            };
            errors.push(format!(
                "{p}: unknown generator '{other}'{hint}; generators: {}",
                NAMES.join(", ")
            ));
            None
        }
    }
}

fn lengths(
    min: Option<usize>,
    max: Option<usize>,
    default: usize,
    limit: usize,
    p: &str,
    errors: &mut Vec<String>,
) -> (usize, usize) {
    let max = max.unwrap_or(min.unwrap_or(default).max(default));
    let min = min.unwrap_or(max.min(default));
    if min > max {
        errors.push(format!(
            "{p}: min_length ({min}) is greater than max_length ({max})"
        ));
    } else if max > limit {
        errors.push(format!(
            "{p}.max_length: must be at most {limit} (got {max})"
        ));
    }
    (min, max)
}

/// Every given number must be finite: NaN and infinities are refused, naming the key.
fn finite(p: &str, values: &[(&str, Option<f64>)], errors: &mut Vec<String>) -> Option<()> {
    let before = errors.len();
    for (key, v) in values {
        if let Some(x) = v.filter(|x| !x.is_finite()) {
            errors.push(format!("{p}.{key}: must be a finite number (got {x})"));
        }
    }
    (errors.len() == before).then_some(())
}

/// A YAML scalar as a value.
pub fn scalar(v: &serde_yaml::Value) -> Option<Value> {
    use serde_yaml::Value as Y;
    Some(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64()?),
        },
        Y::String(s) => Value::Text(s.clone()),
        _ => return None,
    })
}

fn numeric(name: &str, a: &NumArgs, p: &str, errors: &mut Vec<String>) -> Option<Gen> {
    let float = a.ty == Some(NumType::Float);
    finite(
        p,
        &[
            ("min", a.min),
            ("max", a.max),
            ("mean", a.mean),
            ("stddev", a.stddev),
            ("theta", a.theta),
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
    let need = |v: Option<f64>, key: &str, errors: &mut Vec<String>| {
        if v.is_none() {
            errors.push(format!("{p}.{key}: missing; {name} needs {key}"));
        }
        v.unwrap_or(0.0)
    };
    let unused = |v: Option<f64>, key: &str, errors: &mut Vec<String>| {
        if v.is_some() {
            errors.push(format!("{p}.{key}: not used by {name}; remove it"));
        }
    };
    let lo = a.min.unwrap_or(f64::MIN);
    let hi = a.max.unwrap_or(f64::MAX);
    let dist = match name {
        "uniform" => {
            let (lo, hi) = (need(a.min, "min", errors), need(a.max, "max", errors));
            unused(a.mean, "mean", errors);
            unused(a.stddev, "stddev", errors);
            unused(a.theta, "theta", errors);
            NumDist::Uniform { lo, hi }
        }
        "zipfian" => {
            if float {
                errors.push(format!(
                    "{p}.type: zipfian draws integers; remove type: float"
                ));
            }
            let (lo, hi) = (need(a.min, "min", errors), need(a.max, "max", errors));
            unused(a.mean, "mean", errors);
            unused(a.stddev, "stddev", errors);
            let theta = a.theta.unwrap_or(0.99);
            if !(0.01..=0.999).contains(&theta) {
                errors.push(format!(
                    "{p}.theta: must be between 0.01 and 0.999 (got {theta})"
                ));
                return None;
            }
            if hi < lo || hi - lo > 1e12 {
                errors.push(format!(
                    "{p}: max must be at least min and the range at most 10^12 values"
                ));
                return None;
            }
            NumDist::Zipf {
                lo: lo as i64,
                z: Arc::new(Zipfian::new((hi - lo) as u64 + 1, theta)),
            }
        }
        "gaussian" => {
            let mean = need(a.mean, "mean", errors);
            let sd = need(a.stddev, "stddev", errors);
            unused(a.theta, "theta", errors);
            match rand_distr::Normal::new(mean, sd) {
                Ok(normal) if sd > 0.0 => NumDist::Gauss { normal, lo, hi },
                _ => {
                    errors.push(format!("{p}.stddev: must be a positive number (got {sd})"));
                    return None;
                }
            }
        }
        _ => {
            let mean = need(a.mean, "mean", errors);
            unused(a.stddev, "stddev", errors);
            unused(a.theta, "theta", errors);
            let lo = a.min.unwrap_or(0.0);
            match rand_distr::Exp::new(1.0 / mean) {
                Ok(exp) if mean > 0.0 => NumDist::Exp { exp, lo, hi },
                _ => {
                    errors.push(format!("{p}.mean: must be a positive number (got {mean})"));
                    return None;
                }
            }
        }
    };
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
    Some(if float {
        Gen::Float(dist, a.decimals.map(|d| d.min(15) as i32))
    } else {
        Gen::Int(dist)
    })
}

fn choice(v: &serde_yaml::Value, p: &str, errors: &mut Vec<String>) -> Option<Gen> {
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
    if weights.iter().any(|w| !w.is_finite() || *w < 0.0) || weights.iter().sum::<f64>() <= 0.0 {
        errors.push(format!(
            "{p}.weights: must be non-negative with a positive sum"
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

fn foreign_key(
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
    let known = || {
        let names: Vec<_> = ctx.tables.iter().map(|t| t.name.as_str()).collect();
        if names.is_empty() {
            "there are no tables in data".to_string()
        } else {
            format!("tables in data: {}", names.join(", "))
        }
    };
    let Some(t) = ctx.tables.iter().find(|t| t.name == a.table) else {
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
    let zipf = match a.distribution {
        Some(crate::core::KeyDistribution::Zipfian) => {
            let theta = a.theta.unwrap_or(0.99);
            if !(0.01..=0.999).contains(&theta) {
                errors.push(format!(
                    "{p}.theta: must be between 0.01 and 0.999 (got {theta})"
                ));
                return None;
            }
            Some(Arc::new(Zipfian::new(t.rows, theta)))
        }
        _ => {
            if a.theta.is_some() {
                errors.push(format!("{p}.theta: only applies to distribution: zipfian"));
            }
            None
        }
    };
    Some(Gen::ForeignKey {
        start: *start,
        step: *step,
        rows: t.rows.max(1),
        zipf,
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
