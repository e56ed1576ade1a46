//! Trace generation: concurrent session streams walk the Markov chain, parameters are drawn
//! from their slot models and arrival times from the think-time distribution. Output is JSON
//! Lines in time order (optionally CSV too). The hot loop reuses its buffers. Sessions are
//! written whole: once the statements asked for are written, the sessions in progress run to
//! their end and no new one starts, so the trace's session lengths follow the model's.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io::Write;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::model::{placeholders, Empirical, Model, SlotModel, TemplateModel, BOUNDARY};

/// Most statements one generation may ask for (about 140 GB of JSON Lines).
pub(crate) const MAX_STATEMENTS: u64 = 1_000_000_000;
/// Most concurrent session streams; each holds a few dozen bytes.
pub(crate) const MAX_SESSIONS: u64 = 1_000_000;

/// Generation options.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// Statements to write at least (the sessions in progress then run to their end).
    pub statements: u64,
    /// Concurrent session streams.
    pub sessions: u64,
    /// RNG seed.
    pub seed: u64,
}

impl GenOptions {
    /// Both counts are within 1 and their maximum.
    pub(crate) fn check(&self) -> Result<(), String> {
        if !(1..=MAX_STATEMENTS).contains(&self.statements) {
            return Err(format!(
                "-n {} is out of range: generate 1 to {MAX_STATEMENTS} statements",
                self.statements
            ));
        }
        if !(1..=MAX_SESSIONS).contains(&self.sessions) {
            return Err(format!(
                "--sessions {} is out of range: use 1 to {MAX_SESSIONS} concurrent sessions",
                self.sessions
            ));
        }
        Ok(())
    }
}

/// What was generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenSummary {
    /// Statements written: at least the number asked for, more when the sessions in progress
    /// at that point had statements left.
    pub(crate) statements: u64,
    /// Sessions written (each whole, with at least one statement).
    pub(crate) sessions: u64,
}

/// A cumulative distribution over targets.
struct Row {
    targets: Vec<i64>,
    cum: Vec<u64>,
}

impl Row {
    fn pick(&self, rng: &mut SmallRng) -> i64 {
        let total = *self.cum.last().unwrap_or(&0);
        if total == 0 {
            return BOUNDARY;
        }
        let u = rng.gen_range(0..total);
        let k = self.cum.partition_point(|&c| c <= u);
        self.targets[k.min(self.targets.len() - 1)]
    }
}

fn cumulative(weights: impl Iterator<Item = u64>) -> Vec<u64> {
    let mut acc = 0u64;
    weights
        .map(|w| {
            acc += w;
            acc
        })
        .collect()
}

/// A compiled slot sampler.
enum Slot {
    Categorical(Vec<String>, Vec<u64>),
    Numeric(Empirical, bool, bool),
    Pool(Vec<String>),
}

/// A template split at its placeholders.
struct Compiled {
    parts: Vec<String>,
    slot_of: Vec<usize>,
    slots: Vec<Slot>,
    query_type: &'static str,
}

/// Splits a template of a checked model (every placeholder has a slot) at its placeholders.
fn compile_template(t: &TemplateModel) -> Compiled {
    let sql = &t.sql;
    let mut parts = Vec::new();
    let mut slot_of = Vec::new();
    let mut seg = 0;
    for (range, n) in placeholders(sql) {
        if let Some(k) = t.slot_of(n) {
            parts.push(sql[seg..range.start].to_string());
            slot_of.push(k);
            seg = range.end;
        }
    }
    parts.push(sql[seg..].to_string());
    Compiled {
        parts,
        slot_of,
        slots: t.slots.iter().map(compile_slot).collect(),
        query_type: t.query_type.name(),
    }
}

fn compile_slot(s: &SlotModel) -> Slot {
    match s {
        SlotModel::Categorical { values, weights } => {
            Slot::Categorical(values.clone(), cumulative(weights.iter().copied()))
        }
        SlotModel::Numeric {
            dist,
            integer,
            quoted,
            ..
        } => Slot::Numeric(dist.clone(), *integer, *quoted),
        SlotModel::Pool { values, .. } => Slot::Pool(values.clone()),
    }
}

