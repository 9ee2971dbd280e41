//! Many jobs from one: a sweep (one job per combination of a grid, all in one group) and an
//! A/B (two arms times N seeds, interleaved A1 B1 A2 B2 … so drift in the machine does not
//! bias one arm). Shared by `trackbench sweep`/`ab` and the server's sweep and A/B endpoints.

use serde_json::{Value, json};
use trackbench_store::Arm;

use crate::grid::{self, Params};
use crate::{Job, LaunchError};

/// Most jobs one sweep or A/B may make.
pub const MAX_JOBS: usize = 1000;

/// Largest grid a sweep may sample from (the product is built before sampling).
pub const MAX_COMBINATIONS: usize = 1_000_000;

/// A sweep: its axes (each a parameter and its values), and optionally a seeded random sample
/// of `random` combinations instead of all of them.
#[derive(Debug, Clone, Default)]
pub struct SweepPlan {
    pub axes: Vec<(String, Vec<String>)>,
    pub random: Option<usize>,
    pub seed: u64,
}

impl SweepPlan {
    /// How many combinations the axes make (saturating).
    pub fn size(&self) -> usize {
        if self.axes.is_empty() {
            return 0;
        }
        self.axes.iter().fold(1usize, |n, (_, v)| n.saturating_mul(v.len()))
    }

    /// How many jobs the sweep starts: every combination, or the sample.
    pub fn job_count(&self) -> usize {
        self.random.map_or(self.size(), |n| n.min(self.size()))
    }

    /// Refuses an empty grid, bad or repeated names, empty values, a zero sample and sweeps
    /// beyond [`MAX_JOBS`] jobs or [`MAX_COMBINATIONS`] combinations.
    pub fn check(&self) -> Result<(), LaunchError> {
        let invalid = |why: String| LaunchError::Invalid { what: "sweep", why };
        if self.axes.is_empty() {
            return Err(invalid("the grid is empty: give at least one parameter with values".into()));
        }
        for (i, (name, values)) in self.axes.iter().enumerate() {
            if values.is_empty() {
                return Err(invalid(format!("`{name}` has no values")));
            }
            for v in values {
                grid::param(name, v)?;
            }
            if self.axes[..i].iter().any(|(x, _)| x == name) {
                return Err(invalid(format!("`{name}` is given twice")));
            }
        }
        if self.random == Some(0) {
            return Err(invalid("a random sample must have at least 1 combination".into()));
        }
        let size = self.size();
        if self.job_count() > MAX_JOBS || size > MAX_COMBINATIONS {
            return Err(invalid(format!(
                "the grid makes {size} combinations{}; at most {MAX_JOBS} jobs per sweep \
                 (and {MAX_COMBINATIONS} combinations to sample from)",
                self.random.map(|n| format!(" ({n} chosen)")).unwrap_or_default()
            )));
        }
        Ok(())
    }

    /// The combinations the sweep runs, in launch order: the product (last axis fastest), or
    /// the seeded sample of it. Call [`SweepPlan::check`] first.
    pub fn combos(&self) -> Vec<Params> {
        let all = grid::product(&self.axes);
        match self.random {
            Some(n) => grid::sample(all, n, self.seed),
            None => all,
        }
    }

    /// The sweep's group (the template's, else a new `sweep-<id>`) and its jobs.
    pub fn jobs(&self, base: &Job) -> (String, Vec<Job>) {
        let group = base.group.clone().unwrap_or_else(|| format!("sweep-{}", trackbench_store::new_run_id()));
        let jobs = sweep_jobs(base, &self.combos(), &group);
        (group, jobs)
    }
}

/// The jobs of a sweep: `base` with each combination substituted into its arguments as
/// `{name}`, passed as `TRACKBENCH_PARAM_<NAME>` and tagged `sweep.<name>`, all in `group`.
pub fn sweep_jobs(base: &Job, combos: &[Params], group: &str) -> Vec<Job> {
    combos
        .iter()
        .map(|params| {
            let mut job = base.clone();
            job.args = base.args.iter().map(|x| grid::substitute(x, params)).collect();
            job.env.extend(grid::env(params));
            job.group = Some(group.to_string());
            job.name = Some(grid::describe(params));
            job.tags.extend(params.iter().map(|(k, v)| (format!("sweep.{k}"), v.clone())));
            job
        })
        .collect()
}

/// An A/B's arms: A (the baseline) and B (the candidate), what both share, and seeds 1..=N.
#[derive(Debug, Clone)]
pub struct AbPlan {
    pub a: Params,
    pub b: Params,
    pub base: Params,
    pub seeds: u64,
}

/// One job of an A/B.
#[derive(Debug, Clone)]
pub struct AbJob {
    pub arm: Arm,
    pub seed: u64,
    /// `A1`, `B1`, `A2`…
    pub label: String,
    pub job: Job,
}

impl AbPlan {
    /// Refuses plans with no statistics at the end (fewer than two seeds) or too many jobs.
    pub fn check(&self) -> Result<(), LaunchError> {
        let invalid = |why: String| LaunchError::Invalid { what: "A/B", why };
        if self.seeds < 2 {
            return Err(invalid("seeds must be at least 2 (the statistics need two values per arm)".into()));
        }
        if self.seeds.saturating_mul(2) > MAX_JOBS as u64 {
            return Err(invalid(format!("{} seeds make more than {MAX_JOBS} runs", self.seeds)));
        }
        if self.a.is_empty() || self.b.is_empty() {
            return Err(invalid("each arm needs at least one parameter".into()));
        }
        Ok(())
    }

    /// `lr=0.01 vs lr=0.02`.
    pub fn default_name(&self) -> String {
        format!("{} vs {}", grid::describe(&self.a), grid::describe(&self.b))
    }

