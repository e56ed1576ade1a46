//! `stormbench history`: the runs the results history holds and their trends; `--import`
//! records reports written earlier.

use std::path::Path;

use crate::cli::{HistoryArgs, RunArgs};
use crate::config::StoreSpec;
use crate::error::{AppError, Exit};
use crate::history::{Filter, Record, Store};
use crate::report::history::HistoryReport;
use crate::report::Document as _;

/// Reports larger than this are refused (a day-long run's report is a few MiB).
pub(super) const MAX_REPORT_BYTES: u64 = 256 << 20;

/// Reads a run's JSON report; the error names the file and what to give instead.
pub(super) fn read_report(path: &Path, what: &str) -> Result<serde_json::Value, AppError> {
    let fail = |why: String| AppError::Usage(format!("cannot {what} {}: {why}", path.display()));
    let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if !meta.is_file() {
        return Err(fail("not a regular file; give a run's JSON report".into()));
    }
    if meta.len() > MAX_REPORT_BYTES {
        return Err(fail("larger than 256 MiB; give a run's JSON report".into()));
    }
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    serde_json::from_str(&text)
        .map_err(|e| fail(format!("not JSON ({e}); give a run's JSON report (--json)")))
}

/// The history a subcommand reads: `--store`, else the top-level `--history`, else
/// `STORMBENCH_HISTORY`, else the default file.
pub(super) fn store_spec(store: Option<&str>, parent: &RunArgs) -> Result<StoreSpec, AppError> {
    let env = |k: &str| std::env::var(k).ok();
    let (key, text) = match (store, parent.history.as_deref()) {
        (Some(s), _) => ("--store", s.to_string()),
        (None, Some(s)) => ("--history", s.to_string()),
        (None, None) => match env("STORMBENCH_HISTORY").filter(|v| !v.is_empty()) {
            Some(v) => ("STORMBENCH_HISTORY", v),
            None => return Ok(StoreSpec::default_store(&env)),
        },
    };
    if key != "STORMBENCH_HISTORY" && super::history_has_password(&text) {
        eprintln!(
            "Warning: {}",
            super::HISTORY_PASSWORD_WARNING.replace("--history", key)
        );
    }
    StoreSpec::parse(&text, &env).map_err(|e| AppError::Usage(format!("{key}: {e}")))
}

/// Opens the history on a runtime of its own (a PostgreSQL history is a connection).
pub(super) fn with_store<T>(
    spec: &StoreSpec,
    f: impl AsyncFnOnce(&mut Store) -> Result<T, String>,
) -> Result<T, AppError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::Usage(format!("cannot start the async runtime: {e}")))?;
    rt.block_on(async {
        let mut store = Store::open(spec)
            .await
            .map_err(AppError::Usage)?
            .ok_or_else(|| {
                AppError::Usage(
                    "the results history is off; give --store FILE or a postgres:// URI".into(),
                )
            })?;
        f(&mut store).await.map_err(AppError::Usage)
    })
}

pub(crate) fn run(args: &HistoryArgs, parent: &RunArgs) -> Result<Exit, AppError> {
    args.files.check(&args.import)?;
    let spec = store_spec(args.store.as_deref(), parent)?;
    let imports = args
        .import
        .iter()
        .map(|p| {
            let v = read_report(p, "import")?;
            Record::from_report(&v, false)
                .map_err(|e| AppError::Usage(format!("cannot import {}: {e}", p.display())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let filter = Filter {
        workload: args.workload.clone(),
        mode: args.mode.clone(),
        scale: args.scale,
        limit: Some(args.limit),
    };
    let runs = with_store(&spec, async |store| {
        for r in &imports {
            let id = store.record(r).await?;
            println!("recorded {} as run {id}", r.row.started_at);
        }
        store.runs(&filter).await
    })?;
    let report = HistoryReport::new(spec.display(), runs);
    print!("{}", report.console());
    args.files.write(&report)?;
    Ok(Exit::Ok)
}
