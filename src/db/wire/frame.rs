//! The socket and its buffers: whole messages in, one write per exchange out.

use std::io;

use bytes::BytesMut;
use postgres_protocol::message::backend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

use super::conn::WireConn;
use super::error::{db_error, ErrorKind, WireError};

/// The connection's transport; a plain connection pays nothing for TLS.
pub(super) enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
    Tls(Box<tokio_native_tls::TlsStream<TlsSocket>>),
}

/// The socket under TLS, read through a buffer: OpenSSL reads a record's 5-byte header
/// and then its body, which on a bare socket is a system call each (and a third that
/// finds nothing when the answer has not come yet); through the buffer one read takes
/// the whole answer.
pub(super) type TlsSocket = tokio::io::BufReader<TcpStream>;

impl Stream {
    #[inline]
    pub(super) async fn read_buf(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read_buf(buf).await,
            Stream::Unix(s) => s.read_buf(buf).await,
            Stream::Tls(s) => s.read_buf(buf).await,
        }
    }

    #[inline]
    pub(super) async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.write_all(buf).await,
            Stream::Unix(s) => s.write_all(buf).await,
            Stream::Tls(s) => s.write_all(buf).await,
        }
    }

    /// Writes what the socket takes now, without waiting (a goodbye on drop, the first
    /// attempt of every request); a TLS stream cannot, and writes nothing.
    pub(super) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.try_write(buf),
            Stream::Unix(s) => s.try_write(buf),
            Stream::Tls(_) => Ok(0),
        }
    }

    /// The hash of the server's certificate for SCRAM channel binding
    /// (tls-server-end-point), on TLS connections.
    pub(super) fn tls_server_end_point(&self) -> Option<Vec<u8>> {
        match self {
            Stream::Tls(s) => s.get_ref().tls_server_end_point().ok().flatten(),
            _ => None,
        }
    }
}

/// The next message of an exchange that may already have failed (see
/// [`WireConn::next_frame_after`]), as `(tag, total length)`: taken straight from the read
/// buffer when it is there, as the messages of one answer mostly arrive together, so no
/// future is built and polled per message; read from the socket otherwise.
macro_rules! exchange_frame {
    ($conn:expr, $failed:expr) => {
        match $conn.buffered_frame() {
            Ok(Some(frame)) => frame,
            // not there yet, or malformed (the read path reports it, after the server's error)
            _ => $conn.next_frame_after($failed).await?,
        }
    };
}
pub(super) use exchange_frame;

/// When everything read was consumed, moves `buf` back to the start of its allocation,
/// so the next answer lands in the first bytes (as libpq does), which the cache still
/// holds, instead of walking on through the cold remainder: with hundreds of connections
/// per thread that walk costs a cache miss or two per answer. Never allocates.
#[inline]
fn rewind(buf: &mut BytesMut) {
    if buf.is_empty() {
        let _ = buf.try_reclaim(buf.capacity() + 1);
    }
}

/// The first `len` bytes of `buf` (a whole message), copied out for parsing and consumed
/// from `buf`. Copied, not split off: a split would make the buffer's storage shared for
/// good, and rewinding a shared buffer (every answer) reaches its separate header, one
/// more cache line per transaction. Only set-up, statement preparation and errors take
/// messages this way.
pub(super) fn take_front(buf: &mut BytesMut, len: usize) -> BytesMut {
    let m = BytesMut::from(&buf[..len]);
    bytes::Buf::advance(buf, len);
    m
}

/// The longest message a server sends of a type whose size does not grow with data (as
/// libpq's rule: its sanity limit on such messages).
const SHORT_MESSAGE_LIMIT: usize = 30_000;

/// Whether messages tagged `tag` may be longer than [`SHORT_MESSAGE_LIMIT`]: rows, COPY
/// data, errors, notices, notifications, row and parameter descriptions, function results.
fn may_be_long(tag: u8) -> bool {
    matches!(tag, b'D' | b'd' | b'E' | b'N' | b'A' | b'T' | b't' | b'V')
}

/// Space kept free in the read buffer before each read.
pub(super) const READ_CHUNK: usize = 8 * 1024;

impl WireConn {
    /// Marks the start of an exchange.
    #[inline]
    pub(super) fn start(&mut self) -> Result<(), WireError> {
        if self.is_broken() {
            return Err(WireError::new(ErrorKind::Closed));
        }
        self.busy = true;
        self.wbuf.clear();
        Ok(())
    }

