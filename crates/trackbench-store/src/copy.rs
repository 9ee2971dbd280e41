//! Copying a whole store from one backend to another (a SQLite folder to a team PostgreSQL
//! database with its object store, and back), through the seam only, so every pair of
//! backends works; and [`counts`], what both sides of a copy must agree on.
//!
//! What is copied: projects (tags, deleted state), every run with its id and every field a new
//! run records (name, group, notes, tags, host, pid, command, git, environment, creation
//! time), params, every point of every series (bit-exact, with wall times, in stored order),
//! summary values, log lines, inputs, artifacts (streamed from one blob store to the other),
//! its end (status, error, end time) and deleted state; A/Bs with their id, runs, verdict and
//! times; logged models with their id, tags, params, metrics, artifacts, status and the runs
//! that output them; the registry (registered models, versions with their numbers, stages,
//! tags, aliases).
//!
//! Idempotent and resumable without a marker: a run is copied whole, its end and deletion
//! last, and a run already on the destination is compared with the source's ([`RunPrint`]:
//! every field, tag, param, summary value, series summary, log line count, input and
//! artifact). Equal: skipped. Different (a copy killed half-way, or the source moved on):
//! purged and copied again. A/Bs, logged models and model outputs are completed in place
//! (what is missing is added); a registered model that differs is deleted and registered
//! again. A second copy copies nothing, and says so in its [`CopyReport`].
//!
//! What the seam cannot carry (reported, not silently dropped): times a write records as
//! "now" (a run's heartbeat, an artifact's, a project's, a registered model's and a version's
//! creation and update times, a logged model's update time), project numeric ids, the
//! process start time and boot key of a running run, logged models deleted on the source
//! (hidden from every read; a version pointing at one loses that link, with a warning), and
//! which of a deleted project's runs were deleted by the project rather than one by one.

use std::collections::HashMap;

use serde::Serialize;

use crate::ab::NewAb;
use crate::backend::Backend;
use crate::error::{Result, StoreError};
use crate::model::{Batch, LogLine, NewRun, RunInfo, RunQuery, RunStatus, StepRange};
use crate::models::{ModelStatus, NewLoggedModel, NewModelVersion};

/// Points per write when copying a series (one transaction each).
const POINTS_PER_BATCH: usize = 200_000;
/// Log lines per read and per write.
const LOG_LINES_PER_BATCH: usize = 10_000;

/// Where a copy is, for a progress bar: called after every write.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CopyProgress {
    /// `projects`, `runs`, `abs`, `models`, `registry`.
    pub phase: &'static str,
    /// Runs looked at so far (copied or skipped), of `runs_total`.
    pub runs_done: u64,
    pub runs_total: u64,
    /// Points written so far.
    pub points: u64,
    /// Artifact bytes written so far.
    pub bytes: u64,
    /// The run (or object) being copied.
    pub item: String,
}

/// What a copy did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CopyReport {
    pub projects_created: u64,
    pub runs_copied: u64,
    /// Runs found complete on the destination.
    pub runs_skipped: u64,
    /// Runs found half-copied (or different) on the destination, purged and copied again.
    pub runs_recopied: u64,
    pub points: u64,
    pub log_lines: u64,
    pub artifacts: u64,
    pub artifact_bytes: u64,
    pub abs_copied: u64,
    pub logged_models_copied: u64,
    pub registered_models_copied: u64,
    /// What could not be carried faithfully.
    pub warnings: Vec<String>,
}

impl CopyReport {
    /// Nothing was written: the destination already held everything.
    pub fn is_noop(&self) -> bool {
        self.projects_created == 0
            && self.runs_copied == 0
            && self.abs_copied == 0
            && self.logged_models_copied == 0
            && self.registered_models_copied == 0
    }
}

