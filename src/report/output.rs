//! Where report files go, written without harming what is at the path.
//!
//! A regular file (also one reached through a symlink, which is kept) is written whole to a
//! temporary file beside it and renamed into place, so a reader never sees half a report;
//! an existing file is replaced only if stormbench wrote it (or it is empty). Character
//! devices and FIFOs (`/dev/stdout`, `/dev/null`, a named pipe) are written to as they are,
//! never replaced. Block devices, sockets and directories are refused, as are two outputs to
//! one file and an output over the config or a workload file.

use std::io::{Read as _, Write as _};
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

/// Where an output path leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Destination {
    /// The process's standard output (`/dev/stdout`, `/dev/fd/1`, `/proc/self/fd/1`).
    Stdout,
    /// The process's standard error.
    Stderr,
    /// A character device or FIFO: opened and written as it is.
    Stream(PathBuf),
    /// A regular file (existing or not), the final target of any symlinks.
    File(PathBuf),
}

/// Bytes of an existing file read to tell whether stormbench wrote it.
const SNIFF_BYTES: usize = 8192;

/// How the CSV files and generated traces stormbench writes begin (their header line, or
/// the first field of a trace's JSON line), to tell them from a user's file at the path.
const KNOWN_STARTS: &[&str] = &[
    // a run's time series
    "interval,t_s,transactions,errors,retries,tps,qps,",
    // a progressive sweep's bands
    "band,workers,connections,measured_s,",
    // a parameter sweep's bands
    "band,param,value,measured_s,",
    // a trace validation's tests
    "test,kind,status,statistic,p_value,threshold",
    // the results history
    "id,started_at,workload,mode,scale,status,partial,config_hash,",
    // a comparison
    "kind,base_tps,new_tps,tps_change_pct,",
    // a generated trace as CSV
    "session,ts_ms,template_id,query_type,sql",
];

/// How every HTML page stormbench writes begins (see [`super::kit`]).
const HTML_START: &str = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>stormbench";

/// Follows `path` to what it names.
pub(crate) fn resolve(path: &Path) -> anyhow::Result<Destination> {
    match path.to_str() {
        Some("/dev/stdout" | "/dev/fd/1" | "/proc/self/fd/1") => return Ok(Destination::Stdout),
        Some("/dev/stderr" | "/dev/fd/2" | "/proc/self/fd/2") => return Ok(Destination::Stderr),
        _ => {}
    }
    let target = follow_links(path)?;
    let meta = match std::fs::metadata(&target) {
        Ok(m) => m,
        // a missing file, or a folder on its path that is not one: preparing the folder
        // says what is wrong
        Err(e) if missing(&e) => return Ok(Destination::File(target)),
        Err(e) => return Err(e).with_context(|| format!("cannot inspect {}", path.display())),
    };
    let ft = meta.file_type();
    if ft.is_dir() {
        bail!(
            "{} is a directory; give a file name for the output",
            path.display()
        );
    }
    if ft.is_block_device() || ft.is_socket() {
        bail!(
            "{} is a {}; give a regular file, a FIFO or /dev/stdout for the output",
            path.display(),
            if ft.is_socket() {
                "socket"
            } else {
                "block device"
            }
        );
    }
    if ft.is_char_device() || ft.is_fifo() {
        return Ok(Destination::Stream(target));
    }
    Ok(Destination::File(target))
}

fn missing(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENOTDIR)
}

/// The final target of a chain of symlinks (which need not exist yet).
fn follow_links(path: &Path) -> anyhow::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&p)
                    .with_context(|| format!("cannot read the symlink {}", p.display()))?;
                p = match p.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(p),
        }
    }
    bail!("{}: too many levels of symlinks", path.display())
}

/// What identifies a destination, to find two outputs to one place.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Identity {
    Stdout,
    Stderr,
    Inode(u64, u64),
    Path(PathBuf),
}

fn identity(d: &Destination) -> Identity {
    match d {
        Destination::Stdout => Identity::Stdout,
        Destination::Stderr => Identity::Stderr,
        Destination::Stream(p) | Destination::File(p) => match std::fs::metadata(p) {
            Ok(m) => Identity::Inode(m.dev(), m.ino()),
            Err(_) => Identity::Path(absolute(p)),
        },
    }
}

/// `p` with its folder made absolute and canonical (the file itself may not exist).
fn absolute(p: &Path) -> PathBuf {
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    match p.file_name() {
        Some(name) => dir.join(name),
        None => dir,
    }
}

/// Identity of an existing file to protect (the config, a workload file).
fn protected_identity(p: &Path) -> Option<Identity> {
    std::fs::metadata(p)
        .ok()
        .map(|m| Identity::Inode(m.dev(), m.ino()))
}

