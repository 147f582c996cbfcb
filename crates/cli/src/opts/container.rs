//! The container options shared by `run` and `create` (docker's
//! `containerOptions`): the flag table and the translation of parsed flags
//! into the `/containers/create` body (Config + HostConfig +
//! NetworkingConfig) with docker's field names and validation errors.

use super::{kv, mounts, ports};
use crate::args::{Flag, Parsed};
use serde_json::{json, Map, Value};

/// Flags of `run` and `create`.
pub const CONTAINER_FLAGS: &[Flag] = &[
    Flag::list("add-host", None, "Add a custom host-to-IP mapping (host:ip)"),
    Flag::list("annotation", None, "Add an annotation to the container (passed through to the OCI runtime)").typ("map"),
    Flag::list("attach", Some('a'), "Attach to STDIN, STDOUT or STDERR"),
    Flag::int("blkio-weight", None, "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)").typ("uint16"),
    Flag::list("blkio-weight-device", None, "Block IO weight (relative device weight)"),
    Flag::list("cap-add", None, "Add Linux capabilities"),
    Flag::list("cap-drop", None, "Drop Linux capabilities"),
    Flag::str("cgroup-parent", None, "Optional parent cgroup for the container"),
    Flag::str("cgroupns", None, "Cgroup namespace to use (host|private)"),
    Flag::str("cidfile", None, "Write the container ID to the file"),
    Flag::int("cpu-period", None, "Limit CPU CFS (Completely Fair Scheduler) period"),
    Flag::int("cpu-quota", None, "Limit CPU CFS (Completely Fair Scheduler) quota"),
    Flag::int("cpu-rt-period", None, "Limit CPU real-time period in microseconds"),
    Flag::int("cpu-rt-runtime", None, "Limit CPU real-time runtime in microseconds"),
    Flag::int("cpu-shares", Some('c'), "CPU shares (relative weight)"),
    Flag::decimal("cpus", "Number of CPUs"),
    Flag::str("cpuset-cpus", None, "CPUs in which to allow execution (0-3, 0,1)"),
    Flag::str("cpuset-mems", None, "MEMs in which to allow execution (0-3, 0,1)"),
    Flag::list("device", None, "Add a host device to the container"),
    Flag::list("device-cgroup-rule", None, "Add a rule to the cgroup allowed devices list"),
    Flag::list("device-read-bps", None, "Limit read rate (bytes per second) from a device"),
    Flag::list("device-read-iops", None, "Limit read rate (IO per second) from a device"),
    Flag::list("device-write-bps", None, "Limit write rate (bytes per second) to a device"),
    Flag::list("device-write-iops", None, "Limit write rate (IO per second) to a device"),
    Flag::bool("disable-content-trust", None, "Skip image verification").default("true"),
    Flag::list("dns", None, "Set custom DNS servers"),
    Flag::list("dns-opt", None, "Set DNS options").hidden(),
    Flag::list("dns-option", None, "Set DNS options"),
    Flag::list("dns-search", None, "Set custom DNS search domains"),
    Flag::str("domainname", None, "Container NIS domain name"),
    Flag::str("entrypoint", None, "Overwrite the default ENTRYPOINT of the image"),
    Flag::list("env", Some('e'), "Set environment variables"),
    Flag::list("env-file", None, "Read in a file of environment variables"),
    Flag::list("expose", None, "Expose a port or a range of ports"),
    Flag::str("gpus", None, "GPU devices to add to the container ('all' to pass all GPUs)").typ("gpu-request"),
    Flag::list("group-add", None, "Add additional groups to join"),
    Flag::str("health-cmd", None, "Command to run to check health"),
    Flag::str("health-interval", None, "Time between running the check (ms|s|m|h) (default 0s)").typ("duration"),
    Flag::int("health-retries", None, "Consecutive failures needed to report unhealthy"),
    Flag::str("health-start-interval", None, "Time between running the check during the start period (ms|s|m|h) (default 0s)").typ("duration"),
    Flag::str("health-start-period", None, "Start period for the container to initialize before starting health-retries countdown (ms|s|m|h) (default 0s)").typ("duration"),
    Flag::str("health-timeout", None, "Maximum time to allow one check to run (ms|s|m|h) (default 0s)").typ("duration"),
    Flag::str("hostname", Some('h'), "Container host name"),
    Flag::bool("init", None, "Run an init inside the container that forwards signals and reaps processes"),
    Flag::bool("interactive", Some('i'), "Keep STDIN open even if not attached"),
    Flag::str("ip", None, "IPv4 address (e.g., 172.30.100.104)"),
    Flag::str("ip6", None, "IPv6 address (e.g., 2001:db8::33)"),
    Flag::str("ipc", None, "IPC mode to use"),
    Flag::str("isolation", None, "Container isolation technology"),
    Flag::bytes("kernel-memory", None, "Kernel memory limit"),
    Flag::list("label", Some('l'), "Set meta data on a container"),
    Flag::list("label-file", None, "Read in a line delimited file of labels"),
    Flag::list("link", None, "Add link to another container"),
    Flag::list("link-local-ip", None, "Container IPv4/IPv6 link-local addresses"),
    Flag::str("log-driver", None, "Logging driver for the container"),
    Flag::list("log-opt", None, "Log driver options"),
    Flag::str("mac-address", None, "Container MAC address (e.g., 92:d0:c6:0a:29:33)"),
    Flag::bytes("memory", Some('m'), "Memory limit"),
    Flag::bytes("memory-reservation", None, "Memory soft limit"),
    Flag::str("memory-swap", None, "Swap limit equal to memory plus swap: '-1' to enable unlimited swap").typ("bytes"),
    Flag::int("memory-swappiness", None, "Tune container memory swappiness (0 to 100)").default("-1"),
    Flag::list("mount", None, "Attach a filesystem mount to the container").typ("mount"),
    Flag::str("name", None, "Assign a name to the container"),
    Flag::list("net", None, "Connect a container to a network").typ("network").hidden(),
    Flag::list("net-alias", None, "Add network-scoped alias for the container").hidden(),
    Flag::list("network", None, "Connect a container to a network").typ("network"),
    Flag::list("network-alias", None, "Add network-scoped alias for the container"),
    Flag::bool("no-healthcheck", None, "Disable any container-specified HEALTHCHECK"),
    Flag::bool("oom-kill-disable", None, "Disable OOM Killer"),
    Flag::int("oom-score-adj", None, "Tune host's OOM preferences (-1000 to 1000)"),
    Flag::str("pid", None, "PID namespace to use"),
    Flag::int("pids-limit", None, "Tune container pids limit (set -1 for unlimited)"),
    Flag::str("platform", None, "Set platform if server is multi-platform capable"),
    Flag::bool("privileged", None, "Give extended privileges to this container"),
    Flag::list("publish", Some('p'), "Publish a container's port(s) to the host"),
    Flag::bool("publish-all", Some('P'), "Publish all exposed ports to random ports"),
    Flag::str("pull", None, "Pull image before running (\"always\", \"missing\", \"never\")").default("\"missing\""),
    Flag::bool("quiet", Some('q'), "Suppress the pull output"),
    Flag::bool("read-only", None, "Mount the container's root filesystem as read only"),
    Flag::str("restart", None, "Restart policy to apply when a container exits").default("\"no\""),
    Flag::bool("rm", None, "Automatically remove the container and its associated anonymous volumes when it exits"),
    Flag::str("runtime", None, "Runtime to use for this container"),
    Flag::list("security-opt", None, "Security Options"),
    Flag::bytes("shm-size", None, "Size of /dev/shm"),
    Flag::str("stop-signal", None, "Signal to stop the container"),
    Flag::int("stop-timeout", None, "Timeout (in seconds) to stop a container"),
    Flag::list("storage-opt", None, "Storage driver options for the container"),
    Flag::list("sysctl", None, "Sysctl options").typ("map"),
    Flag::list("tmpfs", None, "Mount a tmpfs directory"),
    Flag::bool("tty", Some('t'), "Allocate a pseudo-TTY"),
    Flag::list("ulimit", None, "Ulimit options").typ("ulimit"),
    Flag::bool("use-api-socket", None, "Bind mount Docker API socket and required auth"),
    Flag::str("user", Some('u'), "Username or UID (format: <name|uid>[:<group|gid>])"),
    Flag::str("userns", None, "User namespace to use"),
    Flag::str("uts", None, "UTS namespace to use"),
    Flag::list("volume", Some('v'), "Bind mount a volume"),
    Flag::str("volume-driver", None, "Optional volume driver for the container"),
    Flag::list("volumes-from", None, "Mount volumes from the specified container(s)"),
    Flag::str("workdir", Some('w'), "Working directory inside the container"),
];

