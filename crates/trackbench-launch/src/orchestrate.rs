//! A launched A/B test from start to verdict, in one place: check the plan, create the A/B
//! object, make its interleaved jobs, record each job's run on its arm, and store the verdict
//! (`trackbench-compare`'s `finish_ab`) when the last job has ended. `trackbench ab` drives it
//! from a blocking [`crate::Queue`], the server from its [`crate::Scheduler`] while other jobs
//! come and go; neither repeats the bookkeeping.
//!
//! [`AbLaunch`] only counts (it is cheap to keep under a lock); what must reach the store comes
//! back as [`AbWrites`], applied by the caller with its own store handle, outside its locks.

use trackbench_compare::{CompareError, Direction, finish_ab};
use trackbench_store::prelude::*;
use trackbench_store::{AbInfo, Arm, NewAb, RunStatus};

use crate::plan::{AbJob, AbPlan};
use crate::{Job, JobResult, LaunchError};

/// What an A/B is judged on.
#[derive(Debug, Clone)]
pub struct AbGoal {
    pub metric: String,
    pub direction: Direction,
    /// The A/B's name; `None`: "A vs B" from the arms.
    pub name: Option<String>,
}

/// An A/B whose jobs are queued: which arm each job is, which runs are recorded, how many jobs
/// are left, and whether any was cancelled.
#[derive(Debug)]
pub struct AbLaunch {
    id: String,
    /// Per job, in launch order (A1 B1 A2 B2 …): its arm and whether its run is recorded.
    jobs: Vec<(Arm, bool)>,
    left: usize,
    interrupted: bool,
}

/// Store writes an A/B event calls for; [`AbWrites::apply`] makes them.
#[must_use = "the writes only happen when applied"]
#[derive(Debug, Default)]
pub struct AbWrites {
    ab: String,
    /// (arm, run, launch order starting at 1)
    record: Option<(Arm, String, i64)>,
    /// `Some(interrupted)` once the last job has ended.
    finish: Option<bool>,
}

impl AbLaunch {
    /// Checks `plan`, creates the A/B in `project` of `template` and returns it with its jobs
    /// (launch order). Nothing is created when the plan or the goal is refused.
    pub fn create(
        store: &mut dyn Backend,
        plan: &AbPlan,
        template: &Job,
        goal: &AbGoal,
    ) -> Result<(AbLaunch, Vec<AbJob>), LaunchError> {
        plan.check()?;
        let new = NewAb {
            project: template.project.clone(),
            name: goal.name.clone().unwrap_or_else(|| plan.default_name()),
            metric: goal.metric.clone(),
            direction: match goal.direction {
                Direction::Maximize => "maximize".into(),
                Direction::Minimize => "minimize".into(),
            },
            spec: plan.spec(template),
        };
        let id = store.create_ab(&new)?;
        let jobs = plan.jobs(template, &id);
        let launch =
            AbLaunch { id, jobs: jobs.iter().map(|j| (j.arm, false)).collect(), left: jobs.len(), interrupted: false };
        Ok((launch, jobs))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Job `index` (launch order) has its run: record it on the arm now, so the A/B shows it
    /// while it runs.
    pub fn run_created(&mut self, index: usize, run: &str) -> AbWrites {
        let mut w = AbWrites { ab: self.id.clone(), ..AbWrites::default() };
        if let Some((arm, recorded)) = self.jobs.get_mut(index)
            && !*recorded
        {
            *recorded = true;
            w.record = Some((*arm, run.to_string(), index as i64 + 1));
        }
        w
    }

    /// Job `index` ended (or never started): its run is recorded if that has not happened yet,
    /// and after the last job the verdict is stored. The A/B ends `killed` when any of its jobs
    /// was cancelled.
    pub fn job_ended(&mut self, index: usize, result: &JobResult) -> AbWrites {
        let mut w = match &result.run_id {
            Some(run) => self.run_created(index, run),
            None => AbWrites { ab: self.id.clone(), ..AbWrites::default() },
        };
        self.interrupted |= result.status == RunStatus::Killed;
        if index < self.jobs.len() && self.left > 0 {
            self.left -= 1;
            if self.left == 0 {
                w.finish = Some(self.interrupted);
            }
        }
        w
    }

    /// True once every job has ended.
    pub fn is_done(&self) -> bool {
        self.left == 0
    }
}

impl AbWrites {
    pub fn is_empty(&self) -> bool {
        self.record.is_none() && self.finish.is_none()
    }

