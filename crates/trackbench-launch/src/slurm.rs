//! Slurm as a launch backend: a batch of jobs (one `launch`, a sweep, an A/B's interleaved
//! arms) becomes one job array submitted with `sbatch --parsable`, each array task one tracked
//! run. Only Slurm's standard commands are used (`sbatch`, `scontrol`, `sacct` where accounting
//! exists, `scancel`); no Slurm library is linked.
//!
//! The generated batch script is the whole truth of a submission: every option is an
//! `#SBATCH` line and task `i` runs `trackbench job-exec --run-id ID … -- COMMAND` (the task
//! agent), which creates run `ID` on the team server the launch came from (`TRACKBENCH_URL`,
//! plus `TRACKBENCH_TOKEN` passed through sbatch's environment, never written into the
//! script), captures the command's output into the run's logs, heartbeats, honours a cancel
//! and ends the run as the local launcher does. Run ids are chosen here at submission, so the
//! launcher follows task `i` through run `ID` without searching.
//!
//! [`SlurmQueue::run`] submits, then polls `scontrol show job` (or `sacct`) until every task
//! has ended, reporting the same [`Event`]s as the local [`crate::Queue`]. What the agent
//! cannot say itself is written here from Slurm's final state: a task that hit its time limit
//! (TIMEOUT), lost its node (NODE_FAIL: `crashed`), was cancelled (CANCELLED: `killed`) or
//! died before its run started (a failed run with Slurm's reason and the tail of its output
//! file). A task cancelled while still pending never started, so it gets no run, as a local
//! job cancelled while queued.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use trackbench_store::prelude::*;
use trackbench_store::{Batch, LogLine, NewRun, RunInfo, RunStatus, StoreError, Stream};

use crate::{CancelToken, Event, Job, JobResult, LaunchError, Timings};

/// Tag on a Slurm task's run: `JOBID_TASK`, what `scancel` takes.
pub const JOB_TAG: &str = "slurm.job";
/// Tag on a Slurm task's run: Slurm's final state of the task (`COMPLETED`, `TIMEOUT`…).
pub const STATE_TAG: &str = "slurm.state";

/// How jobs are submitted to Slurm.
#[derive(Debug, Clone)]
pub struct SlurmOptions {
    pub partition: Option<String>,
    /// GPUs per task (`--gpus`).
    pub gpus: Option<u32>,
    /// Time limit per task, as Slurm takes it (`HH:MM:SS`, `MM:SS`, minutes, `D-HH:MM:SS`).
    pub time: Option<String>,
    /// Further `sbatch` options, each one argument (`--mem=4G`, `--qos=long`).
    pub extra: Vec<String>,
    /// Tasks of the array running at once (`--array=…%N`); all when `None`.
    pub max_parallel: Option<usize>,
    /// The Trackbench server the tasks log to (`TRACKBENCH_URL` on the nodes).
    pub server: String,
    /// The server's own token: the tasks never get it, but a job token minted from it for
    /// this submission's runs only ([`crate::jobtoken`]), given to sbatch through its
    /// environment (`TRACKBENCH_TOKEN` on the nodes) and revoked run by run as tasks end.
    pub token: Option<String>,
    /// The `trackbench` executable as the nodes see it (a shared filesystem's path).
    pub trackbench: PathBuf,
    /// `--job-name`.
    pub job_name: String,
    /// How often the array's state is read.
    pub poll: Duration,
    /// Extra environment for the Slurm commands themselves (`SLURM_CONF` in tests).
    pub slurm_env: Vec<(String, String)>,
}

