//! Reading a config file: size and encoding checks, `${VAR}` expansion, the split of
//! workload sections from the strict top level, and the workloads path it names.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::raw::{PathList, RawConfig};
use super::{expand_env, yaml};
use crate::core::registry::parse_section_lenient;
use crate::core::Registry;

/// A config that could not be used: every problem, one per line, each naming its YAML path.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration{}:\n  {}", source_name.as_deref().map(|s| format!(" in {}", one_line(s))).unwrap_or_default(), problems.iter().map(|p| one_line(p)).collect::<Vec<_>>().join("\n  "))]
pub struct ConfigError {
    /// The file the problems are in, when there is one.
    pub source_name: Option<String>,
    /// One message per problem.
    pub problems: Vec<String>,
}

/// `s` with line breaks written as `\n` and `\r`: a problem quoting a value with a line
/// break (a variable's, a name's) stays one line of the list.
fn one_line(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains(['\n', '\r']) {
        s.replace('\n', "\\n").replace('\r', "\\r").into()
    } else {
        s.into()
    }
}

/// The default folder of declarative workloads, relative to the working directory.
pub const DEFAULT_WORKLOADS_PATH: &str = "./workloads";

/// Where to look for declarative workloads: `cli` paths when given (relative to the
/// working directory), else the config file's `workloads_path` (relative to the config
/// file's folder), else [`DEFAULT_WORKLOADS_PATH`]. `~/` is the home directory. Returns
/// the folders and whether they were asked for explicitly (a missing explicit folder is
/// an error; a missing default is not).
pub fn workloads_paths(
    config: Option<&ConfigFile>,
    cli: &[PathBuf],
) -> Result<(Vec<PathBuf>, bool), Vec<String>> {
    if !cli.is_empty() {
        return Ok((cli.iter().map(|p| expand_home(p)).collect(), true));
    }
    if let Some(file) = config {
        // a file that does not parse is reported by `ConfigFile::load`; here it has no paths
        let mut value = yaml::parse(&file.text).unwrap_or_default();
        if value.is_mapping() {
            expand_env(&mut value, &|k| std::env::var(k).ok(), &text_key)?;
        }
        if let Some(v) = value.get("workloads_path") {
            let list: PathList = serde_yaml::from_value(v.clone()).map_err(|_| {
                vec!["workloads_path: expected a folder or a list of folders, e.g. [./workloads, ~/my-workloads]".to_string()]
            })?;
            // relative to the file's folder; for standard input, the working directory
            let base = file.path.parent().unwrap_or(Path::new("."));
            let paths = list
                .to_vec()
                .iter()
                .map(|p| {
                    let p = expand_home(p);
                    if p.is_absolute() {
                        p
                    } else {
                        base.join(p)
                    }
                })
                .collect();
            return Ok((paths, true));
        }
    }
    Ok((vec![PathBuf::from(DEFAULT_WORKLOADS_PATH)], false))
}

fn expand_home(p: &std::path::Path) -> PathBuf {
    super::conninfo::expand_home(p, &|k| std::env::var(k).ok())
}

/// A loaded config file: the strict top level plus the workload sections.
#[derive(Debug, Clone, Default)]
pub struct LoadedConfig {
    /// Top-level keys.
    pub raw: RawConfig,
    /// Per-workload sections by workload name.
    pub sections: BTreeMap<String, serde_yaml::Value>,
    /// Problems found while reading the file (reported with those of validation).
    pub problems: Vec<String>,
}

/// The path that means standard input: `--config -`.
pub const STDIN_PATH: &str = "-";

/// A config file, read once: where it came from and its text.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The path given (`-` for standard input).
    pub path: PathBuf,
    /// The whole text.
    pub text: String,
}

