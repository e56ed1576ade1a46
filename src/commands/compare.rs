//! `stormbench compare BASE.json NEW.json`: two runs side by side, with a verdict.

use std::path::Path;

use crate::cli::CompareArgs;
use crate::error::{AppError, Exit};
use crate::report::compare::{compare, RunFacts};
use crate::report::document::{write_each, Format};
use crate::report::output::check_outputs;
use crate::report::Document as _;

/// Reports larger than this are refused (a day-long run's report is a few MiB).
const MAX_REPORT_BYTES: u64 = 256 << 20;

fn read(path: &Path) -> Result<RunFacts, AppError> {
    let fail = |why: String| AppError::Usage(format!("cannot compare {}: {why}", path.display()));
    let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if !meta.is_file() {
        return Err(fail("not a regular file; give a run's JSON report".into()));
    }
    if meta.len() > MAX_REPORT_BYTES {
        return Err(fail("larger than 256 MiB; give a run's JSON report".into()));
    }
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| fail(format!("not JSON ({e}); give a run's JSON report (--json)")))?;
    RunFacts::from_json(&v).map_err(fail)
}

/// Parses `5%` or `5` as 5.
fn percent(s: &str) -> Result<f64, AppError> {
    s.trim()
        .trim_end_matches('%')
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| {
            AppError::Usage(format!(
                "--fail-on-regression {s}: give a percentage, e.g. --fail-on-regression 5%"
            ))
        })
}

/// Runs the comparison; with `--fail-on-regression`, a regression beyond it is exit
/// code 7.
pub(crate) fn run(args: &CompareArgs) -> Result<Exit, AppError> {
    let threshold = match &args.fail_on_regression {
        Some(s) => percent(s)?,
        None => 5.0,
    };
    let outputs: Vec<(&str, &Path)> = [
        ("--json", &args.json),
        ("--csv", &args.csv),
        ("--html", &args.html),
    ]
    .into_iter()
    .filter_map(|(o, p)| p.as_deref().map(|p| (o, p)))
    .collect();
    // before reading anything: an output that would land on an input is refused
    check_outputs(&outputs, &[args.base.clone(), args.new.clone()])
        .map_err(|e| AppError::Usage(format!("{e:#}")))?;
    let base = read(&args.base)?;
    let new = read(&args.new)?;
    let c = compare(&base, &new, 0.05, threshold)
        .map_err(|e| AppError::Usage(format!("cannot compare: {e}")))?;
    print!("{}", c.console());
    write_each(
        &c,
        [
            (Format::Json, args.json.as_deref()),
            (Format::Csv, args.csv.as_deref()),
            (Format::Html, args.html.as_deref()),
        ],
    )?;
    Ok(if c.regressed && args.fail_on_regression.is_some() {
        Exit::Regression
    } else {
        Exit::Ok
    })
}
