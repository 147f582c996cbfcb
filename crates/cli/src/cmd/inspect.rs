//! `inspect`, `container inspect` and `image inspect`: the daemon's raw JSON
//! re-indented as a JSON array (key order kept), or each object through a
//! `--format` Go template; missing objects are reported after the output.

use super::common::{out, Ctx};
use crate::api::{enc, ApiError};
use crate::args::{Arity, Flag, Parsed, Spec};
use crate::error::{CliError, Result};
use crate::template::{Mode, Template, Value};

const FORMAT: Flag = Flag::str("format", Some('f'), "Format output using a custom template:\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates");

const FLAGS: &[Flag] = &[
    FORMAT,
    Flag::bool(
        "size",
        Some('s'),
        "Display total file sizes if the type is container",
    ),
    Flag::str("type", None, "Only inspect objects of the given type"),
];
const CONTAINER_FLAGS: &[Flag] = &[
    FORMAT,
    Flag::bool("size", Some('s'), "Display total file sizes"),
];
const IMAGE_FLAGS: &[Flag] = &[
    FORMAT,
    Flag::str(
        "platform",
        None,
        "Inspect a specific platform of the multi-platform image.",
    ),
];

pub const SPEC: Spec = Spec {
    path: "inspect",
    usage: "[OPTIONS] NAME|ID [NAME|ID...]",
    about: "Return low-level information on Docker objects",
    aliases: "",
    flags: &[FLAGS],
    interspersed: true,
    arity: Arity::Min(1),
};

pub const CONTAINER_SPEC: Spec = Spec {
    path: "container inspect",
    usage: "[OPTIONS] CONTAINER [CONTAINER...]",
    about: "Display detailed information on one or more containers",
    aliases: "",
    flags: &[CONTAINER_FLAGS],
    interspersed: true,
    arity: Arity::Min(1),
};

pub const IMAGE_SPEC: Spec = Spec {
    path: "image inspect",
    usage: "[OPTIONS] IMAGE [IMAGE...]",
    about: "Display detailed information on one or more images",
    aliases: "",
    flags: &[IMAGE_FLAGS],
    interspersed: true,
    arity: Arity::Min(1),
};

pub const VOLUME_SPEC: Spec = Spec {
    path: "volume inspect",
    usage: "[OPTIONS] VOLUME [VOLUME...]",
    about: "Display detailed information on one or more volumes",
    aliases: "",
    flags: &[&[FORMAT]],
    interspersed: true,
    arity: Arity::Min(1),
};

pub const NETWORK_SPEC: Spec = Spec {
    path: "network inspect",
    usage: "[OPTIONS] NETWORK [NETWORK...]",
    about: "Display detailed information on one or more networks",
    aliases: "",
    flags: &[&[
        FORMAT,
        Flag::bool("verbose", Some('v'), "Verbose output for diagnostics"),
    ]],
    interspersed: true,
    arity: Arity::Min(1),
};

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Container,
    Image,
    Network,
    Volume,
}

fn fetch(ctx: &Ctx, kind: Kind, name: &str, size: bool) -> std::result::Result<Vec<u8>, ApiError> {
    let path = match kind {
        Kind::Container => format!(
            "/containers/{}/json{}",
            enc(name),
            if size { "?size=1" } else { "" }
        ),
        Kind::Image => format!("/images/{}/json", enc(name)),
        Kind::Network => format!("/networks/{}", enc(name)),
        Kind::Volume => format!("/volumes/{}", enc(name)),
    };
    ctx.client.get_raw(&path)
}