impl Slot {
    fn write(&self, out: &mut String, rng: &mut SmallRng) {
        match self {
            Slot::Categorical(values, cum) => {
                let total = *cum.last().unwrap_or(&1);
                let u = rng.gen_range(0..total.max(1));
                let k = cum
                    .partition_point(|&c| c <= u)
                    .min(values.len().saturating_sub(1));
                out.push_str(values.get(k).map_or("NULL", String::as_str));
            }
            Slot::Numeric(dist, integer, quoted) => {
                let x = dist.sample(rng.gen::<f64>());
                if *quoted {
                    out.push('\'');
                }
                if *integer {
                    push_i64(out, x.round() as i64);
                } else {
                    use std::fmt::Write as _;
                    let _ = write!(out, "{x}");
                }
                if *quoted {
                    out.push('\'');
                }
            }
            Slot::Pool(values) => match values.len() {
                0 => out.push_str("NULL"),
                n => out.push_str(&values[rng.gen_range(0..n)]),
            },
        }
    }
}

fn push_i64(out: &mut String, x: i64) {
    out.push_str(itoa::Buffer::new().format(x));
}

/// The model compiled for sampling.
struct Sampler {
    templates: Vec<Compiled>,
    rows: HashMap<[i64; 2], Row>,
    order: usize,
    think: Option<Empirical>,
    lengths: Empirical,
}

impl Sampler {
    fn new(m: &Model) -> Sampler {
        let templates = m.templates.iter().map(compile_template).collect();
        let rows = m
            .transitions
            .iter()
            .map(|r| {
                let key = history_key(&r.from);
                let row = Row {
                    targets: r.to.iter().map(|t| t.0).collect(),
                    cum: cumulative(r.to.iter().map(|t| t.1)),
                };
                (key, row)
            })
            .collect();
        Sampler {
            templates,
            rows,
            order: m.order,
            think: m.think_ms.clone(),
            lengths: m.session_length.clone(),
        }
    }

    fn think_us(&self, rng: &mut SmallRng) -> u64 {
        self.think
            .as_ref()
            .map_or(0, |t| (t.sample(rng.gen::<f64>()) * 1000.0).max(0.0) as u64)
    }

    /// A session length drawn from the learned distribution (at least 1).
    fn length(&self, rng: &mut SmallRng) -> u64 {
        self.lengths.sample(rng.gen::<f64>()).round().max(1.0) as u64
    }

    /// The next template, or END when the session has reached its drawn length. The chain's
    /// own END is redrawn (a few times) while the session is shorter than drawn, so session
    /// lengths follow the learned distribution instead of the chain's geometric one.
    fn next_bounded(&self, st: &Stream, rng: &mut SmallRng) -> i64 {
        if st.remaining == 0 {
            return BOUNDARY;
        }
        for _ in 0..8 {
            let t = self.next(st.hist, rng);
            if t != BOUNDARY {
                return t;
            }
        }
        BOUNDARY
    }

    fn next(&self, hist: [i64; 2], rng: &mut SmallRng) -> i64 {
        let key = if self.order == 1 {
            [BOUNDARY, hist[1]]
        } else {
            hist
        };
        match self.rows.get(&key) {
            Some(r) => r.pick(rng),
            // An order-2 history never seen in the log: fall back to a START row.
            None => self
                .rows
                .get(&[BOUNDARY, BOUNDARY])
                .map_or(BOUNDARY, |r| r.pick(rng)),
        }
    }
}

fn history_key(from: &[i64]) -> [i64; 2] {
    match from {
        [a] => [BOUNDARY, *a],
        [a, b, ..] => [*a, *b],
        [] => [BOUNDARY, BOUNDARY],
    }
}

/// One concurrent stream of sessions.
struct Stream {
    session: u64,
    hist: [i64; 2],
    remaining: u64,
}

/// Output sinks.
pub struct Sinks<'a> {
    /// JSON Lines output.
    pub jsonl: &'a mut dyn Write,
    /// Optional CSV output.
    pub csv: Option<csv::Writer<&'a mut dyn Write>>,
}

