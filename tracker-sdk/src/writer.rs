//! The queue between the caller and the background writer thread.
//!
//! Callers push points column-wise into [`Queue`] under one mutex (no allocation per call
//! once the vectors have grown); the writer swaps the vectors out, groups points by key into
//! a [`Batch`] and hands it to the sink in one transaction. A failed write keeps its batch
//! and is retried at the next flush, so an I/O error loses nothing the caller logged.

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;
use trackbench_store::{Batch, LogLine, Points, RunStatus, SeriesBatch};

use crate::sink::Sink;

/// Data enqueued by callers and not yet taken by the writer.
#[derive(Default)]
pub(crate) struct Pending {
    pub keys: Vec<u32>,
    pub steps: Vec<i64>,
    pub walls: Vec<i64>,
    pub values: Vec<f64>,
    pub params: Vec<(String, serde_json::Value)>,
    pub tags: Vec<(String, String)>,
    pub summary: Vec<(String, serde_json::Value)>,
    pub log_lines: Vec<LogLine>,
    pub artifacts: Vec<(String, PathBuf)>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.keys.is_empty()
            && self.params.is_empty()
            && self.tags.is_empty()
            && self.summary.is_empty()
            && self.log_lines.is_empty()
            && self.artifacts.is_empty()
    }
}

/// State shared by the callers and the writer, behind [`Shared::state`].
pub(crate) struct Queue {
    /// Metric key -> id (index into `key_names`), so callers push a `u32` per point.
    pub key_ids: FxHashMap<Box<str>, u32>,
    pub key_names: Vec<Arc<str>>,
    pub pending: Pending,
    /// Points the writer has taken but not yet stored (counted against the memory bound).
    pub in_flight: usize,
    pub next_step: i64,
    /// Bumped by every flush request; the writer reports the last one it completed.
    pub flush_requested: u64,
    pub flush_done: u64,
    /// Outcome of the writer's last attempt: `Some` while data is waiting for a retry.
    pub last_error: Option<String>,
    pub finishing: Option<(RunStatus, Option<String>)>,
    pub finished: bool,
    pub warned_full: bool,
    /// Items the store refused (e.g. a param logged again with another value).
    pub rejected: Vec<String>,
}

pub(crate) struct Shared {
    pub state: Mutex<Queue>,
    /// Wakes the writer.
    pub wake: Condvar,
    /// Wakes callers waiting for room or for a flush.
    pub progress: Condvar,
    pub flush_points: usize,
    pub max_queued_points: usize,
}

impl Shared {
    pub fn new(flush_points: usize, max_queued_points: usize) -> Shared {
        Shared {
            state: Mutex::new(Queue {
                key_ids: FxHashMap::default(),
                key_names: Vec::new(),
                pending: Pending::default(),
                in_flight: 0,
                next_step: 0,
                flush_requested: 0,
                flush_done: 0,
                last_error: None,
                finishing: None,
                finished: false,
                warned_full: false,
                rejected: Vec::new(),
            }),
            wake: Condvar::new(),
            progress: Condvar::new(),
            flush_points: flush_points.max(1),
            max_queued_points: max_queued_points.max(1),
        }
    }

