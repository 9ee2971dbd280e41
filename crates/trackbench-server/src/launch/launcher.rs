//! The server's launcher: the job table the API shows, the one [`Scheduler`] that runs every
//! job on this machine, and a thread per Slurm array following it on the cluster. Both report
//! the same events into the table. A/B jobs report to their [`AbLaunch`] (`trackbench-launch`'s
//! orchestration, as the CLI's do), which records their runs and stores the verdict after the
//! last one.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock, mpsc};

use serde::Serialize;
use trackbench_launch::orchestrate::{AbLaunch, AbWrites};
use trackbench_launch::slurm::{SlurmOptions, SlurmQueue};
use trackbench_launch::{
    CancelToken, Event, Job, JobResult, LaunchError, LaunchOptions, Scheduler, SchedulerEvent, reap_orphans,
};
use trackbench_store::{Backend, RunStatus, Store, StoreOptions};

use super::{DeviceInfo, LaunchConfig, default_devices, slurm};

/// The server's launcher: its configuration, cached devices, the job table and the scheduler.
pub struct Launcher {
    pub config: LaunchConfig,
    devices: OnceLock<Vec<DeviceInfo>>,
    table: Arc<Mutex<Table>>,
    scheduler: Mutex<Option<Scheduler>>,
    /// The server's own URL, once bound (the Slurm tasks' default server).
    base_url: OnceLock<String>,
}

/// Keep at most this many ended jobs in the list.
const KEEP_ENDED: usize = 500;

#[derive(Default)]
pub(super) struct Table {
    next_id: u64,
    jobs: BTreeMap<u64, Entry>,
    /// A/Bs with jobs still to end.
    abs: HashMap<String, AbLaunch>,
}

pub(super) struct Entry {
    view: JobView,
    token: CancelToken,
    /// (A/B id, index in its launch order) of an A/B's job.
    ab: Option<(String, usize)>,
}

/// A job as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    pub id: u64,
    pub run_id: Option<String>,
    pub project: String,
    pub name: Option<String>,
    pub command: String,
    /// `cpu`, `cuda:0`…; for a Slurm task `slurm[:PARTITION][, N GPUs]`.
    pub device: String,
    /// Where it runs: `local` (this machine) or `slurm`.
    pub backend: &'static str,
    /// A Slurm task's job id as `scancel` takes it (`JOBID_TASK`).
    pub slurm_job: Option<String>,
    /// `queued`, `running`, `finished`, `failed`, `killed` or `cancelled` (never started).
    pub state: &'static str,
    /// Unix seconds.
    pub queued_at: f64,
    pub started_at: Option<f64>,
    pub ended_at: Option<f64>,
    pub exit_code: Option<i32>,
    pub error: Option<String>,
    pub sweep_id: Option<String>,
    pub ab_id: Option<String>,
}

impl JobView {
    /// A job just queued on `backend`.
    fn queued(
        id: u64,
        job: &Job,
        device: String,
        backend: &'static str,
        sweep_id: Option<String>,
        ab: &Option<(String, usize)>,
    ) -> JobView {
        JobView {
            id,
            run_id: None,
            project: job.project.clone(),
            name: job.name.clone(),
            command: job.command_line(),
            device,
            backend,
            slurm_job: None,
            state: "queued",
            queued_at: now_s(),
            started_at: None,
            ended_at: None,
            exit_code: None,
            error: None,
            sweep_id,
            ab_id: ab.as_ref().map(|a| a.0.clone()),
        }
    }
}

fn now_s() -> f64 {
    trackbench_store::now_ms() as f64 / 1000.0
}

/// A job to queue: the job, its sweep id, and its place in an A/B (A/B id, launch order).
pub(super) type QueuedJob = (Job, Option<String>, Option<(String, usize)>);

impl Launcher {
    pub fn new(config: LaunchConfig) -> Launcher {
        Launcher {
            config,
            devices: OnceLock::new(),
            table: Arc::new(Mutex::new(Table::default())),
            scheduler: Mutex::new(None),
            base_url: OnceLock::new(),
        }
    }