/// Copies everything in `src` into `dst` (see the module doc). `progress` is called after
/// each write; an error it returns stops the copy there (what was written stays, and a later
/// copy completes it).
pub fn copy_store(
    src: &mut dyn Backend,
    dst: &mut dyn Backend,
    progress: &mut dyn FnMut(&CopyProgress) -> Result<()>,
) -> Result<CopyReport> {
    let mut c = Copier { src, dst, progress, report: CopyReport::default(), at: CopyProgress::default() };
    c.run()?;
    Ok(c.report)
}

struct Copier<'a> {
    src: &'a mut dyn Backend,
    dst: &'a mut dyn Backend,
    progress: &'a mut dyn FnMut(&CopyProgress) -> Result<()>,
    report: CopyReport,
    at: CopyProgress,
}

impl Copier<'_> {
    fn tick(&mut self) -> Result<()> {
        (self.progress)(&self.at)
    }

    fn run(&mut self) -> Result<()> {
        self.at.phase = "projects";
        let projects = self.src.list_projects(true)?;
        for p in &projects {
            if self.dst.project(&p.name).is_err() {
                self.dst.ensure_project(&p.name)?;
                self.report.projects_created += 1;
            }
            let id = self.dst.project(&p.name)?.id;
            let want = self.src.project_tags(p.id)?;
            let have = self.dst.project_tags(id)?;
            for (k, v) in &want {
                if !have.iter().any(|(hk, hv)| hk == k && hv == v) {
                    self.dst.set_project_tag(id, k, v)?;
                }
            }
            for (k, _) in &have {
                if !want.iter().any(|(wk, _)| wk == k) {
                    self.dst.remove_project_tag(id, k)?;
                }
            }
        }
        self.tick()?;

        self.at.phase = "runs";
        let mut runs = Vec::new();
        for p in &projects {
            let q = RunQuery { project: Some(p.name.clone()), include_deleted: true, ..RunQuery::default() };
            let mut of_project = self.src.list_runs(&q)?;
            // Oldest first, so the destination numbers them in the same order.
            of_project.sort_by(|a, b| a.created_ms.cmp(&b.created_ms).then_with(|| a.id.cmp(&b.id)));
            runs.extend(of_project);
        }
        self.at.runs_total = runs.len() as u64;
        for run in &runs {
            self.at.item = run.id.clone();
            self.copy_run_if_needed(run)?;
            self.at.runs_done += 1;
            self.tick()?;
        }
        // Deleted state of projects last: their runs were written (or compared) first.
        for p in &projects {
            let d = self.dst.project(&p.name)?;
            if p.deleted && !d.deleted {
                self.dst.delete_project(d.id)?;
            } else if !p.deleted && d.deleted {
                self.dst.restore_project(d.id)?;
            }
        }

        self.at.phase = "abs";
        self.copy_abs()?;
        self.at.phase = "models";
        self.copy_logged_models(&runs)?;
        self.at.phase = "registry";
        self.copy_registry()?;
        self.at.item.clear();
        self.tick()
    }

    // ---- runs ----

    fn copy_run_if_needed(&mut self, run: &RunInfo) -> Result<()> {
        match self.dst.run(&run.id) {
            Ok(_) => {
                let want = RunPrint::of(self.src, &run.id)?;
                let have = RunPrint::of(self.dst, &run.id)?;
                if want == have {
                    self.report.runs_skipped += 1;
                    return Ok(());
                }
                tracing::info!(run = %run.id, "run differs on the destination (a copy cut short?): copying it again");
                self.dst.purge_run(&run.id)?;
                self.report.runs_recopied += 1;
            }
            Err(StoreError::RunNotFound(_)) => {}
            Err(e) => return Err(e),
        }
        // A run goes into a deleted project only while it is restored.
        let project = self.dst.project(&run.project)?;
        if project.deleted {
            self.dst.restore_project(project.id)?;
        }
        self.copy_run(run)?;
        if project.deleted {
            self.dst.delete_project(project.id)?;
        }
        self.report.runs_copied += 1;
        Ok(())
    }

    fn copy_run(&mut self, run: &RunInfo) -> Result<()> {
        let uid = run.id.as_str();
        let new = NewRun {
            project: run.project.clone(),
            name: Some(run.name.clone()),
            group: run.group.clone(),
            notes: run.notes.clone(),
            tags: self.src.tags(uid)?,
            host: run.host.clone(),
            pid: run.pid,
            command: run.command.clone(),
            git_commit: run.git_commit.clone(),
            git_dirty: run.git_dirty,
            env: run.env.clone(),
            created_ms: Some(run.created_ms),
            proc_start: None,
            proc_boot: None,
        };
        self.dst.create_run_with_id(uid, &new)?;

        // Params and summary values, then series: every point in stored order, small series
        // sharing a write.
        let mut batch =
            Batch { params: self.src.params(uid)?, summary: self.src.summary_values(uid)?, ..Batch::default() };
        for s in self.src.metric_summaries(uid)? {
            let points = self.src.series(uid, &s.key, StepRange::ALL)?;
            let mut start = 0;
            while start < points.len() {
                let room = POINTS_PER_BATCH.saturating_sub(batch.point_count()).max(1);
                let end = (start + room).min(points.len());
                let mut part = crate::codec::Points::with_capacity(end - start);
                part.extend_from(&points, start..end);
                batch.series.push(crate::model::SeriesBatch { key: s.key.clone(), points: part });
                start = end;
                if batch.point_count() >= POINTS_PER_BATCH {
                    self.write_batch(uid, std::mem::take(&mut batch))?;
                }
            }
        }
        self.write_batch(uid, batch)?;

        let mut after = 0;
        loop {
            let lines = self.src.log_lines(uid, after, LOG_LINES_PER_BATCH)?;
            let Some(last) = lines.last() else { break };
            after = last.seq;
            let n = lines.len();
            let log_lines: Vec<LogLine> = lines.into_iter().map(|l| l.line).collect();
            self.write_batch(uid, Batch { log_lines, ..Batch::default() })?;
            self.report.log_lines += n as u64;
            if n < LOG_LINES_PER_BATCH {
                break;
            }
        }

        let inputs = self.src.run_inputs(uid)?;
        if !inputs.is_empty() {
            let keyed: Vec<(String, serde_json::Value)> =
                inputs.into_iter().enumerate().map(|(i, v)| (input_key(&v, i), v)).collect();
            self.dst.add_run_inputs(uid, &keyed)?;
        }

        for a in self.src.artifacts(uid)? {
            let (info, mut reader) = self.src.open_artifact(uid, &a.path, None)?;
            self.dst.put_artifact_from(
                uid,
                &info.path,
                &mut reader,
                &format!("artifact {} of run {uid}", info.path),
            )?;
            self.report.artifacts += 1;
            self.report.artifact_bytes += info.size;
            self.at.bytes += info.size;
            self.tick()?;
        }

        if matches!(run.status, RunStatus::Finished | RunStatus::Failed | RunStatus::Killed) {
            self.dst.finish_run_at(uid, run.status, run.error.as_deref(), run.ended_ms)?;
        }
        if run.deleted {
            self.dst.delete_run(uid)?;
        }
        Ok(())
    }

    fn write_batch(&mut self, uid: &str, batch: Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let n = batch.point_count() as u64;
        let report = self.dst.log_batch(uid, &batch)?;
        if let Some(r) = report.rejected.first() {
            return Err(StoreError::invalid(
                "copied batch",
                format!("run {uid}: the destination refused {} `{}`: {}", r.what, r.key, r.reason),
            ));
        }
        self.report.points += n;
        self.at.points += n;
        self.tick()
    }

    // ---- A/Bs ----

    fn copy_abs(&mut self) -> Result<()> {
        for ab in self.src.list_abs(None)?.into_iter().rev() {
            self.at.item = ab.id.clone();
            let changed = record_ab(self.dst, &ab)?;
            if changed {
                self.report.abs_copied += 1;
                self.tick()?;
            }
        }
        Ok(())
    }

    // ---- logged models ----

    fn copy_logged_models(&mut self, runs: &[RunInfo]) -> Result<()> {
        for m in self.src.logged_models(&[])?.into_iter().rev() {
            self.at.item = m.id.clone();
            let mut changed = false;
            let have = match self.dst.logged_model(&m.id) {
                Ok(h) => h,
                Err(StoreError::NotFound { .. }) => {
                    let new = NewLoggedModel {
                        project: m.project.clone(),
                        name: m.name.clone(),
                        source_run: m.source_run.clone(),
                        model_type: m.model_type.clone(),
                        tags: m.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                        params: m.params.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    };
                    changed = true;
                    self.dst.create_logged_model_with_id(&m.id, &new, Some(m.created_ms))?
                }
                Err(e) => return Err(e),
            };
            if have.tags != m.tags {
                for k in have.tags.keys().filter(|k| !m.tags.contains_key(*k)) {
                    self.dst.delete_logged_model_tag(&m.id, k)?;
                }
                let tags: Vec<_> = m.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                self.dst.set_logged_model_tags(&m.id, &tags)?;
                changed = true;
            }
            if have.params != m.params {
                let params: Vec<_> = m.params.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                self.dst.log_logged_model_params(&m.id, &params)?;
                changed = true;
            }
            // Metrics: what the destination lacks, per key, step and run, in logging order.
            let mut seen: HashMap<(String, i64, Option<String>), usize> = HashMap::new();
            for x in &have.metrics {
                *seen.entry((x.key.clone(), x.step, x.run.clone())).or_default() += 1;
            }
            let mut missing: Vec<(Option<String>, ModelPoint)> = Vec::new();
            for x in &m.metrics {
                let n = seen.entry((x.key.clone(), x.step, x.run.clone())).or_default();
                if *n > 0 {
                    *n -= 1;
                } else {
                    missing.push((x.run.clone(), (x.key.clone(), x.value, x.step, x.wall_ms)));
                }
            }
            let mut i = 0;
            while i < missing.len() {
                let run = missing[i].0.clone();
                let mut group = Vec::new();
                while i < missing.len() && missing[i].0 == run {
                    group.push(missing[i].1.clone());
                    i += 1;
                }
                self.dst.log_model_metrics(&m.id, run.as_deref(), &group)?;
                changed = true;
            }
            let have_files = self.dst.model_artifacts(&m.id)?;
            for a in self.src.model_artifacts(&m.id)? {
                if have_files.iter().any(|h| h.path == a.path && h.hash == a.hash) {
                    continue;
                }
                let (info, mut reader) = self.src.open_model_artifact(&m.id, &a.path, None)?;
                let what = format!("artifact {} of logged model {}", info.path, m.id);
                self.dst.put_model_artifact_from(&m.id, &info.path, &mut reader, &what)?;
                self.report.artifacts += 1;
                self.report.artifact_bytes += info.size;
                self.at.bytes += info.size;
                changed = true;
            }
            if have.status != m.status || have.status_message != m.status_message {
                self.dst.finalize_logged_model(&m.id, m.status, m.status_message.as_deref())?;
                changed = true;
            } else if changed && m.status != ModelStatus::Pending {
                self.dst.finalize_logged_model(&m.id, m.status, m.status_message.as_deref())?;
            }
            if changed {
                self.report.logged_models_copied += 1;
                self.tick()?;
            }
        }
        // Run outputs, once the models are there.
        for run in runs {
            let want = self.src.model_outputs(&run.id)?;
            if want.is_empty() {
                continue;
            }
            let have = self.dst.model_outputs(&run.id)?;
            let missing: Vec<_> = want.into_iter().filter(|o| !have.contains(o)).collect();
            if !missing.is_empty() {
                self.dst.log_model_outputs(&run.id, &missing)?;
            }
        }
        Ok(())
    }

    // ---- the registry ----

    fn copy_registry(&mut self) -> Result<()> {
        for rm in self.src.registered_models()? {
            self.at.item = rm.name.clone();
            let want = self.src.model_versions(Some(&rm.name))?;
            if let Ok(have) = self.dst.registered_model(&rm.name) {
                let have_versions = self.dst.model_versions(Some(&rm.name))?;
                let same = have.description == rm.description
                    && have.tags == rm.tags
                    && have.aliases == rm.aliases
                    && want.len() == have_versions.len()
                    && want.iter().zip(&have_versions).all(|(a, b)| {
                        a.version == b.version
                            && a.source == b.source
                            && a.run == b.run
                            && a.logged_model == b.logged_model
                            && a.description == b.description
                            && a.stage == b.stage
                            && a.tags == b.tags
                    });
                if same {
                    continue;
                }
                self.dst.delete_registered_model(&rm.name)?;
            }
            let tags: Vec<_> = rm.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            self.dst.create_registered_model(&rm.name, rm.description.as_deref(), &tags)?;
            let mut next = 1;
            for v in &want {
                // Numbers of versions deleted on the source are taken and given back, so
                // every version keeps its number.
                while next < v.version {
                    let gap = NewModelVersion { name: rm.name.clone(), source: v.source.clone(), ..Default::default() };
                    let made = self.dst.create_model_version(&gap)?;
                    self.dst.delete_model_version(&rm.name, made.version)?;
                    next = made.version + 1;
                }
                let logged_model = match &v.logged_model {
                    Some(m) if self.dst.logged_model(m).is_err() => {
                        self.report.warnings.push(format!(
                            "version {} of {}: logged model {m} is deleted on the source; the copy does not name it",
                            v.version, rm.name
                        ));
                        None
                    }
                    other => other.clone(),
                };
                let new = NewModelVersion {
                    name: rm.name.clone(),
                    source: v.source.clone(),
                    run: v.run.clone(),
                    logged_model,
                    description: v.description.clone(),
                    tags: v.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                };
                let made = self.dst.create_model_version(&new)?;
                if made.stage != v.stage {
                    self.dst.transition_model_version_stage(&rm.name, made.version, &v.stage, false)?;
                }
                next = made.version + 1;
            }
            for (alias, version) in &rm.aliases {
                self.dst.set_model_alias(&rm.name, alias, *version)?;
            }
            self.report.registered_models_copied += 1;
            self.tick()?;
        }
        Ok(())
    }
}

