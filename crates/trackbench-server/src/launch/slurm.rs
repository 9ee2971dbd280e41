//! Slurm as the server's second launch backend (`trackbench serve --slurm`): a body with
//! `"on": "slurm"` becomes one job array (`trackbench_launch::slurm`), submitted and followed
//! on a thread of its own with its own store connection (the launcher's job table shows its
//! tasks). The server runs no command itself then: each task's agent on a node creates and
//! logs its run through this server's API (`public_url`, with this server's token). So Slurm
//! launching is allowed on a team store too, and only when the server was started with the
//! flag. `GET /api/v1/backends` tells the UI which backends are offered and the partitions.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use trackbench_launch::slurm::SlurmOptions;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

use super::check_local;

/// The server's Slurm backend, as `trackbench serve --slurm` configures it.
#[derive(Debug, Clone)]
pub struct SlurmConfig {
    /// The URL the tasks log to (`--slurm-public-url`); `None`: the server's own base URL,
    /// known once it is bound ([`super::Launcher::set_base_url`]).
    pub public_url: Option<String>,
    /// The `trackbench` executable as the nodes see it (a shared filesystem's path): each
    /// task's agent, and `trackbench train` for trainer jobs.
    pub trackbench: PathBuf,
    /// How often an array's state is read.
    pub poll: Duration,
    /// Extra environment for the Slurm commands (the server's own is inherited).
    pub slurm_env: Vec<(String, String)>,
}

impl SlurmConfig {
    pub fn new(public_url: Option<String>, trackbench: PathBuf) -> SlurmConfig {
        SlurmConfig { public_url, trackbench, poll: Duration::from_millis(500), slurm_env: Vec::new() }
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.envs(self.slurm_env.iter().map(|(k, v)| (k, v))).stdin(Stdio::null());
        c
    }
}

/// Where a job runs: `"on": "local"` (this machine, the default) or `"slurm"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum On {
    #[default]
    Local,
    Slurm,
}

/// A body's `"slurm"` options; all optional (Slurm's defaults then).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SlurmSpec {
    pub(super) partition: Option<String>,
    /// GPUs per task (`--gpus`).
    pub(super) gpus: Option<u32>,
    /// Time limit per task (`HH:MM:SS`, `MM:SS`, minutes, `D-HH:MM:SS`).
    pub(super) time: Option<String>,
    /// Further sbatch options, one argument each (`--mem=4G`).
    #[serde(default)]
    pub(super) args: Vec<String>,
    /// Tasks of the array running at once (`%N`).
    pub(super) max_parallel: Option<usize>,
}

/// A value that goes into the batch script: one line, no control characters.
fn one_line(what: &str, v: &str) -> ApiResult<()> {
    if v.trim().is_empty() || v.chars().any(char::is_control) {
        return Err(ApiError::invalid(format!("slurm.{what} `{v}`: one non-empty line, without control characters")));
    }
    Ok(())
}

impl SlurmSpec {
    /// Checks what Slurm cannot judge for us (the shape of each value); Slurm judges the rest
    /// (`sbatch --test-only`).
    pub(super) fn check(&self) -> ApiResult<()> {
        // An empty value is one not given (the form's empty field): Slurm's default.
        if let Some(p) = self.partition.as_deref().filter(|p| !p.is_empty()) {
            one_line("partition", p)?;
        }
        if let Some(t) = self.time.as_deref().filter(|t| !t.is_empty()) {
            one_line("time", t)?;
        }
        if self.max_parallel == Some(0) {
            return Err(ApiError::invalid("slurm.max_parallel: at least 1"));
        }
        for a in &self.args {
            one_line("args", a)?;
            if !a.starts_with('-') {
                return Err(ApiError::invalid(format!("slurm.args `{a}`: an sbatch option, such as --mem=4G")));
            }
        }
        Ok(())
    }
}

/// 403 unless this server offers Slurm.
pub(super) fn check_slurm(s: &AppState) -> ApiResult<&SlurmConfig> {
    s.launcher.config.slurm.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "Slurm launching is not enabled on this server: start it with `trackbench serve --slurm` \
             (the Slurm client commands on its PATH, and an address the nodes reach with --slurm-public-url)",
        )
    })
}

/// The options of one submission: the server's configuration, the body's options, this
/// server's token for the tasks, and `job_name` for `--job-name`; checked with the cluster
/// (`scontrol ping`, `sbatch --test-only`), so an unknown partition or GPUs the nodes lack are
/// a 400 with Slurm's own message before anything is created. Blocking.
pub(super) fn options(s: &AppState, spec: Option<&SlurmSpec>, job_name: &str) -> ApiResult<SlurmOptions> {
    let cfg = check_slurm(s)?;
    let server = match &cfg.public_url {
        Some(u) => u.clone(),
        None => s.launcher.base_url().ok_or_else(|| {
            ApiError::internal("the URL the Slurm tasks log to is not known: start the server with --slurm-public-url")
        })?,
    };
    let mut o = SlurmOptions::new(server, cfg.trackbench.clone());
    if let Some(spec) = spec {
        spec.check()?;
        o.partition = spec.partition.clone().filter(|p| !p.trim().is_empty());
        o.gpus = spec.gpus.filter(|g| *g > 0);
        o.time = spec.time.clone().filter(|t| !t.trim().is_empty());
        o.extra = spec.args.clone();
        o.max_parallel = spec.max_parallel;
    }
    o.token = Some(s.token.clone());
    // Slurm takes any name, but one line of printable characters reads best in squeue.
    let name: String = job_name.chars().map(|c| if c.is_control() { ' ' } else { c }).take(100).collect();
    o.job_name = if name.trim().is_empty() { "trackbench".into() } else { name };
    o.poll = cfg.poll;
    o.slurm_env = cfg.slurm_env.clone();
    o.check_reachable().map_err(super::launch_error)?;
    Ok(o)
}

