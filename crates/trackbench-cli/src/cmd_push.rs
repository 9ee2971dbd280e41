//! `trackbench push`: publishes runs of the local store to a team server, keeping their ids:
//! the run's fields and creation time, params, tags, summary values, every point of every
//! series (bit-exact, in step order), log lines, artifacts and its end (status, error, end
//! time). Runs are published through the server's own API (the SDK's `RunClient`, so points
//! travel as the binary wire's codec chunks), and what the server already has is not sent:
//!
//! - a series is sent from the server's count of its points on (its metric summary), in
//!   batches marked `push:ORIGIN:RUN:KEY` / first index, so a batch resent after an interruption
//!   is stored once;
//! - log lines likewise, each batch also setting the run's `push.log_lines` tag to the count
//!   it brings the server to, in the same transaction;
//! - params, tags and summary values only where the server's differ; artifacts only where the
//!   server has none under that path with the same content hash;
//! - the end only when the server's differs.
//!
//! So a second push sends nothing and says so, and a push killed half-way completes when run
//! again, with no point twice. Every pushed run carries `push.origin`, this store's id (kept in
//! the store folder's `origin` file): a run id that exists on the server without it, or with
//! another store's, is refused. `--watch` keeps pushing running runs until they end.
//! Dataset inputs go too (while the run is open on the server: its MLflow route takes them only
//! then), and A/B comparisons whose runs were all pushed (`PUT /api/v1/push/ab/{id}`). Deleted
//! state is not carried.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use serde_json::Value;
use trackbench_sdk::{Remote, RunClient, percent_encode};
use trackbench_store::prelude::*;
use trackbench_store::{
    Batch, LogLine, NewRun, RunInfo, RunQuery, RunStatus, SeriesBatch, StepRange, Store, StoreError,
};

use crate::Ctx;

/// The push protocol this CLI speaks; the server says its own in `/api/v1/health`.
const PROTOCOL: u64 = trackbench_server::PUSH_PROTOCOL;
/// Tag naming the store a pushed run came from.
pub const ORIGIN_TAG: &str = "push.origin";
/// Tag counting the log lines a push has stored on the server.
const LINES_TAG: &str = "push.log_lines";
const POINTS_PER_BATCH: usize = 100_000;
const LINES_PER_BATCH: usize = 10_000;

#[derive(Args)]
pub struct PushArgs {
    /// Runs to push: ids, unique id prefixes or names
    runs: Vec<String>,
    /// Push every run of this project
    #[arg(long, short)]
    project: Option<String>,
    /// Push every run of the store
    #[arg(long, conflicts_with_all = ["runs", "project"])]
    all: bool,
    /// The team server [default: TRACKBENCH_URL, else `trackbench login`'s]
    #[arg(long, value_name = "URL")]
    to: Option<String>,
    /// Keep pushing the runs that are still running until they end
    #[arg(long)]
    watch: bool,
    /// Print what was sent as JSON
    #[arg(long)]
    json: bool,
}

/// What one run's push sent.
#[derive(Debug, Default, Clone, serde::Serialize)]
struct Sent {
    run: String,
    created: bool,
    points: u64,
    log_lines: u64,
    fields: u64,
    artifacts: u64,
    artifact_bytes: u64,
    ended: bool,
}

impl Sent {
    fn nothing(&self) -> bool {
        !self.created
            && self.points == 0
            && self.log_lines == 0
            && self.fields == 0
            && self.artifacts == 0
            && !self.ended
    }
}

/// This store's id, made on first use.
fn origin_id(dir: &Path) -> anyhow::Result<String> {
    let file = dir.join("origin");
    if let Ok(id) = std::fs::read_to_string(&file)
        && !id.trim().is_empty()
    {
        return Ok(id.trim().to_string());
    }
    let id = trackbench_store::new_run_id();
    std::fs::write(&file, &id).with_context(|| format!("writing {}", file.display()))?;
    Ok(id)
}

/// The server and token: `--to`, else TRACKBENCH_URL/TRACKBENCH_TOKEN, else the login.
fn remote(to: Option<&str>) -> anyhow::Result<Remote> {
    let (url, token) = match to {
        Some(url) => {
            let token = trackbench_sdk::login::env_or_login().and_then(|(_, t)| t);
            (url.to_string(), std::env::var("TRACKBENCH_TOKEN").ok().filter(|t| !t.is_empty()).or(token))
        }
        None => trackbench_sdk::login::env_or_login()
            .context("no team server: give --to URL, set TRACKBENCH_URL, or `trackbench login URL`")?,
    };
    let mut r = Remote::new(url, token);
    // A dropped connection is retried for a while, then the push stops (run it again to resume).
    r.retry_for = Duration::from_secs(30);
    Ok(r)
}