impl SlurmOptions {
    pub fn new(server: impl Into<String>, trackbench: impl Into<PathBuf>) -> SlurmOptions {
        SlurmOptions {
            partition: None,
            gpus: None,
            time: None,
            extra: Vec::new(),
            max_parallel: None,
            server: server.into(),
            token: None,
            trackbench: trackbench.into(),
            job_name: "trackbench".into(),
            poll: Duration::from_millis(500),
            slurm_env: Vec::new(),
        }
    }

    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.envs(self.slurm_env.iter().map(|(k, v)| (k, v))).stdin(Stdio::null());
        c
    }

    /// Runs a Slurm command; its stdout, or an error carrying Slurm's own message.
    fn output(&self, program: &str, args: &[&str]) -> Result<String, LaunchError> {
        let out = self.command(program).args(args).output().map_err(|e| spawn_error(program, e))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            let err = if err.trim().is_empty() { String::from_utf8_lossy(&out.stdout) } else { err };
            Err(LaunchError::Slurm(format!("`{program} {}` failed: {}", args.join(" "), err.trim())))
        }
    }

    /// Checks, before anything is created, that the controller answers and would take a job
    /// with these options (`sbatch --test-only`: an unknown partition, GPUs the nodes do not
    /// have, a time over the partition's limit are refused here with Slurm's own message).
    pub fn check_reachable(&self) -> Result<(), LaunchError> {
        let out = self
            .output("scontrol", &["ping"])
            .map_err(|e| LaunchError::Slurm(format!("the Slurm controller is not reachable: {e}")))?;
        if !out.contains("is UP") {
            return Err(LaunchError::Slurm(format!("the Slurm controller is not reachable: {}", out.trim())));
        }
        let probe = Task { job: Job::new("probe", "true", Vec::new()), run_id: "probe".into() };
        let script = batch_script(std::slice::from_ref(&probe), self);
        let file = write_script(&script)?;
        let mut cmd = self.command("sbatch");
        cmd.arg("--test-only").arg(file.path());
        let out = cmd.output().map_err(|e| spawn_error("sbatch", e))?;
        if out.status.success() {
            Ok(())
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            Err(LaunchError::Slurm(format!("sbatch refused the job: {}", err.trim())))
        }
    }
}

/// One task of an array: the job and the id its run will have.
#[derive(Debug, Clone)]
pub struct Task {
    pub job: Job,
    pub run_id: String,
}

fn quote(s: &str) -> String {
    crate::job::shell_quote(s)
}

/// The batch script for `tasks` (array index = position).
pub fn batch_script(tasks: &[Task], opts: &SlurmOptions) -> String {
    let mut s = String::from("#!/bin/sh\n");
    s.push_str("# Written by trackbench (launch --on slurm): array task i runs job i below as run ID\n");
    s.push_str("# through the task agent, which logs it to TRACKBENCH_URL. TRACKBENCH_TOKEN comes from\n");
    s.push_str("# sbatch's environment and is not written here.\n");
    let mut sbatch = |line: String| {
        s.push_str("#SBATCH ");
        s.push_str(&line);
        s.push('\n');
    };
    sbatch(format!("--job-name={}", quote(&opts.job_name)));
    let last = tasks.len().saturating_sub(1);
    sbatch(match opts.max_parallel {
        Some(n) => format!("--array=0-{last}%{}", n.max(1)),
        None => format!("--array=0-{last}"),
    });
    if let Some(p) = &opts.partition {
        sbatch(format!("--partition={}", quote(p)));
    }
    if let Some(g) = opts.gpus {
        sbatch(format!("--gpus={g}"));
    }
    if let Some(t) = &opts.time {
        sbatch(format!("--time={}", quote(t)));
    }
    if let Some(dir) = tasks.first().and_then(|t| t.job.cwd.as_ref()) {
        sbatch(format!("--output={}", quote(&dir.join("slurm-%A_%a.out").display().to_string())));
    }
    for a in &opts.extra {
        sbatch(quote(a));
    }
    s.push_str(&format!("\nexport TRACKBENCH_URL={}\n", quote(&opts.server)));
    // The agent stores this script (Slurm's copy on the node) with the run.
    s.push_str("export TRACKBENCH_SLURM_SCRIPT=\"$0\"\n");
    s.push_str("case \"$SLURM_ARRAY_TASK_ID\" in\n");
    let bin = quote(&opts.trackbench.display().to_string());
    for (i, t) in tasks.iter().enumerate() {
        let j = &t.job;
        let mut args = vec!["job-exec".to_string(), "--run-id".into(), t.run_id.clone()];
        args.extend(["--project".into(), j.project.clone()]);
        if let Some(n) = &j.name {
            args.extend(["--name".into(), n.clone()]);
        }
        if let Some(g) = &j.group {
            args.extend(["--group".into(), g.clone()]);
        }
        if let Some(d) = &j.cwd {
            args.extend(["--cwd".into(), d.display().to_string()]);
        }
        for (k, v) in &j.tags {
            args.extend(["--tag".into(), format!("{k}={v}")]);
        }
        for (k, v) in &j.env {
            args.extend(["--env".into(), format!("{k}={v}")]);
        }
        args.push("--".into());
        args.push(j.program.clone());
        args.extend(j.args.iter().cloned());
        let line: Vec<String> = args.iter().map(|a| quote(a)).collect();
        s.push_str(&format!("{i}) exec {bin} {} ;;\n", line.join(" ")));
    }
    s.push_str("*) echo \"trackbench: this array has no task $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;\nesac\n");
    s
}

