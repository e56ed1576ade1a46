//! The registry of workloads: names, modes, what `scale` means, and how to build each one.

use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use serde::de::DeserializeOwned;

use super::{Workload, WorkloadParams};

/// Builds a workload from its parameters, or returns every problem found in its section
/// (each message starts with its YAML path).
pub(crate) type BuildFn = Arc<dyn Fn(&WorkloadParams) -> BuildResult + Send + Sync>;

/// A built workload, or every problem found building it.
pub(crate) type BuildResult = Result<Arc<dyn Workload>, Vec<String>>;

/// What `stormbench list` says of a workload beside its modes.
#[derive(Debug, Clone)]
pub(crate) struct Details {
    /// One line.
    pub(crate) description: String,
    /// What one unit of `scale` means for this workload.
    pub(crate) scale_meaning: String,
}

/// A value learnt when first asked for.
type Lazy<T> = LazyLock<T, Box<dyn FnOnce() -> T + Send>>;

/// One registry entry: a built-in workload or one discovered in a workloads folder.
#[derive(Clone)]
pub struct WorkloadInfo {
    /// Name used in `workload:` and as the name of its YAML section.
    pub(crate) name: String,
    /// Modes; the first is the default. A declarative workload's are read from its file
    /// without compiling it (resolving a run's workload needs them, nothing else).
    modes: Arc<Lazy<Vec<String>>>,
    /// A declarative workload's come from compiling its file, which a run never needs
    /// (it builds the workload at its own scale).
    details: Arc<Lazy<Details>>,
    /// Where a declarative workload was found (its `workload.yaml`); `None` for built-ins.
    pub(crate) source: Option<PathBuf>,
    /// Constructor.
    pub(crate) build: BuildFn,
}

impl WorkloadInfo {
    /// A built-in workload's entry.
    pub(crate) fn builtin(
        name: &str,
        description: &str,
        modes: &[&str],
        scale_meaning: &str,
        build: fn(&WorkloadParams) -> BuildResult,
    ) -> Self {
        let details = Details {
            description: description.to_string(),
            scale_meaning: scale_meaning.to_string(),
        };
        let modes: Vec<String> = modes.iter().map(|m| m.to_string()).collect();
        WorkloadInfo {
            name: name.to_string(),
            modes: Arc::new(LazyLock::new(Box::new(move || modes))),
            details: Arc::new(LazyLock::new(Box::new(move || details))),
            source: None,
            build: Arc::new(build),
        }
    }

    /// A declarative workload's entry: its modes come from `modes` and its details from
    /// `describe`, each run when first asked for.
    pub(crate) fn discovered(
        name: String,
        source: PathBuf,
        modes: impl FnOnce() -> Vec<String> + Send + 'static,
        describe: impl FnOnce() -> Details + Send + 'static,
        build: BuildFn,
    ) -> Self {
        WorkloadInfo {
            name,
            modes: Arc::new(LazyLock::new(Box::new(modes))),
            details: Arc::new(LazyLock::new(Box::new(describe))),
            source: Some(source),
            build,
        }
    }

    /// One line for `stormbench list`.
    pub(crate) fn description(&self) -> &str {
        &self.details.description
    }

    /// Modes; the first is the default.
    pub(crate) fn modes(&self) -> &[String] {
        &self.modes
    }

    /// What one unit of `scale` means for this workload.
    pub(crate) fn scale_meaning(&self) -> &str {
        &self.details.scale_meaning
    }

    /// Where the entry comes from, for messages: "built-in" or the workload.yaml path.
    pub(crate) fn origin(&self) -> String {
        match &self.source {
            Some(p) => p.display().to_string(),
            None => "built-in".to_string(),
        }
    }
}

impl std::fmt::Debug for WorkloadInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkloadInfo")
            .field("name", &self.name)
            .field("modes", &self.modes())
            .field("source", &self.source)
            .finish()
    }
}

/// All workloads stormbench can run.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    entries: Vec<WorkloadInfo>,
}

/// A workload name resolved against the registry.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// The entry.
    pub(crate) info: WorkloadInfo,
    /// The chosen mode.
    pub(crate) mode: String,
}

impl Registry {
    /// A registry of the given entries.
    pub(crate) fn new(entries: Vec<WorkloadInfo>) -> Self {
        Registry { entries }
    }

