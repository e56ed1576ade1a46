//! The least a client can do for `simple_read`, as a floor to measure stormbench and pgbench
//! against (`FLOOR=1 scripts/bench-vs-pgbench.sh`): per client thread one epoll loop over
//! its connections (edge-triggered, as tokio's), and per transaction one `send` of a
//! pre-built Bind/Execute/Sync and one `recv` of the answer, nothing else: no latency
//! recorded, no message parsed beyond finding ReadyForQuery. Trust authentication only
//! (the benchmark cluster's).
//!
//! ```text
//! floor_client HOST PORT USER DBNAME CONNECTIONS THREADS ROWS SECONDS
//! ```
//! prints `TPS TRANSACTIONS`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The longest wait on the server while connecting and preparing.
const WAIT: Duration = Duration::from_secs(10);

const STATEMENT: &str = "SELECT balance FROM simple_accounts WHERE id = $1";

/// Appends a message: its tag (none for the start-up message), length and body.
fn message(out: &mut Vec<u8>, tag: Option<u8>, body: &[u8]) {
    out.extend(tag);
    out.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
    out.extend_from_slice(body);
}

/// Where ReadyForQuery ends in `buf`, if a whole one is there; a server error is an error.
fn ready_end(buf: &[u8]) -> Result<Option<usize>, Error> {
    let mut at = 0;
    while at + 5 <= buf.len() {
        let len = i32::from_be_bytes(buf[at + 1..at + 5].try_into()?);
        // a length counts its own four bytes; the server sends no message over 1 GiB
        let len = match usize::try_from(len) {
            Ok(l) if (4..=1 << 30).contains(&l) => l,
            _ => return Err(format!("a malformed message from the server (length {len})").into()),
        };
        if at + 1 + len > buf.len() {
            break;
        }
        let body = &buf[at + 5..at + 1 + len];
        match buf[at] {
            b'E' => {
                // the fields of ErrorResponse: a type byte and a string each; M is the message
                let message = body
                    .split(|b| *b == 0)
                    .find_map(|f| f.strip_prefix(b"M"))
                    .unwrap_or(body);
                return Err(format!("server error: {}", String::from_utf8_lossy(message)).into());
            }
            // AuthenticationOk is four zero bytes; anything else asks for more
            b'R' if body != [0, 0, 0, 0] => {
                return Err("the server asks for a password: the floor client needs trust".into())
            }
            b'Z' => return Ok(Some(at + 1 + len)),
            _ => {}
        }
        at += 1 + len;
    }
    Ok(None)
}

/// Sends `out` and reads up to ReadyForQuery (blocking; set-up only).
fn exchange(s: &mut TcpStream, out: &[u8]) -> Result<(), Error> {
    s.write_all(out)?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).map_err(|e| match e.kind() {
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                format!("the server did not answer within {} s", WAIT.as_secs()).into()
            }
            _ => Error::from(e),
        })?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if ready_end(&buf)?.is_some() {
            return Ok(());
        }
    }
}

