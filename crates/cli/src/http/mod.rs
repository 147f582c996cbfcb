//! A small blocking HTTP/1.1 client for the daemon socket, written by hand to
//! keep `berth` quick to start and small: one connection per request,
//! Content-Length and chunked bodies both ways, bodies read as streams (for
//! `logs -f`, `wait`, JSON message streams), and the `Upgrade: tcp` hijack
//! that turns the connection into a raw bidirectional stream (attach).

pub mod conn;

use conn::{Endpoint, Stream};
use std::io::{self, BufRead, BufReader, Read, Write};

/// Errors of talking HTTP.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("connect: {0}")]
    Connect(io::Error),
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("malformed HTTP response: {0}")]
    Protocol(String),
}

/// A request body.
pub enum Body<'a> {
    Empty,
    Bytes(Vec<u8>),
    /// Sent with chunked transfer encoding as it is read.
    Stream(&'a mut dyn Read),
}

/// A request to send.
pub struct Request<'a> {
    pub method: String,
    /// Path with query string.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Body<'a>,
}

impl<'a> Request<'a> {
    pub fn new(method: &str, path: String) -> Self {
        Request {
            method: method.to_string(),
            path,
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }

    pub fn body(mut self, body: Body<'a>) -> Self {
        self.body = body;
        self
    }
}

enum BodyState {
    Length(u64),
    /// Remaining bytes of the current chunk; `None` before the first size line.
    Chunked(Option<u64>),
    Eof,
    Done,
}

/// A response whose body is read through `Read`.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    reader: BufReader<Stream>,
    state: BodyState,
}

impl Response {
    /// First value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Reads the whole body.
    pub fn read_body(&mut self) -> Result<Vec<u8>, HttpError> {
        let mut v = Vec::new();
        self.read_to_end(&mut v)?;
        Ok(v)
    }

    /// Gives up the connection after the headers (for hijacked streams).
    pub fn into_stream(self) -> BufReader<Stream> {
        self.reader
    }

    fn read_chunk_size(&mut self) -> io::Result<u64> {
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let hex = line.trim().split(';').next().unwrap_or("");
        if hex.is_empty() && line.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "unexpected EOF in chunked body",
            ));
        }
        u64::from_str_radix(hex, 16)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad chunk size"))
    }
}

impl Read for Response {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match self.state {
                BodyState::Done => return Ok(0),
                BodyState::Eof => return self.reader.read(buf),
                BodyState::Length(0) => {
                    self.state = BodyState::Done;
                    return Ok(0);
                }
                BodyState::Length(n) => {
                    let want = buf.len().min(n as usize);
                    let got = self.reader.read(&mut buf[..want])?;
                    if got == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "unexpected EOF in body",
                        ));
                    }
                    self.state = BodyState::Length(n - got as u64);
                    return Ok(got);
                }
                BodyState::Chunked(None) => {
                    let size = self.read_chunk_size()?;
                    if size == 0 {
                        // Trailers until an empty line.
                        loop {
                            let mut l = String::new();
                            if self.reader.read_line(&mut l)? == 0 || l.trim().is_empty() {
                                break;
                            }
                        }
                        self.state = BodyState::Done;
                        return Ok(0);
                    }
                    self.state = BodyState::Chunked(Some(size));
                }
                BodyState::Chunked(Some(0)) => {
                    let mut crlf = String::new();
                    self.reader.read_line(&mut crlf)?;
                    self.state = BodyState::Chunked(None);
                }
                BodyState::Chunked(Some(n)) => {
                    let want = buf.len().min(n as usize);
                    let got = self.reader.read(&mut buf[..want])?;
                    if got == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "unexpected EOF in chunk",
                        ));
                    }
                    self.state = BodyState::Chunked(Some(n - got as u64));
                    return Ok(got);
                }
            }
        }
    }
}

fn write_head(w: &mut impl Write, ep: &Endpoint, req: &Request<'_>) -> io::Result<()> {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: berth-cli/{}\r\n",
        req.method,
        req.path,
        ep.host_header(),
        env!("CARGO_PKG_VERSION")
    );
    for (k, v) in &req.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    match &req.body {
        Body::Empty if matches!(req.method.as_str(), "POST" | "PUT") => {
            head.push_str("Content-Length: 0\r\n")
        }
        Body::Empty => {}
        Body::Bytes(b) => head.push_str(&format!("Content-Length: {}\r\n", b.len())),
        Body::Stream(_) => head.push_str("Transfer-Encoding: chunked\r\n"),
    }
    head.push_str("\r\n");
    w.write_all(head.as_bytes())
}

fn write_body(w: &mut impl Write, body: &mut Body<'_>) -> io::Result<()> {
    match body {
        Body::Empty => Ok(()),
        Body::Bytes(b) => w.write_all(b),
        Body::Stream(r) => {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match r.read(&mut buf) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                if n == 0 {
                    break;
                }
                w.write_all(format!("{n:x}\r\n").as_bytes())?;
                w.write_all(&buf[..n])?;
                w.write_all(b"\r\n")?;
            }
            w.write_all(b"0\r\n\r\n")
        }
    }
}

fn read_head(reader: &mut BufReader<Stream>) -> Result<(u16, Vec<(String, String)>), HttpError> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(HttpError::Protocol(
            "connection closed before response".into(),
        ));
    }
    let mut parts = line.split_whitespace();
    let status = match (parts.next(), parts.next()) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") => code
            .parse::<u16>()
            .map_err(|_| HttpError::Protocol(line.trim().to_string()))?,
        _ => return Err(HttpError::Protocol(line.trim().to_string())),
    };
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 {
            return Err(HttpError::Protocol("unexpected EOF in headers".into()));
        }
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    Ok((status, headers))
}

