//! Set-up and clean-up statements may not write, add to, rewrite or set the sequences of
//! a user's table.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::*;
use crate::{after_load_refused, beside_a_users_table, run, schema_files, set_up};

/// The schema file of the workload of [`setup_statements_cannot_write_a_users_rows`]: its
/// own table, to which a step adds a statement of its own.
const SR_CREATE: &str = "CREATE TABLE sr_items (id bigint, v int);\n";

/// Writes of rows of the user's table `precious`, refused in a schema or after_load file.
const WRITES: [&str; 5] = [
    "DELETE FROM precious;",
    "UPDATE precious SET id = 5;",
    "INSERT INTO precious VALUES (2);",
    "COPY precious FROM PROGRAM 'echo 9';",
    "WITH d AS (DELETE FROM precious RETURNING 1) SELECT count(*) FROM d;",
];

/// The user's table `precious` as `count:min(id)`: `1:1` while no write of it went through.
fn precious(pg: &Pg, db: &str) -> String {
    pg.psql(db, "SELECT count(*) || ':' || min(id) FROM precious")
}

/// The last values of the user's sequences, `precious_seq` and the one behind its serial
/// column `n`, as `seq:serial`.
fn precious_sequences(pg: &Pg, db: &str) -> String {
    pg.psql(
        db,
        "SELECT last_value || ':' || (SELECT last_value FROM precious_n_seq) FROM precious_seq",
    )
}

/// The set-up writes rows only into tables it created: an INSERT, UPDATE, DELETE or COPY of
/// a user's table, in a schema file or an after_load file, is refused (rolled back, the
/// set-up stopped), and so is a schema file adding an index, foreign key, child table or
/// trigger to it, while the workload's own tables take writes and maintenance runs.
#[test]
fn setup_statements_cannot_write_a_users_rows() {
    let pg = pg();
    let (db, dir, wl) = beside_a_users_table(
        &pg,
        "setup_rows",
        "rows",
        "sr_items",
        schema_files("after_load: after_load.sql"),
    );
    let setup = || run(&mut set_up(&pg, &db, dir.path(), "rows"));
    std::fs::write(wl.join("after_load.sql"), "").unwrap();
    schema_files_cannot_write_its_rows(&pg, &db, &wl, &setup);
    // what adds to the user's table rather than writing its rows: caught by its DDL lock
    pg.psql(&db, "ALTER TABLE precious ADD PRIMARY KEY (id)");
    schema_files_cannot_add_to_it(&pg, &db, &wl, &setup);
    std::fs::write(wl.join("schema.sql"), SR_CREATE).unwrap();
    after_load_files_cannot_write_its_rows(&pg, &db, &wl, &setup);
    after_load_files_cannot_rebuild_or_rewrite_it(&pg, &db, &wl, &setup);
    its_sequences_are_not_set(&pg, &db, &wl, &setup);
    its_own_tables_take_writes_and_maintenance(&pg, &db, &wl, &setup);
    its_own_sequence_is_its_own(&pg, &db, dir.path(), &wl);
}

/// Each of [`WRITES`] in the schema file: refused, nothing set up, the user's rows kept.
fn schema_files_cannot_write_its_rows(pg: &Pg, db: &str, wl: &Path, setup: &dyn Fn() -> Output) {
    for write in WRITES {
        std::fs::write(wl.join("schema.sql"), format!("{SR_CREATE}{write}\n")).unwrap();
        let err = assert_clean_failure(&setup(), 1);
        assert!(
            err.contains("its schema files insert, update or delete rows of public.precious")
                && err.contains("nothing was changed"),
            "schema {write}: {err}"
        );
        assert_eq!(precious(pg, db), "1:1", "schema {write}");
        assert_eq!(
            pg.psql(
                db,
                "SELECT count(*) FROM pg_tables WHERE tablename = 'sr_items'"
            ),
            "0",
            "schema {write}"
        );
    }
}

/// A schema file adding an index, a foreign key, a child table or a trigger to the user's
/// table `precious` (which has its primary key): refused, none of them added.
fn schema_files_cannot_add_to_it(pg: &Pg, db: &str, wl: &Path, setup: &dyn Fn() -> Output) {
    for change in [
        "CREATE INDEX precious_v ON precious (id);",
        "ALTER TABLE sr_items ADD FOREIGN KEY (v) REFERENCES precious (id);",
        "CREATE TABLE sr_child () INHERITS (precious);",
        "CREATE TRIGGER sr_t BEFORE DELETE ON precious FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();",
    ] {
        std::fs::write(wl.join("schema.sql"), format!("{SR_CREATE}{change}\n")).unwrap();
        let err = assert_clean_failure(&setup(), 1);
        assert!(
            err.contains("change public.precious, which stormbench did not create")
                && err.contains("nothing was changed"),
            "schema {change}: {err}"
        );
        assert_eq!(
            pg.psql(
                db,
                "SELECT (SELECT count(*) FROM pg_index WHERE indrelid = 'precious'::regclass) \
                 || ':' || (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'precious'::regclass) \
                 || ':' || (SELECT count(*) FROM pg_inherits WHERE inhparent = 'precious'::regclass)"
            ),
            "1:0:0",
            "schema {change}"
        );
    }
}

