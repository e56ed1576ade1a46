//! Reading scripts: splitting, transaction control, statement heads, index builds.

use super::*;

fn texts(sql: &str) -> Vec<&str> {
    split(sql).into_iter().map(|s| s.text).collect()
}

#[test]
fn splits_at_semicolons_outside_quotes_and_comments() {
    let sql = "CREATE TABLE a (x text DEFAULT ';');\n-- a comment; with a semicolon\nINSERT INTO a VALUES ($$x;y$$), (E'\\';'), (\"we;ird\");\n/* block; /* nested; */ still */ SELECT 1";
    assert_eq!(
        texts(sql),
        vec![
            "CREATE TABLE a (x text DEFAULT ';')",
            "INSERT INTO a VALUES ($$x;y$$), (E'\\';'), (\"we;ird\")",
            "SELECT 1",
        ]
    );
    assert_eq!(split(sql)[1].line, 3);
}

#[test]
fn keeps_function_bodies_whole() {
    let sql = "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END $body$ LANGUAGE plpgsql;\n\
               CREATE OR REPLACE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END;\n\
               SELECT $1::int, a$b FROM t;";
    let t = texts(sql);
    assert_eq!(t.len(), 3, "{t:?}");
    assert!(t[1].ends_with("END"), "{}", t[1]);
    assert_eq!(t[2], "SELECT $1::int, a$b FROM t");
}

/// Feeds `sql` to a scanner line by line, checks it gives the `n` statements `split` reads
/// from the whole text, and returns how the text ended after each line.
fn same_line_by_line(sql: &str, n: usize) -> Vec<Ending> {
    let mut scanner = Scanner::default();
    let (mut fed, mut out, mut endings) = (String::new(), Vec::new(), Vec::new());
    for line in sql.split_inclusive('\n') {
        fed.push_str(line);
        let text = fed.clone();
        endings.push(scanner.feed(&text, |s| out.push((s.text.to_string(), s.line))));
    }
    out.extend(scanner.rest(&fed).map(|s| (s.text.to_string(), s.line)));
    let whole: Vec<(String, usize)> = split(sql)
        .into_iter()
        .map(|s| (s.text.to_string(), s.line))
        .collect();
    assert_eq!(out, whole);
    assert_eq!(out.len(), n, "{out:?}");
    endings
}

#[test]
fn a_growing_script_is_read_on_where_it_stopped() {
    let sql = "SELECT 'a;\nb', $q$ x;\n $q$ /* c;\n */ FROM t;\nCREATE FUNCTION f() RETURNS int\n\
               LANGUAGE sql BEGIN ATOMIC SELECT 1;\nEND; SELECT (1;\n2);\nUPDATE t SET a = 1\n";
    let endings = same_line_by_line(sql, 4);
    use Ending::*;
    assert_eq!(
        endings,
        [
            Open,
            Open,
            Open,
            Between,
            Unterminated,
            Open,
            Open,
            Between,
            Unterminated
        ]
    );
    // strings read on across lines: doubled quotes, a backslash ending a line
    let long = format!(
        "SELECT E'a\\\n{}', 'x''\n''y', \"q\n\"\"\", $t$\n$x$\n$t$;\nSELECT 2;\n",
        "it''s\n".repeat(3)
    );
    assert_eq!(same_line_by_line(&long, 2).last(), Some(&Between));
    // a text cut inside an escape string's backslash is open, and its head is no panic
    let cut = "CREATE ROLE r PASSWORD E'\\";
    assert_eq!(Scanner::default().feed(cut, |_| {}), Open);
    assert_eq!(split(cut)[0].head(), "CREATE ROLE r PASSWORD E'***'");
}

#[test]
fn heads_hide_passwords() {
    let head = |sql| split(sql)[0].head();
    assert_eq!(
        head("CREATE ROLE app LOGIN PASSWORD 'hunter2'"),
        "CREATE ROLE app LOGIN PASSWORD '***'"
    );
    assert_eq!(
        head("create subscription s connection 'host=h password=hunter2' publication p"),
        "create subscription s connection '***' publication p"
    );
    assert_eq!(
        head("ALTER USER \"Pass\" WITH password $$it's$$"),
        "ALTER USER \"Pass\" WITH password '***'"
    );
    assert_eq!(
        head("INSERT INTO t VALUES ('kept')"),
        "INSERT INTO t VALUES ('kept')"
    );
}

#[test]
fn comments_only_are_no_statement() {
    assert!(split("-- nothing\n/* here */ ;\n  ;").is_empty());
}

#[test]
fn finds_transaction_control_but_not_in_bodies() {
    let sql = "CREATE TABLE t (x int);\nCOMMIT;\n-- ROLLBACK;\nDO $$ BEGIN PERFORM 1; END $$;\n  end ;\nstart transaction;\nSELECT 'commit';\nrollback to savepoint s;";
    assert_eq!(
        find_transaction_control(sql),
        vec![
            (2, "COMMIT"),
            (5, "END"),
            (6, "START TRANSACTION"),
            (8, "ROLLBACK")
        ]
    );
    assert_eq!(transaction_control("BEGIN ATOMIC SELECT 1; END"), None);
    assert_eq!(transaction_control("/* x */ Begin"), Some("BEGIN"));
    assert_eq!(
        transaction_control("prepare transaction 'x'"),
        Some("PREPARE TRANSACTION")
    );
    assert_eq!(transaction_control("PREPARE q AS SELECT 1"), None);
}

#[test]
fn unterminated_quotes_do_not_panic() {
    for sql in [
        "SELECT 'abc",
        "SELECT $$abc",
        "/* open",
        "SELECT \"x",
        "é;ü'",
        "$",
        "E'\\",
    ] {
        let _ = split(sql);
        let _ = find_transaction_control(sql);
    }
}

#[test]
fn knows_which_command_tags_count_rows() {
    for sql in [
        "SELECT 1",
        "  -- the lookup\n select * from t where id = $1",
        "WITH x AS (SELECT 1) UPDATE t SET v = 1",
        "insert into t values (1)",
        "DELETE FROM t",
        "MERGE INTO t USING s ON true WHEN MATCHED THEN DO NOTHING",
        "VALUES (1)",
        "TABLE t",
        "(SELECT 1) UNION (SELECT 2)",
    ] {
        assert!(counts_rows(sql), "{sql}");
    }
    for sql in [
        "CALL p($1)",
        "SET work_mem = '64MB'",
        "DO $$ BEGIN END $$",
        "LOCK TABLE t",
        "$1",
        "",
    ] {
        assert!(!counts_rows(sql), "{sql}");
    }
}

#[test]
fn tells_an_sql_command_from_other_text() {
    for sql in [
        "SELECT 1",
        "  /* c */ select 1",
        "(SELECT 1) UNION (SELECT 2)",
        "with x as (select 1) select * from x",
        "begin",
        "VACUUM ANALYZE t",
    ] {
        assert!(is_sql_command(sql), "{sql}");
    }
    for sql in [
        "hello world",
        "LOG:  statement: SELECT 1",
        "2024-01-01 10:00:00 UTC [1] LOG:  statement: SELECT 1",
        "\\copy t from 'f'",
        "FROM t WHERE id = 1",
        "",
    ] {
        assert!(!is_sql_command(sql), "{sql}");
    }
}