    /// Tells the launcher the server's own URL once it is bound (`http://127.0.0.1:5005`): the
    /// URL Slurm tasks log to unless `--slurm-public-url` said another. The first call counts.
    pub fn set_base_url(&self, url: impl Into<String>) {
        let _ = self.base_url.set(url.into());
    }

    pub fn base_url(&self) -> Option<String> {
        self.base_url.get().cloned()
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The devices (probed on first use; blocking: call on the blocking pool).
    pub fn devices(&self) -> &[DeviceInfo] {
        self.devices.get_or_init(|| match &self.config.probe {
            Some(probe) => probe(),
            None => default_devices(),
        })
    }

    pub fn jobs(&self) -> Vec<JobView> {
        self.table().jobs.values().map(|e| e.view.clone()).collect()
    }

    /// Queues jobs (checked already), starting the scheduler on first use; `ab` is the A/B
    /// the jobs belong to, if they do.
    pub(super) fn submit(
        &self,
        root: &std::path::Path,
        opts: &StoreOptions,
        jobs: Vec<QueuedJob>,
        ab: Option<AbLaunch>,
    ) -> Vec<JobView> {
        let mut sched = self.scheduler.lock().unwrap_or_else(|p| p.into_inner());
        if sched.is_none() {
            *sched = Some(self.start_scheduler(root, opts));
        }
        let Some(scheduler) = sched.as_ref() else { return Vec::new() };
        let mut views = Vec::new();
        let mut submitted = Vec::new();
        {
            let mut t = self.table();
            if let Some(ab) = ab {
                t.abs.insert(ab.id().to_string(), ab);
            }
            for (job, sweep_id, ab) in jobs {
                t.next_id += 1;
                let id = t.next_id;
                let view = JobView::queued(id, &job, job.device.to_string(), "local", sweep_id, &ab);
                let token = CancelToken::new();
                views.push(view.clone());
                t.jobs.insert(id, Entry { view, token: token.clone(), ab });
                submitted.push((id, job, token));
            }
            prune(&mut t);
        }
        for (id, job, token) in submitted {
            scheduler.submit(id, job, token);
        }
        views
    }

    fn start_scheduler(&self, root: &std::path::Path, opts: &StoreOptions) -> Scheduler {
        let mut lopts = LaunchOptions::new(root);
        lopts.store_opts = opts.clone();
        lopts.grace = self.config.grace;
        let (root, sopts) = (root.to_path_buf(), opts.clone());
        // Runs a launcher of this host left behind when it died are ended first, as the CLI does.
        match Store::open(&root, sopts.clone()).and_then(|mut s| reap_orphans(&mut s)) {
            Ok(reaped) if !reaped.is_empty() => tracing::info!(?reaped, "ended runs whose launcher died"),
            Ok(_) => {}
            Err(e) => tracing::warn!("looking for orphaned runs: {e}"),
        }
        let table = self.table.clone();
        let mut store: Option<Store> = None;
        Scheduler::start(lopts, self.config.limits.clone(), move |id, ev| {
            let mut t = table.lock().unwrap_or_else(|p| p.into_inner());
            let Some((ab_id, writes)) = t.record(id, ev) else { return };
            // The A/B's bookkeeping happens under the table's lock, its store writes after it.
            drop(t);
            if store.is_none() {
                match Store::open(&root, sopts.clone()) {
                    Ok(s) => store = Some(s),
                    Err(e) => return tracing::error!("opening the store for an A/B: {e}"),
                }
            }
            let Some(st) = store.as_mut() else { return };
            if let Err(e) = writes.apply(st) {
                tracing::error!(ab = %ab_id, "recording the A/B's runs and verdict: {e}");
            }
        })
    }

    /// Submits jobs (checked already, the Slurm options too) as one Slurm array, then follows
    /// it on a thread of its own with `store` (a connection to the store this server serves),
    /// reporting into the job table as the scheduler does. Returns the jobs once `sbatch` took
    /// the array; when Slurm refuses it, its error, nothing listed and no run created (an A/B
    /// given is ended failed, with Slurm's words: it was created before).
    pub(super) fn submit_slurm(
        &self,
        mut store: Box<dyn Backend>,
        opts: SlurmOptions,
        jobs: Vec<QueuedJob>,
        ab: Option<AbLaunch>,
    ) -> Result<Vec<JobView>, LaunchError> {
        let device = slurm::device_label(&opts);
        let mut queue = SlurmQueue::new(opts);
        let mut entries = Vec::new();
        {
            // Ids are taken now; the entries are listed once the array is submitted.
            let mut t = self.table();
            for (job, sweep_id, ab) in jobs {
                t.next_id += 1;
                let view = JobView::queued(t.next_id, &job, device.clone(), "slurm", sweep_id, &ab);
                let (_, token) = queue.push(job);
                entries.push(Entry { view, token, ab });
            }
        }
        let ids: Vec<u64> = entries.iter().map(|e| e.view.id).collect();
        let n = ids.len();
        let table = self.table.clone();
        let (tx, rx) = mpsc::sync_channel::<Result<Vec<JobView>, LaunchError>>(1);
        let follow = move || {
            let mut ab = ab;
            let planned = std::cell::OnceCell::<Vec<Option<String>>>::new();
            let submitted = tx.clone();
            let ran = queue.run(
                store.as_mut(),
                |sub| {
                    let _ = planned.set(sub.run_ids.iter().cloned().map(Some).collect());
                    let mut t = table.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some(ab) = ab.take() {
                        t.abs.insert(ab.id().to_string(), ab);
                    }
                    let mut views = Vec::new();
                    for (i, mut e) in entries.into_iter().enumerate() {
                        e.view.slurm_job = Some(format!("{}_{i}", sub.job_id));
                        views.push(e.view.clone());
                        t.jobs.insert(e.view.id, e);
                    }
                    prune(&mut t);
                    tracing::info!(job = %sub.job_id, tasks = n, "submitted a Slurm array");
                    let _ = submitted.send(Ok(views));
                },
                |_job, ev, store| {
                    let (index, events) = match ev {
                        Event::Started { index } => {
                            let mut events = vec![SchedulerEvent::Started];
                            // Its run id is known from the submission and shown at once; an A/B
                            // records the run once its agent has created it (else at its end).
                            let run = planned.get().and_then(|p| p.get(*index).cloned().flatten());
                            if let Some(run) = run {
                                let exists = store.run(&run).is_ok();
                                table.lock().unwrap_or_else(|p| p.into_inner()).set_run(ids[*index], &run);
                                if exists {
                                    events.push(SchedulerEvent::RunCreated(run));
                                }
                            }
                            (*index, events)
                        }
                        Event::Done { index, result } => (*index, vec![SchedulerEvent::Done(result.clone())]),
                    };
                    for ev in events {
                        let recorded = table.lock().unwrap_or_else(|p| p.into_inner()).record(ids[index], ev);
                        if let Some((ab_id, writes)) = recorded
                            && let Err(e) = writes.apply(store)
                        {
                            tracing::error!(ab = %ab_id, "recording the A/B's runs and verdict: {e}");
                        }
                    }
                },
            );
            if let Err(e) = ran {
                // Refused at submission: no job was listed, no run created; the A/B ends.
                if let Some(mut ab) = ab {
                    let ended = JobResult {
                        run_id: None,
                        status: RunStatus::Failed,
                        exit_code: None,
                        signal: None,
                        error: Some(e.to_string()),
                        lines: 0,
                        timings: Default::default(),
                    };
                    for i in 0..n {
                        if let Err(e) = ab.job_ended(i, &ended).apply(store.as_mut()) {
                            tracing::error!(ab = %ab.id(), "ending the A/B Slurm refused: {e}");
                        }
                    }
                }
                let _ = tx.send(Err(e));
            }
        };
        std::thread::Builder::new()
            .name("slurm-array".into())
            .spawn(follow)
            .map_err(|e| LaunchError::Io { context: "starting the Slurm array's thread".into(), source: e })?;
        match rx.recv() {
            Ok(r) => r,
            Err(_) => Err(LaunchError::Slurm("the Slurm array's thread ended before sbatch answered".into())),
        }
    }

    pub(super) fn cancel(&self, id: u64) -> Option<JobView> {
        let t = self.table();
        let e = t.jobs.get(&id)?;
        e.token.cancel();
        Some(e.view.clone())
    }
}

impl Table {
    /// Job `id`'s event (from the scheduler, or a Slurm array's thread) into its view; its
    /// A/B's writes (and the A/B's id) come back, to be applied outside the table's lock.
    fn record(&mut self, id: u64, ev: SchedulerEvent) -> Option<(String, AbWrites)> {
        let entry = self.jobs.get_mut(&id)?;
        // What the A/B hears: a run that exists now, or the job's end.
        let mut created = None;
        let mut ended = None;
        match ev {
            SchedulerEvent::Started => {
                entry.view.state = "running";
                entry.view.started_at = Some(now_s());
            }
            SchedulerEvent::RunCreated(run) => {
                entry.view.run_id = Some(run.clone());
                created = Some(run);
            }
            SchedulerEvent::Done(r) => {
                entry.view.ended_at = Some(now_s());
                entry.view.exit_code = r.exit_code;
                entry.view.error = r.error.clone();
                // A Slurm task's id shown from its start is the one its result confirms (a task
                // cancelled before its agent created the run has none).
                if entry.view.run_id.is_none() || entry.view.backend == "slurm" {
                    entry.view.run_id = r.run_id.clone();
                }
                entry.view.state = match (r.run_id.is_some(), r.status) {
                    (false, RunStatus::Killed) => "cancelled",
                    (_, RunStatus::Finished) => "finished",
                    (_, RunStatus::Killed) => "killed",
                    _ => "failed",
                };
                ended = Some(r);
            }
        }
        let (ab_id, index) = entry.ab.clone()?;
        let ab = self.abs.get_mut(&ab_id)?;
        let writes: AbWrites = match (&ended, created) {
            (Some(r), _) => ab.job_ended(index, r),
            (None, Some(run)) => ab.run_created(index, &run),
            (None, None) => return None,
        };
        if ab.is_done() {
            self.abs.remove(&ab_id);
        }
        (!writes.is_empty()).then_some((ab_id, writes))
    }

