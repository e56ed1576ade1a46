//! The learned workload model: templates with their parameter distributions, a Markov chain
//! over templates within a session (order 1 or 2, with START/END), think times, session
//! lengths and statement durations. Serialized as JSON.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::normalize::{normalize, quote_literal, Param, ParamKind, QueryType};
use super::parse::{Event, Malformed};

/// Model file format version.
pub const MODEL_VERSION: u32 = 1;
/// A parameter slot with at most this many distinct values is modelled as categorical.
pub const CATEGORICAL_MAX: usize = 50;
/// Value pools keep at most this many strings.
pub const POOL_MAX: usize = 1000;
/// Empirical distributions keep at most this many quantile points.
pub const QUANTILES: usize = 1001;
/// START and END states in transition rows.
pub const BOUNDARY: i64 = -1;

/// An empirical continuous distribution as equal-mass quantile points (linear between them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Empirical {
    /// Samples seen.
    pub count: u64,
    /// Non-decreasing quantile points from the minimum to the maximum.
    pub quantiles: Vec<f64>,
}

impl Empirical {
    /// Builds from samples (sorts them).
    pub fn from_samples(mut v: Vec<f64>) -> Empirical {
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
    pub fn sample(&self, u: f64) -> f64 {
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
pub enum SlotModel {
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
    },
    /// Many distinct strings: a uniform pool of SQL literals.
    Pool {
        /// SQL literals, ready to splice.
        values: Vec<String>,
    },
}

/// One statement template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateModel {
    /// Index in the model's template list.
    pub id: usize,
    /// Normalized SQL with `$n` placeholders.
    pub sql: String,
    /// SQL class.
    pub query_type: QueryType,
    /// Occurrences in the log.
    pub count: u64,
    /// One model per placeholder.
    pub slots: Vec<SlotModel>,
    /// Logged durations in ms, when any.
    pub duration_ms: Option<Empirical>,
}

/// One row of the transition matrix: a history of 1 or 2 states and the counts of the next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransitionRow {
    /// Previous template ids, oldest first (`-1` = START).
    pub from: Vec<i64>,
    /// (next template id or `-1` = END, count).
    pub to: Vec<(i64, u64)>,
}

/// The learned model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// File format version.
    pub version: u32,
    /// Markov order (1 or 2).
    pub order: usize,
    /// Statements learned from.
    pub statements: u64,
    /// Distinct sessions seen.
    pub sessions: u64,
    /// Templates by id.
    pub templates: Vec<TemplateModel>,
    /// Transition rows.
    pub transitions: Vec<TransitionRow>,
    /// Time between consecutive statements of a session, in ms (absent without timestamps).
    pub think_ms: Option<Empirical>,
    /// Statements per session.
    pub session_length: Empirical,
    /// Lines in the log.
    pub log_lines: u64,
    /// Malformed lines counted.
    pub malformed_count: u64,
    /// The first malformed lines.
    pub malformed: Vec<Malformed>,
}

/// Accumulates raw values of one slot.
#[derive(Default)]
struct SlotAcc {
    distinct: HashMap<String, u64>,
    overflow: bool,
    numbers: Vec<f64>,
    all_numeric: bool,
    integer: bool,
    quoted: bool,
    seen: u64,
}

impl SlotAcc {
    fn new() -> SlotAcc {
        SlotAcc {
            all_numeric: true,
            integer: true,
            ..SlotAcc::default()
        }
    }

    fn add(&mut self, p: &Param) {
        self.seen += 1;
        let num = match p.kind {
            ParamKind::Num | ParamKind::Str => p.text.trim().parse::<f64>().ok(),
            _ => None,
        };
        match num {
            Some(x) if x.is_finite() => {
                self.numbers.push(x);
                self.integer &= x.fract() == 0.0 && !p.text.contains(['.', 'e', 'E']);
                self.quoted |= p.kind == ParamKind::Str;
            }
            _ => self.all_numeric = false,
        }
        let lit = literal(p);
        if self.distinct.len() < POOL_MAX || self.distinct.contains_key(&lit) {
            *self.distinct.entry(lit).or_insert(0) += 1;
        } else {
            self.overflow = true;
        }
    }

    fn finish(self) -> SlotModel {
        if !self.overflow && self.distinct.len() <= CATEGORICAL_MAX {
            let mut pairs: Vec<(String, u64)> = self.distinct.into_iter().collect();
            pairs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let (values, weights) = pairs.into_iter().unzip();
            SlotModel::Categorical { values, weights }
        } else if self.all_numeric {
            SlotModel::Numeric {
                dist: Empirical::from_samples(self.numbers),
                integer: self.integer,
                quoted: self.quoted,
            }
        } else {
            let mut values: Vec<String> = self.distinct.into_keys().collect();
            values.sort();
            values.truncate(POOL_MAX);
            SlotModel::Pool { values }
        }
    }
}

/// The SQL literal a parameter is replayed as.
pub fn literal(p: &Param) -> String {
    match p.kind {
        ParamKind::Num | ParamKind::List => p.text.clone(),
        ParamKind::Unbound => "$0".to_string(),
        ParamKind::Str => {
            let mut s = String::with_capacity(p.text.len() + 2);
            quote_literal(&mut s, &p.text);
            s
        }
    }
}

