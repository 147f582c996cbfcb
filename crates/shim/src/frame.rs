//! The two output streams of a container and Docker's attach framing: for a
//! container without a tty every chunk of output is sent to attached clients
//! behind an 8-byte header `[stream, 0, 0, 0, len_be32]` (1 = stdout,
//! 2 = stderr); tty output is sent raw.

/// Which output stream of the container a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    /// Both streams, in the order the shim keeps per-stream state.
    pub const ALL: [Stream; 2] = [Stream::Stdout, Stream::Stderr];

    /// The name used in the json-file log (`"stream":"stdout"`).
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    /// The stream byte of an attach frame header.
    pub fn frame_id(self) -> u8 {
        match self {
            Stream::Stdout => 1,
            Stream::Stderr => 2,
        }
    }

    /// Index into per-stream arrays (`ALL[s.index()] == s`).
    pub fn index(self) -> usize {
        match self {
            Stream::Stdout => 0,
            Stream::Stderr => 1,
        }
    }
}

/// Length of a frame header.
pub const HEADER_LEN: usize = 8;

/// The header that precedes `len` bytes of `stream` output. Chunks are at most
/// the shim's read buffer, far below `u32::MAX`; longer lengths saturate.
pub fn header(stream: Stream, len: usize) -> [u8; HEADER_LEN] {
    let n = u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes();
    [stream.frame_id(), 0, 0, 0, n[0], n[1], n[2], n[3]]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_carry_stream_and_big_endian_length() {
        assert_eq!(header(Stream::Stdout, 4), [1, 0, 0, 0, 0, 0, 0, 4]);
        assert_eq!(
            header(Stream::Stderr, 0x0102_0304),
            [2, 0, 0, 0, 1, 2, 3, 4]
        );
        assert_eq!(
            header(Stream::Stdout, 32 * 1024),
            [1, 0, 0, 0, 0, 0, 0x80, 0]
        );
    }

    #[test]
    fn stream_names_and_indices() {
        for (i, s) in Stream::ALL.iter().enumerate() {
            assert_eq!(s.index(), i);
        }
        assert_eq!(Stream::Stderr.name(), "stderr");
    }
}
