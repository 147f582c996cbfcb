//! Rewriting a container's /etc/hosts and /etc/resolv.conf when its
//! networking changes (start, connect, disconnect). The files are
//! bind-mounted into the container, so they are rewritten in place: a
//! rename would leave the container with the old inode.

use std::io::Write;
use std::path::Path;

use crate::etc_files;
use crate::model::{Config, HostConfig};

/// Replaces the content of `path` without replacing the file.
pub fn write_in_place(path: &Path, content: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)?;
    f.write_all(content.as_bytes())
}

/// The container's own line: `ip\thost.domain host`.
pub fn own_line(ip: &str, config: &Config) -> String {
    if config.domainname.is_empty() {
        format!("{ip}\t{}", config.hostname)
    } else {
        format!(
            "{ip}\t{}.{} {}",
            config.hostname, config.domainname, config.hostname
        )
    }
}

/// What the files of one container should say.
pub struct Files<'a> {
    pub config: &'a Config,
    pub host: &'a HostConfig,
    /// `/etc/hosts` lines of `--link`s.
    pub links: Vec<String>,
    /// The container's addresses, primary first.
    pub ips: Vec<String>,
    /// Whether the embedded DNS server answers for it.
    pub embedded_dns: bool,
}

impl Files<'_> {
    /// Writes `hosts` and `resolv.conf` in the bundle `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        let host_hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
        let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let own: Vec<String> = self
            .ips
            .iter()
            .map(|ip| own_line(ip, self.config))
            .collect();
        write_in_place(
            &dir.join("hosts"),
            &etc_files::hosts_with(self.host, &host_hosts, &self.links, &own),
        )?;
        write_in_place(
            &dir.join("resolv.conf"),
            &etc_files::resolv_conf_with(self.host, &host_resolv, self.embedded_dns),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_in_place() {
        let tmp = tempfile::tempdir().unwrap();
        for f in ["hosts", "resolv.conf"] {
            std::fs::write(tmp.path().join(f), "old old old old\n").unwrap();
        }
        use std::os::unix::fs::MetadataExt;
        let ino = std::fs::metadata(tmp.path().join("hosts")).unwrap().ino();
        let config = Config {
            hostname: "myh".into(),
            domainname: "example.com".into(),
            ..Default::default()
        };
        let host = HostConfig::default();
        Files {
            config: &config,
            host: &host,
            links: vec![],
            ips: vec!["172.17.0.4".into()],
            embedded_dns: true,
        }
        .write(tmp.path())
        .unwrap();
        let hosts = std::fs::read_to_string(tmp.path().join("hosts")).unwrap();
        assert!(
            hosts.ends_with("172.17.0.4\tmyh.example.com myh\n"),
            "{hosts}"
        );
        assert_eq!(
            std::fs::metadata(tmp.path().join("hosts")).unwrap().ino(),
            ino
        );
        let resolv = std::fs::read_to_string(tmp.path().join("resolv.conf")).unwrap();
        assert!(resolv.contains("nameserver 127.0.0.11\n"), "{resolv}");
        assert!(write_in_place(&tmp.path().join("missing"), "x").is_err());
    }
}
