//! Generators: parsed once from YAML into a [`Gen`], then sampled per row (loading) or
//! per parameter (running) without parsing anything again.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use rand::Rng as _;
use rand_distr::Distribution as _;
use serde::Deserialize;

mod parse;
mod sample;
mod words;

pub(crate) use parse::parse;
pub(crate) use words::{Vocabulary, MAX_TEXT_WORDS, MAX_VOCABULARY};

use super::value::{OutKind, Value};
use crate::core::{Permutation, Rng, Zipfian};

/// Every generator name, for messages.
pub(crate) const NAMES: &[&str] = &[
    "sequence",
    "uniform",
    "zipfian",
    "gaussian",
    "exponential",
    "lognormal",
    "boolean",
    "choice",
    "foreign_key",
    "timestamp",
    "date",
    "fake",
    "uuid",
    "string",
    "text",
    "json",
    "array",
    "vector",
    "cluster_of",
    "constant",
    "same_as",
    "template",
    "pick",
    "derived",
    "parent",
];

/// What a generator may refer to while it is compiled.
pub(crate) struct Ctx<'a> {
    /// Tables of `data:` known so far: name, rows at this scale, sequence columns
    /// (name, start, step).
    pub(crate) tables: &'a [TableRange],
    /// Counts sequence generators, each gets its own per-worker counter.
    pub(crate) sequences: usize,
    /// Run-time sequences bound to a column (`after:`), in the order met.
    pub(crate) resumes: Vec<super::resume::Resume>,
    /// When compiling a data column: the earlier columns of the row (for `same_as`,
    /// `template`, `pick` and `derived`).
    pub(crate) columns: Option<&'a [String]>,
    /// The generators of those earlier columns, in the same order (empty outside data).
    pub(crate) column_gens: &'a [Gen],
    /// The workload's folder (vector files are named relative to it).
    pub(crate) dir: &'a std::path::Path,
    /// When compiling a data column: the data tables before this one, compiled (for
    /// `parent`).
    pub(crate) parents: &'a [super::spec::DataTable],
}

/// A table's key range, for `foreign_key`.
#[derive(Debug, Clone, Default)]
pub(crate) struct TableRange {
    /// Table name.
    pub(crate) name: String,
    /// Rows loaded at this scale.
    pub(crate) rows: u64,
    /// Sequence columns: name, start, step.
    pub(crate) sequences: Vec<(String, i64, i64)>,
    /// Keys of the rows transactions insert during the run (`inserts:`), for foreign
    /// keys that reach them (`new_rows:`).
    pub(crate) new_keys: Arc<NewKeys>,
}

/// Keys a table gained during the run: the latest [`NEW_KEYS_KEPT`], recorded by the
/// transactions that inserted them once they committed, drawn by foreign keys with
/// `new_rows:`. Written and read by every worker without a lock.
#[derive(Default)]
pub(crate) struct NewKeys {
    slots: std::sync::OnceLock<Box<[AtomicI64]>>,
    added: AtomicU64,
    /// While compiling: the path of the first foreign key that draws from them, and
    /// whether a statement records them (one without the other is an error).
    pub(crate) drawn_by: std::sync::OnceLock<String>,
    pub(crate) recorded: std::sync::atomic::AtomicBool,
}

/// Keys of run-inserted rows a table keeps for `new_rows:` draws.
pub(crate) const NEW_KEYS_KEPT: u64 = 4096;

/// An empty slot (its key not stored yet).
const NO_KEY: i64 = i64::MIN;

impl NewKeys {
    fn slots(&self) -> &[AtomicI64] {
        self.slots
            .get_or_init(|| (0..NEW_KEYS_KEPT).map(|_| AtomicI64::new(NO_KEY)).collect())
    }

    /// Records the key of a committed new row.
    pub(crate) fn add(&self, key: i64) {
        let i = self.added.fetch_add(1, Ordering::Relaxed);
        self.slots()[(i % NEW_KEYS_KEPT) as usize].store(key, Ordering::Release);
    }

    /// Rows recorded so far.
    pub(crate) fn added(&self) -> u64 {
        self.added.load(Ordering::Relaxed)
    }