/// What `GET /api/v1/jobs` shows in the device column of a Slurm task.
pub(super) fn device_label(o: &SlurmOptions) -> String {
    let mut s = match &o.partition {
        Some(p) => format!("slurm:{p}"),
        None => "slurm".to_string(),
    };
    if let Some(g) = o.gpus {
        s.push_str(&format!(", {g} GPU{}", if g == 1 { "" } else { "s" }));
    }
    s
}

/// `sinfo -h -o %P`: the partitions, the default (marked `*`) first.
fn partitions(cfg: &SlurmConfig) -> Result<(Vec<String>, Option<String>), String> {
    let out = cfg.command("sinfo").args(["-h", "-o", "%P"]).output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "`sinfo` is not on the server's PATH".to_string(),
        _ => format!("running sinfo: {e}"),
    })?;
    if !out.status.success() {
        return Err(format!("sinfo failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(parse_partitions(&String::from_utf8_lossy(&out.stdout)))
}

/// `sinfo -h -o %P` output → partitions (the default first, without its `*`) and the default.
fn parse_partitions(text: &str) -> (Vec<String>, Option<String>) {
    let mut list: Vec<String> = Vec::new();
    let mut default = None;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let name = line.trim_end_matches('*').to_string();
        if line.ends_with('*') && default.is_none() {
            default = Some(name.clone());
        }
        if !list.contains(&name) {
            list.push(name);
        }
    }
    if let Some(d) = &default {
        list.retain(|p| p != d);
        list.insert(0, d.clone());
    }
    (list, default)
}

/// One backend as `GET /api/v1/backends` shows it.
#[derive(Debug, Serialize)]
pub(super) struct BackendInfo {
    /// Whether a launch on it would be accepted.
    enabled: bool,
    /// Why not, when not.
    why: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct SlurmInfo {
    enabled: bool,
    why: Option<String>,
    /// The cluster's partitions, its default first (empty when `sinfo` failed: see `error`).
    partitions: Vec<String>,
    default_partition: Option<String>,
    /// Why the partitions could not be listed.
    error: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct Backends {
    local: BackendInfo,
    slurm: SlurmInfo,
}

/// `GET /api/v1/backends`: where this server can run jobs, so the UI offers only those.
pub(super) async fn backends(State(s): State<Arc<AppState>>) -> ApiResult<axum::Json<Backends>> {
    let state = s.clone();
    crate::state::blocking(move || {
        let local = match check_local(&state) {
            Ok(()) => BackendInfo { enabled: true, why: None },
            Err(e) => BackendInfo { enabled: false, why: Some(e.message) },
        };
        let slurm = match check_slurm(&state) {
            Ok(cfg) => {
                let (partitions, default_partition, error) = match partitions(cfg) {
                    Ok((p, d)) => (p, d, None),
                    Err(e) => (Vec::new(), None, Some(e)),
                };
                SlurmInfo { enabled: true, why: None, partitions, default_partition, error }
            }
            Err(e) => SlurmInfo {
                enabled: false,
                why: Some(e.message),
                partitions: Vec::new(),
                default_partition: None,
                error: None,
            },
        };
        Ok(axum::Json(Backends { local, slurm }))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_put_the_default_first_without_its_star() {
        assert_eq!(
            parse_partitions("gpu\ndebug*\ngpu\n\n long \n"),
            (vec!["debug".to_string(), "gpu".into(), "long".into()], Some("debug".into()))
        );
        assert_eq!(parse_partitions(""), (Vec::new(), None));
    }

    #[test]
    fn slurm_values_are_one_line_and_args_are_options() {
        let spec = |f: fn(&mut SlurmSpec)| {
            let mut s = SlurmSpec::default();
            f(&mut s);
            s.check()
        };
        assert!(spec(|s| s.partition = Some("debug".into())).is_ok());
        assert!(spec(|s| s.partition = Some("debug\nrm -rf /".into())).is_err());
        assert!(spec(|s| s.time = Some("".into())).is_ok(), "empty: not given");
        assert!(spec(|s| s.time = Some(" \t".into())).is_err());
        assert!(spec(|s| s.max_parallel = Some(0)).is_err());
        assert!(spec(|s| s.args = vec!["--mem=4G".into()]).is_ok());
        assert!(spec(|s| s.args = vec!["mem=4G".into()]).is_err());
    }
}
