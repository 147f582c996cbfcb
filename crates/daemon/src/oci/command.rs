//! The container's command line and working directory: Docker's interplay of
//! the container's and the image's `Entrypoint`, `Cmd` and `WorkingDir`.

use berth_image::ImageConfig;

use super::paths::clean;
use super::SpecError;
use crate::model::Config;

/// The full argv of the container's process, as Docker composes it:
///
/// - no container `Entrypoint`: the image's entrypoint, then the container's
///   `Cmd` or, if that is empty, the image's;
/// - `Entrypoint: []`: no entrypoint, the container's `Cmd` or else the image's;
/// - `Entrypoint: [""]` (`--entrypoint ""`): no entrypoint and only the
///   container's `Cmd`; the image's `Cmd` is dropped;
/// - any other `Entrypoint`: it, then only the container's `Cmd`.
///
/// Empty when there is nothing to run (Docker: "No command specified").
pub fn merged_argv(config: &Config, image: &ImageConfig) -> Vec<String> {
    let empty: &[String] = &[];
    let user_cmd = config.cmd.as_deref().filter(|c| !c.is_empty());
    let image_cmd = || image.cmd.as_deref().unwrap_or(empty);
    let (entrypoint, cmd): (&[String], &[String]) = match config.entrypoint.as_deref() {
        None => (
            image.entrypoint.as_deref().unwrap_or(empty),
            user_cmd.unwrap_or_else(image_cmd),
        ),
        Some([]) => (empty, user_cmd.unwrap_or_else(image_cmd)),
        Some([only]) if only.is_empty() => (empty, user_cmd.unwrap_or(empty)),
        Some(ep) => (ep, user_cmd.unwrap_or(empty)),
    };
    entrypoint.iter().chain(cmd).cloned().collect()
}

/// Docker's `Path` and `Args` of a container: the first element of
/// [`merged_argv`] and the rest (`""` and nothing when there is no command).
pub fn merged_command(config: &Config, image: &ImageConfig) -> (String, Vec<String>) {
    let mut argv = merged_argv(config, image).into_iter();
    let path = argv.next().unwrap_or_default();
    (path, argv.collect())
}

/// The process's working directory: the container's, else the image's, else
/// `/`; cleaned, and absolute or an error as in Docker.
pub(crate) fn working_dir(config: &Config, image: &ImageConfig) -> Result<String, SpecError> {
    let image_dir = image.working_dir.as_deref().unwrap_or("");
    let dir = match (config.working_dir.as_str(), image_dir) {
        ("", "") => return Ok("/".to_string()),
        ("", img) => img,
        (own, _) => own,
    };
    if !dir.starts_with('/') {
        return Err(SpecError(format!(
            "the working directory '{dir}' is invalid, it needs to be an absolute path"
        )));
    }
    Ok(clean(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn config(entrypoint: Option<&[&str]>, cmd: Option<&[&str]>) -> Config {
        Config {
            entrypoint: entrypoint.map(v),
            cmd: cmd.map(v),
            ..Config::default()
        }
    }

    fn image(entrypoint: Option<&[&str]>, cmd: Option<&[&str]>) -> ImageConfig {
        ImageConfig {
            entrypoint: entrypoint.map(v),
            cmd: cmd.map(v),
            ..ImageConfig::default()
        }
    }

    /// Each row was checked against Docker 20.10 (`Path` + `Args` after create).
    #[test]
    fn entrypoint_cmd_table() {
        let img_ep: Option<&[&str]> = Some(&["echo", "ep"]);
        let img_cmd: Option<&[&str]> = Some(&["imgcmd"]);
        type Row<'a> = (
            Option<&'a [&'a str]>,
            Option<&'a [&'a str]>,
            Option<&'a [&'a str]>,
            Option<&'a [&'a str]>,
            &'a [&'a str],
        );
        let rows: &[Row] = &[
            // container ep, container cmd, image ep, image cmd → argv
            (None, None, img_ep, img_cmd, &["echo", "ep", "imgcmd"]),
            (None, Some(&["c"]), img_ep, img_cmd, &["echo", "ep", "c"]),
            (None, Some(&[]), img_ep, img_cmd, &["echo", "ep", "imgcmd"]),
            (
                Some(&[""]),
                Some(&["echo", "hi"]),
                img_ep,
                img_cmd,
                &["echo", "hi"],
            ),
            (Some(&[""]), None, img_ep, img_cmd, &[]),
            (Some(&[]), None, img_ep, img_cmd, &["imgcmd"]),
            (Some(&[]), Some(&["ls"]), img_ep, img_cmd, &["ls"]),
            (Some(&["sh"]), None, img_ep, img_cmd, &["sh"]),
            (
                Some(&["a", "b"]),
                Some(&["c"]),
                None,
                Some(&["sh"]),
                &["a", "b", "c"],
            ),
            (Some(&["", "x"]), None, None, Some(&["sh"]), &["", "x"]),
            (None, None, None, Some(&["sh"]), &["sh"]),
            (None, Some(&[""]), None, Some(&["sh"]), &[""]),
            (None, None, None, None, &[]),
        ];
        for (i, (cep, ccmd, iep, icmd, want)) in rows.iter().enumerate() {
            let got = merged_argv(&config(*cep, *ccmd), &image(*iep, *icmd));
            assert_eq!(got, v(want), "row {i}");
        }
    }

    #[test]
    fn command_splits_path_and_args() {
        let cfg = config(Some(&["a", "b"]), Some(&["c"]));
        let (path, args) = merged_command(&cfg, &image(None, None));
        assert_eq!(path, "a");
        assert_eq!(args, v(&["b", "c"]));
        let (path, args) = merged_command(&config(None, None), &image(None, None));
        assert_eq!(path, "");
        assert!(args.is_empty());
    }

    #[test]
    fn working_dir_rules() {
        let img = |wd: &str| ImageConfig {
            working_dir: Some(wd.to_string()).filter(|w| !w.is_empty()),
            ..ImageConfig::default()
        };
        let cfg = |wd: &str| Config {
            working_dir: wd.to_string(),
            ..Config::default()
        };
        assert_eq!(working_dir(&cfg(""), &img("")).unwrap(), "/");
        assert_eq!(working_dir(&cfg(""), &img("/srv")).unwrap(), "/srv");
        assert_eq!(working_dir(&cfg("/a/../b/"), &img("/srv")).unwrap(), "/b");
        assert_eq!(
            working_dir(&cfg("rel"), &img("")).unwrap_err().0,
            "the working directory 'rel' is invalid, it needs to be an absolute path"
        );
    }
}
