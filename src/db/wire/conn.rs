//! One connection: prepared statements, their execution, and the exchange state.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use bytes::{Buf, BufMut, BytesMut};
use fallible_iterator::FallibleIterator;
use postgres_protocol::message::{backend, frontend};
use tokio_postgres::types::{IsNull, ToSql, Type};

use super::error::{ErrorKind, WireError};
use super::frame::{exchange_frame, take_front, Stream};
use crate::rows::Rows;

/// A statement prepared on one connection.
#[derive(Debug)]
pub struct WireStmt {
    name: StmtName,
    params: Vec<Type>,
    columns: Vec<Type>,
    names: Vec<String>,
}

impl WireStmt {
    /// Parameter types the server inferred.
    pub fn params(&self) -> &[Type] {
        &self.params
    }

    /// Number of result columns.
    pub fn columns(&self) -> usize {
        self.columns.len()
    }

    /// The result's column types.
    pub fn column_types(&self) -> &[Type] {
        &self.columns
    }

    /// The result's column names.
    pub(crate) fn column_names(&self) -> &[String] {
        &self.names
    }
}

/// A prepared statement's name (`sbw` and a number), held inline: binding the statement
/// reads it without following a pointer to another cache line.
#[derive(Debug, Clone, Copy)]
struct StmtName {
    bytes: [u8; 15],
    len: u8,
}

impl StmtName {
    /// `sbw` followed by `n`.
    fn new(n: u32) -> Self {
        use std::io::Write;
        let mut bytes = [0u8; 15];
        let mut w = &mut bytes[..];
        // "sbw" and at most 10 digits fit in 15 bytes
        write!(w, "sbw{n}").expect("a statement name fits its buffer");
        let len = 15 - w.len();
        StmtName {
            bytes,
            len: len as u8,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len as usize]).expect("an ASCII name")
    }
}

pub(super) static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// One server connection, owned by one worker at a time.
pub struct WireConn {
    pub(super) stream: Stream,
    pub(super) rbuf: BytesMut,
    pub(super) wbuf: BytesMut,
    /// A request went out and its ReadyForQuery has not been read: if that is still so
    /// when the connection is offered again, the exchange was abandoned midway (the
    /// transaction's future was dropped) and the connection cannot be used.
    pub(super) busy: bool,
    pub(super) broken: bool,
    pub(super) id: u64,
    pub(super) cache: HashMap<String, Arc<WireStmt>>,
    pub(super) prepared: u32,
    /// The transaction status of the last ReadyForQuery: `I`, `T` or `E`.
    pub(super) tx_status: u8,
    /// The server's key for cancelling this connection's statements (BackendKeyData).
    pub(super) key: Option<CancelKey>,
}

/// What a CancelRequest names: the server process and its secret.
#[derive(Debug, Clone, Copy)]
pub(super) struct CancelKey {
    pub(super) pid: i32,
    pub(super) secret: i32,
}

impl fmt::Debug for WireConn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireConn").field("id", &self.id).finish()
    }
}

/// What a statement returned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Executed {
    /// DataRow messages received.
    pub rows: u64,
    /// The count in the command tag (rows affected or returned).
    pub tag_rows: u64,
}

impl WireConn {
    /// A number unique to this connection in the process (for per-connection caches).
    #[inline]
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Whether the connection must not be used again (lost, or abandoned mid-exchange).
    pub fn is_broken(&self) -> bool {
        self.broken || self.busy
    }

    /// Prepares `sql` (parameter types inferred by the server).
    pub async fn prepare(&mut self, sql: &str) -> Result<WireStmt, WireError> {
        self.prepared += 1;
        let name = StmtName::new(self.prepared);
        self.start()?;
        frontend::parse(name.as_str(), sql, std::iter::empty(), &mut self.wbuf)?;
        frontend::describe(b'S', name.as_str(), &mut self.wbuf)?;
        frontend::sync(&mut self.wbuf);
        self.flush().await?;
        let mut params = Vec::new();
        let mut columns = Vec::new();
        let mut names = Vec::new();
        let mut failed = None;
        loop {
            let (tag, len) = exchange_frame!(self, &mut failed);
            match tag {
                b'1' | b'n' => {} // ParseComplete, NoData
                b't' => {
                    let mut m = take_front(&mut self.rbuf, len);
                    if let Some(backend::Message::ParameterDescription(body)) =
                        backend::Message::parse(&mut m)?
                    {
                        let mut oids = body.parameters();
                        while let Some(oid) = oids.next()? {
                            // a type of the database (an extension's, a domain): a
                            // value that sends itself as text can still be bound to it
                            params.push(Type::from_oid(oid).unwrap_or_else(|| other_type(oid)));
                        }
                    }
                    continue;
                }
                b'T' => {
                    let mut m = take_front(&mut self.rbuf, len);
                    if let Some(backend::Message::RowDescription(body)) =
                        backend::Message::parse(&mut m)?
                    {
                        let mut fields = body.fields();
                        while let Some(f) = fields.next()? {
                            // a type of the database (enum, domain...): its bytes can
                            // still be read as such
                            let oid = f.type_oid();
                            columns.push(Type::from_oid(oid).unwrap_or_else(|| other_type(oid)));
                            names.push(f.name().to_string());
                        }
                    }
                    continue;
                }
                b'E' => {
                    let e = self.take_error(len)?;
                    failed.get_or_insert(e);
                    continue;
                }
                b'Z' => {
                    self.tx_status = self.rbuf.get(5).copied().unwrap_or(b'I');
                    self.rbuf.advance(len);
                    self.busy = false;
                    break;
                }
                b'N' | b'S' | b'A' => {}
                other => return Err(self.unexpected(other)),
            }
            self.rbuf.advance(len);
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(WireStmt {
                name,
                params,
                columns,
                names,
            }),
        }
    }

