//! Property-based fuzzing of the trace log readers (stderr, csvlog, jsonlog, plain and
//! generated traces) and of what is learned from what they read: arbitrary bytes, line soups
//! built from each format's own pieces and mutations of valid logs never panic, every model
//! learned passes `Model::check` and generates, and the memory allocated stays within a fixed
//! multiple of the input size (a counting global allocator measures each case).
//!
//! The number of cases is fixed (256 unless PROPTEST_CASES says otherwise), so the run takes
//! seconds.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};

use stormbench::trace::generate::{generate, GenOptions, Sinks};
use stormbench::trace::model::learn;
use stormbench::trace::normalize::{normalize, ParamKind};
use stormbench::trace::parse::{read_log, read_trace, LogFormat, MAX_STATEMENT_BYTES};

/// Counts the bytes live on each thread and their peak; a test's cases run on its own
/// thread, so tests running side by side do not disturb each other's figures.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    // A thread being torn down may have lost its counters; its allocations are not measured.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most bytes `f` had allocated at once beyond what was live when it started.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    let peak = PEAK.with(Cell::get) - base;
    (out, peak.max(0) as usize)
}

/// Bytes a reader may hold per input byte: each statement's text once, its event record and
/// session key, and vector growth; one-byte statements on two-byte lines are the worst case.
const READ_BYTES_PER_INPUT_BYTE: usize = 160;
/// Bytes learning and generating may hold per input byte: normalized statements, slot models
/// (a few hundred bytes per placeholder, one placeholder per two input bytes at most).
const LEARN_BYTES_PER_INPUT_BYTE: usize = 512;
/// Allocation independent of the input: error messages, the first malformed lines, the
/// generator's buffers and RNG state.
const FIXED_BYTES: usize = 256 << 10;

const FORMATS: [LogFormat; 4] = [
    LogFormat::Stderr,
    LogFormat::Csvlog,
    LogFormat::Jsonlog,
    LogFormat::Plain,
];

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn config() -> Config {
    Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    std::fs::read(path).unwrap()
}

/// Valid inputs of each format: the fixtures, a real csvlog and the start of the real server
/// log.
fn valid_inputs() -> Vec<(LogFormat, Vec<u8>)> {
    let example = fixture("workloads/trace/example.log");
    let head: Vec<u8> = example
        .split_inclusive(|&b| b == b'\n')
        .take(60)
        .flatten()
        .copied()
        .collect();
    let fixtures = [
        (LogFormat::Stderr, "stderr.txt"),
        (LogFormat::Csvlog, "csvlog.csv"),
        (LogFormat::Csvlog, "csvlog-pg15.csv"),
        (LogFormat::Jsonlog, "jsonlog.json"),
        (LogFormat::Plain, "plain.sql"),
    ];
    let mut v: Vec<(LogFormat, Vec<u8>)> = fixtures
        .into_iter()
        .map(|(f, name)| (f, fixture(&format!("tests/fixtures/trace/{name}"))))
        .collect();
    v.push((LogFormat::Stderr, head));
    v
}

