//! stormbench is pointed at databases people care about: against the real test cluster,
//! set-up, rebuild and clean-up touch only what stormbench created, one set-up runs at a
//! time, and check-workload leaves nothing behind. The tests are in modules by topic; the
//! helpers several of them use are here.

#[path = "../common/mod.rs"]
mod common;

mod guards;
mod locks;
mod outputs;
mod recorded;
mod user_objects;
mod user_rows;
mod workload_files;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// A small declarative workload `name` in `root` whose schema file is `schema`.
fn decl_workload(root: &Path, name: &str, table: &str, schema: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("workload.yaml"),
        format!(
            "description: safety test workload\nschema: {{create: schema.sql}}\ndata:\n  - table: {table}\n    rows: 10\n    columns:\n      id: {{sequence: {{}}}}\n      v: {{constant: 1}}\ntransactions:\n  - name: read\n    statements:\n      - sql: SELECT v FROM {table} WHERE id = $1\n        params: [{{foreign_key: {table}}}]\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("schema.sql"), schema).unwrap();
    dir
}

/// Runs `c` to its end and returns its output (panics only when it cannot start).
fn run(c: &mut Command) -> std::process::Output {
    c.output().expect("stormbench runs")
}

/// Loads the simple workload into `db` (a plain `--setup`).
fn setup_simple(pg: &Pg, db: &str) {
    let o = run(pg
        .stormbench(db)
        .args(["-w", "simple", "--setup", "--no-run", "-q"]));
    assert!(o.status.success(), "{:?}", text(&o));
}

/// Edits a workload.yaml of [`beside_a_users_table`] to list `files` under `schema:` beside
/// its `create` file.
fn schema_files(files: &'static str) -> impl FnOnce(&str) -> String {
    move |y| {
        y.replace(
            "schema: {create: schema.sql}",
            &format!("schema: {{create: schema.sql, {files}}}"),
        )
    }
}

/// Makes `stmt` line 2 of the workload's after_load file (after the key of its `table`),
/// runs `setup`, and returns the error of its refusal (exit 1).
fn after_load_refused(
    wl: &Path,
    table: &str,
    stmt: &str,
    setup: &dyn Fn() -> std::process::Output,
) -> String {
    std::fs::write(
        wl.join("after_load.sql"),
        format!("ALTER TABLE {table} ADD PRIMARY KEY (id);\n{stmt}\n"),
    )
    .unwrap();
    assert_clean_failure(&setup(), 1)
}

/// `stormbench --setup --no-run -q` of workload `name` in folder `dir`, against `db`.
fn set_up(pg: &Pg, db: &str, dir: &Path, name: &str) -> Command {
    let mut c = pg.stormbench(db);
    c.args(["-w", name, "--setup", "--no-run", "-q", "--workloads-path"])
        .arg(dir);
    c
}

/// A fresh database `name` holding the user's table `precious` (one row), and beside it a
/// small declarative workload `workload` on its own table `table`, in a temp folder, its
/// workload.yaml edited by `yaml`. Returns the database, the folder and the workload's.
fn beside_a_users_table(
    pg: &Pg,
    name: &str,
    workload: &str,
    table: &str,
    yaml: impl FnOnce(&str) -> String,
) -> (String, tempfile::TempDir, PathBuf) {
    let db = pg.fresh_db(name);
    pg.psql(
        &db,
        "CREATE TABLE precious (id int); INSERT INTO precious VALUES (1)",
    );
    let dir = tempdir();
    let wl = decl_workload(
        dir.path(),
        workload,
        table,
        &format!("CREATE TABLE {table} (id bigint, v int);\n"),
    );
    let file = wl.join("workload.yaml");
    let edited = yaml(&std::fs::read_to_string(&file).unwrap());
    std::fs::write(&file, edited).unwrap();
    (db, dir, wl)
}
