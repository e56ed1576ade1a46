//! A declarative workload with pgvector columns and parameters, against a real PostgreSQL
//! 18 with pgvector (an embedded cluster from the binaries `scripts/pg-extra-versions.sh`
//! installs): vectors loaded with COPY, bound as parameters of a nearest-neighbour query
//! and of inserts. The Debian PostgreSQL 15 test cluster has no pgvector: there the
//! requirement check stops the run before anything is created.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use stormbench::db::embedded::{EmbeddedCluster, EmbeddedOptions};

const YAML: &str = r#"
description: nearest neighbours over 8-dimensional embeddings
requires:
  extensions: [vector]
schema:
  create: schema.sql
  after_load: after_load.sql
  cleanup: cleanup.sql
data:
  - table: vec_items
    rows_per_scale: 2000
    columns:
      id: {sequence: {}}
      category: {uniform: {min: 1, max: 10}}
      embedding: {vector: {dimensions: 8}}
transactions:
  - name: knn
    statements:
      - sql: SELECT id FROM vec_items WHERE category = $2 ORDER BY embedding <-> $1 LIMIT 5
        params:
          - vector: {dimensions: 8, min: -1, max: 1}
          - uniform: {min: 1, max: 10}
  - name: add
    statements:
      - sql: INSERT INTO vec_items (id, category, embedding) VALUES ($1, $2, $3)
        params:
          - uniform: {min: 1000000, max: 1000000000}
          - uniform: {min: 1, max: 10}
          - vector: {dimensions: 8}
modes:
  mixed: {knn: 3, add: 1}
  knn: {knn: 1}
"#;

fn vecdemo(root: &Path) {
    let dir = root.join("vecdemo");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("workload.yaml"), YAML).unwrap();
    std::fs::write(
        dir.join("schema.sql"),
        "CREATE EXTENSION IF NOT EXISTS vector;\n\
         CREATE TABLE vec_items (id bigint NOT NULL, category int NOT NULL, embedding vector(8) NOT NULL);\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("after_load.sql"),
        "CREATE INDEX vec_items_category ON vec_items (category);\n",
    )
    .unwrap();
    std::fs::write(dir.join("cleanup.sql"), "DROP TABLE IF EXISTS vec_items;\n").unwrap();
}

#[test]
fn vectors_are_loaded_and_bound_on_a_server_with_pgvector() {
    let bindir = std::env::var("STORMBENCH_TEST_PG18_BINDIR").unwrap_or_else(|_| {
        panic!("STORMBENCH_TEST_PG18_BINDIR is not set: run scripts/pg-extra-versions.sh install and eval \"$(scripts/pg-extra-versions.sh env)\" (scripts/test.sh does both)")
    });
    let cluster = EmbeddedCluster::start(&EmbeddedOptions {
        bindir: Some(bindir.clone().into()),
        ..Default::default()
    })
    .expect("cluster starts");
    let port = cluster.port().to_string();
    let dir = tempdir();
    vecdemo(dir.path());
    let json = dir.path().join("report.json");
    let o = stormbench_on_port(&port)
        .arg("--workloads-path")
        .arg(dir.path())
        .args([
            "-w",
            "vecdemo_mixed",
            "--setup",
            "-d",
            "3s",
            "--workers",
            "4",
            "--json",
        ])
        .arg(&json)
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "stdout:\n{out}\nstderr:\n{err}");
    let r = read_json(&json);
    assert_eq!(r["errors"]["total"].as_u64(), Some(0), "{}", r["errors"]);
    let kinds = r["transactions"].as_array().unwrap();
    for k in kinds {
        assert!(
            k["transactions"].as_u64().unwrap() > 0,
            "no {} transaction succeeded",
            k["name"]
        );
    }
    let psql = |sql: &str| {
        let o = ok(Command::new(Path::new(&bindir).join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "stormbench",
                "-d",
                "postgres",
            ])
            .args(["-qAtc", sql]));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    // 2,000 loaded rows plus the inserts of the run, every vector of 8 values in range;
    let added = kinds
        .iter()
        .find(|k| k["name"] == "add")
        .and_then(|k| k["transactions"].as_u64())
        .unwrap();
    // (an insert in flight at the end commits but is not counted: at most one per worker)
    let rows: u64 = psql("SELECT count(*) FROM vec_items").parse().unwrap();
    assert!(
        (2000 + added..=2000 + added + 4).contains(&rows),
        "{rows} rows after {added} counted inserts"
    );
    assert_eq!(
        psql("SELECT min(vector_dims(embedding)) = 8 AND max(vector_dims(embedding)) = 8 FROM vec_items"),
        "t"
    );
    assert_eq!(
        psql("SELECT bool_and(x BETWEEN -1 AND 1) FROM vec_items, unnest(embedding::real[]) x"),
        "t"
    );
    // distinct rows got distinct vectors (generated, not one constant)
    assert_eq!(
        psql("SELECT count(DISTINCT embedding::text) > 1990 FROM vec_items WHERE id <= 2000"),
        "t"
    );
}

#[test]
fn without_pgvector_the_requirement_stops_the_run_before_setup() {
    let pg = pg();
    let db = pg.fresh_db("vector_missing");
    let dir = tempdir();
    vecdemo(dir.path());
    let o = pg
        .stormbench(&db)
        .arg("--workloads-path")
        .arg(dir.path())
        .args(["-w", "vecdemo_knn", "--setup", "-d", "1s"])
        .output()
        .unwrap();
    if pg.psql(
        &db,
        "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'",
    ) == "1"
    {
        // a test cluster with pgvector installed: the run works instead
        assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
        return;
    }
    let err = assert_clean_failure(&o, 1);
    assert!(
        err.contains("requires.extensions: the server has no extension 'vector'"),
        "{err}"
    );
    assert!(err.contains("pgvector"), "{err}");
    assert_eq!(
        pg.psql(
            &db,
            "SELECT count(*) FROM pg_tables WHERE tablename = 'vec_items'"
        ),
        "0"
    );
}
