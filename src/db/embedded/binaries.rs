//! Finding the server binaries and their version.

use super::*;

/// Locate initdb/pg_ctl/postgres: explicit bindir, else on PATH (resolve symlinks), else `pg_config --bindir`, else newest /usr/lib/postgresql/*/bin. Returns bindir.
///
/// With `opts.version` set, the first discovered bin dir of that major
/// version is used instead (an explicit bindir is always used as given).
pub(crate) fn find_bindir(opts: &EmbeddedOptions) -> Result<PathBuf, EmbeddedError> {
    if let Some(dir) = &opts.bindir {
        return if has_server_binaries(dir) {
            Ok(dir.clone())
        } else {
            Err(EmbeddedError::BadBindir(dir.clone()))
        };
    }
    let candidates = discover_bindirs();
    match opts.version {
        None => candidates
            .into_iter()
            .next()
            .ok_or(EmbeddedError::NoBinaries),
        Some(wanted) => pick_version(candidates, wanted),
    }
}

/// First candidate whose `postgres --version` has major version `wanted`.
pub(super) fn pick_version(
    candidates: Vec<PathBuf>,
    wanted: u32,
) -> Result<PathBuf, EmbeddedError> {
    if candidates.is_empty() {
        return Err(EmbeddedError::NoBinaries);
    }
    let mut found = Vec::new();
    for dir in candidates {
        match binary_version(&dir) {
            Some(v) if v == wanted => return Ok(dir),
            Some(v) => found.push(v.to_string()),
            None => found.push(format!("unknown in {}", dir.display())),
        }
    }
    Err(EmbeddedError::VersionNotFound {
        wanted,
        found: found.join(", "),
    })
}

/// All bin dirs with server binaries, in discovery order, without duplicates.
pub(super) fn discover_bindirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    dirs.extend(bindirs_on_path());
    dirs.extend(pg_config_bindir());
    dirs.extend(versioned_bindirs());
    let mut unique: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        let dir = fs::canonicalize(&dir).unwrap_or(dir);
        if has_server_binaries(&dir) && !unique.contains(&dir) {
            unique.push(dir);
        }
    }
    unique
}

/// Directories of `initdb` found on PATH, with symlinks resolved.
pub(super) fn bindirs_on_path() -> Vec<PathBuf> {
    let Some(path) = std::env::var_os("PATH") else {
        return Vec::new();
    };
    std::env::split_paths(&path)
        .map(|dir| dir.join("initdb"))
        .filter(|initdb| is_executable(initdb))
        .filter_map(|initdb| fs::canonicalize(initdb).ok())
        .filter_map(|initdb| initdb.parent().map(Path::to_path_buf))
        .collect()
}

/// `pg_config --bindir` of the pg_config on PATH, if any.
pub(super) fn pg_config_bindir() -> Option<PathBuf> {
    let output = Command::new("pg_config")
        .arg("--bindir")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let dir = String::from_utf8_lossy(&output.stdout).trim().to_string();
    (!dir.is_empty()).then(|| PathBuf::from(dir))
}

/// `/usr/lib/postgresql/<major>/bin`, newest first.
pub(super) fn versioned_bindirs() -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(VERSIONED_ROOT) else {
        return Vec::new();
    };
    let mut versions: Vec<(u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((major, e.path().join("bin")))
        })
        .collect();
    versions.sort_by_key(|v| std::cmp::Reverse(v.0));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

/// True when `dir` has executable initdb, pg_ctl and postgres.
pub(super) fn has_server_binaries(dir: &Path) -> bool {
    SERVER_BINARIES
        .iter()
        .all(|name| is_executable(&dir.join(name)))
}

/// True for a regular file (after symlinks) with an execute bit.
pub(super) fn is_executable(path: &Path) -> bool {
    fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Major version reported by `<dir>/postgres --version`.
pub(super) fn binary_version(dir: &Path) -> Option<u32> {
    let output = Command::new(dir.join("postgres"))
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    parse_version_output(&String::from_utf8_lossy(&output.stdout))
}

/// Parses "postgres (PostgreSQL) 15.14 (Debian ...)" into 15.
pub(super) fn parse_version_output(text: &str) -> Option<u32> {
    let rest = text.split("(PostgreSQL)").nth(1)?.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// True if the server in `bindir` can load pg_stat_statements.
pub(super) fn has_pg_stat_statements(bindir: &Path) -> bool {
    const LIB: &str = "pg_stat_statements.so";
    if bindir.join("../lib").join(LIB).is_file() {
        return true;
    }
    // Only this installation's pg_config: another version's module would not load.
    let pg_config = bindir.join("pg_config");
    if !is_executable(&pg_config) {
        return false;
    }
    Command::new(pg_config)
        .arg("--pkglibdir")
        .stdin(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            let dir = String::from_utf8_lossy(&o.stdout).trim().to_string();
            !dir.is_empty() && Path::new(&dir).join(LIB).is_file()
        })
        .unwrap_or(false)
}
