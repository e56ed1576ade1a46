//! The generators that shape correlated data, loaded into the real test cluster and checked
//! with SQL: the same hot parents in every child table (scrambled zipfian foreign keys),
//! values chosen by another column (`pick`), names written from other columns
//! (`template`), arithmetic on a column (`derived`), zipfian words (`text`), lognormal
//! prices, recent-heavy times, and helper columns that are generated but not loaded.

mod common;

use std::path::Path;

use common::*;

const YAML: &str = r#"
description: correlated data
schema: {create: schema.sql}
data:
  - table: g_title
    rows_per_scale: 5000
    columns:
      id: {sequence: {}}
      kind_id: {uniform: {min: 1, max: 3}}
      info: {pick: {by: kind_id, values: {1: {choice: [Drama, Comedy]}, 2: {constant: Documentary}}, default: {constant: other}}}
      year: {uniform: {min: 1950, max: 2020}}
      decade: {derived: {column: year, add: 0, multiply: 1, modulo: 10}}
      title: {text: {words: 2..5, vocabulary: 2000, theta: 1.0}}
      price: {lognormal: {median: 20, sigma: 0.5, min: 1, max: 500, type: float, decimals: 2}}
      created_at: {timestamp: {from: "2020-01-01", to: "2025-01-01", skew: recent, half_life: 180d}}
  - table: g_person
    rows_per_scale: 2000
    columns:
      id: {sequence: {}}
      first_name: {fake: first_name}
      last_name: {fake: last_name}
      name: {template: "{last_name}, {first_name}"}
      _parity: {derived: {column: id, modulo: 2}}
      gender: {pick: {by: _parity, values: {0: {constant: f}, 1: {constant: m}}}}
  - table: g_cast
    rows_per_scale: 40000
    columns:
      movie_id: {foreign_key: {table: g_title, distribution: zipfian, theta: 0.9, scramble: true}}
      person_id: {foreign_key: {table: g_person, distribution: zipfian, theta: 0.9, scramble: true}}
      _person_parity: {derived: {column: person_id, modulo: 2}}
      role: {pick: {by: _person_parity, values: {0: {constant: actress}, 1: {constant: actor}}}}
  - table: g_info
    rows_per_scale: 30000
    columns:
      movie_id: {foreign_key: {table: g_title, distribution: zipfian, theta: 0.9, scramble: true}}
transactions:
  - name: read
    statements:
      - sql: SELECT info FROM g_title WHERE id = $1
        params: [{foreign_key: g_title}]
"#;

const SCHEMA: &str = "
CREATE TABLE g_title (id bigint PRIMARY KEY, kind_id int, info text, year int, decade int, title text, price numeric(10,2), created_at timestamptz);
CREATE TABLE g_person (id bigint PRIMARY KEY, first_name text, last_name text, name text, gender text);
CREATE TABLE g_cast (movie_id bigint, person_id bigint, role text);
CREATE TABLE g_info (movie_id bigint);
";

fn workload(root: &Path) {
    let dir = root.join("gdata");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("workload.yaml"), YAML).unwrap();
    std::fs::write(dir.join("schema.sql"), SCHEMA).unwrap();
}

#[test]
fn correlated_generators_keep_their_promises_in_the_database() {
    let pg = pg();
    let db = pg.fresh_db("gen_server");
    let dir = tempdir();
    workload(dir.path());
    ok(pg
        .stormbench(&db)
        .arg("--workloads-path")
        .arg(dir.path())
        .args(["-w", "gdata", "--setup", "--no-run", "-q"]));
    let q = |sql: &str| pg.psql(&db, sql);
    // the same titles are hot in both child tables, and not the lowest ids
    let hot_cast = q("SELECT movie_id FROM g_cast GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 5");
    let hot_info = q("SELECT movie_id FROM g_info GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 5");
    let first = |s: &str| s.lines().next().unwrap().to_string();
    assert_eq!(first(&hot_cast), first(&hot_info), "{hot_cast}\n{hot_info}");
    let shared = hot_cast
        .lines()
        .filter(|l| hot_info.lines().any(|m| m == *l))
        .count();
    assert!(
        shared >= 4,
        "top 5 shared {shared}: {hot_cast} / {hot_info}"
    );
    assert_ne!(first(&hot_cast), "1");
    // the hottest title is far above the median
    assert_eq!(
        q("SELECT max(c) > 20 * percentile_cont(0.5) WITHIN GROUP (ORDER BY c) FROM (SELECT count(*) c FROM g_cast GROUP BY movie_id) s"),
        "t"
    );
    // values chosen by another column
    assert_eq!(
        q("SELECT count(*) FROM g_title WHERE (kind_id = 1 AND info NOT IN ('Drama', 'Comedy')) OR (kind_id = 2 AND info <> 'Documentary') OR (kind_id = 3 AND info <> 'other')"),
        "0"
    );
    // a name written from two other columns, and arithmetic on a column
    assert_eq!(
        q("SELECT count(*) FROM g_person WHERE name <> last_name || ', ' || first_name"),
        "0"
    );
    assert_eq!(
        q("SELECT count(*) FROM g_title WHERE decade <> year % 10"),
        "0"
    );
    // zipfian words: the most common word is in far more titles than a rare one
    let common: f64 = q("SELECT count(*) FROM g_title t, regexp_split_to_table(t.title, ' ') w GROUP BY w ORDER BY 1 DESC LIMIT 1").parse().unwrap();
    let words: f64 =
        q("SELECT count(DISTINCT w) FROM g_title t, regexp_split_to_table(t.title, ' ') w")
            .parse()
            .unwrap();
    assert!(
        common > 500.0 && words > 300.0,
        "common {common}, distinct {words}"
    );
    // lognormal prices around their median, recent-heavy creation times
    let median: f64 = q("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY price) FROM g_title")
        .parse()
        .unwrap();
    assert!((17.0..23.0).contains(&median), "median price {median}");
    assert_eq!(
        q("SELECT count(*) FILTER (WHERE created_at > '2024-07-05') > 2 * count(*) FILTER (WHERE created_at < '2020-06-30') FROM g_title"),
        "t"
    );
}
