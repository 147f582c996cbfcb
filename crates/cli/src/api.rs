//! The Engine API as the CLI uses it: picks the daemon address (`-H`,
//! `BERTH_HOST`, `DOCKER_HOST`, default socket), negotiates the API version
//! through `/_ping` (the lower of ours and the daemon's), prefixes paths with
//! `/vX.YY`, and turns error responses into docker's
//! `Error response from daemon: …`.

use crate::http::conn::Endpoint;
use crate::http::{self, Body, HttpError, Request, Response};
use std::cell::OnceCell;

/// The newest API version this client speaks.
pub const CLIENT_API_VERSION: &str = "1.50";

/// The default daemon address.
pub const DEFAULT_HOST: &str = "unix:///run/berth/berth.sock";

/// Errors of an API call.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Cannot connect to the berth daemon at {0}. Is the daemon running?")]
    Connect(String),
    #[error("Error response from daemon: {message}")]
    Daemon { status: u16, message: String },
    #[error("error during connect: {0}")]
    Http(#[from] HttpError),
    #[error("{0}")]
    Decode(String),
}

impl ApiError {
    /// The HTTP status of a daemon error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Daemon { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The daemon's message without the prefix.
    pub fn daemon_message(&self) -> Option<&str> {
        match self {
            ApiError::Daemon { message, .. } => Some(message),
            _ => None,
        }
    }
}

/// A client bound to one daemon.
#[derive(Clone)]
pub struct Client {
    pub host: String,
    endpoint: Endpoint,
    version: OnceCell<String>,
}

/// Compares `1.41`-style versions.
pub fn version_less(a: &str, b: &str) -> bool {
    let parse = |s: &str| -> Vec<u32> { s.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parse(a) < parse(b)
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Client {
    /// Chooses the daemon from `-H`, then `BERTH_HOST`, then `DOCKER_HOST`.
    pub fn from_env(host_flag: Option<&str>) -> Result<Client, ApiError> {
        let host = host_flag
            .map(String::from)
            .or_else(|| std::env::var("BERTH_HOST").ok().filter(|s| !s.is_empty()))
            .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| DEFAULT_HOST.to_string());
        let endpoint = Endpoint::parse(&host).map_err(|e| ApiError::Decode(e.to_string()))?;
        Ok(Client {
            host,
            endpoint,
            version: OnceCell::new(),
        })
    }

    fn map_http(&self, e: HttpError) -> ApiError {
        match e {
            HttpError::Connect(_) => ApiError::Connect(self.host.clone()),
            other => ApiError::Http(other),
        }
    }

    /// The negotiated API version.
    pub fn version(&self) -> Result<&str, ApiError> {
        if let Some(v) = self.version.get() {
            return Ok(v);
        }
        let mut resp = http::send(&self.endpoint, Request::new("GET", "/_ping".into()))
            .map_err(|e| self.map_http(e))?;
        let server = resp.header("API-Version").map(String::from);
        let _ = resp.read_body();
        let v = match server {
            Some(s) if version_less(&s, CLIENT_API_VERSION) => s,
            Some(_) => CLIENT_API_VERSION.to_string(),
            None if resp.status >= 400 => return Err(ApiError::Connect(self.host.clone())),
            None => "1.24".to_string(),
        };
        Ok(self.version.get_or_init(|| v))
    }

    /// Whether the negotiated version is at least `v`.
    pub fn at_least(&self, v: &str) -> bool {
        self.version()
            .map(|have| !version_less(have, v))
            .unwrap_or(false)
    }

    /// Sends a request; daemon errors (status ≥ 400) become [`ApiError::Daemon`].
    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Body<'_>,
        headers: &[(&str, &str)],
    ) -> Result<Response, ApiError> {
        let full = format!("/v{}{path}", self.version()?);
        let mut req = Request::new(method, full).body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let resp = http::send(&self.endpoint, req).map_err(|e| self.map_http(e))?;
        check(resp)
    }

    /// Sends a request now and reads its response later (for `wait`, which
    /// must be registered before `start`).
    pub fn request_deferred(&self, method: &str, path: &str) -> Result<Deferred, ApiError> {
        let full = format!("/v{}{path}", self.version()?);
        let pending = http::start(&self.endpoint, Request::new(method, full))
            .map_err(|e| self.map_http(e))?;
        Ok(Deferred { pending })
    }

    /// GET returning JSON.
    pub fn get_json(&self, path: &str) -> Result<serde_json::Value, ApiError> {
        let mut r = self.request("GET", path, Body::Empty, &[])?;
        decode(&r.read_body()?)
    }

    /// GET returning the raw body.
    pub fn get_raw(&self, path: &str) -> Result<Vec<u8>, ApiError> {
        let mut r = self.request("GET", path, Body::Empty, &[])?;
        Ok(r.read_body()?)
    }

    /// POST without a body, returning the raw body.
    pub fn post(&self, path: &str) -> Result<Vec<u8>, ApiError> {
        let mut r = self.request("POST", path, Body::Empty, &[])?;
        Ok(r.read_body()?)
    }

    /// POST a JSON body, returning JSON (or `null` for an empty body).
    pub fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<serde_json::Value, ApiError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ApiError::Decode(e.to_string()))?;
        let mut r = self.request(
            "POST",
            path,
            Body::Bytes(bytes),
            &[("Content-Type", "application/json")],
        )?;
        let b = r.read_body()?;
        if b.iter().all(|c| c.is_ascii_whitespace()) {
            return Ok(serde_json::Value::Null);
        }
        decode(&b)
    }

    /// DELETE returning the raw body.
    pub fn delete(&self, path: &str) -> Result<Vec<u8>, ApiError> {
        let mut r = self.request("DELETE", path, Body::Empty, &[])?;
        Ok(r.read_body()?)
    }

    /// Starts a hijacked (attach) request.
    pub fn hijack(&self, path: &str) -> Result<http::Hijacked, ApiError> {
        let full = format!("/v{}{path}", self.version()?);
        let req = Request::new("POST", full).header("Content-Type", "text/plain");
        match http::hijack(&self.endpoint, req).map_err(|e| self.map_http(e))? {
            Ok(h) => Ok(h),
            Err(resp) => match check(resp) {
                Err(e) => Err(e),
                Ok(r) => Err(ApiError::Decode(format!(
                    "unexpected status {} for attach",
                    r.status
                ))),
            },
        }
    }
}

