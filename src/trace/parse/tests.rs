use super::csvlog::{looks_like_csvlog_start, CsvFields};
use super::*;

fn parse(text: &str, f: LogFormat) -> Parsed {
    read_log(text.as_bytes(), f, &mut |_| {}).unwrap()
}

#[test]
fn stderr_statements_durations_and_continuations() {
    let log = "2024-05-01 10:00:00.000 UTC [101] app@db LOG:  statement: SELECT 1\n\
               2024-05-01 10:00:00.500 UTC [102] app@db LOG:  duration: 0.250 ms  statement: SELECT *\n\
               \tFROM t WHERE a = 'x'\n\
               garbage here\n\
               2024-05-01 10:00:01.000 UTC [101] app@db LOG:  duration: 1.5 ms\n\
               2024-05-01 10:00:02.000 UTC [101] app@db LOG:  duration: 0.100 ms  execute s0: SELECT a FROM t WHERE id = $1 AND s = $2\n\
               2024-05-01 10:00:02.000 UTC [101] app@db DETAIL:  parameters: $1 = '7', $2 = 'it''s, $1'\n\
               2024-05-01 10:00:03.000 UTC [101] app@db LOG:  checkpoint starting: time\n";
    let p = parse(log, LogFormat::Stderr);
    assert_eq!(p.events.len(), 3, "{:?}", p.events);
    assert_eq!(p.events[0].session, "101");
    assert_eq!(p.events[0].duration_ms, Some(1.5));
    assert_eq!(p.events[1].sql, "SELECT *\nFROM t WHERE a = 'x'");
    assert_eq!(p.events[1].ts_ms.unwrap() % 1000.0, 499.75);
    assert_eq!(
        p.events[2].sql,
        "SELECT a FROM t WHERE id = '7' AND s = 'it''s, $1'"
    );
    assert_eq!(p.malformed_count, 1);
    assert_eq!(p.malformed[0].line, 4);
}

#[test]
fn stderr_session_ids_win_over_pids() {
    let log = "2024-05-01 10:00:00 UTC [7] 6630a1b2.1f4 u@d LOG:  statement: BEGIN\n";
    let p = parse(log, LogFormat::Stderr);
    assert_eq!(p.events[0].session, "6630a1b2.1f4");
}

#[test]
fn csvlog_and_jsonlog() {
    let csv = "2024-05-01 10:00:00.123 UTC,\"u\",\"d\",42,\"[local]\",6630a1b2.2a,1,\"SELECT\",2024-05-01 09:00:00 UTC,3/4,0,LOG,00000,\"statement: SELECT 'a,\"\"b'\nFROM t\",,,,,,,,,\"\"\nnot,enough\n";
    let p = parse(csv, LogFormat::Csvlog);
    assert_eq!(p.events.len(), 1);
    assert_eq!(p.events[0].sql, "SELECT 'a,\"b'\nFROM t");
    assert_eq!(p.events[0].session, "6630a1b2.2a");
    assert_eq!(p.malformed_count, 1);
    let json = "{\"timestamp\":\"2024-05-01 10:00:00.123 UTC\",\"pid\":42,\"session_id\":\"66.2a\",\"error_severity\":\"LOG\",\"message\":\"duration: 2.0 ms  execute <unnamed>: SELECT $1\",\"detail\":\"parameters: $1 = '5'\"}\n{oops\n";
    let p = parse(json, LogFormat::Jsonlog);
    assert_eq!(p.events[0].sql, "SELECT '5'");
    assert_eq!(p.events[0].duration_ms, Some(2.0));
    assert_eq!(p.malformed_count, 1);
}

#[test]
fn bind_parameters_are_bounded() {
    let p = parse_bind_params("$2 = 'a', $1 = NULL");
    assert_eq!(
        p.into_iter().collect::<Vec<_>>(),
        [(1, "NULL".into()), (2, "'a'".into())]
    );
    assert!(parse_bind_params("$99999999999 = '1'").is_empty());
    assert!(parse_bind_params("$0 = '1'").is_empty());
    assert_eq!(parse_bind_params("$65535 = 1").len(), 1);
    assert_eq!(
        substitute("SELECT $1, '$1', $3", &BTreeMap::from([(1, "7".into())])),
        "SELECT 7, '$1', $3"
    );
}

