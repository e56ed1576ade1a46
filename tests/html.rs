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
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    if !c
        .get_args()
        .any(|a| a.to_string_lossy().starts_with("--window-size"))
    {
        c.arg("--window-size=960,3000");
    }
    c
}

/// Lays `page` out in headless Chromium `width` pixels wide and returns what a script
/// added to a copy of it measured: elements reaching outside the viewport (outside a
/// table, which scrolls in its own box), the page's scroll width, the charts drawn.
fn layout(browser: &str, page: &Path, width: u32, dir: &Path) -> serde_json::Value {
    let html = std::fs::read_to_string(page).unwrap();
    let probe = r#"<script>(function () {
  var w = document.documentElement.clientWidth, bad = [];
  document.querySelectorAll('body *').forEach(function (e) {
    if (e.closest('table') && e.tagName !== 'TABLE') return;
    if (e.closest('svg') && e.tagName !== 'svg') return;
    var r = e.getBoundingClientRect();
    if (r.width > 0 && (r.right > w + 1 || r.left < -1)) bad.push(e.tagName + ' ' + Math.round(r.right));
  });
  var legends = 0;
  document.querySelectorAll('svg text').forEach(function (t) { if (/objective/.test(t.textContent)) legends++; });
  document.body.setAttribute('data-layout', JSON.stringify({
    width: w, scroll: document.documentElement.scrollWidth, outside: bad.slice(0, 5),
    svgs: document.querySelectorAll('svg').length, objective_legends: legends }));
})();</script></body>"#;
    let probed = dir.join(format!(
        "probe-{width}-{}",
        page.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&probed, html.replace("</body>", probe)).unwrap();
    let o = headless(browser, &dir.join(format!("profile-{width}")))
        .arg(format!("--window-size={width},2000"))
        .arg("--dump-dom")
        .arg(format!("file://{}", probed.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&o.stdout);
    let start = dom.find("data-layout=\"").expect("the probe ran") + "data-layout=\"".len();
    let end = start + dom[start..].find('"').unwrap();
    let json = dom[start..end]
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    serde_json::from_str(&json).unwrap()
}

/// Every page (a run with two kinds that broke its objective, a comparison, the history)
/// fits a wide and a narrow window: nothing reaches outside the viewport, the page does
/// not scroll sideways, its charts are drawn and the objective is on them.
#[test]
fn every_page_fits_wide_and_narrow_windows_with_its_charts_and_objectives() {
    let pg = pg();
    let db = pg.loaded("html_pages", "simple");
    let dir = tempdir();
    let store = dir.path().join("h.sqlite");
    let run = |n: u32, p99: &str, code: i32| {
        let html = dir.path().join(format!("run{n}.html"));
        let json = dir.path().join(format!("run{n}.json"));
        let o = pg
            .stormbench(&db)
            .args(["-w", "simple_mixed", "-d", "3s", "-q", "--slo"])
            .arg(format!("p99_ms={p99}"))
            .arg("--history")
            .arg(&store)
            .arg("--html")
            .arg(&html)
            .arg("--json")
            .arg(&json)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(code), "{:?}", text(&o));
        (html, json)
    };
    let (run1, json1) = run(1, "10000", 0);
    let (_, json2) = run(2, "0.001", 6);
    let compare = dir.path().join("compare.html");
    ok(stormbench()
        .arg("compare")
        .arg(&json1)
        .arg(&json2)
        .arg("--store")
        .arg(&store)
        .arg("--html")
        .arg(&compare));
    let history = dir.path().join("history.html");
    ok(stormbench()
        .args(["history", "--store"])
        .arg(&store)
        .arg("--html")
        .arg(&history));
    let broken = dir.path().join("run2.html");
    let page = std::fs::read_to_string(&broken).unwrap();
    assert!(
        page.contains("objective broken"),
        "breaching intervals are shaded"
    );
    assert!(
        page.matches("latency percentiles over time").count() >= 2,
        "a chart per kind"
    );
    assert!(
        page.contains("99.9%"),
        "the distribution's axis reads as percentiles"
    );

    let browser = chromium();
    for (page, charts, objectives) in [
        (&run1, 6, 1),
        (&broken, 6, 1),
        (&compare, 2, 0),
        (&history, 2, 1),
    ] {
        // 500 px is the narrowest window headless Chromium lays out
        for width in [1280, 500] {
            let l = layout(&browser, page, width, dir.path());
            let name = page.file_name().unwrap().to_string_lossy();
            assert!(
                l["outside"].as_array().unwrap().is_empty(),
                "{name} at {width}px: {l}"
            );
            assert!(
                l["scroll"].as_u64() <= l["width"].as_u64(),
                "{name} at {width}px scrolls sideways: {l}"
            );
            assert!(l["svgs"].as_u64().unwrap() >= charts, "{name}: {l}");
            assert!(
                l["objective_legends"].as_u64().unwrap() >= objectives,
                "{name}: {l}"
            );
        }
    }
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
