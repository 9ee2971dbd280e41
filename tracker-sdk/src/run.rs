//! [`Run`]: the handle training code logs through.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use serde_json::Value;
use trackbench_store::{LogLine, NewRun, ProcessIdentity, RunStatus, Store, StoreOptions, Stream, validate};

use crate::http::{HttpClient, HttpSink};
use crate::options::RunOptions;
use crate::sink::{Sink, StoreSink};
use crate::writer::{Extra, Point, Queue, Record, Shared, run_writer};
use crate::{Result, SdkError};

/// How long a write to the local store waits while another process holds its write lock:
/// long enough for a busy machine's other writers, short of hanging a training loop forever.
pub(crate) const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(90);

/// An open run. Cheap to share between threads (`&Run` is enough to log). Dropping it
/// finishes the run: `finished`, or `failed` when the thread is panicking.
pub struct Run {
    /// Distinguishes this run's [`MetricKey`]s from other runs' in this process.
    serial: u32,
    id: String,
    name: String,
    project: String,
    shared: Arc<Shared>,
    writer: Option<JoinHandle<()>>,
    store_dir: std::path::PathBuf,
}

/// The next [`Run::serial`].
static NEXT_SERIAL: AtomicU32 = AtomicU32::new(0);

/// A metric key resolved once by [`Run::metric_key`]: validated and numbered for its run, so
/// a hot loop (the Python SDK's `run.log`) logs through [`Run::log_keys`] without hashing,
/// comparing or validating the key's text on every call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MetricKey {
    run: u32,
    id: u32,
}

fn invalid(e: trackbench_store::StoreError) -> SdkError {
    match e {
        trackbench_store::StoreError::Invalid { what, why } => SdkError::Invalid(format!("invalid {what}: {why}")),
        other => SdkError::Store(other),
    }
}

