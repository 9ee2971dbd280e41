//! The server's launcher: the job table the API shows, and the one [`Scheduler`] that runs
//! every job. A/B jobs report to their [`AbLaunch`] (`trackbench-launch`'s orchestration, as the
//! CLI's do), which records their runs and stores the verdict after the last one.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use serde::Serialize;
use trackbench_launch::orchestrate::{AbLaunch, AbWrites};
use trackbench_launch::{CancelToken, Job, LaunchOptions, Scheduler, SchedulerEvent, reap_orphans};
use trackbench_store::{RunStatus, Store, StoreOptions};

use super::{DeviceInfo, LaunchConfig, default_devices};

/// The server's launcher: its configuration, cached devices, the job table and the scheduler.
pub struct Launcher {
    pub config: LaunchConfig,
    devices: OnceLock<Vec<DeviceInfo>>,
    table: Arc<Mutex<Table>>,
    scheduler: Mutex<Option<Scheduler>>,
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
    pub device: String,
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

fn now_s() -> f64 {
    trackbench_store::now_ms() as f64 / 1000.0
}

/// A job to queue: the job, its sweep id, and its place in an A/B (A/B id, launch order).
type QueuedJob = (Job, Option<String>, Option<(String, usize)>);

impl Launcher {
    pub fn new(config: LaunchConfig) -> Launcher {
        Launcher {
            config,
            devices: OnceLock::new(),
            table: Arc::new(Mutex::new(Table::default())),
            scheduler: Mutex::new(None),
        }
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
                let view = JobView {
                    id,
                    run_id: None,
                    project: job.project.clone(),
                    name: job.name.clone(),
                    command: job.command_line(),
                    device: job.device.to_string(),
                    state: "queued",
                    queued_at: now_s(),
                    started_at: None,
                    ended_at: None,
                    exit_code: None,
                    error: None,
                    sweep_id,
                    ab_id: ab.as_ref().map(|a| a.0.clone()),
                };
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
            let Some(entry) = t.jobs.get_mut(&id) else { return };
            let ab_of_job = entry.ab.clone();
            let mut ended = None;
            match ev {
                SchedulerEvent::Started => {
                    entry.view.state = "running";
                    entry.view.started_at = Some(now_s());
                }
                SchedulerEvent::RunCreated(run) => {
                    entry.view.run_id = Some(run);
                }
                SchedulerEvent::Done(r) => {
                    entry.view.ended_at = Some(now_s());
                    entry.view.exit_code = r.exit_code;
                    entry.view.error = r.error.clone();
                    if entry.view.run_id.is_none() {
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
            // The A/B's bookkeeping happens under the table's lock, its store writes after it.
            let run = entry.view.run_id.clone();
            let Some((ab_id, index)) = ab_of_job else { return };
            let Some(ab) = t.abs.get_mut(&ab_id) else { return };
            let writes: AbWrites = match (&ended, run) {
                (Some(r), _) => ab.job_ended(index, r),
                (None, Some(run)) => ab.run_created(index, &run),
                (None, None) => return,
            };
            if ab.is_done() {
                t.abs.remove(&ab_id);
            }
            drop(t);
            if writes.is_empty() {
                return;
            }
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

    pub(super) fn cancel(&self, id: u64) -> Option<JobView> {
        let t = self.table();
        let e = t.jobs.get(&id)?;
        e.token.cancel();
        Some(e.view.clone())
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
