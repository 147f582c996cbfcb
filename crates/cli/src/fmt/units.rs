//! Parsing of sizes the way go-units does it: `RAMInBytes` (binary
//! multipliers, `512m`, `1.5GiB`) and `FromHumanSize` (decimal multipliers).

/// go-units `RAMInBytes`: case-insensitive `k`/`m`/`g`/`t`/`p` (×1024ⁿ), with an
/// optional `b` or `ib`; errors carry go-units' text.
pub fn ram_in_bytes(s: &str) -> Result<i64, String> {
    parse_size(s, 1024)
}

fn parse_size(s: &str, base: i64) -> Result<i64, String> {
    let Some(sep) = s.rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ') else {
        return Err(format!("invalid size: '{s}'"));
    };
    let (num, sfx) = if s.as_bytes()[sep] != b' ' {
        (&s[..=sep], &s[sep + 1..])
    } else {
        (&s[..sep], &s[sep + 1..])
    };
    let size: f64 = parse_go_float(num)?;
    if size < 0.0 {
        return Err(format!("invalid size: '{s}'"));
    }
    if sfx.is_empty() {
        return Ok(size as i64);
    }
    let bad = || Err(format!("invalid suffix: '{sfx}'"));
    if sfx.len() > 3 {
        return bad();
    }
    let lower = sfx.to_ascii_lowercase();
    let b = lower.as_bytes();
    if b[0] == b'b' {
        return if b.len() > 1 { bad() } else { Ok(size as i64) };
    }
    let power = match b[0] {
        b'k' => 1,
        b'm' => 2,
        b'g' => 3,
        b't' => 4,
        b'p' => 5,
        _ => return bad(),
    };
    if (b.len() == 2 && b[1] != b'b') || (b.len() == 3 && &lower[1..] != "ib") {
        return bad();
    }
    Ok((size * (base.pow(power) as f64)) as i64)
}

/// `strconv.ParseFloat` with Go's error text.
pub fn parse_go_float(num: &str) -> Result<f64, String> {
    let ok = !num.is_empty()
        && num
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'));
    match num.parse::<f64>() {
        Ok(v) if ok => Ok(v),
        _ => Err(format!(
            "strconv.ParseFloat: parsing {num:?}: invalid syntax"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_go_units() {
        assert_eq!(ram_in_bytes("512m"), Ok(512 * 1024 * 1024));
        assert_eq!(ram_in_bytes("1g"), Ok(1 << 30));
        assert_eq!(ram_in_bytes("1.5GiB"), Ok(3 << 29));
        assert_eq!(ram_in_bytes("10"), Ok(10));
        assert_eq!(ram_in_bytes("10 kb"), Ok(10240));
        assert_eq!(ram_in_bytes("32b"), Ok(32));
        // The message docker prints for `-m 1x`.
        assert_eq!(ram_in_bytes("1x"), Err("invalid suffix: 'x'".into()));
        assert_eq!(ram_in_bytes("m"), Err("invalid size: 'm'".into()));
        assert_eq!(ram_in_bytes("1gx"), Err("invalid suffix: 'gx'".into()));
        assert_eq!(parse_size("1kB", 1000), Ok(1000));
    }
}
