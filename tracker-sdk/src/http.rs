//! The HTTP transport: the same SDK API, with batches sent to a Trackbench server
//! (`TRACKBENCH_URL`, token in `TRACKBENCH_TOKEN`) instead of the local store.
//!
//! Each batch goes in the store's binary wire form (`trackbench_store::wire`: the points as
//! codec chunks, which the server stores as they are; not compressed, as the chunks already
//! are), or, to a server that answers 415 to it (one older than that form) and from then on,
//! as JSON (non-finite values as "NaN"/"Infinity" strings), gzip-compressed. Either carries
//! this writer's id and a batch number. A connection loss, a timeout or a 5xx/429
//! answer is retried with exponential backoff (up to [`Remote::retry_for`]) with the *same*
//! bytes and number, so the server stores a batch at most once even when an answer was lost
//! after it committed; the writer sends batches one after another, so order is kept. A 4xx
//! answer is final (the request itself is wrong) and is reported.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use trackbench_store::wire::{BINARY_CONTENT_TYPE, WireBatchRef, encode_binary};
use trackbench_store::{Batch, IngestReport, NewRun, RunInfo, RunStatus, StoreError};

use crate::sink::Sink;

/// Where a remote run goes.
#[derive(Debug, Clone)]
pub struct Remote {
    /// Base URL of the server, e.g. `http://127.0.0.1:5005`.
    pub url: String,
    pub token: Option<String>,
    /// Keep retrying a failed send this long before reporting the error (the data stays queued
    /// and is tried again at the next flush).
    pub retry_for: Duration,
    /// How batches go on the wire (`TRACKBENCH_WIRE=json` forces JSON).
    pub wire: Wire,
}

/// The form a batch is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Wire {
    /// The binary form of codec chunks, falling back to JSON when the server answers 415.
    #[default]
    Binary,
    /// Gzip JSON only (what servers before the binary form take).
    Json,
}

impl Remote {
    pub fn new(url: impl Into<String>, token: Option<String>) -> Remote {
        Remote {
            url: url.into().trim_end_matches('/').to_string(),
            token,
            retry_for: Duration::from_secs(120),
            wire: Wire::Binary,
        }
    }

    /// The same, sending batches as `wire`.
    pub fn with_wire(mut self, wire: Wire) -> Remote {
        self.wire = wire;
        self
    }

    /// `TRACKBENCH_URL` (and `TRACKBENCH_TOKEN`, and `TRACKBENCH_WIRE=json` to send JSON
    /// batches only), when set; else, unless `TRACKBENCH_DIR` names a store folder (as the local
    /// launcher does for its children), the server `trackbench login` keeps.
    pub fn from_env() -> Option<Remote> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let (url, token) = match var("TRACKBENCH_URL") {
            Some(url) => (url, var("TRACKBENCH_TOKEN")),
            None if var("TRACKBENCH_DIR").is_some() => return None,
            None => crate::login::env_or_login()?,
        };
        let remote = Remote::new(url, token);
        let json = std::env::var("TRACKBENCH_WIRE").is_ok_and(|w| w.trim().eq_ignore_ascii_case("json"));
        Some(if json { remote.with_wire(Wire::Json) } else { remote })
    }
}

/// How long creating the run keeps retrying an unreachable server.
const START_RETRY: Duration = Duration::from_secs(10);

/// A client of one server.
pub(crate) struct HttpClient {
    agent: ureq::Agent,
    remote: Remote,
}

/// Why a request did not succeed.
enum Failure {
    /// Worth trying again (connection, timeout, 5xx, 429).
    Transient(String),
    /// The server refused the request itself.
    Final(u16, String),
}

fn to_store_error(context: &str, msg: String) -> StoreError {
    StoreError::Io { context: context.to_string(), source: std::io::Error::other(msg) }
}

impl HttpClient {
    pub fn new(remote: Remote) -> HttpClient {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        HttpClient { agent, remote }
    }

