//! The crate's error type: the store's errors, plus what only a comparison can get wrong.

use trackbench_store::StoreError;

/// Why a comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// Reading the store failed (unknown run, bad filter, I/O…). Transparent, so callers can
    /// match on the store's variants themselves.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The selection resolved to no run at all.
    #[error("no runs to compare: {0}")]
    NoRuns(String),
    /// A metric asked for by name was logged by none of the runs.
    #[error("metric `{0}` was not logged by any of the selected runs")]
    MetricNotFound(String),
    /// An argument that does not parse or makes no sense (`--group-by nonsense`).
    #[error("invalid {what}: {why}")]
    Invalid { what: &'static str, why: String },
}

/// `Result` with [`CompareError`].
pub type Result<T, E = CompareError> = std::result::Result<T, E>;
