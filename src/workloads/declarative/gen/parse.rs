//! Generators parsed from their YAML spelling, every problem reported with its path.

use serde::Deserialize;

use super::*;
use crate::core::registry::parse_section_lenient;
use crate::workloads::declarative::{resume::Resume, sql::plain_identifier};

mod dist;
mod row;
mod time;

use dist::{choice, foreign_key, numeric};
use row::{derived, parent, pick, same_as, template};
use time::time_range;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct SeqArgs {
    start: Option<i64>,
    step: Option<i64>,
    after: Option<String>,
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

/// `after: TABLE.COLUMN` of a run-time sequence: bind it to that column.
fn sequence_after(
    after: &str,
    (slot, start, step): (usize, i64, i64),
    p: &str,
    ctx: &mut Ctx<'_>,
    errors: &mut Vec<String>,
) {
    if ctx.columns.is_some() {
        errors.push(format!(
            "{p}.after: only in transactions (loading numbers the rows itself); remove it here"
        ));
        return;
    }
    match after.rsplit_once('.') {
        Some((table, column))
            if plain_identifier(table)
                && plain_identifier(column) =>
        {
            ctx.resumes.push(Resume {
                slot,
                start,
                step,
                table: table.to_string(),
                column: column.to_string(),
            });
        }
        _ => errors.push(format!(
            "{p}.after: '{after}' must be TABLE.COLUMN in lower case (the column whose largest value the run's keys start past)"
        )),
    }
}

fn parse_one(
    name: &str,
    v: &serde_yaml::Value,
    p: &str,
    ctx: &mut Ctx<'_>,
    errors: &mut Vec<String>,
) -> Option<Gen> {
    match name {
        "sequence" => sequence(v, p, ctx, errors),
        "uniform" | "zipfian" | "gaussian" | "exponential" | "lognormal" => {
            let a: NumArgs = args(v, p, errors);
            numeric(name, &a, p, errors)
        }
        "boolean" => {
            let a: BoolArgs = args(v, p, errors);
            let r = a.true_ratio.unwrap_or(0.5);
            if !(0.0..=1.0).contains(&r) {
                errors.push(format!(
                    "{p}.true_ratio: must be between 0 and 1 (got {})",
                    crate::core::Shown(r)
                ));
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
        "cluster_of" => cluster_of(v, p, errors),
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

/// `sequence`: `start + (row-1)*step` when loading, a per-worker counter when running.
fn sequence(
    v: &serde_yaml::Value,
    p: &str,
    ctx: &mut Ctx<'_>,
    errors: &mut Vec<String>,
) -> Option<Gen> {
    let a: SeqArgs = args(v, p, errors);
    let slot = ctx.sequences;
    ctx.sequences += 1;
    let (start, step) = (a.start.unwrap_or(1), a.step.unwrap_or(1));
    if let Some(after) = &a.after {
        sequence_after(after, (slot, start, step), p, ctx, errors);
    }
    Some(Gen::Sequence {
        start,
        step,
        slot,
        overflow: crate::core::intern(&format!(
            "{p}: the sequence passed the bigint range ({}..{}); lower start or step",
            i64::MIN,
            i64::MAX
        )),
    })
}

/// `cluster_of`: the label of the row's vector cluster (1..=buckets), a share of rows mislabelled.
fn cluster_of(v: &serde_yaml::Value, p: &str, errors: &mut Vec<String>) -> Option<Gen> {
    let a: ClusterOfArgs = args(v, p, errors);
    let buckets = a.buckets.unwrap_or(1_000_000);
    let mislabel = a.mislabel.unwrap_or(0.0);
    if buckets == 0 {
        errors.push(format!("{p}.buckets: must be at least 1"));
    }
    if !(0.0..=1.0).contains(&mislabel) {
        errors.push(format!(
            "{p}.mislabel: must be between 0 and 1 (got {})",
            crate::core::Shown(mislabel)
        ));
    }
    Some(Gen::ClusterOf {
        buckets: buckets.max(1),
        mislabel,
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
            "{p}.theta: must be between 0 (every word equally likely) and 5 (got {})",
            crate::core::Shown(theta)
        ));
        return None;
    }
    Some(Gen::Text {
        vocabulary: Vocabulary::shared(size, theta, a.seed.unwrap_or(0)),
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
