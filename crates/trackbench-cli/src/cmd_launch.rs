//! `trackbench launch` and `trackbench cancel`: one command as a tracked run on a local device
//! (crate `trackbench-launch` does the work), and cancelling a launched run from elsewhere.
//! Also what `sweep` and `ab` share: the job flags, launcher options and the progress display.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use trackbench_launch::slurm::{SlurmOptions, SlurmQueue};
use trackbench_launch::{Devices, Event, Job, JobResult, LaunchOptions, Limits, Queue, reap_orphans};
use trackbench_store::prelude::*;
use trackbench_store::{RunStatus, Store, Stream};

use crate::{Ctx, output};

/// Where jobs run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum On {
    /// This machine's devices, through per-device queues
    Local,
    /// One job array on a Slurm cluster, its tasks logging to a Trackbench server
    Slurm,
}

/// The Slurm backend's flags (`--on slurm`).
#[derive(Args, Clone, Default)]
#[command(next_help_heading = "Slurm (--on slurm)")]
pub struct SlurmArgs {
    /// Slurm partition [default: the cluster's default]
    #[arg(long)]
    pub partition: Option<String>,
    /// GPUs per task (sbatch --gpus)
    #[arg(long, value_name = "N")]
    pub gpus: Option<u32>,
    /// Time limit per task, HH:MM:SS (a task past it ends failed, timed out)
    #[arg(long, value_name = "HH:MM:SS")]
    pub time: Option<String>,
    /// A further sbatch option, e.g. --slurm-arg=--mem=4G (repeatable)
    #[arg(long = "slurm-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub slurm_args: Vec<String>,
    /// Tasks of the array running at once (the array's %N) [default: no cap]
    #[arg(long, value_name = "N")]
    pub max_parallel: Option<usize>,
    /// The Trackbench server the tasks log to; it must serve this store [env: TRACKBENCH_URL]
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// The trackbench executable as the nodes see it [default: this one's path]
    #[arg(long, value_name = "PATH")]
    pub node_trackbench: Option<PathBuf>,
}

impl SlurmArgs {
    fn given(&self) -> Option<&'static str> {
        [
            (self.partition.is_some(), "--partition"),
            (self.gpus.is_some(), "--gpus"),
            (self.time.is_some(), "--time"),
            (!self.slurm_args.is_empty(), "--slurm-arg"),
            (self.max_parallel.is_some(), "--max-parallel"),
            (self.server.is_some(), "--server"),
            (self.node_trackbench.is_some(), "--node-trackbench"),
        ]
        .into_iter()
        .find_map(|(given, flag)| given.then_some(flag))
    }

    /// The backend's options; checks the server answers before anything is submitted.
    pub fn options(&self, job_name: &str) -> anyhow::Result<SlurmOptions> {
        let server = self
            .server
            .clone()
            .or_else(|| std::env::var("TRACKBENCH_URL").ok().filter(|u| !u.trim().is_empty()))
            .context(
                "--on slurm needs the Trackbench server the tasks log to: --server URL or TRACKBENCH_URL \
                 (a server on this store, reachable from the nodes)",
            )?;
        let token = std::env::var("TRACKBENCH_TOKEN").ok().filter(|t| !t.is_empty());
        trackbench_sdk::RunClient::new(trackbench_sdk::Remote::new(server.clone(), token.clone()))
            .check()
            .with_context(|| format!("the tasks' server {server} does not answer"))?;
        let bin = match &self.node_trackbench {
            Some(p) => p.clone(),
            None => std::env::current_exe().context("finding this trackbench executable")?,
        };
        let mut o = SlurmOptions::new(server, bin);
        o.partition = self.partition.clone();
        o.gpus = self.gpus;
        o.time = self.time.clone();
        o.extra = self.slurm_args.clone();
        o.max_parallel = self.max_parallel;
        o.token = token;
        o.job_name = job_name.to_string();
        Ok(o)
    }
}