/// Records A/B `ab` (read from another store) in `dst` with its id and creation time: created
/// when missing, its runs added where an arm lacks them, its end written when it has one that
/// differs. Its runs must be in `dst` already. True when anything was written. Shared by
/// `store copy`, the server's `trackbench push` route and `trackbench pull`.
pub fn record_ab(dst: &mut dyn Backend, ab: &crate::AbInfo) -> Result<bool> {
    let have = match dst.ab(&ab.id) {
        Ok(h) => Some(h),
        Err(StoreError::AbNotFound(_)) => None,
        Err(e) => return Err(e),
    };
    if have.is_none() {
        let new = NewAb {
            project: ab.project.clone(),
            name: ab.name.clone(),
            metric: ab.metric.clone(),
            direction: ab.direction.clone(),
            spec: ab.spec.clone(),
        };
        dst.create_ab_with_id(&ab.id, &new, Some(ab.created_ms))?;
    }
    let mut changed = have.is_none();
    for r in &ab.runs {
        if !have.as_ref().is_some_and(|h| h.runs.contains(r)) {
            dst.add_ab_run(&ab.id, r.arm, &r.run_id, r.seq)?;
            changed = true;
        }
    }
    let ended_same = have.as_ref().is_some_and(|h| {
        h.status == ab.status && h.result == ab.result && h.error == ab.error && h.ended_ms == ab.ended_ms
    });
    if ab.status.is_terminal() && ab.status != RunStatus::Crashed && !ended_same {
        dst.finish_ab_at(&ab.id, ab.status, ab.result.as_ref(), ab.error.as_deref(), ab.ended_ms)?;
        changed = true;
    }
    Ok(changed)
}