/// Refuses a server that does not speak this push protocol, naming both versions.
fn check_server(client: &RunClient, url: &str) -> anyhow::Result<()> {
    let health = client.health().with_context(|| format!("the server {url} does not answer"))?;
    let theirs = health["push"].as_u64();
    if theirs != Some(PROTOCOL) {
        anyhow::bail!(
            "the server {url} (trackbench {}, push protocol {}) is not compatible with this trackbench ({}, push \
             protocol {PROTOCOL}): upgrade the older side",
            health["version"].as_str().unwrap_or("unknown"),
            theirs.map(|p| p.to_string()).unwrap_or_else(|| "none".into()),
            env!("CARGO_PKG_VERSION"),
        );
    }
    Ok(())
}

pub fn push(ctx: &Ctx, a: PushArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.all || a.project.is_some() || !a.runs.is_empty(), "say what to push: RUN…, --project P or --all");
    let remote = remote(a.to.as_deref())?;
    let url = remote.url.clone();
    let mut client = RunClient::new(remote);
    check_server(&client, &url)?;
    let mut store = ctx.open_local()?;
    let origin = origin_id(&ctx.store_dir)?;
    let mut ids: Vec<String> = a.runs.iter().map(|r| store.resolve_run(r)).collect::<Result<_, _>>()?;
    if a.all || a.project.is_some() {
        let q = RunQuery { project: a.project.clone(), ..RunQuery::default() };
        let mut runs = store.list_runs(&q)?;
        runs.sort_by(|x, y| x.created_ms.cmp(&y.created_ms).then_with(|| x.id.cmp(&y.id)));
        ids.extend(runs.into_iter().map(|r| r.id));
    }
    let mut all: Vec<Sent> = Vec::new();
    let mut pending = ids.clone();
    loop {
        let mut next = Vec::new();
        for id in &pending {
            let run = store.run(id)?;
            let sent = push_run(&mut store, &mut client, &origin, &run)
                .with_context(|| format!("pushing run {id} to {url} (run the push again to resume)"))?;
            if !a.json && !sent.nothing() {
                eprintln!("{}", describe(&sent));
            }
            match all.iter_mut().find(|s| s.run == sent.run) {
                Some(s) => {
                    s.created |= sent.created;
                    s.points += sent.points;
                    s.log_lines += sent.log_lines;
                    s.fields += sent.fields;
                    s.artifacts += sent.artifacts;
                    s.artifact_bytes += sent.artifact_bytes;
                    s.ended |= sent.ended;
                }
                None => all.push(sent),
            }
            if a.watch && store.run(id)?.status == RunStatus::Running {
                next.push(id.clone());
            }
        }
        if next.is_empty() {
            break;
        }
        pending = next;
        std::thread::sleep(Duration::from_secs(2));
    }
    let abs = push_abs(&mut store, &client, &ids)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "server": url, "runs": all, "abs": abs }))?);
        return Ok(());
    }
    if !abs.is_empty() {
        eprintln!("A/B comparisons sent: {}", abs.join(", "));
    }
    let changed = all.iter().filter(|s| !s.nothing()).count();
    if changed == 0 && abs.is_empty() {
        println!("nothing new to push: {url} already has all of {} run(s)", all.len());
    } else {
        let points: u64 = all.iter().map(|s| s.points).sum();
        let bytes: u64 = all.iter().map(|s| s.artifact_bytes).sum();
        println!(
            "pushed {changed} of {} run(s) to {url}: {points} points, {} log lines, {} artifacts ({bytes} bytes)",
            all.len(),
            all.iter().map(|s| s.log_lines).sum::<u64>(),
            all.iter().map(|s| s.artifacts).sum::<u64>()
        );
    }
    Ok(())
}

