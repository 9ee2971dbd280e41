//! The Trackbench server, run in-process on its own tokio runtime: loopback, a free port, a
//! fresh token per start. [`Embedded::stop`] shuts it down gracefully (in-flight requests and
//! their store writes finish) before the app exits or moves to another store.
//!
//! Trainer jobs from the Launch view run the `trackbench` CLI's `train` (`TRACKBENCH_CLI`, which
//! `trackbench ui` sets, else `trackbench` beside the app or on `PATH`). Without the trainer's
//! device probe linked in, the app's device list is the CPU and the GPUs the driver lists, so
//! wgpu jobs are offered by `trackbench ui --browser`, not here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::oneshot;
use trackbench_server::ServerConfig;

/// How long a graceful stop waits for open connections (the UI's live-events stream never ends
/// on its own) before they are dropped. Requests already running still complete: their store
/// writes run on the blocking pool, which dropping the runtime waits for.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// A running server.
pub struct Embedded {
    rt: tokio::runtime::Runtime,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// `http://127.0.0.1:PORT/?token=…`: sets the auth cookie, then redirects to `/`.
    pub login_url: String,
    pub base_url: String,
    token: String,
}

/// The `trackbench` CLI: `TRACKBENCH_CLI` (set by `trackbench ui`), else `trackbench` next to
/// this executable, else on `PATH`.
fn trackbench_cli() -> Option<PathBuf> {
    trackbench_launch::find::companion("TRACKBENCH_CLI", "trackbench")
}

impl Embedded {
    /// Opens (creating or migrating) the store at `store_dir` and starts serving it.
    pub fn start(store_dir: &Path) -> std::io::Result<Embedded> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("trackbench-server")
            .enable_all()
            .build()?;
        let mut cfg = ServerConfig::new(store_dir.to_path_buf());
        cfg.port = 0;
        // Trainer jobs from the Launch view run the CLI's `train` (the app has no trainer of its
        // own); the device list is then the CPU and the GPUs the driver lists.
        cfg.launch.trainer = trackbench_cli();
        let server = rt.block_on(trackbench_server::bind(cfg))?;
        let (login_url, base_url, token) = (server.login_url(), server.base_url(), server.token.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = rt.spawn(server.serve(async move {
            let _ = rx.await;
        }));
        Ok(Embedded { rt, stop: Some(tx), task: Some(task), login_url, base_url, token })
    }

    /// The login URL for a page of the UI (`/p/PROJECT`): the server sets the cookie and
    /// redirects to `page` without the token.
    pub fn login_url_for(&self, page: &str) -> String {
        let page = if page.starts_with('/') { page.to_string() } else { format!("/{page}") };
        format!("{}{page}?token={}", self.base_url, self.token)
    }

    /// Stops accepting connections, lets running requests finish, then drops the runtime
    /// (which waits for store work on the blocking pool).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let result = self.rt.block_on(async { tokio::time::timeout(STOP_GRACE, task).await });
            match result {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => eprintln!("trackbench-desktop: server ended with an error: {e}"),
                Ok(Err(e)) => eprintln!("trackbench-desktop: server task failed: {e}"),
                Err(_) => eprintln!("trackbench-desktop: closing connections still open after {STOP_GRACE:?}"),
            }
        }
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        self.shutdown();
    }
}