/// The key an input is recorded under on the destination: the MLflow server's rule (name and
/// digest of the dataset) when the input has them; otherwise its text and position. The
/// source's key is not readable through the seam; inputs are unique per run either way.
/// (`trackbench pull` records a server's inputs under the same keys.)
pub fn input_key(v: &serde_json::Value, i: usize) -> String {
    let ds = &v["dataset"];
    let text = match (ds["name"].as_str(), ds["digest"].as_str()) {
        (Some(name), Some(digest)) => format!("{name}\0{digest}"),
        _ => format!("{i}\0{v}"),
    };
    blake3::hash(text.as_bytes()).to_hex().to_string()
}

/// One metric value of a logged model: key, value, step, wall time.
type ModelPoint = (String, f64, i64, i64);

/// Everything a copied run must match, read through the seam: the test of "already copied".
#[derive(Debug, PartialEq)]
struct RunPrint {
    /// The run's record, its heartbeat and start time (a write's "now") zeroed, crashed read
    /// as running (both are stored so).
    info: RunInfo,
    tags: Vec<(String, String)>,
    params: Vec<(String, serde_json::Value)>,
    summary: Vec<(String, serde_json::Value)>,
    series: Vec<SeriesPrint>,
    log_lines: (u64, i64),
    inputs: Vec<serde_json::Value>,
    artifacts: Vec<(String, u64, String)>,
}