fn describe(s: &Sent) -> String {
    let mut parts = Vec::new();
    if s.created {
        parts.push("created".to_string());
    }
    for (n, what) in [
        (s.points, "points"),
        (s.log_lines, "log lines"),
        (s.fields, "params/tags/summaries"),
        (s.artifacts, "artifacts"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    if s.ended {
        parts.push("ended".into());
    }
    format!("run {}: {}", s.run, parts.join(", "))
}

/// A new run with `run`'s fields and creation time, and `tags` (the other side's copy of it).
fn new_run_like(run: &RunInfo, tags: Vec<(String, String)>) -> NewRun {
    NewRun {
        project: run.project.clone(),
        name: Some(run.name.clone()),
        group: run.group.clone(),
        notes: run.notes.clone(),
        tags,
        host: run.host.clone(),
        command: run.command.clone(),
        git_commit: run.git_commit.clone(),
        git_dirty: run.git_dirty,
        env: run.env.clone(),
        created_ms: Some(run.created_ms),
        ..NewRun::default()
    }
}

/// The tags push and pull keep for themselves (`push.origin`, `pull.from`, line counts): each
/// side's own bookkeeping, never carried to the other side.
fn is_sync_tag(key: &str) -> bool {
    key.starts_with("push.") || key.starts_with("pull.")
}

/// A JSON object's entries as (key, value).
fn entries(v: &Value) -> BTreeMap<String, Value> {
    v.as_object().map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
}

fn push_run(store: &mut Store, client: &mut RunClient, origin: &str, run: &RunInfo) -> anyhow::Result<Sent> {
    let id = &run.id;
    let mut sent = Sent { run: id.clone(), ..Sent::default() };
    let mut detail = match client.detail(id) {
        Ok(d) => d,
        Err(StoreError::RunNotFound(_)) => {
            let mut tags: Vec<(String, String)> =
                store.tags(id)?.into_iter().filter(|(k, _)| !is_sync_tag(k)).collect();
            tags.push((ORIGIN_TAG.into(), origin.to_string()));
            client.create_run(id, &new_run_like(run, tags))?;
            sent.created = true;
            client.detail(id)?
        }
        Err(e) => return Err(e.into()),
    };
    let tags = entries(&detail["tags"]);
    match tags.get(ORIGIN_TAG).and_then(Value::as_str) {
        Some(o) if o == origin => {}
        other => anyhow::bail!(
            "run {id} exists on the server with another origin ({}); a run id names one run, so it is not pushed",
            match other {
                Some(o) => format!("pushed from store {o}, this is {origin}"),
                None => "logged there directly".into(),
            }
        ),
    }
    // Params, tags and summary values where the server's differ.
    let mut batch = Batch::default();
    let params = entries(&detail["params"]);
    for (k, v) in store.params(id)? {
        if params.get(&k) != Some(&v) {
            batch.params.push((k, v));
        }
    }
    for (k, v) in store.tags(id)?.into_iter().filter(|(k, _)| !is_sync_tag(k)) {
        if tags.get(&k).and_then(Value::as_str) != Some(v.as_str()) {
            batch.tags.push((k, v));
        }
    }
    let summary = entries(&detail["summary"]);
    for (k, v) in store.summary_values(id)? {
        if summary.get(&k) != Some(&v) {
            batch.summary.push((k, v));
        }
    }
    sent.fields = (batch.params.len() + batch.tags.len() + batch.summary.len()) as u64;
    if sent.fields > 0 {
        client.log_batch_as(id, &batch)?;
    }
    // Every series from the server's count on.
    let have: BTreeMap<String, i64> = detail["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m["key"].as_str()?.to_string(), m["count"].as_i64()?)))
        .collect();
    for s in store.metric_summaries(id)? {
        let from = have.get(&s.key).copied().unwrap_or(0).max(0) as usize;
        if from as i64 >= s.count {
            continue;
        }
        let points = store.series(id, &s.key, StepRange::default())?;
        let mut start = from;
        while start < points.len() {
            let end = (start + POINTS_PER_BATCH).min(points.len());
            let mut part = trackbench_store::Points::with_capacity(end - start);
            part.extend_from(&points, start..end);
            let b = Batch {
                series: vec![SeriesBatch { key: s.key.clone(), points: part }],
                mark: Some((format!("push:{origin}:{}", s.key), start as i64)),
                ..Batch::default()
            };
            client.log_batch_as(id, &b)?;
            sent.points += (end - start) as u64;
            start = end;
        }
    }
    // Log lines from the count the last push recorded on.
    let lines_have: u64 = tags.get(LINES_TAG).and_then(Value::as_str).and_then(|n| n.parse().ok()).unwrap_or(0);
    let mut index = 0u64;
    let mut after = 0i64;
    let mut pending: Vec<LogLine> = Vec::new();
    loop {
        let page = store.log_lines(id, after, LINES_PER_BATCH)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for l in page {
            if index >= lines_have {
                pending.push(l.line);
            }
            index += 1;
            if pending.len() == LINES_PER_BATCH {
                sent.log_lines += send_lines(client, id, origin, &mut pending, index)?;
            }
        }
    }
    if !pending.is_empty() {
        sent.log_lines += send_lines(client, id, origin, &mut pending, index)?;
    }
    // Artifacts the server does not hold under the same path and content.
    let theirs: BTreeMap<String, String> = client.artifacts(id)?.into_iter().map(|a| (a.path, a.hash)).collect();
    for art in store.artifacts(id)? {
        if theirs.get(&art.path) == Some(&art.hash) {
            continue;
        }
        let mut bytes = Vec::with_capacity(art.size as usize);
        let (_, mut reader) = store.open_artifact(id, &art.path, None)?;
        std::io::Read::read_to_end(&mut reader, &mut bytes)
            .with_context(|| format!("reading artifact {}", art.path))?;
        client.put_artifact(id, &art.path, &bytes)?;
        sent.artifacts += 1;
        sent.artifact_bytes += bytes.len() as u64;
    }
    // Dataset inputs the server lacks (it takes them only while the run is open there).
    let theirs_inputs = detail["inputs"].as_array().cloned().unwrap_or_default();
    let missing: Vec<(String, Value)> = store
        .run_inputs(id)?
        .into_iter()
        .enumerate()
        .filter(|(_, v)| !theirs_inputs.contains(v))
        .map(|(i, v)| (trackbench_store::copy::input_key(&v, i), v))
        .collect();
    if !missing.is_empty() {
        let open = detail["run"]["status"].as_str() == Some("running");
        anyhow::ensure!(
            open,
            "run {id} has {} dataset input(s) the server lacks, and the server takes inputs only while a run is open",
            missing.len()
        );
        client.add_inputs(id, &missing)?;
        sent.fields += missing.len() as u64;
    }
    // The end, when it is one and the server's differs.
    detail = client.detail(id)?;
    let local = store.run(id)?;
    if matches!(local.status, RunStatus::Finished | RunStatus::Failed | RunStatus::Killed) {
        let theirs: RunInfo = serde_json::from_value(detail["run"].clone()).context("reading the server's run")?;
        if (theirs.status, theirs.ended_ms, &theirs.error) != (local.status, local.ended_ms, &local.error) {
            client.finish_at(id, local.status, local.error.as_deref(), local.ended_ms.unwrap_or_else(now_ms))?;
            sent.ended = true;
        }
    }
    check_counts(store, id, &detail)?;
    Ok(sent)
}

fn now_ms() -> i64 {
    trackbench_store::now_ms()
}

/// The A/B comparisons whose runs were all pushed, sent where the server's differs (new, a run
/// not yet on an arm, another end); their ids.
fn push_abs(store: &mut Store, client: &RunClient, pushed: &[String]) -> anyhow::Result<Vec<String>> {
    let mut sent = Vec::new();
    for ab in store.list_abs(None)? {
        if ab.runs.is_empty() || !ab.runs.iter().all(|r| pushed.contains(&r.run_id)) {
            continue;
        }
        let theirs = match client.get_text(&format!("/api/v1/ab/{}", ab.id)) {
            Ok(text) => {
                Some(serde_json::from_str::<trackbench_store::AbInfo>(&text).context("reading the server's A/B")?)
            }
            Err(StoreError::RunNotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        let same = theirs.as_ref().is_some_and(|t| {
            (t.status, &t.result, &t.error, t.ended_ms, t.runs.len())
                == (ab.status, &ab.result, &ab.error, ab.ended_ms, ab.runs.len())
        });
        if !same {
            client
                .put_json(&format!("/api/v1/push/ab/{}", ab.id), &serde_json::to_value(&ab)?)
                .with_context(|| format!("pushing A/B {}", ab.id))?;
            sent.push(ab.id.clone());
        }
    }
    Ok(sent)
}

/// Sends `lines` (ending at local index `upto`), setting the server's line count in the same
/// batch; returns how many were sent.
fn send_lines(
    client: &mut RunClient,
    id: &str,
    origin: &str,
    lines: &mut Vec<LogLine>,
    upto: u64,
) -> anyhow::Result<u64> {
    let n = lines.len() as u64;
    let b = Batch {
        log_lines: std::mem::take(lines),
        tags: vec![(LINES_TAG.into(), upto.to_string())],
        mark: Some((format!("push:{origin}:log"), (upto - n) as i64)),
        ..Batch::default()
    };
    client.log_batch_as(id, &b)?;
    Ok(n)
}

/// After a push, the server's count of every series equals the local one (else the series
/// changed under the push: points logged out of step order into a run already pushed).
fn check_counts(store: &mut Store, id: &str, detail: &Value) -> anyhow::Result<()> {
    let have: BTreeMap<String, (i64, i64)> = detail["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some((m["key"].as_str()?.to_string(), (m["count"].as_i64()?, m["last_step"].as_i64()?))))
        .collect();
    for s in store.metric_summaries(id)? {
        let theirs = have.get(&s.key).copied();
        if theirs != Some((s.count, s.last_step)) && store.run(id)?.status != RunStatus::Running {
            anyhow::bail!(
                "series `{}` of run {id} differs on the server after the push ({:?} points/last step there, {} / {} here)",
                s.key,
                theirs,
                s.count,
                s.last_step
            );
        }
    }
    Ok(())
}

/// Tag naming the server a pulled run came from.
pub const PULLED_TAG: &str = "pull.from";
/// Tag counting the log lines a pull has stored locally.
const PULLED_LINES_TAG: &str = "pull.log_lines";

#[derive(Args)]
pub struct PullArgs {
    /// Runs to pull: ids on the server
    runs: Vec<String>,
    /// Pull the runs of this project
    #[arg(long, short)]
    project: Option<String>,
    /// With --project: only the runs matching this filter (as `runs ls --filter`)
    #[arg(long, requires = "project")]
    filter: Option<String>,
    /// The team server [default: TRACKBENCH_URL, else `trackbench login`'s]
    #[arg(long, value_name = "URL")]
    from: Option<String>,
    /// Print what was received as JSON
    #[arg(long)]
    json: bool,
}

/// `trackbench pull`: brings team runs into the local store for offline work, by the same rules
/// as `push` the other way: ids kept, only what the store lacks fetched (series as the
/// server's bit-exact binary form), dataset inputs and the A/B comparisons whose runs were all
/// pulled included, resumable, a local run of another origin refused.
pub fn pull(ctx: &Ctx, a: PullArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.project.is_some() || !a.runs.is_empty(), "say what to pull: RUN… or --project P [--filter F]");
    let remote = remote(a.from.as_deref())?;
    let url = remote.url.clone();
    let client = RunClient::new(remote);
    check_server(&client, &url)?;
    let mut store = ctx.open_local()?;
    let origin = origin_id(&ctx.store_dir)?;
    let mut ids = a.runs.clone();
    if let Some(p) = &a.project {
        let mut offset = 0u64;
        loop {
            let mut q = format!("/api/v1/runs?limit=1000&offset={offset}&project={}", percent_encode(p));
            if let Some(f) = &a.filter {
                q.push_str(&format!("&filter={}", percent_encode(f)));
            }
            let page: Value = serde_json::from_str(&client.get_text(&q)?).context("reading the run list")?;
            ids.extend(
                page["runs"].as_array().into_iter().flatten().filter_map(|r| r["id"].as_str().map(String::from)),
            );
            match page["next_offset"].as_u64() {
                Some(n) if n > offset => offset = n,
                _ => break,
            }
        }
    }
    let mut all = Vec::new();
    for id in &ids {
        let got = pull_run(&mut store, &client, &url, &origin, id)
            .with_context(|| format!("pulling run {id} from {url} (run the pull again to resume)"))?;
        if !a.json && !got.nothing() {
            eprintln!("{}", describe(&got));
        }
        all.push(got);
    }
    let abs = pull_abs(&mut store, &client, &ids)?;
    if !a.json && !abs.is_empty() {
        eprintln!("A/B comparisons received: {}", abs.join(", "));
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "server": url, "runs": all, "abs": abs }))?);
    } else if all.iter().all(Sent::nothing) && abs.is_empty() {
        println!("nothing new to pull: this store already has all of {} run(s)", all.len());
    } else {
        println!(
            "pulled {} of {} run(s) from {url}: {} points, {} log lines, {} artifacts",
            all.iter().filter(|s| !s.nothing()).count(),
            all.len(),
            all.iter().map(|s| s.points).sum::<u64>(),
            all.iter().map(|s| s.log_lines).sum::<u64>(),
            all.iter().map(|s| s.artifacts).sum::<u64>()
        );
    }
    Ok(())
}

/// The server's A/B comparisons whose runs were all pulled, recorded here where this store's
/// differs (new, a run not yet on an arm, another end); their ids.
fn pull_abs(store: &mut Store, client: &RunClient, pulled: &[String]) -> anyhow::Result<Vec<String>> {
    let mut projects: Vec<String> = Vec::new();
    for id in pulled {
        let p = store.run(id)?.project;
        if !projects.contains(&p) {
            projects.push(p);
        }
    }
    let mut got = Vec::new();
    for p in projects {
        let list: Vec<trackbench_store::AbInfo> =
            serde_json::from_str(&client.get_text(&format!("/api/v1/ab?project={}", percent_encode(&p)))?)
                .context("reading the server's A/B list")?;
        for ab in list {
            if ab.runs.is_empty() || !ab.runs.iter().all(|r| pulled.contains(&r.run_id)) {
                continue;
            }
            if trackbench_store::copy::record_ab(store, &ab)? {
                got.push(ab.id.clone());
            }
        }
    }
    Ok(got)
}

/// Series `key` of run `id` on the server, whole, from its binary form (bit-exact).
fn server_series(client: &RunClient, id: &str, key: &str) -> anyhow::Result<trackbench_store::Points> {
    let bytes = client.get_bytes(&format!("/api/v1/runs/{id}/series?key={}&format=binary", percent_encode(key)))?;
    anyhow::ensure!(
        bytes.len() >= 16 && &bytes[..8] == b"TBSERIES",
        "the server's series `{key}` is not in its binary form"
    );
    let n = u64::from_le_bytes(bytes[8..16].try_into()?) as usize;
    anyhow::ensure!(
        bytes.len() == 16 + 24 * n,
        "the server's series `{key}` is cut short ({} bytes for {n} points)",
        bytes.len()
    );
    let word = |i: usize| u64::from_le_bytes(bytes[16 + 8 * i..24 + 8 * i].try_into().unwrap_or([0; 8]));
    let mut p = trackbench_store::Points::with_capacity(n);
    for i in 0..n {
        p.push(word(i) as i64, word(n + i) as i64, f64::from_bits(word(2 * n + i)));
    }
    Ok(p)
}

fn pull_run(store: &mut Store, client: &RunClient, url: &str, origin: &str, id: &str) -> anyhow::Result<Sent> {
    let mut got = Sent { run: id.to_string(), ..Sent::default() };
    let detail = client.detail(id)?;
    let theirs: RunInfo = serde_json::from_value(detail["run"].clone()).context("reading the server's run")?;
    let tags = entries(&detail["tags"]);
    match store.run(id) {
        Ok(_) => {
            let mine = store.tags(id)?;
            let from = mine.iter().find(|(k, _)| k == PULLED_TAG).map(|(_, v)| v.as_str());
            let pushed_here = tags.get(ORIGIN_TAG).and_then(Value::as_str) == Some(origin);
            if from != Some(url) && !pushed_here {
                anyhow::bail!(
                    "run {id} exists in this store with another origin ({}); a run id names one run, so it is not pulled",
                    from.map(|f| format!("pulled from {f}")).unwrap_or_else(|| "logged here".into())
                );
            }
        }
        Err(StoreError::RunNotFound(_)) => {
            let mut t: Vec<(String, String)> = tags
                .iter()
                .filter(|(k, _)| !is_sync_tag(k))
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect();
            t.push((PULLED_TAG.into(), url.to_string()));
            store.create_run_with_id(id, &new_run_like(&theirs, t))?;
            got.created = true;
        }
        Err(e) => return Err(e.into()),
    }
    let mut batch = Batch::default();
    let params: BTreeMap<String, Value> = store.params(id)?.into_iter().collect();
    for (k, v) in entries(&detail["params"]) {
        if params.get(&k) != Some(&v) {
            batch.params.push((k, v));
        }
    }
    let mine: BTreeMap<String, String> = store.tags(id)?.into_iter().collect();
    for (k, v) in tags.iter().filter(|(k, _)| !is_sync_tag(k)) {
        let v = v.as_str().unwrap_or_default();
        if mine.get(k).map(String::as_str) != Some(v) {
            batch.tags.push((k.clone(), v.to_string()));
        }
    }
    let summary: BTreeMap<String, Value> = store.summary_values(id)?.into_iter().collect();
    for (k, v) in entries(&detail["summary"]) {
        if summary.get(&k) != Some(&v) {
            batch.summary.push((k, v));
        }
    }
    got.fields = (batch.params.len() + batch.tags.len() + batch.summary.len()) as u64;
    if got.fields > 0 {
        store.log_batch(id, &batch)?;
    }
    let have: BTreeMap<String, i64> = store.metric_summaries(id)?.into_iter().map(|s| (s.key, s.count)).collect();
    for m in detail["metrics"].as_array().into_iter().flatten() {
        let (Some(key), Some(count)) = (m["key"].as_str(), m["count"].as_i64()) else { continue };
        let from = have.get(key).copied().unwrap_or(0).max(0) as usize;
        if from as i64 >= count {
            continue;
        }
        let points = server_series(client, id, key)?;
        let mut start = from;
        while start < points.len() {
            let end = (start + POINTS_PER_BATCH).min(points.len());
            let mut part = trackbench_store::Points::with_capacity(end - start);
            part.extend_from(&points, start..end);
            let b = Batch {
                series: vec![SeriesBatch { key: key.to_string(), points: part }],
                mark: Some((format!("pull:{key}"), start as i64)),
                ..Batch::default()
            };
            store.log_batch(id, &b)?;
            got.points += (end - start) as u64;
            start = end;
        }
    }
    // Lines this store has of the run: those a pull brought, or, for a run pushed from here,
    // those the push sent (the server's count of them).
    let pushed_here = tags.get(ORIGIN_TAG).and_then(Value::as_str) == Some(origin);
    let counted = |t: Option<&str>| t.and_then(|n| n.parse::<u64>().ok());
    let lines_have = counted(mine.get(PULLED_LINES_TAG).map(String::as_str))
        .or(if pushed_here { counted(tags.get(LINES_TAG).and_then(Value::as_str)) } else { None })
        .unwrap_or(0);
    let (mut index, mut after) = (0u64, 0i64);
    loop {
        let page: Value = serde_json::from_str(
            &client.get_text(&format!("/api/v1/runs/{id}/logs?after={after}&limit={LINES_PER_BATCH}"))?,
        )?;
        let lines = page["lines"].as_array().cloned().unwrap_or_default();
        let Some(last) = lines.last() else { break };
        after = last["seq"].as_i64().context("a log line without its seq")?;
        let mut fresh = Vec::new();
        for l in &lines {
            if index >= lines_have {
                fresh.push(serde_json::from_value::<LogLine>(l.clone()).context("reading a log line")?);
            }
            index += 1;
        }
        if !fresh.is_empty() {
            got.log_lines += fresh.len() as u64;
            let b = Batch {
                log_lines: fresh,
                tags: vec![(PULLED_LINES_TAG.into(), index.to_string())],
                ..Batch::default()
            };
            store.log_batch(id, &b)?;
        }
    }
    let have_inputs = store.run_inputs(id)?;
    let missing: Vec<(String, Value)> = detail["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .filter(|(_, v)| !have_inputs.contains(v))
        .map(|(i, v)| (trackbench_store::copy::input_key(v, i), v.clone()))
        .collect();
    if !missing.is_empty() {
        store.add_run_inputs(id, &missing)?;
        got.fields += missing.len() as u64;
    }
    let mine: BTreeMap<String, String> = store.artifacts(id)?.into_iter().map(|a| (a.path, a.hash)).collect();
    for art in client.artifacts(id)? {
        if mine.get(&art.path) == Some(&art.hash) {
            continue;
        }
        let path: String = art.path.split('/').map(percent_encode).collect::<Vec<_>>().join("/");
        let bytes = client.get_bytes(&format!("/api/v1/runs/{id}/artifacts/{path}"))?;
        store.put_artifact_from(id, &art.path, &bytes[..], "pulled artifact")?;
        got.artifacts += 1;
        got.artifact_bytes += bytes.len() as u64;
    }
    let local = store.run(id)?;
    if matches!(theirs.status, RunStatus::Finished | RunStatus::Failed | RunStatus::Killed)
        && (local.status, local.ended_ms, &local.error) != (theirs.status, theirs.ended_ms, &theirs.error)
    {
        store.finish_run_at(id, theirs.status, theirs.error.as_deref(), theirs.ended_ms)?;
        got.ended = true;
    }
    Ok(got)
}