    /// Locks the queue (a panic elsewhere never makes the data unreachable).
    pub fn lock(&self) -> MutexGuard<'_, Queue> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Runs the writer loop until the run is finished; returns when everything is stored (or
/// the final attempt failed, which `finish` reports).
pub(crate) fn run_writer(
    shared: Arc<Shared>,
    mut sink: Box<dyn Sink>,
    run_id: String,
    flush_interval: Duration,
    heartbeat_interval: Duration,
) {
    let mut names: Vec<Arc<str>> = Vec::new();
    let mut retry: Option<(Batch, Vec<(String, PathBuf)>)> = None;
    let mut last_write = Instant::now();
    loop {
        let mut q = shared.lock();
        let deadline = Instant::now() + flush_interval;
        loop {
            let queued = q.pending.keys.len();
            if queued >= shared.flush_points || q.flush_requested > q.flush_done || q.finishing.is_some() {
                break;
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            q = shared.wake.wait_timeout(q, deadline - now).map(|r| r.0).unwrap_or_else(|p| p.into_inner().0);
        }
        let request = q.flush_requested;
        let finishing = q.finishing.clone();
        let nothing_new = q.pending.is_empty();
        if names.len() < q.key_names.len() {
            names.extend_from_slice(&q.key_names[names.len()..]);
        }
        let taken = std::mem::take(&mut q.pending);
        q.in_flight += taken.keys.len();
        drop(q);

        let due_heartbeat = last_write.elapsed() >= heartbeat_interval;
        let mut outcome: Result<(), String> = Ok(());
        let mut stored_points = 0;
        if !nothing_new || retry.is_some() || due_heartbeat {
            let (mut batch, mut artifacts) = retry.take().unwrap_or_default();
            merge_into(&mut batch, &mut artifacts, taken, &names);
            batch.heartbeat_ms = Some(trackbench_store::now_ms());
            match sink.write(&run_id, &batch) {
                Ok(report) => {
                    last_write = Instant::now();
                    stored_points = batch.point_count();
                    let mut rejected = Vec::new();
                    for r in report.rejected {
                        tracing::warn!(what = %r.what, key = %r.key, "trackbench refused: {}", r.reason);
                        rejected.push(format!("{} `{}`: {}", r.what, r.key, r.reason));
                    }
                    let mut failed_artifacts = Vec::new();
                    for (name, path) in artifacts.drain(..) {
                        if let Err(e) = sink.put_artifact(&run_id, &name, &path) {
                            outcome = Err(format!("storing artifact {name}: {e}"));
                            failed_artifacts.push((name, path));
                        }
                    }
                    if !failed_artifacts.is_empty() {
                        retry = Some((Batch::default(), failed_artifacts));
                    }
                    if !rejected.is_empty() {
                        shared.lock().rejected.extend(rejected);
                    }
                }
                Err(e) => {
                    tracing::warn!("trackbench write failed, will retry: {e}");
                    outcome = Err(e.to_string());
                    batch.heartbeat_ms = None;
                    retry = Some((batch, artifacts));
                }
            }
        }
        if let Some((status, error)) = &finishing
            && outcome.is_ok()
            && let Err(e) = sink.finish(&run_id, *status, error.as_deref())
        {
            outcome = Err(e.to_string());
        }
        let mut q = shared.lock();
        q.in_flight -= stored_points.min(q.in_flight);
        if outcome.is_ok() && retry.is_none() {
            q.in_flight = 0;
        }
        q.last_error = outcome.err();
        q.flush_done = request;
        let done = finishing.is_some() && (q.last_error.is_none() || q.finished);
        if done {
            q.finished = true;
        }
        shared.progress.notify_all();
        if done {
            return;
        }
        if finishing.is_some() {
            // The final attempt failed: `finish` reports it and may ask again.
            q.finishing = None;
        }
    }
}

/// Moves `taken` into `batch`, grouping points by key.
fn merge_into(batch: &mut Batch, artifacts: &mut Vec<(String, PathBuf)>, taken: Pending, names: &[Arc<str>]) {
    if !taken.keys.is_empty() {
        let mut slot: Vec<Option<usize>> = vec![None; names.len()];
        for (i, s) in batch.series.iter().enumerate() {
            if let Some(k) = names.iter().position(|n| **n == *s.key) {
                slot[k] = Some(i);
            }
        }
        for i in 0..taken.keys.len() {
            let k = taken.keys[i] as usize;
            let idx = match slot[k] {
                Some(idx) => idx,
                None => {
                    batch.series.push(SeriesBatch { key: names[k].to_string(), points: Points::default() });
                    slot[k] = Some(batch.series.len() - 1);
                    batch.series.len() - 1
                }
            };
            batch.series[idx].points.push(taken.steps[i], taken.walls[i], taken.values[i]);
        }
    }
    batch.params.extend(taken.params);
    batch.tags.extend(taken.tags);
    batch.summary.extend(taken.summary);
    batch.log_lines.extend(taken.log_lines);
    artifacts.extend(taken.artifacts);
}
