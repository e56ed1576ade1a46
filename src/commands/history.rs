//! `stormbench history`: the runs the results history holds and their trends; `--import`
//! records reports written earlier.

use std::path::Path;

use crate::cli::{HistoryArgs, RunArgs};
use crate::config::{resolve_store, StoreSpec};
use crate::error::{AppError, Exit};
use crate::history::{Filter, Record, Store};
use crate::report::history::HistoryReport;
use crate::report::Document as _;

/// Reports larger than this are refused (a day-long run's report is a few MiB).
pub(super) const MAX_REPORT_BYTES: u64 = 256 << 20;

fn failure(path: &Path, what: &str, why: String) -> AppError {
    AppError::Usage(format!("cannot {what} {}: {why}", path.display()))
}

/// Reads a run's JSON report as text; the error names the file and what to give instead.
fn read_report_text(path: &Path, what: &str) -> Result<String, AppError> {
    let fail = |why: String| failure(path, what, why);
    let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if !meta.is_file() {
        return Err(fail("not a regular file; give a run's JSON report".into()));
    }
    if meta.len() > MAX_REPORT_BYTES {
        return Err(fail("larger than 256 MiB; give a run's JSON report".into()));
    }
    std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => {
            fail("not text (a JSON report is UTF-8); give a run's JSON report (--json)".into())
        }
        _ => fail(e.to_string()),
    })
}

/// Reads a run's JSON report; the error names the file and what to give instead.
pub(super) fn read_report(path: &Path, what: &str) -> Result<serde_json::Value, AppError> {
    serde_json::from_str(&read_report_text(path, what)?).map_err(|e| {
        failure(
            path,
            what,
            format!("not JSON ({e}); give a run's JSON report (--json)"),
        )
    })
}

/// The history a subcommand reads: `--store`, else the top-level `--history`, else
/// `STORMBENCH_HISTORY`, else the default file.
pub(super) fn store_spec(store: Option<&str>, parent: &RunArgs) -> Result<StoreSpec, AppError> {
    let env = |k: &str| std::env::var(k).ok();
    let given = store
        .map(|s| ("--store", s))
        .or(parent.history.as_deref().map(|s| ("--history", s)));
    let spec = resolve_store(given, &env).map_err(AppError::Usage)?;
    if let Some((flag, _)) = given.filter(|_| spec.has_password()) {
        errln!("Warning: {}", super::history_password_warning(flag));
    }
    Ok(spec)
}

/// The file of a history that does not exist yet (a symlink to nothing included):
/// reading must not create it.
pub(super) fn missing_history(spec: &StoreSpec) -> Option<&Path> {
    match spec {
        StoreSpec::File(p)
            if std::fs::metadata(p).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) =>
        {
            Some(p)
        }
        _ => None,
    }
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
            Record::from_text(read_report_text(p, "import")?, false)
                .map_err(|e| failure(p, "import", e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let filter = Filter {
        workload: args.workload.clone(),
        mode: args.mode.clone(),
        scale: args.scale,
        limit: Some(args.limit),
    };
    let runs = match missing_history(&spec) {
        Some(p) if imports.is_empty() => {
            errln!(
                "history {}: no such file, so no run is recorded there yet (a run or --import creates it; check the path)",
                p.display()
            );
            Vec::new()
        }
        _ => with_store(&spec, async |store| {
            for r in &imports {
                let id = store.record(r).await?;
                outln!("recorded {} as run {id}", r.row.started_at);
            }
            store.runs(&filter).await
        })?,
    };
    let report = HistoryReport::new(spec.display(), runs);
    out!("{}", report.console());
    args.files.write(&report)?;
    Ok(Exit::Ok)
}