/// A connection with the statement prepared as `s`, non-blocking from then on.
fn connect(host: &str, port: u16, user: &str, db: &str) -> Result<TcpStream, Error> {
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))?
        .next()
        .ok_or_else(|| format!("{host} has no address"))?;
    let mut s = TcpStream::connect_timeout(&addr, WAIT)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    // set-up waits are bounded; the measured loop ends at its deadline whatever the server does
    s.set_read_timeout(Some(WAIT))?;
    s.set_write_timeout(Some(WAIT))?;
    s.set_nodelay(true)?;
    let mut body = 196_608i32.to_be_bytes().to_vec(); // protocol 3.0
    for (k, v) in [("user", user), ("database", db)] {
        body.extend_from_slice(k.as_bytes());
        body.push(0);
        body.extend_from_slice(v.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut out = Vec::new();
    message(&mut out, None, &body);
    exchange(&mut s, &out)?;
    let mut parse = b"s\0".to_vec();
    parse.extend_from_slice(STATEMENT.as_bytes());
    parse.extend_from_slice(&[0, 0, 1, 0, 0, 0, 20]); // one parameter, int8
    out.clear();
    message(&mut out, Some(b'P'), &parse);
    message(&mut out, Some(b'S'), &[]);
    exchange(&mut s, &out)?;
    s.set_nonblocking(true)?;
    Ok(s)
}

/// One connection in the loop: its socket, its key generator and its buffers.
struct Conn {
    socket: TcpStream,
    state: u64,
    request: Vec<u8>,
    answer: Vec<u8>,
    held: usize,
}

impl Conn {
    /// Sends the next transaction's request (a uniform key in 1..=rows).
    fn send(&mut self, rows: u64) -> Result<(), Error> {
        // xorshift64: a key per transaction for a few instructions
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let key = (self.state % rows + 1) as i64;
        // the key's 8 bytes sit at a fixed place in the pre-built request
        self.request[KEY_AT..KEY_AT + 8].copy_from_slice(&key.to_be_bytes());
        let fd = self.socket.as_raw_fd();
        let sent = unsafe { libc::send(fd, self.request.as_ptr().cast(), self.request.len(), 0) };
        if sent != self.request.len() as isize {
            return Err(format!("send: {}", std::io::Error::last_os_error()).into());
        }
        Ok(())
    }

    /// Reads what arrived; true when the answer is whole.
    fn receive(&mut self) -> Result<bool, Error> {
        if self.held == self.answer.len() {
            self.answer.resize(self.answer.len() * 2, 0);
        }
        let fd = self.socket.as_raw_fd();
        let free = &mut self.answer[self.held..];
        let n = unsafe { libc::recv(fd, free.as_mut_ptr().cast(), free.len(), 0) };
        if n == 0 {
            return Err("the server closed a connection".into());
        }
        if n < 0 {
            let e = std::io::Error::last_os_error();
            return match e.kind() {
                std::io::ErrorKind::WouldBlock => Ok(false),
                _ => Err(format!("recv: {e}").into()),
            };
        }
        self.held += n as usize;
        match ready_end(&self.answer[..self.held])? {
            Some(_) => {
                self.held = 0;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// Where the key starts in the request: after Bind's tag, length, portal, name, format
/// count and code, parameter count and the value's length.
const KEY_AT: usize = 1 + 4 + 1 + 2 + 2 + 2 + 2 + 4;

/// Bind (one binary int8, binary results), Execute, Sync; the key is filled in per send.
fn request() -> Vec<u8> {
    let mut bind = vec![0, b's', 0];
    bind.extend_from_slice(&[0, 1, 0, 1, 0, 1, 0, 0, 0, 8]);
    bind.extend_from_slice(&[0; 8]);
    bind.extend_from_slice(&[0, 1, 0, 1]);
    let mut out = Vec::new();
    message(&mut out, Some(b'B'), &bind);
    message(&mut out, Some(b'E'), &[0, 0, 0, 0, 0]);
    message(&mut out, Some(b'S'), &[]);
    out
}

fn epoll_add(ep: RawFd, fd: RawFd, token: u64) -> Result<(), Error> {
    let mut ev = libc::epoll_event {
        events: (libc::EPOLLIN | libc::EPOLLET) as u32,
        u64: token,
    };
    if unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
        return Err(format!("epoll_ctl: {}", std::io::Error::last_os_error()).into());
    }
    Ok(())
}

/// Runs `conns` until `end`; returns the transactions completed.
fn run_thread(mut conns: Vec<Conn>, rows: u64, end: Instant) -> Result<u64, Error> {
    let ep = unsafe { libc::epoll_create1(0) };
    if ep < 0 {
        return Err(format!("epoll_create1: {}", std::io::Error::last_os_error()).into());
    }
    for (i, c) in conns.iter_mut().enumerate() {
        epoll_add(ep, c.socket.as_raw_fd(), i as u64)?;
        c.send(rows)?;
    }
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 1024];
    let mut done = 0u64;
    while Instant::now() < end {
        let n = unsafe { libc::epoll_wait(ep, events.as_mut_ptr(), events.len() as i32, 100) };
        for e in &events[..n.max(0) as usize] {
            let c = &mut conns[e.u64 as usize];
            if c.receive()? {
                done += 1;
                c.send(rows)?;
            }
        }
    }
    unsafe { libc::close(ep) };
    Ok(done)
}

/// `value` as the number argument `name` stands for.
fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, Error>
where
    T::Err: std::fmt::Display,
{
    value
        .parse()
        .map_err(|e| format!("{name} must be a whole number, not '{value}': {e}").into())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("floor_client: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [host, port, user, db, conns, threads, rows, secs] = &args[..] else {
        return Err(
            "usage: floor_client HOST PORT USER DBNAME CONNECTIONS THREADS ROWS SECONDS".into(),
        );
    };
    let port: u16 = number("PORT", port)?;
    let conns: usize = number("CONNECTIONS", conns)?;
    let threads: usize = number::<usize>("THREADS", threads)?.clamp(1, conns.max(1));
    let rows: u64 = number("ROWS", rows)?;
    let secs: u64 = number("SECONDS", secs)?;
    if conns == 0 || rows == 0 {
        return Err("CONNECTIONS and ROWS must be at least 1".into());
    }
    let start = Arc::new(Barrier::new(threads + 1));
    let mut handles = Vec::new();
    for t in 0..threads {
        let n = conns / threads + usize::from(t < conns % threads);
        // grown one connection at a time: an absurd CONNECTIONS ends at the first one the
        // system refuses, with its error, not in one allocation for all of them
        let mut mine = Vec::new();
        for i in 0..n {
            mine.push(Conn {
                socket: connect(host, port, user, db)?,
                state: 0x9E37_79B9_7F4A_7C15
                    ^ ((t * n + i + 1) as u64).wrapping_mul(0x2545_F491_4F6C_DD1D),
                request: request(),
                answer: vec![0; 8192],
                held: 0,
            });
        }
        let start = start.clone();
        handles.push(std::thread::spawn(move || {
            start.wait();
            run_thread(mine, rows, Instant::now() + Duration::from_secs(secs))
        }));
    }
    start.wait();
    let began = Instant::now();
    let mut total = 0;
    for h in handles {
        total += h.join().map_err(|_| "a client thread panicked")??;
    }
    let elapsed = began.elapsed().as_secs_f64();
    println!("{:.1} {total}", total as f64 / elapsed);
    Ok(())
}
