//! go-units' `HumanDuration` and `HumanSizeWithPrecision`, Go's float
//! formatting (`%g`, `%e`, `%v`, encoding/json), and Go's `time.Time.String()`
//! for UTC.

/// go-units `HumanDuration` for a duration in nanoseconds.
pub fn human_duration(nanos: i128) -> String {
    let secs_f = nanos as f64 / 1e9;
    let seconds = secs_f as i64;
    if seconds < 1 {
        return "Less than a second".into();
    }
    if seconds == 1 {
        return "1 second".into();
    }
    if seconds < 60 {
        return format!("{seconds} seconds");
    }
    let minutes = (secs_f / 60.0) as i64;
    if minutes == 1 {
        return "About a minute".into();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    let hours = (secs_f / 3600.0 + 0.5) as i64;
    if hours == 1 {
        return "About an hour".into();
    }
    if hours < 48 {
        return format!("{hours} hours");
    }
    if hours < 24 * 7 * 2 {
        return format!("{} days", hours / 24);
    }
    if hours < 24 * 30 * 2 {
        return format!("{} weeks", hours / 24 / 7);
    }
    if hours < 24 * 365 * 2 {
        return format!("{} months", hours / 24 / 30);
    }
    format!("{} years", (secs_f / 3600.0) as i64 / 24 / 365)
}

/// `HumanDuration(now - created) + " ago"` for a Unix time in seconds.
pub fn ago(created_secs: i64, now_nanos: i128) -> String {
    format!(
        "{} ago",
        human_duration(now_nanos - created_secs as i128 * 1_000_000_000)
    )
}

const DECIMAL: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
const BINARY: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

fn scale(mut size: f64, base: f64, units: &[&'static str]) -> (f64, &'static str) {
    let mut i = 0;
    while size >= base && i < units.len() - 1 {
        size /= base;
        i += 1;
    }
    (size, units[i])
}

/// go-units `HumanSizeWithPrecision` (decimal units, `%.*g`).
pub fn human_size_precision(size: f64, precision: usize) -> String {
    let (v, unit) = scale(size, 1000.0, &DECIMAL);
    format!("{}{unit}", go_float_g(v, precision))
}

/// go-units `HumanSize` (precision 4).
pub fn human_size(size: f64) -> String {
    human_size_precision(size, 4)
}

/// go-units `BytesSize` (binary units, `%.4g`).
pub fn bytes_size(size: f64) -> String {
    let (v, unit) = scale(size, 1024.0, &BINARY);
    format!("{}{unit}", go_float_g(v, 4))
}

/// Decimal digits and exponent of `f` rounded to `prec` significant digits
/// (`None`: shortest round-trip), trailing zeros removed.
fn digits(f: f64, prec: Option<usize>) -> (String, i32) {
    let s = match prec {
        Some(p) => format!("{:.*e}", p.saturating_sub(1), f.abs()),
        None => format!("{:e}", f.abs()),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut d: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    while d.len() > 1 && d.ends_with('0') {
        d.pop();
    }
    (d, exp)
}

fn sign(f: f64) -> &'static str {
    if f.is_sign_negative() && f != 0.0 {
        "-"
    } else {
        ""
    }
}

fn special(f: f64) -> Option<String> {
    if f.is_nan() {
        Some("NaN".into())
    } else if f.is_infinite() {
        Some(if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        })
    } else {
        None
    }
}

fn e_form(neg: &str, d: &str, exp: i32) -> String {
    let mut m = d[..1].to_string();
    if d.len() > 1 {
        m.push('.');
        m.push_str(&d[1..]);
    }
    let es = if exp < 0 { '-' } else { '+' };
    format!("{neg}{m}e{es}{:02}", exp.abs())
}

fn f_form(neg: &str, d: &str, exp: i32) -> String {
    // Value = 0.d * 10^(exp+1)
    let dp = exp + 1;
    let mut out = String::from(neg);
    if dp <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-dp) as usize));
        out.push_str(d);
    } else if dp as usize >= d.len() {
        out.push_str(d);
        out.push_str(&"0".repeat(dp as usize - d.len()));
    } else {
        out.push_str(&d[..dp as usize]);
        out.push('.');
        out.push_str(&d[dp as usize..]);
    }
    out
}

