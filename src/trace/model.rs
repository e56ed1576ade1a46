//! The learned workload model: templates with their parameter distributions, a Markov chain
//! over templates within a session (order 1 or 2, with START/END), think times, session
//! lengths and statement durations. Serialized as JSON.

use std::collections::HashMap;

use rand::rngs::SmallRng;
use rand::{Rng as _, SeedableRng as _};
use serde::{Deserialize, Serialize};

use super::generate::MAX_STATEMENTS;
use super::normalize::{normalize, quote_literal, Param, ParamKind, QueryType};
use super::parse::{Event, Malformed, MAX_STATEMENT_BYTES};

/// Model file format version.
pub(crate) const MODEL_VERSION: u32 = 1;
/// A parameter slot with at most this many distinct values is modelled as categorical.
pub(crate) const CATEGORICAL_MAX: usize = 50;
/// Distinct values kept per parameter slot: value pools keep at most this many strings.
pub(crate) const POOL_MAX: usize = 1000;
/// Numeric parameters and durations keep a uniform sample of at most this many values per
/// slot or template; the quantiles are taken from it.
pub(crate) const SAMPLE_MAX: usize = 1 << 20;
/// Placeholders of one template with a slot model of their own. A template with more (a long
/// multi-row `VALUES` list) reuses the slots cyclically; 2520 is a multiple of 1 to 10, so the
/// columns of rows up to 10 wide stay aligned.
pub(crate) const SLOTS_MAX: usize = 2520;
/// Empirical distributions keep at most this many quantile points.
pub(crate) const QUANTILES: usize = 1001;
/// START and END states in transition rows.
pub(crate) const BOUNDARY: i64 = -1;

/// An empirical continuous distribution as equal-mass quantile points (linear between them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Empirical {
    /// Samples seen.
    pub(crate) count: u64,
    /// Non-decreasing quantile points from the minimum to the maximum.
    pub(crate) quantiles: Vec<f64>,
}

impl Empirical {
    /// Builds from samples (sorts them).
    pub(crate) fn from_samples(mut v: Vec<f64>) -> Empirical {
        v.retain(|x| x.is_finite());
        v.sort_by(f64::total_cmp);
        let quantiles = if v.len() <= QUANTILES {
            v.clone()
        } else {
            (0..QUANTILES)
                .map(|k| v[k * (v.len() - 1) / (QUANTILES - 1)])
                .collect()
        };
        Empirical {
            count: v.len() as u64,
            quantiles,
        }
    }

    /// The value at cumulative probability `u` in [0, 1).
    pub(crate) fn sample(&self, u: f64) -> f64 {
        let q = &self.quantiles;
        match q.len() {
            0 => 0.0,
            1 => q[0],
            n => {
                let x = u * (n - 1) as f64;
                let i = (x as usize).min(n - 2);
                let f = x - i as f64;
                q[i] + (q[i + 1] - q[i]) * f
            }
        }
    }
}

/// How one placeholder's values are drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum SlotModel {
    /// Few distinct values: each SQL literal with its count.
    Categorical {
        /// SQL literals, ready to splice.
        values: Vec<String>,
        /// Counts, same order.
        weights: Vec<u64>,
    },
    /// Numbers: an empirical distribution.
    Numeric {
        /// The distribution.
        dist: Empirical,
        /// All observed values were integers.
        integer: bool,
        /// Values were written as quoted strings ('42').
        quoted: bool,
        /// More values were seen than kept: the quantiles come from a uniform sample of
        /// [`SAMPLE_MAX`] of them.
        #[serde(default)]
        sampled: bool,
    },
    /// Many distinct strings: a uniform pool of SQL literals.
    Pool {
        /// SQL literals, ready to splice.
        values: Vec<String>,
        /// More distinct values were seen than the pool keeps ([`POOL_MAX`]).
        #[serde(default)]
        capped: bool,
    },
}

/// One statement template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TemplateModel {
    /// Index in the model's template list.
    pub(crate) id: usize,
    /// Normalized SQL with `$n` placeholders.
    pub(crate) sql: String,
    /// SQL class.
    pub(crate) query_type: QueryType,
    /// Occurrences in the log.
    pub(crate) count: u64,
    /// One model per placeholder: `$n` uses `slots[n - 1]`.
    pub(crate) slots: Vec<SlotModel>,
    /// The template has more than [`SLOTS_MAX`] placeholders: `$n` uses
    /// `slots[(n - 1) % slots.len()]`.
    #[serde(default)]
    pub(crate) cyclic_slots: bool,
    /// Logged durations in ms, when any.
    pub(crate) duration_ms: Option<Empirical>,
}

