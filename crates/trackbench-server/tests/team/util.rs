//! What the team tests share: the test PostgreSQL (a fresh database per test, and an admin
//! connection to cut it off), the artifact store (S3 or a folder), replicas (the real binary),
//! HTTP with the token, and a live-events reader.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};
use serde_json::Value;

pub const TOKEN: &str = "team-test-token-0123456789";

/// Says loudly, past the test harness's capture, that a test (or part of one) could not run here.
pub fn skipped(why: &str) {
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: {why} ***");
}

/// Says what a test measured, past the capture.
pub fn report(what: &str) {
    let _ = writeln!(std::io::stderr(), "team: {what}");
}

#[path = "../common/bin.rs"]
mod common_bin;
pub use common_bin::bin;

/// A name no other test (of this process or another) uses.
pub fn unique(what: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("tbt_{what}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// A fresh database on the test server, dropped afterwards.
pub struct Database {
    admin: String,
    pub name: String,
    /// `postgres://USER@HOST:PORT/NAME`.
    pub url: String,
}

impl Database {
    fn create(admin: &str, what: &str) -> Database {
        let name = unique(what);
        let mut c = Client::connect(admin, NoTls).expect("connecting to the test PostgreSQL");
        c.batch_execute(&format!("CREATE DATABASE {name}")).expect("create database");
        let base = admin.rsplit_once('/').map(|(b, _)| b).expect("URL with a database");
        Database { admin: admin.to_string(), url: format!("{base}/{name}"), name }
    }

    fn admin(&self) -> Client {
        Client::connect(&self.admin, NoTls).expect("admin connection to the test PostgreSQL")
    }

    /// Loses the database as a network cut or a restart does: no new connections, and every
    /// open one closed. Done through the admin database, so only this test's database goes.
    pub fn cut_off(&self) {
        let mut c = self.admin();
        c.batch_execute(&format!("ALTER DATABASE {} ALLOW_CONNECTIONS false", self.name)).expect("disallow");
        c.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", &[&self.name])
            .expect("terminate connections");
    }

    /// Lets connections in again; `false` when that failed (it never panics: drops call it).
    pub fn restore(&self) -> bool {
        Client::connect(&self.admin, NoTls)
            .and_then(|mut c| c.batch_execute(&format!("ALTER DATABASE {} ALLOW_CONNECTIONS true", self.name)))
            .is_ok()
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut c) = Client::connect(&self.admin, NoTls) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

/// The admin URL of the test PostgreSQL, or `None` (said loudly) when there is none.
pub fn test_postgres() -> Option<String> {
    let url = std::env::var("TRACKBENCH_TEST_POSTGRES").ok().filter(|u| !u.is_empty());
    if url.is_none() {
        skipped("team server: TRACKBENCH_TEST_POSTGRES is not set (`cargo xtask test` starts a PostgreSQL)");
    }
    url
}

/// The test S3 server from `TRACKBENCH_TEST_S3=http://KEY:SECRET@HOST:PORT/BUCKET`.
pub struct S3 {
    pub endpoint: String,
    pub key: String,
    pub secret: String,
    pub bucket: String,
}

impl S3 {
    pub fn from_env() -> Option<S3> {
        let url = std::env::var("TRACKBENCH_TEST_S3").ok().filter(|u| !u.is_empty())?;
        let (scheme, rest) = url.split_once("://").expect("TRACKBENCH_TEST_S3 is a URL");
        let (auth, rest) = rest.rsplit_once('@').expect("TRACKBENCH_TEST_S3 carries KEY:SECRET@");
        let (key, secret) = auth.split_once(':').expect("KEY:SECRET");
        let (host, bucket) = rest.split_once('/').expect("TRACKBENCH_TEST_S3 ends in /BUCKET");
        Some(S3 {
            endpoint: format!("{scheme}://{host}"),
            key: decode(key),
            secret: decode(secret),
            bucket: bucket.trim_matches('/').to_string(),
        })
    }

    /// The variables a replica reads to reach this server as `key`:`secret`.
    pub fn env(&self, key: &str, secret: &str) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_ALLOW_HTTP", "true"),
            ("AWS_ACCESS_KEY_ID", key),
            ("AWS_SECRET_ACCESS_KEY", secret),
            ("AWS_REGION", "us-east-1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).expect("percent-decoded UTF-8")
}

/// Where a test's artifacts live: a prefix of its own in the test bucket, or a temp folder.
pub struct Artifacts {
    /// `s3://BUCKET/PREFIX` or `file:///PATH`.
    pub url: String,
    /// The variables replicas need for it.
    pub env: Vec<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl Artifacts {
    fn for_test(what: &str) -> Artifacts {
        match S3::from_env() {
            Some(s3) => Artifacts {
                url: format!("s3://{}/{}", s3.bucket, unique(what)),
                env: s3.env(&s3.key, &s3.secret),
                _dir: None,
            },
            None => {
                skipped("S3 artifacts: TRACKBENCH_TEST_S3 is not set; artifacts go to a file:// folder instead");
                let dir = tempfile::tempdir().expect("tempdir");
                Artifacts { url: format!("file://{}", dir.path().display()), env: Vec::new(), _dir: Some(dir) }
            }
        }
    }
}

/// One test's team store: a fresh database and an artifact store.
pub struct Team {
    pub db: Database,
    pub artifacts: Artifacts,
}

impl Team {
    /// A fresh team store, or `None` (said loudly) without a test PostgreSQL.
    pub fn new(what: &str) -> Option<Team> {
        let admin = test_postgres()?;
        Some(Team { db: Database::create(&admin, what), artifacts: Artifacts::for_test(what) })
    }

    /// Starts a replica over this store.
    pub fn replica(&self, extra: &[&str]) -> Replica {
        Replica::start(serve_command(&self.db.url, &self.artifacts.url, &self.artifacts.env, extra))
    }
}

/// `trackbench --store DB --artifacts URL serve --port 0 EXTRA…` with a hermetic environment:
/// nothing of the caller's `TRACKBENCH_*` or `AWS_*`, only `env` and the token.
pub fn serve_command(db: &str, artifacts: &str, env: &[(String, String)], extra: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.arg("--store").arg(db).arg("--artifacts").arg(artifacts).args(["serve", "--port", "0"]).args(extra);
    for (k, _) in std::env::vars() {
        if k.starts_with("TRACKBENCH_") || k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("TRACKBENCH_TOKEN", TOKEN);
    if let Ok(log) = std::env::var("TRACKBENCH_LOG") {
        cmd.env("TRACKBENCH_LOG", log);
    }
    cmd.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    cmd
}

/// Runs `cmd` (a `trackbench serve` expected to refuse to start) and returns its exit status
/// and stderr; kills it and fails when it is still serving after `limit`.
pub fn refused(mut cmd: Command, limit: Duration) -> (std::process::ExitStatus, String) {
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawning trackbench serve");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("trackbench serve was still running after {limit:?}; it should have refused to start");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, reader.join().expect("stderr reader"))
}

/// A running `trackbench serve`; killed on drop.
pub struct Replica {
    child: std::sync::Mutex<Child>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    agent: ureq::Agent,
}

/// An answer: status, headers we look at, body bytes.
pub struct Answer {
    pub status: u16,
    pub content_range: Option<String>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

impl Replica {
    /// Starts `cmd` (see [`serve_command`]) and waits for its URL.
    pub fn start(mut cmd: Command) -> Replica {
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("spawning trackbench serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let Some(line) = lines.next() else {
                let status = child.wait().expect("wait");
                panic!("trackbench serve exited ({status}) before printing its URL; its stderr is above");
            };
            let line = line.expect("reading stdout");
            if let Some(url) = line.trim().strip_prefix("open:") {
                break url.trim().split("/?token=").next().expect("url").to_string();
            }
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Replica { child: std::sync::Mutex::new(child), base, agent }
    }

    /// Kills the process at once (SIGKILL): no graceful stop, requests in flight are cut.
    pub fn kill(&self) {
        let mut child = self.child.lock().unwrap_or_else(|p| p.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }

    /// One request with the token; a transport failure (refused, reset, timeout) is `Err`.
    pub fn try_send(&self, method: &str, path: &str, body: &[u8], headers: &[(&str, &str)]) -> Result<Answer, String> {
        let url = format!("{}{path}", self.base);
        let auth = format!("Bearer {TOKEN}");
        let resp = match method {
            "GET" | "DELETE" => {
                let mut req = if method == "GET" { self.agent.get(&url) } else { self.agent.delete(&url) }
                    .header("Authorization", &auth);
                for (k, v) in headers {
                    req = req.header(*k, *v);
                }
                req.call()
            }
            _ => {
                let mut req = match method {
                    "PUT" => self.agent.put(&url),
                    "PATCH" => self.agent.patch(&url),
                    _ => self.agent.post(&url),
                }
                .header("Authorization", &auth);
                for (k, v) in headers {
                    req = req.header(*k, *v);
                }
                req.send(body)
            }
        };
        let mut resp = resp.map_err(|e| format!("{method} {url}: {e}"))?;
        let status = resp.status().as_u16();
        let content_range = resp.headers().get("content-range").and_then(|v| v.to_str().ok()).map(str::to_string);
        let mut body = Vec::new();
        resp.body_mut().as_reader().read_to_end(&mut body).map_err(|e| format!("{method} {url}: reading: {e}"))?;
        Ok(Answer { status, content_range, body })
    }

    pub fn send(&self, method: &str, path: &str, body: &[u8], headers: &[(&str, &str)]) -> Answer {
        self.try_send(method, path, body, headers).unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        let a = self.send("GET", path, b"", &[]);
        (a.status, a.json())
    }

    pub fn post(&self, path: &str, body: &str) -> (u16, Value) {
        let a = self.send("POST", path, body.as_bytes(), &[("Content-Type", "application/json")]);
        (a.status, a.json())
    }

    /// Creates a run in `project` and returns its id.
    pub fn create_run(&self, project: &str, name: &str) -> String {
        let (status, v) = self.post("/api/v1/runs", &format!(r#"{{"project":"{project}","name":"{name}"}}"#));
        assert_eq!(status, 201, "{v}");
        v["id"].as_str().expect("id").to_string()
    }

    /// Sends one batch (see [`batch_json`]); `Err` on a transport failure.
    pub fn try_batch(&self, run: &str, body: &str) -> Result<(u16, Value), String> {
        let a = self.try_send(
            "POST",
            &format!("/api/v1/runs/{run}/batch"),
            body.as_bytes(),
            &[("Content-Type", "application/json")],
        )?;
        Ok((a.status, a.json()))
    }

    /// A whole series: (steps, values).
    pub fn series(&self, run: &str, key: &str) -> (Vec<i64>, Vec<f64>) {
        let (status, v) = self.get(&format!("/api/v1/runs/{run}/series?key={key}"));
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["downsampled"], false, "{v}");
        let steps = v["points"]["steps"].as_array().expect("steps").iter().map(|s| s.as_i64().unwrap()).collect();
        let values = v["points"]["values"].as_array().expect("values").iter().map(|s| s.as_f64().unwrap()).collect();
        (steps, values)
    }

    /// Subscribes to `/api/v1/events?QUERY`, once the stream said hello.
    pub fn events(&self, query: &str) -> Events {
        // Its own agent: the stream outlives the usual request timeout.
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let resp = agent
            .get(format!("{}/api/v1/events?{query}", self.base))
            .header("Authorization", format!("Bearer {TOKEN}"))
            .call()
            .expect("events");
        assert_eq!(resp.status(), 200);
        let (tx, rx) = std::sync::mpsc::channel::<Event>();
        let reader = resp.into_body().into_reader();
        std::thread::spawn(move || {
            let mut name = String::new();
            for line in BufReader::new(reader).lines() {
                let Ok(line) = line else { break };
                if let Some(e) = line.strip_prefix("event: ") {
                    name = e.to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    let data = serde_json::from_str(d).unwrap_or(Value::Null);
                    if tx.send(Event { at: Instant::now(), name: name.clone(), data }).is_err() {
                        break;
                    }
                }
            }
        });
        let events = Events { rx };
        events.wait_for("hello", Duration::from_secs(30), |_| true).expect("the event stream says hello");
        events
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One server-sent event, with when it arrived.
pub struct Event {
    pub at: Instant,
    pub name: String,
    pub data: Value,
}

/// A live-events subscription.
pub struct Events {
    rx: Receiver<Event>,
}

impl Events {
    /// The next event named `name` whose data passes `pred`, within `limit`; others are skipped.
    pub fn wait_for(&self, name: &str, limit: Duration, pred: impl Fn(&Value) -> bool) -> Option<Event> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(e) if e.name == name && pred(&e.data) => return Some(e),
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return None,
            }
        }
    }
}

/// A batch in the wire form the SDK sends, numbered `writer` + `seq`: one series `key` with
/// `steps` and their `values` (wall time = step).
pub fn batch_json(writer: &str, seq: i64, key: &str, steps: &[i64], values: &[f64]) -> String {
    serde_json::json!({
        "series": [{ "key": key, "steps": steps, "wall_ms": steps, "values": values }],
        "writer": writer,
        "seq": seq,
    })
    .to_string()
}

/// Bytes that do not repeat in any short period, so a misplaced range shows.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
