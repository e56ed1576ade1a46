//! `stormbench trace learn | generate | validate`: the command side of the trace library.

use std::path::Path;
use std::time::Instant;

use anyhow::{anyhow, Context as _};

use crate::cli::{TraceCommand, TraceGenerateArgs, TraceLearnArgs, TraceValidateArgs};
use crate::error::{AppError, Exit};
use crate::report::OutputWriter;
use crate::report::{Document as _, Format};
use crate::trace::model::{self, Interner, Model};
use crate::trace::parse::LogFormat;
use crate::trace::{generate, load_model, read_any, read_log, read_trace, validate, LogInput};

/// Runs a `trace` subcommand.
pub(crate) fn run(cmd: &TraceCommand) -> Result<Exit, AppError> {
    match cmd {
        TraceCommand::Learn(a) => learn_cmd(a),
        TraceCommand::Generate(a) => generate_cmd(a),
        TraceCommand::Validate(a) => validate_cmd(a),
    }
}

fn create(path: &Path) -> anyhow::Result<OutputWriter> {
    OutputWriter::create(path)
}

/// Refuses outputs that are one file, or that would overwrite an input of the command.
fn check_outputs(outputs: &[(&str, Option<&Path>)], inputs: &[&Path]) -> Result<(), AppError> {
    let outputs: Vec<(&str, &Path)> = outputs
        .iter()
        .filter_map(|(o, p)| p.map(|p| (*o, p)))
        .collect();
    let inputs: Vec<std::path::PathBuf> = inputs.iter().map(|p| p.to_path_buf()).collect();
    crate::report::check_outputs(&outputs, &inputs).map_err(|e| AppError::Usage(format!("{e:#}")))
}

/// `path` opened in the format asked for (an unknown name is a usage error), or the one
/// detected.
fn open_input(path: &Path, format: Option<&str>) -> Result<LogInput, AppError> {
    let format = format
        .map(LogFormat::parse)
        .transpose()
        .map_err(AppError::Usage)?;
    Ok(crate::trace::open_log(path, format)?)
}

fn learn_cmd(a: &TraceLearnArgs) -> Result<Exit, AppError> {
    if !(1..=2).contains(&a.order) {
        return Err(AppError::Usage(format!(
            "--order {} is out of range: the Markov order is 1 or 2",
            a.order
        )));
    }
    check_outputs(&[("--out", Some(&a.out))], &[&a.input])?;
    let input = open_input(&a.input, a.format.as_deref())?;
    let format = input.format;
    if format == LogFormat::Trace {
        return Err(AppError::Usage(format!(
            "{} is a generated trace; learn from a server log",
            a.input.display()
        )));
    }
    let started = Instant::now();
    let parsed = read_log(&a.input, input)?;
    let (lines, bad, malformed) = (parsed.lines, parsed.malformed_count, parsed.malformed);
    if parsed.events.is_empty() {
        let hint = if format == LogFormat::Plain && bad > 0 {
            "; read as a plain file of SQL statements: a server log needs --format stderr, csvlog or jsonlog (a stderr log's lines start with a log_line_prefix holding a timestamp, %m or %t)"
        } else {
            ""
        };
        return Err(anyhow!(
            "no statements found in {} ({lines} lines, {bad} malformed; format {format:?}){hint}",
            a.input.display()
        )
        .into());
    }
    let mut m = model::learn(parsed.events, a.order as usize);
    m.log_lines = lines;
    m.malformed_count = bad;
    m.malformed = malformed;
    let mut w = create(&a.out)?;
    serde_json::to_writer_pretty(&mut w, &m).context("cannot write the model")?;
    w.finish()?;
    print_learn_summary(&m, started.elapsed().as_secs_f64());
    Ok(Exit::Ok)
}

fn print_learn_summary(m: &Model, elapsed_s: f64) {
    outln!(
        "learned {} statements, {} templates, {} sessions from {} lines in {:.2}s ({:.0} lines/s)",
        m.statements,
        m.templates.len(),
        m.sessions,
        m.log_lines,
        elapsed_s,
        m.log_lines as f64 / elapsed_s.max(1e-9)
    );
    if m.malformed_count > 0 {
        outln!("{} malformed lines, first ones:", m.malformed_count);
        for b in &m.malformed {
            outln!("  line {}: {}", b.line, b.reason);
        }
    }
}

