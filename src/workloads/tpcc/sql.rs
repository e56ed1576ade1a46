//! The workload's SQL files: blocks headed by `-- name: NAME`, each one statement.

/// The statement named `name` in `text`, without its trailing `;`; `None` if absent.
pub(crate) fn named(text: &'static str, name: &str) -> Option<&'static str> {
    let mut rest = text;
    while let Some(at) = rest.find("-- name: ") {
        let after = &rest[at + "-- name: ".len()..];
        let (header, body) = after.split_once('\n')?;
        let end = body.find("-- name: ").unwrap_or(body.len());
        if header.trim() == name {
            return Some(body[..end].trim().trim_end_matches(';').trim_end());
        }
        rest = &body[end..];
    }
    None
}

/// The statements named `names`, in that order; the first missing name is the error.
pub(crate) fn all_named(
    text: &'static str,
    names: &[&'static str],
) -> Result<Vec<&'static str>, &'static str> {
    names
        .iter()
        .map(|n| named(text, n).ok_or(*n))
        .collect::<Result<Vec<_>, _>>()
}

/// `sql` split into statements at `;` line ends, comment lines dropped.
pub(crate) fn statements(sql: &'static str) -> Vec<String> {
    sql.split(";\n")
        .map(|s| {
            s.lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|s| !s.trim().is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "-- intro\n-- name: a\nSELECT 1;\n-- name: b\nSELECT\n  2;\n";

    #[test]
    fn finds_blocks_by_name() {
        assert_eq!(named(TEXT, "a"), Some("SELECT 1"));
        assert_eq!(named(TEXT, "b"), Some("SELECT\n  2"));
        assert_eq!(named(TEXT, "c"), None);
        assert_eq!(
            all_named(TEXT, &["b", "a"]).unwrap(),
            ["SELECT\n  2", "SELECT 1"]
        );
        assert_eq!(all_named(TEXT, &["a", "zz"]).unwrap_err(), "zz");
    }

    #[test]
    fn splits_scripts() {
        let s = statements("-- c\nA;\nB;\n\n");
        assert_eq!(s, ["A", "B"]);
    }
}
