//! [`RunOptions`]: everything `Run::start` needs, explicit, with a `from_env` layer.

use std::path::PathBuf;
use std::time::Duration;

use crate::http::Remote;

/// The store folder when none is given: `$TRACKBENCH_DIR`, else the platform data dir
/// (`$XDG_DATA_HOME/trackbench` on Linux), else `./.trackbench`.
pub fn default_store_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("TRACKBENCH_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    dirs::data_dir().map(|d| d.join("trackbench")).unwrap_or_else(|| PathBuf::from(".trackbench"))
}

/// How to start (or attach to) a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub project: String,
    pub name: Option<String>,
    pub group: Option<String>,
    pub notes: Option<String>,
    pub tags: Vec<(String, String)>,
    /// Attach to this existing run instead of creating one (the launcher's `TRACKBENCH_RUN_ID`).
    pub resume: Option<String>,
    pub store_dir: PathBuf,
    /// Flush at least this often.
    pub flush_interval: Duration,
    /// Flush early once this many points are queued.
    pub flush_points: usize,
    /// Callers block while this many points are queued (memory bound: 16 bytes a point plus 24
    /// per `log` call, plus a recycled buffer of up to 4x `flush_points`).
    pub max_queued_points: usize,
    /// Heartbeat at least this often while the run is open.
    pub heartbeat_interval: Duration,
    /// Record host, pid and command line.
    pub capture_context: bool,
    /// A cap on the database size (see `StoreOptions::max_db_bytes`).
    pub max_db_bytes: Option<u64>,
    /// Send to this Trackbench server instead of the local store (`TRACKBENCH_URL`).
    pub remote: Option<Remote>,
    /// Sample system metrics (`sys/...` series) this often; `None`: off. Default 10 s, or
    /// `TRACKBENCH_SYSTEM_METRICS` (seconds, `0` = off).
    pub system_metrics: Option<Duration>,
}

impl RunOptions {
    /// Defaults for a new run in `project`, stored in [`default_store_dir`], or sent to the
    /// server `TRACKBENCH_URL` names when it is set.
    pub fn new(project: impl Into<String>) -> RunOptions {
        RunOptions {
            project: project.into(),
            name: None,
            group: None,
            notes: None,
            tags: Vec::new(),
            resume: None,
            store_dir: default_store_dir(),
            flush_interval: Duration::from_millis(250),
            flush_points: 256 * 1024,
            max_queued_points: 4 * 1024 * 1024,
            heartbeat_interval: Duration::from_secs(15),
            capture_context: true,
            max_db_bytes: None,
            remote: Remote::from_env(),
            system_metrics: crate::system::interval_from_env(),
        }
    }

    /// [`RunOptions::new`], then `TRACKBENCH_RUN_ID` (attach) and `TRACKBENCH_PROJECT`.
    pub fn from_env(default_project: impl Into<String>) -> RunOptions {
        let project = std::env::var("TRACKBENCH_PROJECT").ok().filter(|p| !p.is_empty());
        let mut o = RunOptions::new(project.unwrap_or_else(|| default_project.into()));
        o.resume = std::env::var("TRACKBENCH_RUN_ID").ok().filter(|r| !r.is_empty());
        o
    }

    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    pub fn notes(mut self, notes: impl Into<String>) -> Self {
        self.notes = Some(notes.into());
        self
    }

    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }

    pub fn resume(mut self, run_id: impl Into<String>) -> Self {
        self.resume = Some(run_id.into());
        self
    }

    /// Writes to the local store in `dir` (and not to a server, even with `TRACKBENCH_URL`).
    pub fn store_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.store_dir = dir.into();
        self.remote = None;
        self
    }

    /// Sends to a Trackbench server instead of the local store.
    pub fn remote(mut self, remote: Remote) -> Self {
        self.remote = Some(remote);
        self
    }
}
