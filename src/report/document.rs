//! The one output interface: every report stormbench writes (a run, a sweep, a trace
//! validation) is a [`Document`] and is written in each format by [`write`], through the
//! file-safety rules of [`super::output`].

use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;

/// A file format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// The versioned JSON document (the contract).
    Json,
    /// A CSV table.
    Csv,
    /// A self-contained HTML page.
    Html,
}

/// A table for CSV: a header and rows of the same width.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Table {
    /// Column names.
    pub(crate) header: Vec<String>,
    /// One entry per row, as many cells as the header.
    pub(crate) rows: Vec<Vec<String>>,
}

/// A report in every format: JSON through `Serialize`, the rest by the methods.
pub(crate) trait Document: Serialize {
    /// The console text.
    fn console(&self) -> String;
    /// The rows of the CSV file.
    fn table(&self) -> Table;
    /// The HTML page (built with [`super::kit`]).
    fn html(&self) -> String;
}

/// The bytes of `doc` in `format`.
pub(crate) fn render(doc: &impl Document, format: Format) -> anyhow::Result<Vec<u8>> {
    Ok(match format {
        Format::Json => serde_json::to_vec_pretty(doc).context("serializing the report")?,
        Format::Html => doc.html().into_bytes(),
        Format::Csv => {
            let t = doc.table();
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(&t.header)?;
            for row in &t.rows {
                w.write_record(row)?;
            }
            w.into_inner().context("writing CSV")?
        }
    })
}

/// Writes `doc` in `format` to where `path` leads, refusing to replace a file stormbench
/// did not write.
pub(crate) fn write(doc: &impl Document, format: Format, path: &Path) -> anyhow::Result<()> {
    if format == Format::Json {
        // streamed: a day-long run's report is never held as one string
        let mut w = super::output::OutputWriter::create(path)?;
        serde_json::to_writer_pretty(&mut w, doc)
            .with_context(|| format!("cannot write {}", path.display()))?;
        return w.finish();
    }
    super::output::write_output(path, &render(doc, format)?)
}

/// Writes every requested file; one failing does not stop the others. A single failure
/// is returned (to be printed once, by the caller); with several, each is printed and the
/// error returned counts them.
pub(crate) fn write_each<'a>(
    doc: &impl Document,
    files: impl IntoIterator<Item = (Format, Option<&'a Path>)>,
) -> anyhow::Result<()> {
    let mut errors = Vec::new();
    for (format, path) in files {
        let Some(path) = path else { continue };
        match write(doc, format, path) {
            Ok(()) => log::info!("wrote {}", path.display()),
            Err(e) => errors.push(e),
        }
    }
    if errors.len() < 2 {
        return errors.pop().map_or(Ok(()), Err);
    }
    for e in &errors {
        errln!("Error: {e:#}");
    }
    anyhow::bail!(
        "{} report files could not be written (each named above)",
        errors.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Tiny {
        n: u32,
    }

    impl Document for Tiny {
        fn console(&self) -> String {
            format!("n = {}\n", self.n)
        }
        fn table(&self) -> Table {
            Table {
                header: vec!["n".into(), "text".into()],
                rows: vec![vec![self.n.to_string(), "a,b".into()]],
            }
        }
        fn html(&self) -> String {
            format!("<p>{}</p>", self.n)
        }
    }

    #[test]
    fn each_format_renders() {
        let d = Tiny { n: 7 };
        let json: serde_json::Value =
            serde_json::from_slice(&render(&d, Format::Json).unwrap()).unwrap();
        assert_eq!(json["n"], 7);
        let csv = String::from_utf8(render(&d, Format::Csv).unwrap()).unwrap();
        assert_eq!(csv, "n,text\n7,\"a,b\"\n");
        assert_eq!(render(&d, Format::Html).unwrap(), b"<p>7</p>");
    }

    #[test]
    fn one_failing_file_does_not_stop_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("r.json");
        let bad = dir.path().join("precious.csv");
        std::fs::write(&bad, "someone else's data\n").unwrap();
        let err = write_each(
            &Tiny { n: 1 },
            [
                (Format::Csv, Some(bad.as_path())),
                (Format::Json, Some(good.as_path())),
                (Format::Html, None),
            ],
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("precious.csv"), "{err:#}");
        assert_eq!(
            std::fs::read_to_string(&bad).unwrap(),
            "someone else's data\n"
        );
        assert!(good.exists());
        // two failures: each named (printed), the error counts them
        let err = write_each(
            &Tiny { n: 1 },
            [
                (Format::Csv, Some(bad.as_path())),
                (Format::Json, Some(dir.path())),
            ],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "2 report files could not be written (each named above)"
        );
    }
}
