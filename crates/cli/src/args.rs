//! pflag-style argument parsing for one command: per-command flag tables,
//! `--flag=value`, `--flag value`, combined shorts (`-it`), attached short
//! values (`-p8080:80`), `--` to end flags, and flags after positional
//! arguments unless the command stops at its first positional (run, create,
//! exec). Errors carry docker's wording; usage and help text come from the
//! same tables.

use crate::error::CliError;
use crate::fmt::units;

/// What a flag takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Bool,
    Str,
    /// Repeatable; every value is kept.
    List,
    Int,
    /// A size such as `512m` (go-units RAMInBytes).
    Bytes,
    /// A decimal number such as `--cpus 1.5`.
    Decimal,
}

/// A value check run while parsing.
pub type Check = fn(&str) -> Result<(), String>;

/// One flag of a command.
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    pub long: &'static str,
    pub short: Option<char>,
    pub kind: Kind,
    pub help: &'static str,
    /// Type name shown in help (`string`, `list`, `int`, …).
    pub typ: &'static str,
    pub default: &'static str,
    pub hidden: bool,
    /// Extra validation of each value while parsing (docker's typed flags).
    pub check: Option<Check>,
}

impl Flag {
    const fn new(
        long: &'static str,
        short: Option<char>,
        kind: Kind,
        typ: &'static str,
        help: &'static str,
    ) -> Flag {
        Flag {
            long,
            short,
            kind,
            help,
            typ,
            default: "",
            hidden: false,
            check: None,
        }
    }
    pub const fn bool(long: &'static str, short: Option<char>, help: &'static str) -> Flag {
        Flag::new(long, short, Kind::Bool, "", help)
    }
    pub const fn str(long: &'static str, short: Option<char>, help: &'static str) -> Flag {
        Flag::new(long, short, Kind::Str, "string", help)
    }
    pub const fn list(long: &'static str, short: Option<char>, help: &'static str) -> Flag {
        Flag::new(long, short, Kind::List, "list", help)
    }
    pub const fn int(long: &'static str, short: Option<char>, help: &'static str) -> Flag {
        Flag::new(long, short, Kind::Int, "int", help)
    }
    pub const fn bytes(long: &'static str, short: Option<char>, help: &'static str) -> Flag {
        Flag::new(long, short, Kind::Bytes, "bytes", help)
    }
    pub const fn decimal(long: &'static str, help: &'static str) -> Flag {
        Flag::new(long, None, Kind::Decimal, "decimal", help)
    }
    pub const fn typ(mut self, typ: &'static str) -> Flag {
        self.typ = typ;
        self
    }
    pub const fn default(mut self, d: &'static str) -> Flag {
        self.default = d;
        self
    }
    pub const fn hidden(mut self) -> Flag {
        self.hidden = true;
        self
    }
    pub const fn check(mut self, f: Check) -> Flag {
        self.check = Some(f);
        self
    }

    fn display(&self) -> String {
        match self.short {
            Some(s) => format!("-{s}, --{}", self.long),
            None => format!("--{}", self.long),
        }
    }
}

/// How many positional arguments a command takes.
#[derive(Debug, Clone, Copy)]
pub enum Arity {
    None,
    Exact(usize),
    Min(usize),
    Max(usize),
}

/// A command's parsing table and help.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// Command path without the binary, e.g. `container ls`.
    pub path: &'static str,
    /// Usage after the path, e.g. `[OPTIONS] IMAGE [COMMAND] [ARG...]`.
    pub usage: &'static str,
    pub about: &'static str,
    pub aliases: &'static str,
    /// Flag tables (commands share groups such as the container options).
    pub flags: &'static [&'static [Flag]],
    /// Whether flags may follow positional arguments.
    pub interspersed: bool,
    pub arity: Arity,
}

/// The binary name used in messages.
pub const BIN: &str = "berth";

impl Spec {
    /// `berth run [OPTIONS] IMAGE …`.
    pub fn use_line(&self) -> String {
        if self.usage.is_empty() {
            format!("{BIN} {}", self.path)
        } else {
            format!("{BIN} {} {}", self.path, self.usage)
        }
    }

    fn flag_error(&self, msg: String) -> CliError {
        CliError::new(
            format!(
                "{msg}\n\nUsage:  {}\n\nRun '{BIN} {} --help' for more information",
                self.use_line(),
                self.path
            ),
            125,
        )
    }