/// Accumulates one template.
struct TemplateAcc {
    sql: String,
    count: u64,
    slots: Vec<SlotAcc>,
    durations: Vec<f64>,
}

/// One statement after normalization, as the validator and the learner see it.
#[derive(Debug, Clone)]
pub struct Stmt {
    /// Session key.
    pub session: String,
    /// Arrival time in ms, when known.
    pub ts_ms: Option<f64>,
    /// Template id (index into the learner's or validator's template table).
    pub template: usize,
    /// Extracted literals.
    pub params: Vec<Param>,
    /// Logged duration in ms.
    pub duration_ms: Option<f64>,
}

/// Interns templates: normalizes events and numbers their templates in order of appearance.
#[derive(Default)]
pub struct Interner {
    /// Template text by id.
    pub templates: Vec<String>,
    ids: HashMap<String, usize>,
}

impl Interner {
    /// Normalizes one statement.
    pub fn stmt(&mut self, session: String, ts_ms: Option<f64>, sql: &str) -> Stmt {
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
        }
    }

    /// Normalizes log events.
    pub fn events(&mut self, events: Vec<Event>) -> Vec<Stmt> {
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
pub fn think_times(sessions: &[Vec<&Stmt>]) -> Vec<f64> {
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
pub fn transition_counts(
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

/// Learns a model from log events.
pub fn learn(events: Vec<Event>, order: usize) -> Model {
    let mut interner = Interner::default();
    let stmts = interner.events(events);
    let mut accs: Vec<TemplateAcc> = interner
        .templates
        .iter()
        .map(|t| TemplateAcc {
            sql: t.clone(),
            count: 0,
            slots: Vec::new(),
            durations: Vec::new(),
        })
        .collect();
    for s in &stmts {
        let a = &mut accs[s.template];
        a.count += 1;
        if a.slots.len() < s.params.len() {
            a.slots.resize_with(s.params.len(), SlotAcc::new);
        }
        for (slot, p) in a.slots.iter_mut().zip(&s.params) {
            slot.add(p);
        }
        if let Some(d) = s.duration_ms {
            a.durations.push(d);
        }
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
        version: MODEL_VERSION,
        order,
        statements: stmts.len() as u64,
        sessions: sess.len() as u64,
        templates: accs.into_iter().enumerate().map(finish_template).collect(),
        transitions,
        think_ms: (!think.is_empty()).then(|| Empirical::from_samples(think)),
        session_length: Empirical::from_samples(lengths),
        log_lines: 0,
        malformed_count: 0,
        malformed: Vec::new(),
    }
}

fn finish_template((id, a): (usize, TemplateAcc)) -> TemplateModel {
    TemplateModel {
        id,
        query_type: QueryType::of(&a.sql),
        sql: a.sql,
        count: a.count,
        slots: a.slots.into_iter().map(SlotAcc::finish).collect(),
        duration_ms: (!a.durations.is_empty()).then(|| Empirical::from_samples(a.durations)),
    }
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
        for r in &self.transitions {
            let bad = |s: &i64| *s < BOUNDARY || *s >= n;
            if r.from.len() != self.order || r.from.iter().any(bad) {
                return Err(format!(
                    "transition row {:?} does not fit the model",
                    r.from
                ));
            }
            if r.to.iter().any(|(s, _)| bad(s)) || r.to.iter().all(|(_, c)| *c == 0) {
                return Err(format!("transition row {:?} has bad targets", r.from));
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(session: &str, ts: f64, sql: &str) -> Event {
        Event {
            session: session.into(),
            ts_ms: Some(ts),
            duration_ms: Some(0.5),
            sql: sql.into(),
        }
    }

    #[test]
    fn learns_templates_chain_and_slots() {
        let mut events = Vec::new();
        for i in 0..200 {
            let s = format!("s{}", i % 4);
            let t = i as f64 * 10.0;
            events.push(ev(&s, t, &format!("SELECT * FROM a WHERE id = {i}")));
            events.push(ev(
                &s,
                t + 1.0,
                &format!("UPDATE a SET x = 'v{}' WHERE k = 1", i % 3),
            ));
        }
        let m = learn(events, 1);
        m.check().unwrap();
        assert_eq!(m.templates.len(), 2);
        assert_eq!(m.templates[0].query_type, QueryType::Select);
        assert!(matches!(
            m.templates[0].slots[0],
            SlotModel::Numeric { integer: true, .. }
        ));
        match &m.templates[1].slots[0] {
            SlotModel::Categorical { values, .. } => assert_eq!(values.len(), 3),
            other => panic!("{other:?}"),
        }
        let row0 = m.transitions.iter().find(|r| r.from == [0]).unwrap();
        assert_eq!(row0.to, vec![(1, 200)]);
        assert_eq!(m.sessions, 4);
        assert_eq!(m.session_length.quantiles, vec![100.0; 4]);
        let m2 = learn(vec![ev("a", 0.0, "SELECT 1"), ev("a", 1.0, "SELECT 2")], 2);
        assert!(m2.transitions.iter().any(|r| r.from == [0, 0]));
    }

    #[test]
    fn empirical_quantiles_interpolate() {
        let e = Empirical::from_samples((0..10_000).map(f64::from).collect());
        assert_eq!(e.quantiles.len(), QUANTILES);
        assert!((e.sample(0.5) - 4999.5).abs() < 10.0);
        assert_eq!(e.sample(0.0), 0.0);
    }
}
