//! Reading a trace into the sessions the replay runs: statements grouped by session and
//! timed from the trace's start, templates ranked into transaction kinds, sessions assigned
//! to workers.

use std::collections::{BinaryHeap, HashMap};

use super::{Control, Protocol, Stmt, Trace};
use crate::trace::model::Interner;
use crate::trace::normalize::ParamKind;
use crate::trace::parse::Event;

/// Characters of a template kept in its kind name.
const NAME_CHARS: usize = 60;

/// A statement as read.
struct Logged {
    /// Start time, ms.
    ts: Option<f64>,
    /// Template id.
    tpl: usize,
    sql: Box<str>,
    /// The literals, when the statement is to be sent prepared.
    params: Option<Box<[Box<str>]>>,
}

/// Groups events into sessions, names templates and orders sessions by start.
pub(super) fn load(events: Vec<Event>, templates: usize, protocol: Protocol) -> Trace {
    let mut interner = Interner::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut grouped: Vec<Vec<Logged>> = Vec::new();
    let mut skipped = 0;
    for e in events {
        if !replayable(&e.sql) {
            skipped += 1;
            continue;
        }
        let s = interner.stmt(String::new(), None, &e.sql);
        let params = (protocol == Protocol::Prepared
            && control(&interner.templates[s.template]) == Control::None
            && s.params
                .iter()
                .all(|p| matches!(p.kind, ParamKind::Num | ParamKind::Str)))
        .then(|| {
            s.params
                .into_iter()
                .map(|p| p.text.into_boxed_str())
                .collect()
        });
        let k = *index.entry(e.session).or_insert_with(|| {
            grouped.push(Vec::new());
            grouped.len() - 1
        });
        grouped[k].push(Logged {
            ts: e.ts_ms,
            tpl: s.template,
            sql: e.sql.into_boxed_str(),
            params,
        });
    }
    let (kind_of, kinds) = name_kinds(&interner.templates, &grouped, templates);
    let t0 = grouped
        .iter()
        .flatten()
        .filter_map(|l| l.ts)
        .fold(f64::INFINITY, f64::min);
    let mut sessions: Vec<(u64, Vec<Stmt>)> = grouped
        .into_iter()
        .map(|g| {
            let mut last = 0u64;
            let stmts: Vec<Stmt> = g
                .into_iter()
                .map(|l| {
                    // statements of a session run one after another: never earlier than
                    // the one before, and untimed ones go right after it
                    if let Some(ts) = l.ts.filter(|_| t0.is_finite()) {
                        last = last.max(((ts - t0) * 1000.0).max(0.0) as u64);
                    }
                    Stmt {
                        offset_us: last,
                        kind: kind_of[l.tpl],
                        tpl: l.tpl as u32,
                        control: control(&interner.templates[l.tpl]),
                        sql: l.sql,
                        bound: l.params,
                    }
                })
                .collect();
            (stmts.first().map_or(0, |s| s.offset_us), stmts)
        })
        .collect();
    sessions.sort_by_key(|(start, _)| *start);
    let mut stmts = Vec::new();
    let mut ranges = Vec::with_capacity(sessions.len());
    for (_, s) in sessions {
        let first = stmts.len();
        stmts.extend(s);
        ranges.push(first..stmts.len());
    }
    Trace {
        seen: crate::core::seen::RowsSeen::new(interner.templates.iter().map(|t| Some(t.as_str()))),
        span_us: stmts.iter().map(|s| s.offset_us).max().unwrap_or(0),
        stmts,
        sessions: ranges,
        kinds,
        templates: interner
            .templates
            .into_iter()
            .map(String::into_boxed_str)
            .collect(),
        skipped,
        malformed: 0,
    }
}

/// COPY ... FROM STDIN / TO STDOUT needs a data stream the trace does not hold.
fn replayable(sql: &str) -> bool {
    let t = sql.trim();
    if t.is_empty() {
        return false;
    }
    let head = t.get(..4).unwrap_or("");
    if !head.eq_ignore_ascii_case("copy") {
        return true;
    }
    let upper = t.to_ascii_uppercase();
    !(upper.contains("STDIN") || upper.contains("STDOUT"))
}

/// Transaction control from a normalized template's first keywords.
fn control(template: &str) -> Control {
    let mut words = template.split([' ', ';']);
    match (words.next().unwrap_or(""), words.next().unwrap_or("")) {
        ("BEGIN", _) | ("START", "TRANSACTION") => Control::Begin,
        ("ROLLBACK", "TO") => Control::None,
        ("COMMIT" | "END" | "ROLLBACK" | "ABORT", _) => Control::End,
        _ => Control::None,
    }
}

/// The `templates` most frequent templates get their own kind, by rank; the rest share
/// "other templates". Returns the kind of each template id and the kind names.
fn name_kinds(
    templates: &[String],
    grouped: &[Vec<Logged>],
    keep: usize,
) -> (Vec<u32>, Vec<&'static str>) {
    let mut counts = vec![0u64; templates.len()];
    for l in grouped.iter().flatten() {
        counts[l.tpl] += 1;
    }
    let mut order: Vec<usize> = (0..templates.len()).collect();
    order.sort_by_key(|&t| (std::cmp::Reverse(counts[t]), t));
    let own = keep.min(order.len());
    let mut kind_of = vec![own as u32; templates.len()];
    let mut kinds = Vec::with_capacity(own + 1);
    for (rank, &t) in order.iter().take(own).enumerate() {
        kind_of[t] = rank as u32;
        kinds.push(leak(kind_name(rank + 1, &templates[t])));
    }
    if order.len() > own {
        kinds.push("other templates");
    }
    (kind_of, kinds)
}

fn kind_name(rank: usize, template: &str) -> String {
    let mut name = format!("t{rank} ");
    let mut chars = template.chars();
    name.extend(chars.by_ref().take(NAME_CHARS));
    if chars.next().is_some() {
        name.push_str("...");
    }
    name
}

/// Kind names live for the whole process (the engine's kinds are `&'static str`); a
/// workload is built once per invocation.
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// Assigns sessions to workers: in order of start, each to the worker free first (by the
/// trace's clock). Also returns the largest number of sessions open at once.
pub(super) fn assign(trace: &Trace, workers: usize) -> (Vec<Vec<usize>>, usize) {
    use std::cmp::Reverse;
    let mut plan = vec![Vec::new(); workers];
    let mut free: BinaryHeap<Reverse<(u64, usize)>> =
        (0..workers).map(|w| Reverse((0, w))).collect();
    let mut open: BinaryHeap<Reverse<u64>> = BinaryHeap::new();
    let mut needed = 0;
    for (i, r) in trace.sessions.iter().enumerate() {
        let start = trace.stmts[r.start].offset_us;
        let end = trace.stmts[r.end - 1].offset_us;
        if let Some(Reverse((at, w))) = free.pop() {
            plan[w].push(i);
            free.push(Reverse((at.max(start) + (end - start), w)));
        }
        while open.peek().is_some_and(|Reverse(e)| *e < start) {
            open.pop();
        }
        open.push(Reverse(end));
        needed = needed.max(open.len());
    }
    (plan, needed)
}
