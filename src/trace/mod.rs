//! SQL trace pipeline: learn a workload model from PostgreSQL logs (`parse`, `normalize`,
//! `model`), generate synthetic traces from it (`generate`) and check them statistically
//! against the original (`validate`, `html`).

pub mod generate;
pub mod model;
pub mod normalize;
pub mod parse;
pub(crate) mod report;
pub(crate) mod validate;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::{anyhow, Context as _};

use crate::progress;
use model::{Interner, Model, Stmt};
use parse::{Event, LogFormat, Parsed};

/// Opens a log, trace or model to read: a regular file (or a pipe). A device (`/dev/zero`
/// would be read for ever, one endless line) or a directory is refused.
pub(crate) fn open(path: &Path) -> anyhow::Result<File> {
    use std::os::unix::fs::FileTypeExt as _;
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let kind = file
        .metadata()
        .with_context(|| format!("cannot read {}", path.display()))?
        .file_type();
    if !(kind.is_file() || kind.is_fifo()) {
        let what = if kind.is_dir() {
            "a directory"
        } else if kind.is_socket() {
            "a socket"
        } else {
            "a device"
        };
        anyhow::bail!(
            "{} is {what}, not a file; give a log, trace or model file",
            path.display()
        );
    }
    Ok(file)
}

/// The format of a log, detected from its name and first non-blank line.
pub(crate) fn detect_format(path: &Path) -> anyhow::Result<LogFormat> {
    let mut first = String::new();
    let mut r = BufReader::new(open(path)?);
    while first.trim().is_empty() {
        first.clear();
        let n = r
            .read_line(&mut first)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
    }
    Ok(LogFormat::detect(path, &first))
}

/// Reads a log with a progress bar when stderr is a terminal.
pub(crate) fn read_log_file(path: &Path, format: LogFormat) -> anyhow::Result<Parsed> {
    let file = open(path)?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress::bar(progress::Mode::detect(false), len, progress::Unit::Bytes);
    let r = BufReader::with_capacity(1 << 20, file);
    let parsed = parse::read_log(r, format, &mut |bytes| bar.set_position(bytes))
        .with_context(|| format!("cannot read {}", path.display()))?;
    bar.finish_and_clear();
    Ok(parsed)
}

/// Loads and checks a model file.
pub(crate) fn load_model(path: &Path) -> anyhow::Result<Model> {
    let r = BufReader::new(open(path)?);
    let m: Model = serde_json::from_reader(r)
        .map_err(|e| anyhow!("{} is not a stormbench trace model: {e}", path.display()))?;
    m.check().map_err(|e| anyhow!("{}: {e}", path.display()))?;
    Ok(m)
}

/// Reads the statements of a server log (any format `learn` reads, detected when `format`
/// is `None`) or of a generated trace, in file order, for replay. Also returns how many
/// malformed lines were skipped.
pub(crate) fn read_events(path: &Path, format: Option<&str>) -> anyhow::Result<(Vec<Event>, u64)> {
    let format = match format {
        Some(f) => LogFormat::parse(f).map_err(|e| anyhow!(e))?,
        None => detect_format(path)?,
    };
    if format != LogFormat::Trace {
        let parsed = read_log_file(path, format)?;
        return Ok((parsed.events, parsed.malformed_count));
    }
    let mut out = Vec::new();
    for_each_record(path, |e| {
        out.push(Event {
            session: e.session,
            ts_ms: e.ts_ms,
            duration_ms: None,
            sql: e.sql,
        })
    })?;
    Ok((out, 0))
}

/// Calls `f` for each record of a generated trace (JSON Lines).
fn for_each_record(path: &Path, f: impl FnMut(parse::TraceEntry)) -> anyhow::Result<()> {
    let r = BufReader::with_capacity(1 << 20, open(path)?);
    parse::read_trace(r, f).with_context(|| format!("cannot read {}", path.display()))
}

/// Reads a generated trace (JSON Lines) into normalized statements.
pub(crate) fn read_trace(path: &Path, interner: &mut Interner) -> anyhow::Result<Vec<Stmt>> {
    let mut out = Vec::new();
    for_each_record(path, |e| {
        let mut s = interner.stmt(e.session, e.ts_ms, &e.sql);
        s.drain = e.drain;
        out.push(s)
    })?;
    Ok(out)
}

/// Reads a log of any format, or a generated trace, into normalized statements.
pub(crate) fn read_any(
    path: &Path,
    format: LogFormat,
    interner: &mut Interner,
) -> anyhow::Result<Vec<Stmt>> {
    if format == LogFormat::Trace {
        return read_trace(path, interner);
    }
    let parsed = read_log_file(path, format)?;
    if parsed.malformed_count > 0 {
        errln!(
            "{}: {} malformed lines skipped",
            path.display(),
            parsed.malformed_count
        );
    }
    Ok(interner.events(parsed.events))
}