/// Each of [`WRITES`] as line 2 of the after_load file: refused and rolled back.
fn after_load_files_cannot_write_its_rows(
    pg: &Pg,
    db: &str,
    wl: &Path,
    setup: &dyn Fn() -> Output,
) {
    for write in WRITES {
        let err = after_load_refused(wl, "sr_items", write, setup);
        assert!(
            err.contains("line 2")
                && err.contains("would drop or change public.precious")
                && err.contains("rolled back"),
            "after_load {write}: {err}"
        );
        assert_eq!(precious(pg, db), "1:1", "after_load {write}");
    }
}

/// After_load statements that would build indexes on the user's table or rewrite it outside
/// a transaction: refused, its indexes and its file as they were.
fn after_load_files_cannot_rebuild_or_rewrite_it(
    pg: &Pg,
    db: &str,
    wl: &Path,
    setup: &dyn Fn() -> Output,
) {
    // index builds outside a transaction on the user's table (or every table) do not start
    for build in [
        "CREATE INDEX CONCURRENTLY ON precious (id);",
        "REINDEX TABLE CONCURRENTLY public.precious;",
        "REINDEX INDEX CONCURRENTLY precious_pkey;",
        "REINDEX SCHEMA CONCURRENTLY public;",
    ] {
        let err = after_load_refused(wl, "sr_items", build, setup);
        assert!(
            err.contains("line 2") && err.contains("would build or rebuild indexes on"),
            "after_load {build}: {err}"
        );
        assert_eq!(
            pg.psql(
                db,
                "SELECT count(*) FROM pg_index WHERE indrelid = 'precious'::regclass"
            ),
            "1",
            "after_load {build}"
        );
    }
    // rewrites of the user's table outside a transaction (`VACUUM FULL` of it or of every
    // table, `CLUSTER` of every clustered table) do not start; `CLUSTER` of it runs in the
    // guarded transaction and is rolled back
    pg.psql(db, "CLUSTER precious USING precious_pkey");
    let filenode = || pg.psql(db, "SELECT pg_relation_filenode('precious')");
    let before = filenode();
    for rewrite in [
        "VACUUM FULL precious;",
        "VACUUM (FULL, ANALYZE) sr_items, public.precious (id);",
        "VACUUM (VERBOSE, FULL true);",
        "CLUSTER;",
        "CLUSTER VERBOSE;",
        "CLUSTER precious;",
    ] {
        let err = after_load_refused(wl, "sr_items", rewrite, setup);
        assert!(
            err.contains("line 2")
                && (err.contains("would rewrite")
                    || err.contains("would drop or change public.precious")),
            "after_load {rewrite}: {err}"
        );
        assert_eq!(filenode(), before, "after_load {rewrite}");
    }
}

