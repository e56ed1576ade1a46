//! The `imdb` workload (workloads/imdb) on the real test cluster: set up at scale 1, the
//! data keeping what makes the Join Order Benchmark meaningful (the same hot titles in
//! every child table, `info` values that match their type, actresses with gender 'f',
//! names written 'Last, First', the keywords and companies its templates name), every
//! application mode run without a failure, and queries of a folder run as a suite (each
//! once per pass) with their q-error reported.

mod common;

use common::*;

fn config(dir: &std::path::Path, name: &str, body: &str) -> std::path::PathBuf {
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &p,
        format!(
            "workloads_path: [{}/workloads]\nworkload: imdb\n{body}\n",
            env!("CARGO_MANIFEST_DIR")
        ),
    )
    .unwrap();
    p
}

/// JOB-shaped queries written for this test (the benchmark's own text is the user's to
/// point at).
const QUERIES: &[(&str, &str)] = &[
    ("1a.sql", "SELECT min(mc.note), min(t.title), min(t.production_year)
FROM company_type ct, info_type it, movie_companies mc, movie_info_idx mi_idx, title t
WHERE ct.kind = 'production companies' AND it.info = 'top 250 rank'
  AND mc.note NOT LIKE '%(as Metro-Goldwyn-Mayer Pictures)%'
  AND (mc.note LIKE '%(co-production)%' OR mc.note LIKE '%(presents)%')
  AND ct.id = mc.company_type_id AND t.id = mc.movie_id AND t.id = mi_idx.movie_id
  AND mc.movie_id = mi_idx.movie_id AND it.id = mi_idx.info_type_id;"),
    ("2a.sql", "SELECT min(t.title) FROM company_name cn, keyword k, movie_companies mc, movie_keyword mk, title t
WHERE cn.country_code = '[us]' AND k.keyword = 'character-name-in-title'
  AND cn.id = mc.company_id AND mc.movie_id = t.id AND t.id = mk.movie_id
  AND mk.keyword_id = k.id AND mc.movie_id = mk.movie_id;"),
    ("10a.sql", "SELECT min(n.name), min(t.title) FROM cast_info ci, name n, role_type rt, title t
WHERE ci.note LIKE '%(voice)%' AND rt.role = 'actress' AND n.gender = 'f'
  AND t.production_year > 1990 AND t.id = ci.movie_id AND n.id = ci.person_id AND rt.id = ci.role_id;"),
];

#[test]
fn imdb_keeps_its_data_promises_runs_its_modes_and_a_query_suite() {
    let pg = pg();
    let db = pg.fresh_db("imdb");
    let dir = tempdir();
    ok(pg
        .stormbench(&db)
        .arg("-c")
        .arg(config(dir.path(), "setup", "mode: mixed"))
        .args(["--setup", "--no-run", "-q"]));
    the_loaded_rows_look_like_imdb(&pg, &db);
    the_tables_are_correlated(&pg, &db);
    every_mode_runs_and_keeps_the_derived_rows(&pg, &db, dir.path());
    the_suite_runs_each_query_once_per_pass(&pg, &db, dir.path());
}

/// Within tables: the same hot titles in every child table, values that match their type,
/// actresses who are women, names 'Last, First', and the keywords, companies, characters
/// and titles the templates name.
fn the_loaded_rows_look_like_imdb(pg: &Pg, db: &str) {
    let q = |sql: &str| pg.psql(db, sql);
    // the same titles are hot in every child table, and they are not the first ids
    let top = |table: &str| {
        q(&format!(
            "SELECT movie_id FROM {table} GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ))
    };
    let hot = top("cast_info");
    for t in [
        "movie_info",
        "movie_keyword",
        "movie_companies",
        "movie_info_idx",
    ] {
        assert_eq!(top(t), hot, "{t}");
    }
    assert_ne!(hot, "1");
    // values that depend on their type
    assert_eq!(
        q("SELECT count(*) FROM movie_info mi JOIN info_type it ON it.id = mi.info_type_id
           WHERE it.info = 'genres' AND mi.info NOT IN ('Drama','Comedy','Documentary','Action','Thriller','Horror','Romance','Crime','Adventure','Family','Animation','Sci-Fi','Fantasy','Mystery','Short','Music','War','Western')"),
        "0"
    );
    assert_eq!(
        q("SELECT bool_and(mi.info::numeric BETWEEN 1 AND 10) FROM movie_info_idx mi JOIN info_type it ON it.id = mi.info_type_id WHERE it.info = 'rating'"),
        "t"
    );
    // actresses are women; names are 'Last, First'
    assert_eq!(
        q("SELECT count(*) FROM cast_info ci JOIN role_type rt ON rt.id = ci.role_id JOIN name n ON n.id = ci.person_id
           WHERE rt.role = 'actress' AND n.gender <> 'f'"),
        "0"
    );
    assert_eq!(
        q("SELECT count(*) FROM name WHERE name NOT LIKE '%, %'"),
        "0"
    );
    // the keywords and companies the templates name exist, on busy rows
    assert_eq!(
        q("SELECT count(*) FROM keyword WHERE keyword IN ('sequel', 'character-name-in-title', 'superhero')"),
        "3"
    );
    assert_eq!(
        q("SELECT count(*) > 10 FROM movie_companies mc JOIN company_name cn ON cn.id = mc.company_id WHERE cn.name = 'Warner Bros.'"),
        "t"
    );
    // substring search has its trigram index (pg_trgm ships with the server)
    assert_eq!(
        q("SELECT count(*) FROM pg_indexes WHERE tablename = 'title' AND indexname = 'title_trgm'"),
        "1"
    );
    // release dates written as IMDb writes them, with their notes
    assert_eq!(
        q("SELECT bool_and(info ~ '^[A-Za-z]+:[0-9]{1,2} [A-Z][a-z]+ [0-9]{4}$') AND bool_or(note = '(internet)')
           FROM movie_info WHERE info_type_id = 16"),
        "t"
    );
    // the characters and titles the named-entity templates look for
    assert_eq!(
        q(
            "SELECT (SELECT count(*) FROM char_name WHERE name IN ('Tony Stark', 'Queen'))
                + (SELECT count(*) FROM title WHERE title = 'Shrek 2' AND kind_id = 1)"
        ),
        "3"
    );
}

/// Across tables: titles led by a German company are German, sequels carry the keyword
/// and follow an earlier title.
fn the_tables_are_correlated(pg: &Pg, db: &str) {
    let q = |sql: &str| pg.psql(db, sql);
    // correlations across tables: titles led by a German company are German, sequels carry
    // the keyword and follow an earlier title
    let share = |sql: &str| q(sql).parse::<f64>().unwrap();
    let german = share(
        "SELECT avg((mi.info = 'Germany')::int) FROM movie_info mi
         JOIN (SELECT DISTINCT ON (mc.movie_id) mc.movie_id, cn.country_code
               FROM movie_companies mc JOIN company_name cn ON cn.id = mc.company_id
               ORDER BY mc.movie_id, mc.id) lead ON lead.movie_id = mi.movie_id
         WHERE mi.info_type_id = 8 AND lead.country_code = '[de]'",
    );
    let overall =
        share("SELECT avg((info = 'Germany')::int) FROM movie_info WHERE info_type_id = 8");
    assert!(
        german >= 0.85 && overall < 0.3,
        "German titles {german} vs all {overall}"
    );
    assert_eq!(
        q(
            "SELECT count(DISTINCT l.movie_id) FROM movie_link l WHERE l.link_type_id = 1
           AND NOT EXISTS (SELECT 1 FROM movie_keyword mk JOIN keyword k ON k.id = mk.keyword_id
                           WHERE mk.movie_id = l.movie_id AND k.keyword = 'sequel')"
        ),
        "0"
    );
    let earlier = share(
        "SELECT avg((p.production_year < s.production_year)::int) FROM movie_link l
         JOIN title s ON s.id = l.movie_id JOIN title p ON p.id = l.linked_movie_id
         WHERE l.link_type_id = 1 AND s.id <> p.id AND s.production_year > 1885",
    );
    assert!(earlier >= 0.9, "sequels after what they follow: {earlier}");
}

/// Each application mode runs without a failure, and what the runs wrote keeps its
/// foreign keys and the title statistics.
fn every_mode_runs_and_keeps_the_derived_rows(pg: &Pg, db: &str, dir: &std::path::Path) {
    let q = |sql: &str| pg.psql(db, sql);
    for mode in ["mixed", "read", "write_heavy"] {
        let json = dir.join(format!("{mode}.json"));
        ok(pg
            .stormbench(db)
            .arg("-c")
            .arg(config(
                dir,
                mode,
                &format!("mode: {mode}\nduration: 2s\nworkers: 4"),
            ))
            .args(["-q", "--json"])
            .arg(&json));
        let r = read_json(&json);
        validate_report_schema(&r);
        assert_eq!(r["summary"]["failed"], 0, "{mode}: {}", r["errors"]);
        assert!(r["summary"]["transactions"].as_u64().unwrap() > 0);
    }
    // titles the run added are rated and watchlisted (foreign keys with new_rows)
    assert_ne!(
        q(
            "SELECT (SELECT count(*) FROM user_ratings WHERE movie_id >= 100000000)
                + (SELECT count(*) FROM watchlists WHERE movie_id >= 100000000)"
        ),
        "0"
    );
    // the title statistics follow the ratings
    assert_eq!(
        q("SELECT count(*) FROM title_stats s LEFT JOIN (SELECT movie_id, count(*) n, sum(rating) r FROM user_ratings GROUP BY movie_id) u USING (movie_id)
           WHERE s.ratings <> coalesce(u.n, 0) OR s.rating_sum <> coalesce(u.r, 0)"),
        "0"
    );
}

/// Mode `job` over a folder of queries, and the error without the folder.
fn the_suite_runs_each_query_once_per_pass(pg: &Pg, db: &str, dir: &std::path::Path) {
    // the suite: each query once per pass, in natural order, with its q-error
    let folder = dir.join("queries");
    std::fs::create_dir_all(&folder).unwrap();
    for (f, sql) in QUERIES {
        std::fs::write(folder.join(f), sql).unwrap();
    }
    let json = dir.join("job.json");
    ok(pg
        .stormbench(db)
        .arg("-c")
        .arg(config(
            dir,
            "job",
            &format!(
                "mode: job\nworkers: 1\nwarmup: 0s\nduration: 10m\nimdb: {{job_dir: {}, passes: 2}}",
                folder.display()
            ),
        ))
        .args(["-q", "--json"])
        .arg(&json));
    let r = read_json(&json);
    let ran: Vec<(String, u64)> = r["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["transactions"].as_u64().unwrap() > 0)
        .map(|k| {
            (
                k["name"].as_str().unwrap().to_string(),
                k["transactions"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ran,
        [
            ("q1a".to_string(), 2),
            ("q2a".to_string(), 2),
            ("q10a".to_string(), 2)
        ]
    );
    let metric = |name: &str| figure_of(&r, name);
    assert_eq!(metric("suite passes"), 2.0);
    assert!(metric("q_error median") >= 1.0);
    // 1a, 2a and 10a find rows on the generated data (planted keywords and companies,
    // actresses who are women)
    assert_eq!(metric("queries with rows"), 3.0);
    // without the folder, the suite mode says what to set
    let err = fails(
        pg.stormbench(db)
            .arg("-c")
            .arg(config(dir, "nojob", "mode: job")),
        2,
    );
    assert!(
        err.contains("mode job of imdb runs the queries of a folder"),
        "{err}"
    );
}
