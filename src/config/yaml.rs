//! Reading YAML files that may be hostile: the bytes read are capped, and a cheap
//! pre-scan refuses deep nesting, too many values and aliases before the parser sees the
//! text (the parser takes quadratic time on deeply nested flow collections, holds about
//! 170 bytes per value while it parses, and aliases can expand a small file into
//! gigabytes of values).

use std::io::Read;
use std::path::Path;

/// Largest file read as a config, a `workload.yaml` or a workload's SQL file, in bytes
/// (1 MiB): real ones are a few kilobytes, and a cap keeps `/dev/zero` or a wrong path
/// to a huge file from exhausting memory.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Deepest nesting accepted in a YAML file, in levels of mappings, sequences and flow
/// brackets. Real files need fewer than ten; the parser's own hard limit is 128.
pub const MAX_DEPTH: usize = 64;

/// Most values (scalars, collections, `- ` entries and `:` indicators, as the pre-scan
/// counts them) in a YAML file: 100,000. A config has a few hundred; the cap keeps the
/// parser's memory for one file to about 20 MiB.
pub const MAX_NODES: usize = 100_000;

/// Why a file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// Opening or reading failed (including text that is not UTF-8).
    Io(std::io::Error),
    /// The file holds more than [`MAX_FILE_BYTES`].
    TooLarge,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::TooLarge => write!(f, "it is larger than {}", limit_text()),
        }
    }
}

/// The cap, as written in messages.
pub fn limit_text() -> String {
    format!("{} MiB", MAX_FILE_BYTES >> 20)
}

/// Reads a UTF-8 text file of at most [`MAX_FILE_BYTES`]; never reads more than one byte
/// past the cap, whatever the file is (a device, a pipe, a huge file).
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    read_text_from(std::fs::File::open(path).map_err(ReadError::Io)?)
}

/// [`read_text`] of an open stream (standard input).
pub fn read_text_from(reader: impl Read) -> Result<String, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge);
    }
    String::from_utf8(bytes).map_err(|_| {
        ReadError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })
}

/// Parses YAML text into a value after [`prescan`]. The message of a failure is one line
/// and never quotes a scalar of the file.
pub fn parse(text: &str) -> Result<serde_yaml::Value, String> {
    prescan(text)?;
    if text.trim().is_empty() {
        return Ok(serde_yaml::Value::Null);
    }
    serde_yaml::from_str(text).map_err(|e| syntax_message(&e))
}

/// A parse error as one line. serde_yaml quotes an integer beyond 64 bits in its message
/// (it may be a password): that one is replaced by a message without the value.
fn syntax_message(e: &serde_yaml::Error) -> String {
    let msg = e.to_string();
    let at = e
        .location()
        .map(|l| format!(" at line {} column {}", l.line(), l.column()))
        .unwrap_or_default();
    if msg.contains("as u128") || msg.contains("as i128") {
        return format!(
            "YAML syntax: a number{at} is beyond the 64-bit range; quote it to keep it as text"
        );
    }
    format!("YAML syntax: {}", msg.lines().next().unwrap_or_default())
}

/// Refuses nesting deeper than [`MAX_DEPTH`], more than [`MAX_NODES`] values and aliases
/// (`*name`), in one linear pass.
///
/// It follows the YAML tokens that matter (comments, quoted and block scalars, flow
/// brackets, block indentation, `- ` entries) closely enough that a file can only be
/// judged deeper than it is, never shallower; the parser stays the judge of syntax.
pub fn prescan(text: &str) -> Result<(), String> {
    let mut s = Scan::default();
    for (n, line) in text.lines().enumerate() {
        s.line(line).map_err(|e| format!("line {}: {e}", n + 1))?;
    }
    Ok(())
}

#[derive(Default)]
struct Scan {
    /// Indentation of the open block levels.
    indents: Vec<usize>,
    /// Open `[` and `{`.
    flow: usize,
    /// Inside a quoted scalar that started on an earlier line: the quote and the
    /// indentation of that line.
    quote: Option<(u8, usize)>,
    /// Inside a block scalar (`|`, `>`): the indentation of the line that opened it.
    block_scalar: Option<usize>,
    /// Values seen so far (an overcount: indicators are counted too).
    nodes: usize,
}

fn too_deep() -> String {
    format!("nesting deeper than {MAX_DEPTH} levels; flatten the YAML (a config or workload file needs a handful)")
}

