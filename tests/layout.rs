//! The shape of the code, held as tests so that it stays true: no Rust file over 800 lines,
//! no function over 100, and the layers pointing one way (the wire driver and the workload
//! API import nothing above them; only the command layer reaches the commands and the run
//! pipeline). No database needed.

use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 800;
const MAX_FN_LINES: usize = 100;

/// Every `.rs` file under the crate's `dir` (src, tests, examples), sorted. Symbolic links
/// are not followed (a link back up the tree would walk forever); the crate has none.
fn rust_files(dir: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let (p, Ok(kind)) = (e.path(), e.file_type()) else {
                continue;
            };
            if kind.is_dir() {
                walk(&p, out);
            } else if kind.is_file() && p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), &mut out);
    out.sort();
    out
}

/// Every `.rs` file under `dir` with its text, each read once.
fn sources_under(dir: &str) -> Vec<(PathBuf, String)> {
    rust_files(dir)
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

fn all_sources() -> Vec<(PathBuf, String)> {
    let files: Vec<_> = ["src", "tests", "examples"]
        .iter()
        .flat_map(|d| sources_under(d))
        .collect();
    assert!(
        files.len() > 100,
        "the sources were not found ({} files)",
        files.len()
    );
    files
}

fn shown(p: &Path) -> String {
    p.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(p)
        .display()
        .to_string()
}

/// The code's punctuation that shapes items (`{ } ( ) [ ] ;`), each with its line number
/// (from 1), outside comments, strings and character literals.
fn punctuation(text: &str) -> Vec<(usize, u8)> {
    let b = text.as_bytes();
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    // skips to just past the closing `"` of a string whose body starts at `j`
    let string_end = |mut j: usize, line: &mut usize| {
        while j < b.len() && b[j] != b'"' {
            if b[j] == b'\\' {
                j += 1;
            }
            if j < b.len() && b[j] == b'\n' {
                *line += 1;
            }
            j += 1;
        }
        j + 1
    };
    while i < b.len() {
        match b[i] {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i..].starts_with(b"/*") {
                        depth += 1;
                        i += 2;
                    } else if b[i..].starts_with(b"*/") {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        line += usize::from(b[i] == b'\n');
                        i += 1;
                    }
                }
            }
            // raw strings: r"..", r#".."#, br".."
            b'r' if (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
                || (i > 0 && b[i - 1] == b'b') =>
            {
                let mut j = i + 1;
                while j < b.len() && b[j] == b'#' {
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let hashes = j - i - 1;
                let mut close = vec![b'"'];
                close.extend(std::iter::repeat_n(b'#', hashes));
                j += 1;
                while j < b.len() && !b[j..].starts_with(&close) {
                    line += usize::from(b[j] == b'\n');
                    j += 1;
                }
                i = j + close.len();
            }
            b'"' => i = string_end(i + 1, &mut line),
            b'\'' => {
                // a character literal ('{', '\'', '\u{7b}') or a lifetime ('a)
                if b.get(i + 1) == Some(&b'\\') {
                    let mut j = i + 3;
                    while j < b.len() && b[j] != b'\'' {
                        j += 1;
                    }
                    i = j + 1;
                } else if b.get(i + 2) == Some(&b'\'') {
                    i += 3;
                } else {
                    // a multi-byte character literal, or a lifetime
                    let ch_len = text[i + 1..].chars().next().map_or(1, char::len_utf8);
                    if b.get(i + 1 + ch_len) == Some(&b'\'') {
                        i += 2 + ch_len;
                    } else {
                        i += 1;
                    }
                }
            }
            c @ (b'{' | b'}' | b'(' | b')' | b'[' | b']' | b';') => {
                out.push((line, c));
                i += 1;
            }
            _ => i += 1,
        }
    }
    out
}

/// The line (from 1) of each `fn` item's signature start, and its name.
fn fn_starts(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let mut l = raw.trim_start();
        if l.starts_with("pub(") {
            l = l.split_once(") ").map_or("", |(_, rest)| rest);
        }
        for q in ["pub ", "const ", "async ", "unsafe ", "extern \"C\" "] {
            l = l.strip_prefix(q).unwrap_or(l);
        }
        if let Some(rest) = l.strip_prefix("fn ") {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push((n + 1, name));
        }
    }
    out
}

