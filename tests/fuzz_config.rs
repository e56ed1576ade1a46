//! Property-based fuzzing of the config loader, through the same calls `stormbench
//! --config FILE` makes before it connects (the registry, which reads the file for
//! `workloads_path`, then load, overrides and validation), and of `${VAR}` expansion.
//!
//! Properties: no panic; a failure is a config error whose every problem is one line; the
//! password never shows in an error; memory stays bounded (a counting global allocator
//! measures the peak of every case). A fixed number of cases keeps the run to seconds.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;

use clap::Parser as _;
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use serde_yaml::Value;
use stormbench::cli::Cli;
use stormbench::config::{self, Secret};

/// Counts the bytes held and the peak since the last reset.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = HELD.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are
// added around it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        HELD.fetch_sub(layout.size(), Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                HELD.fetch_sub(layout.size() - new_size, Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Most bytes one case may hold at once beyond what was held before it: a small input
/// uses a few MiB (the workload registry included), a 1 MiB file a few tens.
const CASE_BOUND: usize = 64 << 20;

/// The peak of bytes held while `f` runs, above what was held before.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = HELD.load(Relaxed);
    PEAK.store(base, Relaxed);
    let t = f();
    (t, PEAK.load(Relaxed).saturating_sub(base))
}

/// One case at a time: the counters are global, and cases set environment variables.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    let g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for var in [
        "STORMBENCH_DB_HOST",
        "STORMBENCH_DB_PORT",
        "STORMBENCH_DB_NAME",
        "STORMBENCH_DB_USER",
        "STORMBENCH_DB_PASSWORD",
        "STORMBENCH_DB_SSLMODE",
        "SB_FUZZ_UNSET",
    ] {
        std::env::remove_var(var);
    }
    std::env::set_var("SB_FUZZ_PORT", "6543");
    std::env::set_var("SB_FUZZ_HOST", "db.example");
    g
}

fn cases(n: u32) -> ProptestConfig {
    ProptestConfig {
        cases: n,
        failure_persistence: None,
        max_shrink_iters: 256,
        ..ProptestConfig::default()
    }
}

/// What `stormbench --config FILE` does before connecting; the error as printed.
fn load(path: &Path) -> Result<(), String> {
    let cli = Cli::try_parse_from([Path::new("stormbench"), Path::new("--config"), path])
        .map_err(|e| e.to_string())?;
    let file = stormbench::commands::config_file(&cli.run).map_err(|e| e.to_string())?;
    let registry =
        stormbench::commands::registry(&cli.run, file.as_ref()).map_err(|e| e.to_string())?;
    stormbench::commands::plan(&cli.run, file.as_ref(), &registry)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Loads `bytes` as a config file; checks the error shape and the memory bound.
fn check_file(bytes: &[u8]) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fuzz.yaml");
    std::fs::write(&path, bytes).unwrap();
    let (result, peak) = peak_of(|| load(&path));
    assert!(
        peak < CASE_BOUND,
        "{peak} bytes held for a {}-byte config",
        bytes.len()
    );
    if let Err(e) = &result {
        let mut lines = e.lines();
        let head = lines.next().unwrap_or_default();
        assert!(head.starts_with("invalid configuration"), "{e}");
        for l in lines {
            assert!(l.starts_with("  ") && !l[2..].starts_with(' '), "{e}");
        }
    }
    result
}

/// The password the text sets, when it parses.
fn password_of(text: &str) -> Option<String> {
    let loaded = config::parse_str(text, &stormbench::workloads::registry()).ok()?;
    loaded
        .raw
        .database
        .password
        .as_ref()
        .map(Secret::expose)
        .map(str::to_string)
}

/// Loads `text` with `${SB_FUZZ_PW}` set to `password`: when the text still gives that
/// password to `database.password`, no error may show it.
fn check_password_case(text: &str, password: &str) {
    std::env::set_var("SB_FUZZ_PW", password);
    if let Err(e) = check_file(text.as_bytes()) {
        if e.contains(password) {
            assert_ne!(
                password_of(text).as_deref(),
                Some(password),
                "password shown:\n{e}\nconfig:\n{text}"
            );
        }
    }
}

const BASE: &str = "\
database:
  host: ${SB_FUZZ_HOST}
  port: ${SB_FUZZ_PORT:-5432}
  dbname: bench
  username: bench
  password: ${SB_FUZZ_PW}
  sslmode: disable
  connect_timeout: 5s
workload: simple
mode: mixed
duration: 30s
warmup: 2s
workers: 4
connections: 4
think_time: 1ms
sample_interval: 1s
summary_interval: 5s
collect_pg_stats: true
stats_interval: 2s
progressive:
  enabled: false
  band_duration: 10s
simple:
  read_ratio: 0.8
";