/// Slurm's state of one array task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskState {
    pub task: usize,
    /// `PENDING`, `RUNNING`, `COMPLETED`, `FAILED`, `TIMEOUT`, `CANCELLED`, `NODE_FAIL`…
    pub state: String,
    pub reason: Option<String>,
    /// `ExitCode=CODE:SIGNAL`.
    pub exit: Option<(i32, i32)>,
    pub stdout: Option<String>,
}

impl TaskState {
    pub fn is_terminal(&self) -> bool {
        !matches!(
            self.state.as_str(),
            "PENDING"
                | "RUNNING"
                | "CONFIGURING"
                | "COMPLETING"
                | "SUSPENDED"
                | "REQUEUED"
                | "RESIZING"
                | "STAGE_OUT"
                | "SIGNALING"
                | "RESV_DEL_HOLD"
                | "REQUEUE_FED"
                | "REQUEUE_HOLD"
        )
    }

    /// The run status and reason this final state means when the agent could not end the
    /// run itself; `None` where the agent's own ending stands (the command's exit).
    pub fn run_outcome(&self, time: Option<&str>) -> Option<(RunStatus, String)> {
        let limit = time.map(|t| format!(" (--time {t})")).unwrap_or_default();
        Some(match self.state.as_str() {
            "COMPLETED" | "FAILED" => return None,
            "TIMEOUT" | "DEADLINE" => (RunStatus::Failed, format!("timed out: the task reached its time limit{limit}")),
            "CANCELLED" => (RunStatus::Killed, "cancelled (scancel)".into()),
            "NODE_FAIL" => (RunStatus::Crashed, "its node failed (Slurm NODE_FAIL)".into()),
            "BOOT_FAIL" => (RunStatus::Crashed, "its node did not boot (Slurm BOOT_FAIL)".into()),
            "OUT_OF_MEMORY" => (RunStatus::Failed, "out of memory (Slurm OUT_OF_MEMORY)".into()),
            "PREEMPTED" => (RunStatus::Killed, "preempted by Slurm".into()),
            other => (RunStatus::Failed, format!("ended by Slurm as {other}")),
        })
    }
}

/// Parses `scontrol -o show job JOBID` for an array: one line per task, or per range of
/// pending tasks (`ArrayTaskId=2-5%2`, `ArrayTaskId=4,6`).
pub fn parse_scontrol(text: &str) -> Vec<TaskState> {
    let mut out = Vec::new();
    for line in text.lines() {
        let fields: HashMap<&str, &str> = line.split_whitespace().filter_map(|f| f.split_once('=')).collect();
        let (Some(ids), Some(state)) = (fields.get("ArrayTaskId"), fields.get("JobState")) else { continue };
        let reason = fields.get("Reason").filter(|r| **r != "None").map(|r| r.to_string());
        let exit = fields.get("ExitCode").and_then(|e| {
            let (c, s) = e.split_once(':')?;
            Some((c.parse().ok()?, s.parse().ok()?))
        });
        let stdout = fields.get("StdOut").map(|s| s.to_string());
        for task in expand_ids(ids) {
            out.push(TaskState {
                task,
                state: state.to_string(),
                reason: reason.clone(),
                exit,
                stdout: stdout.clone(),
            });
        }
    }
    out
}

/// `3`, `2-5%2`, `4,6,8-9` → task indices.
fn expand_ids(ids: &str) -> Vec<usize> {
    let ids = ids.split('%').next().unwrap_or_default();
    let mut out = Vec::new();
    for part in ids.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                    out.extend(a..=b);
                }
            }
            None => out.extend(part.parse::<usize>().ok()),
        }
    }
    out
}