    /// Sends the write buffer whole. A request nearly always fits the socket's buffer
    /// and goes out in one call made here, without a future; the rest of one that does
    /// not (and every TLS request) is written by waiting on the socket.
    #[inline]
    pub(super) async fn flush(&mut self) -> Result<(), WireError> {
        let sent = match self.stream.try_write(&self.wbuf) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                0
            }
            Err(e) => {
                self.wbuf.clear();
                return Err(self.lost(e));
            }
        };
        let r = if sent < self.wbuf.len() {
            self.stream.write_all(&self.wbuf[sent..]).await
        } else {
            Ok(())
        };
        self.wbuf.clear();
        r.map_err(|e| self.lost(e))
    }

    /// Reads more from the socket.
    #[inline]
    pub(super) async fn fill(&mut self) -> Result<(), WireError> {
        rewind(&mut self.rbuf);
        if self.rbuf.capacity() - self.rbuf.len() < READ_CHUNK / 2 {
            self.rbuf.reserve(READ_CHUNK);
        }
        match self.stream.read_buf(&mut self.rbuf).await {
            Ok(0) => {
                self.broken = true;
                Err(WireError::new(ErrorKind::Closed))
            }
            Ok(_) => Ok(()),
            Err(e) => Err(self.lost(e)),
        }
    }

    /// The tag and total length of the next message when the read buffer holds all of it;
    /// `None` when more must be read (with room reserved for the rest of a message whose
    /// header is in).
    #[inline]
    pub(super) fn buffered_frame(&mut self) -> Result<Option<(u8, usize)>, WireError> {
        if let Some(h) = backend::Header::parse(&self.rbuf)? {
            let total = h.len() as usize + 1;
            if total > SHORT_MESSAGE_LIMIT && !may_be_long(h.tag()) {
                // not a message a server sends: the stream is out of step (or not a
                // PostgreSQL server's); reserving what the length says would only wait
                self.broken = true;
                return Err(WireError::protocol(format!(
                    "a malformed message from the server ('{}' of {} bytes); the connection \
                     is out of step and was closed",
                    char::from(h.tag()).escape_default(),
                    h.len()
                )));
            }
            if self.rbuf.len() >= total {
                return Ok(Some((h.tag(), total)));
            }
            self.rbuf.reserve(total - self.rbuf.len());
        }
        Ok(None)
    }

    /// The tag and total length of the next complete message, read from the socket as
    /// far as needed.
    #[inline]
    pub(super) async fn next_frame(&mut self) -> Result<(u8, usize), WireError> {
        loop {
            if let Some(f) = self.buffered_frame()? {
                return Ok(f);
            }
            self.fill().await?;
        }
    }

    /// [`Self::next_frame`] within an exchange that may already have failed: when the
    /// connection then ends (a FATAL error, e.g. the server shutting down, is followed by
    /// EOF), the server's error is the one to report.
    #[inline]
    pub(super) async fn next_frame_after(
        &mut self,
        failed: &mut Option<WireError>,
    ) -> Result<(u8, usize), WireError> {
        match self.next_frame().await {
            Ok(f) => Ok(f),
            Err(e) => Err(failed.take().unwrap_or(e)),
        }
    }

    /// The next message, parsed (connection set-up only).
    pub(super) async fn next_message(&mut self) -> Result<backend::Message, WireError> {
        let (_, len) = self.next_frame().await?;
        let mut m = take_front(&mut self.rbuf, len);
        backend::Message::parse(&mut m)?.ok_or_else(|| WireError::protocol("incomplete message"))
    }

    pub(super) fn take_error(&mut self, len: usize) -> Result<WireError, WireError> {
        let mut m = take_front(&mut self.rbuf, len);
        match backend::Message::parse(&mut m)? {
            Some(backend::Message::ErrorResponse(body)) => Ok(db_error(&body)),
            _ => Err(WireError::protocol("malformed error response")),
        }
    }

    pub(super) fn unexpected(&mut self, tag: u8) -> WireError {
        self.broken = true;
        WireError::protocol(format!("unexpected message '{}'", tag as char))
    }

    pub(super) fn lost(&mut self, e: io::Error) -> WireError {
        self.broken = true;
        WireError::new(ErrorKind::Io(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emptied_read_buffer_starts_over_without_allocating() {
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        let start = buf.as_ptr();
        buf.extend_from_slice(&[7; 100]);
        bytes::Buf::advance(&mut buf, 60);
        // data left: nothing moves
        rewind(&mut buf);
        assert_eq!(buf.len(), 40);
        assert_eq!(buf.as_ptr(), start.wrapping_add(60));
        bytes::Buf::advance(&mut buf, 40);
        assert_eq!(buf.capacity(), READ_CHUNK - 100);
        rewind(&mut buf);
        assert_eq!(
            buf.as_ptr(),
            start,
            "back at the start of the same allocation"
        );
        assert_eq!(buf.capacity(), READ_CHUNK);
        // already at the start: stays, and grows nothing
        rewind(&mut buf);
        assert_eq!(buf.as_ptr(), start);
        assert_eq!(buf.capacity(), READ_CHUNK);
    }

    #[test]
    fn a_message_taken_out_and_still_held_does_not_keep_the_buffer_from_starting_over() {
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        let start = buf.as_ptr();
        buf.extend_from_slice(b"E\0\0\0\x08oops");
        let message = take_front(&mut buf, 5);
        assert_eq!(&message[..], b"E\0\0\0\x08");
        assert_eq!(&buf[..], b"oops");
        bytes::Buf::advance(&mut buf, 4);
        rewind(&mut buf);
        assert_eq!(buf.as_ptr(), start, "the held message pinned the buffer");
        assert_eq!(buf.capacity(), READ_CHUNK);
        drop(message);
    }
}
