//! The queue between the caller and the background writer thread.
//!
//! Callers push one [`Record`] per call (step and wall time) and one [`Point`] per key (key id
//! and value) into [`Queue`] under one mutex; the writer swaps the vectors out, groups points
//! by key into a [`Batch`], hands it to the sink in one transaction and gives the emptied
//! vectors back as the queue's spare, so callers never regrow them (no allocation per call in
//! the steady state). A failed write keeps its batch and is retried at the next flush, so an
//! I/O error loses nothing the caller logged.

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use rustc_hash::FxHashMap;
use trackbench_store::{Batch, LogLine, Points, RunStatus, SeriesBatch};

use crate::sink::Sink;

/// One `log` call: its step and wall time, shared by its points.
#[derive(Clone, Copy)]
pub(crate) struct Record {
    pub step: i64,
    /// Read on the caller's thread; converted to milliseconds by the writer.
    pub wall: SystemTime,
    /// One past the record's last point in [`Pending::points`] (it starts where the previous
    /// record ends).
    pub end: usize,
}

/// One metric value of a [`Record`].
#[derive(Clone, Copy)]
pub(crate) struct Point {
    /// Index into [`Queue::key_names`].
    pub key: u32,
    pub value: f64,
}

/// Data enqueued by callers and not yet taken by the writer.
#[derive(Default)]
pub(crate) struct Pending {
    /// Records with at least one point, in call order.
    pub records: Vec<Record>,
    pub points: Vec<Point>,
    pub params: Vec<(String, serde_json::Value)>,
    pub tags: Vec<(String, String)>,
    pub summary: Vec<(String, serde_json::Value)>,
    pub log_lines: Vec<LogLine>,
    /// Written after the batch, one call each: files and dataset inputs.
    pub extras: Vec<Extra>,
}

/// A write that is not part of a [`Batch`]: the sink makes it after the batch it came with.
#[derive(Clone)]
pub(crate) enum Extra {
    /// A file or folder stored as artifact `name`.
    Artifact { name: String, path: PathBuf },
    /// Run inputs (datasets), each with the key the store deduplicates it by.
    Inputs(Vec<(String, serde_json::Value)>),
}

impl Extra {
    fn write(&self, sink: &mut dyn Sink, run: &str) -> Result<(), String> {
        match self {
            Extra::Artifact { name, path } => {
                sink.put_artifact(run, name, path).map_err(|e| format!("storing artifact {name}: {e}"))
            }
            Extra::Inputs(inputs) => sink.add_inputs(run, inputs).map_err(|e| format!("storing dataset inputs: {e}")),
        }
    }
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.points.is_empty()
            && self.params.is_empty()
            && self.tags.is_empty()
            && self.summary.is_empty()
            && self.log_lines.is_empty()
            && self.extras.is_empty()
    }
}