/// Reads `input` as `format`, learns from what was read and generates from the model,
/// checking the memory of each step against its bound.
fn pipeline(format: LogFormat, input: &[u8]) -> Result<(), TestCaseError> {
    let (parsed, read_peak) = peak_of(|| read_log(input, format, &mut |_| {}));
    let parsed = parsed.map_err(|e| TestCaseError::fail(format!("{format:?}: {e}")))?;
    let read_bound = READ_BYTES_PER_INPUT_BYTE * input.len() + FIXED_BYTES;
    prop_assert!(
        read_peak <= read_bound,
        "{format:?}: reading {} bytes allocated {read_peak} (bound {read_bound})",
        input.len()
    );
    prop_assert!(parsed.malformed.len() as u64 <= parsed.malformed_count);
    if parsed.events.is_empty() {
        return Ok(());
    }
    let learn_bound = LEARN_BYTES_PER_INPUT_BYTE * input.len() + FIXED_BYTES;
    let (result, learn_peak) = peak_of(|| {
        let m = learn(parsed.events, 1);
        m.check()?;
        let mut out = Vec::new();
        let opts = GenOptions {
            statements: 20,
            sessions: 2,
            seed: 1,
        };
        let mut sinks = Sinks {
            jsonl: &mut out,
            csv: None,
        };
        generate(&m, &opts, &mut sinks).map_err(|e| e.to_string())?;
        drop(sinks);
        Ok::<Vec<u8>, String>(out)
    });
    let out = result.map_err(|e| TestCaseError::fail(format!("{format:?}: {e}")))?;
    prop_assert!(
        learn_peak <= learn_bound,
        "{format:?}: learning from {} bytes allocated {learn_peak} (bound {learn_bound})",
        input.len()
    );
    // What was generated reads back as a trace, every placeholder bound.
    let mut sqls = Vec::new();
    read_trace(&out[..], |e| sqls.push(e.sql))
        .map_err(|e| TestCaseError::fail(format!("{format:?}: generated trace: {e}")))?;
    prop_assert!(sqls.len() >= 20);
    for sql in &sqls {
        let unbound = normalize(sql)
            .params
            .iter()
            .any(|p| p.kind == ParamKind::Unbound);
        prop_assert!(!unbound, "{format:?}: unbound placeholder in {sql:?}");
    }
    Ok(())
}

/// Reads `input` as a generated trace: an error is fine, a panic or a large allocation not.
fn trace_reader(input: &[u8]) -> Result<(), TestCaseError> {
    let (_, peak) = peak_of(|| {
        let mut kept = Vec::new();
        let _ = read_trace(input, |e| kept.push(e));
        kept
    });
    let bound = READ_BYTES_PER_INPUT_BYTE * input.len() + FIXED_BYTES;
    prop_assert!(
        peak <= bound,
        "trace: {} bytes allocated {peak}",
        input.len()
    );
    Ok(())
}

/// Pieces of each format's lines, so random lines reach past the first checks.
const PIECES: &[&str] = &[
    "2024-05-01 10:00:00.000 UTC",
    "2024-05-01 10:00:01 UTC",
    " [101] ",
    " 6630a1b2.65 ",
    "app@db ",
    "LOG:  ",
    "DETAIL:  ",
    "ERROR:  ",
    "statement: ",
    "execute s1: ",
    "duration: 0.5 ms  ",
    "duration: 1.0 ms",
    "parameters: $1 = '7', $2 = NULL",
    "$1 = 'it''s', $3 = ",
    "$65535 = '1'",
    "SELECT * FROM t WHERE a = ",
    "INSERT INTO t VALUES (",
    " IN (1, 2, 3)",
    "$1",
    "$2",
    "$99999999999999999999",
    "'x'",
    "'unterminated",
    "E'\\'",
    "$$body$$",
    "$tag$",
    "\"ident$1\"",
    "\"",
    "\"\"",
    ",",
    ",,,,,,,,,",
    "42",
    "1.5e3",
    "-- comment",
    "/* c",
    "*/",
    "\t",
    "{\"timestamp\":\"2024-05-01 10:00:00 UTC\",",
    "\"error_severity\":\"LOG\",",
    "\"message\":\"statement: SELECT 1\"",
    "\"session_id\":\"66.2a\",\"pid\":42,",
    "\"detail\":\"parameters: $1 = '5'\"",
    "}",
    "{\"session\":1,\"ts_ms\":2.5,\"sql\":\"SELECT 1\",\"drain\":true}",
    "é",
    "\u{fffd}",
];

fn line_soup() -> impl Strategy<Value = Vec<u8>> {
    let line = prop::collection::vec(prop::sample::select(PIECES), 0..12).prop_map(|p| p.concat());
    prop::collection::vec(line, 0..40).prop_map(|lines| lines.join("\n").into_bytes())
}