/// Where and how jobs run (shared by `launch`, `sweep` and `ab`).
#[derive(Args, Clone)]
pub struct JobArgs {
    /// Where the jobs run: this machine, or a Slurm cluster
    #[arg(long = "on", value_enum, default_value_t = On::Local)]
    pub on: On,
    /// Device: cpu, cuda:N (or gpu:N), wgpu:ADAPTER
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Project of the runs [env: TRACKBENCH_PROJECT; default: default]
    #[arg(long, short)]
    pub project: Option<String>,
    /// Run group
    #[arg(long, short)]
    pub group: Option<String>,
    /// A tag for the runs, KEY=VALUE (repeatable)
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
    /// An environment variable for the command, KEY=VALUE (repeatable)
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Working folder of the command [default: the current one]
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    /// Seconds between SIGTERM and SIGKILL when a job is cancelled
    #[arg(long, default_value_t = 10.0)]
    pub grace: f64,
    /// Jobs at once on the CPU [default: half the cores, at least 1]
    #[arg(long, value_name = "N")]
    pub cpu_slots: Option<usize>,
    /// Jobs at once per GPU
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub gpu_slots: usize,
    #[command(flatten)]
    pub slurm: SlurmArgs,
}

fn key_value(what: &str, s: &str) -> anyhow::Result<(String, String)> {
    let (k, v) = s.split_once('=').with_context(|| format!("{what} `{s}`: expected KEY=VALUE"))?;
    Ok((k.trim().to_string(), v.to_string()))
}

impl JobArgs {
    pub fn project(&self) -> String {
        self.project
            .clone()
            .or_else(|| std::env::var("TRACKBENCH_PROJECT").ok().filter(|p| !p.is_empty()))
            .unwrap_or_else(|| "default".into())
    }

    /// A job for `command` (program and arguments) with these flags; checks device and command
    /// before anything is created.
    pub fn job(&self, command: &[String]) -> anyhow::Result<Job> {
        let (program, args) = command.split_first().context("no command given (after `--`)")?;
        if self.on == On::Local
            && let Some(flag) = self.slurm.given()
        {
            anyhow::bail!("{flag} is a Slurm option: add --on slurm");
        }
        if self.on == On::Slurm && self.device != "cpu" {
            anyhow::bail!(
                "--device {} names a device of this machine; on Slurm ask for GPUs with --gpus N",
                self.device
            );
        }
        let device = Devices::detect().resolve(&self.device)?;
        let mut job = Job::new(self.project(), program.clone(), args.to_vec());
        job.device = device;
        job.group = self.group.clone();
        job.cwd = self.cwd.clone();
        job.tags = self.tags.iter().map(|t| key_value("tag", t)).collect::<anyhow::Result<_>>()?;
        job.env = self.env.iter().map(|t| key_value("env", t)).collect::<anyhow::Result<_>>()?;
        if job.cwd.is_none() && self.on == On::Slurm {
            job.cwd = Some(std::env::current_dir().context("the current folder")?);
        }
        // A cluster's nodes find the program themselves (the task fails, saying so, if not).
        if !job.program.contains('{') && self.on == On::Local {
            job.check()?;
        }
        Ok(job)
    }

    /// The store and backend the jobs run with: the local store folder and its device
    /// queues, or any store (a team store included) and a Slurm array whose tasks log to a
    /// server on it. Ends orphaned local runs and installs the Ctrl-C handler.
    pub fn runner(&self, ctx: &Ctx, job_name: &str) -> anyhow::Result<Runner> {
        match self.on {
            On::Local => {
                let mut store = ctx.open_local()?;
                prepare(&mut store)?;
                Ok(Runner::Local(store))
            }
            On::Slurm => {
                let opts = self.slurm.options(job_name)?;
                opts.check_reachable()?;
                let store = ctx.open()?;
                trackbench_launch::signals::install();
                Ok(Runner::Slurm(store, opts))
            }
        }
    }