    /// One of the kept keys, uniformly; `None` before any was recorded.
    fn draw(&self, rng: &mut Rng) -> Option<i64> {
        let n = self.added.load(Ordering::Acquire).min(NEW_KEYS_KEPT);
        if n == 0 {
            return None;
        }
        let k = self.slots()[rng.gen_range(0..n) as usize].load(Ordering::Acquire);
        (k != NO_KEY).then_some(k)
    }
}

impl std::fmt::Debug for NewKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKeys")
            .field("added", &self.added())
            .finish()
    }
}

/// Per-worker (or per-load-row) mutable state of generators.
pub(crate) struct State {
    /// The random source.
    pub(crate) rng: Rng,
    /// Per-worker sequence counters, by sequence slot.
    pub(crate) seqs: Vec<i64>,
    /// Worker id (sequences at run time interleave by worker).
    pub(crate) worker: i64,
    /// Row number when loading (sequences then follow the row).
    pub(crate) row: Option<u64>,
    /// When loading: the values of the row's columns so far (for `same_as`, `template`,
    /// `pick` and `derived`).
    pub(crate) cols: Vec<Value>,
    /// The cluster of the row's last clustered vector (for `cluster_of`).
    pub(crate) cluster: u32,
    /// When loading: the load's seed (a data table's rows come from it, its position in
    /// data and the row number, so `parent` can regenerate a parent row).
    pub(crate) seed: u64,
}

/// The seed of data table `table`'s rows in a load with `seed`.
pub(crate) fn table_seed(seed: u64, table: usize) -> u64 {
    crate::core::derive_seed(seed, 1000 + table as u64)
}

/// The state that generates row `row` of data table `table` in a load with `seed`.
pub(crate) fn row_state(
    seed: u64,
    table: usize,
    row: u64,
    keeps_row: bool,
    columns: usize,
) -> State {
    State {
        rng: crate::core::rng(table_seed(seed, table), row),
        seqs: Vec::new(),
        worker: 0,
        row: Some(row),
        cols: Vec::with_capacity(if keeps_row { columns } else { 0 }),
        cluster: 0,
        seed,
    }
}

/// Longest `string`, in characters (`max_length`): 1,000,000.
pub(crate) const MAX_STRING_LENGTH: usize = 1_000_000;
/// Most elements of an `array` (`max_length`): 10,000.
pub(crate) const MAX_ARRAY_LENGTH: usize = 10_000;
/// Most words (`words`, `sentence`) or sentences (`paragraph`) of a `fake` text: 1,000.
pub(crate) const MAX_FAKE_COUNT: usize = 1_000;
/// Largest value one generator may produce, in bytes of its text form, as
/// [`Gen::max_bytes`] bounds it (16 MiB): the lengths above multiply when arrays and JSON
/// nest, and every value is held in memory while a row or a statement is sent.
pub(crate) const MAX_VALUE_BYTES: u64 = 16 << 20;
/// Largest data row, or set of values drawn for one transaction, in bytes (64 MiB).
pub(crate) const MAX_ROW_BYTES: u64 = 64 << 20;

/// Workers a run-time sequence keeps apart: worker `w`'s `k`-th value is
/// `start + step * (k * SEQ_STRIDE + w)`.
pub(crate) const SEQ_STRIDE: i64 = 65_536;

/// A distribution of numbers.
#[derive(Debug, Clone)]
pub(crate) enum NumDist {
    /// Uniform over `[lo, hi]`.
    Uniform { lo: f64, hi: f64 },
    /// Zipfian over the integers `lo..=lo+n-1`: low values hot, or, scrambled, rank `k`
    /// at `lo + perm(k - 1)` so the hot values spread over the range.
    Zipf {
        lo: i64,
        z: Arc<Zipfian>,
        scramble: Option<Permutation>,
    },
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
    /// Log-normal (`ln x` normal), kept within `[lo, hi]` by redrawing.
    LogNormal {
        dist: rand_distr::LogNormal<f64>,
        lo: f64,
        hi: f64,
    },
}

/// Ages skewed to the recent end of a time range: exponential with the half-life's rate,
/// truncated to `[0, span + 1)` by inverting its CDF (the same law as redrawing until the
/// age falls in range, in one draw), then floored to whole seconds or days.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recent {
    /// ln 2 / half-life, per second (timestamps) or per day (dates).
    rate: f64,
    /// The probability mass of the untruncated law inside the range: `1 - e^(-rate (span + 1))`.
    mass: f64,
}

