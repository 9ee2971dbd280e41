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