/// Parses `sacct -n -P -X -o JobID,State,ExitCode,Reason -j JOBID` (accounting clusters).
pub fn parse_sacct(text: &str) -> Vec<TaskState> {
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('|').collect();
        if f.len() < 3 {
            continue;
        }
        let Some((_, ids)) = f[0].split_once('_') else { continue };
        let ids = ids.trim_start_matches('[').trim_end_matches(']');
        // `CANCELLED by 0` → `CANCELLED`.
        let state = f[1].split_whitespace().next().unwrap_or_default().to_string();
        let exit = f[2].split_once(':').and_then(|(c, s)| Some((c.parse().ok()?, s.parse().ok()?)));
        let reason = f.get(3).filter(|r| !r.is_empty() && **r != "None").map(|r| r.to_string());
        for task in expand_ids(ids) {
            out.push(TaskState { task, state: state.clone(), reason: reason.clone(), exit, stdout: None });
        }
    }
    out
}

fn spawn_error(program: &str, e: std::io::Error) -> LaunchError {
    match e.kind() {
        std::io::ErrorKind::NotFound => LaunchError::Slurm(format!(
            "`{program}` is not on PATH: the Slurm client commands are needed on this machine"
        )),
        _ => LaunchError::Io { context: format!("running {program}"), source: e },
    }
}

/// `script` in a temporary file (removed when dropped).
fn write_script(script: &str) -> Result<tempfile::NamedTempFile, LaunchError> {
    let io = |source| LaunchError::Io { context: "writing the batch script".into(), source };
    let mut file = tempfile::Builder::new().prefix("trackbench-slurm-").suffix(".sh").tempfile().map_err(io)?;
    std::io::Write::write_all(&mut file, script.as_bytes()).map_err(io)?;
    Ok(file)
}

/// A submitted array.
#[derive(Debug, Clone)]
pub struct Submitted {
    pub job_id: String,
    pub script: String,
    /// Task `i`'s run id (its run exists once the task's agent has started).
    pub run_ids: Vec<String>,
    /// The store's clock at submission (Unix ms), for the submit-to-start latency.
    pub at_ms: i64,
}

/// Submits `tasks` as one array; returns its job id. Nothing is created in the store.
pub fn submit(tasks: &[Task], opts: &SlurmOptions) -> Result<(String, String), LaunchError> {
    if tasks.is_empty() {
        return Err(LaunchError::Invalid { what: "Slurm array", why: "no jobs to submit".into() });
    }
    let script = batch_script(tasks, opts);
    let file = write_script(&script)?;
    let mut cmd = opts.command("sbatch");
    cmd.arg("--parsable").arg(file.path());
    if let Some(dir) = tasks[0].job.cwd.as_ref() {
        cmd.current_dir(dir);
    }
    match &opts.token {
        Some(t) => cmd.env("TRACKBENCH_TOKEN", t),
        None => cmd.env_remove("TRACKBENCH_TOKEN"),
    };
    cmd.env_remove("TRACKBENCH_RUN_ID").env_remove("TRACKBENCH_DIR");
    let out = cmd.output().map_err(|e| spawn_error("sbatch", e))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(LaunchError::Slurm(format!("sbatch refused the job: {}", err.trim())));
    }
    let id = stdout.trim().split(';').next().unwrap_or_default().to_string();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(LaunchError::Slurm(format!("sbatch answered no job id: {}", stdout.trim())));
    }
    Ok((id, script))
}

/// Slurm's state of every task of array `job_id`: from `scontrol`, or from `sacct` once the
/// controller has forgotten the job (accounting clusters keep it).
pub fn array_state(job_id: &str, opts: &SlurmOptions) -> Result<Vec<TaskState>, LaunchError> {
    match opts.output("scontrol", &["-o", "show", "job", job_id]) {
        Ok(text) => Ok(parse_scontrol(&text)),
        Err(e) => match opts.output("sacct", &["-n", "-P", "-X", "-o", "JobID,State,ExitCode,Reason", "-j", job_id]) {
            Ok(text) if !text.trim().is_empty() => Ok(parse_sacct(&text)),
            _ => Err(e),
        },
    }
}

/// Cancels array `job_id` whole, or one task of it.
pub fn scancel(job_id: &str, task: Option<usize>, opts: &SlurmOptions) -> Result<(), LaunchError> {
    let target = match task {
        Some(t) => format!("{job_id}_{t}"),
        None => job_id.to_string(),
    };
    opts.output("scancel", &[&target]).map(drop)
}

/// How long a job token lives at most (a task still queued after a week needs a new launch);
/// each run's token access ends earlier, when its task ends.
const TOKEN_LIFE_MS: i64 = 7 * 24 * 3600 * 1000;