/// Checks, before anything runs, that every output can be written where it points: no two
/// to one place, none over a `protected` file (the config, workload files), none over a
/// file stormbench did not write, folders created, permissions there. `outputs` pairs each
/// path with the option that gave it (`--json`), for messages.
pub(crate) fn check_outputs(
    outputs: &[(&str, &Path)],
    protected: &[PathBuf],
) -> anyhow::Result<()> {
    let protected: Vec<(Identity, &PathBuf)> = protected
        .iter()
        .filter_map(|p| protected_identity(p).map(|i| (i, p)))
        .collect();
    let mut seen: Vec<(Identity, &str, &Path)> = Vec::new();
    for &(option, path) in outputs {
        // an empty path passes every check of a file and fails only when written, after
        // the run
        if path.as_os_str().is_empty() {
            bail!("{option}: the path is empty; give a file name for the output, or leave it out");
        }
        if path.as_os_str().as_encoded_bytes().ends_with(b"/") {
            bail!(
                "{option} {}: names a directory; give a file name for the output",
                path.display()
            );
        }
        let dest = resolve(path)?;
        let id = identity(&dest);
        if let Some((_, other_opt, other)) = seen.iter().find(|(i, _, _)| *i == id) {
            bail!(
                "{option} {} and {other_opt} {} are the same file; give each output its own path",
                path.display(),
                other.display()
            );
        }
        if let Some((_, p)) = protected.iter().find(|(i, _)| *i == id) {
            bail!(
                "{option} {} would overwrite {}, an input of this run; choose another output path",
                path.display(),
                p.display()
            );
        }
        if let Destination::File(target) = &dest {
            prepare_file(path, target)?;
        }
        seen.push((id, option, path));
    }
    Ok(())
}

/// Creates the folder of a file output, refuses to replace a file stormbench did not write,
/// and checks the folder is writable.
fn prepare_file(path: &Path, target: &Path) -> anyhow::Result<()> {
    let dir = folder(target);
    std::fs::create_dir_all(&dir).with_context(|| {
        format!(
            "cannot create directory {} for {}; choose another output path",
            dir.display(),
            path.display()
        )
    })?;
    if !replaceable(target)? {
        bail!(
            "{} exists and is not a file stormbench wrote; remove it or choose another output path",
            path.display()
        );
    }
    let probe = tempfile::Builder::new()
        .prefix(".stormbench-probe")
        .tempfile_in(&dir)
        .with_context(|| {
            format!(
                "cannot write {}; check the path and permissions",
                path.display()
            )
        })?;
    drop(probe);
    Ok(())
}

fn folder(target: &Path) -> PathBuf {
    match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Whether an existing file may be replaced: missing, empty, or written by stormbench.
fn replaceable(target: &Path) -> anyhow::Result<bool> {
    let mut f = match std::fs::File::open(target) {
        Ok(f) => f,
        Err(e) if missing(&e) => return Ok(true),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", target.display())),
    };
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    (&mut f)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .with_context(|| format!("cannot read {}", target.display()))?;
    Ok(written_by_stormbench(&head))
}

/// Whether the first bytes of a file are those of a stormbench output: its HTML head, a
/// JSON document whose top-level `tool` is stormbench, a known CSV header or a generated
/// trace's first line. A file that merely mentions stormbench (a user's notes, another
/// config) is not one.
fn written_by_stormbench(head: &[u8]) -> bool {
    if head.iter().all(u8::is_ascii_whitespace) {
        return true;
    }
    let text = String::from_utf8_lossy(head);
    text.starts_with(HTML_START)
        // every JSON document is written pretty-printed: top-level keys two spaces in
        || (text.starts_with("{\n") && text.contains("\n  \"tool\": \"stormbench "))
        || KNOWN_STARTS.iter().any(|h| text.starts_with(h))
        || text
            .strip_prefix("{\"session\":")
            .map(|r| r.trim_start_matches(|c: char| c.is_ascii_digit()))
            .is_some_and(|r| r.starts_with(",\"ts_ms\":"))
}

/// How long a FIFO output waits for a process to read it.
const FIFO_READER_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Opens a device or FIFO (`target`, given as `path`) for writing. A FIFO nobody reads
/// would block the open for ever: it is opened without blocking, retried until a reader
/// comes or [`FIFO_READER_WAIT`] has passed, then written to as usual (blocking).
fn open_stream(path: &Path, target: &Path) -> anyhow::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let cannot = || format!("cannot write {}", path.display());
    let fifo = std::fs::metadata(target).is_ok_and(|m| m.file_type().is_fifo());
    if !fifo {
        return std::fs::OpenOptions::new()
            .write(true)
            .open(target)
            .with_context(cannot);
    }
    let given_up = std::time::Instant::now() + FIFO_READER_WAIT;
    let f = loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(target)
        {
            Ok(f) => break f,
            // no reader yet
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
                if std::time::Instant::now() >= given_up {
                    bail!(
                        "nothing read the FIFO {} within {}s; start its reader before the \
                         run ends, or give a regular file",
                        path.display(),
                        FIFO_READER_WAIT.as_secs()
                    );
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => return Err(e).with_context(cannot),
        }
    };
    // writes wait for a slow reader as they would on any pipe
    let fd = std::os::fd::AsRawFd::as_raw_fd(&f);
    // SAFETY: fcntl on a descriptor this function owns; no memory is passed
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error()).with_context(cannot);
    }
    Ok(f)
}