impl ConfigFile {
    /// Reads a config file, or standard input for `-`: at most [`yaml::MAX_FILE_BYTES`],
    /// UTF-8. The message of a failure names the file and what to check.
    pub fn read(path: &Path) -> Result<ConfigFile, ConfigError> {
        let failed = |problem| ConfigError {
            source_name: None,
            problems: vec![problem],
        };
        let text = if path == Path::new(STDIN_PATH) {
            yaml::read_text_from(std::io::stdin().lock())
        } else {
            yaml::read_text(path)
        };
        let text = text.map_err(|e| failed(read_error(&display_name(path), e)))?;
        Ok(ConfigFile {
            path: path.to_path_buf(),
            text,
        })
    }

    /// The file's name as messages give it (`standard input` for `-`).
    pub fn name(&self) -> String {
        display_name(&self.path)
    }

    /// Whether the text came from standard input.
    pub fn is_stdin(&self) -> bool {
        self.path == Path::new(STDIN_PATH)
    }

    /// Parses the file (with `${VAR}` expansion from the process environment). A file with
    /// no settings at all (empty, only comments, a bare `---`) is an error: it would
    /// silently run every default against whatever listens on localhost.
    pub fn load(&self, registry: &Registry) -> Result<LoadedConfig, ConfigError> {
        let name = self.name();
        let failed = |problems| ConfigError {
            source_name: Some(name.clone()),
            problems,
        };
        let value = yaml::parse(&self.text).map_err(|e| failed(vec![e]))?;
        if value.is_null() {
            return Err(ConfigError {
                source_name: None,
                problems: vec![format!(
                    "config file {name} is empty (no settings, only blank lines or comments); write the settings of the run, at least the database (database: {{host: ..., dbname: ...}})"
                )],
            });
        }
        from_value(value, registry).map_err(failed)
    }
}

fn display_name(path: &Path) -> String {
    if path == Path::new(STDIN_PATH) {
        "standard input".into()
    } else {
        path.display().to_string()
    }
}

fn read_error(name: &str, e: yaml::ReadError) -> String {
    match e {
        yaml::ReadError::TooLarge => format!(
            "config file {name} is larger than {}; a config is a few hundred lines at most, check the path given to --config",
            yaml::limit_text()
        ),
        yaml::ReadError::Io(e) => {
            format!("cannot read config file {name}: {e}; check the path given to --config")
        }
    }
}

/// Parses config text: expands `${VAR}` in the values, splits off workload sections, reads
/// the rest strictly. Returns every problem found. Empty text gives every default.
pub fn parse_str(text: &str, registry: &Registry) -> Result<LoadedConfig, Vec<String>> {
    from_value(yaml::parse(text).map_err(|e| vec![e])?, registry)
}

/// YAML paths of the top level that hold text: a whole-value `${VAR}` there keeps the
/// variable's exact characters instead of being read as a number or a boolean (a
/// password `12345` stays the string `12345`).
const TEXT_KEYS: &[&str] = &[
    "database.host",
    "database.dbname",
    "database.username",
    "database.password",
    "database.bindir",
    "workload",
    "mode",
    "log_level",
    "output.json",
    "output.csv",
    "output.html",
    "metrics.prometheus.listen",
];

fn text_key(path: &str) -> bool {
    TEXT_KEYS.contains(&path) || path == "workloads_path" || path.starts_with("workloads_path[")
}

fn from_value(
    mut value: serde_yaml::Value,
    registry: &Registry,
) -> Result<LoadedConfig, Vec<String>> {
    expand_env(&mut value, &|k| std::env::var(k).ok(), &text_key)?;
    let mut map = match value {
        serde_yaml::Value::Null => serde_yaml::Mapping::new(),
        serde_yaml::Value::Mapping(m) => m,
        _ => {
            return Err(vec![
                "the config must be a YAML mapping of keys (workload: ..., duration: ...)".into(),
            ])
        }
    };
    let mut sections = BTreeMap::new();
    for info in registry.entries() {
        if let Some(v) = map.remove(info.name.as_str()) {
            sections.insert(info.name.to_string(), v);
        }
    }
    let (raw, problems) = parse_section_lenient::<RawConfig>(&serde_yaml::Value::Mapping(map), "");
    Ok(LoadedConfig {
        raw,
        sections,
        problems,
    })
}