    /// Shows job `id`'s run id before its run exists (a Slurm task's, chosen at submission).
    fn set_run(&mut self, id: u64, run: &str) {
        if let Some(e) = self.jobs.get_mut(&id) {
            e.view.run_id = Some(run.to_string());
        }
    }
}

/// Drops the oldest ended jobs beyond [`KEEP_ENDED`].
fn prune(t: &mut Table) {
    let ended: Vec<u64> = t.jobs.iter().filter(|(_, e)| e.view.ended_at.is_some()).map(|(id, _)| *id).collect();
    for id in ended.iter().take(ended.len().saturating_sub(KEEP_ENDED)) {
        t.jobs.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ended_jobs_are_pruned_oldest_first() {
        let mut t = Table::default();
        for id in 0..(KEEP_ENDED as u64 + 3) {
            let view = JobView {
                id,
                run_id: None,
                project: "p".into(),
                name: None,
                command: "x".into(),
                device: "cpu".into(),
                backend: "local",
                slurm_job: None,
                state: "finished",
                queued_at: 0.0,
                started_at: None,
                ended_at: Some(1.0),
                exit_code: None,
                error: None,
                sweep_id: None,
                ab_id: None,
            };
            t.jobs.insert(id, Entry { view, token: CancelToken::new(), ab: None });
        }
        prune(&mut t);
        assert_eq!(t.jobs.len(), KEEP_ENDED);
        assert!(!t.jobs.contains_key(&0) && t.jobs.contains_key(&3));
    }
}