    /// What the A/B object records about how it was made.
    pub fn spec(&self, template: &Job) -> Value {
        let map = |p: &Params| Value::Object(p.iter().map(|(k, v)| (k.clone(), Value::from(v.clone()))).collect());
        json!({
            "source": "launch",
            "a": map(&self.a),
            "b": map(&self.b),
            "base": map(&self.base),
            "seeds": self.seeds,
            "command": template.command_line(),
            "device": template.device.to_string(),
        })
    }

    /// The jobs, interleaved A1 B1 A2 B2 …: each arm's parameters over the base, plus `seed`,
    /// substituted as `{name}` into program and arguments and passed as environment; runs
    /// grouped `ab-<id8>-a`/`-b` and tagged `ab.id`, `ab.arm`, `ab.seed`.
    pub fn jobs(&self, template: &Job, ab_id: &str) -> Vec<AbJob> {
        let short = &ab_id[..ab_id.len().min(8)];
        let mut out = Vec::new();
        for seed in 1..=self.seeds {
            for (arm, params) in [(Arm::A, &self.a), (Arm::B, &self.b)] {
                let mut p = self.base.clone();
                p.retain(|(k, _)| !params.iter().any(|(x, _)| x == k));
                p.extend(params.iter().cloned());
                p.push(("seed".into(), seed.to_string()));
                let mut job = template.clone();
                job.args = template.args.iter().map(|x| grid::substitute(x, &p)).collect();
                job.program = grid::substitute(&template.program, &p);
                job.env.extend(grid::env(&p));
                let label = format!("{}{seed}", if arm == Arm::A { "A" } else { "B" });
                job.name = Some(format!("{label} {}", grid::describe(params)));
                job.group = Some(format!("ab-{short}-{}", arm.as_str()));
                job.tags.extend([("ab.id".to_string(), ab_id.to_string()), ("ab.arm".into(), arm.as_str().into())]);
                job.tags.push(("ab.seed".into(), seed.to_string()));
                out.push(AbJob { arm, seed, label, job });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ab_jobs_interleave_arms_and_substitute() {
        let plan = AbPlan {
            a: grid::parse_assignments("lr=0.1").unwrap(),
            b: grid::parse_assignments("lr=0.2").unwrap(),
            base: grid::parse_assignments("lr=9,epochs=2").unwrap(),
            seeds: 2,
        };
        plan.check().unwrap();
        let t = Job::new("p", "train", vec!["--lr".into(), "{lr}".into(), "--seed={seed}".into(), "{epochs}".into()]);
        let jobs = plan.jobs(&t, "0123456789abcdef");
        let labels: Vec<&str> = jobs.iter().map(|j| j.label.as_str()).collect();
        assert_eq!(labels, ["A1", "B1", "A2", "B2"]);
        assert_eq!(jobs[1].job.args, ["--lr", "0.2", "--seed=1", "2"]);
        assert_eq!(jobs[2].job.group.as_deref(), Some("ab-01234567-a"));
        assert!(AbPlan { seeds: 1, ..plan.clone() }.check().is_err());
        assert!(AbPlan { seeds: 501, ..plan }.check().is_err());
        let sweep = sweep_jobs(&t, &grid::product(&[grid::parse_axis("lr=1,2").unwrap()]), "g");
        assert_eq!(sweep[1].args[1], "2");
        assert_eq!(sweep[1].group.as_deref(), Some("g"));
    }

    #[test]
    fn sweep_plans_are_checked_then_expanded_or_sampled() {
        let axis = |s: &str| grid::parse_axis(s).unwrap();
        let plan = SweepPlan { axes: vec![axis("lr=1,2,3"), axis("h=8,16")], random: None, seed: 0 };
        plan.check().unwrap();
        assert_eq!((plan.size(), plan.job_count()), (6, 6));
        let combos = plan.combos();
        assert_eq!(grid::describe(&combos[1]), "lr=1 h=16");
        let sampled = SweepPlan { random: Some(4), seed: 7, ..plan.clone() };
        assert_eq!(sampled.job_count(), 4);
        assert_eq!(sampled.combos(), grid::sample(combos.clone(), 4, 7));
        let t = Job::new("p", "train", vec!["{lr}".into()]);
        let (group, jobs) = plan.jobs(&t);
        assert!(group.starts_with("sweep-") && jobs.len() == 6);
        let named = Job { group: Some("mine".into()), ..t };
        assert_eq!(plan.jobs(&named).0, "mine");

        let refused = |p: SweepPlan| p.check().unwrap_err().to_string();
        assert!(refused(SweepPlan::default()).contains("empty"));
        assert!(refused(SweepPlan { random: Some(0), ..plan.clone() }).contains("at least 1"));
        assert!(refused(SweepPlan { axes: vec![axis("lr=1"), axis("lr=2")], ..plan.clone() }).contains("twice"));
        assert!(refused(SweepPlan { axes: vec![("lr".into(), vec![])], ..plan.clone() }).contains("no values"));
        assert!(
            refused(SweepPlan { axes: vec![("bad name".into(), vec!["1".into()])], ..plan.clone() }).contains("name")
        );
        let big: Vec<String> = (0..1001).map(|i| i.to_string()).collect();
        assert!(refused(SweepPlan { axes: vec![("x".into(), big.clone())], ..plan.clone() }).contains("at most 1000"));
        // A sample of a big grid is fine; a grid too big to sample from is not.
        SweepPlan { axes: vec![("x".into(), big.clone())], random: Some(10), seed: 0 }.check().unwrap();
        let huge = vec![("x".into(), big.clone()), ("y".into(), big.clone())];
        assert!(refused(SweepPlan { axes: huge, random: Some(10), seed: 0 }).contains("combinations to sample"));
    }
}
