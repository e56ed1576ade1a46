//! The HTML report is self-contained and renders: opened in headless Chromium, which takes a
//! screenshot and dumps the DOM it laid out.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn chromium() -> String {
    for c in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return c.to_string();
        }
    }
    panic!("no headless Chromium found: install Debian's chromium package (scripts/test.sh does)");
}

fn headless(browser: &str, profile: &Path) -> Command {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=960,3000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

#[test]
fn html_report_is_self_contained_and_renders_its_charts() {
    let pg = pg();
    let dir = tempdir();
    let html = dir.path().join("report.html");
    ok(pg
        .stormbench("stormbench_test")
        .args([
            "-w",
            "simple",
            "--setup",
            "-d",
            "3s",
            "--collect-pg-stats",
            "-q",
            "--html",
        ])
        .arg(&html));
    let page = std::fs::read_to_string(&html).unwrap();
    // nothing to fetch: no scripts, stylesheets, images or fonts from elsewhere
    for needle in ["<script", "<link", "src=\"http", "@import", "url("] {
        assert!(!page.contains(needle), "the report references {needle}");
    }
    assert!(
        page.matches("<svg").count() >= 8,
        "expected the run and database charts"
    );

    let browser = chromium();
    let shot = dir.path().join("report.png");
    ok(headless(&browser, &dir.path().join("profile-shot"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", html.display())));
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    assert!(
        png.len() > 50_000,
        "screenshot suspiciously small ({} bytes): blank page?",
        png.len()
    );

    let o = headless(&browser, &dir.path().join("profile-dom"))
        .arg("--dump-dom")
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(dom.contains("stormbench report"), "{dom:.300}");
    // the browser parsed the charts: SVG elements with drawn lines and axis text
    assert!(dom.matches("<svg").count() >= 8);
    assert!(
        dom.matches("<polyline").count() >= 8,
        "no chart lines in the DOM"
    );
    assert!(dom.contains("Throughput") && dom.contains("Buffer cache hit ratio"));
}
