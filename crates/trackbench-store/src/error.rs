//! The store's error type: one enum whose variants speak the domain.

use std::path::PathBuf;

/// Everything the store can refuse or fail at.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("run not found: {0}")]
    RunNotFound(String),
    #[error("run id prefix `{0}` is ambiguous ({1} runs match); give more characters")]
    AmbiguousRun(String, usize),
    #[error("project not found: {0}")]
    ProjectNotFound(String),
    #[error("a project named `{0}` already exists")]
    ProjectExists(String),
    #[error("A/B comparison not found: {0}")]
    AbNotFound(String),
    #[error("artifact not found: {0}")]
    ArtifactNotFound(String),
    /// A model, model version, alias or tag of those that does not exist.
    #[error("{what} not found: {name}")]
    NotFound { what: &'static str, name: String },
    /// A registered model name already taken.
    #[error("{what} `{name}` already exists")]
    AlreadyExists { what: &'static str, name: String },
    #[error("invalid {what}: {why}")]
    Invalid { what: &'static str, why: String },
    #[error("invalid filter: {0}")]
    Filter(#[from] trackbench_query::ParseError),
    #[error(
        "store at {path} has schema version {found}, newer than this build understands ({known}); upgrade trackbench"
    )]
    SchemaTooNew { path: PathBuf, found: i64, known: i64 },
    #[error("corrupt metric chunk: {0}")]
    CorruptChunk(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// An error of another backend's database (PostgreSQL), as its text; `unavailable` when
    /// the database could not be reached (a caller may retry).
    #[error("database error: {message}")]
    Database { message: String, unavailable: bool },
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
}

impl StoreError {
    pub(crate) fn invalid(what: &'static str, why: impl Into<String>) -> StoreError {
        StoreError::Invalid { what, why: why.into() }
    }

    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
        let context = context.into();
        move |source| StoreError::Io { context, source }
    }

    /// True when SQLite reported the database busy/locked by another writer.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
                if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    }

    /// True when the disk (or its quota) is full.
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => e.code == rusqlite::ErrorCode::DiskFull,
            StoreError::Io { source, .. } => source.raw_os_error() == Some(28),
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
