//! The container's environment, merged as Docker does: `PATH` (default),
//! `HOSTNAME` and `TERM` (with a TTY) first, then the container's `Env`, then
//! the image's `Env` for keys the container did not set; a later `KEY=value`
//! replaces an earlier one in place and a bare `KEY` unsets it.

use berth_image::ImageConfig;

use crate::model::Config;

/// `PATH` when neither the image nor the container sets one.
pub(crate) const DEFAULT_PATH: &str =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The environment of the container's process, with `HOSTNAME` taken from
/// `Config.Hostname` (the daemon fills it at create, as Docker does; no
/// `HOSTNAME` line while it is empty).
pub fn merged_env(config: &Config, image: &ImageConfig) -> Vec<String> {
    merge(config, image, &config.hostname)
}

/// [`merged_env`] with the hostname the container actually gets.
pub(crate) fn merge(config: &Config, image: &ImageConfig, hostname: &str) -> Vec<String> {
    let mut env = vec![format!("PATH={DEFAULT_PATH}")];
    if !hostname.is_empty() {
        env.push(format!("HOSTNAME={hostname}"));
    }
    if config.tty {
        env.push("TERM=xterm".to_string());
    }
    let own = config.env.as_deref().unwrap_or(&[]);
    let inherited = image
        .env
        .iter()
        .flatten()
        .filter(|img| !own.iter().any(|o| key(o) == key(img)));
    for entry in own.iter().chain(inherited) {
        apply(&mut env, entry);
    }
    env
}

fn key(entry: &str) -> &str {
    entry.split_once('=').map_or(entry, |(k, _)| k)
}

/// Replaces the entry with the same key or appends; `KEY` without `=` unsets.
fn apply(env: &mut Vec<String>, entry: &str) {
    let k = key(entry);
    let existing = env.iter().position(|e| key(e) == k);
    match (entry.contains('='), existing) {
        (true, Some(i)) => env[i] = entry.to_string(),
        (true, None) => env.push(entry.to_string()),
        (false, Some(i)) => {
            env.remove(i);
        }
        (false, None) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn cfg(env: &[&str], tty: bool) -> Config {
        Config {
            env: Some(v(env)),
            tty,
            hostname: "abc".into(),
            ..Config::default()
        }
    }

    fn img(env: &[&str]) -> ImageConfig {
        ImageConfig {
            env: Some(v(env)),
            ..ImageConfig::default()
        }
    }

    #[test]
    fn defaults_when_nothing_set() {
        let got = merged_env(&cfg(&[], false), &img(&[]));
        assert_eq!(got, v(&[&format!("PATH={DEFAULT_PATH}"), "HOSTNAME=abc"]));
    }

    #[test]
    fn tty_adds_term() {
        let got = merged_env(&cfg(&[], true), &img(&[]));
        assert_eq!(got[2], "TERM=xterm");
    }

    /// As Docker 20.10 prints `env` for an image with `ENV ZED=1 ALPHA=2`
    /// run with `-e BETA=3 -e ZED=9`.
    #[test]
    fn container_then_image_env_and_override_in_place() {
        let image = img(&["PATH=/img/bin", "ZED=1", "ALPHA=2"]);
        let got = merged_env(&cfg(&["BETA=3", "ZED=9"], false), &image);
        assert_eq!(
            got,
            v(&[
                "PATH=/img/bin",
                "HOSTNAME=abc",
                "BETA=3",
                "ZED=9",
                "ALPHA=2"
            ])
        );
    }

    #[test]
    fn container_overrides_hostname_path_and_term() {
        let got = merged_env(
            &cfg(
                &["HOSTNAME=zz", "PATH=/x", "TERM=vt100", "A=1", "A=2"],
                true,
            ),
            &img(&[]),
        );
        assert_eq!(got, v(&["PATH=/x", "HOSTNAME=zz", "TERM=vt100", "A=2"]));
    }

    #[test]
    fn bare_key_unsets() {
        let got = merged_env(&cfg(&["HOSTNAME", "FOO"], false), &img(&[]));
        assert_eq!(got, v(&[&format!("PATH={DEFAULT_PATH}")]));
    }

    #[test]
    fn no_hostname_line_without_hostname() {
        let config = Config::default();
        assert_eq!(
            merged_env(&config, &img(&[])),
            v(&[&format!("PATH={DEFAULT_PATH}")])
        );
    }
}
