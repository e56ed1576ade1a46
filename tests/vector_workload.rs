//! The `vector` workload (workloads/vector) on real PostgreSQL 16 and 18 with pgvector
//! (embedded clusters from the binaries `scripts/pg-extra-versions.sh` installs): ground
//! truth before the index, recall measured and reported, exact search at recall 1, a sweep
//! of ef_search, the index used for inner product, filtered recall, streaming inserts at
//! their rate beside searches, and a schema mismatch refused. On the Debian PostgreSQL 15
//! test cluster, which has no pgvector, the requirement is said before anything is made.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use stormbench::db::embedded::{EmbeddedCluster, EmbeddedOptions};

fn workloads() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads")
}

/// The server binaries of PostgreSQL `major` with pgvector.
fn bindir(major: u32) -> String {
    let var = format!("STORMBENCH_TEST_PG{major}_BINDIR");
    std::env::var(&var).unwrap_or_else(|_| {
        panic!("{var} is not set: run scripts/pg-extra-versions.sh install and eval \"$(scripts/pg-extra-versions.sh env)\" (scripts/test.sh does both)")
    })
}

/// A small vector set-up: the parameters that shape the data, plus `extra` lines.
fn config(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(format!("{name}.yaml"));
    let text = format!(
        "workloads_path: [{}]\nworkload: vector\nhistory: off\nworkers: 2\n{body}\n",
        workloads().display()
    );
    std::fs::write(&p, text).unwrap();
    p
}

const SMALL: &str = "items: 4000, dimensions: 16, queries: 40, clusters: 30, spread: 0.35";

struct Server {
    _cluster: EmbeddedCluster,
    port: String,
    bindir: String,
}

impl Server {
    fn start(major: u32) -> Server {
        let bindir = bindir(major);
        let cluster = EmbeddedCluster::start(&EmbeddedOptions {
            bindir: Some(bindir.clone().into()),
            ..Default::default()
        })
        .expect("cluster starts");
        Server {
            port: cluster.port().to_string(),
            _cluster: cluster,
            bindir,
        }
    }

    fn run(&self, cfg: &Path, extra: &[&str]) -> (std::process::Output, String, String) {
        let o = stormbench_on_port(&self.port)
            .arg("-c")
            .arg(cfg)
            .args(extra)
            .output()
            .unwrap();
        let (out, err) = text(&o);
        (o, out, err)
    }

    fn psql(&self, sql: &str) -> String {
        let o = ok(Command::new(Path::new(&self.bindir).join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port, "-U", "stormbench"])
            .args(["-d", "postgres", "-qAtc", sql]));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    }
}