/// A series summary with its floats as bits (NaN equals NaN).
#[derive(Debug, PartialEq)]
struct SeriesPrint {
    key: String,
    count: i64,
    nan_count: i64,
    last_step: i64,
    bits: [Option<u64>; 4],
}

impl RunPrint {
    fn of(s: &dyn Backend, uid: &str) -> Result<RunPrint> {
        let mut info = s.run(uid)?;
        (info.heartbeat_ms, info.started_ms) = (0, 0);
        if info.status == RunStatus::Crashed {
            info.status = RunStatus::Running;
        }
        let series = s
            .metric_summaries(uid)?
            .into_iter()
            .map(|m| SeriesPrint {
                bits: [
                    Some(m.last.to_bits()),
                    m.min.map(f64::to_bits),
                    m.max.map(f64::to_bits),
                    m.sum.map(f64::to_bits),
                ],
                key: m.key,
                count: m.count,
                nan_count: m.nan_count,
                last_step: m.last_step,
            })
            .collect();
        Ok(RunPrint {
            info,
            tags: s.tags(uid)?,
            params: s.params(uid)?,
            summary: s.summary_values(uid)?,
            series,
            log_lines: count_log_lines(s, uid)?,
            inputs: s.run_inputs(uid)?,
            artifacts: s.artifacts(uid)?.into_iter().map(|a| (a.path, a.size, a.hash)).collect(),
        })
    }
}