    /// Records the run, then stores the verdict when this
    /// was the last job; returns the ended A/B then.
    pub fn apply(self, store: &mut dyn Backend) -> Result<Option<AbInfo>, CompareError> {
        if let Some((arm, run, seq)) = &self.record {
            store.add_ab_run(&self.ab, *arm, run, *seq)?;
        }
        match self.finish {
            Some(interrupted) => Ok(Some(finish_ab(store, &self.ab, interrupted)?)),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid;
    use trackbench_store::NewRun;

    fn ended(run: Option<&str>, status: RunStatus) -> JobResult {
        let mut r = JobResult::not_started(status, String::new());
        r.run_id = run.map(str::to_string);
        r
    }

    /// `lr=1` against `lr=2` over `seeds` seeds.
    fn lr_plan(seeds: u64) -> AbPlan {
        let p = |s| grid::parse_assignments(s).unwrap();
        AbPlan { a: p("lr=1"), b: p("lr=2"), base: Vec::new(), seeds }
    }

    #[test]
    fn runs_are_recorded_once_and_the_verdict_comes_after_the_last_job() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = trackbench_store::Store::open(dir.path(), Default::default()).unwrap();
        let plan = lr_plan(2);
        let goal = AbGoal { metric: "acc".into(), direction: Direction::Maximize, name: None };
        let template = Job::new("p", "train", vec!["{lr}".into()]);
        let (mut ab, jobs) = AbLaunch::create(&mut store, &plan, &template, &goal).unwrap();
        assert_eq!(jobs.len(), 4);
        assert_eq!(store.ab(ab.id()).unwrap().name, "lr=1 vs lr=2");
        let runs: Vec<String> = (0..4)
            .map(|i| {
                let new = NewRun { project: "p".into(), name: Some(format!("r{i}")), ..NewRun::default() };
                store.create_run(&new).unwrap().id
            })
            .collect();

        let w = ab.run_created(0, &runs[0]);
        assert!(w.record.is_some() && w.finish.is_none());
        w.apply(&mut store).unwrap();
        // Its end does not record the run a second time.
        let w = ab.job_ended(0, &ended(Some(&runs[0]), RunStatus::Finished));
        assert!(w.is_empty());
        // A run first seen at its end is recorded then; a job that never started records nothing.
        ab.job_ended(1, &ended(Some(&runs[1]), RunStatus::Failed)).apply(&mut store).unwrap();
        assert!(ab.job_ended(2, &ended(None, RunStatus::Killed)).apply(&mut store).unwrap().is_none());
        assert!(!ab.is_done());
        let done = ab.job_ended(3, &ended(Some(&runs[3]), RunStatus::Finished)).apply(&mut store).unwrap();
        let done = done.expect("the last job's end stores the verdict");
        assert!(ab.is_done());
        let seqs: Vec<(Arm, i64)> = done.runs.iter().map(|r| (r.arm, r.seq)).collect();
        assert_eq!(seqs, [(Arm::A, 1), (Arm::B, 2), (Arm::B, 4)]);
        // A cancelled job makes the A/B end killed.
        assert_eq!(done.status, RunStatus::Killed);
        // Events after the end change nothing.
        assert!(ab.job_ended(3, &ended(None, RunStatus::Finished)).is_empty());
    }

    #[test]
    fn a_refused_plan_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = trackbench_store::Store::open(dir.path(), Default::default()).unwrap();
        let plan = lr_plan(1);
        let goal = AbGoal { metric: "acc".into(), direction: Direction::Minimize, name: None };
        let template = Job::new("p", "train", Vec::new());
        assert!(AbLaunch::create(&mut store, &plan, &template, &goal).is_err());
        assert!(store.list_abs(None).unwrap().is_empty());
    }
}
