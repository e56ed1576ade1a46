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
use std::io::{BufRead, BufReader, Read as _};
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

/// A log or trace opened once for reading: a file, a named pipe, or standard input (`-`),
/// gzip-compressed content (a rotated log) decompressed as it is read, with its format
/// detected from the name and the first non-blank line (kept in the stream), so that a
/// pipe is read once.
pub(crate) struct LogInput {
    pub(crate) reader: Box<dyn BufRead>,
    /// Bytes to read, for a progress bar; 0 when unknown (a pipe, compressed content).
    pub(crate) len: u64,
    pub(crate) format: LogFormat,
}

/// `-`: standard input.
pub(crate) const STDIN: &str = "-";

/// Opens `path` as a [`LogInput`], in `format` when given, else the detected one.
pub(crate) fn open_log(path: &Path, format: Option<LogFormat>) -> anyhow::Result<LogInput> {
    let cannot = || format!("cannot read {}", path.display());
    let (raw, mut len): (Box<dyn std::io::Read>, u64) = if path.as_os_str() == STDIN {
        (Box::new(std::io::stdin()), 0)
    } else {
        let file = open(path)?;
        let len = file
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .map_or(0, |m| m.len());
        (Box::new(file), len)
    };
    let mut buffered = BufReader::with_capacity(1 << 20, raw);
    let gzip = buffered
        .fill_buf()
        .with_context(cannot)?
        .starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn BufRead> = if gzip {
        len = 0;
        Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::bufread::MultiGzDecoder::new(buffered),
        ))
    } else {
        Box::new(buffered)
    };
    // the blank lines and the first line with something on it, read ahead (as bytes, and
    // no more than a line the parsers keep) and put back
    let mut head: Vec<u8> = Vec::new();
    let mut first_at = 0;
    let limit = parse::MAX_LINE_BYTES as u64;
    loop {
        let n = (&mut reader)
            .take(limit)
            .read_until(b'\n', &mut head)
            .with_context(cannot)?;
        // the end, a line cut at the limit, a line with something on it, or a line's
        // worth of blank lines
        let blank = head.ends_with(b"\n") && head[first_at..].trim_ascii().is_empty();
        if n == 0 || !blank || head.len() as u64 > limit {
            break;
        }
        first_at = head.len();
    }
    let format = format
        .unwrap_or_else(|| LogFormat::detect(path, &String::from_utf8_lossy(&head[first_at..])));
    Ok(LogInput {
        reader: Box::new(std::io::Cursor::new(head).chain(reader)),
        len,
        format,
    })
}

/// Reads a server log with a progress bar when stderr is a terminal and its size is known.
pub(crate) fn read_log(path: &Path, input: LogInput) -> anyhow::Result<Parsed> {
    let bar = match input.len {
        0 => indicatif::ProgressBar::hidden(),
        len => progress::bar(progress::Mode::detect(false), len, progress::Unit::Bytes),
    };
    let parsed = parse::read_log(input.reader, input.format, &mut |bytes| {
        bar.set_position(bytes)
    })
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
    let format = format
        .map(LogFormat::parse)
        .transpose()
        .map_err(|e| anyhow!(e))?;
    let input = open_log(path, format)?;
    if input.format != LogFormat::Trace {
        let parsed = read_log(path, input)?;
        return Ok((parsed.events, parsed.malformed_count));
    }
    let mut out = Vec::new();
    for_each_record(path, input, |e| {
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
fn for_each_record(
    path: &Path,
    input: LogInput,
    f: impl FnMut(parse::TraceEntry),
) -> anyhow::Result<()> {
    parse::read_trace(input.reader, f).with_context(|| format!("cannot read {}", path.display()))
}

/// Reads a generated trace (JSON Lines) into normalized statements.
pub(crate) fn read_trace(path: &Path, interner: &mut Interner) -> anyhow::Result<Vec<Stmt>> {
    let input = open_log(path, Some(LogFormat::Trace))?;
    trace_statements(path, input, interner)
}

fn trace_statements(
    path: &Path,
    input: LogInput,
    interner: &mut Interner,
) -> anyhow::Result<Vec<Stmt>> {
    let mut out = Vec::new();
    for_each_record(path, input, |e| {
        let mut s = interner.stmt(e.session, e.ts_ms, &e.sql);
        s.drain = e.drain;
        out.push(s)
    })?;
    Ok(out)
}

/// Reads a log of any format, or a generated trace, into normalized statements.
pub(crate) fn read_any(
    path: &Path,
    input: LogInput,
    interner: &mut Interner,
) -> anyhow::Result<Vec<Stmt>> {
    if input.format == LogFormat::Trace {
        return trace_statements(path, input, interner);
    }
    let parsed = read_log(path, input)?;
    if parsed.malformed_count > 0 {
        errln!(
            "{}: {} malformed lines skipped",
            path.display(),
            parsed.malformed_count
        );
    }
    Ok(interner.events(parsed.events))
}
