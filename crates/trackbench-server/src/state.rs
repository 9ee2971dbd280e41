//! Shared server state: which store (a SQLite folder, or the team store on PostgreSQL with its
//! artifacts on an object store), the access token, the event channel, and store connections.
//! Store calls are blocking, so handlers run them on tokio's blocking pool on a `dyn Backend`:
//! reads take a connection from a small pool. On SQLite, writes go through one writer
//! connection under a mutex (so requests of this server never wait on each other's SQLite
//! locks; other processes are waited out by the store's busy timeout); on PostgreSQL, whose
//! rows lock one at a time, writes take pooled connections like reads, so replicas and
//! requests write side by side.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;
use trackbench_store::{Backend, BlobStore, Change, Store, StoreOptions};

use crate::error::{ApiError, ApiResult};

/// What every handler can reach.
/// The team store: PostgreSQL for the metadata and metric chunks, a blob store for artifacts.
#[derive(Clone)]
pub struct TeamStore {
    /// `postgres://USER[:PASSWORD]@HOST:PORT/DB`.
    pub url: String,
    /// Where artifacts live (`s3://…`, `gs://…`, `az://…`, `file:///…`).
    pub blobs: Arc<dyn BlobStore>,
}

impl TeamStore {
    /// Connects to the database (migrating it) and checks the blob store, naming what fails.
    pub fn open(url: &str, artifacts: &str) -> trackbench_store::Result<TeamStore> {
        let blobs = trackbench_objstore::open_blobs(artifacts)?;
        Ok(TeamStore { url: url.to_string(), blobs })
    }

    /// A new connection.
    pub fn connect(&self, opts: &StoreOptions) -> trackbench_store::Result<trackbench_store_pg::PgStore> {
        Ok(trackbench_store_pg::PgStore::connect(&self.url, opts.clone())?.with_blobs(self.blobs.clone()))
    }

    /// The database URL without its password, and the blob store, for messages.
    pub fn describe(&self) -> String {
        format!("{} + {}", trackbench_store_pg::redact(&self.url), self.blobs.describe())
    }
}

pub struct AppState {
    /// The SQLite store folder (where launched jobs log, on a laptop server).
    pub root: PathBuf,
    /// The team store this server serves instead of `root`, when it is a team server.
    pub team: Option<TeamStore>,
    /// A dashboard replica: every write is refused (`trackbench serve --readonly`).
    pub readonly: bool,
    pub opts: StoreOptions,
    pub token: String,
    /// `Host` header values accepted (`127.0.0.1:5005`, `localhost:5005`, …); empty: any.
    pub allowed_hosts: Vec<String>,
    /// Largest accepted request body of the JSON endpoints, in bytes.
    pub max_body: usize,
    /// Largest accepted artifact upload, in bytes.
    pub max_upload: u64,
    pub events: broadcast::Sender<Arc<Change>>,
    /// Turns true when the server starts its graceful shutdown: endless responses (the live
    /// events stream) end then, instead of holding the shutdown until its grace runs out.
    pub stopping: tokio::sync::watch::Sender<bool>,
    /// Jobs, sweeps and A/Bs launched by this server.
    pub launcher: crate::launch::Launcher,
    readers: Mutex<Vec<Box<dyn Backend>>>,
    writer: Mutex<Option<Box<dyn Backend>>>,
}

/// Keep at most this many idle pooled connections.
const MAX_IDLE_READERS: usize = 8;

impl AppState {
    pub fn new(
        root: PathBuf,
        opts: StoreOptions,
        token: String,
        allowed_hosts: Vec<String>,
        max_body: usize,
        max_upload: u64,
        launch: crate::launch::LaunchConfig,
    ) -> AppState {
        let (events, _) = broadcast::channel(1024);
        AppState {
            root,
            team: None,
            readonly: false,
            opts,
            token,
            allowed_hosts,
            max_body,
            max_upload,
            events,
            stopping: tokio::sync::watch::channel(false).0,
            launcher: crate::launch::Launcher::new(launch),
            readers: Mutex::new(Vec::new()),
            writer: Mutex::new(None),
        }
    }

    /// The same state serving the team store `team` instead of the folder, read-only or not.
    pub fn with_team(self, team: Option<TeamStore>, readonly: bool) -> AppState {
        AppState { team, readonly, ..self }
    }

    /// Whether the store and the artifact store answer, each as what it is or what failed
    /// (for `/api/v1/health`; blocking). The store check is a fresh connection and a query,
    /// never a pooled one that may have gone stale.
    pub fn check_stores(&self) -> (Result<String, String>, Result<String, String>) {
        match &self.team {
            Some(team) => {
                let db = trackbench_store_pg::redact(&team.url);
                let store = team
                    .connect(&self.opts)
                    .and_then(|pg| pg.schema_version())
                    .map(|v| format!("PostgreSQL {db} (schema {v})"))
                    .map_err(|e| e.to_string());
                let artifacts = team.blobs.check().map(|()| team.blobs.describe()).map_err(|e| e.to_string());
                (store, artifacts)
            }
            None => {
                let opts = StoreOptions { read_only: true, ..self.opts.clone() };
                let store = Store::open(&self.root, opts)
                    .and_then(|s| s.schema_version())
                    .map(|v| format!("SQLite {} (schema {v})", self.root.display()))
                    .map_err(|e| e.to_string());
                let artifacts = Ok(format!("{}", self.root.join("blobs").display()));
                (store, artifacts)
            }
        }
    }

    /// A new connection to the store this server serves.
    pub fn open(&self) -> ApiResult<Box<dyn Backend>> {
        Ok(match &self.team {
            Some(team) => Box::new(team.connect(&self.opts)?),
            None => Box::new(Store::open(&self.root, self.opts.clone())?),
        })
    }

    /// Runs `f` with a pooled store connection on the blocking pool (for reads).
    pub async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut dyn Backend) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let state = self.clone();
        blocking(move || state.pooled(f)).await
    }

    /// Runs `f` with a pooled connection (on the calling thread). A connection that failed
    /// with the database gone is not pooled again.
    fn pooled<T>(&self, f: impl FnOnce(&mut dyn Backend) -> ApiResult<T>) -> ApiResult<T> {
        let state = self;
        {
            let pooled = state.readers.lock().map_err(|_| ApiError::internal("reader pool poisoned"))?.pop();
            let mut store = match pooled {
                Some(s) => s,
                None => state.open()?,
            };
            let out = f(store.as_mut());
            if out.as_ref().is_err_and(|e| e.status == axum::http::StatusCode::SERVICE_UNAVAILABLE) {
                return out;
            }
            let mut pool = state.readers.lock().map_err(|_| ApiError::internal("reader pool poisoned"))?;
            if pool.len() < MAX_IDLE_READERS {
                pool.push(store);
            }
            out
        }
    }

    /// Runs `f` with the writer connection on the blocking pool (for writes; one at a time).
    pub async fn write<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut dyn Backend) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let state = self.clone();
        if state.team.is_some() {
            return blocking(move || state.pooled(f)).await;
        }
        blocking(move || {
            let mut guard = state.writer.lock().unwrap_or_else(|p| p.into_inner());
            if guard.is_none() {
                *guard = Some(state.open()?);
            }
            let store = guard.as_mut().ok_or_else(|| ApiError::internal("no writer"))?;
            f(store.as_mut())
        })
        .await
    }
}

/// Runs blocking work on tokio's blocking pool, turning a panic into a 500.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) => Err(ApiError::internal(format!("request handler failed: {e}"))),
    }
}