/// Jobs to run as one Slurm array, with a cancel token each.
pub struct SlurmQueue {
    jobs: Vec<(Job, CancelToken)>,
    opts: SlurmOptions,
}

impl SlurmQueue {
    pub fn new(opts: SlurmOptions) -> SlurmQueue {
        SlurmQueue { jobs: Vec::new(), opts }
    }

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

    /// Submits the array (nothing is created when Slurm refuses it: the error carries Slurm's
    /// message) and follows it to its end; `on_event` sees each start and end, as with the
    /// local queue. `on_submit` gets the array's job id and script once submitted.
    pub fn run(
        self,
        store: &mut dyn Backend,
        on_submit: impl FnOnce(&Submitted),
        mut on_event: impl FnMut(&Job, &Event, &mut dyn Backend),
    ) -> Result<Vec<JobResult>, LaunchError> {
        let opts = self.opts;
        let at_ms = store.now();
        // The tasks' runs share a scope, which their job token reaches (and nothing else).
        let scope = trackbench_store::new_run_id();
        let mut tasks: Vec<Task> = Vec::with_capacity(self.jobs.len());
        for (job, _) in &self.jobs {
            let mut job = job.clone();
            if job.cwd.is_none() {
                job.cwd = std::env::current_dir().ok();
            }
            job.tags.push((crate::jobtoken::SCOPE_TAG.into(), scope.clone()));
            tasks.push(Task { job, run_id: trackbench_store::new_run_id() });
        }
        let mut submit_opts = opts.clone();
        submit_opts.token =
            opts.token.as_ref().map(|secret| crate::jobtoken::mint(secret, &scope, at_ms + TOKEN_LIFE_MS));
        let (job_id, script) = submit(&tasks, &submit_opts)?;
        let run_ids = tasks.iter().map(|t| t.run_id.clone()).collect();
        let submitted = Submitted { job_id: job_id.clone(), script, run_ids, at_ms };
        on_submit(&submitted);
        let follow = Follow { store, opts: &opts, tasks: &tasks, submitted: &submitted };
        Ok(follow.run(&self.jobs, &mut on_event))
    }
}

struct Follow<'a> {
    store: &'a mut dyn Backend,
    opts: &'a SlurmOptions,
    tasks: &'a [Task],
    submitted: &'a Submitted,
}

