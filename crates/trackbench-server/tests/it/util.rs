//! Starting the real server binary and talking to it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// The `trackbench` binary: `TRACKBENCH_BIN`, else next to this test's target folder (built by
/// `cargo test --workspace`), else built now.
pub fn bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TRACKBENCH_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test exe");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let candidate = profile_dir.join("trackbench");
    if !candidate.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "trackbench-cli", "--bin", "trackbench"])
            .status()
            .expect("running cargo build");
        assert!(status.success(), "building the trackbench binary failed");
    }
    candidate
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

    /// GET with the token: (status, JSON body or Null).
    pub fn get(&self, path: &str) -> (u16, Value) {
        let resp = self.agent.get(self.url(path)).header("Authorization", self.auth()).call().expect("GET");
        read(resp)
    }

    pub fn post(&self, path: &str, body: &str) -> (u16, Value) {
        let resp = self
            .agent
            .post(self.url(path))
            .header("Authorization", self.auth())
            .header("Content-Type", "application/json")
            .send(body)
            .expect("POST");
        read(resp)
    }

    pub fn send(&self, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
        let url = self.url(path);
        let req = match method {
            "PUT" => self.agent.put(&url),
            "PATCH" => self.agent.patch(&url),
            "POST" => self.agent.post(&url),
            other => panic!("method {other}"),
        };
        // JSON everywhere but artifact uploads (raw bytes).
        let req = if method == "PUT" { req } else { req.header("Content-Type", "application/json") };
        read(req.header("Authorization", self.auth()).send(body).expect(method))
    }

    pub fn delete(&self, path: &str) -> (u16, Value) {
        read(self.agent.delete(self.url(path)).header("Authorization", self.auth()).call().expect("DELETE"))
    }

    /// Creates a run through the API and returns its id.
    pub fn create_run(&self, project: &str, name: &str) -> String {
        let (status, v) = self.post("/api/v1/runs", &format!(r#"{{"project":"{project}","name":"{name}"}}"#));
        assert_eq!(status, 201, "{v}");
        v["id"].as_str().expect("id").to_string()
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
