//! Trackbench's Rust SDK: log runs from training code without slowing it down.
//!
//! ```no_run
//! use trackbench_sdk::{Run, RunOptions};
//! let run = Run::start(RunOptions::new("mnist").name("baseline").store_dir("/tmp/tb"))?;
//! run.log_params(&[("lr", 3e-4.into()), ("model.depth", 4.into())])?;
//! for step in 0..100 {
//!     run.log_at(step, &[("loss", 1.0 / (step as f64 + 1.0)), ("acc", 0.5)])?;
//! }
//! run.finish()?;
//! # Ok::<(), trackbench_sdk::SdkError>(())
//! ```
//!
//! The calling thread only validates and enqueues ([`Run::log`] costs a clock read, a lock, a
//! string comparison per key against the previous call's keys and one push per point); a background writer thread ([`writer`]) flushes batches into the
//! store, one transaction per flush, on a timer, when enough points are queued, on
//! [`Run::flush`], [`Run::finish`] and on drop. The queue is bounded: when it is full the
//! caller waits (with one warning); nothing is ever dropped. Invalid input is refused at the
//! call; I/O errors surface at the next `flush`/`finish`, and the data they concern stays
//! queued for the next attempt.
//!
//! [`RunOptions::from_env`] reads the `TRACKBENCH_*` variables (store folder, a run to attach
//! to); everything else takes explicit options. With `TRACKBENCH_URL` set (or
//! [`RunOptions::remote`]) the same API sends to a Trackbench server over HTTP instead
//! (see [`Remote`]: gzip batches, retries with backoff, each batch stored at most once).

mod config;
mod http;
pub mod login;
mod nvml;
mod options;
mod run;
mod sink;
pub mod system;
pub mod writer;

pub use config::flatten_config;
pub use http::{Remote, RunClient, Wire, percent_encode};
pub use options::{RunOptions, default_store_dir};
pub use run::{MetricKey, Run};
/// Dataset profiles and drift tests, for [`Run::log_dataset`]'s columns and for readers of
/// logged profiles.
pub use trackbench_data as data;
/// Datasets as run inputs (MLflow's `DatasetInput` form) and how a logged one is found.
pub use trackbench_data::logged as dataset;
pub use trackbench_store::{RunStatus, Stream};

/// Errors the SDK reports to the caller.
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    /// The call was refused; nothing of it was enqueued.
    #[error("{0}")]
    Invalid(String),
    /// The run was already finished.
    #[error("run {0} is finished; start a new run to log more")]
    Finished(String),
    /// Writing to the store failed; the data stays queued and is retried at the next flush.
    #[error("writing to the store failed ({pending} points not yet stored): {message}")]
    Write { message: String, pending: usize },
    #[error(transparent)]
    Store(#[from] trackbench_store::StoreError),
}

pub type Result<T, E = SdkError> = std::result::Result<T, E>;