/// The user's sequences, in a schema file and in an after_load file: named, not set;
/// reached through an expression, reported as changed.
fn its_sequences_are_not_set(pg: &Pg, db: &str, wl: &Path, setup: &dyn Fn() -> Output) {
    // the user's sequences (one of its own, one behind a serial column): a `setval` naming
    // one does not run; one reaching it through an expression is reported, saying that its
    // value stays changed (no rollback undoes a sequence's)
    pg.psql(
        db,
        "CREATE SEQUENCE precious_seq; SELECT nextval('precious_seq'); \
         ALTER TABLE precious ADD COLUMN n serial",
    );
    let named = [
        "SELECT setval('precious_seq', 1000);",
        "SELECT setval('public.precious_n_seq', 1000);",
        "SELECT nextval('precious_seq');",
        // in a block whose failure is caught: the lock the call took goes with its
        // subtransaction, the value stays
        "DO $$ BEGIN PERFORM setval('precious_seq', 1000); RAISE EXCEPTION 'undo'; \
         EXCEPTION WHEN others THEN NULL; END $$;",
    ];
    for set in named {
        std::fs::write(wl.join("schema.sql"), format!("{SR_CREATE}{set}\n")).unwrap();
        std::fs::write(wl.join("after_load.sql"), "").unwrap();
        let err = assert_clean_failure(&setup(), 1);
        assert!(
            err.contains("line 2")
                && err.contains("would set or advance the sequence of public.precious")
                && err.contains("it was not run"),
            "schema {set}: {err}"
        );
        std::fs::write(wl.join("schema.sql"), SR_CREATE).unwrap();
        let err = after_load_refused(wl, "sr_items", set, setup);
        assert!(
            err.contains("line 2")
                && err.contains("would set or advance the sequence of public.precious")
                && err.contains("it was not run"),
            "after_load {set}: {err}"
        );
        assert_eq!(precious_sequences(pg, db), "1:1", "{set}");
    }
    let hidden = "SELECT setval(pg_get_serial_sequence('precious', 'n'), 1000);";
    std::fs::write(wl.join("schema.sql"), format!("{SR_CREATE}{hidden}\n")).unwrap();
    let err = assert_clean_failure(&setup(), 1);
    assert!(
        err.contains("set or advance the sequence of public.precious,")
            && err.contains("a sequence's value is not"),
        "schema {hidden}: {err}"
    );
    assert_eq!(precious_sequences(pg, db), "1:1000");
    pg.psql(db, "SELECT setval('precious_n_seq', 1, false)");
    std::fs::write(wl.join("schema.sql"), SR_CREATE).unwrap();
    let err = after_load_refused(wl, "sr_items", hidden, setup);
    assert!(
        err.contains("line 2")
            && err.contains("set or advanced the sequence of public.precious,")
            && err.contains("a sequence's value is not"),
        "after_load {hidden}: {err}"
    );
    assert_eq!(precious_sequences(pg, db), "1:1000");
}

/// What the set-up may do: write its own tables, maintain them and the user's, and build an
/// index of its own outside a transaction; the user's rows stay as they were.
fn its_own_tables_take_writes_and_maintenance(
    pg: &Pg,
    db: &str,
    wl: &Path,
    setup: &dyn Fn() -> Output,
) {
    // writes to its own tables, a write of the user's that changes no row, maintenance (a
    // rewrite of its own table, a plain vacuum of the user's) and a concurrent index build
    // (outside a transaction) run
    std::fs::write(
        wl.join("after_load.sql"),
        "ALTER TABLE sr_items ADD PRIMARY KEY (id);\nUPDATE sr_items SET v = 2;\n\
         DELETE FROM precious WHERE id = 77;\nCREATE INDEX CONCURRENTLY sr_v ON sr_items (v);\n\
         ANALYZE;\nVACUUM sr_items;\nVACUUM FULL sr_items;\nVACUUM (FULL false) precious;\n",
    )
    .unwrap();
    let o = setup();
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(pg.psql(db, "SELECT sum(v) FROM sr_items"), "20");
    assert_eq!(
        pg.psql(
            db,
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'sr_v'"
        ),
        "1"
    );
    assert_eq!(precious(pg, db), "1:1");
}

/// A sequence the workload makes in one schema file may be set by the next and advanced by
/// after_load (a `--rebuild` of workload `rows` in `dir`); the user's stay as they were.
fn its_own_sequence_is_its_own(pg: &Pg, db: &str, dir: &Path, wl: &Path) {
    // its own sequence, made by one schema file and set by the next, is its own
    let yaml = std::fs::read_to_string(wl.join("workload.yaml")).unwrap();
    std::fs::write(
        wl.join("workload.yaml"),
        yaml.replace("create: schema.sql", "create: [schema.sql, later.sql]"),
    )
    .unwrap();
    std::fs::write(
        wl.join("schema.sql"),
        format!("{SR_CREATE}CREATE SEQUENCE sr_seq;\n"),
    )
    .unwrap();
    std::fs::write(wl.join("later.sql"), "SELECT setval('sr_seq', 42);\n").unwrap();
    std::fs::write(wl.join("after_load.sql"), "SELECT nextval('sr_seq');\n").unwrap();
    let o = run(pg
        .stormbench(db)
        .args([
            "-w",
            "rows",
            "--rebuild",
            "--no-run",
            "-q",
            "--workloads-path",
        ])
        .arg(dir));
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(pg.psql(db, "SELECT last_value FROM sr_seq"), "43");
    assert_eq!(precious_sequences(pg, db), "1:1000");
}

/// Counts the table `ct_items` of the workload of
/// [`cleanup_files_cannot_empty_or_change_a_users_table`]: 1 while it stands, 0 once dropped.
const CT_ITEMS: &str = "SELECT count(*) FROM pg_tables WHERE tablename = 'ct_items'";