    /// Adds discovered entries after the built-ins. A name already taken is an error naming
    /// both origins; every clash is reported.
    pub(crate) fn extend(&mut self, entries: Vec<WorkloadInfo>) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        for e in entries {
            match self.get(&e.name) {
                Some(old) => errors.push(format!(
                    "workload '{}' in {} clashes with the {} workload '{}'{}; rename the folder of one of them",
                    e.name,
                    e.origin(),
                    if old.source.is_some() { "declarative" } else { "built-in" },
                    old.name,
                    old.source
                        .as_ref()
                        .map(|p| format!(" in {}", p.display()))
                        .unwrap_or_default()
                )),
                None => match self.spelling_clash(&e) {
                    Some(m) => errors.push(m),
                    None => self.entries.push(e),
                },
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// A message when `e`'s name is another entry's `name_mode` spelling, or the other
    /// way round (`workload: simple_read` must stay unambiguous).
    fn spelling_clash(&self, e: &WorkloadInfo) -> Option<String> {
        let split = |long: &str, short: &WorkloadInfo| {
            long.strip_prefix(short.name.as_str())
                .and_then(|r| r.strip_prefix('_'))
                .filter(|m| short.modes().iter().any(|x| x == m))
                .map(str::to_string)
        };
        self.entries.iter().find_map(|old| {
            let (long, short, mode) = if let Some(m) = split(&e.name, old) {
                (e, old, m)
            } else if let Some(m) = split(&old.name, e) {
                (old, e, m)
            } else {
                return None;
            };
            Some(format!(
                "workload '{}' ({}) clashes with workload '{}' in mode '{mode}' ({}): 'workload: {}' would be ambiguous; rename one of them",
                long.name,
                long.origin(),
                short.name,
                short.origin(),
                long.name
            ))
        })
    }

    /// All entries, in registration order.
    pub(crate) fn entries(&self) -> &[WorkloadInfo] {
        &self.entries
    }

    /// Looks up an entry by exact name.
    pub(crate) fn get(&self, name: &str) -> Option<&WorkloadInfo> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// Resolves `workload` (+ optional `mode`): either `simple` with `mode: read`, or the
    /// combined form `simple_read`. Errors name what is available.
    pub(crate) fn resolve(&self, workload: &str, mode: Option<&str>) -> Result<Resolved, String> {
        if let Some(info) = self.get(workload) {
            let mode = mode.unwrap_or(info.modes()[0].as_str());
            if !info.modes().iter().any(|m| m == mode) {
                return Err(format!(
                    "mode: unknown mode '{mode}' for workload '{}'; available: {}",
                    info.name,
                    info.modes().join(", ")
                ));
            }
            return Ok(Resolved {
                info: info.clone(),
                mode: mode.to_string(),
            });
        }
        for info in &self.entries {
            if let Some(m) = workload
                .strip_prefix(info.name.as_str())
                .and_then(|rest| rest.strip_prefix('_'))
            {
                if let Some(found) = info.modes().iter().find(|x| **x == m) {
                    if let Some(explicit) = mode.filter(|x| x != found) {
                        return Err(format!(
                            "mode: '{explicit}' contradicts workload '{workload}' (mode '{found}'); write either workload: {} with mode: {explicit}, or drop mode",
                            info.name
                        ));
                    }
                    return Ok(Resolved {
                        info: info.clone(),
                        mode: found.clone(),
                    });
                }
            }
        }
        Err(format!(
            "workload: unknown workload '{workload}'; available: {} (run 'stormbench list' for modes)",
            self.combined_names().join(", ")
        ))
    }

    /// Every `name` and `name_mode` spelling.
    fn combined_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        for e in &self.entries {
            out.push(e.name.to_string());
            out.extend(e.modes().iter().map(|m| format!("{}_{}", e.name, m)));
        }
        out
    }
}

/// Deserializes a YAML section strictly and reports every problem at once, each prefixed
/// by its YAML path under `prefix` (e.g. `simple.read_ratio: invalid type ...`).
pub(crate) fn parse_section<T: DeserializeOwned + Default>(
    value: &serde_yaml::Value,
    prefix: &str,
) -> Result<T, Vec<String>> {
    let (v, errors) = parse_section_lenient(value, prefix);
    if errors.is_empty() {
        Ok(v)
    } else {
        Err(errors)
    }
}

/// Like [`parse_section`], but always returns a value: what could not be read is left at
/// its default and reported, so later checks can still run and report their problems too.
///
/// serde stops at the first error, so after each one the offending key is removed and the
/// section is read again.
pub(crate) fn parse_section_lenient<T: DeserializeOwned + Default>(
    value: &serde_yaml::Value,
    prefix: &str,
) -> (T, Vec<String>) {
    let mut value = if value.is_null() {
        serde_yaml::Value::Mapping(Default::default())
    } else {
        value.clone()
    };
    let mut errors = Vec::new();
    for _ in 0..64 {
        match serde_path_to_error::deserialize::<_, T>(value.clone()) {
            Ok(v) => return (v, errors),
            Err(e) => {
                let path = join_path(prefix, &e.path().to_string());
                let msg = clean_message(&e.inner().to_string());
                let (target, msg) = unknown_field_target(&path, &msg);
                errors.push(format!("{target}: {msg}"));
                let rel = target
                    .strip_prefix(prefix)
                    .unwrap_or(&target)
                    .trim_start_matches('.');
                if !remove_path(&mut value, rel) {
                    break;
                }
            }
        }
    }
    (T::default(), errors)
}

/// Joins a prefix and a serde path (`.` means the root).
fn join_path(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path == "." || path.is_empty()) {
        (true, _) => path.to_string(),
        (false, true) => prefix.to_string(),
        (false, false) => format!("{prefix}.{path}"),
    }
}

/// serde_yaml appends " at line L column C"; keep the message short and single-line.
fn clean_message(msg: &str) -> String {
    msg.lines().next().unwrap_or("").to_string()
}

