//! The wire driver against the real test cluster: authentication (trust, SCRAM), statements
//! and their errors, abandoned exchanges, and runs on it (and on tokio-postgres) end to end;
//! TLS is in [`tls`].

#[path = "../common/mod.rs"]
mod common;

mod tls;

use std::time::Duration;

use common::*;
use stormbench::config::SslMode;
use stormbench::core::ErrorClass;
use stormbench::db::classify_wire;
use stormbench::db::wire::{Executed, Numeric, Rows, TxStatus, WireConfig, WireConn, WireStmt};
use stormbench::types::Isolation;

const PW_ROLE: &str = "stormbench_pw";
const PW: &str = "stormbench-secret-pw";

/// The test cluster over TCP as `user` in `dbname`.
fn pg_config(user: &str, password: Option<&str>, dbname: &str) -> tokio_postgres::Config {
    let pg = pg();
    let mut c = tokio_postgres::Config::new();
    c.host(&pg.host)
        .port(pg.port.parse().unwrap())
        .user(user)
        .dbname(dbname)
        .connect_timeout(Duration::from_secs(5));
    if let Some(p) = password {
        c.password(p);
    }
    c
}

fn config(user: &str, password: Option<&str>, dbname: &str) -> WireConfig {
    WireConfig::new(&pg_config(user, password, dbname), SslMode::Prefer)
}

/// A trust connection to the test database as the test user.
async fn test_conn(pg: &Pg) -> WireConn {
    WireConn::connect(&config(&pg.user, None, "stormbench_test"))
        .await
        .expect("trust connection")
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn statements_run_and_server_errors_leave_the_connection_usable() {
    let pg = pg();
    rt().block_on(async {
        let mut c = WireConn::connect(&config(&pg.user, None, "stormbench_test"))
            .await
            .expect("trust connection");
        let add = c.prepare("SELECT $1::int8 + 1, 'x'").await.unwrap();
        assert_eq!(add.params(), &[tokio_postgres::types::Type::INT8]);
        assert_eq!(add.columns(), 2);
        let r = c.execute(&add, &[&41i64]).await.unwrap();
        assert_eq!((r.rows, r.tag_rows), (1, 1));

        c.batch_execute("CREATE TEMP TABLE w (id int8 PRIMARY KEY, v text)")
            .await
            .unwrap();
        let ins = c
            .prepare_cached("INSERT INTO w VALUES ($1, $2)")
            .await
            .unwrap();
        assert_eq!(c.execute(&ins, &[&1i64, &"one"]).await.unwrap().tag_rows, 1);
        let dup = c.execute(&ins, &[&1i64, &"again"]).await.unwrap_err();
        assert_eq!(classify_wire(&dup), ErrorClass::UniqueViolation);
        assert_eq!(dup.code().unwrap().code(), "23505");
        assert!(dup.to_string().contains("duplicate key"), "{dup}");
        assert!(!c.is_broken());
        // the same statement object is reused, and the connection is still in step
        let again = c
            .prepare_cached("INSERT INTO w VALUES ($1, $2)")
            .await
            .unwrap();
        assert!(std::sync::Arc::ptr_eq(&ins, &again));
        assert_eq!(c.execute(&ins, &[&2i64, &"two"]).await.unwrap().tag_rows, 1);
        let count = c.prepare("SELECT id FROM w WHERE id >= $1").await.unwrap();
        assert_eq!(c.execute(&count, &[&0i64]).await.unwrap().rows, 2);

        // errors at prepare time and wrong parameter counts are reported, not fatal
        let bad = c.prepare("SELECT * FROM no_such_table").await.unwrap_err();
        assert_eq!(bad.code().unwrap().code(), "42P01");
        let wrong = c.execute(&ins, &[&3i64]).await.unwrap_err();
        assert!(
            wrong.to_string().contains("2 parameters, 1 given"),
            "{wrong}"
        );
        let typed = c
            .execute(&ins, &[&"text for int8", &"x"])
            .await
            .unwrap_err();
        assert!(typed.to_string().contains("cannot encode"), "{typed}");
        assert_eq!(c.execute(&count, &[&0i64]).await.unwrap().rows, 2);
        c.close().await;
    });
}

#[test]
fn a_request_larger_than_the_socket_takes_at_once_goes_out_whole() {
    let pg = pg();
    rt().block_on(async {
        // in the clear: a TLS request is always written by waiting on the socket
        let plain = WireConfig::new(
            &pg_config(&pg.user, None, "stormbench_test"),
            SslMode::Disable,
        );
        let mut c = WireConn::connect(&plain).await.expect("trust connection");
        let st = c
            .prepare("SELECT 1 WHERE length($1::text) = $2::int8")
            .await
            .unwrap();
        // 32 MiB: more than a loopback socket's send buffer, so the first write takes a
        // part and the rest is written once the server has read some
        let big = "x".repeat(32 << 20);
        let r = c.execute(&st, &[&big, &(big.len() as i64)]).await.unwrap();
        assert_eq!(r.rows, 1, "the server received every byte");
        // and the connection is in step for the next, small request
        let r = c.execute(&st, &[&"abc", &3i64]).await.unwrap();
        assert_eq!(r.rows, 1);
        c.close().await;
    });
}

#[test]
fn scram_password_is_checked_and_never_echoed() {
    rt().block_on(async {
        let mut ok = WireConn::connect(&config(PW_ROLE, Some(PW), "stormbench_test"))
            .await
            .expect("SCRAM login with the right password");
        ok.batch_execute("SELECT 1").await.unwrap();

        let wrong = "not-the-password-xyz";
        let e = WireConn::connect(&config(PW_ROLE, Some(wrong), "stormbench_test"))
            .await
            .unwrap_err();
        assert_eq!(e.code().unwrap().code(), "28P01", "{e}");
        assert!(!e.to_string().contains(wrong), "{e}");

        let e = WireConn::connect(&config(PW_ROLE, None, "stormbench_test"))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("set database.password"), "{e}");

        let e = WireConn::connect(&config(&pg().user, None, "no_such_db_wire"))
            .await
            .unwrap_err();
        assert_eq!(e.code().unwrap().code(), "3D000", "{e}");
    });
}

