//! berthd: parses flags (and `daemon.json`), opens the daemon and serves the
//! Engine API until SIGTERM/SIGINT. Containers keep running when it exits.

use berth_daemon::{Daemon, DaemonConfig};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "Usage: berthd [OPTIONS]

A Docker-compatible container engine

Options:
  -H, --host list          Daemon socket(s) to listen on (unix:///run/berth/berth.sock, tcp://127.0.0.1:2375)
      --data-root string   Root directory of persistent state (default \"/var/lib/berth\")
      --exec-root string   Root directory for runtime state (default \"/run/berth\")
      --shim string        Path of berth-shim (default: next to berthd)
      --config-file string Daemon configuration file (default \"/etc/berth/daemon.json\")
      --registry-mirror list     Preferred registry mirror
      --insecure-registry list   Enable insecure registry communication
      --bip string         Specify default-bridge IP (e.g. 10.20.0.1/16)
      --fixed-cidr string  IPv4 subnet for the default bridge's addresses
      --default-address-pool list  Default address pools for networks (base=10.10.0.0/16,size=24)
  -h, --help               Print usage";

struct Flags {
    hosts: Vec<String>,
    data_root: Option<PathBuf>,
    exec_root: Option<PathBuf>,
    shim: Option<PathBuf>,
    config_file: Option<PathBuf>,
    mirrors: Vec<String>,
    insecure: Vec<String>,
    bip: Option<String>,
    fixed_cidr: Option<String>,
    pools: Vec<String>,
}

fn parse_flags() -> Result<Flags, String> {
    let mut f = Flags {
        hosts: vec![],
        data_root: None,
        exec_root: None,
        shim: None,
        config_file: None,
        mirrors: vec![],
        insecure: vec![],
        bip: None,
        fixed_cidr: None,
        pools: vec![],
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        if name == "-h" || name == "--help" {
            println!("{USAGE}");
            std::process::exit(0);
        }
        if name == "-D" || name == "--debug" {
            continue;
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("flag needs an argument: {name}"))
        };
        match name.as_str() {
            "-H" | "--host" => f.hosts.push(value()?),
            "--data-root" => f.data_root = Some(value()?.into()),
            "--exec-root" => f.exec_root = Some(value()?.into()),
            "--shim" => f.shim = Some(value()?.into()),
            "--config-file" => f.config_file = Some(value()?.into()),
            "--registry-mirror" => f.mirrors.push(value()?),
            "--insecure-registry" => f.insecure.push(value()?),
            "--bip" => f.bip = Some(value()?),
            "--fixed-cidr" => f.fixed_cidr = Some(value()?),
            "--default-address-pool" => f.pools.push(value()?),
            _ => return Err(format!("unknown flag: {name}")),
        }
    }
    Ok(f)
}

/// Values from daemon.json that flags did not set (`hosts`, `data-root`, `exec-root`).
fn apply_config_file(f: &mut Flags) -> Result<(), String> {
    let (path, explicit) = match &f.config_file {
        Some(p) => (p.clone(), true),
        None => (PathBuf::from("/etc/berth/daemon.json"), false),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(_) if !explicit => return Ok(()),
        Err(e) => return Err(format!("unable to read {}: {e}", path.display())),
    };
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("unable to parse {}: {e}", path.display()))?;
    if f.hosts.is_empty() {
        if let Some(h) = v["hosts"].as_array() {
            f.hosts = h
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect();
        }
    }
    if f.data_root.is_none() {
        f.data_root = v["data-root"].as_str().map(PathBuf::from);
    }
    if f.exec_root.is_none() {
        f.exec_root = v["exec-root"].as_str().map(PathBuf::from);
    }
    let list = |k: &str| -> Vec<String> {
        v[k].as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    if f.mirrors.is_empty() {
        f.mirrors = list("registry-mirrors");
    }
    if f.insecure.is_empty() {
        f.insecure = list("insecure-registries");
    }
    let text_of = |k: &str| v[k].as_str().map(str::to_string);
    f.bip = f.bip.take().or_else(|| text_of("bip"));
    f.fixed_cidr = f.fixed_cidr.take().or_else(|| text_of("fixed-cidr"));
    if f.pools.is_empty() {
        f.pools = v["default-address-pools"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                format!(
                    "base={},size={}",
                    p["base"].as_str().unwrap_or(""),
                    p["size"]
                )
            })
            .collect();
    }
    Ok(())
}

async fn listen(daemon: std::sync::Arc<Daemon>, host: &str) -> Result<(), String> {
    if let Some(path) = host.strip_prefix("unix://") {
        let path = PathBuf::from(path);
        if std::os::unix::net::UnixStream::connect(&path).is_ok() {
            return Err(format!(
                "another daemon is already listening on {}",
                path.display()
            ));
        }
        let _ = std::fs::remove_file(&path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let l = tokio::net::UnixListener::bind(&path)
            .map_err(|e| format!("listen {}: {e}", path.display()))?;
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o660));
        eprintln!("berthd: API listening on {}", path.display());
        tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                berth_api::serve_connection(daemon.clone(), s);
            }
        });
    } else if let Some(addr) = host.strip_prefix("tcp://") {
        let l = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("listen {addr}: {e}"))?;
        eprintln!("berthd: API listening on {addr}");
        tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                let _ = s.set_nodelay(true);
                berth_api::serve_connection(daemon.clone(), s);
            }
        });
    } else {
        return Err(format!(
            "invalid host {host:?}: use unix:///path or tcp://host:port"
        ));
    }
    Ok(())
}

async fn run() -> Result<(), String> {
    let mut f = parse_flags()?;
    apply_config_file(&mut f)?;
    if f.hosts.is_empty() {
        f.hosts.push("unix:///run/berth/berth.sock".into());
    }
    let shim = match f.shim {
        Some(s) => s,
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("berth-shim"),
    };
    let config = DaemonConfig {
        data_root: f.data_root.unwrap_or_else(|| "/var/lib/berth".into()),
        exec_root: f.exec_root.unwrap_or_else(|| "/run/berth".into()),
        shim_path: shim,
        registry_mirrors: f.mirrors,
        insecure_registries: f.insecure,
        network: berth_daemon::network::NetworkOptions::parse(
            f.bip.as_deref(),
            f.fixed_cidr.as_deref(),
            &f.pools,
        )
        .map_err(|e| e.to_string())?,
    };
    let daemon = Daemon::open(config).await.map_err(|e| e.to_string())?;
    for h in &f.hosts {
        listen(daemon.clone(), h).await?;
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| e.to_string())?;
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| e.to_string())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    eprintln!("berthd: shutting down; containers keep running");
    for h in &f.hosts {
        if let Some(p) = h.strip_prefix("unix://") {
            let _ = std::fs::remove_file(p);
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("berthd: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("berthd: {e}");
            ExitCode::FAILURE
        }
    }
}