impl Run {
    /// Creates the run (or attaches to `opts.resume`) and starts its writer thread.
    pub fn start(opts: RunOptions) -> Result<Run> {
        let mut new = NewRun {
            project: opts.project.clone(),
            name: opts.name.clone(),
            group: opts.group.clone(),
            notes: opts.notes.clone(),
            tags: opts.tags.clone(),
            ..NewRun::default()
        };
        // This process holds the run: with its start time and boot, a store on this machine
        // sees at once when it is gone (killed), instead of after the heartbeat timeout.
        let me = if opts.capture_context { ProcessIdentity::current() } else { None };
        if opts.capture_context {
            new.host = trackbench_store::liveness::local_host();
            new.pid = Some(i64::from(std::process::id()));
            new.command = Some(std::env::args().collect::<Vec<_>>().join(" "));
            if let Some(me) = &me {
                new.held_by(me);
            }
        }
        let (info, sink): (_, Box<dyn Sink>) = match &opts.remote {
            Some(remote) => {
                let client = HttpClient::new(remote.clone());
                let info = client.start_run(&new, opts.resume.as_deref()).map_err(invalid)?;
                (info, Box::new(HttpSink::new(client)))
            }
            None => {
                let store_opts = StoreOptions {
                    max_db_bytes: opts.max_db_bytes,
                    busy_timeout: BUSY_TIMEOUT,
                    ..StoreOptions::default()
                };
                let mut store = Store::open(&opts.store_dir, store_opts)?;
                let info = match &opts.resume {
                    Some(id) => {
                        let id = store.resolve_run(id)?;
                        store.resume_run_as(&id, me.as_ref())?;
                        if !opts.tags.is_empty() {
                            let batch = trackbench_store::Batch { tags: opts.tags.clone(), ..Default::default() };
                            store.log_batch(&id, &batch)?;
                        }
                        store.run(&id)?
                    }
                    None => store.create_run(&new).map_err(invalid)?,
                };
                (info, Box::new(StoreSink { store }))
            }
        };
        let shared = Arc::new(Shared::new(opts.flush_points, opts.max_queued_points));
        let (w_shared, w_id) = (shared.clone(), info.id.clone());
        let (flush, beat, system) = (opts.flush_interval, opts.heartbeat_interval, opts.system_metrics);
        let writer = std::thread::Builder::new()
            .name("trackbench-writer".into())
            .spawn(move || {
                let guard = w_shared.clone();
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    run_writer(w_shared, sink, w_id, flush, beat, system)
                }));
                if outcome.is_err() {
                    // A bug in the writer must not leave callers waiting forever: fail loudly.
                    let mut q = guard.lock();
                    q.last_error = Some("the trackbench writer thread panicked; data not yet stored is lost".into());
                    q.finished = true;
                    guard.progress.notify_all();
                }
            })
            .map_err(|e| SdkError::Invalid(format!("cannot start the writer thread: {e}")))?;
        Ok(Run {
            serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
            id: info.id,
            name: info.name,
            project: info.project,
            shared,
            writer: Some(writer),
            store_dir: opts.store_dir,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn project(&self) -> &str {
        &self.project
    }

    pub fn store_dir(&self) -> &Path {
        &self.store_dir
    }

    /// Logs metrics at the run's own step counter, then advances it (W&B style).
    pub fn log(&self, metrics: &[(&str, f64)]) -> Result<()> {
        self.log_impl(None, metrics)
    }

    /// Logs metrics at `step`; the run's counter moves past it.
    pub fn log_at(&self, step: i64, metrics: &[(&str, f64)]) -> Result<()> {
        self.log_impl(Some(step), metrics)
    }

    /// Logs one metric at `step`.
    pub fn log_metric(&self, key: &str, value: f64, step: Option<i64>) -> Result<()> {
        self.log_impl(step, &[(key, value)])
    }

    /// Resolves `key` for [`Run::log_keys`]: validates it once and gives it this run's number.
    pub fn metric_key(&self, key: &str) -> Result<MetricKey> {
        let id = intern_key(&mut self.shared.lock(), key)?;
        Ok(MetricKey { run: self.serial, id })
    }

    /// Logs metrics by keys from [`Run::metric_key`] at `step` (`None`: the run's own counter,
    /// as [`Run::log`]); the same record as [`Run::log_at`] with the keys' names.
    pub fn log_keys(&self, step: Option<i64>, metrics: &[(MetricKey, f64)]) -> Result<()> {
        let wall = SystemTime::now();
        if let Some((k, _)) = metrics.iter().find(|(k, _)| k.run != self.serial) {
            return Err(SdkError::Invalid(format!("metric key {k:?} was resolved by another run")));
        }
        let mut guard = self.shared.lock();
        if guard.finished || guard.finishing.is_some() {
            return Err(SdkError::Finished(self.id.clone()));
        }
        let n = metrics.len();
        if guard.pending.points.len() + guard.in_flight + n > self.shared.max_queued_points {
            guard = self.wait_for_room(guard, n, &[])?;
        }
        let q = &mut *guard;
        q.pending.points.extend(metrics.iter().map(|&(k, value)| Point { key: k.id, value }));
        self.end_record(q, step, wall, n);
        Ok(())
    }

    fn log_impl(&self, step: Option<i64>, metrics: &[(&str, f64)]) -> Result<()> {
        // Converted to milliseconds by the writer, off the caller's thread.
        let wall = SystemTime::now();
        let mut guard = self.shared.lock();
        if guard.finished || guard.finishing.is_some() {
            return Err(SdkError::Finished(self.id.clone()));
        }
        let n = metrics.len();
        if guard.pending.points.len() + guard.in_flight + n > self.shared.max_queued_points {
            guard = self.wait_for_room(guard, n, metrics)?;
        }
        let q = &mut *guard;
        // Push while resolving keys; a bad key takes the record's points back out, so a
        // refused record enqueues nothing.
        let first = q.pending.points.len();
        q.pending.points.reserve(n);
        for (i, &(key, value)) in metrics.iter().enumerate() {
            let id = match q.recent_keys.get(i).copied() {
                Some(id) if *q.key_names[id as usize] == *key => id,
                _ => match resolve_key(q, i, key) {
                    Ok(id) => id,
                    Err(e) => {
                        q.pending.points.truncate(first);
                        return Err(e);
                    }
                },
            };
            q.pending.points.push(Point { key: id, value });
        }
        self.end_record(q, step, wall, n);
        Ok(())
    }

    /// Closes the record whose `n` points were just pushed: gives it its step, advances the
    /// run's counter, and wakes the writer once enough points wait.
    #[inline]
    fn end_record(&self, q: &mut Queue, step: Option<i64>, wall: SystemTime, n: usize) {
        let step = match step {
            Some(s) => {
                q.next_step = q.next_step.max(s.saturating_add(1));
                s
            }
            None => {
                let s = q.next_step;
                q.next_step = s.saturating_add(1);
                s
            }
        };
        let p = &mut q.pending;
        if n > 0 {
            p.records.push(Record { step, wall, end: p.points.len() });
        }
        if p.points.len() >= self.shared.flush_points && !q.woken_for_size {
            q.woken_for_size = true;
            self.shared.wake.notify_one();
        }
    }

    /// Blocks (warning once per run) until the queue has room for `n` points or holds nothing,
    /// so a record larger than the bound still goes through. A record with an invalid key
    /// (among `metrics`, the named keys of [`Run::log`]) is refused first, without waiting.
    #[cold]
    #[inline(never)]
    fn wait_for_room<'a>(
        &'a self,
        mut q: MutexGuard<'a, Queue>,
        n: usize,
        metrics: &[(&str, f64)],
    ) -> Result<MutexGuard<'a, Queue>> {
        for (key, _) in metrics {
            if !q.key_ids.contains_key(*key) {
                validate::key("metric", key).map_err(invalid)?;
            }
        }
        if !q.warned_full {
            q.warned_full = true;
            tracing::warn!(
                "trackbench: {} points queued; logging waits for the writer (raise max_queued_points or log less often)",
                q.pending.points.len() + q.in_flight
            );
        }
        while q.pending.points.len() + q.in_flight + n > self.shared.max_queued_points && !q.pending.points.is_empty() {
            self.shared.wake.notify_one();
            q = self.shared.progress.wait(q).unwrap_or_else(|p| p.into_inner());
        }
        Ok(q)
    }

    /// Logs params (write-once: the same value again is fine, a different one is refused
    /// by the store and reported by [`Run::rejected`]).
    pub fn log_params(&self, params: &[(&str, Value)]) -> Result<()> {
        for (k, v) in params {
            validate::key("param", k).map_err(invalid)?;
            validate::param_value(k, v).map_err(invalid)?;
        }
        self.enqueue(|p| p.params.extend(params.iter().map(|(k, v)| (k.to_string(), v.clone()))))
    }

    /// Logs a nested config, flattened to dotted param keys.
    pub fn log_config(&self, config: &Value) -> Result<()> {
        let flat = crate::flatten_config(config);
        let refs: Vec<(&str, Value)> = flat.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        self.log_params(&refs)
    }

    pub fn set_tag(&self, key: &str, value: &str) -> Result<()> {
        validate::key("tag", key).map_err(invalid)?;
        validate::tag_value(key, value).map_err(invalid)?;
        self.enqueue(|p| p.tags.push((key.to_string(), value.to_string())))
    }

    /// Sets a summary value (`run.summary["best_acc"] = 0.91`); the last write wins.
    pub fn set_summary(&self, key: &str, value: Value) -> Result<()> {
        validate::key("summary", key).map_err(invalid)?;
        self.enqueue(|p| p.summary.push((key.to_string(), value)))
    }

    /// Captures one line of output.
    pub fn log_line(&self, stream: Stream, line: &str) -> Result<()> {
        let ts_ms = trackbench_store::now_ms();
        self.enqueue(|p| p.log_lines.push(LogLine { stream, ts_ms, line: line.to_string() }))
    }

    /// Stores a file or a folder as artifact `name` (default: its file name) and waits
    /// until it is stored.
    pub fn log_artifact(&self, path: impl AsRef<Path>, name: Option<&str>) -> Result<()> {
        let path = path.as_ref();
        let meta = std::fs::metadata(path)
            .map_err(|e| SdkError::Invalid(format!("cannot log artifact {}: {e}", path.display())))?;
        let default_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let name = name.map(str::to_string).unwrap_or(default_name);
        if !(meta.is_dir() && name.is_empty()) {
            validate::artifact_path(&name).map_err(invalid)?;
        }
        let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.enqueue(|p| p.extras.push(Extra::Artifact { name, path: abs }))?;
        self.flush()
    }

    /// Profiles a table (see `trackbench_data`) and records the profile as dataset input
    /// `name` of the run (MLflow's dataset input, with `context` such as `training`,
    /// `validation` or `serving`, and `step` for one profile per batch), then waits until it is
    /// stored. Logging the same table again under the same name and step stores nothing new.
    /// Returns the dataset's digest.
    pub fn log_dataset(
        &self,
        name: &str,
        columns: &[trackbench_data::Column<'_>],
        context: Option<&str>,
        step: Option<i64>,
    ) -> Result<String> {
        let profile = trackbench_data::Profile::from_columns(columns, &trackbench_data::ProfileOptions::default())
            .map_err(|e| SdkError::Invalid(format!("cannot profile dataset {name:?}: {e}")))?;
        self.log_profile(name, &profile, context, step)
    }

    /// Records an already built profile as dataset input `name` (as [`Run::log_dataset`]).
    pub fn log_profile(
        &self,
        name: &str,
        profile: &trackbench_data::Profile,
        context: Option<&str>,
        step: Option<i64>,
    ) -> Result<String> {
        if name.is_empty() || name.len() > 500 {
            return Err(SdkError::Invalid(format!("a dataset name must have 1 to 500 bytes, got {}", name.len())));
        }
        if let Some(c) = context {
            validate::tag_value("dataset context", c).map_err(invalid)?;
        }
        let (key, input) = crate::dataset::input_json(name, context, step, profile);
        let digest = input["dataset"]["digest"].as_str().unwrap_or_default().to_string();
        self.enqueue(|p| p.extras.push(Extra::Inputs(vec![(key, input)])))?;
        self.flush()?;
        Ok(digest)
    }

    fn enqueue(&self, f: impl FnOnce(&mut crate::writer::Pending)) -> Result<()> {
        let mut q = self.shared.lock();
        if q.finished || q.finishing.is_some() {
            return Err(SdkError::Finished(self.id.clone()));
        }
        f(&mut q.pending);
        Ok(())
    }

    /// Blocks until everything logged before this call is stored; reports a write error.
    pub fn flush(&self) -> Result<()> {
        let mut q = self.shared.lock();
        if !q.finished {
            q.flush_requested += 1;
        }
        let want = q.flush_requested;
        self.shared.wake.notify_one();
        while q.flush_done < want && !q.finished {
            q = self.shared.progress.wait(q).unwrap_or_else(|p| p.into_inner());
        }
        match &q.last_error {
            Some(message) => {
                Err(SdkError::Write { message: message.clone(), pending: q.in_flight + q.pending.points.len() })
            }
            None => Ok(()),
        }
    }

    /// Items the store refused so far (e.g. a param logged twice with different values).
    pub fn rejected(&self) -> Vec<String> {
        self.shared.lock().rejected.clone()
    }

    /// Flushes everything and marks the run finished.
    pub fn finish(self) -> Result<()> {
        self.finish_with(RunStatus::Finished, None)
    }

    /// Flushes everything and marks the run ended with `status` (`failed` keeps `error`).
    pub fn finish_with(mut self, status: RunStatus, error: Option<&str>) -> Result<()> {
        self.close(status, error.map(str::to_string))
    }

    fn close(&mut self, status: RunStatus, error: Option<String>) -> Result<()> {
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        let result = {
            let mut q = self.shared.lock();
            let mut result = Ok(());
            // One retry after a failed final attempt, then give up loudly.
            for _ in 0..2 {
                q.finishing = Some((status, error.clone()));
                q.flush_requested += 1;
                let want = q.flush_requested;
                self.shared.wake.notify_one();
                while q.flush_done < want && !q.finished {
                    q = self.shared.progress.wait(q).unwrap_or_else(|p| p.into_inner());
                }
                if q.finished {
                    result = Ok(());
                    break;
                }
                result = Err(SdkError::Write {
                    message: q.last_error.clone().unwrap_or_default(),
                    pending: q.in_flight + q.pending.points.len(),
                });
                q = self
                    .shared
                    .progress
                    .wait_timeout(q, Duration::from_millis(200))
                    .map(|r| r.0)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
            if result.is_err() {
                // Let the writer exit: mark finished so it stops retrying.
                q.finished = true;
                q.finishing = Some((status, error.clone()));
                self.shared.wake.notify_one();
            }
            result
        };
        if result.is_ok() {
            let _ = writer.join();
        } else {
            // The writer may be retrying a failing write; don't block the caller on it.
            drop(writer);
        }
        result
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let status = if std::thread::panicking() { RunStatus::Failed } else { RunStatus::Finished };
        let error = std::thread::panicking().then(|| "the logging thread panicked".to_string());
        if let Err(e) = self.close(status, error) {
            tracing::error!("trackbench: finishing run {} failed: {e}", self.id);
            eprintln!("trackbench: finishing run {} failed: {e}", self.id);
        }
    }
}

/// The id of metric `key`, found in (or added to) the key table, and remembered as the key
/// at `position` for the next record. Validates a key the run has not seen before.
#[cold]
#[inline(never)]
/// The run-local number of metric key `key`, validated and numbered on first sight.
fn intern_key(q: &mut Queue, key: &str) -> Result<u32> {
    if let Some(&id) = q.key_ids.get(key) {
        return Ok(id);
    }
    validate::key("metric", key).map_err(invalid)?;
    let id = q.key_names.len() as u32;
    q.key_names.push(Arc::from(key));
    q.key_ids.insert(Box::from(key), id);
    Ok(id)
}

/// [`intern_key`], remembering the key at `position` for the next record's fast check.
fn resolve_key(q: &mut Queue, position: usize, key: &str) -> Result<u32> {
    let id = intern_key(q, key)?;
    match q.recent_keys.get_mut(position) {
        Some(slot) => *slot = id,
        None => q.recent_keys.push(id),
    }
    Ok(id)
}
