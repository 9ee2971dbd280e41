//! The Trackbench launcher: runs any command as a tracked run on a local device.
//!
//! A [`Job`] is a command, its arguments, working folder, environment, target [`Device`] and
//! the run's project/name/group/tags. [`launch`] creates the run in the store first, then starts
//! the process in its own process group with `TRACKBENCH_RUN_ID`, `TRACKBENCH_DIR` and
//! `TRACKBENCH_PROJECT` set (so an SDK inside attaches to the same run) and the device pinned
//! (`CUDA_VISIBLE_DEVICES`, `TRACKBENCH_DEVICE`, `WGPU_ADAPTER_NAME`). It records the command,
//! working folder, git commit, dirty flag and diff (artifact `launch/git.diff`) and host;
//! captures stdout and stderr line by line into the run's log lines (batched, readable while
//! running); heartbeats the run while the child lives; and ends it `finished` (exit 0),
//! `failed` (other exits, or a crash signal) or `killed` (cancelled: SIGTERM to the process
//! group, SIGKILL after a grace period). Whatever the child leaves in its process group when
//! it exits is killed too, so no orphan outlives its run.
//!
//! [`Queue`] runs many jobs with a concurrency limit per device (default 1 per GPU, N for the
//! CPU), in submission order per device; a queued job can be cancelled before it starts.
//! [`reap_orphans`] ends runs whose launcher died (on this host) so they are not left
//! `running`. [`grid`] expands sweep grids and substitutes `{name}` into arguments; [`plan`]
//! checks and makes a sweep's and an A/B's jobs (arms × seeds, interleaved); [`orchestrate`]
//! carries a launched A/B from its creation to its stored verdict, for the CLI and the server
//! alike; [`trainer`] says which
//! flags of the reference trainer a launched job may set. [`Scheduler`] is a queue that
//! stays open: jobs are submitted while others run (the server's). [`slurm`] runs the same
//! jobs on a Slurm cluster instead, as one job array whose tasks log to a team server; the
//! task agent on the nodes supervises each command through [`launch_to`] and a [`RunTarget`]
//! that writes over HTTP.

mod device;
pub mod find;
pub mod grid;
mod job;
pub mod jobtoken;
pub mod orchestrate;
mod orphan;
pub mod plan;
mod process;
mod queue;
pub mod signals;
pub mod slurm;
mod target;
pub mod trainer;

pub use device::{Device, Devices};
pub use job::{CancelToken, Job, JobResult, LaunchOptions, LineSink, RunSink, Timings};
pub use orphan::reap_orphans;
pub use process::{RunSetup, launch, launch_to};
pub use queue::{Event, Limits, Queue, Scheduler, SchedulerEvent};
pub use target::{RunTarget, StoreTarget};

/// What can stop a job from being launched at all (nothing half-created is left behind).
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("command not found: `{0}` (not a file, and not on PATH)")]
    CommandNotFound(String),
    #[error("unknown device `{given}`; this machine has: {known}")]
    UnknownDevice { given: String, known: String },
    #[error("invalid {what}: {why}")]
    Invalid { what: &'static str, why: String },
    #[error(transparent)]
    Store(#[from] trackbench_store::StoreError),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    /// Slurm refused or could not be reached; the message is Slurm's own.
    #[error("{0}")]
    Slurm(String),
}