/// State shared by the callers and the writer, behind [`Shared::state`].
pub(crate) struct Queue {
    /// Metric key -> id (index into `key_names`), so callers push a `u32` per point.
    pub key_ids: FxHashMap<Box<str>, u32>,
    pub key_names: Vec<Arc<str>>,
    /// The key ids of the last record, by position: a training loop logs the same keys in
    /// the same order every step, so a string comparison with the cached name at the same
    /// position usually replaces the hash lookup.
    pub recent_keys: Vec<u32>,
    pub pending: Pending,
    /// Set when a caller has woken the writer because `flush_points` are queued, so later
    /// callers skip the (system call) wake-up until the writer takes the queue; it checks the
    /// size before every wait, so no wake-up is lost.
    pub woken_for_size: bool,
    /// Emptied `records`/`points` vectors the writer gives back; the next take swaps them in.
    pub spare: Option<(Vec<Record>, Vec<Point>)>,
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
                recent_keys: Vec::new(),
                pending: Pending::default(),
                woken_for_size: false,
                spare: None,
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
    system_metrics: Option<Duration>,
) {
    let mut sampler = system_metrics.and_then(crate::system::Sampler::new);
    let mut names: Vec<Arc<str>> = Vec::new();
    // A batch whose write failed, to send again; and (marking sinks) newer data not yet sent.
    let mut retry: Option<(Batch, Vec<Extra>)> = None;
    let mut carry: Option<(Batch, Vec<Extra>)> = None;
    let marks = sink.marks_batches();
    let writer_id = if marks { crate::http::writer_id() } else { String::new() };
    let mut next_seq = 0i64;
    let mut last_write = Instant::now();
    loop {
        let mut q = shared.lock();
        let deadline = Instant::now() + flush_interval;
        loop {
            let queued = q.pending.points.len();
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
        let mut taken = std::mem::take(&mut q.pending);
        if let Some((records, points)) = q.spare.take() {
            (q.pending.records, q.pending.points) = (records, points);
        }
        q.in_flight += taken.points.len();
        q.woken_for_size = false;
        drop(q);

        let due_heartbeat = last_write.elapsed() >= heartbeat_interval;
        let sample = sampler.as_mut().and_then(|s| s.poll());
        let mut outcome: Result<(), String> = Ok(());
        let mut stored_points = 0;
        if !nothing_new || retry.is_some() || carry.is_some() || due_heartbeat || sample.is_some() {
            let add_sample = |batch: &mut Batch| {
                if let Some((step, values)) = &sample {
                    let wall = trackbench_store::now_ms();
                    for (key, value) in values {
                        batch.push_metric(key, *step, wall, *value);
                    }
                }
            };
            // What to send, in order. A marking sink gets a failed batch again unchanged (same
            // number) before anything newer; otherwise new data joins the failed batch.
            let mut queue: Vec<(Batch, Vec<Extra>)> = Vec::with_capacity(2);
            if marks {
                queue.extend(retry.take());
                let (mut batch, mut extras) = carry.take().unwrap_or_default();
                merge_into(&mut batch, &mut extras, &mut taken, &names);
                add_sample(&mut batch);
                if !batch.is_empty() || !extras.is_empty() || queue.is_empty() {
                    queue.push((batch, extras));
                }
            } else {
                let (mut batch, mut extras) = retry.take().unwrap_or_default();
                merge_into(&mut batch, &mut extras, &mut taken, &names);
                add_sample(&mut batch);
                queue.push((batch, extras));
            }
            let mut queue = queue.into_iter();
            while let Some((mut batch, mut extras)) = queue.next() {
                if batch.mark.is_none() {
                    batch.heartbeat_ms = Some(trackbench_store::now_ms());
                    if marks {
                        next_seq += 1;
                        batch.mark = Some((writer_id.clone(), next_seq));
                    }
                }
                match sink.write(&run_id, &batch) {
                    Ok(report) => {
                        last_write = Instant::now();
                        stored_points += batch.point_count();
                        let mut rejected = Vec::new();
                        for r in report.rejected {
                            tracing::warn!(what = %r.what, key = %r.key, "trackbench refused: {}", r.reason);
                            rejected.push(format!("{} `{}`: {}", r.what, r.key, r.reason));
                        }
                        if !rejected.is_empty() {
                            shared.lock().rejected.extend(rejected);
                        }
                        let mut failed_extras = Vec::new();
                        for extra in extras.drain(..) {
                            if let Err(e) = extra.write(sink.as_mut(), &run_id) {
                                outcome = Err(e);
                                failed_extras.push(extra);
                            }
                        }
                        if !failed_extras.is_empty() {
                            retry = Some((Batch::default(), failed_extras));
                            carry = queue.next();
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!("trackbench write failed, will retry: {e}");
                        outcome = Err(e.to_string());
                        if !marks {
                            batch.heartbeat_ms = None;
                        }
                        retry = Some((batch, extras));
                        carry = queue.next();
                        break;
                    }
                }
            }
        }
        if let Some((status, error)) = &finishing
            && outcome.is_ok()
            && let Err(e) = sink.finish(&run_id, *status, error.as_deref())
        {
            outcome = Err(e.to_string());
        }
        let spare = recycle(taken, shared.flush_points);
        let mut q = shared.lock();
        q.spare = Some(spare);
        q.in_flight -= stored_points.min(q.in_flight);
        if outcome.is_ok() && retry.is_none() && carry.is_none() {
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

/// Empties the metric vectors of a merged [`Pending`] for reuse, keeping their capacity
/// unless a backlog made them much larger than a flush needs.
fn recycle(taken: Pending, flush_points: usize) -> (Vec<Record>, Vec<Point>) {
    let (mut records, mut points) = (taken.records, taken.points);
    records.clear();
    points.clear();
    let keep = flush_points.saturating_mul(4);
    if points.capacity() > keep {
        points.shrink_to(keep);
    }
    if records.capacity() > keep {
        records.shrink_to(keep);
    }
    (records, points)
}

fn wall_ms(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Moves what `taken` holds into `batch`, grouping points by key; leaves `taken`'s vectors
/// empty (with their capacity) for [`recycle`].
fn merge_into(batch: &mut Batch, extras: &mut Vec<Extra>, taken: &mut Pending, names: &[Arc<str>]) {
    if !taken.points.is_empty() {
        let mut slot: Vec<Option<usize>> = vec![None; names.len()];
        for (i, s) in batch.series.iter().enumerate() {
            if let Some(k) = names.iter().position(|n| **n == *s.key) {
                slot[k] = Some(i);
            }
        }
        let mut start = 0;
        for r in &taken.records {
            let wall = wall_ms(r.wall);
            for p in &taken.points[start..r.end] {
                let k = p.key as usize;
                let idx = match slot[k] {
                    Some(idx) => idx,
                    None => {
                        batch.series.push(SeriesBatch { key: names[k].to_string(), points: Points::default() });
                        slot[k] = Some(batch.series.len() - 1);
                        batch.series.len() - 1
                    }
                };
                batch.series[idx].points.push(r.step, wall, p.value);
            }
            start = r.end;
        }
        debug_assert_eq!(start, taken.points.len(), "every point belongs to a record");
    }
    batch.params.append(&mut taken.params);
    batch.tags.append(&mut taken.tags);
    batch.summary.append(&mut taken.summary);
    batch.log_lines.append(&mut taken.log_lines);
    extras.append(&mut taken.extras);
}