/// Pieces of YAML and of this config's vocabulary that mutations insert.
const TOKENS: &[&str] = &[
    "\n",
    "  ",
    "- ",
    ": ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "'",
    "\"",
    "#",
    " #",
    "*a",
    "&a ",
    "!!str ",
    "!!binary ",
    "|",
    ">",
    "---\n",
    "...",
    "?",
    "~",
    "${SB_FUZZ_PW}",
    "${SB_FUZZ_UNSET}",
    "${SB_FUZZ_PW:-x}",
    "$${",
    "${",
    "}",
    "password",
    "database:",
    "port: ",
    "5432",
    "-1",
    "1e400",
    "99999999999999999999",
    ".nan",
    ".inf",
    "duration: ",
    "100000000000s",
    "18446744073709551615",
    "workload: ",
    "tpcc",
    "simple_read",
    "progressive:",
    "enabled: true",
    "true",
    "null",
    "\t",
    "\r\n",
    "\u{feff}",
    "é",
    "\0",
    "workloads_path: ",
    "/",
    "..",
];

#[derive(Debug, Clone)]
enum Mutation {
    Insert(usize, &'static str),
    Delete(usize, usize),
    Byte(usize, u8),
    DuplicateLine(usize),
    SwapLines(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), prop::sample::select(TOKENS)).prop_map(|(p, t)| Mutation::Insert(p, t)),
        (any::<usize>(), 1usize..40).prop_map(|(p, n)| Mutation::Delete(p, n)),
        (any::<usize>(), any::<u8>()).prop_map(|(p, b)| Mutation::Byte(p, b)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let at = |p: usize, len: usize| if len == 0 { 0 } else { p % (len + 1) };
    match m {
        Mutation::Insert(p, t) => {
            let i = at(*p, bytes.len());
            bytes.splice(i..i, t.bytes());
        }
        Mutation::Delete(p, n) => {
            let i = at(*p, bytes.len());
            let j = (i + n).min(bytes.len());
            bytes.drain(i..j);
        }
        Mutation::Byte(p, b) if !bytes.is_empty() => {
            let i = p % bytes.len();
            bytes[i] = *b;
        }
        Mutation::Byte(..) => {}
        Mutation::DuplicateLine(p) | Mutation::SwapLines(p, _) => {
            let mut lines: Vec<String> = String::from_utf8_lossy(&bytes)
                .split('\n')
                .map(str::to_string)
                .collect();
            let i = p % lines.len();
            match m {
                Mutation::SwapLines(_, q) => {
                    let j = q % lines.len();
                    lines.swap(i, j);
                }
                _ => {
                    let l = lines[i].clone();
                    lines.insert(i, l);
                }
            }
            return lines.join("\n");
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Passwords that broke the text substitution, and random ones of the same characters.
fn password() -> impl Strategy<Value = String> {
    let special = prop::collection::vec(
        prop::sample::select(vec![
            'a', 'Z', '7', ' ', '#', ':', '*', '&', '!', '{', '}', '[', ']', ',', '\'', '"', '$',
            '\n', '\\', '|', '>', '%', '@', '`', '~', '-', '?',
        ]),
        0..10,
    )
    .prop_map(|cs| format!("Pw7315{}q", cs.into_iter().collect::<String>()));
    let numeric = (1_000_000_000u64..u64::MAX).prop_map(|n| n.to_string());
    prop_oneof![special, numeric]
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn arbitrary_bytes_are_an_error_or_a_plan(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let _one = serial();
        let _ = check_file(&bytes);
    }

    #[test]
    fn yaml_shaped_noise_is_an_error_or_a_plan(
        tokens in prop::collection::vec(prop::sample::select(TOKENS), 0..300),
        pw in password(),
    ) {
        let _one = serial();
        check_password_case(&tokens.concat(), &pw);
    }

    #[test]
    fn mutated_valid_configs_never_show_the_password(
        base in prop::sample::select(base_configs()),
        mutations in prop::collection::vec(mutation(), 1..6),
        pw in password(),
    ) {
        let _one = serial();
        let text = mutations.iter().fold(base, |t, m| apply(&t, m));
        check_password_case(&text, &pw);
    }
}

/// The synthetic config above and every shipped one.
fn base_configs() -> Vec<String> {
    let mut out = vec![BASE.to_string()];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    for e in std::fs::read_dir(dir).unwrap() {
        out.push(std::fs::read_to_string(e.unwrap().path()).unwrap());
    }
    out
}

#[test]
fn the_base_config_is_valid_and_keeps_the_password() {
    let _one = serial();
    for pw in ["12345678", "se cret #x", "*a: b", "{x: [y]}", "two\nlines"] {
        std::env::set_var("SB_FUZZ_PW", pw);
        assert_eq!(check_file(BASE.as_bytes()), Ok(()));
        assert_eq!(password_of(BASE).as_deref(), Some(pw));
    }
}

#[test]
fn large_hostile_files_stay_within_the_memory_bound() {
    let _one = serial();
    let big = 1usize << 20;
    let deep = "a: ".to_string() + &"{a: ".repeat(big / 4 - 1);
    let mut aliases = String::from("x: &x [");
    aliases.push_str(&"a,".repeat(10_000));
    aliases.push_str("]\ny: [");
    aliases.push_str(&"*x,".repeat(50_000));
    aliases.push(']');
    let wide = |lines: usize| {
        (0..lines)
            .map(|i| format!("k{i}: [1, 2, {{a: b}}]\n"))
            .collect::<String>()
    };
    for (what, text, want) in [
        ("deep", deep, "nesting deeper than 64 levels"),
        ("aliases", aliases, "YAML aliases (*name) are not accepted"),
        ("many values", wide(20_000), "more than 100000 YAML values"),
        ("many keys", wide(9_000), "k0: unknown key 'k0'"),
        ("over the cap", "#".repeat(big + 1), "larger than 1 MiB"),
    ] {
        let t0 = std::time::Instant::now();
        let e = check_file(text.as_bytes()).unwrap_err();
        assert!(e.contains(want), "{what}: {}", &e[..e.len().min(300)]);
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(30),
            "{what}: {:?}",
            t0.elapsed()
        );
    }
    let (e, peak) = peak_of(|| load(Path::new("/dev/zero")));
    assert!(e.unwrap_err().contains("larger than 1 MiB"));
    assert!(peak < 8 << 20, "{peak} bytes held reading /dev/zero");
}

/// A YAML tree whose strings hold `${...}` expressions among other text.
fn tree() -> impl Strategy<Value = Value> {
    let piece = prop::sample::select(vec![
        "${A}",
        "${B}",
        "${NUM}",
        "${UNSET}",
        "${UNSET:-dflt}",
        "$${A}",
        "${",
        "}",
        "x",
        " ",
        "#",
        ": ",
        "${A:-}",
        "${ A }",
        "${}",
    ]);
    let string = prop::collection::vec(piece, 0..5).prop_map(|p| Value::String(p.concat()));
    let leaf = prop_oneof![
        string,
        any::<i64>().prop_map(|n| Value::Number(n.into())),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Sequence),
            prop::collection::vec(
                (
                    prop::sample::select(vec!["k", "${A}", "password", "p"]),
                    inner
                ),
                0..6
            )
            .prop_map(|kv| {
                Value::Mapping(
                    kv.into_iter()
                        .map(|(k, v)| (Value::String(k.to_string()), v))
                        .collect(),
                )
            }),
        ]
    })
}