    /// `GET path`'s body as bytes; a 404 is `RunNotFound`, other failures name the status.
    fn get_bytes(&self, path: &str) -> Result<Vec<u8>, StoreError> {
        let url = self.url(path);
        let mut req = self.agent.get(&url);
        if let Some(t) = &self.remote.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        let mut resp =
            req.call().map_err(|e| to_store_error("the server could not be reached", format!("GET {url}: {e}")))?;
        let status = resp.status().as_u16();
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .map_err(|e| to_store_error("reading the server's answer", format!("GET {url}: {e}")))?;
        match status {
            200..=299 => Ok(bytes),
            404 => Err(StoreError::RunNotFound(format!("GET {url}: HTTP 404"))),
            _ => Err(to_store_error(
                "the server refused the request",
                format!("GET {url}: HTTP {status}: {}", server_message(&String::from_utf8_lossy(&bytes))),
            )),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.remote.url)
    }

    /// One attempt: (status, body) or why not.
    fn attempt(&self, method: &str, path: &str, body: Body<'_>) -> Result<String, Failure> {
        let url = self.url(path);
        let bearer = self.remote.token.as_ref().map(|t| format!("Bearer {t}"));
        if method == "GET" {
            let mut req = self.agent.get(&url);
            if let Some(b) = &bearer {
                req = req.header("Authorization", b);
            }
            return answer(method, &url, req.call());
        }
        let mut req = match method {
            "PUT" => self.agent.put(&url),
            _ => self.agent.post(&url),
        };
        if let Some(b) = &bearer {
            req = req.header("Authorization", b);
        }
        let sent = match body {
            Body::Json(bytes) => req.header("Content-Type", "application/json").send(bytes),
            Body::GzJson(bytes) => {
                req.header("Content-Type", "application/json").header("Content-Encoding", "gzip").send(bytes)
            }
            Body::Binary(bytes) => req.header("Content-Type", BINARY_CONTENT_TYPE).send(bytes),
            Body::File(path) => match std::fs::File::open(path) {
                Ok(mut f) => {
                    req.header("Content-Type", "application/octet-stream").send(ureq::SendBody::from_reader(&mut f))
                }
                Err(e) => return Err(Failure::Final(0, format!("reading {}: {e}", path.display()))),
            },
            Body::Bytes(bytes) => req.header("Content-Type", "application/octet-stream").send(bytes),
        };
        answer(method, &url, sent)
    }

    /// Sends until success, a final refusal, or `retry_for` has passed.
    fn send(&self, method: &str, path: &str, body: Body<'_>) -> Result<String, StoreError> {
        self.send_within(method, path, body, self.remote.retry_for)
    }

    fn send_within(&self, method: &str, path: &str, body: Body<'_>, retry_for: Duration) -> Result<String, StoreError> {
        self.send_or_415(method, path, body, retry_for, false).map(Option::unwrap_or_default)
    }