/// A request sent with [`Client::request_deferred`].
pub struct Deferred {
    pending: http::Pending,
}

impl Deferred {
    /// Waits for the response; error statuses become [`ApiError::Daemon`].
    pub fn response(self) -> Result<Response, ApiError> {
        check(self.pending.response()?)
    }

    /// Waits for the response and decodes its JSON body.
    pub fn json(self) -> Result<serde_json::Value, ApiError> {
        let mut r = self.response()?;
        decode(&r.read_body()?)
    }
}

fn decode(b: &[u8]) -> Result<serde_json::Value, ApiError> {
    serde_json::from_slice(b)
        .map_err(|e| ApiError::Decode(format!("error decoding daemon response: {e}")))
}

/// Turns an error status into [`ApiError::Daemon`] with the daemon's message.
fn check(mut resp: Response) -> Result<Response, ApiError> {
    if resp.status < 400 {
        return Ok(resp);
    }
    let status = resp.status;
    let body = resp.read_body().unwrap_or_default();
    let message = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(v) if v["message"].is_string() => v["message"].as_str().unwrap_or("").to_string(),
        _ => {
            let text = String::from_utf8_lossy(&body).trim().to_string();
            if text.is_empty() {
                format!("{} {}", status, reason(status))
            } else {
                text
            }
        }
    };
    Err(ApiError::Daemon { status, message })
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        404 => "Not Found",
        409 => "Conflict",
        500 => "Internal Server Error",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_encoding() {
        assert!(version_less("1.41", "1.50"));
        assert!(!version_less("1.50", "1.50"));
        assert!(version_less("1.9", "1.10"));
        assert_eq!(enc("a b/c:d"), "a%20b%2Fc%3Ad");
    }
}