impl TemplateModel {
    /// The slot placeholder `$n` draws from, if it has one.
    pub(crate) fn slot_of(&self, n: usize) -> Option<usize> {
        let k = n.checked_sub(1)?;
        match self.slots.len() {
            len if k < len => Some(k),
            0 => None,
            len => self.cyclic_slots.then_some(k % len),
        }
    }
}

/// The `$n` placeholders of a template, as (byte range, n); n is 0 when it does not fit a
/// `usize`. A quoted identifier (`"a$1"`) is part of the SQL, not a placeholder.
pub(crate) fn placeholders(
    sql: &str,
) -> impl Iterator<Item = (std::ops::Range<usize>, usize)> + '_ {
    let b = sql.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < b.len() {
            let at = i;
            i += 1;
            if b[at] == b'"' {
                // `""` inside an identifier reads as a closing and an opening quote.
                i += b[i..]
                    .iter()
                    .position(|&c| c == b'"')
                    .map_or(b.len() - i, |k| k + 1);
                continue;
            }
            if b[at] != b'$' {
                continue;
            }
            let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits > 0 {
                i += digits;
                return Some((at..i, sql[at + 1..i].parse().unwrap_or(0)));
            }
        }
        None
    })
}

/// The limits the learner applied, recorded in the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Limits {
    /// Longest statement learned, in bytes; longer ones were counted as malformed.
    pub(crate) max_statement_bytes: usize,
    /// Placeholders per template with a slot of their own.
    pub(crate) slots_per_template: usize,
    /// Distinct values kept per slot.
    pub(crate) distinct_values_per_slot: usize,
    /// Values kept per numeric slot or duration distribution (a uniform sample).
    pub(crate) sample_per_distribution: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_statement_bytes: MAX_STATEMENT_BYTES,
            slots_per_template: SLOTS_MAX,
            distinct_values_per_slot: POOL_MAX,
            sample_per_distribution: SAMPLE_MAX,
        }
    }
}

/// One row of the transition matrix: a history of 1 or 2 states and the counts of the next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TransitionRow {
    /// Previous template ids, oldest first (`-1` = START).
    pub(crate) from: Vec<i64>,
    /// (next template id or `-1` = END, count).
    pub(crate) to: Vec<(i64, u64)>,
}

/// The learned model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// `stormbench x.y.z`, the tool that wrote it (empty in models written before it said).
    #[serde(default)]
    pub(crate) tool: String,
    /// File format version.
    pub(crate) version: u32,
    /// Markov order (1 or 2).
    pub(crate) order: usize,
    /// Statements learned from.
    pub statements: u64,
    /// Distinct sessions seen.
    pub(crate) sessions: u64,
    /// Templates by id.
    pub(crate) templates: Vec<TemplateModel>,
    /// Transition rows.
    pub(crate) transitions: Vec<TransitionRow>,
    /// Time between consecutive statements of a session, in ms (absent without timestamps).
    pub(crate) think_ms: Option<Empirical>,
    /// Statements per session.
    pub(crate) session_length: Empirical,
    /// Lines in the log.
    pub(crate) log_lines: u64,
    /// Malformed lines counted.
    pub(crate) malformed_count: u64,
    /// The first malformed lines.
    pub(crate) malformed: Vec<Malformed>,
    /// The limits applied while learning.
    #[serde(default)]
    pub(crate) limits: Limits,
}

/// A uniform sample of at most [`SAMPLE_MAX`] values (Vitter's algorithm R), so a
/// distribution learned from any number of values keeps bounded memory.
#[derive(Default)]
struct Reservoir {
    values: Vec<f64>,
    seen: u64,
}

impl Reservoir {
    fn add(&mut self, x: f64, rng: &mut SmallRng) {
        self.seen += 1;
        if self.values.len() < SAMPLE_MAX {
            self.values.push(x);
        } else {
            let j = rng.gen_range(0..self.seen);
            if let Some(v) = usize::try_from(j).ok().and_then(|j| self.values.get_mut(j)) {
                *v = x;
            }
        }
    }

    fn sampled(&self) -> bool {
        self.seen > self.values.len() as u64
    }
}