    /// [`HttpClient::send_within`], but `Ok(None)` when `or_415` and the server answers 415
    /// Unsupported Media Type (a server that does not take this kind of body).
    fn send_or_415(
        &self,
        method: &str,
        path: &str,
        body: Body<'_>,
        retry_for: Duration,
        or_415: bool,
    ) -> Result<Option<String>, StoreError> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(50);
        let mut warned = false;
        loop {
            match self.attempt(method, path, body) {
                Ok(text) => return Ok(Some(text)),
                Err(Failure::Final(415, _)) if or_415 => return Ok(None),
                Err(Failure::Final(404, msg)) => return Err(StoreError::RunNotFound(msg)),
                Err(Failure::Final(_, msg)) => return Err(to_store_error("the server refused the request", msg)),
                Err(Failure::Transient(msg)) => {
                    if start.elapsed() >= retry_for {
                        return Err(to_store_error("the server could not be reached", msg));
                    }
                    if !warned {
                        tracing::warn!("trackbench server unreachable, retrying: {msg}");
                        warned = true;
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// Creates the run on the server, or resumes run `resume` there.
    pub fn start_run(&self, new: &NewRun, resume: Option<&str>) -> Result<RunInfo, StoreError> {
        let mut body = serde_json::to_value(new).map_err(|e| to_store_error("encoding the run", e.to_string()))?;
        if let Some(id) = resume {
            body["id"] = serde_json::Value::String(id.to_string());
        }
        let bytes = serde_json::to_vec(&body).map_err(|e| to_store_error("encoding the run", e.to_string()))?;
        // A server that is not there at the start is most likely a wrong URL: say so soon.
        let text =
            self.send_within("POST", "/api/v1/runs", Body::Json(&bytes), START_RETRY.min(self.remote.retry_for))?;
        serde_json::from_str(&text).map_err(|e| to_store_error("reading the server's answer", e.to_string()))
    }
}

#[derive(Clone, Copy)]
enum Body<'a> {
    Json(&'a [u8]),
    GzJson(&'a [u8]),
    Binary(&'a [u8]),
    File(&'a Path),
    Bytes(&'a [u8]),
}

/// A response's body, or why the request failed (worth retrying or not).
fn answer(
    method: &str,
    url: &str,
    sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<String, Failure> {
    let mut resp = sent.map_err(|e| Failure::Transient(format!("{method} {url}: {e}")))?;
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    match status {
        200..=299 => Ok(text),
        429 | 500..=599 | 408 => Err(Failure::Transient(format!("{method} {url}: HTTP {status}: {text}"))),
        _ => Err(Failure::Final(status, format!("{method} {url}: HTTP {status}: {}", server_message(&text)))),
    }
}

fn server_message(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v["message"].as_str().map(String::from))
        .unwrap_or_else(|| text.chars().take(500).collect())
}

/// The wire form of `batch`, gzip-compressed.
fn encode(batch: &Batch) -> Result<Vec<u8>, StoreError> {
    let wire = WireBatchRef::new(batch);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    serde_json::to_writer(&mut gz, &wire).map_err(|e| to_store_error("encoding a batch", e.to_string()))?;
    gz.flush().and_then(|_| gz.finish()).map_err(|e| to_store_error("compressing a batch", e.to_string()))
}

/// Sends one run's batches to the server.
pub(crate) struct HttpSink {
    pub client: HttpClient,
    /// Batches go in the binary form (until the server answers 415 to one).
    pub binary: bool,
}

impl HttpSink {
    pub fn new(client: HttpClient) -> HttpSink {
        let binary = client.remote.wire == Wire::Binary;
        HttpSink { client, binary }
    }
}

/// Points per request: a backlog flushed at once goes as several requests, each well under the
/// server's body limit (about 20 bytes of JSON a point before compression).
const PART_POINTS: usize = 200_000;
/// Log lines per request.
const PART_LINES: usize = 20_000;
/// Parts one batch may be split into; batch number `n` sends its parts as `n * PARTS + i`.
const PARTS: i64 = 1 << 20;

/// Splits `batch` into requests of at most [`PART_POINTS`] points and [`PART_LINES`] lines,
/// each numbered so a resent batch resends identical, individually deduplicated parts.
fn split(batch: &Batch) -> Vec<Batch> {
    if batch.point_count() <= PART_POINTS && batch.log_lines.len() <= PART_LINES {
        let mut one = batch.clone();
        one.mark = batch.mark.as_ref().map(|(w, n)| (w.clone(), n * PARTS));
        return vec![one];
    }
    let mut parts = vec![Batch {
        params: batch.params.clone(),
        tags: batch.tags.clone(),
        summary: batch.summary.clone(),
        ..Batch::default()
    }];
    for s in &batch.series {
        let mut start = 0;
        while start < s.points.len() {
            let room = PART_POINTS - parts.last().map_or(0, Batch::point_count).min(PART_POINTS);
            if room == 0 {
                parts.push(Batch::default());
                continue;
            }
            let end = (start + room).min(s.points.len());
            let mut points = trackbench_store::Points::with_capacity(end - start);
            points.extend_from(&s.points, start..end);
            let part = parts.last_mut().expect("one part at least");
            part.series.push(trackbench_store::SeriesBatch { key: s.key.clone(), points });
            start = end;
        }
    }
    for lines in batch.log_lines.chunks(PART_LINES) {
        parts.push(Batch { log_lines: lines.to_vec(), ..Batch::default() });
    }
    if let Some(last) = parts.last_mut() {
        last.heartbeat_ms = batch.heartbeat_ms;
    }
    if let Some((w, n)) = &batch.mark {
        for (i, p) in parts.iter_mut().enumerate() {
            p.mark = Some((w.clone(), n * PARTS + i as i64));
        }
    }
    parts
}

impl Sink for HttpSink {
    fn write(&mut self, run: &str, batch: &Batch) -> Result<IngestReport, StoreError> {
        let mut total = IngestReport::default();
        let path = format!("/api/v1/runs/{run}/batch");
        for part in split(batch) {
            let mut answer = None;
            if self.binary {
                let body = encode_binary(&part);
                answer =
                    self.client.send_or_415("POST", &path, Body::Binary(&body), self.client.remote.retry_for, true)?;
                if answer.is_none() {
                    // Nothing was stored: the same batch, with the same number, goes as JSON.
                    tracing::info!("the trackbench server does not take binary batches; sending JSON");
                    self.binary = false;
                }
            }
            let text = match answer {
                Some(text) => text,
                None => self.client.send("POST", &path, Body::GzJson(&encode(&part)?))?,
            };
            let report: IngestReport = serde_json::from_str(&text)
                .map_err(|e| to_store_error("reading the server's answer", e.to_string()))?;
            total.points += report.points;
            total.params += report.params;
            total.rejected.extend(report.rejected);
        }
        Ok(total)
    }

    fn put_artifact(&mut self, run: &str, name: &str, source: &Path) -> Result<(), StoreError> {
        let mut files = Vec::new();
        if source.is_dir() {
            collect_files(source, source, &mut files).map_err(|e| StoreError::Io {
                context: format!("listing the artifact folder {}", source.display()),
                source: e,
            })?;
        } else {
            files.push((String::new(), source.to_path_buf()));
        }
        for (rel, path) in files {
            let target = if rel.is_empty() { name.to_string() } else { format!("{name}/{rel}") };
            let encoded: String = target.split('/').map(percent_encode).collect::<Vec<_>>().join("/");
            self.client.send("PUT", &format!("/api/v1/runs/{run}/artifacts/{encoded}"), Body::File(&path))?;
        }
        Ok(())
    }

    fn finish(&mut self, run: &str, status: RunStatus, error: Option<&str>) -> Result<(), StoreError> {
        let body = serde_json::to_vec(&serde_json::json!({ "status": status.as_str(), "error": error }))
            .map_err(|e| to_store_error("encoding", e.to_string()))?;
        self.client.send("POST", &format!("/api/v1/runs/{run}/finish"), Body::Json(&body)).map(drop)
    }

    /// The native API has no route for run inputs: they go through the MLflow API's
    /// `runs/log-inputs`, which the server maps to the same store call (and deduplicates by
    /// the same key, so a resent request stores nothing twice).
    fn add_inputs(&mut self, run: &str, inputs: &[(String, serde_json::Value)]) -> Result<(), StoreError> {
        // The server takes at most 1000 datasets per request.
        for part in inputs.chunks(1000) {
            let datasets: Vec<&serde_json::Value> = part.iter().map(|(_, v)| v).collect();
            let body = serde_json::to_vec(&serde_json::json!({ "run_id": run, "datasets": datasets }))
                .map_err(|e| to_store_error("encoding dataset inputs", e.to_string()))?;
            self.client.send("POST", "/api/2.0/mlflow/runs/log-inputs", Body::Json(&body))?;
        }
        Ok(())
    }

    fn marks_batches(&self) -> bool {
        true
    }
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<(String, std::path::PathBuf)>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            collect_files(root, &p, out)?;
        } else {
            let rel = p.strip_prefix(root).unwrap_or(&p).to_string_lossy().replace('\\', "/");
            out.push((rel, p));
        }
    }
    Ok(())
}

/// Percent-encodes one path segment or query value (everything but unreserved characters).
pub fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A launcher's handle on runs at a server: what the task agent of a cluster job
/// (`trackbench job-exec`) needs to create its run with the id chosen at submission, log its
/// output and heartbeats, read its tags (a cancel request) and end it. Requests are retried as
/// the SDK's own are.
pub struct RunClient {
    sink: HttpSink,
    /// Numbers this client's batches (so a resent batch is stored once).
    writer: String,
    batches: i64,
}

impl RunClient {
    pub fn new(remote: Remote) -> RunClient {
        RunClient { sink: HttpSink::new(HttpClient::new(remote)), writer: writer_id(), batches: 0 }
    }

    /// Whether the server answers (`/api/v1/health`), trying for a few seconds.
    pub fn check(&self) -> Result<(), StoreError> {
        self.sink.client.send_within("GET", "/api/v1/health", Body::Json(b""), Duration::from_secs(3)).map(drop)
    }

    /// The run and its tags; `RunNotFound` when the server has no such run.
    pub fn run(&self, id: &str) -> Result<(RunInfo, Vec<(String, String)>), StoreError> {
        let text = self.sink.client.send("GET", &format!("/api/v1/runs/{id}"), Body::Json(b""))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| to_store_error("reading the server's answer", e.to_string()))?;
        let run: RunInfo = serde_json::from_value(v["run"].clone())
            .map_err(|e| to_store_error("reading the server's answer", e.to_string()))?;
        let tags = v["tags"]
            .as_object()
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
        Ok((run, tags))
    }

    /// Creates run `id` (refused when the server already has it: a task runs once).
    pub fn create_run(&self, id: &str, new: &NewRun) -> Result<RunInfo, StoreError> {
        match self.run(id) {
            Ok((run, _)) => {
                return Err(StoreError::Invalid {
                    what: "run",
                    why: format!("run {id} already exists on the server ({}): this task has already run", run.status),
                });
            }
            Err(StoreError::RunNotFound(_)) => {}
            Err(e) => return Err(e),
        }
        self.sink.client.start_run(new, Some(id))
    }

    pub fn log_batch(&mut self, run: &str, batch: &Batch) -> Result<(), StoreError> {
        let mut batch = batch.clone();
        self.batches += 1;
        batch.mark = Some((self.writer.clone(), self.batches));
        self.sink.write(run, &batch).map(drop)
    }

    pub fn finish(&mut self, run: &str, status: RunStatus, error: Option<&str>) -> Result<(), StoreError> {
        self.sink.finish(run, status, error)
    }

    /// Ends `run` with its own end time (`trackbench push` carries a run's end as it was).
    pub fn finish_at(
        &self,
        run: &str,
        status: RunStatus,
        error: Option<&str>,
        ended_ms: i64,
    ) -> Result<(), StoreError> {
        let body =
            serde_json::to_vec(&serde_json::json!({ "status": status.as_str(), "error": error, "ended_ms": ended_ms }))
                .map_err(|e| to_store_error("encoding", e.to_string()))?;
        self.sink.client.send("POST", &format!("/api/v1/runs/{run}/finish"), Body::Json(&body)).map(drop)
    }

    /// Sends `batch` under the caller's own mark (writer, number), so a batch sent again after
    /// an interruption is stored once: what `trackbench push` needs to resume.
    pub fn log_batch_as(&mut self, run: &str, batch: &Batch) -> Result<IngestReport, StoreError> {
        self.sink.write(run, batch)
    }

    /// Everything `GET /api/v1/runs/{id}` says of a run (run, params, tags, summary, metric
    /// summaries, inputs), as JSON; `RunNotFound` when the server has no such run.
    pub fn detail(&self, id: &str) -> Result<serde_json::Value, StoreError> {
        let text = self.sink.client.send("GET", &format!("/api/v1/runs/{id}"), Body::Json(b""))?;
        serde_json::from_str(&text).map_err(|e| to_store_error("reading the server's answer", e.to_string()))
    }

    /// The run's artifacts on the server (path, size, content hash).
    pub fn artifacts(&self, run: &str) -> Result<Vec<trackbench_store::ArtifactInfo>, StoreError> {
        let text = self.sink.client.send("GET", &format!("/api/v1/runs/{run}/artifacts"), Body::Json(b""))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| to_store_error("reading the server's answer", e.to_string()))?;
        serde_json::from_value(v["artifacts"].clone())
            .map_err(|e| to_store_error("reading the server's answer", e.to_string()))
    }

    /// `GET path` as text (JSON), retried as other requests are.
    pub fn get_text(&self, path: &str) -> Result<String, StoreError> {
        self.sink.client.send("GET", path, Body::Json(b""))
    }

    /// Records dataset inputs of `run` (MLflow's `runs/log-inputs`; the server keeps one per
    /// dataset name and digest, so sending one again stores nothing).
    pub fn add_inputs(&mut self, run: &str, inputs: &[(String, serde_json::Value)]) -> Result<(), StoreError> {
        self.sink.add_inputs(run, inputs)
    }

    /// `PUT path` with a JSON body; the answer's text.
    pub fn put_json(&self, path: &str, body: &serde_json::Value) -> Result<String, StoreError> {
        let bytes = serde_json::to_vec(body).map_err(|e| to_store_error("encoding", e.to_string()))?;
        self.sink.client.send("PUT", path, Body::Json(&bytes))
    }

    /// `GET path` as bytes (a binary series, an artifact): one attempt, errors named.
    pub fn get_bytes(&self, path: &str) -> Result<Vec<u8>, StoreError> {
        self.sink.client.get_bytes(path)
    }

    /// The server's version (`/api/v1/health`).
    pub fn health(&self) -> Result<serde_json::Value, StoreError> {
        let text = self.sink.client.send_within("GET", "/api/v1/health", Body::Json(b""), Duration::from_secs(5))?;
        serde_json::from_str(&text).map_err(|e| to_store_error("reading the server's answer", e.to_string()))
    }

    pub fn put_artifact(&self, run: &str, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let encoded: String = name.split('/').map(percent_encode).collect::<Vec<_>>().join("/");
        self.sink.client.send("PUT", &format!("/api/v1/runs/{run}/artifacts/{encoded}"), Body::Bytes(bytes)).map(drop)
    }
}

/// A fresh writer id: unique per run handle, so two processes attached to one run never
/// suppress each other's batches.
pub(crate) fn writer_id() -> String {
    format!("{}-{}", std::process::id(), trackbench_store::new_run_id())
}

#[cfg(test)]
mod tests {
    #[test]
    fn large_batches_split_into_numbered_parts() {
        let mut b =
            trackbench_store::Batch { mark: Some(("w".into(), 2)), heartbeat_ms: Some(9), ..Default::default() };
        b.params.push(("lr".into(), serde_json::json!(1)));
        for step in 0..(super::PART_POINTS as i64 * 2 + 10) {
            b.push_metric("a", step, step, 1.0);
        }
        for step in 0..10 {
            b.push_metric("b", step, step, 1.0);
        }
        let parts = super::split(&b);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts.iter().map(|p| p.point_count()).sum::<usize>(), b.point_count());
        assert!(parts.iter().all(|p| p.point_count() <= super::PART_POINTS));
        assert_eq!(parts[0].params.len(), 1);
        assert_eq!(parts[2].heartbeat_ms, Some(9));
        let marks: Vec<i64> = parts.iter().map(|p| p.mark.as_ref().unwrap().1).collect();
        assert_eq!(marks, [2 * super::PARTS, 2 * super::PARTS + 1, 2 * super::PARTS + 2]);
        let small = super::split(&parts[2]);
        assert_eq!(small.len(), 1);
    }

    #[test]
    fn batches_encode_non_finite_values_as_strings() {
        let mut b = trackbench_store::Batch { mark: Some(("w".into(), 3)), ..Default::default() };
        b.push_metric("x", 1, 2, f64::NAN);
        b.push_metric("x", 2, 3, f64::NEG_INFINITY);
        let gz = super::encode(&b).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text).unwrap();
        assert!(text.contains(r#""values":["NaN","-Infinity"]"#), "{text}");
        assert!(text.contains(r#""writer":"w","seq":3"#), "{text}");
        assert_eq!(super::percent_encode("a b/%"), "a%20b%2F%25");
    }
}