impl Follow<'_> {
    fn run(
        mut self,
        jobs: &[(Job, CancelToken)],
        on_event: &mut dyn FnMut(&Job, &Event, &mut dyn Backend),
    ) -> Vec<JobResult> {
        let n = self.tasks.len();
        let mut results: Vec<Option<JobResult>> = vec![None; n];
        let mut started = vec![false; n];
        let mut cancelled = vec![false; n];
        let mut all_cancelled = false;
        let mut last_error: Option<(Instant, String)> = None;
        let job_id = self.submitted.job_id.clone();
        while results.iter().any(Option::is_none) {
            if crate::signals::interrupted() && !all_cancelled {
                all_cancelled = true;
                if let Err(e) = scancel(&job_id, None, self.opts) {
                    tracing::warn!("cancelling Slurm job {job_id}: {e}");
                }
            }
            for (i, (_, token)) in jobs.iter().enumerate() {
                if token.is_cancelled() && !cancelled[i] && results[i].is_none() {
                    cancelled[i] = true;
                    if let Err(e) = scancel(&job_id, Some(i), self.opts) {
                        tracing::warn!("cancelling Slurm task {job_id}_{i}: {e}");
                    }
                }
            }
            let states = match array_state(&job_id, self.opts) {
                Ok(s) => s,
                Err(e) => {
                    // A controller that stops answering for a while is waited for; for good, given up.
                    let since = last_error.get_or_insert_with(|| (Instant::now(), String::new())).0;
                    if since.elapsed() > Duration::from_secs(120) {
                        for i in 0..n {
                            if results[i].is_none() {
                                let why = format!("lost track of Slurm job {job_id}_{i}: {e}");
                                let r = self.end_unknown(i, &why);
                                on_event(&jobs[i].0, &Event::Done { index: i, result: r.clone() }, &mut *self.store);
                                results[i] = Some(r);
                            }
                        }
                        break;
                    }
                    std::thread::sleep(self.opts.poll);
                    continue;
                }
            };
            last_error = None;
            let by_task: HashMap<usize, &TaskState> = states.iter().map(|s| (s.task, s)).collect();
            for i in 0..n {
                if results[i].is_some() {
                    continue;
                }
                let Some(state) = by_task.get(&i) else { continue };
                let run = self.store.run(&self.tasks[i].run_id).ok();
                if !started[i] && (run.is_some() || state.state == "RUNNING") {
                    started[i] = true;
                    on_event(&jobs[i].0, &Event::Started { index: i }, &mut *self.store);
                }
                if state.is_terminal() {
                    let r = self.finish_task(i, state, run, cancelled[i] || all_cancelled);
                    if !started[i] && r.run_id.is_some() {
                        started[i] = true;
                        on_event(&jobs[i].0, &Event::Started { index: i }, &mut *self.store);
                    }
                    on_event(&jobs[i].0, &Event::Done { index: i, result: r.clone() }, &mut *self.store);
                    results[i] = Some(r);
                }
            }
            if results.iter().any(Option::is_none) {
                std::thread::sleep(self.opts.poll);
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| JobResult::not_started(RunStatus::Failed, "lost".into())))
            .collect()
    }

    /// Task `i` has ended in Slurm: its run as the agent left it, completed from Slurm's state
    /// where the agent could not end it, or created (failed) when it never started.
    fn finish_task(&mut self, i: usize, state: &TaskState, run: Option<RunInfo>, cancelled: bool) -> JobResult {
        let id = self.tasks[i].run_id.clone();
        let slurm_job = format!("{}_{i}", self.submitted.job_id);
        let exit_code = state.exit.map(|(c, _)| c);
        let signal = state.exit.map(|(_, s)| s).filter(|s| *s != 0);
        let run = match run {
            Some(r) => r,
            None if state.state == "CANCELLED" || cancelled => {
                return JobResult {
                    exit_code,
                    signal,
                    ..JobResult::not_started(RunStatus::Killed, format!("cancelled before it started ({slurm_job})"))
                };
            }
            None => return self.never_started(i, state),
        };
        // The task has ended: its job token no longer reaches the run.
        let tags = vec![
            (STATE_TAG.to_string(), state.state.clone()),
            (crate::jobtoken::REVOKED_TAG.to_string(), "1".to_string()),
        ];
        if let Err(e) = self.store.log_batch(&id, &Batch { tags, ..Batch::default() }) {
            tracing::warn!(run = %id, "tagging the run with its Slurm state: {e}");
        }
        let (mut status, mut error) = (run.status, run.error.clone());
        let outcome = state.run_outcome(self.opts.time.as_deref());
        // The agent's ending stands unless Slurm ended the task from outside (time limit, node,
        // scancel); a run the agent left running (killed with its node) ends here too.
        match outcome {
            Some((s, why)) => {
                status = s;
                error = Some(why);
            }
            None if !run.status.is_terminal() || run.status == RunStatus::Crashed => {
                status = if state.state == "COMPLETED" { RunStatus::Finished } else { RunStatus::Failed };
                if status == RunStatus::Failed {
                    error = Some(format!("the task agent ended without ending its run (Slurm {})", state.state));
                }
            }
            None => {}
        }
        if (status, &error) != (run.status, &run.error)
            && let Err(e) = self.store.finish_run(&id, status, error.as_deref())
        {
            tracing::warn!(run = %id, "recording the Slurm outcome: {e}");
        }
        let latency = Duration::from_millis((run.started_ms - self.submitted.at_ms).max(0) as u64);
        let ran = run.ended_ms.map(|e| Duration::from_millis((e - run.started_ms).max(0) as u64));
        JobResult {
            run_id: Some(id.clone()),
            status,
            exit_code,
            signal,
            error: error.filter(|_| status != RunStatus::Finished),
            lines: 0,
            timings: Timings {
                launch_to_start: latency,
                exit_to_recorded: Duration::ZERO,
                run: ran.unwrap_or_default(),
            },
        }
    }

    /// A task that ended before its agent created the run: a failed run says why, with the
    /// tail of the task's output file (where the shell or Slurm wrote the cause).
    fn never_started(&mut self, i: usize, state: &TaskState) -> JobResult {
        let slurm_job = format!("{}_{i}", self.submitted.job_id);
        let code = state.exit.map(|(c, _)| format!(" (exit {c})")).unwrap_or_default();
        let reason = state.reason.as_ref().map(|r| format!(", {r}")).unwrap_or_default();
        let tail = state.stdout.as_deref().map(|p| output_tail(Path::new(p), 20)).unwrap_or_default();
        let last = tail.iter().rev().find(|l| !l.trim().is_empty()).map(|l| format!(": {l}")).unwrap_or_default();
        let why = format!("Slurm job {slurm_job} ended {}{code}{reason} before its run started{last}", state.state);
        let status = match state.state.as_str() {
            "NODE_FAIL" | "BOOT_FAIL" => RunStatus::Crashed,
            _ => RunStatus::Failed,
        };
        let result = self.create_ended(i, status, &why, tail, Some(state.state.clone()));
        JobResult {
            run_id: result,
            status,
            exit_code: state.exit.map(|(c, _)| c),
            signal: state.exit.map(|(_, s)| s).filter(|s| *s != 0),
            error: Some(why),
            lines: 0,
            timings: Timings::default(),
        }
    }

    fn end_unknown(&mut self, i: usize, why: &str) -> JobResult {
        let created = match self.store.run(&self.tasks[i].run_id) {
            Ok(r) if r.status.is_terminal() && r.status != RunStatus::Crashed => Some(r.id),
            Ok(r) => {
                let _ = self.store.finish_run(&r.id, RunStatus::Failed, Some(why));
                Some(r.id)
            }
            Err(_) => self.create_ended(i, RunStatus::Failed, why, Vec::new(), None),
        };
        JobResult { run_id: created, ..JobResult::not_started(RunStatus::Failed, why.to_string()) }
    }

    /// Creates task `i`'s run already ended (`status`, `why`), with `lines` as its output.
    fn create_ended(
        &mut self,
        i: usize,
        status: RunStatus,
        why: &str,
        lines: Vec<String>,
        state: Option<String>,
    ) -> Option<String> {
        let task = &self.tasks[i];
        let job = &task.job;
        let mut tags = job.tags.clone();
        tags.push(("launch.backend".into(), "slurm".into()));
        tags.push((JOB_TAG.into(), format!("{}_{i}", self.submitted.job_id)));
        if let Some(s) = state {
            tags.push((STATE_TAG.into(), s));
        }
        tags.push((crate::jobtoken::REVOKED_TAG.into(), "1".into()));
        let new = NewRun {
            project: job.project.clone(),
            name: job.name.clone(),
            group: job.group.clone(),
            tags,
            command: Some(job.command_line()),
            env: Some(serde_json::json!({
                "launcher": "trackbench-launch",
                "backend": "slurm",
                "cwd": job.cwd.as_ref().map(|d| d.display().to_string()),
                "slurm": { "job": format!("{}_{i}", self.submitted.job_id), "script": self.submitted.script },
            })),
            ..NewRun::default()
        };
        let made = (|| -> Result<String, StoreError> {
            let run = self.store.create_run_with_id(&task.run_id, &new)?;
            if !lines.is_empty() {
                let now = self.store.now();
                let log_lines =
                    lines.into_iter().map(|line| LogLine { stream: Stream::Stderr, ts_ms: now, line }).collect();
                self.store.log_batch(&run.id, &Batch { log_lines, ..Batch::default() })?;
            }
            self.store.finish_run(&run.id, status, Some(why))?;
            Ok(run.id)
        })();
        match made {
            Ok(id) => Some(id),
            Err(e) => {
                tracing::warn!("recording Slurm task {}_{i} that never started: {e}", self.submitted.job_id);
                None
            }
        }
    }
}