/// Accumulates raw values of one slot.
#[derive(Default)]
struct SlotAcc {
    distinct: HashMap<String, u64>,
    overflow: bool,
    numbers: Reservoir,
    all_numeric: bool,
    integer: bool,
    quoted: bool,
    /// Values that were `$n` placeholders without a logged value.
    unbound: u64,
}

impl SlotAcc {
    fn new() -> SlotAcc {
        SlotAcc {
            all_numeric: true,
            integer: true,
            ..SlotAcc::default()
        }
    }

    fn add(&mut self, p: &Param, rng: &mut SmallRng) {
        // A `$n` whose value the log did not hold says nothing about the values.
        if p.kind == ParamKind::Unbound {
            self.unbound += 1;
            return;
        }
        let num = match p.kind {
            ParamKind::Num | ParamKind::Str if self.all_numeric => {
                p.text.trim().parse::<f64>().ok()
            }
            _ => None,
        };
        match num {
            Some(x) if x.is_finite() => {
                self.numbers.add(x, rng);
                self.integer &= x.fract() == 0.0 && !p.text.contains(['.', 'e', 'E']);
                self.quoted |= p.kind == ParamKind::Str;
            }
            // Numbers only serve a slot whose values are all numeric.
            _ if self.all_numeric => {
                self.all_numeric = false;
                self.numbers = Reservoir::default();
            }
            _ => {}
        }
        let lit = literal(p);
        if self.distinct.len() < POOL_MAX || self.distinct.contains_key(&lit) {
            *self.distinct.entry(lit).or_insert(0) += 1;
        } else {
            self.overflow = true;
        }
    }

    fn finish(self) -> SlotModel {
        if self.distinct.is_empty() {
            return SlotModel::Categorical {
                values: vec![literal(&Param {
                    kind: ParamKind::Unbound,
                    text: String::new(),
                })],
                weights: vec![self.unbound.max(1)],
            };
        }
        if !self.overflow && self.distinct.len() <= CATEGORICAL_MAX {
            let mut pairs: Vec<(String, u64)> = self.distinct.into_iter().collect();
            pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let (values, weights) = pairs.into_iter().unzip();
            SlotModel::Categorical { values, weights }
        } else if self.all_numeric {
            SlotModel::Numeric {
                sampled: self.numbers.sampled(),
                dist: Empirical::from_samples(self.numbers.values),
                integer: self.integer,
                quoted: self.quoted,
            }
        } else {
            let mut values: Vec<String> = self.distinct.into_keys().collect();
            values.sort();
            values.truncate(POOL_MAX);
            SlotModel::Pool {
                values,
                capped: self.overflow,
            }
        }
    }
}

/// The SQL literal a parameter is replayed as; NULL for a `$n` whose value the log did not
/// hold, so generated SQL never has a placeholder left unbound.
pub(crate) fn literal(p: &Param) -> String {
    match p.kind {
        ParamKind::Num | ParamKind::List => p.text.clone(),
        ParamKind::Unbound => "NULL".to_string(),
        ParamKind::Str => {
            let mut s = String::with_capacity(p.text.len() + 2);
            quote_literal(&mut s, &p.text);
            s
        }
    }
}

/// Accumulates one template.
#[derive(Default)]
struct TemplateAcc {
    count: u64,
    /// Placeholders of the template (the same in each of its statements).
    params: usize,
    slots: Vec<SlotAcc>,
    durations: Reservoir,
}

impl TemplateAcc {
    fn add(&mut self, s: &Stmt, rng: &mut SmallRng) {
        self.count += 1;
        self.params = self.params.max(s.params.len());
        let want = s.params.len().min(SLOTS_MAX);
        if self.slots.len() < want {
            self.slots.resize_with(want, SlotAcc::new);
        }
        for (k, p) in s.params.iter().enumerate() {
            self.slots[k % SLOTS_MAX].add(p, rng);
        }
        if let Some(d) = s.duration_ms.filter(|d| d.is_finite()) {
            self.durations.add(d, rng);
        }
    }
}

/// One statement after normalization, as the validator and the learner see it.
#[derive(Debug, Clone)]
pub struct Stmt {
    /// Session key.
    pub(crate) session: String,
    /// Arrival time in ms, when known.
    pub(crate) ts_ms: Option<f64>,
    /// Template id (index into the learner's or validator's template table).
    pub(crate) template: usize,
    /// Extracted literals.
    pub(crate) params: Vec<Param>,
    /// Logged duration in ms.
    pub(crate) duration_ms: Option<f64>,
    /// Written by the generator while its sessions ran to their end (see
    /// [`super::parse::TraceEntry::drain`]).
    pub(crate) drain: bool,
}

