//! Compression sniffing: archives and layers arrive plain or gzip'd; the
//! magic bytes decide, never the file name. zstd is recognised and refused.

use crate::error::Error;
use std::io::{BufRead, BufReader, Read};

/// Compression of a stream, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// Name stored in layer records.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    pub fn from_name(s: &str) -> Compression {
        match s {
            "gzip" => Compression::Gzip,
            "zstd" => Compression::Zstd,
            _ => Compression::None,
        }
    }
}

/// `r` decompressed according to its magic bytes.
pub fn decompressed<'a, R: Read + 'a>(r: R) -> Result<Box<dyn Read + 'a>, Error> {
    let mut br = BufReader::with_capacity(64 * 1024, r);
    let head = br.fill_buf().map_err(|e| Error::Io {
        context: "read stream header".into(),
        source: e,
    })?;
    match Compression::sniff(head) {
        Compression::None => Ok(Box::new(br)),
        Compression::Gzip => Ok(Box::new(flate2::bufread::MultiGzDecoder::new(br))),
        Compression::Zstd => Err(Error::invalid("zstd-compressed content is not supported")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn sniffs_gzip_and_plain() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"hello").unwrap();
        let gz = gz.finish().unwrap();
        let mut out = String::new();
        decompressed(&gz[..])
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "hello");
        out.clear();
        decompressed(&b"plain"[..])
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "plain");
        assert!(decompressed(&[0x28, 0xb5, 0x2f, 0xfd, 0][..]).is_err());
    }
}