/// Prints the objects; `kinds` are tried in order for each name.
fn inspect(ctx: &Ctx, p: &Parsed, kinds: &[Kind], generic: bool) -> Result<()> {
    let format = p.string("format");
    let template = if format.is_empty() || format == "json" {
        None
    } else {
        Some(
            Template::parse(&format)
                .map_err(|e| CliError::new(format!("template parsing error: {e}"), 64))?,
        )
    };
    let size = p.bool("size");
    let mut raws: Vec<Vec<u8>> = Vec::new();
    let mut errs: Vec<String> = Vec::new();
    let mut buffer = String::new();
    for name in &p.args {
        let mut found = None;
        let mut last_err = None;
        for &k in kinds {
            match fetch(ctx, k, name, size) {
                Ok(raw) => {
                    found = Some(raw);
                    break;
                }
                Err(e) if e.status() == Some(404) || (generic && e.status() == Some(400)) => {
                    last_err = Some(e)
                }
                Err(e) => {
                    last_err = Some(e);
                    break;
                }
            }
        }
        let Some(raw) = found else {
            match last_err {
                Some(e) if generic && (e.status() == Some(404) || e.status() == Some(400)) => {
                    errs.push(format!("Error: No such object: {name}"))
                }
                Some(e) => errs.push(e.to_string()),
                None => errs.push(format!("Error: No such object: {name}")),
            }
            continue;
        };
        match &template {
            None => raws.push(raw),
            Some(t) => {
                let text = String::from_utf8_lossy(&raw);
                match Value::parse_json(&text) {
                    Ok(v) => match t.execute(&v, Mode::Normal) {
                        Ok(s) => {
                            buffer.push_str(&s);
                            buffer.push('\n');
                        }
                        Err(e) => errs.push(format!("template parsing error: {e}")),
                    },
                    Err(e) => errs.push(format!("unable to read inspect data: {e}")),
                }
            }
        }
    }
    if template.is_some() {
        out(if buffer.is_empty() { "\n" } else { &buffer });
    } else if raws.is_empty() {
        out("[]\n");
    } else {
        let mut joined = b"[".to_vec();
        for (i, r) in raws.iter().enumerate() {
            if i > 0 {
                joined.push(b',');
            }
            joined.extend_from_slice(r);
        }
        joined.push(b']');
        let text = if format == "json" {
            compact(&joined)
        } else {
            crate::fmt::json::indent(&joined, "    ")
        };
        out(&format!("{}\n", String::from_utf8_lossy(&text)));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(CliError::msg(errs.join("\n")))
    }
}

/// Go's `json.Compact`.
fn compact(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(src.len());
    let (mut in_str, mut esc) = (false, false);
    for &c in src {
        if in_str {
            out.push(c);
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
            }
        } else if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            if c == b'"' {
                in_str = true;
            }
            out.push(c);
        }
    }
    out
}

pub fn run(ctx: &Ctx, p: &Parsed) -> Result<()> {
    match p.str("type").unwrap_or("") {
        "" => inspect(
            ctx,
            p,
            &[Kind::Container, Kind::Image, Kind::Network, Kind::Volume],
            true,
        ),
        "container" => inspect(ctx, p, &[Kind::Container], false),
        "image" => inspect(ctx, p, &[Kind::Image], false),
        "network" => inspect(ctx, p, &[Kind::Network], false),
        "volume" => inspect(ctx, p, &[Kind::Volume], false),
        t => Err(CliError::msg(format!(
            "{t:?} is not a valid value for --type"
        ))),
    }
}

pub fn run_container(ctx: &Ctx, p: &Parsed) -> Result<()> {
    inspect(ctx, p, &[Kind::Container], false)
}

pub fn run_image(ctx: &Ctx, p: &Parsed) -> Result<()> {
    inspect(ctx, p, &[Kind::Image], false)
}

pub fn run_network(ctx: &Ctx, p: &Parsed) -> Result<()> {
    inspect(ctx, p, &[Kind::Network], false)
}

pub fn run_volume(ctx: &Ctx, p: &Parsed) -> Result<()> {
    inspect(ctx, p, &[Kind::Volume], false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacts() {
        assert_eq!(compact(b"[ {\"a b\": 1 }\n]"), b"[{\"a b\":1}]");
    }
}
