//! Locks: one set-up at a time per database, and waits behind another session's lock that
//! are bounded, stop on Ctrl-C and leave nothing queued on the server.

use std::io::Write as _;
use std::process::{Child, Command, Stdio};

use crate::common::*;
use crate::{beside_a_users_table, run, schema_files, set_up, setup_simple};

/// A psql session holding stormbench's set-up lock until it is dropped.
struct LockHolder(Child);

impl LockHolder {
    fn take(pg: &Pg, db: &str) -> Self {
        let mut child = Command::new(pg.bindir.join("psql"))
            .args([
                "-h", &pg.host, "-p", &pg.port, "-U", &pg.user, "-d", db, "-qAt",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("psql starts");
        let key = i64::from_be_bytes(*b"stormbnc");
        let stdin = child.stdin.as_mut().unwrap();
        writeln!(stdin, "SELECT pg_advisory_lock({key});").unwrap();
        stdin.flush().unwrap();
        // wait until the lock shows as granted
        for _ in 0..100 {
            if pg.psql(
                db,
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            ) == "1"
            {
                return LockHolder(child);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the lock was not taken");
    }
}

impl Drop for LockHolder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn one_setup_at_a_time_per_database() {
    let pg = pg();
    let db = pg.fresh_db("safe_lock");
    let holder = LockHolder::take(&pg, &db);
    for action in ["--setup", "--cleanup"] {
        let o = run(pg
            .stormbench(&db)
            .args(["-w", "simple", action, "--no-run", "-q"]));
        let err = assert_clean_failure(&o, 1);
        assert!(
            err.contains("another stormbench is setting up"),
            "{action}: {err}"
        );
    }
    assert_eq!(
        pg.psql(&db, "SELECT to_regclass('simple_accounts') IS NULL"),
        "t"
    );
    drop(holder);
    setup_simple(&pg, &db);
}

/// Another session's lock on a table stormbench would drop: the wait is bounded (30 s, or
/// the session's own `lock_timeout`), Ctrl-C while waiting cancels the drop on the server
/// and a stormbench killed while waiting has it abandoned (it does not run later, once the
/// lock goes), and the tables stay as they were.
#[test]
fn a_drop_behind_another_sessions_lock_is_bounded_and_cancelled_on_ctrl_c() {
    use std::time::{Duration, Instant};
    let pg = pg();
    let db = pg.fresh_db("lock_wait");
    setup_simple(&pg, &db);
    // another session reads a table for longer than every step below takes
    let holder = pg.lock_holder(&db, "SELECT count(*) FROM simple_accounts", 50);
    let count = |sql: &str| pg.psql(&db, sql).parse::<u32>().unwrap();
    let until = |what: &str, sql: &str, n: u32| pg.wait_count(&db, what, sql, n);
    let waiting = STORMBENCH_LOCK_WAITS;
    let cleanup = || {
        let mut c = pg.stormbench(&db);
        c.args(["-w", "simple", "--cleanup"]);
        c
    };
    // Ctrl-C while the drop waits: stopped at once, the drop cancelled on the server
    let child = spawn(&mut cleanup());
    until("the drop never waited for the lock", waiting, 1);
    signal(&child, libc::SIGINT);
    let (o, took) = wait_at_most(child, Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(130), "{:?}", text(&o));
    assert!(took < Duration::from_secs(3), "took {took:?}");
    until("the interrupted drop still waits on the server", waiting, 0);
    // killed while the drop waits: the server abandons the drop when it finds the client gone
    let mut child = spawn(&mut cleanup());
    until("the drop never waited for the lock", waiting, 1);
    child.kill().unwrap();
    child.wait().unwrap();
    until(
        "the killed stormbench's drop still waits on the server",
        waiting,
        0,
    );
    // left alone, the wait ends after 30 s, naming the cause
    let t0 = Instant::now();
    let err = assert_clean_failure(&run(&mut cleanup()), 1);
    let took = t0.elapsed();
    assert!(err.contains("another session holds a lock"), "{err}");
    assert!(
        took >= Duration::from_secs(29) && took < Duration::from_secs(40),
        "took {took:?}"
    );
    // a lock_timeout the database sets is kept
    pg.psql(
        "postgres",
        &format!("ALTER DATABASE {db} SET lock_timeout = '2s'"),
    );
    let t0 = Instant::now();
    let err = assert_clean_failure(&run(&mut cleanup()), 1);
    assert!(err.contains("lock timeout"), "{err}");
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
    // once the holder is gone, nothing dropped anything behind its back
    let (o, _) = wait_at_most(holder, Duration::from_secs(60));
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(
        count(
            "SELECT count(*) FROM pg_tables WHERE tablename IN ('simple_accounts', 'simple_history')"
        ),
        2
    );
    assert!(run(&mut cleanup()).status.success());
}

/// `check-workload` and a PostgreSQL results history open sessions of their own beside a
/// run's: killed while one waits behind another session's lock, the server abandons the
/// statement instead of running it once the lock goes (nothing lands in the history later).
#[test]
fn killed_while_waiting_for_a_lock_check_workload_and_the_history_leave_nothing_queued() {
    use std::time::Duration;
    let pg = pg();
    let db = pg.fresh_db("lock_wait_side");
    let dir = tempdir();
    let killed_while_waiting = |c: &mut Command, what: &str| {
        let mut child = spawn(c);
        pg.wait_count(&db, what, STORMBENCH_LOCK_WAITS, 1);
        child.kill().unwrap();
        child.wait().unwrap();
        pg.wait_count(
            &db,
            "the killed stormbench's statement still waits on the server",
            STORMBENCH_LOCK_WAITS,
            0,
        );
    };

    // a declarative workload whose statement reads a table of the user's
    pg.psql(&db, "CREATE TABLE sbt_user_table (v int)");
    let workload = dir.path().join("reads_users_table");
    std::fs::create_dir(&workload).unwrap();
    std::fs::write(
        workload.join("workload.yaml"),
        "transactions:\n  - name: t\n    statements:\n      - sql: SELECT count(*) FROM sbt_user_table\n",
    )
    .unwrap();
    let holder = pg.lock_holder(
        &db,
        "LOCK TABLE sbt_user_table IN ACCESS EXCLUSIVE MODE",
        51,
    );
    killed_while_waiting(
        pg.stormbench(&db).arg("check-workload").arg(&workload),
        "check-workload never waited for the lock",
    );
    pg.release(&db, holder);

    // a report imported into a history whose table another session has locked
    let store = format!(
        "postgresql://{}@{}:{}/{db}?sslmode=disable",
        pg.user, pg.host, pg.port
    );
    let json = dir.path().join("r.json");
    ok(pg
        .stormbench(&db)
        .args(["-w", "noop", "-d", "1s", "--history", "off", "--json"])
        .arg(&json));
    ok(stormbench().args(["history", "--store", &store]));
    let holder = pg.lock_holder(
        &db,
        "LOCK TABLE stormbench_history IN ACCESS EXCLUSIVE MODE",
        51,
    );
    killed_while_waiting(
        stormbench()
            .args(["history", "--store", &store, "--import"])
            .arg(&json),
        "the history's insert never waited for the lock",
    );
    pg.release(&db, holder);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(pg.psql(&db, "SELECT count(*) FROM stormbench_history"), "0");
}

/// An after_load step waiting behind another session's lock: Ctrl-C stops the set-up at
/// once and the server abandons the statement; left alone, the wait ends after 30 s naming
/// the cause (the loading sessions' lock waits are bounded as stormbench's own are).
#[test]
fn an_after_load_step_behind_another_sessions_lock_is_bounded_and_stops_on_ctrl_c() {
    use std::time::{Duration, Instant};
    let pg = pg();
    let (db, dir, wl) = beside_a_users_table(
        &pg,
        "after_load_lock",
        "waits",
        "aw_items",
        schema_files("after_load: after_load.sql"),
    );
    std::fs::write(
        wl.join("after_load.sql"),
        "CREATE INDEX ON aw_items (v);\nSELECT count(*) FROM precious;\n",
    )
    .unwrap();
    let setup = || set_up(&pg, &db, dir.path(), "waits");
    // the user's session rewrites the table for longer than every step below takes
    let holder = pg.lock_holder(&db, "LOCK TABLE precious IN ACCESS EXCLUSIVE MODE", 50);
    let waiting = STORMBENCH_LOCK_WAITS;
    let child = spawn(&mut setup());
    pg.wait_count(&db, "the step never waited for the lock", waiting, 1);
    signal(&child, libc::SIGINT);
    let (o, took) = wait_at_most(child, Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(130), "{:?}", text(&o));
    assert!(took < Duration::from_secs(3), "took {took:?}");
    pg.wait_count(
        &db,
        "the interrupted step still waits on the server",
        waiting,
        0,
    );
    let t0 = Instant::now();
    let err = assert_clean_failure(&run(&mut setup()), 1);
    let took = t0.elapsed();
    assert!(
        err.contains("line 2") && err.contains("another session holds a lock"),
        "{err}"
    );
    assert!(
        took >= Duration::from_secs(29) && took < Duration::from_secs(45),
        "took {took:?}"
    );
    pg.release(&db, holder);
    let o = run(&mut setup());
    assert!(o.status.success(), "{:?}", text(&o));
}