/// For "unknown field `x`, expected one of ..." the path points at the parent; return the
/// path of the unknown key itself so it can be removed, and a friendlier message.
fn unknown_field_target(path: &str, msg: &str) -> (String, String) {
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        if let Some((field, tail)) = rest.split_once('`') {
            let target = if path.ends_with(&format!(".{field}")) || path == field {
                path.to_string()
            } else if path.is_empty() || path == "." {
                field.to_string()
            } else {
                format!("{path}.{field}")
            };
            let expected = tail.trim_start_matches(", ").trim();
            return (target, format!("unknown key '{field}'; {expected}"));
        }
    }
    (path.to_string(), msg.to_string())
}

/// Removes the value at a dotted path (with `[i]` indexes); false when nothing was removed.
fn remove_path(value: &mut serde_yaml::Value, path: &str) -> bool {
    let path = path.trim_start_matches('.');
    if path.is_empty() || path == "." {
        return false;
    }
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let (key, index) = match head.split_once('[') {
        Some((k, i)) => (k, i.trim_end_matches(']').parse::<usize>().ok()),
        None => (head, None),
    };
    let serde_yaml::Value::Mapping(map) = value else {
        return false;
    };
    let k = serde_yaml::Value::String(key.to_string());
    match (index, rest) {
        (None, None) => map.remove(&k).is_some(),
        (None, Some(r)) => map.get_mut(&k).is_some_and(|v| remove_path(v, r)),
        (Some(i), r) => match map.get_mut(&k) {
            Some(serde_yaml::Value::Sequence(seq)) if i < seq.len() => match r {
                None => {
                    seq.remove(i);
                    true
                }
                Some(r) => remove_path(&mut seq[i], r),
            },
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, serde::Deserialize)]
    #[serde(deny_unknown_fields, default)]
    struct Inner {
        a: u32,
        b: String,
    }

    #[derive(Debug, Default, serde::Deserialize)]
    #[serde(deny_unknown_fields, default)]
    struct Outer {
        x: f64,
        inner: Inner,
    }

    #[test]
    fn a_discovered_workload_is_described_only_when_asked() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static READ: AtomicUsize = AtomicUsize::new(0);
        static DESCRIBED: AtomicUsize = AtomicUsize::new(0);
        let no_build: BuildFn = Arc::new(|_: &WorkloadParams| Err(vec!["not built".into()]));
        let found = WorkloadInfo::discovered(
            "shop".into(),
            PathBuf::from("workloads/shop/workload.yaml"),
            || {
                READ.fetch_add(1, Ordering::Relaxed);
                vec!["browse".into(), "buy".into()]
            },
            || {
                DESCRIBED.fetch_add(1, Ordering::Relaxed);
                Details {
                    description: "a shop".into(),
                    scale_meaning: "1,000 products".into(),
                }
            },
            no_build.clone(),
        );
        let builtin = WorkloadInfo::builtin("simple", "reads", &["read"], "rows", |_| {
            Err(vec!["not built".into()])
        });
        let mut registry = Registry::new(vec![builtin]);
        registry.extend(vec![found]).unwrap();
        // another workload, by either spelling: the file is never compiled
        registry.resolve("simple_read", None).unwrap();
        registry.resolve("simple", Some("read")).unwrap();
        assert_eq!(READ.load(Ordering::Relaxed), 0);
        assert_eq!(DESCRIBED.load(Ordering::Relaxed), 0);
        // this one: resolving reads its modes once and does not describe it (a run
        // builds it at its own scale)
        let r = registry.resolve("shop_buy", None).unwrap();
        assert_eq!(r.mode, "buy");
        assert_eq!(r.info.modes()[0], "browse");
        registry.resolve("shop", Some("browse")).unwrap();
        assert_eq!(READ.load(Ordering::Relaxed), 1);
        assert_eq!(DESCRIBED.load(Ordering::Relaxed), 0);
        // described once, however often asked
        assert_eq!(registry.get("shop").unwrap().description(), "a shop");
        assert_eq!(r.info.scale_meaning(), "1,000 products");
        assert_eq!(DESCRIBED.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn all_errors_are_reported_with_paths() {
        let v: serde_yaml::Value =
            serde_yaml::from_str("x: nope\ninner: { a: -1, c: 3 }\nzzz: 1\n").unwrap();
        let errs = parse_section::<Outer>(&v, "sec").unwrap_err();
        let joined = errs.join("\n");
        assert!(joined.contains("sec.x:"), "{joined}");
        assert!(joined.contains("sec.inner.a:"), "{joined}");
        assert!(joined.contains("sec.inner.c: unknown key 'c'"), "{joined}");
        assert!(joined.contains("sec.zzz: unknown key 'zzz'"), "{joined}");
        assert_eq!(errs.len(), 4, "{joined}");
    }

    #[test]
    fn null_section_gives_defaults() {
        let v = serde_yaml::Value::Null;
        let o: Outer = parse_section(&v, "sec").unwrap();
        assert_eq!(o.inner.a, 0);
    }
}
