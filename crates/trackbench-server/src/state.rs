//! Shared server state: the store folder, the access token, the event channel, and store
//! connections. Store calls are blocking, so handlers run them on tokio's blocking pool:
//! reads take a connection from a small pool, writes go through one writer connection under a
//! mutex (so requests of this server never wait on each other's SQLite locks; other processes
//! are waited out by the store's busy timeout).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;
use trackbench_store::{Change, Store, StoreOptions};

use crate::error::{ApiError, ApiResult};

/// What every handler can reach.
pub struct AppState {
    pub root: PathBuf,
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
    readers: Mutex<Vec<Store>>,
    writer: Mutex<Option<Store>>,
}

/// Keep at most this many idle read connections.
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

    fn open(&self) -> ApiResult<Store> {
        Ok(Store::open(&self.root, self.opts.clone())?)
    }

    /// Runs `f` with a pooled store connection on the blocking pool (for reads).
    pub async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Store) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let state = self.clone();
        blocking(move || {
            let pooled = state.readers.lock().map_err(|_| ApiError::internal("reader pool poisoned"))?.pop();
            let mut store = match pooled {
                Some(s) => s,
                None => state.open()?,
            };
            let out = f(&mut store);
            let mut pool = state.readers.lock().map_err(|_| ApiError::internal("reader pool poisoned"))?;
            if pool.len() < MAX_IDLE_READERS {
                pool.push(store);
            }
            out
        })
        .await
    }

    /// Runs `f` with the writer connection on the blocking pool (for writes; one at a time).
    pub async fn write<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Store) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let state = self.clone();
        blocking(move || {
            let mut guard = state.writer.lock().unwrap_or_else(|p| p.into_inner());
            if guard.is_none() {
                *guard = Some(state.open()?);
            }
            let store = guard.as_mut().ok_or_else(|| ApiError::internal("no writer"))?;
            f(store)
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
