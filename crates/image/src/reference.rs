//! Image references as Docker normalises them: `busybox` is
//! `docker.io/library/busybox`, `localhost:5000/x:1` keeps its registry,
//! repositories must be lowercase, tags and `@sha256:` digests are optional.
//! [`Reference::familiar`] gives the short form Docker prints.

use std::fmt;

/// The registry one-word and two-word names belong to.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// The tag a name without tag or digest means.
pub const DEFAULT_TAG: &str = "latest";
const MAX_NAME_LEN: usize = 255;

/// Why a reference did not parse (texts are Docker's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("invalid reference format")]
    Format,
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    Uppercase(String),
    #[error("invalid reference format: repository name must not be more than 255 characters")]
    TooLong,
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    Hex64(String),
    #[error("repository name must have at least one component")]
    Empty,
}

/// A normalised reference: registry domain, repository path, optional tag and digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Reference {
    /// Parses and normalises `s` (Docker's `ParseNormalizedNamed`); no default tag is added.
    pub fn parse(s: &str) -> Result<Reference, ParseError> {
        if s.is_empty() {
            return Err(ParseError::Empty);
        }
        if crate::digest::is_hex64(s) {
            return Err(ParseError::Hex64(s.to_string()));
        }
        let (domain, remainder) = split_domain(s);
        let remote = remainder.split(':').next().unwrap_or("");
        let remote = remote.split('@').next().unwrap_or("");
        if remote.to_lowercase() != remote {
            return Err(ParseError::Uppercase(remote.to_string()));
        }
        let (rest, digest) = match remainder.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (remainder.as_str(), None),
        };
        let (path, tag) = match rest.rfind(':') {
            Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        if !valid_domain(&domain) || !valid_path(path) {
            return Err(ParseError::Format);
        }
        if domain.len() + 1 + path.len() > MAX_NAME_LEN {
            return Err(ParseError::TooLong);
        }
        if let Some(t) = tag {
            if !valid_tag(t) {
                return Err(ParseError::Format);
            }
        }
        if let Some(d) = digest {
            if crate::digest::hex_of(d).is_none() {
                return Err(ParseError::Format);
            }
        }
        Ok(Reference {
            domain,
            path: path.to_string(),
            tag: tag.map(str::to_string),
            digest: digest.map(str::to_string),
        })
    }

    /// Parses `s` and adds the `latest` tag when it has neither tag nor digest.
    pub fn parse_with_default_tag(s: &str) -> Result<Reference, ParseError> {
        Ok(Reference::parse(s)?.with_default_tag())
    }

    /// This reference with the `latest` tag when it has neither tag nor digest.
    pub fn with_default_tag(mut self) -> Reference {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some(DEFAULT_TAG.to_string());
        }
        self
    }

    /// This reference with `tag` instead of its tag and without digest.
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        }
    }

    /// This reference with `digest` instead of its tag and digest.
    pub fn with_digest(&self, digest: &str) -> Reference {
        Reference {
            tag: None,
            digest: Some(digest.to_string()),
            ..self.clone()
        }
    }

    /// Registry domain (`docker.io`, `localhost:5000`).
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Repository path inside the registry (`library/busybox`).
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// True when there is neither tag nor digest.
    pub fn is_name_only(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }

    /// Full repository name: `docker.io/library/busybox`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// Short repository name as Docker prints it: `busybox`, `user/app`, `localhost:5000/x`.
    pub fn familiar_name(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            match self.path.strip_prefix("library/") {
                Some(rest) if !rest.contains('/') => rest.to_string(),
                _ => self.path.clone(),
            }
        } else {
            self.name()
        }
    }

    /// Short form with tag and digest: `busybox:latest`, `localhost:5000/x@sha256:…`.
    pub fn familiar(&self) -> String {
        self.decorate(self.familiar_name())
    }

    fn decorate(&self, mut s: String) -> String {
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.decorate(self.name()))
    }
}

/// Docker's `splitDockerDomain`: the first component is a registry when it
/// has a `.` or `:`, is `localhost`, or has uppercase letters.
fn split_domain(s: &str) -> (String, String) {
    let (mut domain, mut rest) = match s.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.to_lowercase() != first =>
        {
            (first.to_string(), rest.to_string())
        }
        _ => (DEFAULT_DOMAIN.to_string(), s.to_string()),
    };
    if domain == "index.docker.io" {
        domain = DEFAULT_DOMAIN.to_string();
    }
    if domain == DEFAULT_DOMAIN && !rest.contains('/') {
        rest = format!("library/{rest}");
    }
    (domain, rest)
}

