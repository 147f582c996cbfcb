//! Wall-clock time as Docker prints it: RFC 3339 with nanoseconds in UTC
//! (`2026-11-23T16:26:19.123456789Z`), and parsing of the forms the API accepts.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The Go zero time as Docker prints it for "never".
pub const ZERO: &str = "0001-01-01T00:00:00Z";

/// Nanoseconds since the epoch, now.
pub fn now_nanos() -> i128 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// `now` as RFC 3339 with nanoseconds.
pub fn now_rfc3339() -> String {
    format_rfc3339(now_nanos())
}

/// Formats nanoseconds since the epoch as RFC 3339 (UTC, nanoseconds, trailing
/// zeros of the fraction removed as Go's RFC3339Nano does).
pub fn format_rfc3339(nanos: i128) -> String {
    let secs = nanos.div_euclid(1_000_000_000) as i64;
    let frac = nanos.rem_euclid(1_000_000_000) as u32;
    let (y, mo, d, h, mi, s) = civil_from_unix(secs);
    let mut out = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    if frac != 0 {
        let f = format!("{frac:09}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// RFC 3339 with exactly nine fraction digits, as `docker logs -t` prints.
pub fn format_rfc3339_fixed(nanos: i128) -> String {
    let secs = nanos.div_euclid(1_000_000_000) as i64;
    let frac = nanos.rem_euclid(1_000_000_000) as u32;
    let (y, mo, d, h, mi, s) = civil_from_unix(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac:09}Z")
}

/// Seconds since the epoch for a civil UTC date-time.
pub fn unix_from_civil(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    // Howard Hinnant's days_from_civil.
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + h as i64 * 3600 + mi as i64 * 60 + s as i64
}

fn civil_from_unix(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(mo <= 2);
    (
        y,
        mo,
        d,
        (rem / 3600) as u32,
        ((rem % 3600) / 60) as u32,
        (rem % 60) as u32,
    )
}

/// Parses RFC 3339 (`2026-11-23T16:26:19.5Z`, `…+01:00`) into nanoseconds since the epoch.
pub fn parse_rfc3339(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || (b[10] != b'T' && b[10] != b't' && b[10] != b' ')
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> { s.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)? as i64, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut frac: i128 = 0;
    if let Some(r) = rest.strip_prefix('.') {
        let digits = r.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let mut f = r[..digits.min(9)].to_string();
        while f.len() < 9 {
            f.push('0');
        }
        frac = f.parse().ok()?;
        rest = &r[digits..];
    }
    let offset: i64 = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) => {
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            let o = oh * 3600 + om * 60;
            if rest.starts_with('-') {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    let secs = unix_from_civil(y, mo, d, h, mi, sec) - offset;
    Some(secs as i128 * 1_000_000_000 + frac)
}

/// Parses Docker's `--since`/`--until` forms: RFC 3339, a Unix timestamp with
/// optional fraction (`1700000000.5`), or a duration before `now_nanos`
/// (`10m`, `1h30m`, `2s`).
pub fn parse_timestamp(s: &str, now_nanos: i128) -> Option<i128> {
    if let Some(t) = parse_rfc3339(s) {
        return Some(t);
    }
    if let Some(d) = parse_duration(s) {
        return Some(now_nanos - d.as_nanos() as i128);
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let secs: i64 = whole.parse().ok()?;
    let mut f = frac.to_string();
    if f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    while f.len() < 9 {
        f.push('0');
    }
    Some(secs as i128 * 1_000_000_000 + f.parse::<i128>().ok()?)
}

/// Parses a Go duration such as `1h30m`, `10s`, `1.5s`, `250ms`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    if s.is_empty() {
        return None;
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let n = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        if n == 0 {
            return None;
        }
        let value: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphabetic() || *b == 0xc2 || *b == 0xb5)
            .count();
        let scale = match &rest[..u] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[u..];
        total += value * scale;
    }
    Some(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        let t = parse_rfc3339("2026-11-23T16:26:19.123456789Z").unwrap();
        assert_eq!(format_rfc3339(t), "2026-11-23T16:26:19.123456789Z");
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(1_500_000_000), "1970-01-01T00:00:01.5Z");
        let leap = parse_rfc3339("2024-02-29T23:59:59Z").unwrap();
        assert_eq!(format_rfc3339(leap), "2024-02-29T23:59:59Z");
        let off = parse_rfc3339("2026-01-01T01:00:00+01:00").unwrap();
        assert_eq!(format_rfc3339(off), "2026-01-01T00:00:00Z");
        assert_eq!(
            parse_rfc3339(ZERO).map(format_rfc3339).as_deref(),
            Some(ZERO)
        );
        assert!(parse_rfc3339("yesterday").is_none());
        assert_eq!(
            format_rfc3339_fixed(1_500_000_000),
            "1970-01-01T00:00:01.500000000Z"
        );
    }

    #[test]
    fn parses_docker_timestamp_forms() {
        let now = 1_000 * 1_000_000_000;
        assert_eq!(parse_timestamp("10s", now), Some(990 * 1_000_000_000));
        assert_eq!(
            parse_timestamp("1h1m", now),
            Some(now - 3660 * 1_000_000_000)
        );
        assert_eq!(parse_timestamp("12.5", now), Some(12_500_000_000));
        assert_eq!(
            parse_timestamp("1970-01-01T00:00:02Z", now),
            Some(2_000_000_000)
        );
        assert!(parse_timestamp("soon", now).is_none());
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
    }
}

/// Docker's (go-units) `HumanDuration`: "Less than a second", "1 second",
/// "About a minute", "3 hours", "2 weeks", …
pub fn human_duration(d: Duration) -> String {
    let seconds = d.as_secs();
    let minutes = seconds / 60;
    let hours = (d.as_secs_f64() / 3600.0 + 0.5) as u64;
    if seconds < 1 {
        "Less than a second".into()
    } else if seconds == 1 {
        "1 second".into()
    } else if seconds < 60 {
        format!("{seconds} seconds")
    } else if minutes == 1 {
        "About a minute".into()
    } else if minutes < 60 {
        format!("{minutes} minutes")
    } else if hours == 1 {
        "About an hour".into()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        format!("{} years", seconds / 3600 / 24 / 365)
    }
}

/// The duration from `nanos` (since the epoch) to now, zero if in the future.
pub fn since(nanos: i128) -> Duration {
    let d = now_nanos() - nanos;
    if d <= 0 {
        Duration::ZERO
    } else {
        Duration::from_nanos(d as u64)
    }
}

#[cfg(test)]
mod human_tests {
    use super::*;

    #[test]
    fn humanizes_like_go_units() {
        let s = Duration::from_secs;
        assert_eq!(
            human_duration(Duration::from_millis(300)),
            "Less than a second"
        );
        assert_eq!(human_duration(s(1)), "1 second");
        assert_eq!(human_duration(s(59)), "59 seconds");
        assert_eq!(human_duration(s(60)), "About a minute");
        assert_eq!(human_duration(s(119)), "About a minute");
        assert_eq!(human_duration(s(120)), "2 minutes");
        assert_eq!(human_duration(s(3600)), "About an hour");
        assert_eq!(human_duration(s(3 * 3600)), "3 hours");
        assert_eq!(human_duration(s(3 * 86400)), "3 days");
        assert_eq!(human_duration(s(15 * 86400)), "2 weeks");
        assert_eq!(human_duration(s(70 * 86400)), "2 months");
        assert_eq!(human_duration(s(800 * 86400)), "2 years");
    }
}