/// Writes `bytes` to where `path` leads (see the module doc). Refuses to replace a file
/// stormbench did not write, checked again here since the check before the run.
pub(crate) fn write_output(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut w = OutputWriter::create(path)?;
    w.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    w.finish()
}

/// Whether `path` leads to a stream (written once, at the end, rather than rewritten).
pub(crate) fn is_stream(path: &Path) -> bool {
    !matches!(resolve(path), Ok(Destination::File(_)))
}

/// An output written as a stream (a generated trace, a model): into a temporary file beside
/// a regular file's target, renamed into place by [`OutputWriter::finish`] (dropped without
/// it, nothing replaces the target), or straight into a device, FIFO or standard stream.
pub(crate) struct OutputWriter {
    inner: std::io::BufWriter<Sink>,
    path: PathBuf,
}

enum Sink {
    Temp(tempfile::NamedTempFile, PathBuf, Pending),
    Plain(Box<dyn std::io::Write + Send>),
}

/// The temporary files of outputs being written: an exit that skips their clean-up (a
/// second interrupt) removes them first, so no `.stormbench-*.tmp` is left beside a report.
static PENDING: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn pending() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    PENDING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A temporary file's place in [`PENDING`], held while it is written.
struct Pending(PathBuf);

impl Pending {
    fn new(tmp: &Path) -> Pending {
        pending().push(tmp.to_path_buf());
        Pending(tmp.to_path_buf())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        pending().retain(|p| *p != self.0);
    }
}

/// Removes the temporary files of the outputs being written; for an exit that does not
/// unwind (their writers would remove them otherwise).
pub(crate) fn remove_pending() {
    for p in pending().iter() {
        let _ = std::fs::remove_file(p);
    }
}

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Temp(f, ..) => f.write(buf),
            Sink::Plain(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Temp(f, ..) => f.flush(),
            Sink::Plain(w) => w.flush(),
        }
    }
}

impl OutputWriter {
    /// Opens the output at `path` (see [`resolve`]); refuses a file stormbench did not write.
    pub(crate) fn create(path: &Path) -> anyhow::Result<Self> {
        let sink = match resolve(path)? {
            Destination::Stdout => Sink::Plain(Box::new(std::io::stdout())),
            Destination::Stderr => Sink::Plain(Box::new(std::io::stderr())),
            Destination::Stream(p) => Sink::Plain(Box::new(open_stream(path, &p)?)),
            Destination::File(target) => {
                prepare_file(path, &target)?;
                let tmp = tempfile::Builder::new()
                    .prefix(".stormbench-")
                    .suffix(".tmp")
                    .tempfile_in(folder(&target))
                    .with_context(|| format!("cannot write {}", path.display()))?;
                let pending = Pending::new(tmp.path());
                Sink::Temp(tmp, target, pending)
            }
        };
        Ok(OutputWriter {
            inner: std::io::BufWriter::with_capacity(1 << 20, sink),
            path: path.to_path_buf(),
        })
    }

    /// Flushes and puts the file in place.
    pub(crate) fn finish(self) -> anyhow::Result<()> {
        let path = self.path;
        let sink = self
            .inner
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("cannot write {}", path.display()))?;
        match sink {
            Sink::Plain(mut w) => w
                .flush()
                .with_context(|| format!("cannot write {}", path.display())),
            Sink::Temp(tmp, target, _pending) => {
                if let Some(s) = crate::fault::injected("slow_output_s") {
                    std::thread::sleep(std::time::Duration::from_secs(s));
                }
                tmp.as_file()
                    .sync_all()
                    .with_context(|| format!("cannot write {}", path.display()))?;
                let mode = std::fs::metadata(&target)
                    .map(|m| m.permissions().mode())
                    .unwrap_or(0o644);
                let _ = tmp
                    .as_file()
                    .set_permissions(std::fs::Permissions::from_mode(mode & 0o7777));
                tmp.persist(&target)
                    .map_err(|e| e.error)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                Ok(())
            }
        }
    }
}