fn valid_domain(d: &str) -> bool {
    let (host, port) = match d.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (d, None),
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
    }
    !host.is_empty()
        && host.split('.').all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
        })
}

/// Path components: `[a-z0-9]+` joined by `.`, `_`, `__` or runs of `-`.
fn valid_path(p: &str) -> bool {
    !p.is_empty() && p.split('/').all(valid_component)
}

fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b.iter().all(|x| word(*x) || *x == b'.' || *x == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:4b8765de035b3c7e2d851d3d2de0324027e94fcf780919eafb2c466e2553408b";

    #[test]
    fn normalises_and_prints_familiar_forms() {
        let cases: &[(&str, &str, &str)] = &[
            ("busybox", "docker.io/library/busybox", "busybox"),
            (
                "busybox:latest",
                "docker.io/library/busybox:latest",
                "busybox:latest",
            ),
            (
                "docker.io/library/busybox:1.36",
                "docker.io/library/busybox:1.36",
                "busybox:1.36",
            ),
            (
                "index.docker.io/library/busybox",
                "docker.io/library/busybox",
                "busybox",
            ),
            ("user/app:v1", "docker.io/user/app:v1", "user/app:v1"),
            (
                "localhost:5000/x:1",
                "localhost:5000/x:1",
                "localhost:5000/x:1",
            ),
            ("localhost/x", "localhost/x", "localhost/x"),
            (
                "quay.io/a/b/c:t-1.2_3",
                "quay.io/a/b/c:t-1.2_3",
                "quay.io/a/b/c:t-1.2_3",
            ),
            (
                "a.b-c__d---e",
                "docker.io/library/a.b-c__d---e",
                "a.b-c__d---e",
            ),
            ("[::1]:5000/x", "[::1]:5000/x", "[::1]:5000/x"),
        ];
        for (input, full, familiar) in cases {
            let r = Reference::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(r.to_string(), *full, "{input}");
            assert_eq!(r.familiar(), *familiar, "{input}");
        }
        let r = Reference::parse(&format!("busybox@{D}")).unwrap();
        assert_eq!(r.digest(), Some(D));
        assert_eq!(r.tag(), None);
        assert_eq!(r.familiar(), format!("busybox@{D}"));
        let r = Reference::parse_with_default_tag("localhost:5000/x").unwrap();
        assert_eq!(r.familiar(), "localhost:5000/x:latest");
        assert_eq!(r.familiar_name(), "localhost:5000/x");
        assert_eq!(r.name(), "localhost:5000/x");
    }

    #[test]
    fn rejects_what_docker_rejects() {
        let fmt = ParseError::Format;
        let cases: Vec<(&str, ParseError)> = vec![
            ("", ParseError::Empty),
            ("Busybox", ParseError::Uppercase("library/Busybox".into())),
            ("user/App:1", ParseError::Uppercase("user/App".into())),
            ("busybox:", fmt.clone()),
            ("busybox::1", fmt.clone()),
            ("-busybox", fmt.clone()),
            ("busybox-", fmt.clone()),
            ("a..b", fmt.clone()),
            ("a___b", fmt.clone()),
            ("a//b", fmt.clone()),
            ("busybox:-tag", fmt.clone()),
            ("busybox@sha256:abc", fmt.clone()),
            ("localhost:port/x", fmt.clone()),
            ("busybox:has space", fmt.clone()),
            (
                "4b8765de035b3c7e2d851d3d2de0324027e94fcf780919eafb2c466e2553408b",
                ParseError::Hex64(
                    "4b8765de035b3c7e2d851d3d2de0324027e94fcf780919eafb2c466e2553408b".into(),
                ),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(Reference::parse(input), Err(want), "{input:?}");
        }
        let long = "a".repeat(300);
        assert_eq!(Reference::parse(&long), Err(ParseError::TooLong));
        assert_eq!(
            ParseError::Uppercase("library/Busybox".into()).to_string(),
            "invalid reference format: repository name (library/Busybox) must be lowercase"
        );
    }
}