/// Interns templates: normalizes events and numbers their templates in order of appearance.
#[derive(Default)]
pub(crate) struct Interner {
    /// Template text by id.
    pub(crate) templates: Vec<String>,
    ids: HashMap<String, usize>,
}

impl Interner {
    /// Normalizes one statement.
    pub(crate) fn stmt(&mut self, session: String, ts_ms: Option<f64>, sql: &str) -> Stmt {
        let n = normalize(sql);
        let id = match self.ids.get(&n.template) {
            Some(&id) => id,
            None => {
                let id = self.templates.len();
                self.ids.insert(n.template.clone(), id);
                self.templates.push(n.template);
                id
            }
        };
        Stmt {
            session,
            ts_ms,
            template: id,
            params: n.params,
            duration_ms: None,
            drain: false,
        }
    }

    /// Normalizes log events.
    pub(crate) fn events(&mut self, events: Vec<Event>) -> Vec<Stmt> {
        events
            .into_iter()
            .map(|e| {
                let mut s = self.stmt(e.session, e.ts_ms, &e.sql);
                s.duration_ms = e.duration_ms;
                s
            })
            .collect()
    }
}

/// Groups statements by session, keeping log order inside each; sessions in order of first
/// appearance.
pub fn sessions(stmts: &[Stmt]) -> Vec<Vec<&Stmt>> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut out: Vec<Vec<&Stmt>> = Vec::new();
    for s in stmts {
        let k = *index.entry(s.session.as_str()).or_insert_with(|| {
            out.push(Vec::new());
            out.len() - 1
        });
        out[k].push(s);
    }
    for sess in &mut out {
        if sess.iter().all(|s| s.ts_ms.is_some()) {
            sess.sort_by(|a, b| a.ts_ms.unwrap_or(0.0).total_cmp(&b.ts_ms.unwrap_or(0.0)));
        }
    }
    out
}

/// Think times (ms) between consecutive statements of each session.
pub(crate) fn think_times(sessions: &[Vec<&Stmt>]) -> Vec<f64> {
    let mut v = Vec::new();
    for s in sessions {
        for w in s.windows(2) {
            if let (Some(a), Some(b)) = (w[0].ts_ms, w[1].ts_ms) {
                v.push((b - a).max(0.0));
            }
        }
    }
    v
}

/// Transition counts of the given order, keyed by history (START padded).
pub(crate) fn transition_counts(
    sessions: &[Vec<&Stmt>],
    order: usize,
) -> HashMap<Vec<i64>, HashMap<i64, u64>> {
    let mut rows: HashMap<Vec<i64>, HashMap<i64, u64>> = HashMap::new();
    for s in sessions {
        let mut hist = vec![BOUNDARY; order];
        let states = s.iter().map(|x| x.template as i64).chain([BOUNDARY]);
        for next in states {
            *rows
                .entry(hist.clone())
                .or_default()
                .entry(next)
                .or_insert(0) += 1;
            hist.remove(0);
            hist.push(next);
        }
    }
    rows
}

/// Learns a model from log events. Each statement's literals go into the slot models as it is
/// normalized and are not kept, so memory holds the statements' text once.
pub fn learn(events: Vec<Event>, order: usize) -> Model {
    let mut interner = Interner::default();
    let mut accs: Vec<TemplateAcc> = Vec::new();
    let mut rng = SmallRng::seed_from_u64(0x5eed);
    let mut stmts = Vec::with_capacity(events.len());
    for e in events {
        let mut s = interner.stmt(e.session, e.ts_ms, &e.sql);
        s.duration_ms = e.duration_ms;
        if s.template == accs.len() {
            accs.push(TemplateAcc::default());
        }
        accs[s.template].add(&s, &mut rng);
        s.params = Vec::new();
        stmts.push(s);
    }
    let sess = sessions(&stmts);
    let think = think_times(&sess);
    let lengths = sess.iter().map(|s| s.len() as f64).collect();
    let mut transitions: Vec<TransitionRow> = transition_counts(&sess, order)
        .into_iter()
        .map(|(from, to)| {
            let mut to: Vec<(i64, u64)> = to.into_iter().collect();
            to.sort();
            TransitionRow { from, to }
        })
        .collect();
    transitions.sort_by(|a, b| a.from.cmp(&b.from));
    Model {
        tool: crate::report::tool_name(),
        version: MODEL_VERSION,
        order,
        statements: stmts.len() as u64,
        sessions: sess.len() as u64,
        templates: accs
            .into_iter()
            .zip(interner.templates)
            .enumerate()
            .map(finish_template)
            .collect(),
        transitions,
        think_ms: (!think.is_empty()).then(|| Empirical::from_samples(think)),
        session_length: Empirical::from_samples(lengths),
        log_lines: 0,
        malformed_count: 0,
        malformed: Vec::new(),
        limits: Limits::default(),
    }
}