impl std::io::Write for OutputWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_fifos_are_streams_and_symlinks_are_followed() {
        assert_eq!(
            resolve(Path::new("/dev/null")).unwrap(),
            Destination::Stream("/dev/null".into())
        );
        assert_eq!(
            resolve(Path::new("/dev/stdout")).unwrap(),
            Destination::Stdout
        );
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        assert_eq!(resolve(&link).unwrap(), Destination::File(real.clone()));
        write_output(&link, b"{\"tool\": \"stormbench 0\"}").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(std::fs::read_to_string(&real)
            .unwrap()
            .contains("stormbench"));
        assert!(resolve(dir.path())
            .unwrap_err()
            .to_string()
            .contains("directory"));
    }

    #[test]
    fn a_file_stormbench_did_not_write_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let notes = dir.path().join("notes.txt");
        std::fs::write(&notes, "my notes").unwrap();
        let e = write_output(&notes, b"{}").unwrap_err().to_string();
        assert!(e.contains("not a file stormbench wrote"), "{e}");
        assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes");
        // a mention of stormbench is no proof: a user's notes or config may name it
        for (name, text) in [
            ("about.md", "# Results of stormbench runs\nkeep these\n"),
            ("other.yaml", "# stormbench config\nworkload: simple\n"),
            (
                "ci.json",
                "{\n  \"jobs\": {\n    \"tool\": \"stormbench 0.1.0\"\n  }\n}\n",
            ),
            ("sessions.csv", "session,user,started\n1,ann,9:00\n"),
            (
                "page.html",
                "<!DOCTYPE html><html><head><title>stormbench notes</title>",
            ),
        ] {
            let f = dir.path().join(name);
            std::fs::write(&f, text).unwrap();
            let e = write_output(&f, b"{}").unwrap_err().to_string();
            assert!(e.contains("not a file stormbench wrote"), "{name}: {e}");
            assert_eq!(std::fs::read_to_string(&f).unwrap(), text);
        }
        // what stormbench writes is recognised, and replaced
        for (name, text) in [
            (
                "r.json",
                "{\n  \"schema_version\": 7,\n  \"tool\": \"stormbench 0.1.0\",\n",
            ),
            (
                "r.html",
                "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>stormbench: run</title>",
            ),
            (
                "t.jsonl",
                "{\"session\":12,\"ts_ms\":0.000,\"template_id\":3,\"sql\":\"SELECT 1\"}\n",
            ),
            ("t.csv", "session,ts_ms,template_id,query_type,sql\n"),
        ] {
            let f = dir.path().join(name);
            std::fs::write(&f, text).unwrap();
            write_output(&f, b"new").unwrap();
            assert_eq!(std::fs::read_to_string(&f).unwrap(), "new", "{name}");
        }
        let empty = dir.path().join("empty.csv");
        std::fs::write(&empty, "").unwrap();
        let series = b"interval,t_s,transactions,errors,retries,tps,qps,p50_ms\n";
        write_output(&empty, series).unwrap();
        write_output(&empty, series).unwrap();
        assert_eq!(std::fs::read(&empty).unwrap(), series);
    }

    #[test]
    fn two_outputs_to_one_file_and_outputs_over_inputs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("r.json");
        let same = dir.path().join("./r.json");
        let e = check_outputs(&[("--json", &a), ("--csv", &same)], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("same file"), "{e}");
        let cfg = dir.path().join("run.yaml");
        std::fs::write(&cfg, "workload: simple\n# stormbench config\n").unwrap();
        let e = check_outputs(&[("--html", &cfg)], std::slice::from_ref(&cfg))
            .unwrap_err()
            .to_string();
        assert!(e.contains("input of this run"), "{e}");
        check_outputs(
            &[("--json", &a), ("--csv", &dir.path().join("r.csv"))],
            &[cfg],
        )
        .unwrap();
    }

    #[test]
    fn an_empty_path_or_one_naming_a_folder_is_refused_before_the_run() {
        // both passed the checks and failed when the report was written, after the run
        let e = check_outputs(&[("--json", Path::new(""))], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--json: the path is empty"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let not_yet = dir.path().join("new").join("");
        let e = check_outputs(&[("--csv", &not_yet)], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("names a directory"), "{e}");
        assert!(!dir.path().join("new").exists());
    }
}