/// A change to a valid input.
#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    Duplicate(usize, usize),
    Set(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let special = prop::sample::select(&b"\"',\n\t$\\{}:0 \xff"[..]);
    prop_oneof![
        (any::<usize>(), 1usize..64).prop_map(|(at, n)| Mutation::Delete(at, n)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, b)| Mutation::Insert(at, b)),
        (any::<usize>(), 1usize..400).prop_map(|(at, n)| Mutation::Duplicate(at, n)),
        (any::<usize>(), special).prop_map(|(at, b)| Mutation::Set(at, b)),
    ]
}

fn mutate(mut v: Vec<u8>, ms: &[Mutation]) -> Vec<u8> {
    for m in ms {
        let len = v.len().max(1);
        match m {
            Mutation::Delete(at, n) => {
                let at = at % len;
                let end = (at + n).min(v.len());
                v.drain(at.min(end)..end);
            }
            Mutation::Insert(at, b) => {
                let at = at % (v.len() + 1);
                v.splice(at..at, b.iter().copied());
            }
            Mutation::Duplicate(at, n) => {
                let at = at % len;
                let end = (at + n).min(v.len());
                let chunk: Vec<u8> = v[at.min(end)..end].to_vec();
                v.splice(end..end, chunk);
            }
            Mutation::Set(at, b) => {
                if !v.is_empty() {
                    let at = at % v.len();
                    v[at] = *b;
                }
            }
        }
    }
    v
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..4096)) {
        for f in FORMATS {
            pipeline(f, &input)?;
        }
        trace_reader(&input)?;
    }

    #[test]
    fn line_soups_never_panic(input in line_soup()) {
        for f in FORMATS {
            pipeline(f, &input)?;
        }
        trace_reader(&input)?;
    }

    #[test]
    fn mutated_valid_logs_never_panic(
        which in 0usize..6,
        ms in prop::collection::vec(mutation(), 1..8),
    ) {
        let (format, valid) = valid_inputs().swap_remove(which);
        let input = mutate(valid, &ms);
        pipeline(format, &input)?;
        // Read as every other format too: detection can guess wrong.
        for f in FORMATS {
            pipeline(f, &input)?;
        }
    }

    #[test]
    fn mutated_generated_traces_never_panic(ms in prop::collection::vec(mutation(), 1..8)) {
        let valid = b"{\"session\":0,\"ts_ms\":0.000,\"template_id\":0,\"sql\":\"SELECT 'a\\\"b'\",\"query_type\":\"SELECT\"}\n\
                      {\"session\":1,\"ts_ms\":3.250,\"template_id\":1,\"sql\":\"COMMIT\",\"query_type\":\"OTHER\",\"drain\":true}\n";
        trace_reader(&mutate(valid.to_vec(), &ms))?;
    }
}

/// A statement longer than the limit costs about the bytes of the line kept, whatever its
/// literals: it is counted as malformed, not learned.
#[test]
fn a_huge_statement_costs_no_more_than_its_line() {
    let mut input = b"2024-05-01 10:00:00 UTC [1] LOG:  statement: SELECT 0".to_vec();
    input.extend(b",1".repeat(2 * MAX_STATEMENT_BYTES));
    input.extend(b"\n2024-05-01 10:00:01 UTC [1] LOG:  statement: SELECT 2\n");
    let (parsed, read_peak) = peak_of(|| read_log(&input[..], LogFormat::Stderr, &mut |_| {}));
    let parsed = parsed.unwrap();
    assert_eq!((parsed.events.len(), parsed.malformed_count), (1, 1));
    assert!(read_peak <= input.len() + FIXED_BYTES, "{read_peak}");
    let (m, learn_peak) = peak_of(|| learn(parsed.events, 1));
    assert_eq!(m.statements, 1);
    assert!(learn_peak <= FIXED_BYTES, "{learn_peak}");
}