/// What `run`/`create` send and how they attach.
#[derive(Debug)]
pub struct ContainerConfig {
    /// The `/containers/create` body.
    pub body: Value,
    pub name: String,
    pub platform: String,
    pub pull: String,
    pub tty: bool,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    pub auto_remove: bool,
    pub image: String,
    pub cidfile: String,
    pub quiet: bool,
}

fn list_of(p: &Parsed, names: &[&str]) -> Vec<String> {
    names.iter().flat_map(|n| p.list(n)).collect()
}

fn validated(
    values: Vec<String>,
    f: fn(&str) -> Result<String, String>,
) -> Result<Vec<String>, String> {
    values.iter().map(|v| f(v)).collect()
}

fn str_array(v: &[String]) -> Value {
    json!(v)
}

/// A Go nil slice when empty (docker's `GetSlice` of an unset list).
fn nil_or_array(v: &[String]) -> Value {
    if v.is_empty() {
        Value::Null
    } else {
        json!(v)
    }
}

fn parse_all(
    values: Vec<String>,
    f: impl Fn(&str) -> Result<Value, String>,
) -> Result<Vec<Value>, String> {
    values.iter().map(|v| f(v)).collect()
}

fn duration_nanos(p: &Parsed, name: &str) -> Result<i64, String> {
    match p.str(name) {
        None => Ok(0),
        Some(v) => berth_util::time::parse_duration(v)
            .map(|d| d.as_nanos() as i64)
            .ok_or_else(|| {
                format!(
                    "invalid argument {v:?} for \"--{name}\" flag: time: invalid duration {v:?}"
                )
            }),
    }
}