    pub fn limits(&self) -> Limits {
        let mut l = Limits::default();
        if let Some(n) = self.cpu_slots {
            l.cpu = n.max(1);
        }
        l.per_gpu = self.gpu_slots.max(1);
        l
    }

    pub fn options(&self, ctx: &Ctx) -> LaunchOptions {
        let mut o = LaunchOptions::new(&ctx.store_dir);
        o.store_opts = ctx.opts.clone();
        o.grace = Duration::from_secs_f64(self.grace.max(0.0));
        o
    }
}

/// Ends runs whose launcher died, saying so; then installs the Ctrl-C handler that cancels jobs.
pub fn prepare(store: &mut Store) -> anyhow::Result<()> {
    for id in reap_orphans(store).context("looking for orphaned runs")? {
        eprintln!("note: run {id} had lost its launcher; marked failed");
    }
    trackbench_launch::signals::install();
    Ok(())
}

#[derive(Args)]
pub struct LaunchArgs {
    #[command(flatten)]
    job: JobArgs,
    /// Run name
    #[arg(long, short)]
    name: Option<String>,
    /// Print the outcome as JSON (the command's output then goes to stderr)
    #[arg(long)]
    json: bool,
    /// The command and its arguments (after `--`)
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "CMD")]
    command: Vec<String>,
}

pub fn launch(ctx: &Ctx, a: LaunchArgs) -> anyhow::Result<()> {
    let mut job = a.job.job(&a.command)?;
    job.name = a.name.clone();
    let mut runner = a.job.runner(ctx, a.name.as_deref().unwrap_or(&job.program))?;
    let result = match &mut runner {
        Runner::Local(_) => {
            let mut opts = a.job.options(ctx);
            let json = a.json;
            opts.echo = Some(std::sync::Arc::new(move |_run: &str, stream: Stream, line: &str| {
                if stream == Stream::Stdout && !json {
                    println!("{line}");
                } else {
                    eprintln!("{line}");
                }
            }));
            let mut queue = Queue::new(a.job.limits());
            queue.push(job);
            queue.run(&opts, |_, _| {}).pop().context("the job vanished")?
        }
        Runner::Slurm(..) => {
            let label = vec![a.name.clone().unwrap_or_else(|| job.command_line())];
            run_jobs(&mut runner, &a.job, ctx, vec![job], &label, |_, _, _| {})?.pop().context("the job vanished")?
        }
    };
    if let Some(e) = result.error.as_ref().filter(|_| result.run_id.is_none()) {
        anyhow::bail!("{e}");
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        eprintln!("{}", outcome_line(&result));
    }
    if result.status == RunStatus::Finished { Ok(()) } else { Err(JobFailed(outcome_line(&result)).into()) }
}

/// A launched job that did not finish (exit code 1, message already printed).
#[derive(Debug)]
pub struct JobFailed(pub String);

impl std::fmt::Display for JobFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for JobFailed {}

/// `run 0123… finished (exit 0) in 1.2s, 10 lines captured`.
pub fn outcome_line(r: &JobResult) -> String {
    let how = match (r.exit_code, r.signal) {
        (Some(c), _) => format!("exit {c}"),
        (None, Some(s)) => format!("signal {s}"),
        _ => r.error.clone().unwrap_or_default(),
    };
    format!(
        "run {} {} ({how}) in {}, {} lines captured",
        r.run_id.as_deref().unwrap_or("-"),
        r.status,
        output::duration(r.timings.run.as_millis() as i64),
        r.lines
    )
}

#[derive(Args)]
pub struct CancelArgs {
    /// Runs to cancel: ids, unique id prefixes or names
    #[arg(required = true)]
    runs: Vec<String>,
    /// Seconds to wait for the launcher to end the run before acting without it
    #[arg(long, default_value_t = 15.0)]
    wait: f64,
}

