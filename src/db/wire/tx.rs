//! Pipelines, the simple query protocol, and transaction control.

use bytes::Buf;
use postgres_protocol::message::frontend;
use tokio_postgres::types::ToSql;

use super::conn::{tag_rows, Executed, WireConn, WireStmt};
use super::error::{ErrorKind, WireError};
use super::frame::exchange_frame;
use crate::rows::Rows;
use crate::types::Isolation;

/// Where the connection stands, from the last ReadyForQuery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxStatus {
    /// Not in a transaction block.
    Idle,
    /// In a transaction block.
    InTransaction,
    /// In a failed transaction block: statements are refused until ROLLBACK (or ROLLBACK
    /// TO a savepoint).
    Failed,
}

/// One statement of a pipeline and its parameters.
pub type Step<'a> = (&'a WireStmt, &'a [&'a (dyn ToSql + Sync)]);

impl WireConn {
    /// The transaction status the server last reported.
    #[inline]
    pub fn tx_status(&self) -> TxStatus {
        match self.tx_status {
            b'T' => TxStatus::InTransaction,
            b'E' => TxStatus::Failed,
            _ => TxStatus::Idle,
        }
    }

    /// Sends every step (Bind, Execute each) before one Sync, in one write, and reads
    /// their results in order into `out` (one [`Executed`] per step, rows counted). Outside
    /// a transaction block the steps run as one implicit transaction. On the first error
    /// the server skips the remaining steps up to the Sync; that error is returned, `out`
    /// holds the results of the steps before it, and the connection stays usable (inside a
    /// transaction block, the block is then failed: roll it back).
    pub async fn execute_many(
        &mut self,
        steps: &[Step<'_>],
        out: &mut Vec<Executed>,
    ) -> Result<(), WireError> {
        out.clear();
        self.start()?;
        for (stmt, params) in steps {
            self.bind(stmt, params)?;
        }
        frontend::sync(&mut self.wbuf);
        self.flush().await?;
        self.read_results(out).await
    }

    /// Sends every step before one Sync, as [`WireConn::execute_many`], and keeps the rows
    /// of step `i` in `out[i]` (as long as `steps`; buffers reused). After an error the
    /// server skips the rest: their rows stay empty.
    pub(crate) async fn query_many(
        &mut self,
        steps: &[Step<'_>],
        out: &mut [Rows],
    ) -> Result<(), WireError> {
        if out.len() < steps.len() {
            return Err(WireError::new(ErrorKind::Encode(format!(
                "{} steps need as many result buffers, {} given",
                steps.len(),
                out.len()
            ))));
        }
        self.start()?;
        for ((stmt, params), rows) in steps.iter().zip(out.iter_mut()) {
            self.bind(stmt, params)?;
            rows.reset(stmt.column_types());
        }
        frontend::sync(&mut self.wbuf);
        self.flush().await?;
        self.read_rows(out).await
    }

    /// Reads the results of a pipeline up to ReadyForQuery: DataRows into the current
    /// step's rows, its CommandComplete moves to the next step; the first error is
    /// returned.
    async fn read_rows(&mut self, out: &mut [Rows]) -> Result<(), WireError> {
        let mut i = 0;
        self.read_until_ready(|got| {
            match got {
                Got::Row(body) => match out.get_mut(i) {
                    Some(r) => {
                        return r
                            .push_data_row(body)
                            .err()
                            .map(|e| WireError::protocol(e.to_string()))
                    }
                    None => return Some(WireError::protocol("more results than statements")),
                },
                Got::Done(n) => {
                    if let Some(r) = out.get_mut(i) {
                        r.set_affected(n);
                    }
                    i += 1;
                }
                Got::Empty => i += 1,
            }
            None
        })
        .await
    }

    /// Runs `sql` over the simple query protocol (text results; several statements, `;`
    /// separated, allowed) and returns one [`Executed`] per statement. On an error the
    /// rest of the string is skipped and the error returned.
    pub async fn simple_query(&mut self, sql: &str) -> Result<Vec<Executed>, WireError> {
        let mut out = Vec::new();
        self.start()?;
        frontend::query(sql, &mut self.wbuf)?;
        self.flush().await?;
        self.read_results(&mut out).await?;
        Ok(out)
    }

    /// `COPY ... FROM STDIN` with `data` as its whole input: the query, the data and
    /// CopyDone go in one write (a server that refuses the COPY ignores the data that
    /// follows, as the protocol says); returns the rows copied.
    pub async fn copy_in(&mut self, sql: &str, data: &[u8]) -> Result<u64, WireError> {
        self.start()?;
        frontend::query(sql, &mut self.wbuf)?;
        // CopyData messages of at most 1 MiB each
        for chunk in data.chunks(1 << 20) {
            frontend::CopyData::new(chunk)
                .map_err(|e| WireError::new(ErrorKind::Encode(e.to_string())))?
                .write(&mut self.wbuf);
        }
        frontend::copy_done(&mut self.wbuf);
        self.flush().await?;
        let mut out = Vec::new();
        self.read_results(&mut out).await?;
        Ok(out.last().map(|e| e.tag_rows).unwrap_or(0))
    }

    /// `BEGIN` with an isolation level (`None`: the session's default) and READ ONLY.
    pub async fn begin(
        &mut self,
        isolation: Option<Isolation>,
        read_only: bool,
    ) -> Result<(), WireError> {
        let sql = match (isolation, read_only) {
            (None, false) => "BEGIN",
            (None, true) => "BEGIN READ ONLY",
            (Some(Isolation::ReadCommitted), false) => "BEGIN ISOLATION LEVEL READ COMMITTED",
            (Some(Isolation::ReadCommitted), true) => {
                "BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY"
            }
            (Some(Isolation::RepeatableRead), false) => "BEGIN ISOLATION LEVEL REPEATABLE READ",
            (Some(Isolation::RepeatableRead), true) => {
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
            }
            (Some(Isolation::Serializable), false) => "BEGIN ISOLATION LEVEL SERIALIZABLE",
            (Some(Isolation::Serializable), true) => "BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY",
        };
        self.control(sql).await
    }

    /// `COMMIT` (of a failed block the server answers with a rollback).
    pub async fn commit(&mut self) -> Result<(), WireError> {
        self.control("COMMIT").await
    }

    /// `ROLLBACK`.
    pub async fn rollback(&mut self) -> Result<(), WireError> {
        self.control("ROLLBACK").await
    }

    /// `SAVEPOINT name`; `name` is a plain identifier (letters, digits, `_`).
    pub async fn savepoint(&mut self, name: &str) -> Result<(), WireError> {
        self.control_named("SAVEPOINT ", name).await
    }

    /// `ROLLBACK TO SAVEPOINT name`: undoes the work since the savepoint, also out of a
    /// failed block.
    pub async fn rollback_to(&mut self, name: &str) -> Result<(), WireError> {
        self.control_named("ROLLBACK TO SAVEPOINT ", name).await
    }

    /// `RELEASE SAVEPOINT name`.
    pub async fn release(&mut self, name: &str) -> Result<(), WireError> {
        self.control_named("RELEASE SAVEPOINT ", name).await
    }

    async fn control_named(&mut self, verb: &'static str, name: &str) -> Result<(), WireError> {
        let ok = name
            .bytes()
            .enumerate()
            .all(|(i, b)| b == b'_' || b.is_ascii_alphabetic() || (i > 0 && b.is_ascii_digit()));
        if name.is_empty() || name.len() > 63 || !ok {
            return Err(WireError::new(ErrorKind::Encode(
                "a savepoint name is 1 to 63 letters, digits or _, not starting with a digit"
                    .into(),
            )));
        }
        // a Query message written straight into the write buffer: no allocation
        self.start()?;
        self.wbuf.extend_from_slice(b"Q\0\0\0\0");
        self.wbuf.extend_from_slice(verb.as_bytes());
        self.wbuf.extend_from_slice(name.as_bytes());
        self.wbuf.extend_from_slice(b"\0");
        let len = (self.wbuf.len() - 1) as i32;
        self.wbuf[1..5].copy_from_slice(&len.to_be_bytes());
        self.flush().await?;
        self.finish_exchange(None, None).await.map(|_| ())
    }

    async fn control(&mut self, sql: &str) -> Result<(), WireError> {
        self.start()?;
        frontend::query(sql, &mut self.wbuf)?;
        self.flush().await?;
        self.finish_exchange(None, None).await.map(|_| ())
    }

    /// Reads results up to ReadyForQuery, one [`Executed`] per statement (closed by
    /// CommandComplete or EmptyQueryResponse); the first error is returned.
    async fn read_results(&mut self, out: &mut Vec<Executed>) -> Result<(), WireError> {
        let mut cur = Executed::default();
        self.read_until_ready(|got| {
            match got {
                Got::Row(_) => cur.rows += 1,
                Got::Done(n) => {
                    cur.tag_rows = n;
                    out.push(std::mem::take(&mut cur));
                }
                Got::Empty => out.push(std::mem::take(&mut cur)),
            }
            None
        })
        .await
    }

    /// Reads messages up to ReadyForQuery, handing rows and statement ends to `on` (which
    /// may report an error of its own); the first error, the server's or `on`'s, is
    /// returned once the connection is back in step.
    async fn read_until_ready(
        &mut self,
        mut on: impl FnMut(Got<'_>) -> Option<WireError>,
    ) -> Result<(), WireError> {
        let mut failed = None;
        loop {
            let (tag, len) = exchange_frame!(self, &mut failed);
            let got = match tag {
                b'D' => Some(Got::Row(&self.rbuf[5..len])),
                b'C' => Some(Got::Done(tag_rows(&self.rbuf[5..len]))),
                b'I' => Some(Got::Empty),
                b'Z' => {
                    self.tx_status = self.rbuf.get(5).copied().unwrap_or(b'I');
                    self.rbuf.advance(len);
                    self.busy = false;
                    return match failed {
                        Some(e) => Err(e),
                        None => Ok(()),
                    };
                }
                b'E' => {
                    let e = self.take_error(len)?;
                    failed.get_or_insert(e);
                    continue;
                }
                // CopyInResponse: the data already follows
                b'2' | b'1' | b'3' | b'n' | b'T' | b'N' | b'S' | b'A' | b's' | b'G' => None,
                other => return Err(self.unexpected(other)),
            };
            if let Some(e) = got.and_then(&mut on) {
                failed.get_or_insert(e);
            }
            self.rbuf.advance(len);
        }
    }
}

/// What a result stream brings, message by message.
enum Got<'a> {
    /// A DataRow's body.
    Row(&'a [u8]),
    /// CommandComplete, with its count.
    Done(u64),
    /// EmptyQueryResponse.
    Empty,
}