fn blank(b: Option<&u8>) -> bool {
    matches!(b, None | Some(b' ' | b'\t'))
}

impl Scan {
    fn line(&mut self, line: &str) -> Result<(), String> {
        let b = line.as_bytes();
        let indent = b.iter().take_while(|c| **c == b' ').count();
        let content = &b[indent..];
        let empty = content.iter().all(|c| *c == b' ' || *c == b'\t');
        if let Some(parent) = self.block_scalar {
            if empty || indent > parent {
                return Ok(());
            }
            self.block_scalar = None;
        }
        // A quoted scalar only goes on over more-indented lines: stopping at a shallower
        // line can only make the file look deeper, never hide nesting from the scan.
        if let Some((_, start)) = self.quote {
            if !empty && indent <= start {
                self.quote = None;
            }
        }
        let mut i = indent;
        if self.quote.is_none() && self.flow == 0 {
            if empty || content[0] == b'#' || (indent == 0 && content[0] == b'%') {
                return Ok(());
            }
            let marker = indent == 0
                && (content.starts_with(b"---") || content.starts_with(b"..."))
                && blank(content.get(3));
            if marker {
                self.indents.clear();
                i += 3;
            } else {
                while self.indents.last().is_some_and(|&l| l > indent) {
                    self.indents.pop();
                }
                if self.indents.last() != Some(&indent) {
                    self.indents.push(indent);
                }
            }
        }
        self.tokens(b, i, indent)
    }

