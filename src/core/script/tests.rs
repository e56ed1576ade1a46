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
