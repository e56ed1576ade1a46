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
        Ok(StoreSpec::File(expand_home(Path::new(t), get)))
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

/// Where this run is recorded: the config's `history:` (or `--history`), else
/// `STORMBENCH_HISTORY`, else the default store.
pub(crate) fn history_store(
    raw: Option<&RawHistory>,
    env: &dyn Fn(&str) -> Option<String>,
    errors: &mut Vec<String>,
) -> StoreSpec {
    let (key, text) = match raw {
        Some(RawHistory::On(false)) => return StoreSpec::Off,
        Some(RawHistory::On(true)) => return StoreSpec::default_store(env),
        Some(RawHistory::At(s)) => ("history", s.expose().to_string()),
        None => match env("STORMBENCH_HISTORY").filter(|v| !v.is_empty()) {
            Some(v) => ("STORMBENCH_HISTORY", v),
            None => return StoreSpec::default_store(env),
        },
    };
    StoreSpec::parse(&text, env).unwrap_or_else(|e| {
        errors.push(format!("{key}: {e}"));
        StoreSpec::Off
    })
}