impl Recent {
    /// Recent skew with `half_life` over a range of `span + 1` whole units.
    pub(crate) fn new(half_life: f64, span: i64) -> Self {
        let rate = std::f64::consts::LN_2 / half_life;
        Recent {
            rate,
            mass: -(-rate * (span as f64 + 1.0)).exp_m1(),
        }
    }

    /// An age in `0..=span`.
    #[inline]
    fn age(&self, rng: &mut Rng, span: i64) -> i64 {
        let u: f64 = rng.gen();
        let a = -(-u * self.mass).ln_1p() / self.rate;
        (a.floor() as i64).clamp(0, span)
    }
}

/// A piece of a `template`.
#[derive(Debug, Clone)]
pub(crate) enum Piece {
    /// Text kept as written.
    Text(String),
    /// The value of an earlier column of the row.
    Column(usize),
}

/// A number `derived` applies: an integer when written as one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    fn f(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(x) => x,
        }
    }
}

/// A compiled generator.
#[derive(Debug, Clone)]
pub(crate) enum Gen {
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
    /// A key of another table's sequence column, uniform or zipfian over its rows; a
    /// scrambled zipfian maps rank `k` to row `perm(k - 1) + 1`, the permutation keyed by
    /// the table's name so every foreign key into it shares the hot rows.
    ForeignKey {
        start: i64,
        step: i64,
        rows: u64,
        zipf: Option<Arc<Zipfian>>,
        scramble: Option<Permutation>,
        /// The share of draws taken from the rows inserted during the run, and their keys.
        new_rows: Option<(f64, Arc<NewKeys>)>,
        /// The referenced table's position in data.
        table: usize,
    },
    /// A UTC timestamp in `[from_s, from_s + span_s]`, uniform or skewed to recent times.
    Timestamp {
        from_s: i64,
        span_s: i64,
        recent: Option<Recent>,
    },
    /// A date in `[from_day, from_day + span_days]` (days since 1970-01-01), uniform or
    /// skewed to recent days.
    Date {
        from_day: i64,
        span_days: i64,
        recent: Option<Recent>,
    },
    /// Fake text.
    Fake(FakeKind, usize, usize),
    /// A random (version 4) UUID.
    Uuid,
    /// Random letters and digits, length in `[min, max]`.
    Str(usize, usize),
    /// `min..=max` words of a generated vocabulary, drawn zipfian, joined by spaces.
    Text {
        vocabulary: Arc<Vocabulary>,
        min: usize,
        max: usize,
    },
    /// A JSON object of generated fields.
    Json(Vec<(String, Gen)>),
    /// An array (JSON inside `json`, a PostgreSQL array literal elsewhere).
    Array(Box<Gen>, usize, usize),
    /// A pgvector vector of `dims` floats uniform in `[lo, hi]`.
    Vector { dims: usize, lo: f64, hi: f64 },
    /// A vector near one of a set of cluster centres; the cluster is kept for
    /// `cluster_of`.
    Clustered(Arc<super::vecdata::Clustered>),
    /// Rows of a vector file (`.fvecs`, `.npy`): row `first + (n - 1) % count` for loaded
    /// row n, a random one of the range at run time.
    FileVector {
        file: Arc<super::vecdata::VectorFile>,
        first: usize,
        count: usize,
    },
    /// The cluster of the row's clustered vector as a label: `cluster % buckets + 1`,
    /// replaced by a random label with probability `mislabel`.
    ClusterOf { buckets: u32, mislabel: f64 },
    /// Always the same value.
    Constant(Value),
    /// NULL with probability `ratio`, otherwise the inner generator.
    Nullable(f64, Box<Gen>),
    /// The value of an earlier column of the same row (loading only).
    SameAs(usize),
    /// Text with earlier columns of the same row put in (loading only); `bytes` bounds
    /// the result (the text plus the columns it names).
    Template { pieces: Vec<Piece>, bytes: u64 },
    /// A generator chosen by the text of an earlier column of the same row (loading
    /// only): `values` sorted by key; `default` (else NULL) when no key matches.
    Pick {
        column: usize,
        values: Vec<(String, Gen)>,
        default: Option<Box<Gen>>,
    },
    /// `(column * multiply + add) mod modulo` of an earlier numeric column of the same
    /// row (loading only); integers stay integers when every number given is one.
    Derived {
        column: usize,
        multiply: Num,
        add: Num,
        modulo: Option<Num>,
        kind: OutKind,
    },
    /// A column of the row an earlier foreign-key column of this row refers to, made
    /// again from the parent table's generators (loading only; nothing is read back).
    Parent {
        /// The earlier column holding the parent's key.
        key: usize,
        /// The parent key's sequence (start, step): a key's row number.
        start: i64,
        step: i64,
        /// The parent's position in data.
        table: usize,
        /// The parent's generators up to the column taken (the last).
        columns: Arc<[Gen]>,
        /// Whether those read earlier columns of the parent row.
        reads_row: bool,
        kind: OutKind,
    },
}

