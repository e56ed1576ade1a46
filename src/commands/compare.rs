//! `stormbench compare BASE.json NEW.json`: two runs side by side, with a verdict.

use std::path::Path;

use super::history::{missing_history, read_report, store_spec, with_store};
use crate::cli::{CompareArgs, RunArgs};
use crate::config::StoreSpec;
use crate::error::{AppError, Exit};
use crate::history::{Baseline, Filter, RunRow};
use crate::report::compare::{compare, Noise, RunFacts};
use crate::report::Document as _;

/// A report read for comparing: its facts and its history row.
struct Input {
    facts: RunFacts,
    row: RunRow,
}

fn read(path: &Path) -> Result<Input, AppError> {
    let fail = |why: String| AppError::Usage(format!("cannot compare {}: {why}", path.display()));
    let v = read_report(path, "compare")?;
    Ok(Input {
        facts: RunFacts::from_json(&v).map_err(fail)?,
        row: RunRow::of_report(&v, false).map_err(fail)?,
    })
}

/// The recorded runs of the base's or the new run's configuration, other than those two.
fn others<'a>(runs: &'a [RunRow], new: &RunRow, base: Option<&RunRow>) -> Vec<&'a RunRow> {
    runs.iter()
        .filter(|r| {
            (r.config_hash == new.config_hash
                || base.is_some_and(|b| r.config_hash == b.config_hash))
                && r.run_key != new.run_key
                && base.is_none_or(|b| r.run_key != b.run_key)
                && !r.partial
                && r.status == "completed"
        })
        .collect()
}

/// What the history gives a comparison: the base run (with `--baseline`) and the
/// run-to-run noise of the new run's configuration.
fn from_history(
    args: &CompareArgs,
    parent: &RunArgs,
    new: &Input,
    base: Option<&Input>,
) -> Result<(Option<RunFacts>, Option<Noise>), AppError> {
    let spec = store_spec(args.store.as_deref(), parent)?;
    let which = args
        .baseline
        .as_deref()
        .map(Baseline::parse)
        .transpose()
        .map_err(AppError::Usage)?;
    // a history that does not exist is not created by reading it (a mistyped path would
    // become an empty history)
    if let Some(p) = missing_history(&spec) {
        if which.is_some() {
            return Err(AppError::Usage(format!(
                "--baseline: the history {} does not exist, so it holds no run to compare with; check --store (or STORMBENCH_HISTORY)",
                p.display()
            )));
        }
        return Ok((None, None));
    }
    if which.is_none() && matches!(spec, StoreSpec::Off) {
        return Ok((None, None));
    }
    let got = with_store(&spec, async |store| {
        let runs = store.runs(&Filter::default()).await?;
        // `pick` keeps to the new run's workload, mode and scale
        let picked = match &which {
            Some(w) => {
                let id = w.pick(&runs, &new.row)?.id;
                Some((id, store.report(id).await?))
            }
            None => None,
        };
        Ok((runs, picked))
    });
    let (runs, picked) = match (got, &which) {
        (Ok(v), _) => v,
        (Err(e), Some(_)) => return Err(e),
        (Err(e), None) => {
            errln!("Warning: run-to-run noise not learned: {e}");
            return Ok((None, None));
        }
    };
    let base_facts = match picked {
        Some((id, v)) => {
            outln!("base: run {id} of the history {}", spec.display());
            let fail =
                |why: String| AppError::Usage(format!("cannot compare history run {id}: {why}"));
            let row = RunRow::of_report(&v, false).map_err(fail)?;
            Some((RunFacts::from_json(&v).map_err(fail)?, row))
        }
        None => None,
    };
    let base_row = base.map(|b| &b.row).or(base_facts.as_ref().map(|(_, r)| r));
    let noise = Noise::learn(&others(&runs, &new.row, base_row));
    Ok((base_facts.map(|(f, _)| f), noise))
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
    // before reading anything: an output that would land on an input is refused
    args.files.check(&args.reports)?;
    let (base, new, noise) = match (&args.baseline, args.reports.as_slice()) {
        (None, [base, new]) => {
            let (base, new) = (read(base)?, read(new)?);
            let (_, noise) = from_history(args, parent, &new, Some(&base))?;
            (base.facts, new.facts, noise)
        }
        (Some(_), [new]) => {
            let new = read(new)?;
            let (base, noise) = from_history(args, parent, &new, None)?;
            let base = base.ok_or_else(|| {
                AppError::Usage("--baseline: the history gave no base run".into())
            })?;
            (base, new.facts, noise)
        }
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
    let c = compare(&base, &new, 0.05, threshold, noise)
        .map_err(|e| AppError::Usage(format!("cannot compare: {e}")))?;
    out!("{}", c.console());
    args.files.write(&c)?;
    Ok(if c.regressed && args.fail_on_regression.is_some() {
        Exit::Regression
    } else {
        Exit::Ok
    })
}