/// The last `n` lines of a task's output file (empty when unreadable here).
fn output_tail(path: &Path, n: usize) -> Vec<String> {
    let Ok(bytes) = std::fs::read(path) else { return Vec::new() };
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].iter().map(|l| l.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scontrol_lines_expand_to_tasks() {
        let text = "JobId=12 ArrayJobId=10 ArrayTaskId=2 JobName=t JobState=RUNNING Reason=None ExitCode=0:0 StdOut=/w/slurm-10_2.out\n\
                    JobId=10 ArrayJobId=10 ArrayTaskId=3-5%2 JobName=t JobState=PENDING Reason=JobArrayTaskLimit ExitCode=0:0\n\
                    JobId=11 ArrayJobId=10 ArrayTaskId=1 JobName=t JobState=FAILED Reason=NonZeroExitCode ExitCode=127:0\n\
                    JobId=13 ArrayJobId=10 ArrayTaskId=0 JobName=t JobState=CANCELLED Reason=None ExitCode=0:15\n";
        let s = parse_scontrol(text);
        let tasks: Vec<(usize, &str)> = s.iter().map(|t| (t.task, t.state.as_str())).collect();
        assert_eq!(
            tasks,
            [(2, "RUNNING"), (3, "PENDING"), (4, "PENDING"), (5, "PENDING"), (1, "FAILED"), (0, "CANCELLED")]
        );
        assert_eq!(s[0].stdout.as_deref(), Some("/w/slurm-10_2.out"));
        assert_eq!(s[1].reason.as_deref(), Some("JobArrayTaskLimit"));
        assert_eq!(s[4].exit, Some((127, 0)));
        assert_eq!(s[5].exit, Some((0, 15)));
        assert!(!s[0].is_terminal() && !s[1].is_terminal() && s[4].is_terminal() && s[5].is_terminal());
        assert_eq!(expand_ids("4,6,8-9"), [4, 6, 8, 9]);
    }

    #[test]
    fn sacct_lines_expand_to_tasks() {
        let s =
            parse_sacct("7_0|COMPLETED|0:0|None\n7_1|CANCELLED by 0|0:15|\n7_[2-3%1]|PENDING|0:0|JobArrayTaskLimit\n");
        let tasks: Vec<(usize, &str)> = s.iter().map(|t| (t.task, t.state.as_str())).collect();
        assert_eq!(tasks, [(0, "COMPLETED"), (1, "CANCELLED"), (2, "PENDING"), (3, "PENDING")]);
    }

    #[test]
    fn final_states_map_onto_run_statuses() {
        let st = |s: &str| TaskState { task: 0, state: s.into(), reason: None, exit: None, stdout: None };
        assert_eq!(st("COMPLETED").run_outcome(None), None);
        assert_eq!(st("FAILED").run_outcome(None), None);
        let (s, why) = st("TIMEOUT").run_outcome(Some("00:01:00")).unwrap();
        assert_eq!(s, RunStatus::Failed);
        assert!(why.starts_with("timed out") && why.contains("00:01:00"), "{why}");
        assert_eq!(st("NODE_FAIL").run_outcome(None).unwrap().0, RunStatus::Crashed);
        assert_eq!(st("CANCELLED").run_outcome(None).unwrap().0, RunStatus::Killed);
    }

    #[test]
    fn the_batch_script_quotes_every_argument_and_keeps_the_token_out() {
        let mut job = Job::new("p", "python", vec!["train.py".into(), "--note".into(), "it's $HOME; rm -rf /".into()]);
        job.cwd = Some(PathBuf::from("/work/dir with space"));
        job.tags.push(("ab.arm".into(), "a".into()));
        let tasks = vec![
            Task { job: job.clone(), run_id: "r0".into() },
            Task { job: Job { name: Some("second".into()), ..job }, run_id: "r1".into() },
        ];
        let mut opts = SlurmOptions::new("http://10.0.0.1:5005", "/shared/bin/trackbench");
        opts.token = Some("secret-token".into());
        opts.max_parallel = Some(2);
        opts.partition = Some("gpu".into());
        opts.time = Some("00:10:00".into());
        opts.extra = vec!["--mem=4G".into()];
        let s = batch_script(&tasks, &opts);
        assert!(s.contains("#SBATCH --array=0-1%2\n"), "{s}");
        assert!(s.contains("#SBATCH --partition=gpu\n#SBATCH --time=00:10:00\n"), "{s}");
        assert!(s.contains("#SBATCH --output='/work/dir with space/slurm-%A_%a.out'\n"), "{s}");
        assert!(s.contains("#SBATCH --mem=4G\n"), "{s}");
        assert!(s.contains("export TRACKBENCH_URL=http://10.0.0.1:5005\n"), "{s}");
        assert!(s.contains("0) exec /shared/bin/trackbench job-exec --run-id r0 --project p --cwd '/work/dir with space' --tag ab.arm=a -- python train.py --note 'it'\\''s $HOME; rm -rf /' ;;"), "{s}");
        assert!(s.contains("1) exec /shared/bin/trackbench job-exec --run-id r1 --project p --name second"), "{s}");
        assert!(!s.contains("secret-token"), "the token stays out of the script: {s}");
        // The script is valid shell.
        let check = Command::new("sh").arg("-n").arg("-c").arg(&s).status().unwrap();
        assert!(check.success());
    }
}
