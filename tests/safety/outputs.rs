//! Reports go where they are asked to (devices, FIFOs, through symlinks) and never over an
//! input, each other or a file stormbench did not write.

use std::process::Command;

use crate::common::*;
use crate::run;

#[test]
fn reports_go_to_devices_fifos_and_through_symlinks_without_replacing_them() {
    use std::os::unix::fs::FileTypeExt as _;
    let pg = pg();
    let db = pg.loaded("safe_outputs", "simple");
    let short = ["-w", "simple_read", "-d", "1s", "-q", "--workers", "2"];
    // /dev/stdout prints the report
    let o = run(pg
        .stormbench(&db)
        .args(short)
        .args(["--json", "/dev/stdout"]));
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).0.contains("\"schema_version\""), "{}", text(&o).0);
    // /dev/null stays a device
    let o = run(pg.stormbench(&db).args(short).args(["--csv", "/dev/null"]));
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
    // a FIFO is written into, not replaced
    let dir = tempdir();
    let fifo = dir.path().join("series.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let o = run(pg.stormbench(&db).args(short).arg("--csv").arg(&fifo));
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(reader.join().unwrap().starts_with("interval,t_s,"));
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    // a symlink stays a symlink; its target gets the report
    let real = dir.path().join("real.json");
    let link = dir.path().join("latest.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let o = run(pg.stormbench(&db).args(short).arg("--json").arg(&link));
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(read_json(&real)["summary"].is_object());
}

#[test]
fn outputs_never_clobber_inputs_each_other_or_foreign_files() {
    let pg = pg();
    let dir = tempdir();
    let cfg = dir.path().join("run.yaml");
    let cfg_text = "workload: simple_read\nduration: 1s\n";
    std::fs::write(&cfg, cfg_text).unwrap();
    let same = dir.path().join("out");
    let notes = dir.path().join("notes.json");
    std::fs::write(&notes, "{\"mine\": true}").unwrap();
    // files that name stormbench without being its outputs: a results history and another
    // config
    let history = dir.path().join("history.sqlite");
    ok(pg
        .stormbench("postgres")
        .args(["-w", "noop", "-d", "1s", "-q", "--history"])
        .arg(&history));
    let history_bytes = std::fs::read(&history).unwrap();
    let other = dir.path().join("other.yaml");
    let other_text = "# stormbench config for the nightly run\nworkload: tpcc\n";
    std::fs::write(&other, other_text).unwrap();
    let cases: Vec<(Vec<std::ffi::OsString>, &str)> = vec![
        (
            vec!["--json".into(), history.clone().into()],
            "not a file stormbench wrote",
        ),
        (
            vec!["--html".into(), other.clone().into()],
            "not a file stormbench wrote",
        ),
        (
            vec![
                "--json".into(),
                same.clone().into(),
                "--csv".into(),
                same.clone().into(),
            ],
            "same file",
        ),
        (
            vec!["--html".into(), cfg.clone().into()],
            "input of this run",
        ),
        (
            vec!["--json".into(), notes.clone().into()],
            "not a file stormbench wrote",
        ),
        (vec!["--json".into(), dir.path().into()], "directory"),
    ];
    for (args, want) in cases {
        let o = run(pg.stormbench("postgres").arg("-c").arg(&cfg).args(&args));
        let err = assert_clean_failure(&o, 2);
        assert!(err.contains(want), "{args:?}: {err}");
    }
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), cfg_text);
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "{\"mine\": true}");
    assert_eq!(std::fs::read(&history).unwrap(), history_bytes);
    assert_eq!(std::fs::read_to_string(&other).unwrap(), other_text);
    assert!(!same.exists());
}
