//! Per-device queues: jobs start in submission order as their device has a free slot (default
//! 1 per GPU, N for the CPU); a queued job can be cancelled before it starts; a signal to the
//! launcher (see [`crate::signals`]) cancels everything.
//!
//! The caller's thread schedules and receives [`Event`]s (so a progress display needs no
//! locking); each running job has its own supervising thread ([`crate::launch`]).

use std::collections::HashMap;
use std::sync::mpsc;
use std::time::Duration;

use trackbench_store::RunStatus;

use crate::{CancelToken, Device, Job, JobResult, LaunchOptions};

/// Concurrency limits per device.
#[derive(Debug, Clone)]
pub struct Limits {
    pub cpu: usize,
    pub per_gpu: usize,
}

impl Default for Limits {
    /// One job per GPU; on the CPU, one per two cores (at least one).
    fn default() -> Limits {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Limits { cpu: (cores / 2).max(1), per_gpu: 1 }
    }
}

impl Limits {
    pub fn of(&self, d: &Device) -> usize {
        if d.is_gpu() { self.per_gpu.max(1) } else { self.cpu.max(1) }
    }
}

/// What happens to a job, in the order it happens.
#[derive(Debug, Clone)]
pub enum Event {
    /// Job `index` got a slot and is being launched.
    Started { index: usize },
    /// Job `index` ended (or never started: cancelled while queued, refused).
    Done { index: usize, result: JobResult },
}

/// A batch of jobs with their cancel tokens, run under [`Limits`].
pub struct Queue {
    jobs: Vec<(Job, CancelToken)>,
    limits: Limits,
}

impl Queue {
    pub fn new(limits: Limits) -> Queue {
        Queue { jobs: Vec::new(), limits }
    }

    /// Adds a job; returns its index and the token that cancels it.
    pub fn push(&mut self, job: Job) -> (usize, CancelToken) {
        let token = CancelToken::new();
        self.jobs.push((job, token.clone()));
        (self.jobs.len() - 1, token)
    }

    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }

    /// Runs every job to its end; `on_event` sees each start and end in the caller's thread.
    /// Returns the results in submission order.
    pub fn run(self, opts: &LaunchOptions, mut on_event: impl FnMut(&Job, &Event)) -> Vec<JobResult> {
        let n = self.jobs.len();
        let mut results: Vec<Option<JobResult>> = vec![None; n];
        let mut pending: Vec<usize> = (0..n).collect();
        let mut running: HashMap<Device, usize> = HashMap::new();
        let mut in_flight = 0usize;
        let (tx, rx) = mpsc::channel::<(usize, JobResult)>();
        let jobs = std::sync::Arc::new(self.jobs);
        loop {
            if crate::signals::interrupted() {
                jobs.iter().for_each(|(_, t)| t.cancel());
            }
            // Cancelled while queued: never started.
            pending.retain(|&i| {
                if jobs[i].1.is_cancelled() {
                    let result = JobResult::not_started(RunStatus::Killed, "cancelled before it started".into());
                    on_event(&jobs[i].0, &Event::Done { index: i, result: result.clone() });
                    results[i] = Some(result);
                    false
                } else {
                    true
                }
            });
            let mut k = 0;
            while k < pending.len() {
                let i = pending[k];
                let device = jobs[i].0.device.clone();
                let busy = running.get(&device).copied().unwrap_or(0);
                if busy < self.limits.of(&device) {
                    pending.remove(k);
                    *running.entry(device).or_default() += 1;
                    in_flight += 1;
                    on_event(&jobs[i].0, &Event::Started { index: i });
                    let (jobs, tx, opts) = (jobs.clone(), tx.clone(), opts.clone());
                    std::thread::spawn(move || {
                        let (job, token) = &jobs[i];
                        let result = crate::launch(job, &opts, token)
                            .unwrap_or_else(|e| JobResult::not_started(RunStatus::Failed, e.to_string()));
                        let _ = tx.send((i, result));
                    });
                } else {
                    k += 1;
                }
            }
            if in_flight == 0 && pending.is_empty() {
                break;
            }
            if let Ok((i, result)) = rx.recv_timeout(Duration::from_millis(50)) {
                in_flight -= 1;
                if let Some(c) = running.get_mut(&jobs[i].0.device) {
                    *c -= 1;
                }
                on_event(&jobs[i].0, &Event::Done { index: i, result: result.clone() });
                results[i] = Some(result);
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| JobResult::not_started(RunStatus::Failed, "lost".into())))
            .collect()
    }
}

/// What a [`Scheduler`] reports about job `id`.
#[derive(Debug, Clone)]
pub enum SchedulerEvent {
    /// The job got a slot on its device and is being launched.
    Started,
    /// Its run exists (the process starts next).
    RunCreated(String),
    /// It ended, or never started (cancelled while queued, refused).
    Done(JobResult),
}

enum Msg {
    Submit(u64, Job, CancelToken),
    Created(u64, String),
    Done(u64, JobResult),
}

