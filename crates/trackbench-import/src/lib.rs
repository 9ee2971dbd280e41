//! Importers: other trackers' files into the Trackbench store.
//!
//! - [`tensorboard`]: TensorBoard event files (TFRecord framing with CRC32C checks, `Event` and
//!   `Summary` protobufs decoded by hand: scalars from `simple_value` and from rank-0 tensor
//!   summaries, hparams plugin data as params), one run per folder of event files, idempotent,
//!   with a follow mode for a job that is still writing.
//!
//! - [`mlflow`]: an MLflow `mlruns/` file store or SQLite tracking database: experiments,
//!   runs (ids kept), params, tags, every metric point, statuses, deleted runs, local artifacts.
//!
//! Importers write through the store's API only (runs, one `log_batch` per chunk of points) and
//! keep where each run came from as an `import.source` tag, so importing twice adds nothing.

pub mod mlflow;
pub mod protobuf;
pub mod tensorboard;
pub mod tfrecord;
pub mod trackio;
pub mod wandb;

use std::path::Path;

/// A progress callback: `(items done, items in all)`, called before each item.
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize);

/// Why an import failed as a whole (problems inside a file are reported, not errors).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("reading {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] trackbench_store::StoreError),
    /// The source is not what it should be (an unreadable MLflow database, say).
    #[error("{0}")]
    Source(String),
}

impl ImportError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> ImportError {
        ImportError::Io { path: path.display().to_string(), source }
    }
}