#[test]
fn plain_and_detection() {
    let p = parse("SELECT 1;\n\n-- c\nUPDATE t SET a = 2\n", LogFormat::Plain);
    assert_eq!(p.events.len(), 2);
    // a line that starts no SQL command is malformed where no statement goes on (a log
    // line), and continues the statement before it otherwise
    let p = parse(
        "LOG:  statement: SELECT 1\nSELECT a,\n  b FROM t\n(SELECT 1)\nUPDATE t\n  SET a = 'x\nSELECT y'\n",
        LogFormat::Plain,
    );
    let sql: Vec<&str> = p.events.iter().map(|e| e.sql.as_str()).collect();
    assert_eq!(
        sql,
        [
            "SELECT a,\n  b FROM t",
            "(SELECT 1)",
            "UPDATE t\n  SET a = 'x\nSELECT y'"
        ]
    );
    assert_eq!(p.malformed_count, 1);
    assert_eq!(p.malformed[0].line, 1);
    assert!(p.malformed[0].reason.starts_with("not an SQL statement"));
    let path = std::path::Path::new("x.log");
    assert_eq!(
        LogFormat::detect(path, "2024-05-01 10:00:00 UTC [1]"),
        LogFormat::Stderr
    );
    assert_eq!(
        LogFormat::detect(path, "{\"timestamp\":1}"),
        LogFormat::Jsonlog
    );
    assert_eq!(LogFormat::detect(path, "SELECT 1"), LogFormat::Plain);
    // standard input has no name: a csvlog record is told by its first field
    let stdin = std::path::Path::new("-");
    assert_eq!(
        LogFormat::detect(stdin, &csv_rec(1, "statement: SELECT 1")),
        LogFormat::Csvlog
    );
    assert_eq!(
        LogFormat::detect(
            stdin,
            "2024-05-01 10:00:00.1 UTC [7] LOG:  statement: SELECT a, b"
        ),
        LogFormat::Stderr
    );
    assert_eq!(
        LogFormat::detect(std::path::Path::new("postgresql.csv.gz"), "anything"),
        LogFormat::Csvlog
    );
    assert!(LogFormat::parse("xml").is_err());
}

#[test]
fn a_plain_script_ends_its_statements_at_semicolons() {
    let script = "-- a psql script\n\
        WITH recent AS (\n  SELECT id FROM orders WHERE placed > now() - interval '1 day'\n)\n\
        SELECT count(*) FROM recent;\n\
        \n\
        SELECT a FROM t\nUNION ALL\nSELECT b FROM u;\n\
        hello world;\n\
        CREATE FUNCTION f() RETURNS int AS $$\nBEGIN\n  RETURN 1;\nEND $$ LANGUAGE plpgsql;\n\
        BEGIN; UPDATE t SET a = 1\n  WHERE id = 2; COMMIT;\n\
        SELECT 'no end'\n";
    let p = parse(script, LogFormat::Plain);
    let sql: Vec<&str> = p.events.iter().map(|e| e.sql.as_str()).collect();
    assert_eq!(sql.len(), 7, "{sql:?}");
    assert!(sql[0].starts_with("WITH recent AS (") && sql[0].ends_with("FROM recent"));
    assert_eq!(sql[1], "SELECT a FROM t\nUNION ALL\nSELECT b FROM u");
    assert!(sql[2].ends_with("END $$ LANGUAGE plpgsql"), "{}", sql[2]);
    assert_eq!(
        &sql[3..],
        [
            "BEGIN",
            "UPDATE t SET a = 1\n  WHERE id = 2",
            "COMMIT",
            "SELECT 'no end'"
        ]
    );
    // a line that starts no statement is malformed, and does not swallow the next one
    assert_eq!(lines_of(&p), [10]);
    // one statement per line without `;`: each line that starts a command starts one;
    // a clause, an indented line or an open parenthesis goes on, a log line does not
    let log = "SELECT 1\nSELECT a\n  FROM t\nWITH x AS (SELECT 1)\nSELECT * FROM x\n\
               SELECT b\nFROM u\nWHERE c IN (\n1, 2)\nLOG:  duration: 0.5 ms\nSELECT 2\n";
    let p = parse(log, LogFormat::Plain);
    let sql: Vec<&str> = p.events.iter().map(|e| e.sql.as_str()).collect();
    assert_eq!(sql.len(), 6, "{sql:?}");
    assert_eq!(sql[4], "SELECT b\nFROM u\nWHERE c IN (\n1, 2)");
    assert_eq!(sql[5], "SELECT 2");
    assert_eq!(lines_of(&p), [10]);
    // a quote never closed ends as a statement too long, not as the rest of the file
    let mut open = String::from("SELECT 1;\nSELECT 'x\n");
    open.push_str(&"y\n".repeat(MAX_STATEMENT_BYTES / 2 + 1));
    open.push_str("SELECT 2;\n");
    let p = parse(&open, LogFormat::Plain);
    assert_eq!(p.malformed[0].line, 2);
    assert!(
        p.malformed[0].reason.contains("longer than"),
        "{:?}",
        p.malformed
    );
    let last = p.events.last().map(|e| e.sql.as_str());
    assert_eq!((p.events.len(), last), (2, Some("SELECT 2")));
    // lines are held to decide for at most a statement's worth of bytes: past them, a
    // file that has shown no `;` ends statements with their lines
    let mut late = format!("-- {}\n", "x".repeat(MAX_STATEMENT_BYTES + 1));
    late.push_str("SELECT a\nSELECT b;\n");
    assert_eq!(parse(&late, LogFormat::Plain).events.len(), 2);
}

