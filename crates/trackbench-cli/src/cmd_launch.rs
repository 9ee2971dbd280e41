//! `trackbench launch` and `trackbench cancel`: one command as a tracked run on a local device
//! (crate `trackbench-launch` does the work), and cancelling a launched run from elsewhere.
//! Also what `sweep` and `ab` share: the job flags, launcher options and the progress display.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use trackbench_launch::{Devices, Event, Job, JobResult, LaunchOptions, Limits, Queue, reap_orphans};
use trackbench_store::{RunStatus, Store, Stream};

use crate::{Ctx, output};

/// Where and how jobs run (shared by `launch`, `sweep` and `ab`).
#[derive(Args, Clone)]
pub struct JobArgs {
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
        let device = Devices::detect().resolve(&self.device)?;
        let mut job = Job::new(self.project(), program.clone(), args.to_vec());
        job.device = device;
        job.group = self.group.clone();
        job.cwd = self.cwd.clone();
        job.tags = self.tags.iter().map(|t| key_value("tag", t)).collect::<anyhow::Result<_>>()?;
        job.env = self.env.iter().map(|t| key_value("env", t)).collect::<anyhow::Result<_>>()?;
        if !job.program.contains('{') {
            job.check()?;
        }
        Ok(job)
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
    prepare(&mut ctx.open_local()?)?;
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
    let result = queue.run(&opts, |_, _| {}).pop().context("the job vanished")?;
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

/// Runs `queue` with a progress bar on stderr (which job runs, how many done, ETA); each ended
/// job is printed above the bar, then given to `on_done`.
pub fn run_with_progress(
    queue: Queue,
    opts: &LaunchOptions,
    labels: &[String],
    mut on_done: impl FnMut(usize, &JobResult),
) -> Vec<JobResult> {
    let n = queue.len();
    let bar = ProgressBar::new(n as u64).with_style(
        ProgressStyle::with_template("{spinner} [{elapsed}] {pos}/{len} done {wide_bar} ETA {eta}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut running: Vec<usize> = Vec::new();
    let msg = |running: &[usize]| {
        let names: Vec<&str> = running.iter().map(|&i| labels[i].as_str()).collect();
        if names.is_empty() { String::new() } else { format!("running: {}", names.join(", ")) }
    };
    let results = queue.run(opts, |_job, ev| match ev {
        Event::Started { index } => {
            running.push(*index);
            bar.set_message(msg(&running));
        }
        Event::Done { index, result } => {
            running.retain(|i| i != index);
            bar.inc(1);
            bar.set_message(msg(&running));
            let mark = if result.status == RunStatus::Finished { "ok  " } else { "FAIL" };
            // `suspend`, not `println`: a hidden bar (no terminal) prints nothing with `println`.
            // (The position is read outside: `suspend` holds the bar's lock.)
            let line = format!("{mark} [{}/{n}] {}: {}", bar.position(), labels[*index], outcome_line(result));
            bar.suspend(|| eprintln!("{line}"));
            on_done(*index, result);
        }
    });
    bar.finish_and_clear();
    results
}