#[test]
fn a_refused_connection_is_a_lost_connection() {
    // a loopback port nothing listens on
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = tokio_postgres::Config::new();
    c.host("127.0.0.1").port(port).user("x").dbname("x");
    rt().block_on(async {
        let e = WireConn::connect(&WireConfig::new(&c, SslMode::Prefer))
            .await
            .unwrap_err();
        assert_eq!(classify_wire(&e), ErrorClass::ConnectionLost, "{e}");
        assert!(e.to_string().to_lowercase().contains("refused"), "{e}");
    });
}

#[test]
fn unix_socket_connections_work() {
    let pg = pg();
    let dir = pg.psql("postgres", "SHOW unix_socket_directories");
    let dir = dir.split(',').next().unwrap().trim().to_string();
    rt().block_on(async {
        let mut c = tokio_postgres::Config::new();
        c.host_path(&dir)
            .port(pg.port.parse().unwrap())
            .user(&pg.user)
            .dbname("stormbench_test");
        let mut conn = WireConn::connect(&WireConfig::new(&c, SslMode::Prefer))
            .await
            .expect("unix socket connection");
        let s = conn.prepare("SELECT $1::text").await.unwrap();
        assert_eq!(conn.execute(&s, &[&"hi"]).await.unwrap().rows, 1);
    });
}

#[test]
fn an_abandoned_exchange_retires_the_connection() {
    let pg = pg();
    rt().block_on(async {
        let mut c = test_conn(&pg).await;
        let slow = c.prepare("SELECT pg_sleep($1)").await.unwrap();
        let r = tokio::time::timeout(Duration::from_millis(50), c.execute(&slow, &[&0.5f64])).await;
        assert!(r.is_err(), "the sleep should not finish in 50 ms");
        assert!(c.is_broken());
        // refused at once instead of reading the abandoned answer as its own
        let e = tokio::time::timeout(Duration::from_secs(1), c.execute(&slow, &[&0f64]))
            .await
            .expect("no wait")
            .unwrap_err();
        assert_eq!(classify_wire(&e), ErrorClass::ConnectionLost);
    });
}

