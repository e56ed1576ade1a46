//! `stormbench compare BASE.json NEW.json`: two runs side by side, with a verdict.

use std::path::Path;

use super::history::{read_report, store_spec, with_store};
use crate::cli::{CompareArgs, RunArgs};
use crate::error::{AppError, Exit};
use crate::history::{Baseline, Filter, Record};
use crate::report::compare::{compare, RunFacts};
use crate::report::document::{write_each, Format};
use crate::report::output::check_outputs;
use crate::report::Document as _;

fn read(path: &Path) -> Result<RunFacts, AppError> {
    let v = read_report(path, "compare")?;
    RunFacts::from_json(&v)
        .map_err(|why| AppError::Usage(format!("cannot compare {}: {why}", path.display())))
}

/// The base run from the history that `--baseline` names, for the run reported at `new`.
fn baseline(
    args: &CompareArgs,
    parent: &RunArgs,
    which: &str,
    new: &Path,
) -> Result<RunFacts, AppError> {
    let which = Baseline::parse(which).map_err(AppError::Usage)?;
    let spec = store_spec(args.store.as_deref(), parent)?;
    let new_row = Record::from_report(&read_report(new, "compare")?, false)
        .map_err(|e| AppError::Usage(format!("cannot compare {}: {e}", new.display())))?
        .row;
    let (id, v) = with_store(&spec, async |store| {
        let filter = Filter {
            workload: Some(new_row.workload.clone()),
            mode: Some(new_row.mode.clone()),
            scale: Some(new_row.scale),
            limit: None,
        };
        let runs = match which {
            // a run number may be of any workload: compare() says why it refuses
            Baseline::Id(_) => store.runs(&Filter::default()).await?,
            _ => store.runs(&filter).await?,
        };
        let id = which.pick(&runs, &new_row)?.id;
        Ok((id, store.report(id).await?))
    })?;
    println!("base: run {id} of the history {}", spec.display());
    RunFacts::from_json(&v)
        .map_err(|why| AppError::Usage(format!("cannot compare history run {id}: {why}")))
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
pub(crate) fn run(args: &CompareArgs, parent: &RunArgs) -> Result<Exit, AppError> {
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
    check_outputs(&outputs, &args.reports).map_err(|e| AppError::Usage(format!("{e:#}")))?;
    let (base, new) = match (&args.baseline, args.reports.as_slice()) {
        (None, [base, new]) => (read(base)?, read(new)?),
        (Some(which), [new]) => (baseline(args, parent, which, new)?, read(new)?),
        (None, _) => {
            return Err(AppError::Usage(
                "compare takes two reports, BASE.json NEW.json, or one with --baseline \
                 last-pass"
                    .into(),
            ))
        }
        (Some(_), _) => {
            return Err(AppError::Usage(
                "with --baseline, give only the new run's report (the base comes from the \
                 history)"
                    .into(),
            ))
        }
    };
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