/// Every key of `v`, in order, recursively.
fn keys(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Mapping(m) => {
            for (k, v) in m {
                out.push(k.clone());
                keys(v, out);
            }
        }
        Value::Sequence(s) => s.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

/// Checks each string of `before` against its expansion in `after`.
fn same_shape(before: &Value, after: &Value, a: &str, num: &str) {
    match (before, after) {
        (Value::Mapping(x), Value::Mapping(y)) => {
            assert_eq!(x.len(), y.len());
            for ((_, v), (_, w)) in x.iter().zip(y) {
                same_shape(v, w, a, num);
            }
        }
        (Value::Sequence(x), Value::Sequence(y)) => {
            assert_eq!(x.len(), y.len());
            for (v, w) in x.iter().zip(y) {
                same_shape(v, w, a, num);
            }
        }
        (Value::String(s), out) => {
            assert!(
                !matches!(
                    out,
                    Value::Mapping(_) | Value::Sequence(_) | Value::Tagged(_)
                ),
                "{s:?} became {out:?}"
            );
            // a whole-value variable is its exact text, as a string or as the number
            // or boolean that prints back the same
            let text = match out {
                Value::String(t) => Some(t.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            };
            match s.as_str() {
                "${A}" => assert_eq!(text.as_deref(), Some(a)),
                "${NUM}" => assert_eq!(out, &Value::Number(num.parse::<u64>().unwrap().into())),
                _ => {}
            }
        }
        (x, y) => assert_eq!(x, y),
    }
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn expansion_keeps_every_value_one_scalar_and_names_no_value(
        mut v in tree(),
        a in password(),
        num in 1_000_000_000u64..u64::MAX,
    ) {
        let _one = serial();
        let (num, b) = (num.to_string(), format!("{a}-b"));
        let lookup = |k: &str| match k {
            "A" => Some(a.clone()),
            "B" => Some(b.clone()),
            "NUM" => Some(num.clone()),
            _ => None,
        };
        let before = v.clone();
        let (result, peak) = peak_of(|| config::expand_env(&mut v, &lookup, &|_| false));
        prop_assert!(peak < CASE_BOUND);
        let (mut k0, mut k1) = (Vec::new(), Vec::new());
        keys(&before, &mut k0);
        keys(&v, &mut k1);
        prop_assert_eq!(k0, k1, "keys are never expanded");
        match result {
            Ok(()) => same_shape(&before, &v, &a, &num),
            Err(es) => {
                for e in es {
                    prop_assert!(!e.contains(&a) && !e.contains(&num), "{}", e);
                    prop_assert!(e.contains(": environment variable ") || e.contains(": unterminated '${'"), "{}", e);
                }
            }
        }
    }
}