/// A csvlog record of PostgreSQL 14+ (26 fields) at second `sec` of session 6630a1b2.2a.
fn csv_rec(sec: u32, msg: &str) -> String {
    format!(
        "2024-05-01 10:00:{sec:02}.000 UTC,\"u\",\"d\",42,\"[local]\",6630a1b2.2a,{sec},\"idle\",\
         2024-05-01 09:00:00 UTC,3/4,0,LOG,00000,\"{}\",,,,,,,,,\"psql\",\"client backend\",,0\n",
        msg.replace('"', "\"\"")
    )
}

fn lines_of(p: &Parsed) -> Vec<u64> {
    p.malformed.iter().map(|m| m.line).collect()
}

#[test]
fn csvlog_broken_quoting_is_counted() {
    let ok1 = csv_rec(1, "statement: SELECT 1");
    // The message's closing quote is missing: the field runs into the next record.
    let open = csv_rec(2, "statement: SELECT 'x'").replacen("'\",", "',", 1);
    let ok3 = csv_rec(3, "statement: SELECT 3");
    // A stray quote inside an unquoted field opens a field that runs into the next record.
    let stray = csv_rec(4, "statement: SELECT 4").replacen(",42,", ",4\"2,", 1);
    // Quotes inside a quoted field that are not doubled.
    let undoubled =
        csv_rec(5, "statement: SELECT 5").replacen("SELECT 5", "SELECT \"x\" FROM t", 1);
    // Five fields short.
    let short = csv_rec(5, "statement: SELECT 5").replacen(",,,,,,,,,", ",,,,", 1);
    // A multi-line statement whose second line starts like a record: still one record.
    let multi = csv_rec(
        6,
        "statement: INSERT INTO l VALUES ('x\n2024-05-01 10:00:07,y')",
    );
    let tail = "2024-05-01 10:00:08.000 UTC,\"u\",\"d\",42,\"[local]\",6630a1b2.2a,8,\"idle\",\
                2024-05-01 09:00:00 UTC,3/4,0,LOG,00000,\"statement: SELECT 'never closed\n";
    let log = [
        ok1,
        open,
        ok3,
        stray,
        undoubled,
        short,
        multi,
        tail.to_string(),
    ]
    .concat();
    let p = parse(&log, LogFormat::Csvlog);
    let sqls: Vec<&str> = p.events.iter().map(|e| e.sql.as_str()).collect();
    assert_eq!(
        sqls,
        [
            "SELECT 1",
            "SELECT 3",
            "INSERT INTO l VALUES ('x\n2024-05-01 10:00:07,y')"
        ]
    );
    assert_eq!(p.malformed_count, 5, "{:?}", p.malformed);
    assert_eq!(lines_of(&p), [2, 4, 5, 6, 9]);
    assert!(p.malformed[0]
        .reason
        .contains("still open where the record of line 3"));
    assert!(p.malformed[1]
        .reason
        .contains("still open where the record of line 5"));
    assert!(p.malformed[2]
        .reason
        .contains("broken quoting: text after the closing quote"));
    assert!(p.malformed[3].reason.contains("21 fields"));
    assert!(p.malformed[4].reason.contains("end of the file"));
}