    fn arity_error(&self, args: usize) -> Option<CliError> {
        let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
        let (what, see) = match self.arity {
            Arity::None if args > 0 => ("accepts no arguments".to_string(), "Run"),
            Arity::Exact(n) if args != n => (format!("requires {n} {}", plural(n)), "Run"),
            Arity::Min(n) if args < n => (format!("requires at least {n} {}", plural(n)), "See"),
            Arity::Max(n) if args > n => (format!("requires at most {n} {}", plural(n)), "Run"),
            _ => return None,
        };
        Some(CliError::new(
            format!(
                "{BIN}: '{BIN} {}' {what}\n\nUsage:  {}\n\n{see} '{BIN} {} --help' for more information",
                self.path,
                self.use_line(),
                self.path
            ),
            1,
        ))
    }

    /// Every flag of the command.
    pub fn all_flags(&self) -> impl Iterator<Item = &'static Flag> {
        self.flags.iter().flat_map(|g| g.iter())
    }

    fn find_long(&self, name: &str) -> Option<&'static Flag> {
        self.all_flags().find(|f| f.long == name)
    }

    fn find_short(&self, c: char) -> Option<&'static Flag> {
        self.all_flags().find(|f| f.short == Some(c))
    }

    fn has_short(&self, c: char) -> bool {
        self.find_short(c).is_some()
    }

    /// The `--help` text.
    pub fn help(&self) -> String {
        let mut out = format!("Usage:  {}\n\n{}\n", self.use_line(), self.about);
        if !self.aliases.is_empty() {
            out.push_str(&format!(
                "\nAliases:\n  {}\n",
                self.aliases.replace("docker", BIN)
            ));
        }
        let mut flags: Vec<&Flag> = self.all_flags().filter(|f| !f.hidden).collect();
        flags.sort_by_key(|f| f.long);
        if !flags.is_empty() {
            out.push_str("\nOptions:\n");
            let cols: Vec<String> = flags
                .iter()
                .map(|f| {
                    let name = match f.short {
                        Some(s) => format!("  -{s}, --{}", f.long),
                        None => format!("      --{}", f.long),
                    };
                    if f.typ.is_empty() {
                        name
                    } else {
                        format!("{name} {}", f.typ)
                    }
                })
                .collect();
            let w = cols.iter().map(|c| c.len()).max().unwrap_or(0);
            let width = crate::term::size(0)
                .map(|(_, c)| c as usize)
                .unwrap_or(80)
                .saturating_sub(1);
            for (c, f) in cols.iter().zip(flags) {
                let mut help = f.help.to_string();
                if !f.default.is_empty() {
                    help.push_str(&format!(" (default {})", f.default));
                }
                out.push_str(&format!("{c:<w$}   {}\n", wrap(w + 3, width, &help)));
            }
        }
        out
    }
}

/// Splits `s` at whitespace before `i` bytes, going up to `slop` over to
/// avoid a short last line (pflag's `wrapN`).
fn wrap_n(i: usize, slop: usize, s: &str) -> (String, String) {
    if i + slop > s.len() {
        return (s.to_string(), String::new());
    }
    let mut cut = i.min(s.len());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = &s[..cut];
    let Some(w) = head.rfind([' ', '\t', '\n']).filter(|w| *w > 0) else {
        return (s.to_string(), String::new());
    };
    if let Some(nl) = head.rfind('\n').filter(|nl| *nl > 0 && *nl < w) {
        return (s[..nl].to_string(), s[nl + 1..].to_string());
    }
    (s[..w].to_string(), s[w + 1..].to_string())
}

/// pflag's `wrap`: text for a description column at `indent` in `width` columns.
fn wrap(indent: usize, width: usize, s: &str) -> String {
    let mut indent = indent;
    let mut avail = width.saturating_sub(indent);
    let mut r = String::new();
    if avail < 24 {
        indent = 16;
        avail = width.saturating_sub(indent);
        r.push('\n');
        r.push_str(&" ".repeat(indent));
    }
    let pad = format!("\n{}", " ".repeat(indent));
    if avail < 24 {
        return format!("{r}{}", s.replace('\n', &pad));
    }
    let slop = 5;
    let avail = avail - slop;
    let (first, mut rest) = wrap_n(avail, slop, s);
    r.push_str(&first.replace('\n', &pad));
    while !rest.is_empty() {
        let (t, next) = wrap_n(avail, slop, &rest);
        r.push_str(&pad);
        r.push_str(&t.replace('\n', &pad));
        rest = next;
    }
    r
}