fn setup_simple(db: &str) {
    let pg = pg();
    let o = pg
        .stormbench(db)
        .args(["-w", "simple", "--scale", "1", "--setup", "--no-run", "-q"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{:?}", text(&o));
}

#[test]
fn runs_name_their_driver_and_both_drivers_do_the_same_work() {
    let pg = pg();
    let db = pg.fresh_db("wire_runs");
    setup_simple(&db);
    let dir = tempdir();
    for (flag, expect) in [
        (None, "wire"),
        (Some("wire"), "wire"),
        (Some("tokio-postgres"), "tokio-postgres"),
    ] {
        let json = dir.path().join(format!("{expect}-{flag:?}.json"));
        let mut c = pg.stormbench(&db);
        c.args([
            "-w",
            "simple_mixed",
            "--scale",
            "1",
            "-d",
            "2s",
            "--workers",
            "4",
            "--connections",
            "2",
            "--no-summary",
            "--json",
        ])
        .arg(&json);
        if let Some(f) = flag {
            c.args(["--driver", f]);
        }
        let o = c.output().unwrap();
        let (out, err) = text(&o);
        assert!(o.status.success(), "{out}\n{err}");
        assert!(out.contains(&format!("{expect} driver")), "{out}");
        let r = read_json(&json);
        validate_report_schema(&r);
        assert_eq!(r["connections"]["driver"], expect);
        assert_eq!(r["summary"]["failed"], 0, "{}", r["errors"]);
        assert!(r["summary"]["transactions"].as_u64().unwrap() > 100);
        let kinds = r["transactions"].as_array().unwrap();
        for k in kinds {
            assert!(k["count"].as_u64().unwrap() > 0, "{k}");
        }
    }
    // the inserts of all three runs reached the table
    let history: u64 = pg
        .psql(&db, "SELECT count(*) FROM simple_history")
        .parse()
        .unwrap();
    assert!(history > 30, "{history}");
}

#[test]
fn transient_connections_on_the_wire_driver() {
    let pg = pg();
    let db = pg.fresh_db("wire_transient");
    setup_simple(&db);
    let dir = tempdir();
    let cfg = dir.path().join("c.yaml");
    std::fs::write(
        &cfg,
        format!(
            "database: {{ host: {}, port: {}, username: {}, dbname: {db} }}\nworkload: simple_read\nscale: 1\nduration: 2s\nworkers: 2\nconnections: 2\nconnection_mode: transient\n",
            pg.host, pg.port, pg.user
        ),
    )
    .unwrap();
    let json = dir.path().join("r.json");
    let o = stormbench()
        .args(["--config"])
        .arg(&cfg)
        .args(["--no-summary", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert!(o.status.success(), "{:?}", text(&o));
    let r = read_json(&json);
    assert_eq!(r["connections"]["driver"], "wire");
    assert_eq!(r["summary"]["failed"], 0, "{}", r["errors"]);
    let opened = r["connections"]["opened"].as_u64().unwrap();
    assert!(opened > 10, "{}", r["connections"]);
    assert_eq!(opened, r["summary"]["transactions"].as_u64().unwrap());
    assert!(r["connections"]["connect"]["p50_ms"].as_f64().unwrap() > 0.0);
}

#[test]
fn driver_mistakes_are_one_line_errors() {
    let pg = pg();
    // an unknown driver
    let o = pg
        .stormbench("stormbench_test")
        .args(["-w", "simple", "--driver", "odbc"])
        .output()
        .unwrap();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("unknown driver 'odbc'"), "{err}");
}

#[test]
fn rows_decode_every_type_the_workloads_read() {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
    let pg = pg();
    rt().block_on(async {
        let mut c = test_conn(&pg).await;
        c.batch_execute("SET TIME ZONE 'UTC'").await.unwrap();
        let mut rows = Rows::new();
        for (n, text, approx) in [
            ("-12345.6789", "-12345.6789", -12345.6789),
            ("0.0001", "0.0001", 0.0001),
            ("100000000.50", "100000000.50", 100000000.5),
            ("0", "0", 0.0),
            ("-0.00003000", "-0.00003000", -0.00003),
            ("42", "42", 42.0),
        ] {
            let q = c.prepare(&format!("SELECT '{n}'::numeric")).await.unwrap();
            c.query_into(&q, &[], &mut rows).await.unwrap();
            let v: Numeric = rows.get(0, 0).unwrap();
            assert_eq!(v.to_string(), text);
            assert!((v.to_f64() - approx).abs() < 1e-9, "{v:?}");
        }
        // every other type, and NULLs
        let st = {
            c.prepare(
                "SELECT 1::int2, 2::int4, $1::int8, 1.5::float4, 2.25::float8, \
                 'héllo'::text, 'v'::varchar(4), 'ab'::char(4), true, \
                 '2024-02-29 12:34:56.5'::timestamp, '2024-02-29 12:34:56+02'::timestamptz, \
                 '\\x00ff10'::bytea, NULL::int4, NULL::text, \
                 $2::text::numeric(12,2), 'NaN'::numeric",
            )
            .await
            .unwrap()
        };
        assert_eq!(st.column_types()[14], tokio_postgres::types::Type::NUMERIC);
        c.query_into(&st, &[&3i64, &"1234.5"], &mut rows)
            .await
            .unwrap();
        assert_eq!((rows.len(), rows.affected()), (1, 1));
        assert_eq!(rows.get::<i16>(0, 0).unwrap(), 1);
        assert_eq!(rows.get::<i32>(0, 1).unwrap(), 2);
        assert_eq!(rows.get::<i64>(0, 2).unwrap(), 3);
        assert_eq!(rows.get::<f32>(0, 3).unwrap(), 1.5);
        assert_eq!(rows.get::<f64>(0, 4).unwrap(), 2.25);
        assert_eq!(rows.get::<&str>(0, 5).unwrap(), "héllo");
        assert_eq!(rows.get::<String>(0, 6).unwrap(), "v");
        assert_eq!(rows.get::<&str>(0, 7).unwrap(), "ab  ");
        assert!(rows.get::<bool>(0, 8).unwrap());
        let ts = NaiveDate::from_ymd_opt(2024, 2, 29)
            .unwrap()
            .and_hms_milli_opt(12, 34, 56, 500)
            .unwrap();
        assert_eq!(rows.get::<NaiveDateTime>(0, 9).unwrap(), ts);
        assert_eq!(
            rows.get::<DateTime<Utc>>(0, 10).unwrap().to_rfc3339(),
            "2024-02-29T10:34:56+00:00"
        );
        assert_eq!(rows.get::<&[u8]>(0, 11).unwrap(), &[0u8, 0xff, 0x10]);
        assert_eq!(rows.get::<Vec<u8>>(0, 11).unwrap(), vec![0u8, 0xff, 0x10]);
        assert_eq!(rows.get::<Option<i32>>(0, 12).unwrap(), None);
        assert_eq!(rows.get::<Option<&str>>(0, 13).unwrap(), None);
        assert_eq!(rows.get::<Option<i64>>(0, 2).unwrap(), Some(3));
        assert_eq!(rows.get::<Numeric>(0, 14).unwrap().to_string(), "1234.50");
        assert!(rows.get::<Numeric>(0, 15).unwrap().to_f64().is_nan());
        // a NULL into a non-Option, a wrong type, a column out of range: errors, not panics
        let e = rows.get::<i32>(0, 12).unwrap_err();
        assert!(e.to_string().contains("column 12"), "{e}");
        let e = rows.get::<i64>(0, 5).unwrap_err();
        assert!(e.to_string().contains("column 5 is text"), "{e}");
        assert!(rows.get::<i32>(0, 99).is_err());
        assert!(rows.get::<i32>(1, 0).is_err());

        // many rows into the same buffers; execute still only counts
        let series = c
            .prepare("SELECT g, g::text FROM generate_series(1, $1::int4) g")
            .await
            .unwrap();
        c.query_into(&series, &[&500i32], &mut rows).await.unwrap();
        assert_eq!(rows.len(), 500);
        assert_eq!(rows.affected(), 500);
        assert_eq!(rows.get::<i32>(499, 0).unwrap(), 500);
        assert_eq!(rows.get::<&str>(41, 1).unwrap(), "42");
        c.query_into(&series, &[&2i32], &mut rows).await.unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(c.execute(&series, &[&7i32]).await.unwrap().rows, 7);
        let owned = c.query(&series, &[&0i32]).await.unwrap();
        assert!(owned.is_empty());
    });
}

#[test]
fn pipelines_simple_queries_and_savepoints() {
    let pg = pg();
    rt().block_on(async {
        let mut c = test_conn(&pg).await;
        // the simple protocol: several statements, one count each
        let counts = c
            .simple_query(
                "CREATE TEMP TABLE p (id int8 PRIMARY KEY, v text); \
                 INSERT INTO p VALUES (1, 'a'), (2, 'b'); SELECT * FROM p",
            )
            .await
            .unwrap();
        let tags: Vec<u64> = counts.iter().map(|e| e.tag_rows).collect();
        assert_eq!(tags, [0, 2, 2]);
        assert_eq!(counts[2].rows, 2);
        assert_eq!(c.tx_status(), TxStatus::Idle);

        let ins = c.prepare("INSERT INTO p VALUES ($1, $2)").await.unwrap();
        let count = c.prepare("SELECT count(*) FROM p").await.unwrap();
        let mut rows = Rows::new();
        let mut out = Vec::new();

        // a pipeline that works: one write, results in order
        c.execute_many(
            &[
                (&ins, &[&3i64, &"c"]),
                (&ins, &[&4i64, &"d"]),
                (&count, &[]),
            ],
            &mut out,
        )
        .await
        .unwrap();
        let tags: Vec<u64> = out.iter().map(|e| e.tag_rows).collect();
        assert_eq!(tags, [1, 1, 1]);

        // an error in the middle: the rest is skipped, the implicit transaction rolls
        // back, the error is returned, and the connection goes on
        let e = c
            .execute_many(
                &[
                    (&ins, &[&5i64, &"e"]),
                    (&ins, &[&1i64, &"dup"]),
                    (&ins, &[&6i64, &"f"]),
                ],
                &mut out,
            )
            .await
            .unwrap_err();
        assert_eq!(e.code().unwrap().code(), "23505", "{e}");
        assert_eq!(out.len(), 1);
        assert!(!c.is_broken());
        assert_eq!(c.tx_status(), TxStatus::Idle);
        c.query_into(&count, &[], &mut rows).await.unwrap();
        assert_eq!(rows.get::<i64>(0, 0).unwrap(), 4);

        blocks_fail_whole_or_back_to_a_savepoint(&mut c, &ins, &count, &mut rows, &mut out).await;
        read_only_blocks_and_bad_savepoint_names_are_refused(&mut c).await;
    });
}

/// On temporary table `p` (ids 1 to 4, `ins` inserting into it, `count` counting it): a
/// failure inside a transaction block fails the block and ROLLBACK recovers; a failure
/// after a savepoint is undone back to it and the rest commits (ids 10 and 11).
async fn blocks_fail_whole_or_back_to_a_savepoint(
    c: &mut WireConn,
    ins: &WireStmt,
    count: &WireStmt,
    rows: &mut Rows,
    out: &mut Vec<Executed>,
) {
    // inside a transaction block the failure fails the block; ROLLBACK recovers
    c.begin(Some(Isolation::RepeatableRead), false)
        .await
        .unwrap();
    assert_eq!(c.tx_status(), TxStatus::InTransaction);
    c.execute(ins, &[&7i64, &"g"]).await.unwrap();
    let e = c
        .execute_many(&[(ins, &[&2i64, &"dup"]), (ins, &[&8i64, &"h"])], out)
        .await
        .unwrap_err();
    assert_eq!(e.code().unwrap().code(), "23505");
    assert_eq!(c.tx_status(), TxStatus::Failed);
    let e = c.execute(count, &[]).await.unwrap_err();
    assert_eq!(e.code().unwrap().code(), "25P02", "{e}");
    c.rollback().await.unwrap();
    assert_eq!(c.tx_status(), TxStatus::Idle);
    c.query_into(count, &[], rows).await.unwrap();
    assert_eq!(rows.get::<i64>(0, 0).unwrap(), 4);

    // savepoints: a failure after one is undone back to it, the rest commits
    c.begin(None, false).await.unwrap();
    c.execute(ins, &[&10i64, &"j"]).await.unwrap();
    c.savepoint("before_dup").await.unwrap();
    c.execute(ins, &[&1i64, &"dup"]).await.unwrap_err();
    assert_eq!(c.tx_status(), TxStatus::Failed);
    c.rollback_to("before_dup").await.unwrap();
    assert_eq!(c.tx_status(), TxStatus::InTransaction);
    c.execute(ins, &[&11i64, &"k"]).await.unwrap();
    c.release("before_dup").await.unwrap();
    c.commit().await.unwrap();
    assert_eq!(c.tx_status(), TxStatus::Idle);
    c.query_into(count, &[], rows).await.unwrap();
    assert_eq!(rows.get::<i64>(0, 0).unwrap(), 6);
}

/// A read-only block refuses a write (on a permanent table) and rolls back; a savepoint
/// name that is not an identifier is refused before anything is sent, the connection
/// still usable.
async fn read_only_blocks_and_bad_savepoint_names_are_refused(c: &mut WireConn) {
    // a read-only block refuses writes; a bad savepoint name is refused unsent
    c.begin(Some(Isolation::Serializable), true).await.unwrap();
    // (temporary tables stay writable there, so a permanent one is tried)
    let e = c
        .simple_query("CREATE TABLE wire_ro_refused (a int)")
        .await
        .unwrap_err();
    assert_eq!(e.code().unwrap().code(), "25006", "{e}");
    c.rollback().await.unwrap();
    let e = c.savepoint("x; DROP TABLE p").await.unwrap_err();
    assert!(e.to_string().contains("savepoint name"), "{e}");
    assert!(!c.is_broken());
    assert_eq!(c.simple_query("SELECT 1").await.unwrap()[0].rows, 1);
}

/// A peer that completes the start-up as a trust server would, then answers the first
/// request with `reply` and keeps the socket open.
fn fake_server(reply: &'static [u8]) -> u16 {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let read_message = |s: &mut std::net::TcpStream| {
            let mut len = [0u8; 4];
            s.read_exact(&mut len).unwrap();
            let mut body = vec![0u8; u32::from_be_bytes(len) as usize - 4];
            s.read_exact(&mut body).unwrap();
            body
        };
        // the TLS request (prefer), refused; then the start-up message
        read_message(&mut s);
        s.write_all(b"N").unwrap();
        read_message(&mut s);
        s.write_all(b"R\0\0\0\x08\0\0\0\0Z\0\0\0\x05I").unwrap();
        let mut request = [0u8; 64];
        let _ = s.read(&mut request);
        s.write_all(reply).unwrap();
        std::thread::sleep(Duration::from_secs(30));
    });
    port
}