#[test]
fn csvlog_fields_follow_rfc_4180() {
    let mut f = CsvFields::default();
    f.split("a,\"b,\"\"c\"\"\",,\"\"", usize::MAX).unwrap();
    assert_eq!(
        (0..f.len()).map(|k| f.get(k)).collect::<Vec<_>>(),
        ["a", "b,\"c\"", "", ""]
    );
    assert!(f.split("\"a\"b", usize::MAX).is_err());
    assert!(f.split("a\"b", usize::MAX).is_err());
    assert!(f.split("\"a", usize::MAX).is_err());
    assert!(looks_like_csvlog_start(&csv_rec(9, "x")));
    assert!(!looks_like_csvlog_start("2024-05-01 10:00:07,y')"));
}

#[test]
fn oversize_statements_are_counted_not_kept() {
    let big = "x".repeat(MAX_STATEMENT_BYTES);
    let pre = "2024-05-01 10:00:00.000 UTC [7] u@d LOG:  statement: ";
    let detail = "2024-05-01 10:00:00.000 UTC [7] u@d DETAIL:  parameters: $1 = '";
    let log = [
        format!("{pre}SELECT 1\n"),
        // One byte over the statement limit.
        format!("{pre}SELECT '{}'\n", &big[..MAX_STATEMENT_BYTES - 8]),
        // Continuation lines that add up to more than the limit.
        format!(
            "{pre}SELECT\n\t{}\n\t{}\n",
            &big[..600_000],
            &big[..600_000]
        ),
        // A line longer than the line limit.
        format!("{pre}SELECT '{big}{big}'\n"),
        // Bind parameters that make the statement too long.
        format!("{pre}SELECT $1\n{detail}{big}'\n"),
        format!("{pre}SELECT 2\n"),
    ]
    .concat();
    let p = parse(&log, LogFormat::Stderr);
    let sqls: Vec<String> = p
        .events
        .iter()
        .map(|e| e.sql.chars().take(20).collect())
        .collect();
    assert_eq!(sqls, ["SELECT 1", "SELECT 2"]);
    assert_eq!(lines_of(&p), [2, 3, 6, 7], "{:?}", p.malformed);
    assert!(p.malformed[0].reason.contains("longer than 1048576 bytes"));
    let plain = format!("SELECT 1\nSELECT '{big}'\n");
    let p = parse(&plain, LogFormat::Plain);
    assert_eq!((p.events.len(), lines_of(&p)), (1, vec![2]));
    let json = format!(
        "{{\"timestamp\":\"2024-05-01 10:00:00 UTC\",\"error_severity\":\"LOG\",\"message\":\"statement: SELECT '{big}'\"}}\n"
    );
    let p = parse(&json, LogFormat::Jsonlog);
    assert_eq!((p.events.len(), lines_of(&p)), (0, vec![1]));
}

#[test]
fn bytes_that_are_not_utf8_are_replaced() {
    let mut log = b"2024-05-01 10:00:00 UTC [7] LOG:  statement: SELECT '".to_vec();
    log.extend_from_slice(&[0xff, 0xfe]);
    log.extend_from_slice(b"'\n");
    let p = read_log(&log[..], LogFormat::Stderr, &mut |_| {}).unwrap();
    assert_eq!(p.events[0].sql, "SELECT '\u{fffd}\u{fffd}'");
}

#[test]
fn trace_records_are_read_and_bad_ones_refused() {
    let text = "{\"session\":3,\"ts_ms\":1.5,\"template_id\":0,\"sql\":\"SELECT 1\"}\n\n\
                {\"session\":\"a\",\"ts_ms\":2.0,\"sql\":\"SELECT 2\",\"drain\":true}\n";
    let mut got = Vec::new();
    read_trace(text.as_bytes(), |e| got.push(e)).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!((got[0].session.as_str(), got[0].ts_ms), ("3", Some(1.5)));
    assert!(!got[0].drain && got[1].drain);
    let e = read_trace("{\"session\":[1]}\n".as_bytes(), |_| {}).unwrap_err();
    assert!(
        e.to_string().starts_with("line 1: not a trace record"),
        "{e}"
    );
}