/// How many log lines run `uid` has, and the last one's position.
fn count_log_lines(s: &dyn Backend, uid: &str) -> Result<(u64, i64)> {
    let (mut n, mut after) = (0u64, 0i64);
    loop {
        let lines = s.log_lines(uid, after, LOG_LINES_PER_BATCH)?;
        let Some(last) = lines.last() else { break };
        after = last.seq;
        n += lines.len() as u64;
        if lines.len() < LOG_LINES_PER_BATCH {
            break;
        }
    }
    Ok((n, after))
}

/// What a store holds, counted through the seam: what `trackbench doctor` prints on any
/// backend, and what both sides of a copy must agree on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StoreCounts {
    pub projects: u64,
    pub deleted_projects: u64,
    pub project_tags: u64,
    pub runs: u64,
    pub deleted_runs: u64,
    pub series: u64,
    pub points: u64,
    pub params: u64,
    pub tags: u64,
    pub summary_values: u64,
    pub log_lines: u64,
    pub inputs: u64,
    pub artifacts: u64,
    pub artifact_bytes: u64,
    pub abs: u64,
    pub ab_runs: u64,
    pub logged_models: u64,
    pub model_artifacts: u64,
    pub model_artifact_bytes: u64,
    pub registered_models: u64,
    pub model_versions: u64,
    pub model_aliases: u64,
}

