//! Random identifiers (container IDs, exec IDs, temp names) from the kernel's CSPRNG.

/// `n` random bytes as lowercase hex (`2 * n` characters).
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    let mut filled = 0;
    while filled < n {
        // SAFETY: the pointer and length describe the unfilled tail of `buf`.
        let r = unsafe { libc::getrandom(buf[filled..].as_mut_ptr().cast(), n - filled, 0) };
        if r > 0 {
            filled += r as usize;
        }
    }
    to_hex(&buf)
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// A 64-hex container or exec ID that is not all digits (Docker avoids those
/// because they would be read as numbers by some tools).
pub fn new_id() -> String {
    loop {
        let id = random_hex(32);
        if id[..12].bytes().any(|b| b.is_ascii_alphabetic()) {
            return id;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_64_hex_and_differ() {
        let a = new_id();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, new_id());
        assert_eq!(to_hex(&[0, 255, 16]), "00ff10");
    }
}