    /// The statement for `sql`, prepared once on this connection.
    pub async fn prepare_cached(&mut self, sql: &str) -> Result<Arc<WireStmt>, WireError> {
        if let Some(s) = self.cache.get(sql) {
            return Ok(s.clone());
        }
        let s = Arc::new(self.prepare(sql).await?);
        self.cache.insert(sql.to_string(), s.clone());
        Ok(s)
    }

    /// Runs a prepared statement with `params` (binary format); result rows are counted
    /// and dropped.
    pub async fn execute(
        &mut self,
        stmt: &WireStmt,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Executed, WireError> {
        self.start()?;
        self.bind(stmt, params)?;
        frontend::sync(&mut self.wbuf);
        self.flush().await?;
        self.finish_exchange(Some(Executed::default()), None).await
    }

    /// Runs a prepared statement and keeps its rows (binary format) in `rows`, whose
    /// buffers are reused: nothing is allocated per row once they have grown.
    pub async fn query_into(
        &mut self,
        stmt: &WireStmt,
        params: &[&(dyn ToSql + Sync)],
        rows: &mut Rows,
    ) -> Result<(), WireError> {
        self.start()?;
        self.bind(stmt, params)?;
        frontend::sync(&mut self.wbuf);
        self.flush().await?;
        rows.reset(&stmt.columns);
        self.finish_exchange(None, Some(rows)).await.map(|_| ())
    }

    /// [`Self::query_into`] into a new [`Rows`].
    pub async fn query(
        &mut self,
        stmt: &WireStmt,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Rows, WireError> {
        let mut rows = Rows::new();
        self.query_into(stmt, params, &mut rows).await?;
        Ok(rows)
    }

    /// Appends Bind (binary results; each parameter in the format its value asks for)
    /// and Execute for `stmt` to the write buffer. On an encoding error nothing is sent
    /// and the exchange ends.
    pub(super) fn bind(
        &mut self,
        stmt: &WireStmt,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<(), WireError> {
        if params.len() != stmt.params.len() {
            return Err(self.not_bound(format!(
                "the statement takes {} parameters, {} given",
                stmt.params.len(),
                params.len()
            )));
        }
        let Ok(n) = i16::try_from(params.len()) else {
            return Err(self.not_bound(format!(
                "{} parameters are more than a statement can take",
                params.len()
            )));
        };
        if let Err(e) = encode_bind(
            &mut self.wbuf,
            stmt.name.as_bytes(),
            &stmt.params,
            params,
            n,
        ) {
            // nothing was sent: the connection is still in step
            return Err(self.not_bound(format!("cannot encode a parameter: {e}")));
        }
        // Execute the unnamed portal, all rows
        self.wbuf.put_slice(b"E\0\0\0\x09\0\0\0\0\0");
        Ok(())
    }

    /// Ends an exchange whose request could not be encoded (nothing of it was sent).
    fn not_bound(&mut self, why: String) -> WireError {
        self.wbuf.clear();
        self.busy = false;
        WireError::new(ErrorKind::Encode(why))
    }

    /// Runs SQL over the simple query protocol (several statements allowed; results dropped).
    pub async fn batch_execute(&mut self, sql: &str) -> Result<Executed, WireError> {
        self.start()?;
        frontend::query(sql, &mut self.wbuf)?;
        self.flush().await?;
        self.finish_exchange(Some(Executed::default()), None).await
    }

    /// Sends Terminate and closes the socket.
    pub async fn close(mut self) {
        self.wbuf.clear();
        frontend::terminate(&mut self.wbuf);
        let _ = self.flush().await;
        self.broken = true; // nothing more to say on drop
    }

    /// Reads the rest of an exchange up to ReadyForQuery: rows, the command tag, the
    /// first error (the server skips to Sync after one).
    pub(super) async fn finish_exchange(
        &mut self,
        mut out: Option<Executed>,
        mut rows: Option<&mut Rows>,
    ) -> Result<Executed, WireError> {
        let mut failed = None;
        loop {
            let (tag, len) = exchange_frame!(self, &mut failed);
            match tag {
                b'D' => {
                    if let Some(o) = &mut out {
                        o.rows += 1;
                    }
                    if let Some(r) = rows.as_deref_mut() {
                        if let Err(e) = r.push_data_row(&self.rbuf[5..len]) {
                            failed.get_or_insert(WireError::protocol(e.to_string()));
                        }
                    }
                }
                b'C' => {
                    let n = tag_rows(&self.rbuf[5..len]);
                    if let Some(o) = &mut out {
                        o.tag_rows = n;
                    }
                    if let Some(r) = rows.as_deref_mut() {
                        r.set_affected(n);
                    }
                }
                b'Z' => {
                    self.tx_status = self.rbuf.get(5).copied().unwrap_or(b'I');
                    self.rbuf.advance(len);
                    self.busy = false;
                    return match failed {
                        Some(e) => Err(e),
                        None => Ok(out.unwrap_or_default()),
                    };
                }
                b'E' => {
                    let e = self.take_error(len)?;
                    failed.get_or_insert(e);
                    continue;
                }
                // BindComplete, ParseComplete, CloseComplete, NoData, EmptyQuery,
                // RowDescription (simple protocol), notices, parameter status,
                // notifications, PortalSuspended
                b'2' | b'1' | b'3' | b'n' | b'I' | b'T' | b'N' | b'S' | b'A' | b's' => {}
                b'K' => self.key = cancel_key(&self.rbuf[5..len]),
                other => return Err(self.unexpected(other)),
            }
            self.rbuf.advance(len);
        }
    }
}

impl Drop for WireConn {
    fn drop(&mut self) {
        if !self.broken {
            // a clean goodbye, so the server does not log an unexpected EOF; best effort
            let mut b = BytesMut::with_capacity(5);
            frontend::terminate(&mut b);
            let _ = self.stream.try_write(&b);
        }
    }
}

/// The body of BackendKeyData: the process id and a 4-byte secret (protocol 3.0, which
/// the start-up asks for); anything else is not a key a CancelRequest of 3.0 can carry.
fn cancel_key(body: &[u8]) -> Option<CancelKey> {
    if body.len() != 8 {
        return None;
    }
    let pid = i32::from_be_bytes(body.get(0..4)?.try_into().ok()?);
    let secret = i32::from_be_bytes(body.get(4..8)?.try_into().ok()?);
    Some(CancelKey { pid, secret })
}

/// Appends a Bind message of the unnamed portal for statement `name`: parameter `i` is
/// `params[i]` as type `types[i]`, in the format its value asks for (binary for the
/// built-in types, text for a value that stands for a literal); results in binary. On an
/// error the buffer holds part of a message: the caller drops it unsent. Written
/// in place, lengths filled in after each part, as `postgres_protocol`'s `bind` would
/// write it (the tests hold them to the same bytes), without its per-message iterators
/// and name checks: this runs once per statement of every transaction.
fn encode_bind(
    buf: &mut BytesMut,
    name: &[u8],
    types: &[Type],
    params: &[&(dyn ToSql + Sync)],
    n: i16,
) -> Result<(), Box<dyn std::error::Error + Sync + Send>> {
    let at = buf.len();
    buf.put_u8(b'B');
    buf.put_i32(0); // the message's length, filled in below
    buf.put_u8(0); // the unnamed portal
    buf.put_slice(name);
    buf.put_u8(0);
    buf.put_i16(n);
    for (p, ty) in params.iter().zip(types) {
        buf.put_i16(p.encode_format(ty) as i16);
    }
    buf.put_i16(n);
    for (p, ty) in params.iter().zip(types) {
        let len_at = buf.len();
        buf.put_i32(0);
        let len = match p.to_sql_checked(ty, buf) {
            Ok(IsNull::No) => {
                i32::try_from(buf.len() - len_at - 4).map_err(|_| "value too large to transmit")?
            }
            Ok(IsNull::Yes) => -1,
            Err(e) => return Err(e),
        };
        buf[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
    }
    buf.put_i16(1); // one result format for all columns: binary
    buf.put_i16(1);
    let len = i32::try_from(buf.len() - at - 1).map_err(|_| "message too large to transmit")?;
    buf[at + 1..at + 5].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

/// A type the driver does not know by its oid (an extension's, an enum, a domain).
fn other_type(oid: u32) -> Type {
    Type::new(
        format!("oid {oid}"),
        oid,
        tokio_postgres::types::Kind::Simple,
        String::new(),
    )
}

/// The count at the end of a CommandComplete tag (`SELECT 3`, `INSERT 0 1`, `UPDATE 2`).
pub(super) fn tag_rows(body: &[u8]) -> u64 {
    let tag = body.strip_suffix(&[0]).unwrap_or(body);
    let last = tag.rsplit(|b| *b == b' ').next().unwrap_or_default();
    let mut n: u64 = 0;
    for d in last {
        if !d.is_ascii_digit() {
            return 0;
        }
        n = n * 10 + u64::from(d - b'0');
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_key_data_gives_the_cancel_key() {
        let k = cancel_key(&[0, 0, 0x30, 0x39, 0xff, 0xff, 0xff, 0xfe]).unwrap();
        assert_eq!((k.pid, k.secret), (12345, -2));
        // short, or a longer key (protocol 3.2) that a 3.0 CancelRequest cannot carry
        assert!(cancel_key(&[0, 0, 0, 1, 0, 0]).is_none());
        assert!(cancel_key(&[7; 36]).is_none());
    }

    #[test]
    fn statement_names_are_held_whole() {
        assert_eq!(StmtName::new(1).as_str(), "sbw1");
        assert_eq!(StmtName::new(u32::MAX).as_str(), "sbw4294967295");
    }

    /// A value sent as text, as a literal of a trace is.
    #[derive(Debug)]
    struct AsText(&'static str);

    impl ToSql for AsText {
        fn to_sql(
            &self,
            _: &Type,
            out: &mut BytesMut,
        ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
            out.put_slice(self.0.as_bytes());
            Ok(IsNull::No)
        }
        fn accepts(_: &Type) -> bool {
            true
        }
        fn encode_format(&self, _: &Type) -> tokio_postgres::types::Format {
            tokio_postgres::types::Format::Text
        }
        tokio_postgres::types::to_sql_checked!();
    }

    #[test]
    fn bind_is_written_as_the_protocol_crate_writes_it() {
        let none: Option<i32> = None;
        let text = AsText("2024-01-01");
        let cases: Vec<(Vec<Type>, Vec<&(dyn ToSql + Sync)>)> = vec![
            (vec![], vec![]),
            (vec![Type::INT8], vec![&42i64]),
            (
                vec![Type::INT4, Type::TEXT, Type::INT4, Type::DATE],
                vec![&7i32, &"a name", &none, &text],
            ),
        ];
        for (types, params) in cases {
            let name = StmtName::new(12);
            let mut ours = BytesMut::new();
            encode_bind(
                &mut ours,
                name.as_bytes(),
                &types,
                &params,
                params.len() as i16,
            )
            .unwrap();
            let mut theirs = BytesMut::new();
            frontend::bind(
                "",
                name.as_str(),
                params
                    .iter()
                    .zip(&types)
                    .map(|(p, t)| p.encode_format(t) as i16),
                params.iter().zip(&types),
                |(p, t), buf| match p.to_sql_checked(t, buf)? {
                    IsNull::No => Ok(postgres_protocol::IsNull::No),
                    IsNull::Yes => Ok(postgres_protocol::IsNull::Yes),
                },
                Some(1),
                &mut theirs,
            )
            .unwrap_or_else(|_| panic!("the crate cannot encode {types:?}"));
            assert_eq!(ours, theirs, "{types:?}");
        }
        let mut exec = BytesMut::new();
        frontend::execute("", 0, &mut exec).unwrap();
        assert_eq!(&exec[..], b"E\0\0\0\x09\0\0\0\0\0");
    }

    #[test]
    fn a_value_of_the_wrong_type_is_an_error() {
        let mut buf = BytesMut::new();
        let e = encode_bind(&mut buf, b"s", &[Type::INT8], &[&"text"], 1).unwrap_err();
        assert!(e.to_string().contains("cannot convert"), "{e}");
    }

    #[test]
    fn command_tags_give_row_counts() {
        assert_eq!(tag_rows(b"SELECT 3\0"), 3);
        assert_eq!(tag_rows(b"INSERT 0 12\0"), 12);
        assert_eq!(tag_rows(b"UPDATE 0\0"), 0);
        assert_eq!(tag_rows(b"BEGIN\0"), 0);
        assert_eq!(tag_rows(b"\0"), 0);
    }
}
