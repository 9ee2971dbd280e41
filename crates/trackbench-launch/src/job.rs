//! What a job is, how it went, the options of the launcher, and the context it records
//! (host, git commit, dirty flag and diff of the working folder).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::Serialize;
use trackbench_store::{RunStatus, StoreOptions, Stream};

use crate::Device;

/// A command to run as a tracked run.
#[derive(Debug, Clone)]
pub struct Job {
    pub program: String,
    pub args: Vec<String>,
    /// Working folder; the launcher's own when `None`.
    pub cwd: Option<PathBuf>,
    /// Extra environment for the child (on top of the launcher's own).
    pub env: Vec<(String, String)>,
    pub device: Device,
    pub project: String,
    pub name: Option<String>,
    pub group: Option<String>,
    pub tags: Vec<(String, String)>,
}

impl Job {
    /// A job running `program args…` on the CPU in project `project`.
    pub fn new(project: impl Into<String>, program: impl Into<String>, args: Vec<String>) -> Job {
        Job {
            program: program.into(),
            args,
            cwd: None,
            env: Vec::new(),
            device: Device::Cpu,
            project: project.into(),
            name: None,
            group: None,
            tags: Vec::new(),
        }
    }

    /// Checks that the program exists (on `PATH`, or as a path from the working folder), so a
    /// caller can refuse a bad command before creating anything.
    pub fn check(&self) -> Result<(), crate::LaunchError> {
        crate::process::resolve_program(&self.program, self.cwd.as_deref()).map(|_| ())
    }

    /// The command line as one shell-quoted string (what the run records).
    pub fn command_line(&self) -> String {
        std::iter::once(&self.program).chain(&self.args).map(|a| shell_quote(a)).collect::<Vec<_>>().join(" ")
    }
}

pub(crate) fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Cancels a job: before it starts (it never starts) or while it runs (SIGTERM to its process
/// group, SIGKILL after the grace period). Cheap to clone; all clones share one flag.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Called with every captured line: run id, stream, text (for a live display).
pub type LineSink = Arc<dyn Fn(&str, Stream, &str) + Send + Sync>;

/// Called with a job's run id as soon as the run is created.
pub type RunSink = Arc<dyn Fn(&str) + Send + Sync>;

/// How the launcher runs jobs.
#[derive(Clone)]
pub struct LaunchOptions {
    pub store_dir: PathBuf,
    pub store_opts: StoreOptions,
    /// Between SIGTERM and SIGKILL when a job is cancelled.
    pub grace: Duration,
    /// Heartbeat the run at least this often while the child lives.
    pub heartbeat: Duration,
    /// Write captured lines at least this often…
    pub flush_interval: Duration,
    /// …or once this many are waiting.
    pub flush_lines: usize,
    /// How often a running job checks for cancellation (its token and the run's
    /// `launch.cancel` tag, which `trackbench cancel` sets from another process).
    pub poll: Duration,
    /// Every captured line, as it arrives.
    pub echo: Option<LineSink>,
    /// Called with the run's id once the run exists, before its process starts.
    pub on_run: Option<RunSink>,
}

impl LaunchOptions {
    pub fn new(store_dir: impl Into<PathBuf>) -> LaunchOptions {
        LaunchOptions {
            store_dir: store_dir.into(),
            store_opts: StoreOptions::default(),
            grace: Duration::from_secs(10),
            heartbeat: Duration::from_secs(5),
            flush_interval: Duration::from_millis(200),
            flush_lines: 2000,
            poll: Duration::from_millis(100),
            echo: None,
            on_run: None,
        }
    }
}

/// Launcher overhead of one job, as measured by the launcher.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Timings {
    /// From [`crate::launch`] being called to the child running (run created, context
    /// recorded, process spawned: `spawn` returns once `exec` succeeded).
    pub launch_to_start: Duration,
    /// From the child's exit being reaped to its status committed in the store (last lines
    /// written, leftovers of its process group killed).
    pub exit_to_recorded: Duration,
    /// From start to exit of the child.
    pub run: Duration,
}

/// How a job went.
#[derive(Debug, Clone, Serialize)]
pub struct JobResult {
    /// The run; `None` when the job never started (cancelled while queued, or refused).
    pub run_id: Option<String>,
    pub status: RunStatus,
    pub exit_code: Option<i32>,
    /// The signal that ended the child, if one did.
    pub signal: Option<i32>,
    pub error: Option<String>,
    /// Lines captured from stdout and stderr.
    pub lines: u64,
    pub timings: Timings,
}

impl JobResult {
    pub(crate) fn not_started(status: RunStatus, error: String) -> JobResult {
        JobResult {
            run_id: None,
            status,
            exit_code: None,
            signal: None,
            error: Some(error),
            lines: 0,
            timings: Timings::default(),
        }
    }
}

/// Git state of a working folder.
#[derive(Debug, Clone, Default)]
pub(crate) struct GitInfo {
    pub commit: Option<String>,
    pub dirty: Option<bool>,
    /// `git diff HEAD` when dirty.
    pub diff: Option<Vec<u8>>,
}

/// Git state of `dir`, computed once per folder per process (a sweep's jobs share it).
pub(crate) fn git_info(dir: &Path) -> GitInfo {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, GitInfo>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(g) = cache.lock().ok().and_then(|c| c.get(dir).cloned()) {
        return g;
    }
    let git = |args: &[&str]| -> Option<Vec<u8>> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        out.status.success().then_some(out.stdout)
    };
    let mut info = GitInfo::default();
    if let Some(head) = git(&["rev-parse", "HEAD"]) {
        info.commit = Some(String::from_utf8_lossy(&head).trim().to_string());
        let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty());
        info.dirty = dirty;
        if dirty == Some(true) {
            info.diff = git(&["diff", "HEAD"]).filter(|d| !d.is_empty());
        }
    }
    if let Ok(mut c) = cache.lock() {
        c.insert(dir.to_path_buf(), info.clone());
    }
    info
}

/// This machine's host name.
pub(crate) fn host_name() -> String {
    trackbench_store::liveness::local_host().unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn command_lines_are_shell_quoted() {
        let j = super::Job::new("p", "python", vec!["train.py".into(), "--name".into(), "it's here".into()]);
        assert_eq!(j.command_line(), "python train.py --name 'it'\\''s here'");
    }
}