/// Set-up, a search run with recall, the index build and size, exact search, a mismatch
/// refused; returns the server for more.
fn search_and_recall(major: u32) -> (Server, tempfile::TempDir) {
    let s = Server::start(major);
    let dir = tempdir();
    let json = dir.path().join("search.json");
    let cfg = config(
        dir.path(),
        "search",
        &format!("mode: search\nduration: 2s\nvector: {{{SMALL}}}"),
    );
    let (o, out, err) = s.run(&cfg, &["--setup", "--json", json.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    let r = read_json(&json);
    validate_report_schema(&r);
    // the ground truth came before the index, and both are timed on their own
    let steps: Vec<&str> = r["workload"]["load"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["ground truth", "index build"]);
    let load_figures = &r["workload"]["load"]["figures"];
    let index_bytes = load_figures
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "index_bytes")
        .and_then(|f| f["value"].as_f64())
        .unwrap();
    assert!(index_bytes > 8192.0, "{load_figures}");
    assert_eq!(
        s.psql("SELECT count(*) FROM vec_truth"),
        (40 * 100).to_string()
    );
    let recall = figure(&r, "recall").expect("recall in the report");
    assert!((0.5..=1.0).contains(&recall), "recall {recall}");
    assert_eq!(figure(&r, "recall_queries"), Some(40.0));
    assert_eq!(figure(&r, "recall_by_exact_scan"), Some(0.0));
    assert!(out.contains("recall"), "{out}");
    assert_eq!(r["errors"]["total"].as_u64(), Some(0), "{}", r["errors"]);

    // a run asking for other dimensions than were loaded is refused, naming --rebuild
    let cfg32 = config(
        dir.path(),
        "dims",
        &format!(
            "mode: search\nduration: 1s\nvector: {{{}}}",
            SMALL.replace("dimensions: 16", "dimensions: 32")
        ),
    );
    let (o, _, err) = s.run(&cfg32, &[]);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("dimensions=16") && err.contains("dimensions=32") && err.contains("--rebuild"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    (s, dir)
}

/// Exact search (no index) has recall 1.
fn exact_search_has_recall_one(s: &Server, dir: &Path) {
    let json = dir.join("exact.json");
    let cfg = config(
        dir,
        "exact",
        &format!("mode: search\nduration: 1s\nvector: {{{SMALL}, index: none}}"),
    );
    let (o, out, err) = s.run(&cfg, &["--rebuild", "--json", json.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    let r = read_json(&json);
    assert_eq!(figure(&r, "recall"), Some(1.0));
    assert_eq!(figure(&r, "recall_min"), Some(1.0));
}

#[test]
fn vector_search_on_postgres_16() {
    let (s, dir) = search_and_recall(16);
    exact_search_has_recall_one(&s, dir.path());
}

#[test]
fn vector_workload_on_postgres_18() {
    let (s, dir) = search_and_recall(18);
    let d = dir.path();
    a_sweep_of_ef_search_raises_recall(&s, d);
    inner_product_uses_the_index(&s, d);
    filtered_recall_is_measured(&s, d);
    streaming_inserts_keep_their_rate_beside_searches(&s, d);

    // COPY ingest (100 rows per transaction) and batch ingest (ten rows per INSERT, whose
    // ids once overflowed a parameter typed int, so that every transaction failed)
    for (mode, rows) in [("ingest_copy", 100), ("ingest_batch", 10)] {
        ingest_adds_its_rows(&s, d, mode, rows);
    }
    vectors_from_a_file_are_items_then_queries(&s, d);
}

/// A sweep of ef_search: recall rises (weakly) with it and is below 1 at 1.
fn a_sweep_of_ef_search_raises_recall(s: &Server, d: &Path) {
    let json = d.join("sweep.json");
    let cfg = config(
        d,
        "sweep",
        &format!(
            "mode: search\nduration: 1s\nvector: {{{SMALL}, iterative_scan: off}}\nsweep: {{param: ef_search, values: [1, 10, 40, 200]}}"
        ),
    );
    let (o, out, err) = s.run(&cfg, &["--json", json.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    let r = read_json(&json);
    assert_eq!(r["kind"], "parameter");
    let recalls: Vec<f64> = r["bands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            b["figures"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == "recall")
                .and_then(|f| f["value"].as_f64())
                .unwrap()
        })
        .collect();
    assert_eq!(recalls.len(), 4, "{out}");
    assert!(recalls[0] < 1.0, "recall at ef_search 1: {recalls:?}");
    assert!(
        recalls.windows(2).all(|w| w[1] >= w[0] - 1e-9),
        "recall falls as ef_search grows: {recalls:?}"
    );
    assert!(out.contains("at recall >= 0.9"), "{out}");
    assert_eq!(r["curve"].as_array().unwrap().len(), 3);
}

/// Inner product: ordered ascending on <#>, so the planner uses the index.
fn inner_product_uses_the_index(s: &Server, d: &Path) {
    let json = d.join("inner.json");
    let cfg = config(
        d,
        "inner",
        &format!("mode: search\nduration: 1s\nvector: {{{SMALL}, metric: inner}}"),
    );
    let (o, out, err) = s.run(&cfg, &["--rebuild", "--json", json.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    let plan = s.psql(
        "SET enable_seqscan = on; EXPLAIN (COSTS OFF) SELECT id FROM vec_items ORDER BY embedding <#> (SELECT embedding FROM vec_queries WHERE id = 1) LIMIT 10",
    );
    assert!(plan.contains("vec_items_embedding"), "{plan}");
    let recall = figure(&read_json(&json), "recall").unwrap();
    assert!(recall > 0.5, "inner-product recall {recall}");
}

/// Filtered search at 1% selectivity: its recall is measured and reported.
fn filtered_recall_is_measured(s: &Server, d: &Path) {
    let json = d.join("filtered.json");
    let cfg = config(
        d,
        "filtered",
        &format!(
            "mode: filtered\nduration: 1s\nvector: {{{SMALL}, metric: inner, selectivity: 0.01}}"
        ),
    );
    let (o, out, err) = s.run(&cfg, &["--json", json.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    let r = read_json(&json);
    validate_report_schema(&r);
    let fr = figure(&r, "filtered_recall").expect("filtered recall");
    assert!((0.0..=1.0).contains(&fr), "{fr}");
    let sel = figure(&r, "filtered_selectivity").unwrap();
    assert!((0.005..0.02).contains(&sel), "selectivity {sel}");
}

/// Streaming: inserts at their rate (within 5%) while searches run; recall over time.
fn streaming_inserts_keep_their_rate_beside_searches(s: &Server, d: &Path) {
    let json = d.join("streaming.json");
    let cfg = config(
        d,
        "streaming",
        &format!(
            "mode: streaming\nduration: 6s\nvector: {{{SMALL}, metric: inner, insert_rate: 100, recall_every: 2s}}"
        ),
    );
    let (o, out, err) = s.run(&cfg, &["--json", json.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    let r = read_json(&json);
    validate_report_schema(&r);
    let groups = r["workload"]["groups"].as_array().unwrap();
    let writers = groups.iter().find(|g| g["name"] == "writers").unwrap();
    let searchers = groups.iter().find(|g| g["name"] == "searchers").unwrap();
    let tps = writers["tps"].as_f64().unwrap();
    assert!((95.0..=105.0).contains(&tps), "insert rate {tps}/s");
    assert_eq!(writers["workers"], 2);
    assert_eq!(searchers["workers"], 2);
    assert!(searchers["tps"].as_f64().unwrap() > 100.0, "{searchers}");
    let series = r["workload"]["measure_series"].as_array().unwrap();
    let over_time = series.iter().find(|m| m["name"] == "recall_now").unwrap();
    assert!(
        over_time["points"].as_array().unwrap().len() >= 2,
        "{over_time}"
    );
    assert!(
        figure(&r, "recall_now").is_some(),
        "{}",
        r["workload"]["metrics"]
    );
    // the inserted rows are there, and later recall is measured against an exact scan
    let rows: u64 = s.psql("SELECT count(*) FROM vec_items").parse().unwrap();
    assert!(rows >= 4000 + 550, "{rows} rows");
    assert_eq!(s.psql("SELECT changed FROM vec_state"), "t");
}

/// Vectors from a file: the items first, then the held-out queries.
fn vectors_from_a_file_are_items_then_queries(s: &Server, d: &Path) {
    let npy = d.join("v.npy");
    write_npy(&npy, 1050, 16);
    let json = d.join("file.json");
    let cfg = config(
        d,
        "file",
        &format!(
            "mode: search\nduration: 1s\nvector: {{source: file, file: {}, dimensions: 16, items: 1000, queries: 50}}",
            npy.display()
        ),
    );
    let (o, out, err) = s.run(&cfg, &["--rebuild", "--json", json.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(figure(&read_json(&json), "recall").is_some());
    assert_eq!(s.psql("SELECT count(*) FROM vec_items"), "1000");
    // query 1 is file row 1000, item 1 file row 0
    assert_eq!(
        s.psql("SELECT (embedding::real[])[1] FROM vec_queries WHERE id = 1"),
        "1000"
    );
    assert_eq!(
        s.psql("SELECT (embedding::real[])[1] FROM vec_items WHERE id = 1"),
        "0"
    );
}

/// Runs `mode` for a second on each driver: no transaction fails, and each committed one
/// added `rows` rows.
fn ingest_adds_its_rows(s: &Server, d: &Path, mode: &str, rows: u64) {
    for driver in ["wire", "tokio-postgres"] {
        let before: u64 = s.psql("SELECT count(*) FROM vec_items").parse().unwrap();
        let json = d.join(format!("{mode}-{driver}.json"));
        let cfg = config(
            d,
            mode,
            &format!(
                "mode: {mode}\nduration: 1s\ndriver: {driver}\nvector: {{{SMALL}, metric: inner}}"
            ),
        );
        let (o, out, err) = s.run(&cfg, &["--json", json.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
        let r = read_json(&json);
        assert_eq!(
            r["summary"]["failed"], 0,
            "{mode} on {driver}: {}",
            r["errors"]
        );
        let done = r["summary"]["transactions"].as_u64().unwrap();
        let after: u64 = s.psql("SELECT count(*) FROM vec_items").parse().unwrap();
        assert!(done > 0, "{mode} on {driver}");
        // (a transaction in flight at the end commits uncounted: at most one per worker)
        assert!(
            (before + rows * done..=before + rows * (done + 2)).contains(&after),
            "{mode} on {driver}: {done} transactions, {before} -> {after} rows"
        );
    }
}

/// A float32 `.npy` of `rows` x `dims`: row r is (r, r/2, sin r, ...).
fn write_npy(path: &Path, rows: usize, dims: usize) {
    let header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dims}), }}");
    let mut h = header.into_bytes();
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(b' ');
    }
    h.push(b'\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    out.extend_from_slice(&h);
    for r in 0..rows {
        for c in 0..dims {
            let v = match c {
                0 => r as f32,
                1 => r as f32 / 2.0,
                _ => ((r * c) as f32).sin(),
            };
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    std::fs::write(path, out).unwrap();
}

#[test]
fn without_pgvector_the_requirement_is_said_before_anything_is_made() {
    let pg = pg();
    let db = pg.fresh_db("vecreq");
    let dir = tempdir();
    let cfg = config(dir.path(), "req", "mode: search\nduration: 1s");
    let o = pg
        .stormbench(&db)
        .arg("-c")
        .arg(&cfg)
        .arg("--setup")
        .output()
        .unwrap();
    let err = assert_clean_failure(&o, 1);
    assert!(
        err.contains("no extension 'vector'") && err.contains("pgvector"),
        "{err}"
    );
    assert_eq!(
        pg.psql(
            &db,
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'vec_%'"
        ),
        "0"
    );
}