    fn tokens(&mut self, b: &[u8], mut i: usize, indent: usize) -> Result<(), String> {
        let mut start = true; // a node may start here
        let mut after_node = false; // just after a quoted scalar or a closed bracket
        let mut dashes = 0;
        while i < b.len() {
            let c = b[i];
            if let Some((q, _)) = self.quote {
                if q == b'"' && c == b'\\' {
                    i += 2;
                    continue;
                }
                if c == q {
                    if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    self.quote = None;
                    start = false;
                    after_node = true;
                }
                i += 1;
                continue;
            }
            let next = b.get(i + 1);
            if start && !matches!(c, b' ' | b'\t' | b'#') {
                self.nodes += 1;
                if self.nodes > MAX_NODES {
                    return Err(format!(
                        "more than {MAX_NODES} YAML values; a config or workload file needs a few hundred"
                    ));
                }
            }
            match c {
                b' ' | b'\t' => {}
                b'#' if i == 0 || matches!(b[i - 1], b' ' | b'\t') => return Ok(()),
                b'\'' | b'"' if start => {
                    self.quote = Some((c, indent));
                }
                b'*' if start => {
                    return Err(
                        "YAML aliases (*name) are not accepted; repeat the value instead".into(),
                    )
                }
                b'&' | b'!' if start => {
                    while i + 1 < b.len() && !matches!(b[i + 1], b' ' | b'\t') {
                        i += 1;
                    }
                }
                b'[' | b'{' if start || self.flow > 0 => {
                    self.flow += 1;
                    start = true;
                    after_node = false;
                }
                b']' | b'}' if self.flow > 0 => {
                    self.flow -= 1;
                    start = false;
                    after_node = true;
                }
                b',' if self.flow > 0 => {
                    start = true;
                    after_node = false;
                }
                b':' if blank(next)
                    || (self.flow > 0
                        && (after_node
                            || matches!(next, Some(b',' | b'[' | b']' | b'{' | b'}')))) =>
                {
                    start = true;
                    after_node = false;
                }
                b'?' if start && blank(next) => {}
                b'-' if start && blank(next) => {
                    if self.flow == 0 {
                        dashes += 1;
                    }
                }
                b'|' | b'>' if start && self.flow == 0 => {
                    self.block_scalar = Some(indent);
                    return Ok(());
                }
                _ => {
                    start = false;
                    after_node = false;
                }
            }
            if self.indents.len() + dashes + self.flow > MAX_DEPTH {
                return Err(too_deep());
            }
            i += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_yaml_passes() {
        let t = "# comment [[[[\ndatabase:\n  host: 'it''s [' # {{{{\n  port: 5432\nlist:\n  - a\n  - {b: [1, 2], c: \"x]}\"}\n  - - nested\n    - more\nsql: |\n  SELECT '{{{{' -- *nope\n  [[[[[[\ntext: a [b {c\nq: \"multi\n  line [[[[\"\n---\nnext: *\n";
        // the last line is a syntax error for the parser, not for the scan: `*` alone
        // is still refused as an alias
        assert!(prescan(text_without_last_line(t)).is_ok());
        assert!(prescan(t).unwrap_err().contains("aliases"));
    }

    fn text_without_last_line(t: &str) -> &str {
        let t = t.trim_end_matches('\n');
        &t[..t.rfind('\n').unwrap() + 1]
    }

    #[test]
    fn deep_flow_and_block_nesting_is_refused() {
        let flow = "a: ".to_string() + &"{a: ".repeat(MAX_DEPTH + 1);
        assert!(prescan(&flow)
            .unwrap_err()
            .contains("nesting deeper than 64"));
        let ok = "a: ".to_string() + &"[".repeat(MAX_DEPTH - 2) + &"]".repeat(MAX_DEPTH - 2);
        assert!(prescan(&ok).is_ok());
        let mut block = String::new();
        for i in 0..=MAX_DEPTH {
            block.push_str(&" ".repeat(i));
            block.push_str("k:\n");
        }
        let e = prescan(&block).unwrap_err();
        assert!(e.starts_with(&format!("line {}:", MAX_DEPTH + 1)), "{e}");
        let dashes = "- ".repeat(MAX_DEPTH + 1) + "x\n";
        assert!(prescan(&dashes).is_err());
    }

    #[test]
    fn nesting_hidden_behind_a_false_quote_is_still_seen() {
        // `'x` continues a plain scalar, it opens no quote; the deep line after it is
        // less indented, so the scan looks at it
        let t = format!("key: word\n  'x\nnext: {}\n", "{a: ".repeat(MAX_DEPTH + 1));
        assert!(prescan(&t).is_err());
        // a comment-looking `#` inside a JSON-like quoted value hides nothing
        let t = format!("{{\"a\":' #', b: {}}}\n", "{a: ".repeat(MAX_DEPTH + 1));
        assert!(prescan(&t).is_err());
    }

    #[test]
    fn too_many_values_are_refused() {
        let ok = "a: [".to_string() + &"1,".repeat(MAX_NODES - 10) + "]\n";
        assert!(prescan(&ok).is_ok());
        let flat = "a: [".to_string() + &"1,".repeat(MAX_NODES) + "]\n";
        assert!(prescan(&flat)
            .unwrap_err()
            .contains("more than 100000 YAML values"));
        let dashes = "-\n".repeat(MAX_NODES + 1);
        assert!(prescan(&dashes).is_err());
        let commas = "a: [".to_string() + &",".repeat(MAX_NODES + 1);
        assert!(prescan(&commas).is_err());
    }

    #[test]
    fn aliases_are_refused_anchors_and_stars_in_text_are_not() {
        assert!(prescan("a: &x 1\nb: *x\n").unwrap_err().contains("line 2"));
        assert!(prescan("a: [1, *x]\n").is_err());
        assert!(prescan("a: &x 1\nb: 'x*y'\nc: a*b\nd: \"*\"\n").is_ok());
    }

    #[test]
    fn reads_are_capped() {
        let e = read_text(Path::new("/dev/zero")).unwrap_err();
        assert!(matches!(e, ReadError::TooLarge), "{e}");
        assert!(e.to_string().contains("larger than 1 MiB"));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ok.yaml");
        std::fs::write(&p, "a: 1\n").unwrap();
        assert_eq!(read_text(&p).unwrap(), "a: 1\n");
        std::fs::write(&p, vec![b'#'; MAX_FILE_BYTES as usize]).unwrap();
        assert!(read_text(&p).is_ok(), "exactly the cap is accepted");
        std::fs::write(&p, [0xff, 0xfe]).unwrap();
        assert!(read_text(&p).unwrap_err().to_string().contains("UTF-8"));
    }

    #[test]
    fn a_huge_integer_is_not_quoted_in_the_syntax_error() {
        let e = parse("password: 99999999999999999999\n").unwrap_err();
        assert!(!e.contains("99999999999999999999"), "{e}");
        assert!(e.contains("beyond the 64-bit range"), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused_fast() {
        let t = "a: ".to_string() + &"{a: ".repeat(200_000);
        let t0 = std::time::Instant::now();
        assert!(parse(&t).is_err());
        assert!(t0.elapsed() < std::time::Duration::from_secs(2));
    }
}