/// A request whose bytes are on the wire and whose response is still to be read.
pub struct Pending {
    reader: BufReader<Stream>,
    method: String,
    write_error: Option<io::Error>,
}

/// Writes the whole request; the response is read by [`Pending::response`].
pub fn start(ep: &Endpoint, mut req: Request<'_>) -> Result<Pending, HttpError> {
    let stream = ep.connect().map_err(HttpError::Connect)?;
    let mut w = io::BufWriter::new(stream.try_clone()?);
    write_head(&mut w, ep, &req)?;
    // The daemon may answer (an error) before reading a streamed body; keep
    // going to read that answer.
    let write_error = write_body(&mut w, &mut req.body)
        .and_then(|_| w.flush())
        .err();
    Ok(Pending {
        reader: BufReader::new(stream),
        method: req.method,
        write_error,
    })
}

impl Pending {
    /// Reads the status line and headers.
    pub fn response(self) -> Result<Response, HttpError> {
        let mut reader = self.reader;
        let (status, headers) = match (read_head(&mut reader), self.write_error) {
            (Ok(h), _) => h,
            (Err(_), Some(e)) => return Err(HttpError::Io(e)),
            (Err(e), None) => return Err(e),
        };
        let find = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.to_ascii_lowercase())
        };
        let state = if self.method == "HEAD"
            || status == 204
            || status == 304
            || (100..200).contains(&status)
        {
            BodyState::Done
        } else if find("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            BodyState::Chunked(None)
        } else if let Some(n) = find("content-length").and_then(|v| v.parse::<u64>().ok()) {
            BodyState::Length(n)
        } else {
            BodyState::Eof
        };
        Ok(Response {
            status,
            headers,
            reader,
            state,
        })
    }
}

fn exchange(ep: &Endpoint, req: Request<'_>) -> Result<Response, HttpError> {
    start(ep, req)?.response()
}

/// Sends a request and returns the response with its body unread.
pub fn send(ep: &Endpoint, req: Request<'_>) -> Result<Response, HttpError> {
    exchange(ep, req)
}

/// A hijacked connection: read with `reader`, write with `writer`, and
/// `writer.shutdown_write()` to signal end of input.
pub struct Hijacked {
    pub reader: BufReader<Stream>,
    pub writer: Stream,
}

/// Sends `req` asking to upgrade to a raw stream. On `101` (or `200` from old
/// daemons) returns the stream; otherwise the response, for its error.
pub fn hijack(ep: &Endpoint, req: Request<'_>) -> Result<Result<Hijacked, Response>, HttpError> {
    let req = req.header("Connection", "Upgrade").header("Upgrade", "tcp");
    let resp = exchange(ep, req)?;
    if resp.status != 101 && resp.status != 200 {
        return Ok(Err(resp));
    }
    let reader = resp.into_stream();
    let writer = reader.get_ref().try_clone()?;
    Ok(Ok(Hijacked { reader, writer }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    fn serve(reply: &'static [u8]) -> (Endpoint, std::thread::JoinHandle<Vec<u8>>, tempdir::Dir) {
        let dir = tempdir::Dir::new();
        let path = dir.0.join("s.sock");
        let l = UnixListener::bind(&path).unwrap();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            // Read the request head (and a small body).
            loop {
                let n = s.read(&mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
                if n == 0
                    || got.windows(4).any(|w| w == b"\r\n\r\n")
                        && (got.ends_with(b"0\r\n\r\n") || !got.starts_with(b"POST /chunk"))
                {
                    break;
                }
            }
            s.write_all(reply).unwrap();
            got
        });
        (Endpoint::Unix(path), h, dir)
    }

    mod tempdir {
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                let p = std::env::temp_dir().join(format!(
                    "berth-cli-test-{}-{}",
                    std::process::id(),
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_nanos()
                ));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn reads_content_length_body() {
        let (ep, h, _d) =
            serve(b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK");
        let mut r = send(&ep, Request::new("GET", "/_ping".into())).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("API-Version"), Some("1.41"));
        assert_eq!(r.read_body().unwrap(), b"OK");
        let req = String::from_utf8(h.join().unwrap()).unwrap();
        assert!(req.starts_with("GET /_ping HTTP/1.1\r\nHost: api.moby.localhost\r\n"));
    }

    #[test]
    fn reads_chunked_body_and_sends_chunked() {
        let (ep, h, _d) =
            serve(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n");
        let mut src: &[u8] = b"hello";
        let mut r = send(
            &ep,
            Request::new("POST", "/chunk".into()).body(Body::Stream(&mut src)),
        )
        .unwrap();
        assert_eq!(r.read_body().unwrap(), b"abcde");
        let req = String::from_utf8(h.join().unwrap()).unwrap();
        assert!(req.contains("Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
    }

    #[test]
    fn hijack_returns_raw_stream() {
        let (ep, h, _d) =
            serve(b"HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nraw bytes");
        let Ok(mut hj) = hijack(&ep, Request::new("POST", "/attach".into())).unwrap() else {
            panic!()
        };
        let mut s = String::new();
        hj.reader.read_to_string(&mut s).unwrap();
        assert_eq!(s, "raw bytes");
        let req = String::from_utf8(h.join().unwrap()).unwrap();
        assert!(req.contains("Upgrade: tcp\r\n"));
    }
}