/// Generates a trace from a checked model.
pub fn generate(m: &Model, opts: &GenOptions, sinks: &mut Sinks) -> anyhow::Result<GenSummary> {
    opts.check().map_err(anyhow::Error::msg)?;
    let sampler = Sampler::new(m);
    let mut rng = SmallRng::seed_from_u64(opts.seed);
    let mut streams: Vec<Stream> = Vec::new();
    let mut heap = BinaryHeap::new();
    for k in 0..opts.sessions {
        let first = sampler.think_us(&mut rng);
        let start = rng.gen_range(0..=first);
        streams.push(Stream {
            session: k,
            hist: [BOUNDARY, BOUNDARY],
            remaining: sampler.length(&mut rng),
        });
        heap.push(Reverse((start, k as usize)));
    }
    if let Some(csv) = sinks.csv.as_mut() {
        csv.write_record(["session", "ts_ms", "template_id", "query_type", "sql"])?;
    }
    let mut next_session = streams.len() as u64;
    let (mut written, mut sessions, mut empty_run) = (0u64, 0u64, 0u32);
    let mut sql = String::with_capacity(256);
    let mut line: Vec<u8> = Vec::with_capacity(512);
    while let Some(Reverse((ts_us, k))) = heap.pop() {
        let st = &mut streams[k];
        let in_progress = st.hist[1] != BOUNDARY;
        // Past the statements asked for, a stream stops once it has no session in progress.
        if written >= opts.statements && !in_progress {
            continue;
        }
        let t = sampler.next_bounded(st, &mut rng);
        if t == BOUNDARY {
            if written >= opts.statements {
                continue;
            }
            empty_run = if st.hist[1] == BOUNDARY {
                empty_run + 1
            } else {
                0
            };
            if empty_run > 10_000 {
                anyhow::bail!("the model's sessions are all empty; nothing to generate");
            }
            st.session = next_session;
            next_session += 1;
            st.hist = [BOUNDARY, BOUNDARY];
            st.remaining = sampler.length(&mut rng);
            heap.push(Reverse((
                ts_us.saturating_add(sampler.think_us(&mut rng)),
                k,
            )));
            continue;
        }
        empty_run = 0;
        sessions += u64::from(!in_progress);
        let tpl = &sampler.templates[t as usize];
        render_sql(tpl, &mut sql, &mut rng);
        let drain = written >= opts.statements;
        write_jsonl(&mut line, st.session, ts_us, t, tpl.query_type, &sql, drain);
        sinks.jsonl.write_all(&line)?;
        if let Some(csv) = sinks.csv.as_mut() {
            let ts = format!("{:.3}", ts_us as f64 / 1000.0);
            let (s, id) = (st.session.to_string(), t.to_string());
            csv.write_record([s.as_str(), &ts, &id, tpl.query_type, &sql])?;
        }
        st.hist = [st.hist[1], t];
        st.remaining -= 1;
        written += 1;
        heap.push(Reverse((
            ts_us.saturating_add(sampler.think_us(&mut rng)),
            k,
        )));
    }
    if let Some(csv) = sinks.csv.as_mut() {
        csv.flush()?;
    }
    sinks.jsonl.flush()?;
    Ok(GenSummary {
        statements: written,
        sessions,
    })
}

fn render_sql(tpl: &Compiled, sql: &mut String, rng: &mut SmallRng) {
    sql.clear();
    for (i, part) in tpl.parts.iter().enumerate() {
        sql.push_str(part);
        if let Some(&slot) = tpl.slot_of.get(i) {
            tpl.slots[slot].write(sql, rng);
        }
    }
}

fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut k = buf.len();
    loop {
        k -= 1;
        buf[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[k..]);
}

/// One JSON Lines record, without a formatter; `drain` marks the statements written after
/// the number asked for.
fn write_jsonl(
    out: &mut Vec<u8>,
    session: u64,
    ts_us: u64,
    t: i64,
    qt: &str,
    sql: &str,
    drain: bool,
) {
    out.clear();
    out.extend_from_slice(b"{\"session\":");
    push_u64(out, session);
    out.extend_from_slice(b",\"ts_ms\":");
    push_u64(out, ts_us / 1000);
    out.push(b'.');
    let frac = ts_us % 1000;
    out.extend_from_slice(&[
        b'0' + (frac / 100) as u8,
        b'0' + (frac / 10 % 10) as u8,
        b'0' + (frac % 10) as u8,
    ]);
    out.extend_from_slice(b",\"template_id\":");
    push_u64(out, t as u64);
    out.extend_from_slice(b",\"sql\":\"");
    json_escape(out, sql);
    out.extend_from_slice(b"\",\"query_type\":\"");
    out.extend_from_slice(qt.as_bytes());
    out.extend_from_slice(if drain {
        b"\",\"drain\":true}\n"
    } else {
        b"\"}\n"
    });
}