/// Kinds of fake text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FakeKind {
    /// Full name.
    Name,
    FirstName,
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
    City,
    State,
    Country,
    CountryCode,
    /// Zip code.
    Zip,
    /// Street, city, state and zip on one line.
    Address,
    /// Company name.
    Company,
    Industry,
    Profession,
    JobTitle,
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
    FileName,
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

impl Gen {
    /// The kind of value produced, for checks against parameter types.
    pub(crate) fn out_kind(&self) -> OutKind {
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
            Gen::Fake(..) | Gen::Str(..) | Gen::Text { .. } | Gen::Template { .. } => OutKind::Text,
            Gen::Uuid => OutKind::Typed("uuid"),
            Gen::Json(_) => OutKind::Typed("json"),
            Gen::Array(..) => OutKind::Typed("array"),
            Gen::Vector { .. } | Gen::Clustered(_) | Gen::FileVector { .. } => {
                OutKind::Typed("vector")
            }
            Gen::ClusterOf { .. } => OutKind::Int,
            Gen::Nullable(_, g) => g.out_kind(),
            Gen::SameAs(_) => OutKind::Any,
            Gen::Pick {
                values, default, ..
            } => {
                let mut kinds = values
                    .iter()
                    .map(|(_, g)| g)
                    .chain(default.as_deref())
                    .map(Gen::out_kind);
                match kinds.next() {
                    Some(k) if kinds.all(|o| o == k) => k,
                    _ => OutKind::Any,
                }
            }
            Gen::Derived { kind, .. } | Gen::Parent { kind, .. } => *kind,
        }
    }

    /// Whether the generator reads earlier columns of its row (`same_as`, `template`,
    /// `pick`, `derived`, at any depth): the loader then keeps the row's values.
    pub(crate) fn reads_row(&self) -> bool {
        match self {
            Gen::SameAs(_)
            | Gen::Template { .. }
            | Gen::Pick { .. }
            | Gen::Derived { .. }
            | Gen::Parent { .. } => true,
            Gen::Json(fields) => fields.iter().any(|(_, g)| g.reads_row()),
            Gen::Array(of, ..) => of.reads_row(),
            Gen::Nullable(_, g) => g.reads_row(),
            _ => false,
        }
    }

    /// An upper bound of the bytes of one value in its text form (COPY or JSON escaping
    /// included, about). `same_as` counts 0: the column it copies is counted.
    pub(crate) fn max_bytes(&self) -> u64 {
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
            Gen::Text {
                vocabulary, max, ..
            } => (*max as u64).saturating_mul(vocabulary.longest() as u64 + 1),
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
            Gen::Clustered(c) => c.dims() as u64 * 16 + 2,
            Gen::FileVector { file, .. } => file.dims() as u64 * 16 + 2,
            Gen::ClusterOf { .. } => 11,
            Gen::Constant(v) => text(v) * 2,
            Gen::Nullable(_, g) => g.max_bytes(),
            Gen::SameAs(_) => 0,
            Gen::Template { bytes, .. } => *bytes,
            Gen::Pick {
                values, default, ..
            } => values
                .iter()
                .map(|(_, g)| g)
                .chain(default.as_deref())
                .map(Gen::max_bytes)
                .max()
                .unwrap_or(0),
            Gen::Derived { .. } => FLOAT_BYTES,
            Gen::Parent { columns, .. } => columns.last().map_or(0, Gen::max_bytes),
        }
    }
}