/// A declarative workload's cleanup files may drop, empty and change only what its set-up
/// created: a TRUNCATE, DELETE or ALTER of a user's table in them is rolled back with the
/// whole clean-up, naming the table, even with --force-drop.
#[test]
fn cleanup_files_cannot_empty_or_change_a_users_table() {
    let pg = pg();
    let (db, dir, wl) = beside_a_users_table(
        &pg,
        "cleanup_rows",
        "tidy",
        "ct_items",
        schema_files("cleanup: cleanup.sql"),
    );
    let stormbench = |args: &[&str]| {
        let mut c = pg.stormbench(&db);
        c.args(["-w", "tidy", "-q"])
            .args(args)
            .arg("--workloads-path")
            .arg(dir.path());
        c
    };
    // sets the workload up, then makes `stmt` line 2 of its cleanup file
    let set_up_then_clean_with = |stmt: &str| {
        std::fs::write(wl.join("cleanup.sql"), "DROP TABLE IF EXISTS ct_items;\n").unwrap();
        ok(&mut stormbench(&["--setup", "--no-run"]));
        std::fs::write(
            wl.join("cleanup.sql"),
            format!("DROP TABLE IF EXISTS ct_items;\n{stmt}\n"),
        )
        .unwrap();
    };
    for stmt in [
        "TRUNCATE precious;",
        "DELETE FROM precious;",
        "ALTER TABLE precious ADD COLUMN note text;",
        // what adds to it or describes it: seen by the lock it takes (--force-drop lets a
        // drop the user asked for lock what referenced the dropped table)
        "CREATE INDEX precious_i ON precious (id);",
        "COMMENT ON TABLE precious IS 'gone';",
    ] {
        set_up_then_clean_with(stmt);
        let seen_by_its_lock = stmt.starts_with("CREATE INDEX") || stmt.starts_with("COMMENT");
        let forced: &[&[&str]] = if !seen_by_its_lock {
            &[&[], &["--force-drop"]]
        } else {
            &[&[]]
        };
        for &force in forced {
            let err = fails(&mut stormbench(&[&["--cleanup"][..], force].concat()), 1);
            assert!(
                err.contains("cleanup files would empty or change public.precious")
                    && err.contains("nothing was dropped"),
                "{stmt} {force:?}: {err}"
            );
            assert_eq!(pg.psql(&db, "SELECT count(*) FROM precious"), "1", "{stmt}");
            assert_eq!(
                pg.psql(
                    &db,
                    "SELECT count(*) FROM information_schema.columns WHERE table_name = 'precious'"
                ),
                "1",
                "{stmt}"
            );
            assert_eq!(pg.psql(&db, CT_ITEMS), "1", "{stmt}: rolled back whole");
            assert_eq!(
                pg.psql(
                    &db,
                    "SELECT count(*) || ':' || coalesce(obj_description('precious'::regclass, \
                     'pg_class'), '-') FROM pg_index WHERE indrelid = 'precious'::regclass"
                ),
                "0:-",
                "{stmt}"
            );
        }
        std::fs::write(wl.join("cleanup.sql"), "DROP TABLE IF EXISTS ct_items;\n").unwrap();
        ok(&mut stormbench(&["--cleanup"]));
        assert_eq!(pg.psql(&db, CT_ITEMS), "0");
    }
    cleanup_files_do_not_set_a_users_sequence(&pg, &db, &stormbench, &set_up_then_clean_with);
}

/// A cleanup file (set up, then made to hold a statement by `set_up_then_clean_with`, run by
/// `stormbench` with `--cleanup`) that sets the user's sequence: named to setval, refused
/// unset; reached through an expression, reported as set; the clean-up rolled back whole.
fn cleanup_files_do_not_set_a_users_sequence(
    pg: &Pg,
    db: &str,
    stormbench: &dyn Fn(&[&str]) -> Command,
    set_up_then_clean_with: &dyn Fn(&str),
) {
    // a sequence of the user's named to setval is not set (no rollback would undo it);
    // reached through an expression it is reported, its value said to be changed
    pg.psql(
        db,
        "CREATE SEQUENCE precious_seq; ALTER TABLE precious ADD COLUMN n serial",
    );
    for (stmt, said, after) in [
        (
            "SELECT setval('precious_seq', 50);",
            "would set or advance the sequence of public.precious_seq",
            "1:1",
        ),
        (
            "SELECT setval(pg_get_serial_sequence('precious', 'n'), 50);",
            "set or advance the sequence of public.precious,",
            "1:50",
        ),
    ] {
        set_up_then_clean_with(stmt);
        let err = fails(&mut stormbench(&["--cleanup"]), 1);
        assert!(
            err.contains(said) && err.contains("not rolled back"),
            "{stmt}: {err}"
        );
        assert_eq!(precious_sequences(pg, db), after, "{stmt}");
        assert_eq!(pg.psql(db, CT_ITEMS), "1", "{stmt}: rolled back whole");
    }
}