/// Asks each run's launcher (through the run's `launch.cancel` tag) to cancel it and waits for
/// the run to end; a run whose launcher is gone is ended here.
pub fn cancel(ctx: &Ctx, a: CancelArgs) -> anyhow::Result<()> {
    if cancel_on_slurm(ctx, &a)? {
        return Ok(());
    }
    let mut store = ctx.open_local()?;
    let ids: Vec<String> = a.runs.iter().map(|r| store.resolve_run(r)).collect::<Result<_, _>>()?;
    for id in &ids {
        if store.run(id)?.status.is_terminal() && store.run(id)?.status != RunStatus::Crashed {
            eprintln!("run {id} is already {}", store.run(id)?.status);
            continue;
        }
        store.set_tag(id, "launch.cancel", &trackbench_store::now_ms().to_string())?;
    }
    let deadline = Instant::now() + Duration::from_secs_f64(a.wait.max(0.0));
    for id in &ids {
        loop {
            let status = store.run(id)?.status;
            if status != RunStatus::Running {
                if status == RunStatus::Crashed {
                    reap_orphans(&mut store)?;
                }
                println!("{id} {}", store.run(id)?.status);
                break;
            }
            if Instant::now() > deadline {
                let n = reap_orphans(&mut store)?;
                anyhow::ensure!(
                    n.contains(id),
                    "run {id} is still running: its launcher did not end it within {}s",
                    a.wait
                );
                println!("{id} failed (its launcher was gone)");
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(())
}

/// The store the jobs' runs go to and the backend that runs them.
pub enum Runner {
    Local(Store),
    Slurm(Box<dyn Backend>, SlurmOptions),
}

impl Runner {
    pub fn store(&mut self) -> &mut dyn Backend {
        match self {
            Runner::Local(s) => s,
            Runner::Slurm(s, _) => s.as_mut(),
        }
    }
}

/// Runs `jobs` with `runner` and a progress bar; each ended job is printed, then given to
/// `on_done` with the store.
pub fn run_jobs(
    runner: &mut Runner,
    args: &JobArgs,
    ctx: &Ctx,
    jobs: Vec<Job>,
    labels: &[String],
    mut on_done: impl FnMut(usize, &JobResult, &mut dyn Backend),
) -> anyhow::Result<Vec<JobResult>> {
    match runner {
        Runner::Local(store) => {
            let mut queue = Queue::new(args.limits());
            for j in jobs {
                queue.push(j);
            }
            Ok(run_with_progress(queue, &args.options(ctx), labels, |i, r| on_done(i, r, &mut *store)))
        }
        Runner::Slurm(store, opts) => {
            let mut queue = SlurmQueue::new(opts.clone());
            for j in jobs {
                queue.push(j);
            }
            let mut progress = Progress::new(labels);
            let bar = progress.bar.clone();
            let results = queue.run(
                store.as_mut(),
                |s| {
                    let line = format!(
                        "submitted Slurm job {} ({} task{}); pending tasks show in `squeue -r -j {}`",
                        s.job_id,
                        labels.len(),
                        if labels.len() == 1 { "" } else { "s" },
                        s.job_id
                    );
                    bar.suspend(|| eprintln!("{line}"));
                },
                |_job, ev, store| {
                    if let Some((i, r)) = progress.on(ev) {
                        on_done(i, r, store);
                    }
                },
            );
            progress.finish();
            Ok(results?)
        }
    }
}

/// A progress bar on stderr over jobs: which run, how many done, ETA; ended jobs printed above.
struct Progress<'a> {
    bar: ProgressBar,
    labels: &'a [String],
    running: Vec<usize>,
}

impl<'a> Progress<'a> {
    fn new(labels: &'a [String]) -> Progress<'a> {
        let bar = ProgressBar::new(labels.len() as u64).with_style(
            ProgressStyle::with_template("{spinner} [{elapsed}] {pos}/{len} done {wide_bar} ETA {eta}  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress { bar, labels, running: Vec::new() }
    }

    fn say(&self, line: &str) {
        // `suspend`, not `println`: a hidden bar (no terminal) prints nothing with `println`.
        self.bar.suspend(|| eprintln!("{line}"));
    }

    fn message(&self) -> String {
        let names: Vec<&str> = self.running.iter().map(|&i| self.labels[i].as_str()).collect();
        if names.is_empty() { String::new() } else { format!("running: {}", names.join(", ")) }
    }

    /// Shows `ev`; an ended job comes back.
    fn on<'e>(&mut self, ev: &'e Event) -> Option<(usize, &'e JobResult)> {
        match ev {
            Event::Started { index } => {
                self.running.push(*index);
                self.bar.set_message(self.message());
                None
            }
            Event::Done { index, result } => {
                self.running.retain(|i| i != index);
                self.bar.inc(1);
                self.bar.set_message(self.message());
                let mark = if result.status == RunStatus::Finished { "ok  " } else { "FAIL" };
                // (The position is read outside: `suspend` holds the bar's lock.)
                let n = self.labels.len();
                let line =
                    format!("{mark} [{}/{n}] {}: {}", self.bar.position(), self.labels[*index], outcome_line(result));
                self.say(&line);
                Some((*index, result))
            }
        }
    }

    fn finish(self) {
        self.bar.finish_and_clear();
    }
}

/// Cancels runs launched on Slurm (tag `slurm.job`): `scancel` of their task (Slurm signals
/// the task agent, which ends the command and its run `killed`), then waits for the runs to
/// end. False when none of the runs is a Slurm task (they are local launches).
fn cancel_on_slurm(ctx: &Ctx, a: &CancelArgs) -> anyhow::Result<bool> {
    let mut store = ctx.open()?;
    let ids: Vec<String> = a.runs.iter().map(|r| store.resolve_run(r)).collect::<Result<_, _>>()?;
    let mut jobs = Vec::new();
    for id in &ids {
        let tags = store.tags(id)?;
        if let Some((_, job)) = tags.iter().find(|(k, _)| k == trackbench_launch::slurm::JOB_TAG) {
            jobs.push((id.clone(), job.clone()));
        }
    }
    if jobs.is_empty() {
        return Ok(false);
    }
    anyhow::ensure!(
        jobs.len() == ids.len(),
        "cancel Slurm runs and local runs in two commands (these are Slurm tasks: {})",
        jobs.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>().join(", ")
    );
    for (id, job) in &jobs {
        if store.run(id)?.status.is_terminal() {
            eprintln!("run {id} is already {}", store.run(id)?.status);
            continue;
        }
        // The agent also stops the command on this tag, should scancel be refused.
        store.set_tag(id, "launch.cancel", &trackbench_store::now_ms().to_string())?;
        let out = std::process::Command::new("scancel")
            .arg(job)
            .output()
            .with_context(|| format!("running scancel {job} (the Slurm client commands are needed here)"))?;
        anyhow::ensure!(out.status.success(), "scancel {job} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    let deadline = Instant::now() + Duration::from_secs_f64(a.wait.max(0.0));
    for (id, _) in &jobs {
        loop {
            let run = store.run(id)?;
            if run.status.is_terminal() {
                println!("{id} {}", run.status);
                break;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "run {id} is still running {}s after scancel; its launcher records the end when Slurm reports it",
                a.wait
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    Ok(true)
}

/// Runs `queue` with a progress bar on stderr (which job runs, how many done, ETA); each ended
/// job is printed above the bar, then given to `on_done`.
pub fn run_with_progress(
    queue: Queue,
    opts: &LaunchOptions,
    labels: &[String],
    mut on_done: impl FnMut(usize, &JobResult),
) -> Vec<JobResult> {
    let mut progress = Progress::new(labels);
    let results = queue.run(opts, |_job, ev| {
        if let Some((i, r)) = progress.on(ev) {
            on_done(i, r);
        }
    });
    progress.finish();
    results
}