fn json_escape(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let b = s.as_bytes();
    let mut seg = 0;
    for (i, &c) in b.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\t' => b"\\t",
            b'\r' => b"\\r",
            0..=0x1f => &[],
            _ => continue,
        };
        out.extend_from_slice(&b[seg..i]);
        if esc.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.extend_from_slice(&[HEX[(c >> 4) as usize], HEX[(c & 15) as usize]]);
        } else {
            out.extend_from_slice(esc);
        }
        seg = i + 1;
    }
    out.extend_from_slice(&b[seg..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::model::learn;
    use crate::trace::parse::Event;

    fn model() -> Model {
        let events = (0..300)
            .map(|i| Event {
                session: format!("{}", i % 3),
                ts_ms: Some(i as f64 * 5.0),
                duration_ms: None,
                sql: if i % 2 == 0 {
                    format!("SELECT v FROM t WHERE id = {i} AND s = 'a\"b\\c{}'", i % 70)
                } else {
                    format!("UPDATE t SET v = v + {} WHERE id IN (1, 2)", i % 4)
                },
            })
            .collect();
        learn(events, 1)
    }

    #[test]
    fn generates_valid_json_lines_in_time_order() {
        let m = model();
        let mut buf = Vec::new();
        let opts = GenOptions {
            statements: 500,
            sessions: 4,
            seed: 7,
        };
        let s = generate(
            &m,
            &opts,
            &mut Sinks {
                jsonl: &mut buf,
                csv: None,
            },
        )
        .unwrap();
        assert!(s.statements >= 500, "{s:?}");
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(text.lines().count() as u64, s.statements);
        let mut last = 0.0;
        for l in text.lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let ts = v["ts_ms"].as_f64().unwrap();
            assert!(ts >= last);
            last = ts;
            let sql = v["sql"].as_str().unwrap();
            let n = crate::trace::normalize::normalize(sql);
            let id = v["template_id"].as_u64().unwrap() as usize;
            assert_eq!(n.template, m.templates[id].sql, "{sql}");
        }
    }

    /// Sessions of exactly ten statements, A to J in order.
    fn ten_step_model() -> Model {
        let events = (0..200)
            .map(|i| Event {
                session: format!("{}", i / 10),
                ts_ms: Some(i as f64),
                duration_ms: None,
                sql: format!("SELECT c{} FROM t", i % 10),
            })
            .collect();
        learn(events, 1)
    }

    fn run(m: &Model, statements: u64, sessions: u64) -> (GenSummary, Vec<serde_json::Value>) {
        let mut buf = Vec::new();
        let opts = GenOptions {
            statements,
            sessions,
            seed: 5,
        };
        let mut sinks = Sinks {
            jsonl: &mut buf,
            csv: None,
        };
        let s = generate(m, &opts, &mut sinks).unwrap();
        drop(sinks);
        let text = String::from_utf8(buf).unwrap();
        let recs = text.lines().map(|l| serde_json::from_str(l).unwrap());
        (s, recs.collect())
    }

    #[test]
    fn sessions_are_whole() {
        let m = ten_step_model();
        for (n, streams) in [(25, 4), (1, 3), (99, 7)] {
            let (s, recs) = run(&m, n, streams);
            assert_eq!(recs.len() as u64, s.statements);
            assert!(s.statements >= n, "{s:?}");
            assert!(s.statements < n + 10 * streams, "{s:?}");
            let mut per: HashMap<u64, Vec<u64>> = HashMap::new();
            for r in &recs {
                let id = r["template_id"].as_u64().unwrap();
                per.entry(r["session"].as_u64().unwrap())
                    .or_default()
                    .push(id);
            }
            assert_eq!(per.len() as u64, s.sessions);
            for ids in per.values() {
                assert_eq!(*ids, (0..10).collect::<Vec<u64>>(), "n {n}: {ids:?}");
            }
        }
    }

    #[test]
    fn counts_out_of_range_are_refused() {
        let m = ten_step_model();
        for (statements, sessions, needle) in [
            (0, 1, "-n 0 is out of range"),
            (MAX_STATEMENTS + 1, 1, "1 to 1000000000 statements"),
            (1, 0, "--sessions 0 is out of range"),
            (1, 1_000_000_000_000, "1 to 1000000 concurrent sessions"),
        ] {
            let opts = GenOptions {
                statements,
                sessions,
                seed: 1,
            };
            let mut buf = Vec::new();
            let mut sinks = Sinks {
                jsonl: &mut buf,
                csv: None,
            };
            let e = generate(&m, &opts, &mut sinks).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
    }

    #[test]
    fn same_seed_same_trace() {
        let m = model();
        let run = || {
            let mut buf = Vec::new();
            let opts = GenOptions {
                statements: 100,
                sessions: 2,
                seed: 1,
            };
            let mut sinks = Sinks {
                jsonl: &mut buf,
                csv: None,
            };
            generate(&m, &opts, &mut sinks).unwrap();
            drop(sinks);
            buf
        };
        assert_eq!(run(), run());
    }
}