/// The fake server's answer to a first request (see [`fake_server`]): the error it must
/// be, within 5 s, and whether the connection was retired.
fn fake_server_error(reply: &'static [u8]) -> (String, bool) {
    let port = fake_server(reply);
    let mut c = tokio_postgres::Config::new();
    c.host("127.0.0.1").port(port).user("x").dbname("x");
    rt().block_on(async {
        let mut conn = WireConn::connect(&WireConfig::new(&c, SslMode::Prefer))
            .await
            .expect("the fake server's start-up");
        let e = tokio::time::timeout(Duration::from_secs(5), conn.batch_execute("SELECT 1"))
            .await
            .expect("waited on a message whose length no server sends")
            .unwrap_err();
        (e.to_string(), conn.is_broken())
    })
}

#[test]
fn a_message_length_no_server_sends_is_an_error_at_once_not_a_wait() {
    // a command tag that claims 2 GiB: the stream is out of step
    let (msg, broken) = fake_server_error(b"C\x7f\xff\xff\x00SELECT 1\0");
    assert!(msg.contains("malformed message from the server"), "{msg}");
    assert!(msg.contains("'C' of 2147483392 bytes"), "{msg}");
    assert!(broken, "an out-of-step connection must not be reused");
}

#[test]
fn a_message_length_under_its_own_four_bytes_is_an_error_not_a_panic() {
    let (msg, _) = fake_server_error(b"C\0\0\0\x02");
    assert!(msg.contains("length"), "{msg}");
}