fn generate_cmd(a: &TraceGenerateArgs) -> Result<Exit, AppError> {
    let probe = generate::GenOptions {
        statements: a.statements,
        sessions: a.sessions.unwrap_or(1),
        seed: a.seed,
    };
    probe.check().map_err(AppError::Usage)?;
    let m = load_model(&a.model)?;
    let opts = generate::GenOptions {
        sessions: a.sessions.unwrap_or(m.sessions.clamp(1, 1000)),
        ..probe
    };
    check_outputs(
        &[("--out", Some(&a.out)), ("--csv", a.csv.as_deref())],
        &[&a.model],
    )?;
    // a long generation stops at the next statement on Ctrl-C, and its temporary files go
    let stop = crate::pipeline::interrupt_token_saying("stopping the generation");
    let mut out = UntilStopped::new(create(&a.out)?, &stop);
    let mut csv_out = match &a.csv {
        Some(p) => Some(UntilStopped::new(create(p)?, &stop)),
        None => None,
    };
    let started = Instant::now();
    let mut sinks = generate::Sinks {
        jsonl: &mut out,
        csv: csv_out
            .as_mut()
            .map(|w| csv::Writer::from_writer(w as &mut dyn std::io::Write)),
    };
    let generated = generate::generate(&m, &opts, &mut sinks);
    drop(sinks);
    if stop.is_cancelled() {
        return Err(AppError::InterruptedWriting(a.out.display().to_string()));
    }
    let s = generated.with_context(|| format!("cannot write {}", a.out.display()))?;
    let (out, csv_out) = (out.inner, csv_out.map(|w| w.inner));
    out.finish()?;
    if let Some(w) = csv_out {
        w.finish()?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let asked = if s.statements > opts.statements {
        format!(
            " ({} asked; the sessions in progress then ran to their end)",
            opts.statements
        )
    } else {
        String::new()
    };
    outln!(
        "generated {} statements{asked} in {} whole sessions in {:.2}s ({:.0} statements/s)",
        s.statements,
        s.sessions,
        elapsed,
        s.statements as f64 / elapsed.max(1e-9)
    );
    Ok(Exit::Ok)
}

/// An output that refuses further writes once `stop` is cancelled (dropped unfinished, it
/// leaves nothing behind).
struct UntilStopped<'a> {
    inner: OutputWriter,
    stop: &'a tokio_util::sync::CancellationToken,
}

impl<'a> UntilStopped<'a> {
    fn new(inner: OutputWriter, stop: &'a tokio_util::sync::CancellationToken) -> Self {
        UntilStopped { inner, stop }
    }
}

impl std::io::Write for UntilStopped<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.stop.is_cancelled() {
            // not ErrorKind::Interrupted, which write_all would retry
            return Err(std::io::Error::other("interrupted"));
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn validate_cmd(a: &TraceValidateArgs) -> Result<Exit, AppError> {
    if !(a.alpha > 0.0 && a.alpha < 1.0) {
        return Err(AppError::Usage(format!(
            "--alpha {} must be between 0 and 1",
            a.alpha
        )));
    }
    check_outputs(
        &[
            ("--json", a.json.as_deref()),
            ("--csv", a.csv.as_deref()),
            ("--html", a.html.as_deref()),
        ],
        &[&a.original, &a.generated],
    )?;
    let original = open_input(&a.original, a.format.as_deref())?;
    let mut interner = Interner::default();
    let o = read_any(&a.original, original, &mut interner)?;
    let g = read_trace(&a.generated, &mut interner)?;
    if o.is_empty() || g.is_empty() {
        return Err(
            anyhow!("nothing to compare: the original or the generated trace is empty").into(),
        );
    }
    let v = validate::validate(&o, &g, &interner.templates, a.alpha);
    let files = [
        (Format::Json, a.json.as_deref()),
        (Format::Csv, a.csv.as_deref()),
        (Format::Html, a.html.as_deref()),
    ];
    crate::report::write_each(&v, files)?;
    out!("{}", v.console());
    Ok(if v.passed { Exit::Ok } else { Exit::Failure })
}
