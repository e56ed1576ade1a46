//! `history:`: where every run is recorded (a SQLite file, a PostgreSQL database, or off).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::conninfo::{expand_home, ConnParams};
use super::raw::Secret;

/// Where the history is kept.
#[derive(Debug, Clone)]
pub(crate) enum StoreSpec {
    /// Not recorded.
    Off,
    /// A SQLite file.
    File(PathBuf),
    /// A PostgreSQL database (a connection URI or key/value string; may hold a password).
    Postgres(Secret),
}

impl StoreSpec {
    /// Reads `off`, a `postgres://` / `postgresql://` URI (or `postgres:` followed by a
    /// key/value string), or a file path (`~/` expanded).
    pub(crate) fn parse(s: &str, get: &dyn Fn(&str) -> Option<String>) -> Result<Self, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("is empty; give a file path, a postgres:// URI or off".into());
        }
        if ["off", "none", "false", "no"].contains(&t.to_ascii_lowercase().as_str()) {
            return Ok(StoreSpec::Off);
        }
        if t.starts_with("postgres://") || t.starts_with("postgresql://") {
            ConnParams::parse(t)?;
            return Ok(StoreSpec::Postgres(Secret::new(t.to_string())));
        }
        if let Some(kv) = t.strip_prefix("postgres:") {
            ConnParams::parse(kv)?;
            return Ok(StoreSpec::Postgres(Secret::new(kv.trim().to_string())));
        }
        let file = expand_home(Path::new(t), get);
        // SQLite would take `dir/` as `dir` and make it a file, or fail on every run
        if t.ends_with('/') || file.is_dir() {
            return Err(format!(
                "{t} names a directory; give a file name (e.g. {}/history.sqlite)",
                t.trim_end_matches('/')
            ));
        }
        Ok(StoreSpec::File(file))
    }

    /// The default: `$XDG_DATA_HOME/stormbench/history.sqlite`, else
    /// `~/.local/share/stormbench/history.sqlite`; off when neither is known.
    pub(crate) fn default_store(get: &dyn Fn(&str) -> Option<String>) -> Self {
        let base = get("XDG_DATA_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                get("HOME")
                    .filter(|h| !h.is_empty())
                    .map(|h| Path::new(&h).join(".local").join("share"))
            });
        match base {
            Some(b) => StoreSpec::File(b.join("stormbench").join("history.sqlite")),
            None => StoreSpec::Off,
        }
    }

    /// Whether it is a connection string that carries a password.
    pub(crate) fn has_password(&self) -> bool {
        matches!(self, StoreSpec::Postgres(url)
            if ConnParams::parse(url.expose()).is_ok_and(|p| p.password.is_some()))
    }

    /// For messages and reports: the path, or the server without its password.
    pub(crate) fn display(&self) -> String {
        match self {
            StoreSpec::Off => "off".into(),
            StoreSpec::File(p) => p.display().to_string(),
            StoreSpec::Postgres(url) => match ConnParams::parse(url.expose()) {
                Ok(p) => format!(
                    "postgres {}:{}/{}",
                    p.host.as_deref().unwrap_or("localhost"),
                    p.port.unwrap_or(5432),
                    p.dbname.as_deref().unwrap_or("postgres")
                ),
                Err(_) => "postgres".into(),
            },
        }
    }
}

impl Serialize for StoreSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.display())
    }
}

/// `history:` as written: `false` / `true`, or a file path, `off` or a connection URI.
#[derive(Debug, Clone, serde::Deserialize, Serialize)]
#[serde(untagged)]
pub enum RawHistory {
    /// `false`: not recorded; `true`: the default store.
    On(bool),
    /// A file path, `off`, or a `postgres://` URI (held as a secret: it may carry a
    /// password).
    At(Secret),
}

/// The history named by `given` (the key that named it, for messages, and its text),
/// else by `STORMBENCH_HISTORY`, else the default store.
pub(crate) fn resolve_store(
    given: Option<(&str, &str)>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<StoreSpec, String> {
    let from_env = env("STORMBENCH_HISTORY").filter(|v| !v.is_empty());
    let (key, text) = match (given, &from_env) {
        (Some(g), _) => g,
        (None, Some(v)) => ("STORMBENCH_HISTORY", v.as_str()),
        (None, None) => return Ok(StoreSpec::default_store(env)),
    };
    StoreSpec::parse(text, env).map_err(|e| format!("{key}: {e}"))
}

/// Where this run is recorded: the config's `history:` (or `--history`), else
/// `STORMBENCH_HISTORY`, else the default store.
pub(crate) fn history_store(
    raw: Option<&RawHistory>,
    env: &dyn Fn(&str) -> Option<String>,
    errors: &mut Vec<String>,
) -> StoreSpec {
    let given = match raw {
        Some(RawHistory::On(false)) => return StoreSpec::Off,
        Some(RawHistory::On(true)) => return StoreSpec::default_store(env),
        Some(RawHistory::At(s)) => Some(("history", s.expose())),
        None => None,
    };
    resolve_store(given, env).unwrap_or_else(|e| {
        errors.push(e);
        StoreSpec::Off
    })
}
