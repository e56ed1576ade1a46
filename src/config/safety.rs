//! The `safety:` guards: which servers and databases destructive steps (set-up, rebuild,
//! clean-up, a workload that writes) may touch, and a read-only switch.

use super::plan::{AppliedGuard, DatabasePlan, SafetyPlan, SafetyVerdict};
use super::raw::RawSafety;

/// Validates the `safety:` section.
pub(crate) fn safety_plan(raw: &RawSafety, errors: &mut Vec<String>) -> SafetyPlan {
    if let Some(hosts) = &raw.allowed_hosts {
        if hosts.is_empty() {
            errors.push(
                "safety.allowed_hosts: an empty list allows no host; list the hosts \
                 (wildcards * and ?) or remove the key"
                    .into(),
            );
        }
        if hosts.iter().any(|h| h.trim().is_empty()) {
            errors.push("safety.allowed_hosts: an entry is empty; remove it".into());
        }
    }
    if raw
        .database_pattern
        .as_deref()
        .is_some_and(|p| p.trim().is_empty())
    {
        errors.push(
            "safety.database_pattern: must not be empty; give a pattern such as '*_test'".into(),
        );
    }
    SafetyPlan {
        allowed_hosts: raw.allowed_hosts.clone(),
        database_pattern: raw.database_pattern.clone(),
        read_only: raw.read_only.unwrap_or(false),
        verdict: None,
    }
}

/// What a run is about to do that the guards look at.
#[derive(Debug, Clone, Copy)]
pub struct Intent {
    /// The schema step that changes the database (`--setup`, `--rebuild`, `--cleanup`),
    /// if any.
    pub schema_step: Option<&'static str>,
    /// Whether the workload's measured transactions write.
    pub writes: bool,
}

impl SafetyPlan {
    /// Checks `intent` against the guards for the server and database of `db`: what
    /// applied when they allow it, else an error naming the guard and what would satisfy
    /// it. An embedded cluster is stormbench's own and is never refused.
    pub fn check(&self, db: &DatabasePlan, intent: Intent) -> Result<SafetyVerdict, String> {
        let step = match (intent.schema_step, intent.writes) {
            (Some(step), _) => Some(step.to_string()),
            (None, true) => Some("a workload that writes".to_string()),
            (None, false) => None,
        };
        let mut verdict = SafetyVerdict {
            step: step.clone(),
            ..SafetyVerdict::default()
        };
        if db.embedded {
            verdict.exempt = Some("the embedded cluster is stormbench's own".into());
            return Ok(verdict);
        }
        let Some(what) = step else {
            if self.read_only {
                verdict.applied.push(AppliedGuard {
                    guard: "read_only",
                    detail: "every connection runs with default_transaction_read_only = on".into(),
                });
            }
            return Ok(verdict);
        };
        if self.read_only {
            return Err(format!(
                "safety.read_only is on, so {what} is refused; run a read-only workload mode \
                 (e.g. simple_read) or turn safety.read_only off"
            ));
        }
        if let Some(hosts) = &self.allowed_hosts {
            let host = db.host.to_lowercase();
            match hosts.iter().find(|p| glob_match(&p.to_lowercase(), &host)) {
                Some(p) => verdict.applied.push(AppliedGuard {
                    guard: "allowed_hosts",
                    detail: format!("host '{}' matches '{p}'", db.host),
                }),
                None => {
                    return Err(format!(
                        "safety.allowed_hosts does not list host '{}', so {what} is refused \
                         there; add it to safety.allowed_hosts or point database.host at an \
                         allowed server",
                        db.host
                    ))
                }
            }
        }
        if let Some(pattern) = &self.database_pattern {
            if !glob_match(pattern, &db.dbname) {
                return Err(format!(
                    "database '{}' does not match safety.database_pattern '{pattern}', so {what} \
                     is refused; use a database whose name matches, or change the pattern",
                    db.dbname
                ));
            }
            verdict.applied.push(AppliedGuard {
                guard: "database_pattern",
                detail: format!("database '{}' matches '{pattern}'", db.dbname),
            });
        }
        Ok(verdict)
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters and `?` any
/// one character (case-sensitive: callers lower-case host names).
pub(crate) fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // iterative matching with backtracking to the last star
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if i < p.len() && (p[i] == '?' || p[i] == t[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*_test", "bench_test"));
        assert!(!glob_match("*_test", "bench_test_prod"));
        assert!(glob_match("*", ""));
        assert!(glob_match("db?.example.com", "db1.example.com"));
        assert!(!glob_match("db?.example.com", "db12.example.com"));
        assert!(glob_match("*.staging.*", "pg.staging.example.com"));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
        assert!(
            !glob_match("Bench", "bench"),
            "database names are case-sensitive"
        );
    }

    #[test]
    fn empty_guards_are_errors_naming_the_key() {
        let mut errors = Vec::new();
        let raw = RawSafety {
            allowed_hosts: Some(vec![]),
            database_pattern: Some(" ".into()),
            read_only: None,
        };
        let plan = safety_plan(&raw, &mut errors);
        assert!(!plan.read_only);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("safety.allowed_hosts: an empty list"));
        assert!(errors[1].starts_with("safety.database_pattern: must not be empty"));
    }
}
