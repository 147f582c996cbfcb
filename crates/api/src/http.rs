//! HTTP plumbing shared by the handlers: query parsing, JSON and error
//! responses, streaming bodies fed from channels, and bridges between async
//! bodies and the blocking readers/writers of the image store.

use berth_daemon::{Error, Kind};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming};
use hyper::{Response, StatusCode};
use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// A response body: a full buffer or chunks arriving on a channel.
pub enum ApiBody {
    Full(Option<Bytes>),
    Stream(mpsc::Receiver<Vec<u8>>),
}

impl Body for ApiBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            ApiBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            ApiBody::Stream(rx) => rx
                .poll_recv(cx)
                .map(|o| o.map(|v| Ok(Frame::data(Bytes::from(v))))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ApiBody::Full(None))
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        match self {
            ApiBody::Full(b) => {
                hyper::body::SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64))
            }
            ApiBody::Stream(_) => hyper::body::SizeHint::default(),
        }
    }
}

pub type Resp = Response<ApiBody>;

fn with_headers(status: StatusCode, content_type: &str, body: ApiBody) -> Resp {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        "Content-Type",
        content_type.parse().expect("static header value"),
    );
    h.insert(
        "Api-Version",
        berth_daemon::system::API_VERSION
            .parse()
            .expect("static header value"),
    );
    h.insert(
        "Docker-Experimental",
        "false".parse().expect("static header value"),
    );
    h.insert("Ostype", "linux".parse().expect("static header value"));
    h.insert(
        "Server",
        format!("berth/{} (linux)", berth_daemon::system::VERSION)
            .parse()
            .expect("static header value"),
    );
    r
}

pub fn bytes(status: StatusCode, content_type: &str, data: impl Into<Bytes>) -> Resp {
    with_headers(status, content_type, ApiBody::Full(Some(data.into())))
}

pub fn json(status: StatusCode, value: &serde_json::Value) -> Resp {
    let mut body = serde_json::to_vec(value).unwrap_or_default();
    body.push(b'\n');
    bytes(status, "application/json", body)
}

pub fn empty(status: StatusCode) -> Resp {
    with_headers(status, "text/plain; charset=utf-8", ApiBody::Full(None))
}

pub fn stream(content_type: &str, rx: mpsc::Receiver<Vec<u8>>) -> Resp {
    with_headers(StatusCode::OK, content_type, ApiBody::Stream(rx))
}

pub fn error(e: &Error) -> Resp {
    let status = match e.kind {
        Kind::InvalidArgument => StatusCode::BAD_REQUEST,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Conflict => StatusCode::CONFLICT,
        Kind::NotModified => return empty(StatusCode::NOT_MODIFIED),
        Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    };
    json(status, &serde_json::json!({ "message": e.message }))
}

/// Query parameters; repeated keys keep every value.
#[derive(Debug, Default)]
pub struct Query(HashMap<String, Vec<String>>);

impl Query {
    pub fn parse(q: Option<&str>) -> Query {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for pair in q.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            map.entry(decode(k)).or_default().push(decode(v));
        }
        Query(map)
    }
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).and_then(|v| v.first()).map(String::as_str)
    }
    pub fn all(&self, k: &str) -> &[String] {
        self.0.get(k).map(Vec::as_slice).unwrap_or(&[])
    }
    pub fn str(&self, k: &str) -> &str {
        self.get(k).unwrap_or("")
    }
    /// Docker's boolean query values: `1`, `true`, `True` are true; absent is `default`.
    pub fn flag(&self, k: &str, default: bool) -> bool {
        match self.get(k) {
            None => default,
            Some(v) => !matches!(v, "" | "0" | "false" | "False" | "FALSE"),
        }
    }
    pub fn int(&self, k: &str) -> Result<Option<i64>, Error> {
        match self.get(k) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| Error::invalid(format!("invalid value for {k}: {v:?}"))),
        }
    }
}

/// Percent-decoding of form-urlencoded text.
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Reads a whole JSON request body (an empty body is `null`).
pub async fn read_json(body: Incoming) -> Result<serde_json::Value, Error> {
    let bytes = body
        .collect()
        .await
        .map_err(|e| Error::invalid(format!("failed to read request body: {e}")))?
        .to_bytes();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_slice(&bytes).map_err(|e| Error::invalid(format!("invalid JSON: {e}")))
}

/// A blocking `Read` over a request body that an async task feeds.
pub struct BodyReader {
    rx: mpsc::Receiver<Bytes>,
    cur: Bytes,
}

impl std::io::Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                Some(b) => self.cur = b,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        self.cur = self.cur.slice(n..);
        Ok(n)
    }
}

/// Starts pumping `body` into a `BodyReader` for use in `spawn_blocking`.
pub fn body_reader(mut body: Incoming) -> BodyReader {
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(async move {
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { break };
            if let Ok(data) = frame.into_data() {
                if tx.send(data).await.is_err() {
                    break;
                }
            }
        }
    });
    BodyReader {
        rx,
        cur: Bytes::new(),
    }
}

/// A blocking `Write` whose bytes become a streaming response body.
pub struct ChannelWriter(pub mpsc::Sender<Vec<u8>>);

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(buf.to_vec())
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_queries() {
        let q = Query::parse(Some(
            "all=1&filters=%7B%22a%22%3A1%7D&changes=CMD+x&changes=ENV+a%3Db&t=5",
        ));
        assert!(q.flag("all", false));
        assert_eq!(q.str("filters"), "{\"a\":1}");
        assert_eq!(q.all("changes"), ["CMD x", "ENV a=b"]);
        assert_eq!(q.int("t").unwrap(), Some(5));
        assert!(!q.flag("nope", false));
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
    }
}