/// Each function with a body, as (name, first line, last line).
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let marks = punctuation(text);
    let mut out = Vec::new();
    for (start, name) in fn_starts(text) {
        let mut k = marks.partition_point(|&(l, _)| l < start);
        // the body's `{` at bracket depth 0, or a `;` there (a declaration without a body)
        let mut nesting = 0i32;
        let mut open = None;
        while k < marks.len() {
            match marks[k].1 {
                b'(' | b'[' => nesting += 1,
                b')' | b']' => nesting -= 1,
                b';' if nesting == 0 => break,
                b'{' if nesting == 0 => {
                    open = Some(k);
                    break;
                }
                _ => {}
            }
            k += 1;
        }
        let Some(open) = open else { continue };
        let mut depth = 0;
        for &(line, c) in &marks[open..] {
            match c {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        out.push((name.clone(), start, line));
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    out
}

#[test]
fn the_function_scanner_reads_braces_in_strings_chars_comments_and_raw_strings() {
    let text = r####"
fn a() {
    let s = "}}}";
    let c = '}';
    let e = '\'';
    // }
    /* } /* } */ } */
    let r = r#"}"#;
}
pub(crate) async fn b<'a>(x: &'a [u8; 4]) -> &'a str {
    let y = x.iter().map(|_| { 1 }).count();
    ""
}
trait T {
    fn c(&self);
}
fn d() {}
"####;
    let got: Vec<_> = functions(text)
        .into_iter()
        .map(|(n, a, b)| (n, b - a + 1))
        .collect();
    let want = [("a", 8), ("b", 4), ("d", 1)].map(|(n, l)| (n.to_string(), l));
    assert_eq!(got, want);
}

#[test]
fn no_rust_file_is_over_800_lines() {
    let long: Vec<_> = all_sources()
        .into_iter()
        .map(|(p, t)| (shown(&p), t.lines().count()))
        .filter(|&(_, n)| n > MAX_FILE_LINES)
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_FILE_LINES} lines (split them along their seams): {long:?}"
    );
}

#[test]
fn no_function_is_over_100_lines() {
    let mut long = Vec::new();
    for (p, t) in all_sources() {
        for (name, a, b) in functions(&t) {
            if b - a + 1 > MAX_FN_LINES {
                long.push(format!("{}:{a} {name} ({} lines)", shown(&p), b - a + 1));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_FN_LINES} lines (split them into named steps): {long:#?}"
    );
}

/// The `crate::` paths a file names (in `use` and in code), first segment and second.
fn crate_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        if i > 0 && {
            let c = text.as_bytes()[i - 1];
            c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
        } {
            continue;
        }
        let rest = &text[i + "crate::".len()..];
        let path: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        out.push(path);
    }
    out
}

/// The `crate::` paths of `sources` that break `allowed`, as "file: path".
fn breaches(sources: &[(PathBuf, String)], allowed: impl Fn(&str) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    for (p, text) in sources {
        for path in crate_paths(text) {
            if !allowed(&path) {
                out.push(format!("{}: crate::{path}", shown(p)));
            }
        }
    }
    out
}

#[test]
fn the_wire_driver_imports_only_the_low_modules() {
    let wire = sources_under("src/db/wire");
    let bad = breaches(&wire, |p| p.starts_with("types") || p.starts_with("rows"));
    assert!(bad.is_empty(), "db/wire reaches above itself: {bad:#?}");
    for (p, text) in &wire {
        assert!(
            !text.contains("super::super::"),
            "{} reaches out of db/wire through super",
            shown(p)
        );
    }
}

#[test]
fn the_workload_api_imports_no_driver_config_or_engine() {
    let bad = breaches(&sources_under("src/core"), |p| {
        p.starts_with("core") || p.starts_with("rows") || p.starts_with("types")
    });
    assert!(bad.is_empty(), "core reaches above itself: {bad:#?}");
}

#[test]
fn the_low_modules_import_nothing_from_the_crate() {
    for f in ["src/types.rs", "src/rows.rs"] {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(f)).unwrap();
        assert!(crate_paths(&text).is_empty(), "{f} imports from the crate");
    }
}

#[test]
fn only_the_command_layer_reaches_the_commands_and_the_run_pipeline() {
    let mut bad = Vec::new();
    for (p, text) in sources_under("src") {
        let rel = shown(&p);
        let commands = rel.starts_with("src/commands/")
            || ["src/main.rs", "src/lib.rs", "src/cli.rs"].contains(&rel.as_str());
        let pipeline = commands || rel.starts_with("src/pipeline/");
        for path in crate_paths(&text) {
            if (path.starts_with("commands") && !commands)
                || (path.starts_with("pipeline") && !pipeline)
            {
                bad.push(format!("{rel}: crate::{path}"));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "lower modules reach the command layer: {bad:#?}"
    );
}
