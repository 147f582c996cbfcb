//! `GET /containers/{id}/top`: runs the host's `ps` (procps) with the
//! client's arguments (default `-ef`) and keeps the rows whose PID is in the
//! container's cgroup, as Docker does; PIDs are the host's.

use super::stats::cgroup_path;
use crate::daemon::Daemon;
use crate::error::{Error, Result};
use berth_runtime::cgroups::stats::StatsReader;
use serde_json::{json, Value};

/// The processes of a container as `ps` shows them.
#[derive(Debug, PartialEq)]
pub struct ProcessList {
    pub titles: Vec<String>,
    pub processes: Vec<Vec<String>>,
}

/// Refuses `-o key=PID…`-style arguments that rename the PID column (only
/// `pid=` is allowed), with Docker's message.
fn validate_ps_args(args: &str) -> Result<()> {
    let b = args.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            continue;
        }
        let key = &args[start..i];
        let mut j = i + 1;
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        let vstart = j;
        while j < b.len() && !b[j].is_ascii_whitespace() {
            j += 1;
        }
        let value = &args[vstart..j];
        if value.starts_with("PID") && key != "pid" {
            return Err(Error::internal(format!(
                "specifying \"{key}={value}\" is not allowed"
            )));
        }
        i += 1;
    }
    Ok(())
}

/// Fields split on ASCII whitespace only (unicode spaces stay in a field).
fn fields(line: &str) -> Vec<String> {
    line.split([' ', '\t', '\n', '\x0c', '\r'])
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect()
}

/// Keeps the rows of `pids`; a row beyond the titles' count joins its extra
/// fields into the last column (the command). Thread rows (`-` as PID, with
/// `ps -m`) follow their process.
pub fn parse_ps_output(output: &str, pids: &[i32]) -> Result<ProcessList> {
    let mut lines = output.split('\n');
    let titles = fields(lines.next().unwrap_or(""));
    let pid_index = titles
        .iter()
        .position(|t| t == "PID")
        .ok_or_else(|| Error::internal("Couldn't find PID field in ps output"))?;
    let mut processes = Vec::new();
    let mut keep_threads = false;
    let push = |processes: &mut Vec<Vec<String>>, f: Vec<String>| {
        let n = titles.len().saturating_sub(1);
        let mut row: Vec<String> = f.iter().take(n).cloned().collect();
        row.push(f.get(n..).map(|r| r.join(" ")).unwrap_or_default());
        processes.push(row);
    };
    for line in lines.filter(|l| !l.is_empty()) {
        let f = fields(line);
        let Some(p) = f.get(pid_index) else {
            continue;
        };
        if p == "-" {
            if keep_threads {
                push(&mut processes, f);
            }
            continue;
        }
        let pid: i32 = p
            .parse()
            .map_err(|e| Error::internal(format!("Unexpected pid '{p}': {e}")))?;
        keep_threads = pids.contains(&pid);
        if keep_threads {
            push(&mut processes, f);
        }
    }
    Ok(ProcessList { titles, processes })
}

async fn run_ps(args: &[String]) -> std::result::Result<Vec<u8>, String> {
    let out = tokio::process::Command::new("ps")
        .args(args)
        .output()
        .await
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr.split('\n').next().unwrap_or("").to_string();
    Err(if first.is_empty() {
        out.status.to_string()
    } else {
        first
    })
}

impl Daemon {
    /// `GET /containers/{id}/top?ps_args=`.
    pub async fn top(&self, key: &str, ps_args: &str) -> Result<Value> {
        let ps_args = if ps_args.is_empty() { "-ef" } else { ps_args };
        validate_ps_args(ps_args)?;
        let entry = self.containers.get(key)?;
        {
            let rec = entry.lock();
            if !rec.state.running || rec.state.restarting {
                return Err(Error::conflict(format!(
                    "Container {} is not running",
                    rec.id
                )));
            }
        }
        let path = cgroup_path(&self.config.container_dir(&entry.id), &entry.id);
        let pids =
            tokio::task::spawn_blocking(move || StatsReader::detect(&path).and_then(|r| r.procs()))
                .await
                .map_err(|e| Error::internal(e.to_string()))?
                .map_err(|e| Error::internal(e.to_string()))?;
        let mut args: Vec<String> = ps_args.split(' ').map(str::to_string).collect();
        let list = pids
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(",");
        args.push(format!("-q{list}"));
        let output = match run_ps(&args).await {
            Ok(o) => o,
            // Some options (such as `f`) cannot be combined with `q`.
            Err(_) => run_ps(&args[..args.len() - 1])
                .await
                .map_err(|e| Error::internal(format!("ps: {e}")))?,
        };
        let list = parse_ps_output(&String::from_utf8_lossy(&output), &pids)?;
        {
            let rec = entry.lock();
            self.emit_container(&rec, "top", &[]);
        }
        Ok(json!({"Processes": list.processes, "Titles": list.titles}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_containers_rows() {
        let out = "UID          PID    PPID  C STIME TTY          TIME CMD\n\
                   root           1       0  0 16:00 ?        00:00:01 /sbin/init\n\
                   root       15042   15020 91 17:03 ?        00:01:53 sh -c while :; do :; done\n";
        let l = parse_ps_output(out, &[15042]).unwrap();
        assert_eq!(
            l.titles,
            ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
        );
        assert_eq!(
            l.processes,
            [[
                "root",
                "15042",
                "15020",
                "91",
                "17:03",
                "?",
                "00:01:53",
                "sh -c while :; do :; done"
            ]]
        );
    }

    #[test]
    fn thread_rows_follow_their_process() {
        let out = "USER PID TID CMD\nroot 7 - sh\nroot - 7 -\nroot 8 - other\nroot - 8 -\n";
        let l = parse_ps_output(out, &[7]).unwrap();
        assert_eq!(l.processes.len(), 2);
        assert_eq!(l.processes[1], ["root", "-", "7", "-"]);
    }

    #[test]
    fn errors_like_docker() {
        assert_eq!(
            parse_ps_output("USER CMD\nroot x\n", &[1])
                .unwrap_err()
                .message,
            "Couldn't find PID field in ps output"
        );
        assert!(parse_ps_output("PID CMD\nabc x\n", &[1])
            .unwrap_err()
            .message
            .starts_with("Unexpected pid 'abc'"));
        assert!(validate_ps_args("-ef").is_ok());
        assert!(validate_ps_args("-o pid=PID").is_ok());
        assert_eq!(
            validate_ps_args("-o user=PID").unwrap_err().message,
            "specifying \"user=PID\" is not allowed"
        );
    }
}