fn finish_template((id, (a, sql)): (usize, (TemplateAcc, String))) -> TemplateModel {
    let durations = a.durations.values;
    TemplateModel {
        id,
        query_type: QueryType::of(&sql),
        sql,
        count: a.count,
        cyclic_slots: a.params > SLOTS_MAX,
        slots: a.slots.into_iter().map(SlotAcc::finish).collect(),
        duration_ms: (!durations.is_empty()).then(|| Empirical::from_samples(durations)),
    }
}

/// The start of a template, for messages.
fn preview(sql: &str) -> String {
    let mut t: String = sql.chars().take(60).collect();
    if t.len() < sql.len() {
        t.push('…');
    }
    t
}

impl Model {
    /// Checks the invariants the generator relies on.
    pub fn check(&self) -> Result<(), String> {
        if self.version != MODEL_VERSION {
            return Err(format!(
                "model version {} is not supported (expected {MODEL_VERSION})",
                self.version
            ));
        }
        if !(1..=2).contains(&self.order) {
            return Err(format!("model order {} must be 1 or 2", self.order));
        }
        if self.templates.is_empty() {
            return Err("the model has no templates".to_string());
        }
        let n = self.templates.len() as i64;
        for (i, t) in self.templates.iter().enumerate() {
            if t.id != i {
                return Err(format!("template {i} has id {}", t.id));
            }
        }
        for t in &self.templates {
            t.check()?;
        }
        for r in &self.transitions {
            let bad = |s: &i64| *s < BOUNDARY || *s >= n;
            if r.from.len() != self.order || r.from.iter().any(bad) {
                return Err(format!(
                    "transition row {:?} does not fit the model",
                    r.from
                ));
            }
            if r.to.iter().any(|(s, _)| bad(s))
                || r.to.iter().all(|(_, c)| *c == 0)
                || checked_total(r.to.iter().map(|t| t.1)).is_none()
            {
                return Err(format!("transition row {:?} has bad targets", r.from));
            }
        }
        if let Some(t) = &self.think_ms {
            t.check("think_ms", f64::MAX)?;
        }
        self.session_length
            .check("session_length", MAX_STATEMENTS as f64)?;
        if !self
            .transitions
            .iter()
            .any(|r| r.from.iter().all(|s| *s == BOUNDARY))
        {
            return Err("the model has no START row".to_string());
        }
        Ok(())
    }
}

fn checked_total(mut weights: impl Iterator<Item = u64>) -> Option<u64> {
    weights.try_fold(0u64, u64::checked_add)
}

impl Empirical {
    /// Quantiles must be non-negative and at most `max`, in non-decreasing order.
    fn check(&self, what: &str, max: f64) -> Result<(), String> {
        let ok = self.quantiles.iter().all(|q| (0.0..=max).contains(q))
            && self.quantiles.windows(2).all(|w| w[0] <= w[1]);
        if ok {
            Ok(())
        } else {
            Err(format!(
                "{what} quantiles must be non-decreasing and within 0..={max}"
            ))
        }
    }
}

impl TemplateModel {
    /// Every placeholder has a slot model, and categorical weights fit their values.
    fn check(&self) -> Result<(), String> {
        if let Some((at, _)) = placeholders(&self.sql).find(|(_, n)| self.slot_of(*n).is_none()) {
            return Err(format!(
                "template {} ({}) has placeholder {} but no parameter model for it ({} slots); \
                 learn the model again from the log",
                self.id,
                preview(&self.sql),
                preview(&self.sql[at]),
                self.slots.len()
            ));
        }
        for (k, s) in self.slots.iter().enumerate() {
            if let SlotModel::Categorical { values, weights } = s {
                if values.len() != weights.len() || checked_total(weights.iter().copied()).is_none()
                {
                    return Err(format!(
                        "template {} ({}): slot ${} has {} values but {} weights (or weights \
                         that overflow)",
                        self.id,
                        preview(&self.sql),
                        k + 1,
                        values.len(),
                        weights.len()
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
