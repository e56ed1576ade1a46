//! `scripts/soak.sh` as cron runs it, against the test cluster: dated reports, the exit
//! code passed through (a broken objective is 6), the previous run compared, and a second
//! run refused while the first holds the lock.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::*;

fn soak(results: &Path, config: &Path) -> Command {
    let pg = pg();
    let mut c = Command::new("bash");
    c.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/soak.sh"))
        .arg(config)
        .args(["--host", &pg.host, "--port", &pg.port, "-u", &pg.user])
        .args(["--dbname", "stormbench_test", "-w", "noop", "-d", "1s"])
        .env("STORMBENCH", env!("CARGO_BIN_EXE_stormbench"))
        .env("SOAK_RESULTS", results);
    c
}

fn dated(results: &Path, ext: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(results)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(ext) && n.len() == 16 + ext.len() && n.contains('T'))
        .collect();
    v.sort();
    v
}

#[test]
fn dated_reports_exit_codes_passed_through_and_no_overlap() {
    let dir = tempdir();
    let results = dir.path().join("soak");
    let ok_cfg = dir.path().join("ok.yaml");
    std::fs::write(&ok_cfg, "slo:\n  p99_ms: 10000\n").unwrap();
    let o = soak(&results, &ok_cfg).output().unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    assert!(
        out.contains("has no other completed run") && out.contains("soak.sh: no comparison"),
        "the first run has no baseline: {out}"
    );
    assert_eq!(dated(&results, ".json").len(), 1);
    assert_eq!(dated(&results, ".html").len(), 1);
    // a file of the user's in the results folder is never touched
    std::fs::write(results.join("notes.json"), "mine").unwrap();

    // a second run, one second later (names are per second): objectives broken -> 6, and
    // the previous run compared
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "slo:\n  min_tps: 1000000000\n").unwrap();
    let o = soak(&results, &broken).output().unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(6), "{out}\n{err}");
    assert!(
        out.contains("SLO: BROKEN") && out.contains("Compare: noop"),
        "{out}"
    );
    assert!(out.contains("base: run 1 of the history"), "{out}");
    // both runs are in the results folder's history, with their objectives' outcome
    let history = results.join("history.sqlite");
    let o = ok(stormbench().args(["history", "--store"]).arg(&history));
    let (out, _) = text(&o);
    assert!(out.contains("2 runs shown"), "{out}");
    assert!(out.contains("pass") && out.contains("FAIL"), "{out}");
    assert!(out.contains("objectives met 1/2"), "{out}");
    assert_eq!(dated(&results, ".json").len(), 2);
    assert_eq!(
        std::fs::read_to_string(results.join("notes.json")).unwrap(),
        "mine"
    );

    // while another run holds the lock, a new one starts nothing and says why
    let mut holder = Command::new("flock")
        .arg(results.join(".soak.lock"))
        .args(["sleep", "30"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let o = soak(&results, &ok_cfg).output().unwrap();
    let _ = holder.kill();
    let _ = holder.wait();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(75), "{err}");
    assert!(err.contains("another soak run holds"), "{err}");
    assert_eq!(dated(&results, ".json").len(), 2, "nothing was started");
}
