//! Where the daemon listens (`unix:///path`, `tcp://host:port`) and the byte
//! stream to it, with half-close for hijacked connections.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

/// A daemon address.
#[derive(Debug, Clone, PartialEq)]
pub enum Endpoint {
    Unix(PathBuf),
    Tcp(String),
}

/// Errors of parsing a `-H` value.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error("invalid bind address format: {0}")]
    Invalid(String),
    #[error("unsupported protocol: '{0}'")]
    Protocol(String),
}

impl Endpoint {
    /// Parses docker's host forms: `unix:///p`, `tcp://h:p`, `http://h:p`, a bare path.
    pub fn parse(host: &str) -> Result<Endpoint, EndpointError> {
        if let Some(p) = host.strip_prefix("unix://") {
            if p.is_empty() {
                return Err(EndpointError::Invalid(host.to_string()));
            }
            return Ok(Endpoint::Unix(PathBuf::from(p)));
        }
        if let Some(a) = host
            .strip_prefix("tcp://")
            .or_else(|| host.strip_prefix("http://"))
        {
            let a = a.trim_end_matches('/');
            if a.is_empty() {
                return Err(EndpointError::Invalid(host.to_string()));
            }
            let a = if a
                .rsplit_once(':')
                .is_some_and(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty())
                && !a.ends_with(']')
            {
                a.to_string()
            } else {
                format!("{a}:2375")
            };
            return Ok(Endpoint::Tcp(a));
        }
        if host.starts_with('/') {
            return Ok(Endpoint::Unix(PathBuf::from(host)));
        }
        match host.split_once("://") {
            Some((proto, _)) => Err(EndpointError::Protocol(proto.to_string())),
            None => Err(EndpointError::Invalid(host.to_string())),
        }
    }

    /// Opens a connection.
    pub fn connect(&self) -> io::Result<Stream> {
        match self {
            Endpoint::Unix(p) => UnixStream::connect(p).map(Stream::Unix),
            Endpoint::Tcp(a) => {
                let s = TcpStream::connect(a)?;
                let _ = s.set_nodelay(true);
                Ok(Stream::Tcp(s))
            }
        }
    }

    /// The `Host` header value.
    pub fn host_header(&self) -> &str {
        match self {
            Endpoint::Unix(_) => "api.moby.localhost",
            Endpoint::Tcp(a) => a,
        }
    }
}

/// A connected stream.
#[derive(Debug)]
pub enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    /// Closes our sending side; the peer sees EOF.
    pub fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.shutdown(Shutdown::Write),
            Stream::Tcp(s) => s.shutdown(Shutdown::Write),
        }
    }

    /// Closes both directions (ends a session on detach).
    pub fn shutdown_all(&self) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.shutdown(Shutdown::Both),
            Stream::Tcp(s) => s.shutdown(Shutdown::Both),
        }
    }

    /// A second handle to the same socket (for a writer thread).
    pub fn try_clone(&self) -> io::Result<Stream> {
        match self {
            Stream::Unix(s) => s.try_clone().map(Stream::Unix),
            Stream::Tcp(s) => s.try_clone().map(Stream::Tcp),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.flush(),
            Stream::Tcp(s) => s.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts() {
        assert_eq!(
            Endpoint::parse("unix:///var/run/docker.sock").unwrap(),
            Endpoint::Unix("/var/run/docker.sock".into())
        );
        assert_eq!(
            Endpoint::parse("tcp://127.0.0.1:2376").unwrap(),
            Endpoint::Tcp("127.0.0.1:2376".into())
        );
        assert_eq!(
            Endpoint::parse("tcp://example").unwrap(),
            Endpoint::Tcp("example:2375".into())
        );
        assert!(Endpoint::parse("ssh://x").is_err());
        assert!(Endpoint::parse("unix://").is_err());
    }
}