/// A queue that stays open: jobs are submitted while others run (a server's launcher). Jobs
/// start in submission order as their device has a free slot under [`Limits`]; a job whose
/// token is cancelled while queued never starts. One thread schedules and calls `on_event`
/// (in order per job: `Started`, `RunCreated`, `Done`); each running job has its own
/// supervising thread ([`crate::launch`]). Dropping the scheduler lets it finish the jobs it
/// has and stop.
pub struct Scheduler {
    tx: mpsc::Sender<Msg>,
    closed: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Scheduler {
    pub fn start(
        opts: LaunchOptions,
        limits: Limits,
        mut on_event: impl FnMut(u64, SchedulerEvent) + Send + 'static,
    ) -> Scheduler {
        let (tx, rx) = mpsc::channel::<Msg>();
        let inner_tx = tx.clone();
        let closed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let closed_flag = closed.clone();
        std::thread::Builder::new()
            .name("trackbench-scheduler".into())
            .spawn(move || {
                let tx = inner_tx;
                let mut pending: Vec<(u64, Job, CancelToken)> = Vec::new();
                let mut running: HashMap<u64, Device> = HashMap::new();
                let mut open = true;
                loop {
                    pending.retain(|(id, _, token)| {
                        if token.is_cancelled() {
                            let r = JobResult::not_started(RunStatus::Killed, "cancelled before it started".into());
                            on_event(*id, SchedulerEvent::Done(r));
                            false
                        } else {
                            true
                        }
                    });
                    let mut k = 0;
                    while k < pending.len() {
                        let device = pending[k].1.device.clone();
                        let busy = running.values().filter(|d| **d == device).count();
                        if busy < limits.of(&device) {
                            let (id, job, token) = pending.remove(k);
                            running.insert(id, device);
                            on_event(id, SchedulerEvent::Started);
                            let mut opts = opts.clone();
                            let created = tx.clone();
                            opts.on_run = Some(std::sync::Arc::new(move |run: &str| {
                                let _ = created.send(Msg::Created(id, run.to_string()));
                            }));
                            let done = tx.clone();
                            std::thread::spawn(move || {
                                let result = crate::launch(&job, &opts, &token)
                                    .unwrap_or_else(|e| JobResult::not_started(RunStatus::Failed, e.to_string()));
                                let _ = done.send(Msg::Done(id, result));
                            });
                        } else {
                            k += 1;
                        }
                    }
                    if !open && pending.is_empty() && running.is_empty() {
                        return;
                    }
                    match rx.recv_timeout(Duration::from_millis(50)) {
                        Ok(Msg::Submit(id, job, token)) => pending.push((id, job, token)),
                        Ok(Msg::Created(id, run)) => on_event(id, SchedulerEvent::RunCreated(run)),
                        Ok(Msg::Done(id, result)) => {
                            running.remove(&id);
                            on_event(id, SchedulerEvent::Done(result));
                        }
                        Err(_) => {}
                    }
                    // This thread holds a sender too, so the owner's drop shows as the flag.
                    if closed_flag.load(std::sync::atomic::Ordering::SeqCst) {
                        open = false;
                    }
                }
            })
            .expect("spawning the scheduler thread");
        Scheduler { tx, closed }
    }

    /// Queues job `id` (ids are the caller's; they only name the job in events).
    pub fn submit(&self, id: u64, job: Job, token: CancelToken) {
        let _ = self.tx.send(Msg::Submit(id, job, token));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheduler_runs_jobs_as_submitted_and_drops_cancelled_queued_ones() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = mpsc::channel();
        let sched = Scheduler::start(LaunchOptions::new(dir.path()), Limits { cpu: 1, per_gpu: 1 }, move |id, ev| {
            let _ = tx.send((id, ev));
        });
        let slow = Job::new("p", "sleep", vec!["0.3".into()]);
        let queued = CancelToken::new();
        sched.submit(1, slow.clone(), CancelToken::new());
        sched.submit(2, slow, queued.clone());
        queued.cancel();
        let mut events: Vec<(u64, SchedulerEvent)> = Vec::new();
        while events.iter().filter(|(_, e)| matches!(e, SchedulerEvent::Done(_))).count() < 2 {
            events.push(rx.recv_timeout(Duration::from_secs(30)).expect("an event"));
        }
        let of = |id: u64| events.iter().filter(|(i, _)| *i == id).map(|(_, e)| e.clone()).collect::<Vec<_>>();
        let first = of(1);
        assert!(matches!(first[0], SchedulerEvent::Started));
        assert!(matches!(&first[1], SchedulerEvent::RunCreated(run) if !run.is_empty()));
        assert!(matches!(&first[2], SchedulerEvent::Done(r) if r.status == RunStatus::Finished));
        let second = of(2);
        assert_eq!(second.len(), 1, "a job cancelled while queued never starts: {second:?}");
        assert!(matches!(&second[0], SchedulerEvent::Done(r) if r.run_id.is_none() && r.status == RunStatus::Killed));
    }
}