impl StoreCounts {
    /// Each count with its name, in a fixed order (for tables).
    pub fn rows(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("projects", self.projects),
            ("deleted projects", self.deleted_projects),
            ("project tags", self.project_tags),
            ("runs", self.runs),
            ("deleted runs", self.deleted_runs),
            ("metric series", self.series),
            ("metric points", self.points),
            ("params", self.params),
            ("tags", self.tags),
            ("summary values", self.summary_values),
            ("log lines", self.log_lines),
            ("inputs", self.inputs),
            ("artifacts", self.artifacts),
            ("artifact bytes", self.artifact_bytes),
            ("A/Bs", self.abs),
            ("A/B runs", self.ab_runs),
            ("logged models", self.logged_models),
            ("model artifacts", self.model_artifacts),
            ("model artifact bytes", self.model_artifact_bytes),
            ("registered models", self.registered_models),
            ("model versions", self.model_versions),
            ("model aliases", self.model_aliases),
        ]
    }

    /// The counts that differ: (name, here, there).
    pub fn differences(&self, other: &StoreCounts) -> Vec<(&'static str, u64, u64)> {
        self.rows().into_iter().zip(other.rows()).filter(|(a, b)| a.1 != b.1).map(|(a, b)| (a.0, a.1, b.1)).collect()
    }
}

/// Counts everything in `s` (see [`StoreCounts`]): reads every run's summaries, tags, params,
/// log lines and artifact records, never a point.
pub fn counts(s: &dyn Backend) -> Result<StoreCounts> {
    let mut c = StoreCounts::default();
    for p in s.list_projects(true)? {
        c.projects += 1;
        c.deleted_projects += u64::from(p.deleted);
        c.project_tags += s.project_tags(p.id)?.len() as u64;
        let q = RunQuery { project: Some(p.name.clone()), include_deleted: true, ..RunQuery::default() };
        for r in s.list_runs(&q)? {
            c.runs += 1;
            c.deleted_runs += u64::from(r.deleted);
            for m in s.metric_summaries(&r.id)? {
                c.series += 1;
                c.points += m.count as u64;
            }
            c.params += s.params(&r.id)?.len() as u64;
            c.tags += s.tags(&r.id)?.len() as u64;
            c.summary_values += s.summary_values(&r.id)?.len() as u64;
            c.log_lines += count_log_lines(s, &r.id)?.0;
            c.inputs += s.run_inputs(&r.id)?.len() as u64;
            for a in s.artifacts(&r.id)? {
                c.artifacts += 1;
                c.artifact_bytes += a.size;
            }
        }
    }
    for ab in s.list_abs(None)? {
        c.abs += 1;
        c.ab_runs += ab.runs.len() as u64;
    }
    for m in s.logged_models(&[])? {
        c.logged_models += 1;
        for a in s.model_artifacts(&m.id)? {
            c.model_artifacts += 1;
            c.model_artifact_bytes += a.size;
        }
    }
    let registered = s.registered_models()?;
    c.registered_models = registered.len() as u64;
    c.model_aliases = registered.iter().map(|m| m.aliases.len() as u64).sum();
    c.model_versions = s.model_versions(None)?.len() as u64;
    Ok(c)
}

/// One line saying what a copy did.
pub fn summary_line(r: &CopyReport) -> String {
    let parts = [
        ("runs copied", r.runs_copied),
        ("of them copied again", r.runs_recopied),
        ("runs already there", r.runs_skipped),
        ("points", r.points),
        ("log lines", r.log_lines),
        ("artifacts", r.artifacts),
        ("artifact bytes", r.artifact_bytes),
        ("A/Bs", r.abs_copied),
        ("logged models", r.logged_models_copied),
        ("registered models", r.registered_models_copied),
    ];
    parts.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", ")
}