/// Parsed flags and positional arguments.
#[derive(Debug, Default, Clone)]
pub struct Parsed {
    values: Vec<(&'static str, String)>,
    pub args: Vec<String>,
}

impl Parsed {
    /// Whether the flag was given.
    pub fn changed(&self, long: &str) -> bool {
        self.values.iter().any(|(n, _)| *n == long)
    }

    /// Last value of a flag.
    pub fn str(&self, long: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| *n == long)
            .map(|(_, v)| v.as_str())
    }

    /// Last value, or `""`.
    pub fn string(&self, long: &str) -> String {
        self.str(long).unwrap_or("").to_string()
    }

    /// All values of a repeatable flag.
    pub fn list(&self, long: &str) -> Vec<String> {
        self.values
            .iter()
            .filter(|(n, _)| *n == long)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A bool flag (false unless given true).
    pub fn bool(&self, long: &str) -> bool {
        self.str(long) == Some("true")
    }

    /// A bool flag with a default.
    pub fn bool_or(&self, long: &str, default: bool) -> bool {
        match self.str(long) {
            Some(v) => v == "true",
            None => default,
        }
    }

    /// An int flag (validated while parsing).
    pub fn int(&self, long: &str) -> Option<i64> {
        self.str(long).and_then(|v| v.parse().ok())
    }

    /// A bytes flag (validated while parsing).
    pub fn bytes(&self, long: &str) -> Option<i64> {
        self.str(long).and_then(|v| units::ram_in_bytes(v).ok())
    }

    /// A decimal flag (validated while parsing).
    pub fn decimal(&self, long: &str) -> Option<f64> {
        self.str(long).and_then(|v| v.parse().ok())
    }
}

/// Outcome of parsing: either arguments or a request for help.
pub enum Outcome {
    Run(Parsed),
    Help,
}

fn go_parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

fn validate(spec: &Spec, f: &Flag, value: &str) -> Result<String, CliError> {
    let bad = |why: String| {
        spec.flag_error(format!(
            "invalid argument {value:?} for {:?} flag: {why}",
            f.display()
        ))
    };
    match f.kind {
        Kind::Bool => match go_parse_bool(value) {
            Some(b) => Ok(b.to_string()),
            None => Err(bad(format!(
                "strconv.ParseBool: parsing {value:?}: invalid syntax"
            ))),
        },
        Kind::Int => match value.parse::<i64>() {
            Ok(_) => Ok(value.to_string()),
            Err(_) => Err(bad(format!(
                "strconv.ParseInt: parsing {value:?}: invalid syntax"
            ))),
        },
        Kind::Bytes => units::ram_in_bytes(value)
            .map(|_| value.to_string())
            .map_err(bad),
        Kind::Decimal => match value.parse::<f64>() {
            Ok(_) => Ok(value.to_string()),
            Err(_) => Err(bad(format!("failed to parse {value} as a rational number"))),
        },
        Kind::Str | Kind::List => match f.check {
            Some(c) => c(value).map(|_| value.to_string()).map_err(bad),
            None => Ok(value.to_string()),
        },
    }
}

/// Parses `argv` (the arguments after the command words).
pub fn parse(spec: &Spec, argv: &[String]) -> Result<Outcome, CliError> {
    let mut p = Parsed::default();
    let help_short = !spec.has_short('h');
    let mut help = false;
    let mut i = 0;
    while i < argv.len() {
        let a = &argv[i];
        i += 1;
        if a == "--" {
            p.args.extend(argv[i..].iter().cloned());
            break;
        }
        if let Some(body) = a.strip_prefix("--").filter(|b| !b.is_empty()) {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            if name == "help" {
                help = inline
                    .map(|v| go_parse_bool(v) == Some(true))
                    .unwrap_or(true)
                    || help;
                continue;
            }
            let Some(f) = spec.find_long(name) else {
                return Err(spec.flag_error(format!("unknown flag: --{name}")));
            };
            let value = match (f.kind, inline) {
                (_, Some(v)) => v.to_string(),
                (Kind::Bool, None) => "true".to_string(),
                (_, None) => {
                    let Some(v) = argv.get(i) else {
                        return Err(spec.flag_error(format!("flag needs an argument: --{name}")));
                    };
                    i += 1;
                    v.clone()
                }
            };
            p.values.push((f.long, validate(spec, f, &value)?));
            continue;
        }
        if a.len() > 1 && a.starts_with('-') {
            let shorts = &a[1..];
            for (off, c) in shorts.char_indices() {
                let rest = &shorts[off + c.len_utf8()..];
                if c == 'h' && help_short {
                    eprintln!("Flag shorthand -h has been deprecated, use --help");
                    help = true;
                    continue;
                }
                let Some(f) = spec.find_short(c) else {
                    return Err(
                        spec.flag_error(format!("unknown shorthand flag: '{c}' in -{shorts}"))
                    );
                };
                if f.kind == Kind::Bool {
                    if let Some(v) = rest.strip_prefix('=') {
                        p.values.push((f.long, validate(spec, f, v)?));
                        break;
                    }
                    p.values.push((f.long, "true".into()));
                    continue;
                }
                let value = if !rest.is_empty() {
                    rest.strip_prefix('=').unwrap_or(rest).to_string()
                } else if let Some(v) = argv.get(i) {
                    i += 1;
                    v.clone()
                } else {
                    return Err(
                        spec.flag_error(format!("flag needs an argument: '{c}' in -{shorts}"))
                    );
                };
                p.values.push((f.long, validate(spec, f, &value)?));
                break;
            }
            continue;
        }
        p.args.push(a.clone());
        if !spec.interspersed {
            p.args.extend(argv[i..].iter().cloned());
            break;
        }
    }
    if help {
        return Ok(Outcome::Help);
    }
    if let Some(e) = spec.arity_error(p.args.len()) {
        return Err(e);
    }
    Ok(Outcome::Run(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAGS: &[Flag] = &[
        Flag::bool("detach", Some('d'), "d"),
        Flag::bool("interactive", Some('i'), "i"),
        Flag::bool("tty", Some('t'), "t"),
        Flag::list("publish", Some('p'), "p"),
        Flag::list("env", Some('e'), "e"),
        Flag::str("name", None, "n"),
        Flag::bytes("memory", Some('m'), "m"),
        Flag::bool("rm", None, "rm"),
    ];
    const RUN: Spec = Spec {
        path: "run",
        usage: "[OPTIONS] IMAGE [COMMAND] [ARG...]",
        about: "Create and run a new container from an image",
        aliases: "",
        flags: &[FLAGS],
        interspersed: false,
        arity: Arity::Min(1),
    };

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn run(s: &str) -> Result<Parsed, CliError> {
        match parse(&RUN, &argv(s))? {
            Outcome::Run(p) => Ok(p),
            Outcome::Help => panic!("help"),
        }
    }

    #[test]
    fn parses_pflag_forms() {
        let p = run("-it -p8080:80 --publish=9000:9000 -e A=1 --name=x --rm=false img sh -c ls -d")
            .unwrap();
        assert!(p.bool("interactive") && p.bool("tty") && !p.bool("rm") && !p.bool("detach"));
        assert_eq!(p.list("publish"), vec!["8080:80", "9000:9000"]);
        assert_eq!(p.str("name"), Some("x"));
        assert_eq!(p.args, vec!["img", "sh", "-c", "ls", "-d"]);
        let p = run("-m 512m -- img").unwrap();
        assert_eq!(p.bytes("memory"), Some(512 << 20));
        assert_eq!(p.args, vec!["img"]);
    }

    #[test]
    fn interspersed_flags_after_args() {
        let spec = Spec {
            interspersed: true,
            arity: Arity::Min(0),
            ..RUN
        };
        let Outcome::Run(p) = parse(&spec, &argv("a b -d c")).unwrap() else {
            panic!()
        };
        assert_eq!(p.args, vec!["a", "b", "c"]);
        assert!(p.bool("detach"));
    }

    #[test]
    fn errors_match_docker() {
        let e = run("--foo img").unwrap_err();
        assert_eq!(e.code, 125);
        assert_eq!(
            e.message,
            "unknown flag: --foo\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information"
        );
        assert!(run("-p")
            .unwrap_err()
            .message
            .starts_with("flag needs an argument: 'p' in -p\n"));
        assert!(run("--name")
            .unwrap_err()
            .message
            .starts_with("flag needs an argument: --name\n"));
        assert!(run("-m 1x img").unwrap_err().message.starts_with(
            "invalid argument \"1x\" for \"-m, --memory\" flag: invalid suffix: 'x'\n"
        ));
        let e = run("").unwrap_err();
        assert_eq!(e.code, 1);
        assert!(e
            .message
            .starts_with("berth: 'berth run' requires at least 1 argument\n\nUsage:  berth run"));
        assert!(matches!(parse(&RUN, &argv("--help")), Ok(Outcome::Help)));
    }
}
