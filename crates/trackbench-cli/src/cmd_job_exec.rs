//! `trackbench job-exec` (hidden): the task agent a Slurm batch script runs on its node. It
//! creates the run the launcher chose at submission on the team server (`TRACKBENCH_URL`,
//! `TRACKBENCH_TOKEN`), then supervises the command exactly as a local launch does
//! (`trackbench_launch::launch_to`): output captured into the run's logs and echoed to the
//! task's output file, heartbeats, cancel through the run's tag or a signal (`scancel`), and
//! the run ended by how the command ended. The batch script itself (Slurm's copy on the node)
//! is recorded with the run, so `trackbench runs show` prints what ran.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use trackbench_launch::{CancelToken, Device, Job, LaunchOptions, RunSetup, RunTarget, launch_to};
use trackbench_sdk::{Remote, RunClient};
use trackbench_store::{Batch, NewRun, RunInfo, RunStatus, StoreError, Stream};

#[derive(Args)]
pub struct JobExecArgs {
    /// The run's id, chosen by the launcher
    #[arg(long)]
    run_id: String,
    #[arg(long)]
    project: String,
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    group: Option<String>,
    #[arg(long)]
    cwd: Option<PathBuf>,
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    tags: Vec<String>,
    #[arg(long = "env", value_name = "KEY=VALUE")]
    env: Vec<String>,
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "CMD")]
    command: Vec<String>,
}

/// The run on a server, as the launcher's supervisor writes it.
struct ServerTarget {
    client: RunClient,
    remote: Remote,
}

impl RunTarget for ServerTarget {
    fn create_run(&mut self, id: Option<&str>, new: &NewRun) -> Result<RunInfo, StoreError> {
        let id = id.ok_or_else(|| StoreError::Invalid {
            what: "run",
            why: "a task's run id is chosen at submission".into(),
        })?;
        self.client.create_run(id, new)
    }

    fn log_batch(&mut self, run: &str, batch: &Batch) -> Result<(), StoreError> {
        self.client.log_batch(run, batch)
    }

    fn run(&mut self, run: &str) -> Result<RunInfo, StoreError> {
        self.client.run(run).map(|(r, _)| r)
    }

    fn tags(&mut self, run: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.client.run(run).map(|(_, t)| t)
    }

    fn finish_run(&mut self, run: &str, status: RunStatus, error: Option<&str>) -> Result<(), StoreError> {
        self.client.finish(run, status, error)
    }

    fn put_artifact(&mut self, run: &str, name: &str, bytes: &[u8], _what: &str) -> Result<(), StoreError> {
        self.client.put_artifact(run, name, bytes)
    }

    fn child_env(&self) -> Vec<(String, String)> {
        let mut env = vec![("TRACKBENCH_URL".to_string(), self.remote.url.clone())];
        env.extend(self.remote.token.clone().map(|t| ("TRACKBENCH_TOKEN".to_string(), t)));
        env
    }

    fn child_env_remove(&self) -> &'static [&'static str] {
        // A store folder would take the SDK away from the server.
        &["TRACKBENCH_DIR"]
    }

    fn holds_locally(&self) -> bool {
        false
    }
}

fn key_value(what: &str, s: &str) -> anyhow::Result<(String, String)> {
    let (k, v) = s.split_once('=').with_context(|| format!("{what} `{s}`: expected KEY=VALUE"))?;
    Ok((k.to_string(), v.to_string()))
}

pub fn job_exec(a: JobExecArgs) -> anyhow::Result<()> {
    let remote = Remote::from_env()
        .context("TRACKBENCH_URL is not set: the task agent logs to the team server the job was launched from")?;
    let (program, args) = a.command.split_first().context("no command given (after `--`)")?;
    let mut job = Job::new(a.project, program.clone(), args.to_vec());
    job.device = Device::Cpu;
    job.name = a.name;
    job.group = a.group;
    job.cwd = a.cwd;
    job.tags = a.tags.iter().map(|t| key_value("tag", t)).collect::<anyhow::Result<_>>()?;
    job.env = a.env.iter().map(|t| key_value("env", t)).collect::<anyhow::Result<_>>()?;
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let slurm_job = match (var("SLURM_ARRAY_JOB_ID"), var("SLURM_ARRAY_TASK_ID")) {
        (Some(j), Some(t)) => Some(format!("{j}_{t}")),
        _ => var("SLURM_JOB_ID"),
    };
    job.tags.push(("launch.backend".into(), "slurm".into()));
    if let Some(j) = &slurm_job {
        job.tags.push((trackbench_launch::slurm::JOB_TAG.into(), j.clone()));
    }
    let script = var("TRACKBENCH_SLURM_SCRIPT").and_then(|p| std::fs::read_to_string(p).ok());
    let mut setup = RunSetup { id: Some(a.run_id), allocated_devices: true, ..RunSetup::default() };
    setup.context.insert("backend".into(), "slurm".into());
    setup.context.insert(
        "slurm".into(),
        serde_json::json!({
            "job": slurm_job,
            "node": var("SLURMD_NODENAME"),
            "partition": var("SLURM_JOB_PARTITION"),
            "gpus": var("CUDA_VISIBLE_DEVICES"),
            "script": script,
        }),
    );
    trackbench_launch::signals::install();
    // Over HTTP: a cancel request is read once a second, lines sent at most twice a second.
    let mut opts = LaunchOptions::new(std::env::temp_dir());
    opts.poll = Duration::from_secs(1);
    opts.flush_interval = Duration::from_millis(500);
    opts.echo = Some(std::sync::Arc::new(|_run: &str, stream: Stream, line: &str| match stream {
        Stream::Stdout => println!("{line}"),
        Stream::Stderr => eprintln!("{line}"),
    }));
    let mut target = ServerTarget { client: RunClient::new(remote.clone()), remote };
    let result = launch_to(&job, &opts, &CancelToken::new(), &mut target, &setup)?;
    eprintln!("{}", crate::cmd_launch::outcome_line(&result));
    if result.status == RunStatus::Finished {
        Ok(())
    } else {
        Err(crate::cmd_launch::JobFailed(crate::cmd_launch::outcome_line(&result)).into())
    }
}
