//! The Trackbench HTTP server: one interface over the store for the UI, the desktop shell,
//! remote SDKs and other tools.
//!
//! - [`api`]: the native JSON API under `/api/v1` (runs, params, series with server-side
//!   downsampling, artifacts with Range, log lines, edits, remote SDK ingest), described by
//!   `/api/v1/openapi.json`.
//! - [`mlflow`]: the MLflow tracking REST API, so unchanged `mlflow` client code logs here.
//! - [`events`]: server-sent events of store changes, including writes by other processes.
//! - [`launch`]: devices, jobs, sweeps and A/B comparisons run by this server (loopback only,
//!   unless `allow_launch`); [`report`]: report documents as downloads.
//! - [`auth`]: Host/Origin checks and the access token, in front of everything;
//!   [`access`]: users' permissions on projects, checked for every route.
//! - [`conn`]: the accept loop, with timeouts for slow clients and a connection cap.
//! - [`ui`]: the web UI, embedded at build time, for every other GET.
//!
//! Store calls are blocking; handlers run them on tokio's blocking pool ([`state`]).

/// The `trackbench push`/`pull` protocol this server speaks (`/api/v1/health`'s `push`): the
/// routes and fields they use. A client of another protocol refuses, naming both versions.
pub const PUSH_PROTOCOL: u64 = 1;

pub mod access;
pub mod api;
pub mod auth;
pub mod body;
pub mod conn;
pub mod downsample;
pub mod error;
pub mod events;
pub mod launch;
pub mod mlflow;
pub mod report;
pub mod state;
pub mod ui;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use trackbench_store::{Store, StoreOptions};

pub use error::{ApiError, ApiResult};
pub use state::{AppState, TeamStore};

/// How to start a server.
#[derive(Clone)]
pub struct ServerConfig {
    pub store_dir: PathBuf,
    /// Serve the team store (PostgreSQL + a blob store) instead of the folder `store_dir`.
    pub team: Option<TeamStore>,
    /// Refuse every write (a dashboard replica).
    pub readonly: bool,
    pub opts: StoreOptions,
    /// Address to bind; `127.0.0.1` by default.
    pub host: IpAddr,
    /// Port; 0 picks a free one.
    pub port: u16,
    /// Access token; a random one when `None`.
    pub token: Option<String>,
    /// Largest JSON request body, in bytes.
    pub max_body: usize,
    /// Largest artifact upload, in bytes.
    pub max_upload: u64,
    /// Allow launching jobs when bound to a non-loopback address (always allowed on loopback).
    pub allow_launch: bool,
    /// How jobs are launched; `enabled` is set by [`bind`] from the address and `allow_launch`.
    pub launch: launch::LaunchConfig,
    /// Timeouts for slow clients and the connection cap.
    pub conn: conn::ConnLimits,
}

impl ServerConfig {
    pub fn new(store_dir: PathBuf) -> ServerConfig {
        ServerConfig {
            store_dir,
            team: None,
            readonly: false,
            opts: StoreOptions::default(),
            host: IpAddr::from([127, 0, 0, 1]),
            port: 5005,
            token: None,
            max_body: 32 << 20,
            max_upload: 64 << 30,
            allow_launch: false,
            launch: launch::LaunchConfig::default(),
            conn: conn::ConnLimits::default(),
        }
    }
}

/// A server bound to its port, ready to [`serve`](BoundServer::serve).
pub struct BoundServer {
    listener: tokio::net::TcpListener,
    app: Router,
    limits: conn::ConnLimits,
    pub addr: SocketAddr,
    pub token: String,
    pub state: Arc<AppState>,
}

impl BoundServer {
    /// `http://127.0.0.1:5005` (a loopback name when bound to every interface).
    pub fn base_url(&self) -> String {
        let host = if self.addr.ip().is_unspecified() { IpAddr::from([127, 0, 0, 1]) } else { self.addr.ip() };
        format!("http://{}", SocketAddr::new(host, self.addr.port()))
    }

    /// The URL to open in a browser: it carries the token once, the UI keeps it in a cookie.
    pub fn login_url(&self) -> String {
        format!("{}/?token={}", self.base_url(), self.token)
    }

    /// Serves until `shutdown` completes; then requests in flight finish and live event streams
    /// end, so a graceful stop does not wait on clients that never hang up.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let state = self.state.clone();
        let shutdown = async move {
            shutdown.await;
            state.stopping.send_replace(true);
        };
        conn::serve(self.listener, self.app, self.limits, shutdown).await
    }
}

/// Opens (creating/migrating) the store, binds the port and starts the change watcher.
pub async fn bind(cfg: ServerConfig) -> std::io::Result<BoundServer> {
    {
        // Create and migrate up front, so a bad store fails at start and not on a request.
        let dir = cfg.store_dir.clone();
        let opts = cfg.opts.clone();
        let team = cfg.team.clone();
        tokio::task::spawn_blocking(move || match team {
            Some(team) => {
                team.blobs.check()?;
                team.connect(&opts).map(drop)
            }
            None => Store::open(&dir, opts).map(drop),
        })
        .await
        .map_err(std::io::Error::other)?
        .map_err(std::io::Error::other)?;
    }
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(cfg.host, cfg.port)).await?;
    let addr = listener.local_addr()?;
    let token = cfg.token.clone().unwrap_or_else(auth::random_token);
    let allowed_hosts = if addr.ip().is_unspecified() {
        Vec::new()
    } else {
        let port = addr.port();
        let mut hosts = vec![format!("localhost:{port}"), format!("127.0.0.1:{port}"), format!("[::1]:{port}")];
        hosts.push(SocketAddr::new(addr.ip(), port).to_string());
        hosts
    };
    let state = Arc::new(
        AppState::new(
            cfg.store_dir.clone(),
            cfg.opts.clone(),
            token.clone(),
            allowed_hosts,
            cfg.max_body,
            cfg.max_upload,
            launch::LaunchConfig { enabled: addr.ip().is_loopback() || cfg.allow_launch, ..cfg.launch.clone() },
        )
        .with_team(cfg.team.clone(), cfg.readonly),
    );
    events::spawn_watcher(&state)?;
    let app = router(state.clone());
    Ok(BoundServer { listener, app, limits: cfg.conn, addr, token, state })
}

/// Every route, behind the guard.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(launch::routes())
        .merge(report::routes())
        .merge(mlflow::routes())
        .fallback(ui::fallback)
        .layer(DefaultBodyLimit::max(state.max_body))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::guard))
        .with_state(state)
}
