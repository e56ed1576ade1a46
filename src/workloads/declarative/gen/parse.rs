//! Generators parsed from their YAML spelling, every problem reported with its path.

use serde::Deserialize;

use super::*;
use crate::core::registry::parse_section_lenient;

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
    /// Lognormal: the mean of `ln x`.
    mu: Option<f64>,
    /// Lognormal: the standard deviation of `ln x`.
    sigma: Option<f64>,
    /// Lognormal: `e^mu`, instead of mu.
    median: Option<f64>,
    /// Zipfian: spread the hot values over the range.
    scramble: Option<bool>,
    /// Zipfian: keys the scrambling permutation.
    seed: Option<u64>,
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
    scramble: Option<bool>,
    seed: Option<u64>,
    new_rows: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ParentArgs {
    key: String,
    column: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RangeArgs {
    from: String,
    to: String,
    skew: Option<Skew>,
    half_life: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Skew {
    /// Times denser toward `to`, halving every `half_life` back.
    Recent,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct TextArgs {
    /// A count (`8`), a range (`5..20`) or `{min, max}`.
    words: Option<serde_yaml::Value>,
    vocabulary: Option<usize>,
    theta: Option<f64>,
    seed: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct MinMaxArgs {
    min: Option<usize>,
    max: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct PickArgs {
    by: String,
    values: serde_yaml::Mapping,
    default: Option<serde_yaml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct DerivedArgs {
    column: String,
    multiply: Option<serde_yaml::Number>,
    add: Option<serde_yaml::Number>,
    modulo: Option<serde_yaml::Number>,
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
    /// Clustered: how many centres.
    clusters: Option<usize>,
    /// Clustered: root-mean-square distance of a point from its centre.
    spread: Option<f64>,
    /// Clustered: scale every vector to unit length.
    normalize: Option<bool>,
    /// Clustered: cluster c has weight 1/(c+1)^skew.
    skew: Option<f64>,
    /// Clustered: fixes the centres (data and queries drawn from the same centres).
    seed: Option<u64>,
    /// A `.fvecs` or `.npy` file, relative to the workload folder.
    file: Option<String>,
    /// File: the first row used (0-based).
    first_row: Option<usize>,
    /// File: how many rows from `first_row` (default: to the end).
    rows: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ClusterOfArgs {
    /// Labels 1..=buckets (default: one per cluster, 1_000_000 at most).
    buckets: Option<u32>,
    /// Share of rows given a random label instead (default 0).
    mislabel: Option<f64>,
}

/// Parses the generator at `path`; pushes every problem (prefixed by its YAML path) and
/// returns `None` when it cannot be compiled.
pub(crate) fn parse(
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
        "uniform" | "zipfian" | "gaussian" | "exponential" | "lognormal" => {
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
        "timestamp" | "date" => time_range(name, v, p, errors),
        "fake" => fake(v, p, errors),
        "uuid" => Some(Gen::Uuid),
        "string" => {
            let a: LenArgs = args(v, p, errors);
            let (min, max) = lengths(a.min_length, a.max_length, 10, MAX_STRING_LENGTH, p, errors);
            Some(Gen::Str(min, max))
        }
        "text" => text(v, p, errors),
        "json" => json(v, p, ctx, errors),
        "array" => {
            let a: ArrayArgs = args(v, p, errors);
            let (min, max) = lengths(a.min_length, a.max_length, 3, MAX_ARRAY_LENGTH, p, errors);
            let of = parse(&a.of, &format!("{p}.of"), ctx, errors)?;
            Some(Gen::Array(Box::new(of), min, max))
        }
        "vector" => vector(v, p, ctx, errors),
        "cluster_of" => {
            let a: ClusterOfArgs = args(v, p, errors);
            let buckets = a.buckets.unwrap_or(1_000_000);
            let mislabel = a.mislabel.unwrap_or(0.0);
            if buckets == 0 {
                errors.push(format!("{p}.buckets: must be at least 1"));
            }
            if !(0.0..=1.0).contains(&mislabel) {
                errors.push(format!(
                    "{p}.mislabel: must be between 0 and 1 (got {mislabel})"
                ));
            }
            Some(Gen::ClusterOf {
                buckets: buckets.max(1),
                mislabel,
            })
        }
        "same_as" => same_as(v, p, ctx, errors),
        "template" => template(v, p, ctx, errors),
        "pick" => pick(v, p, ctx, errors),
        "derived" => derived(v, p, ctx, errors),
        "parent" => parent(v, p, ctx, errors),
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

fn time_range(name: &str, v: &serde_yaml::Value, p: &str, errors: &mut Vec<String>) -> Option<Gen> {
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

/// `text`: words of a generated vocabulary, drawn zipfian.
fn text(v: &serde_yaml::Value, p: &str, errors: &mut Vec<String>) -> Option<Gen> {
    let a: TextArgs = args(v, p, errors);
    let (min, max) = word_counts(a.words.as_ref(), &format!("{p}.words"), errors)?;
    let size = a.vocabulary.unwrap_or(5000);
    if !(1..=MAX_VOCABULARY).contains(&size) {
        errors.push(format!(
            "{p}.vocabulary: must be between 1 and {MAX_VOCABULARY} words (got {size})"
        ));
        return None;
    }
    let theta = a.theta.unwrap_or(1.0);
    if !(0.0..=5.0).contains(&theta) {
        errors.push(format!(
            "{p}.theta: must be between 0 (every word equally likely) and 5 (got {theta})"
        ));
        return None;
    }
    Some(Gen::Text {
        vocabulary: Arc::new(Vocabulary::new(size, theta, a.seed.unwrap_or(0))),
        min,
        max,
    })
}

/// `words` of a `text`: `8`, `5..20` (or `5..=20`) or `{min: 5, max: 20}` (5..20 when
/// not given).
fn word_counts(
    v: Option<&serde_yaml::Value>,
    p: &str,
    errors: &mut Vec<String>,
) -> Option<(usize, usize)> {
    use serde_yaml::Value as Y;
    let range = |s: &str| -> Option<(usize, usize)> {
        let (a, b) = s.split_once("..")?;
        let b = b.strip_prefix('=').unwrap_or(b);
        Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
    };
    let (min, max) = match v {
        None => (5, 20),
        Some(Y::Number(n)) if n.as_u64().is_some() => {
            let k = n.as_u64().unwrap_or_default() as usize;
            (k, k)
        }
        Some(Y::String(s)) if range(s).is_some() => range(s).unwrap_or_default(),
        Some(m @ Y::Mapping(_)) => {
            let a: MinMaxArgs = args(m, p, errors);
            match (a.min, a.max) {
                (Some(min), Some(max)) => (min, max),
                _ => {
                    errors.push(format!(
                        "{p}: give both min and max, e.g. {{min: 5, max: 20}}"
                    ));
                    return None;
                }
            }
        }
        Some(_) => {
            errors.push(format!(
                "{p}: expected a count (8), a range (5..20) or {{min: 5, max: 20}}"
            ));
            return None;
        }
    };
    if min > max {
        errors.push(format!("{p}: min ({min}) is greater than max ({max})"));
        return None;
    }
    if max > MAX_TEXT_WORDS {
        errors.push(format!("{p}: at most {MAX_TEXT_WORDS} words (got {max})"));
        return None;
    }
    Some((min, max))
}

fn fake(v: &serde_yaml::Value, p: &str, errors: &mut Vec<String>) -> Option<Gen> {
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

fn json(
    v: &serde_yaml::Value,
    p: &str,
    ctx: &mut Ctx<'_>,
    errors: &mut Vec<String>,
) -> Option<Gen> {
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

fn vector(v: &serde_yaml::Value, p: &str, ctx: &Ctx<'_>, errors: &mut Vec<String>) -> Option<Gen> {
    let a: VectorArgs = args(v, p, errors);
    if let Some(f) = &a.file {
        return file_vector(&a, f, p, ctx, errors);
    }
    if a.first_row.is_some() || a.rows.is_some() {
        errors.push(format!("{p}: first_row and rows go with file"));
    }
    if a.dimensions == 0 || a.dimensions > 16_000 {
        errors.push(format!(
            "{p}.dimensions: must be between 1 and 16000 (got {})",
            a.dimensions
        ));
    }
    let clustered = a.clusters.is_some()
        || a.spread.is_some()
        || a.normalize.is_some()
        || a.skew.is_some()
        || a.seed.is_some();
    if clustered {
        if a.min.is_some() || a.max.is_some() {
            errors.push(format!(
                "{p}: min and max are for uniform vectors; a clustered one has clusters, spread, normalize, skew and seed"
            ));
        }
        let spec = super::super::vecdata::ClusterSpec {
            dims: a.dimensions,
            clusters: a.clusters.unwrap_or(100),
            spread: a.spread.unwrap_or(0.5),
            normalize: a.normalize.unwrap_or(false),
            skew: a.skew.unwrap_or(0.0),
            seed: a.seed.unwrap_or(1),
        };
        return match super::super::vecdata::Clustered::new(&spec) {
            Ok(c) => Some(Gen::Clustered(Arc::new(c))),
            Err(e) => {
                errors.push(format!("{p}: {e}"));
                None
            }
        };
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

/// `vector: {file: ...}`: rows of a vector file, read once per process.
fn file_vector(
    a: &VectorArgs,
    f: &str,
    p: &str,
    ctx: &Ctx<'_>,
    errors: &mut Vec<String>,
) -> Option<Gen> {
    let path = ctx.dir.join(f);
    let file = match open_shared(&path) {
        Ok(file) => file,
        Err(e) => {
            errors.push(format!("{p}.file: {e}"));
            return None;
        }
    };
    if a.dimensions != 0 && a.dimensions != file.dims() {
        errors.push(format!(
            "{p}.dimensions: {} but {f} holds vectors of {} dimensions; drop dimensions or make it {}",
            a.dimensions,
            file.dims(),
            file.dims()
        ));
    }
    let first = a.first_row.unwrap_or(0);
    if first >= file.rows() {
        errors.push(format!(
            "{p}.first_row: {first} but {f} has {} rows",
            file.rows()
        ));
        return None;
    }
    let count = a.rows.unwrap_or(file.rows() - first);
    if count == 0 || first + count > file.rows() {
        errors.push(format!(
            "{p}.rows: rows {first}..{} are not all in {f}, which has {} rows",
            first + count,
            file.rows()
        ));
        return None;
    }
    Some(Gen::FileVector { file, first, count })
}

/// Vector files read so far, by path: a file named by several generators (the items and
/// the held-out queries) is read once.
fn open_shared(path: &std::path::Path) -> Result<Arc<super::super::vecdata::VectorFile>, String> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    type Files = Mutex<HashMap<std::path::PathBuf, Arc<super::super::vecdata::VectorFile>>>;
    static OPEN: OnceLock<Files> = OnceLock::new();
    let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let open = OPEN.get_or_init(Default::default);
    if let Some(f) = open.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(f.clone());
    }
    let f = Arc::new(super::super::vecdata::VectorFile::open(path)?);
    open.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, f.clone());
    Ok(f)
}

fn same_as(v: &serde_yaml::Value, p: &str, ctx: &Ctx<'_>, errors: &mut Vec<String>) -> Option<Gen> {
    let col = v.as_str().unwrap_or_default();
    let cols = row_columns("same_as", p, ctx, errors)?;
    let i = earlier_column(col, cols, p, errors)?;
    Some(Gen::SameAs(i))
}

/// The earlier columns of the row, for a generator that reads them; outside data tables,
/// an error.
fn row_columns<'a>(
    name: &str,
    p: &str,
    ctx: &Ctx<'a>,
    errors: &mut Vec<String>,
) -> Option<&'a [String]> {
    if ctx.columns.is_none() {
        errors.push(format!(
            "{p}: {name} only applies to data columns (it reads earlier columns of the same row); in a transaction use vars to share a value"
        ));
    }
    ctx.columns
}

/// The position of the earlier column `col`, or an error listing the earlier columns.
fn earlier_column(col: &str, cols: &[String], p: &str, errors: &mut Vec<String>) -> Option<usize> {
    let i = cols.iter().position(|c| c == col);
    if i.is_none() {
        errors.push(format!(
            "{p}: no earlier column '{col}' in this table; columns before this one: {}",
            if cols.is_empty() {
                "none".to_string()
            } else {
                cols.join(", ")
            }
        ));
    }
    i
}

/// An upper bound of the bytes of column `i`'s values, through `same_as` copies.
fn column_bytes(gens: &[Gen], mut i: usize) -> u64 {
    for _ in 0..=gens.len() {
        let g = match gens.get(i) {
            Some(Gen::Nullable(_, g)) => g.as_ref(),
            Some(g) => g,
            None => return 0,
        };
        match g {
            Gen::SameAs(j) if *j < i => i = *j,
            g => return g.max_bytes(),
        }
    }
    0
}

/// `template: "{last_name}, {first_name}"`: `{column}` (letters, digits and _ in single
/// braces) is an earlier column's value; every other character, other braces included, is
/// kept as written.
fn template(
    v: &serde_yaml::Value,
    p: &str,
    ctx: &Ctx<'_>,
    errors: &mut Vec<String>,
) -> Option<Gen> {
    let cols = row_columns("template", p, ctx, errors)?;
    let Some(text) = v.as_str() else {
        errors.push(format!(
            "{p}: expected text naming earlier columns in single braces, e.g. template: \"{{last_name}}, {{first_name}}\""
        ));
        return None;
    };
    let before = errors.len();
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut bytes = 0u64;
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if len == 0 || !after[len..].starts_with('}') {
            literal.push_str(&rest[..=open]);
            rest = after;
            continue;
        }
        literal.push_str(&rest[..open]);
        if let Some(i) = earlier_column(&after[..len], cols, p, errors) {
            if !literal.is_empty() {
                bytes += 2 * literal.len() as u64;
                pieces.push(Piece::Text(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Column(i));
            bytes = bytes.saturating_add(column_bytes(ctx.column_gens, i));
        }
        rest = &after[len + 1..];
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        bytes += 2 * literal.len() as u64;
        pieces.push(Piece::Text(literal));
    }
    (errors.len() == before).then_some(Gen::Template { pieces, bytes })
}

/// `pick: {by: COLUMN, values: {VALUE: generator, ...}, default: generator}`.
fn pick(
    v: &serde_yaml::Value,
    p: &str,
    ctx: &mut Ctx<'_>,
    errors: &mut Vec<String>,
) -> Option<Gen> {
    let cols = row_columns("pick", p, ctx, errors)?;
    let a: PickArgs = args(v, p, errors);
    let column = if a.by.is_empty() {
        errors.push(format!(
            "{p}.by: missing; name the earlier column whose value picks the generator"
        ));
        None
    } else {
        earlier_column(&a.by, cols, &format!("{p}.by"), errors)
    };
    if a.values.is_empty() {
        errors.push(format!(
            "{p}.values: give at least one VALUE: generator, e.g. values: {{3: {{choice: [Drama, Comedy]}}}}"
        ));
    }
    let mut values: Vec<(String, Gen)> = Vec::with_capacity(a.values.len());
    for (k, g) in &a.values {
        let key = match scalar(k) {
            Some(Value::Null) | None => {
                errors.push(format!(
                    "{p}.values: keys must be numbers, text or booleans; NULL values take the default"
                ));
                continue;
            }
            Some(v) => {
                let mut s = String::new();
                v.push_text(&mut s);
                s
            }
        };
        let Some(g) = parse(g, &format!("{p}.values.{key}"), ctx, errors) else {
            continue;
        };
        if values.iter().any(|(x, _)| *x == key) {
            errors.push(format!(
                "{p}.values.{key}: given twice (keys are compared as text: 3 and '3' are the same); keep one"
            ));
            continue;
        }
        values.push((key, g));
    }
    let default = match &a.default {
        Some(d) => Some(Box::new(parse(d, &format!("{p}.default"), ctx, errors)?)),
        None => None,
    };
    values.sort_by(|x, y| x.0.cmp(&y.0));
    Some(Gen::Pick {
        column: column?,
        values,
        default,
    })
}

/// `parent: {key: C, column: P}`: column P of the row that the earlier foreign-key
/// column C refers to, made again from the parent table's generators.
fn parent(v: &serde_yaml::Value, p: &str, ctx: &Ctx<'_>, errors: &mut Vec<String>) -> Option<Gen> {
    let cols = row_columns("parent", p, ctx, errors)?;
    let a: ParentArgs = args(v, p, errors);
    if a.key.is_empty() || a.column.is_empty() {
        errors.push(format!(
            "{p}: give key (an earlier foreign-key column of this row) and column (the parent's column), e.g. parent: {{key: product_id, column: price}}"
        ));
        return None;
    }
    let key = earlier_column(&a.key, cols, &format!("{p}.key"), errors)?;
    let fk = match ctx.column_gens.get(key) {
        Some(Gen::Nullable(_, g)) => g.as_ref(),
        g => g?,
    };
    let Gen::ForeignKey {
        start, step, table, ..
    } = fk
    else {
        errors.push(format!(
            "{p}.key: '{}' is not a foreign_key column; parent follows a foreign key to its row",
            a.key
        ));
        return None;
    };
    let (start, step) = (*start, *step);
    // the parent's rows are made again from its generators: it is an earlier data table
    let name = &ctx.tables[*table].name;
    let Some((table, t)) = ctx
        .parents
        .iter()
        .enumerate()
        .find(|(_, t)| t.name == *name)
    else {
        errors.push(format!(
            "{p}.key: its foreign key's table '{name}' must come before this table in data (its rows are made again from its generators)"
        ));
        return None;
    };
    let names: Vec<&str> = t.names.iter().map(String::as_str).collect();
    let Some(c) = names.iter().position(|n| *n == a.column) else {
        errors.push(format!(
            "{p}.column: table '{}' has no column '{}'; its columns: {}",
            t.name,
            a.column,
            names.join(", ")
        ));
        return None;
    };
    let columns: Arc<[Gen]> = t.columns[..=c].iter().cloned().collect();
    let kind = columns[c].out_kind();
    Some(Gen::Parent {
        key,
        start,
        step,
        table,
        reads_row: columns.iter().any(Gen::reads_row),
        columns,
        kind,
    })
}

/// `derived: {column: C, multiply: Y, add: X, modulo: M}`: `(C * Y + X) mod M`.
fn derived(v: &serde_yaml::Value, p: &str, ctx: &Ctx<'_>, errors: &mut Vec<String>) -> Option<Gen> {
    let cols = row_columns("derived", p, ctx, errors)?;
    let a: DerivedArgs = args(v, p, errors);
    let before = errors.len();
    let num =
        |n: &Option<serde_yaml::Number>, key: &str, default: i64, errors: &mut Vec<String>| {
            let Some(n) = n else {
                return Num::Int(default);
            };
            match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Num::Int(i),
                (None, Some(x)) if x.is_finite() => Num::Float(x),
                _ => {
                    errors.push(format!("{p}.{key}: must be a finite number (got {n})"));
                    Num::Int(default)
                }
            }
        };
    let multiply = num(&a.multiply, "multiply", 1, errors);
    let add = num(&a.add, "add", 0, errors);
    let modulo = a
        .modulo
        .as_ref()
        .map(|_| num(&a.modulo, "modulo", 1, errors));
    if let Some(m) = modulo.filter(|m| m.f() <= 0.0) {
        let m = match m {
            Num::Int(i) => i.to_string(),
            Num::Float(x) => x.to_string(),
        };
        errors.push(format!(
            "{p}.modulo: must be positive (got {m}); the result is the remainder in 0..modulo"
        ));
    }
    let column = if a.column.is_empty() {
        errors.push(format!(
            "{p}.column: missing; name the earlier numeric column to derive from"
        ));
        None
    } else {
        earlier_column(&a.column, cols, &format!("{p}.column"), errors)
    };
    let column = column?;
    let source = ctx
        .column_gens
        .get(column)
        .map_or(OutKind::Any, Gen::out_kind);
    if !matches!(source, OutKind::Int | OutKind::Float | OutKind::Any) {
        errors.push(format!(
            "{p}.column: '{}' holds {} values; derived needs a numeric column",
            a.column,
            source.name()
        ));
    }
    let float = [Some(multiply), Some(add), modulo]
        .iter()
        .any(|n| matches!(n, Some(Num::Float(_))));
    let kind = if float || source == OutKind::Float {
        OutKind::Float
    } else {
        source
    };
    (errors.len() == before).then_some(Gen::Derived {
        column,
        multiply,
        add,
        modulo,
        kind,
    })
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
pub(crate) fn scalar(v: &serde_yaml::Value) -> Option<Value> {
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
    numeric_bounds(a, p, float, errors)?;
    let need = |v: Option<f64>, key: &str, errors: &mut Vec<String>| {
        if v.is_none() {
            errors.push(format!("{p}.{key}: missing; {name} needs {key}"));
        }
        v.unwrap_or(0.0)
    };
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
    let lo = a.min.unwrap_or(f64::MIN);
    let hi = a.max.unwrap_or(f64::MAX);
    let dist = match name {
        "uniform" => {
            let (lo, hi) = (need(a.min, "min", errors), need(a.max, "max", errors));
            NumDist::Uniform { lo, hi }
        }
        "zipfian" => {
            if float {
                errors.push(format!(
                    "{p}.type: zipfian draws integers; remove type: float"
                ));
            }
            let (lo, hi) = (need(a.min, "min", errors), need(a.max, "max", errors));
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
            let scramble = a.scramble.unwrap_or(false);
            if a.seed.is_some() && !scramble {
                errors.push(format!(
                    "{p}.seed: only applies with scramble: true; add scramble: true or remove seed"
                ));
            }
            let n = (hi - lo) as u64 + 1;
            NumDist::Zipf {
                lo: lo as i64,
                z: Arc::new(Zipfian::new(n, theta)),
                scramble: scramble.then(|| Permutation::new(n, a.seed.unwrap_or(0))),
            }
        }
        "gaussian" => {
            let mean = need(a.mean, "mean", errors);
            let sd = need(a.stddev, "stddev", errors);
            match rand_distr::Normal::new(mean, sd) {
                Ok(normal) if sd > 0.0 => NumDist::Gauss { normal, lo, hi },
                _ => {
                    errors.push(format!("{p}.stddev: must be a positive number (got {sd})"));
                    return None;
                }
            }
        }
        "lognormal" => {
            let mu = match (a.mu, a.median) {
                (Some(_), Some(_)) => {
                    errors.push(format!("{p}: give mu or median (median = e^mu), not both"));
                    return None;
                }
                (Some(mu), None) => mu,
                (None, Some(m)) if m > 0.0 => m.ln(),
                (None, Some(m)) => {
                    errors.push(format!("{p}.median: must be a positive number (got {m})"));
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
                Ok(dist) if sigma > 0.0 => NumDist::LogNormal { dist, lo, hi },
                _ => {
                    errors.push(format!(
                        "{p}.sigma: must be a positive number (got {sigma})"
                    ));
                    return None;
                }
            }
        }
        _ => {
            let mean = need(a.mean, "mean", errors);
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
    let Some((table, t)) = ctx
        .tables
        .iter()
        .enumerate()
        .find(|(_, t)| t.name == a.table)
    else {
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
    let scramble = a.scramble.unwrap_or(false);
    if a.seed.is_some() && !scramble {
        errors.push(format!(
            "{p}.seed: only applies with scramble: true; add scramble: true or remove seed"
        ));
    }
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
            if scramble {
                errors.push(format!(
                    "{p}.scramble: only applies to distribution: zipfian (a uniform draw has no hot keys to spread)"
                ));
            }
            None
        }
    };
    let new_rows = match a.new_rows {
        None => None,
        Some(_) if ctx.columns.is_some() => {
            errors.push(format!(
                "{p}.new_rows: only in transactions (data is loaded before any row is inserted by the run); remove it here"
            ));
            None
        }
        Some(share) if !(0.0..=1.0).contains(&share) => {
            errors.push(format!(
                "{p}.new_rows: a share between 0 and 1 of the draws (got {share})"
            ));
            None
        }
        Some(share) => {
            let _ = t.new_keys.drawn_by.set(format!("{p}.new_rows"));
            Some((share, t.new_keys.clone()))
        }
    };
    let rows = t.rows.max(1);
    // keyed by the table's name: every foreign key into the table has the same hot rows
    let key = crate::core::derive_seed(crate::core::name_key(&t.name), a.seed.unwrap_or(0));
    Some(Gen::ForeignKey {
        start: *start,
        step: *step,
        rows,
        scramble: (scramble && zipf.is_some()).then(|| Permutation::new(rows, key)),
        zipf,
        new_rows,
        table,
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
