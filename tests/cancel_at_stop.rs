//! Statements left running on the server when a run stops (its deadline, Ctrl-C) are
//! cancelled: after stormbench has gone, nothing of it waits on the server to run later.

mod common;

use std::time::{Duration, Instant};

use common::{ok, pg, read_json, spawn, tempdir, validate_report_schema, Pg, DRIVERS};

/// What the lock holder takes: every write of simple_write waits for it.
const LOCK_WRITES: &str = "LOCK TABLE simple_accounts, simple_history IN ACCESS EXCLUSIVE MODE";

/// stormbench's sessions in `db` (other than the lock holder's psql).
fn stormbench_sessions(pg: &Pg, db: &str) -> String {
    pg.psql(
        db,
        "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock') || ' waiting, ' || count(*) || ' in all' \
         FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'stormbench'",
    )
}

/// The sessions of a stopped run are gone within a few seconds (the server ends a
/// backend whose client closed once its statement is cancelled).
fn assert_no_sessions_left(pg: &Pg, db: &str) {
    let until = Instant::now() + Duration::from_secs(5);
    let mut last = String::new();
    while Instant::now() < until {
        last = stormbench_sessions(pg, db);
        if last == "0 waiting, 0 in all" {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("stormbench's sessions still on the server after it exited: {last}");
}

fn in_flight(json: &std::path::Path) -> [u64; 3] {
    let r = read_json(json);
    validate_report_schema(&r);
    let a = &r["health"]["in_flight_at_stop"];
    ["finished", "cancelled", "unconfirmed"].map(|k| a[k].as_u64().unwrap_or_else(|| panic!("{a}")))
}

#[test]
fn statements_waiting_at_the_deadline_are_cancelled_not_left_to_run() {
    let pg = pg();
    let db = pg.loaded("cancel_at_stop", "simple");
    let dir = tempdir();

    // a run whose statements all end: nothing is cancelled at its end
    let json = dir.path().join("quiet.json");
    ok(pg
        .stormbench(&db)
        .args([
            "-w",
            "simple_mixed",
            "-d",
            "1s",
            "--workers",
            "4",
            "-q",
            "--json",
        ])
        .arg(&json));
    let [_, cancelled, unconfirmed] = in_flight(&json);
    assert_eq!((cancelled, unconfirmed), (0, 0));

    for driver in DRIVERS {
        stalled_at_the_deadline(&pg, &db, &dir, driver);
    }
}

/// Every writer waits for a lock held past the run's end.
fn stalled_at_the_deadline(pg: &Pg, db: &str, dir: &tempfile::TempDir, driver: &str) {
    let before = writes(pg, db);
    let holder = pg.lock_holder(db, LOCK_WRITES, 30);
    let json = dir.path().join(format!("stalled-{driver}.json"));
    let started = Instant::now();
    let o = pg
        .stormbench(db)
        .args(["-w", "simple_write", "-d", "2s", "--workers", "4", "--json"])
        .arg(&json)
        .args(["--driver", driver])
        .output()
        .unwrap();
    let took = started.elapsed();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{driver}: no transaction succeeded: {out}"
    );
    assert!(
        took < Duration::from_secs(10),
        "{driver}: ended in {took:?}"
    );
    assert_no_sessions_left(pg, db);
    assert_eq!(read_json(&json)["connections"]["driver"], driver);
    let [_, cancelled, unconfirmed] = in_flight(&json);
    assert_eq!((cancelled, unconfirmed), (4, 0), "{driver}: {out}");
    assert!(
        out.contains("4 statements were still running on the server after the stop: 4 cancelled"),
        "{out}"
    );
    // the lock goes: none of the run's writes runs after it
    pg.release(db, holder);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        writes(pg, db),
        before,
        "{driver}: a write of the stopped run ran after it"
    );
}

/// On connections opened per transaction too: the transaction's own connection is the
/// one left mid-statement.
#[test]
fn statements_waiting_at_ctrl_c_are_cancelled() {
    let pg = pg();
    let db = pg.loaded("cancel_at_ctrl_c", "simple");
    let dir = tempdir();
    let cfg = dir.path().join("transient.yaml");
    std::fs::write(&cfg, "connection_mode: transient\n").unwrap();
    for driver in DRIVERS {
        stalled_at_ctrl_c(&pg, &db, &dir, &cfg, driver);
    }
}

fn stalled_at_ctrl_c(
    pg: &Pg,
    db: &str,
    dir: &tempfile::TempDir,
    cfg: &std::path::Path,
    driver: &str,
) {
    let holder = pg.lock_holder(db, LOCK_WRITES, 30);
    let json = dir.path().join(format!("r-{driver}.json"));
    let child = spawn(
        pg.stormbench(db)
            .args(["--driver", driver])
            .arg("-c")
            .arg(cfg)
            .args([
                "-w",
                "simple_write",
                "-d",
                "60s",
                "--workers",
                "3",
                "--json",
            ])
            .arg(&json),
    );
    // wait until the workers wait on the lock
    let until = Instant::now() + Duration::from_secs(20);
    // (beside them, stormbench's statistics session)
    while !stormbench_sessions(pg, db).starts_with("3 waiting") {
        assert!(Instant::now() < until, "{}", stormbench_sessions(pg, db));
        std::thread::sleep(Duration::from_millis(100));
    }
    let sent = Instant::now();
    // SAFETY: kill(2) on our own child's pid with a valid signal number.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let o = child.wait_with_output().unwrap();
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "{driver}: {:?}",
        sent.elapsed()
    );
    assert_eq!(
        o.status.code(),
        Some(130),
        "{driver}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_no_sessions_left(pg, db);
    let r = read_json(&json);
    assert_eq!(
        r["config"]["connection_mode"], "transient",
        "{}",
        r["config"]
    );
    let [_, cancelled, unconfirmed] = in_flight(&json);
    assert_eq!((cancelled, unconfirmed), (3, 0), "{driver}");
    assert_eq!(r["connections"]["driver"], driver);
    pg.release(db, holder);
}

/// What simple_write changes: the rows it appends, the balances it moves.
fn writes(pg: &Pg, db: &str) -> String {
    pg.psql(
        db,
        "SELECT (SELECT count(*) FROM simple_history) || ' ' || \
         (SELECT sum(balance) FROM simple_accounts)",
    )
}
