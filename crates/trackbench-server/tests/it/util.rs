//! Starting the real server binary and talking to it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

#[path = "../common/bin.rs"]
mod common_bin;
pub use common_bin::bin;

/// Requests with the token, as a client makes them: (status, JSON body or Null). [`Server`]
/// sends them over HTTP, [`App`] through the router in this process.
pub trait Api {
    /// Any method; a JSON body but for PUT (artifact uploads, raw bytes).
    fn send(&self, method: &str, path: &str, body: &[u8]) -> (u16, Value);

    fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, b"")
    }

    fn post(&self, path: &str, body: &str) -> (u16, Value) {
        self.send("POST", path, body.as_bytes())
    }

    fn delete(&self, path: &str) -> (u16, Value) {
        self.send("DELETE", path, b"")
    }

    /// Creates a run through the API and returns its id.
    fn create_run(&self, project: &str, name: &str) -> String {
        let (status, v) = self.post("/api/v1/runs", &format!(r#"{{"project":"{project}","name":"{name}"}}"#));
        assert_eq!(status, 201, "{v}");
        v["id"].as_str().expect("id").to_string()
    }
}

/// A running server over a temp store; killed on drop.
pub struct Server {
    pub child: Child,
    pub base: String,
    pub token: String,
    pub dir: tempfile::TempDir,
    pub agent: ureq::Agent,
}

pub const TOKEN: &str = "test-token-0123456789";

impl Server {
    pub fn start() -> Server {
        Server::start_with(&[])
    }

    pub fn start_with(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child = Command::new(bin())
            .arg("--store")
            .arg(dir.path().join("store"))
            .args(["serve", "--port", "0"])
            .args(extra)
            .env("TRACKBENCH_TOKEN", TOKEN)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawning trackbench serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let line = lines.next().expect("server exited before printing its URL").expect("reading stdout");
            if let Some(url) = line.trim().strip_prefix("open:") {
                let url = url.trim();
                break url.split("/?token=").next().expect("url").to_string();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Server { child, base, token: TOKEN.into(), dir, agent }
    }

    pub fn store_dir(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn auth(&self) -> String {
        format!("Bearer {}", self.token)
    }
}

impl Api for Server {
    fn send(&self, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
        let url = self.url(path);
        let req = match method {
            "GET" => return read(self.agent.get(&url).header("Authorization", self.auth()).call().expect("GET")),
            "DELETE" => {
                return read(self.agent.delete(&url).header("Authorization", self.auth()).call().expect("DELETE"));
            }
            "PUT" => self.agent.put(&url),
            "PATCH" => self.agent.patch(&url),
            "POST" => self.agent.post(&url),
            other => panic!("method {other}"),
        };
        // JSON everywhere but artifact uploads (raw bytes).
        let req = if method == "PUT" { req } else { req.header("Content-Type", "application/json") };
        read(req.header("Authorization", self.auth()).send(body).expect(method))
    }
}

pub fn read(mut resp: ureq::http::Response<ureq::Body>) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The router built in this process over a temp store and driven with `oneshot`: no socket and
/// no process, so a test of what the API does runs in milliseconds. What HTTP itself does
/// (headers, hosts, timeouts, the binary's flags, live events) is tested against the real
/// binary ([`Server`]). Both answer the same [`Api`] calls.
pub struct App {
    rt: tokio::runtime::Runtime,
    app: axum::Router,
    /// Holds the store's temp folder while the app lives.
    _dir: tempfile::TempDir,
}

impl App {
    pub fn new() -> App {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("store");
        // Created and migrated first, as `trackbench serve` does.
        trackbench_store::Store::open(&root, Default::default()).expect("store");
        let defaults = trackbench_server::ServerConfig::new(root.clone());
        let state = std::sync::Arc::new(trackbench_server::AppState::new(
            root,
            defaults.opts,
            TOKEN.into(),
            Vec::new(),
            defaults.max_body,
            defaults.max_upload,
            defaults.launch,
        ));
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        App { rt, app: trackbench_server::router(state), _dir: dir }
    }
}

impl Api for App {
    fn send(&self, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
        use tower::ServiceExt;
        let mut req =
            axum::http::Request::builder().method(method).uri(path).header("Authorization", format!("Bearer {TOKEN}"));
        if !matches!(method, "GET" | "DELETE" | "PUT") {
            req = req.header("Content-Type", "application/json");
        }
        let req = req.body(axum::body::Body::from(body.to_vec())).expect("request");
        self.rt.block_on(async {
            let resp = self.app.clone().oneshot(req).await.expect("router answers");
            let status = resp.status().as_u16();
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("body");
            (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
        })
    }
}