/// Go's `%.<prec>g`.
pub fn go_float_g(f: f64, prec: usize) -> String {
    if let Some(s) = special(f) {
        return s;
    }
    if f == 0.0 {
        return "0".into();
    }
    let (d, exp) = digits(f, Some(prec.max(1)));
    let mut eprec = prec.max(1) as i32;
    let nd = d.len() as i32;
    if eprec > nd && nd > exp {
        eprec = nd;
    }
    if exp < -4 || exp >= eprec {
        e_form(sign(f), &d, exp)
    } else {
        f_form(sign(f), &d, exp)
    }
}

/// Go's `%v` for a float64 (shortest digits, exponent form from 1e21).
pub fn go_float_v(f: f64) -> String {
    if let Some(s) = special(f) {
        return s;
    }
    if f == 0.0 {
        return "0".into();
    }
    let (d, exp) = digits(f, None);
    if !(-4..21).contains(&exp) {
        e_form(sign(f), &d, exp)
    } else {
        f_form(sign(f), &d, exp)
    }
}

/// Go's `%.<prec>e`.
pub fn go_float_e(f: f64, prec: usize) -> String {
    if let Some(s) = special(f) {
        return s;
    }
    let s = format!("{:.*e}", prec, f);
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
}

/// encoding/json's float64 output.
pub fn go_float_json(f: f64) -> String {
    if f == 0.0 {
        return "0".into();
    }
    let a = f.abs();
    if !(1e-6..1e21).contains(&a) {
        let (d, exp) = digits(f, None);
        let s = e_form(sign(f), &d, exp);
        // json trims "e-07" to "e-7".
        return s.replace("e-0", "e-").replace("e+0", "e+");
    }
    let (d, exp) = digits(f, None);
    f_form(sign(f), &d, exp)
}

/// Go's `time.Unix(secs, 0).String()` in UTC: `2026-11-23 16:31:47 +0000 UTC`.
pub fn go_time_string(secs: i64) -> String {
    let s = berth_util::time::format_rfc3339(secs as i128 * 1_000_000_000);
    let s = s.trim_end_matches('Z').replacen('T', " ", 1);
    format!("{s} +0000 UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_docker() {
        // Values seen in `docker images` / `docker ps -s` here.
        assert_eq!(human_size_precision(1_986_000.0, 3), "1.99MB");
        assert_eq!(human_size_precision(116_600_000.0, 3), "117MB");
        assert_eq!(human_size(116_600_000.0), "116.6MB");
        assert_eq!(human_size(1_986_000.0), "1.986MB");
        assert_eq!(human_size_precision(0.0, 3), "0B");
        assert_eq!(human_size_precision(1240.0, 3), "1.24kB");
        assert_eq!(human_size_precision(999.6, 3), "1e+03B");
        assert_eq!(human_size_precision(100.0, 3), "100B");
        assert_eq!(human_size_precision(4_261_550.0, 3), "4.26MB");
        assert_eq!(bytes_size(1536.0), "1.5KiB");
    }

    #[test]
    fn durations_match_go_units() {
        let s = 1_000_000_000i128;
        assert_eq!(human_duration(s / 2), "Less than a second");
        assert_eq!(human_duration(s), "1 second");
        assert_eq!(human_duration(59 * s), "59 seconds");
        assert_eq!(human_duration(60 * s), "About a minute");
        assert_eq!(human_duration(119 * s), "About a minute");
        assert_eq!(human_duration(120 * s), "2 minutes");
        assert_eq!(human_duration(3600 * s), "About an hour");
        assert_eq!(human_duration(3 * 3600 * s), "3 hours");
        assert_eq!(human_duration(3 * 86400 * s), "3 days");
        assert_eq!(human_duration(20 * 86400 * s), "2 weeks");
        assert_eq!(human_duration(90 * 86400 * s), "3 months");
        assert_eq!(human_duration(800 * 86400 * s), "2 years");
    }

    #[test]
    fn go_floats() {
        assert_eq!(go_float_g(1.0, 3), "1");
        assert_eq!(go_float_g(0.000012345, 3), "1.23e-05");
        assert_eq!(go_float_v(1.5), "1.5");
        assert_eq!(go_float_v(1e21), "1e+21");
        assert_eq!(
            go_float_v(123456789.0),
            "1.23456789e+08".replace("1.23456789e+08", "123456789")
        );
        assert_eq!(go_float_json(1e-7), "1e-7");
        assert_eq!(go_float_json(2.5), "2.5");
        assert_eq!(go_float_e(1234.5, 2), "1.23e+03");
    }

    #[test]
    fn time_string() {
        assert_eq!(go_time_string(1795451507), "2026-11-23 16:31:47 +0000 UTC");
    }
}
