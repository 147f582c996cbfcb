//! `top` / `container top`: the daemon's `ps` output for a container, laid
//! out as docker does (tabwriter, minimum column width 20, padding 3).

use crate::api::enc;
use crate::args::{Arity, Parsed, Spec};
use crate::cmd::common::{out, Ctx};
use crate::error::Result;
use crate::fmt::tabwriter::TabWriter;
use serde_json::Value as J;

pub const SPEC: Spec = Spec {
    path: "top",
    usage: "CONTAINER [ps OPTIONS]",
    about: "Display the running processes of a container",
    aliases: "docker container top, docker top",
    flags: &[],
    interspersed: false,
    arity: Arity::Min(1),
};

fn strings(v: &J) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|s| s.as_str().unwrap_or("").to_string())
        .collect()
}

/// The table of a `TopResponse`.
pub fn table(top: &J) -> String {
    let mut tw = TabWriter::new(20, 3);
    tw.write(&strings(&top["Titles"]).join("\t"));
    tw.write("\n");
    for p in top["Processes"].as_array().into_iter().flatten() {
        tw.write(&strings(p).join("\t"));
        tw.write("\n");
    }
    tw.finish()
}

pub fn run(ctx: &Ctx, p: &Parsed) -> Result<()> {
    let mut path = format!("/containers/{}/top", enc(&p.args[0]));
    if p.args.len() > 1 {
        path.push_str(&format!("?ps_args={}", enc(&p.args[1..].join(" "))));
    }
    let top = ctx.client.get_json(&path)?;
    out(&table(&top));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lays_out_like_docker_top() {
        // `docker top` against the real engine.
        let top = serde_json::json!({
            "Processes": [["root","15042","15020","91","17:03","?","00:01:53","sh -c while :; do :; done"]],
            "Titles": ["UID","PID","PPID","C","STIME","TTY","TIME","CMD"]
        });
        assert_eq!(
            table(&top),
            "UID                 PID                 PPID                C                   STIME               TTY                 TIME                CMD\n\
             root                15042               15020               91                  17:03               ?                   00:01:53            sh -c while :; do :; done\n"
        );
    }
}