/// Builds the create request from parsed flags; `args` are IMAGE [COMMAND…].
pub fn build(p: &Parsed, console_size: Option<(u16, u16)>) -> Result<ContainerConfig, String> {
    let image = p.args.first().cloned().unwrap_or_default();
    let cmd: Vec<String> = p.args.iter().skip(1).cloned().collect();

    let attach = validated(p.list("attach"), kv::attach)?;
    let stdin_open = p.bool("interactive");
    let mut attach_stdin = attach.iter().any(|a| a == "stdin") || stdin_open;
    let mut attach_stdout = attach.iter().any(|a| a == "stdout");
    let mut attach_stderr = attach.iter().any(|a| a == "stderr");
    if attach.is_empty() {
        attach_stdout = true;
        attach_stderr = true;
    }
    if !stdin_open && attach.iter().all(|a| a != "stdin") {
        attach_stdin = false;
    }

    let swappiness = p.int("memory-swappiness").unwrap_or(-1);
    if swappiness != -1 && !(0..=100).contains(&swappiness) {
        return Err(format!(
            "invalid value: {swappiness}. Valid memory swappiness range is 0-100"
        ));
    }

    let vols = mounts::volumes(&p.list("volume"))?;
    let mut ports = ports::Ports::default();
    for v in p.list("publish") {
        ports::publish(&mut ports, &v)?;
    }
    for e in p.list("expose") {
        ports::expose(&mut ports, &e)?;
    }

    let mut env = Vec::new();
    for f in p.list("env-file") {
        env.extend(kv::parse_kv_file(&f, true)?);
    }
    env.extend(validated(p.list("env"), kv::env_value)?);
    let mut labels = Vec::new();
    for f in p.list("label-file") {
        labels.extend(kv::parse_kv_file(&f, false)?);
    }
    labels.extend(p.list("label"));

    for (flag, what) in [
        ("pid", "PID"),
        ("uts", "UTS"),
        ("userns", "USER"),
        ("cgroupns", "CGROUP"),
    ] {
        if let Some(v) = p.str(flag) {
            let ok = match flag {
                "cgroupns" => matches!(v, "" | "host" | "private"),
                "userns" => matches!(v, "" | "host"),
                _ => v.is_empty() || v == "host" || v.starts_with("container:"),
            };
            if !ok {
                return Err(format!("--{flag}: invalid {what} mode"));
            }
        }
    }

    let restart = kv::restart_policy(&p.string("restart"))?;
    let auto_remove = p.bool("rm");
    if auto_remove && restart["Name"] != "no" && restart["Name"] != "" {
        return Err("conflicting options: cannot specify both --restart and --rm".into());
    }
    let log_driver = p.string("log-driver");
    let log_config = kv::log_opts(&log_driver, &p.list("log-opt"))?;
    let security = kv::security_opts(&p.list("security-opt"))?;
    let ulimits: Vec<Value> = p
        .list("ulimit")
        .iter()
        .map(|u| kv::ulimit(u))
        .collect::<Result<_, _>>()?;
    let devices: Vec<Value> = p
        .list("device")
        .iter()
        .map(|d| kv::device(d))
        .collect::<Result<_, _>>()?;
    let extra_hosts = validated(p.list("add-host"), kv::extra_host)?;
    let dns = validated(p.list("dns"), kv::dns)?;
    let mounts: Vec<Value> = p
        .list("mount")
        .iter()
        .map(|m| mounts::mount(m))
        .collect::<Result<_, _>>()?;
    let (cap_add, cap_drop) = kv::effective_caps(&p.list("cap-add"), &p.list("cap-drop"));
    let weight_devices = parse_all(p.list("blkio-weight-device"), kv::weight_device)?;
    let read_bps = parse_all(p.list("device-read-bps"), |v| kv::throttle_device(v, true))?;
    let write_bps = parse_all(p.list("device-write-bps"), |v| kv::throttle_device(v, true))?;
    let read_iops = parse_all(p.list("device-read-iops"), |v| {
        kv::throttle_device(v, false)
    })?;
    let write_iops = parse_all(p.list("device-write-iops"), |v| {
        kv::throttle_device(v, false)
    })?;

    let memory_swap = match p.str("memory-swap") {
        None => 0,
        Some("-1") => -1,
        Some(v) => crate::fmt::units::ram_in_bytes(v)
            .map_err(|e| format!("invalid argument {v:?} for \"--memory-swap\" flag: {e}"))?,
    };
    let nano_cpus = p
        .decimal("cpus")
        .map(|c| (c * 1e9).round() as i64)
        .unwrap_or(0);

    // Health check.
    let health_set = [
        "health-cmd",
        "health-interval",
        "health-timeout",
        "health-start-period",
        "health-retries",
        "health-start-interval",
    ]
    .iter()
    .any(|f| p.changed(f));
    let healthcheck = if p.bool("no-healthcheck") {
        if health_set {
            return Err("--no-healthcheck conflicts with --health-* options".into());
        }
        Some(json!({"Test": ["NONE"]}))
    } else if health_set {
        let test = match p.str("health-cmd") {
            Some(c) if !c.is_empty() => json!(["CMD-SHELL", c]),
            _ => Value::Null,
        };
        Some(json!({
            "Test": test,
            "Interval": duration_nanos(p, "health-interval")?,
            "Timeout": duration_nanos(p, "health-timeout")?,
            "StartPeriod": duration_nanos(p, "health-start-period")?,
            "StartInterval": duration_nanos(p, "health-start-interval")?,
            "Retries": p.int("health-retries").unwrap_or(0),
        }))
    } else {
        None
    };

    let entrypoint = match p.str("entrypoint") {
        Some("") => json!([""]),
        Some(e) => json!([e]),
        None => Value::Null,
    };
    let networks = list_of(p, &["network", "net"]);
    let network_mode = networks
        .first()
        .cloned()
        .unwrap_or_else(|| "default".to_string());
    let mut volumes_map = Map::new();
    for v in &vols.anonymous {
        volumes_map.insert(v.clone(), json!({}));
    }

    let mut config = json!({
        "Hostname": p.string("hostname"),
        "Domainname": p.string("domainname"),
        "User": p.string("user"),
        "AttachStdin": attach_stdin,
        "AttachStdout": attach_stdout,
        "AttachStderr": attach_stderr,
        "Tty": p.bool("tty"),
        "OpenStdin": stdin_open,
        "StdinOnce": stdin_open && attach_stdin,
        "Env": str_array(&env),
        "Cmd": if cmd.is_empty() { Value::Null } else { json!(cmd) },
        "Image": image,
        "Volumes": if volumes_map.is_empty() { Value::Null } else { Value::Object(volumes_map) },
        "WorkingDir": p.string("workdir"),
        "Entrypoint": entrypoint,
        "Labels": kv::to_map(&labels),
    });
    let c = config.as_object_mut().ok_or("internal error")?;
    if !ports.exposed.is_empty() {
        c.insert("ExposedPorts".into(), ports.exposed_json());
    }
    if let Some(s) = p.str("stop-signal").filter(|s| !s.is_empty()) {
        c.insert("StopSignal".into(), json!(s));
    }
    if p.changed("stop-timeout") {
        c.insert(
            "StopTimeout".into(),
            json!(p.int("stop-timeout").unwrap_or(0)),
        );
    }
    if let Some(h) = healthcheck {
        c.insert("Healthcheck".into(), h);
    }
    if let Some(m) = p.str("mac-address").filter(|s| !s.is_empty()) {
        c.insert("MacAddress".into(), json!(m));
    }

    let mut host = json!({
        "Binds": if vols.binds.is_empty() { Value::Null } else { json!(vols.binds) },
        "ContainerIDFile": p.string("cidfile"),
        "LogConfig": {"Type": log_driver, "Config": log_config},
        "NetworkMode": network_mode,
        "PortBindings": ports.bindings_json(),
        "RestartPolicy": restart,
        "AutoRemove": auto_remove,
        "VolumeDriver": p.string("volume-driver"),
        "VolumesFrom": nil_or_array(&p.list("volumes-from")),
        "ConsoleSize": match console_size { Some((h, w)) => json!([h, w]), None => json!([0, 0]) },
        "CapAdd": nil_or_array(&cap_add),
        "CapDrop": nil_or_array(&cap_drop),
        "CgroupnsMode": p.string("cgroupns"),
        "Dns": str_array(&dns),
        "DnsOptions": str_array(&list_of(p, &["dns-option", "dns-opt"])),
        "DnsSearch": str_array(&p.list("dns-search")),
        "ExtraHosts": nil_or_array(&extra_hosts),
        "GroupAdd": nil_or_array(&p.list("group-add")),
        "IpcMode": p.string("ipc"),
        "Cgroup": "",
        "Links": nil_or_array(&p.list("link")),
        "OomScoreAdj": p.int("oom-score-adj").unwrap_or(0),
        "PidMode": p.string("pid"),
        "Privileged": p.bool("privileged"),
        "PublishAllPorts": p.bool("publish-all"),
        "ReadonlyRootfs": p.bool("read-only"),
        "SecurityOpt": nil_or_array(&security),
        "StorageOpt": kv::to_map(&p.list("storage-opt")),
        "Tmpfs": mounts::tmpfs(&p.list("tmpfs")),
        "UTSMode": p.string("uts"),
        "UsernsMode": p.string("userns"),
        "ShmSize": p.bytes("shm-size").unwrap_or(0),
        "Sysctls": kv::to_map(&p.list("sysctl")),
        "Runtime": p.string("runtime"),
        "Isolation": p.string("isolation"),
        "CpuShares": p.int("cpu-shares").unwrap_or(0),
        "Memory": p.bytes("memory").unwrap_or(0),
        "NanoCpus": nano_cpus,
        "CgroupParent": p.string("cgroup-parent"),
        "BlkioWeight": p.int("blkio-weight").unwrap_or(0),
        "CpuPeriod": p.int("cpu-period").unwrap_or(0),
        "CpuQuota": p.int("cpu-quota").unwrap_or(0),
        "CpuRealtimePeriod": p.int("cpu-rt-period").unwrap_or(0),
        "CpuRealtimeRuntime": p.int("cpu-rt-runtime").unwrap_or(0),
        "CpusetCpus": p.string("cpuset-cpus"),
        "CpusetMems": p.string("cpuset-mems"),
        "Devices": devices,
        "DeviceCgroupRules": nil_or_array(&p.list("device-cgroup-rule")),
        "BlkioWeightDevice": weight_devices,
        "BlkioDeviceReadBps": read_bps,
        "BlkioDeviceWriteBps": write_bps,
        "BlkioDeviceReadIOps": read_iops,
        "BlkioDeviceWriteIOps": write_iops,
        "KernelMemory": p.bytes("kernel-memory").unwrap_or(0),
        "MemoryReservation": p.bytes("memory-reservation").unwrap_or(0),
        "MemorySwap": memory_swap,
        "MemorySwappiness": swappiness,
        "OomKillDisable": p.bool("oom-kill-disable"),
        "PidsLimit": match p.int("pids-limit") { Some(n) => json!(n), None => Value::Null },
        "Ulimits": ulimits,
        "Mounts": if mounts.is_empty() { Value::Null } else { json!(mounts) },
    });
    let h = host.as_object_mut().ok_or("internal error")?;
    if p.changed("init") {
        h.insert("Init".into(), json!(p.bool("init")));
    }
    let ann = p.list("annotation");
    if !ann.is_empty() {
        h.insert("Annotations".into(), kv::to_map(&ann));
    }

    let mut endpoints = Map::new();
    let aliases = list_of(p, &["network-alias", "net-alias"]);
    let ip = p.string("ip");
    let ip6 = p.string("ip6");
    let link_local = p.list("link-local-ip");
    let mut ep = Map::new();
    if !aliases.is_empty() {
        ep.insert("Aliases".into(), json!(aliases));
    }
    if !ip.is_empty() || !ip6.is_empty() || !link_local.is_empty() {
        ep.insert(
            "IPAMConfig".into(),
            json!({"IPv4Address": ip, "IPv6Address": ip6, "LinkLocalIPs": link_local}),
        );
    }
    if networks.len() <= 1 {
        if !ep.is_empty() {
            endpoints.insert(network_mode.clone(), Value::Object(ep));
        }
    } else {
        for (i, n) in networks.iter().enumerate() {
            if endpoints.contains_key(n) {
                return Err(format!("network {n:?} is specified multiple times"));
            }
            let e = if i == 0 {
                Value::Object(ep.clone())
            } else {
                json!({})
            };
            endpoints.insert(n.clone(), e);
        }
    }

    let mut body = config;
    if let Some(o) = body.as_object_mut() {
        o.insert("HostConfig".into(), host);
        o.insert(
            "NetworkingConfig".into(),
            json!({"EndpointsConfig": endpoints}),
        );
    }

    let pull = p.str("pull").unwrap_or("missing").to_string();
    if !matches!(pull.as_str(), "always" | "missing" | "never") {
        return Err(format!(
            "invalid pull option: '{pull}': must be one of \"always\", \"missing\" or \"never\""
        ));
    }

    Ok(ContainerConfig {
        body,
        name: p.string("name"),
        platform: p.string("platform"),
        pull,
        tty: p.bool("tty"),
        attach_stdin,
        attach_stdout,
        attach_stderr,
        auto_remove,
        image: p.args.first().cloned().unwrap_or_default(),
        cidfile: p.string("cidfile"),
        quiet: p.bool("quiet"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{parse, Arity, Outcome, Spec};

    const SPEC: Spec = Spec {
        path: "run",
        usage: "",
        about: "",
        aliases: "",
        flags: &[CONTAINER_FLAGS],
        interspersed: false,
        arity: Arity::Min(1),
    };

    fn build_from(s: &str) -> Result<ContainerConfig, String> {
        let argv: Vec<String> = s.split_whitespace().map(String::from).collect();
        let Ok(Outcome::Run(p)) = parse(&SPEC, &argv) else {
            panic!("parse failed")
        };
        build(&p, None)
    }

    #[test]
    fn builds_docker_shapes() {
        let c = build_from(
            "-it --name x -e A=1 -w /w -u 1:1 -h hn -l a=b -m 512m --cpus 1.5 --pids-limit 10 \
             --ulimit nofile=10:20 --read-only --cap-add NET_ADMIN --init --shm-size 64m --tmpfs /t:size=1m \
             -p 8080:80 -v /h:/c --restart on-failure:2 --add-host db:1.2.3.4 --dns 8.8.8.8 --stop-signal SIGINT \
             --stop-timeout 5 --log-driver json-file --log-opt max-size=1m busybox sh -c true",
        )
        .unwrap();
        let b = &c.body;
        assert_eq!(b["Image"], "busybox");
        assert_eq!(b["Cmd"], json!(["sh", "-c", "true"]));
        assert_eq!(b["Env"], json!(["A=1"]));
        assert_eq!(b["WorkingDir"], "/w");
        assert_eq!(b["User"], "1:1");
        assert_eq!(b["Hostname"], "hn");
        assert_eq!(b["Labels"], json!({"a": "b"}));
        assert_eq!(b["Tty"], true);
        assert_eq!(b["OpenStdin"], true);
        assert_eq!(b["StdinOnce"], true);
        assert_eq!(b["AttachStdin"], true);
        assert_eq!(b["StopSignal"], "SIGINT");
        assert_eq!(b["StopTimeout"], 5);
        assert_eq!(b["ExposedPorts"], json!({"80/tcp": {}}));
        let h = &b["HostConfig"];
        assert_eq!(h["Memory"], 512 << 20);
        assert_eq!(h["NanoCpus"], 1_500_000_000i64);
        assert_eq!(h["PidsLimit"], 10);
        assert_eq!(
            h["Ulimits"],
            json!([{"Name": "nofile", "Hard": 20, "Soft": 10}])
        );
        assert_eq!(h["ReadonlyRootfs"], true);
        assert_eq!(h["CapAdd"], json!(["CAP_NET_ADMIN"]));
        assert_eq!(h["Init"], true);
        assert_eq!(h["ShmSize"], 64 << 20);
        assert_eq!(h["Tmpfs"], json!({"/t": "size=1m"}));
        assert_eq!(h["Binds"], json!(["/h:/c"]));
        assert_eq!(
            h["PortBindings"],
            json!({"80/tcp": [{"HostIp": "", "HostPort": "8080"}]})
        );
        assert_eq!(
            h["RestartPolicy"],
            json!({"Name": "on-failure", "MaximumRetryCount": 2})
        );
        assert_eq!(h["ExtraHosts"], json!(["db:1.2.3.4"]));
        assert_eq!(
            h["LogConfig"],
            json!({"Type": "json-file", "Config": {"max-size": "1m"}})
        );
        assert_eq!(h["NetworkMode"], "default");
        assert_eq!(c.name, "x");
    }

    #[test]
    fn detached_defaults_and_errors() {
        let c = build_from("busybox").unwrap();
        assert_eq!(c.body["Cmd"], Value::Null);
        assert_eq!(c.body["AttachStdin"], false);
        assert_eq!(c.body["AttachStdout"], true);
        assert!(c.body["HostConfig"].get("Init").is_none());
        assert_eq!(
            build_from("--rm --restart always busybox").unwrap_err(),
            "conflicting options: cannot specify both --restart and --rm"
        );
        assert!(build_from("--entrypoint= busybox").unwrap().body["Entrypoint"] == json!([""]));
        assert!(build_from("--pull sometimes busybox").is_err());
    }
}
