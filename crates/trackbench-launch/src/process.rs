//! Launching one job: create the run, start the child in its own process group with the run's
//! environment, capture its output into the run, heartbeat, cancel, and record how it ended.
//!
//! Threads per job: one reader per output stream and one waiter (blocking `wait`), all sending
//! to the supervising thread, which alone writes to the store (one batch per flush: lines plus
//! heartbeat, so a flood of output costs one transaction per `flush_lines` lines).

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use trackbench_store::{Batch, LogLine, NewRun, RunStatus, Store, Stream, now_ms};

use crate::find::{is_executable, on_path};
use crate::job::{git_info, host_name};
use crate::target::{RunTarget, StoreTarget};
use crate::{CancelToken, Job, JobResult, LaunchError, LaunchOptions, Timings};

/// Tag a cancelling process sets on a run; its launcher then cancels the job.
pub const CANCEL_TAG: &str = "launch.cancel";

enum Msg {
    Line(Stream, i64, String),
    Eof,
    Exit(std::io::Result<ExitStatus>, Instant),
}

/// Finds `program` as `execvp` would: a path when it contains `/`, else on `PATH`.
pub(crate) fn resolve_program(program: &str, cwd: Option<&Path>) -> Result<PathBuf, LaunchError> {
    if program.contains('/') {
        let p = match cwd {
            Some(d) if Path::new(program).is_relative() => d.join(program),
            _ => PathBuf::from(program),
        };
        return if is_executable(&p) { Ok(p) } else { Err(LaunchError::CommandNotFound(program.to_string())) };
    }
    on_path(program).ok_or_else(|| LaunchError::CommandNotFound(program.to_string()))
}

/// Sends `sig` to process group `pgid`; false when no process is left in it.
pub(crate) fn kill_group(pgid: i32, sig: i32) -> bool {
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is involved.
    pgid > 1 && unsafe { libc::kill(-pgid, sig) } == 0
}

/// Runs `job` to its end (blocking) as a tracked run: see the crate docs. Errors only when the
/// job could not be started at all; then no run is left `running` (either none was created,
/// or it is marked `failed` with the reason).
pub fn launch(job: &Job, opts: &LaunchOptions, cancel: &CancelToken) -> Result<JobResult, LaunchError> {
    let store = Store::open(&opts.store_dir, opts.store_opts.clone())?;
    let mut target = StoreTarget { store, dir: opts.store_dir.clone() };
    launch_to(job, opts, cancel, &mut target, &RunSetup::default())
}

/// What a caller of [`launch_to`] fixes about the run beyond the job itself.
#[derive(Debug, Clone, Default)]
pub struct RunSetup {
    /// The run's id (a Slurm task's, chosen at submission); a fresh one when `None`.
    pub id: Option<String>,
    /// Added to the run's recorded launch context (`env` of the run), e.g. the batch script.
    pub context: serde_json::Map<String, serde_json::Value>,
    /// Leave the devices the environment gives (a Slurm allocation's `CUDA_VISIBLE_DEVICES`)
    /// instead of pinning the job's device.
    pub allocated_devices: bool,
}

/// [`launch`] with the run in `target` (a store folder, or a server for a cluster task).
pub fn launch_to(
    job: &Job,
    opts: &LaunchOptions,
    cancel: &CancelToken,
    target: &mut dyn RunTarget,
    setup: &RunSetup,
) -> Result<JobResult, LaunchError> {
    let t0 = Instant::now();
    let program = resolve_program(&job.program, job.cwd.as_deref())?;
    let cwd = match &job.cwd {
        Some(d) => d.clone(),
        None => {
            std::env::current_dir().map_err(|source| LaunchError::Io { context: "current folder".into(), source })?
        }
    };
    if !cwd.is_dir() {
        return Err(LaunchError::Invalid { what: "working folder", why: format!("{} is not a folder", cwd.display()) });
    }
    let git = git_info(&cwd);
    let host = host_name();
    let pin = if setup.allocated_devices { Vec::new() } else { job.device.pin_env() };
    let mut tags = job.tags.clone();
    tags.push(("launch.device".into(), job.device.to_string()));
    tags.push(("launch.host".into(), host.clone()));
    tags.push(("launch.launcher_pid".into(), std::process::id().to_string()));
    let mut new = NewRun {
        project: job.project.clone(),
        name: job.name.clone(),
        group: job.group.clone(),
        tags,
        host: Some(host),
        pid: None,
        command: Some(job.command_line()),
        git_commit: git.commit.clone(),
        git_dirty: git.dirty,
        env: Some({
            let mut env = serde_json::json!({
                "launcher": "trackbench-launch",
                "cwd": cwd.display().to_string(),
                "device": job.device.to_string(),
                "env": job.env.iter().chain(&pin).map(|(k, v)| (k.clone(), serde_json::Value::from(v.clone()))).collect::<serde_json::Map<_, _>>(),
            });
            if let Some(obj) = env.as_object_mut() {
                obj.extend(setup.context.clone());
            }
            env
        }),
        ..NewRun::default()
    };
    // This launcher holds the run open (it supervises the child and writes the heartbeats), so
    // it is the process recorded: killed, its run reads `crashed` at once on this host.
    if target.holds_locally()
        && let Some(me) = trackbench_store::ProcessIdentity::current()
    {
        new.held_by(&me);
    }
    let run = target.create_run(setup.id.as_deref(), &new)?;
    let id = run.id.clone();
    if let Some(on_run) = &opts.on_run {
        on_run(&id);
    }
    if let Some(diff) = &git.diff
        && let Err(e) = target.put_artifact(&id, "launch/git.diff", &diff[..], "git diff")
    {
        tracing::warn!(run = %id, "could not store the git diff: {e}");
    }

    let mut cmd = Command::new(&program);
    for k in target.child_env_remove() {
        cmd.env_remove(k);
    }
    cmd.args(&job.args)
        .current_dir(&cwd)
        .envs(job.env.iter().map(|(k, v)| (k, v)))
        .envs(pin.iter().map(|(k, v)| (k, v)))
        .envs(target.child_env())
        .env("TRACKBENCH_RUN_ID", &id)
        .env("TRACKBENCH_PROJECT", &job.project)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let why = format!("could not start `{}`: {e}", job.program);
            target.finish_run(&id, RunStatus::Failed, Some(&why))?;
            return Ok(JobResult { run_id: Some(id), ..JobResult::not_started(RunStatus::Failed, why) });
        }
    };
    let started = Instant::now();
    let launch_to_start = started - t0;
    let pgid = child.id() as i32;
    let (tx, rx) = mpsc::channel::<Msg>();
    for (stream, pipe) in [
        (Stream::Stdout, child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>)),
        (Stream::Stderr, child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>)),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            if let Some(pipe) = pipe {
                read_lines(pipe, stream, &tx);
            }
            let _ = tx.send(Msg::Eof);
        });
    }
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let status = child.wait();
            let _ = tx.send(Msg::Exit(status, Instant::now()));
        });
    }
    drop(tx);

    let mut sup = Supervisor { target, id: id.clone(), buf: Vec::new(), lines: 0, last_flush: Instant::now() };
    sup.buf_tags(vec![("launch.pid".into(), pgid.to_string())]);
    sup.flush(true)?;
    let mut eofs = 0;
    let mut exit: Option<(std::io::Result<ExitStatus>, Instant)> = None;
    let mut term_at: Option<Instant> = None;
    let mut killed = false;
    let mut last_poll = Instant::now();
    let mut last_beat = Instant::now();
    loop {
        let done = exit.is_some() && eofs >= 2;
        if done {
            break;
        }
        let wait = opts.poll.min(opts.flush_interval).max(Duration::from_millis(1));
        match rx.recv_timeout(wait) {
            Ok(Msg::Line(stream, ts_ms, line)) => {
                if let Some(echo) = &opts.echo {
                    echo(&id, stream, &line);
                }
                sup.buf.push(LogLine { stream, ts_ms, line });
            }
            Ok(Msg::Eof) => eofs += 1,
            Ok(Msg::Exit(status, at)) => exit = Some((status, at)),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        let now = Instant::now();
        if let Some((_, at)) = &exit {
            // The child is gone but something it started still holds the pipes: end the group.
            if eofs < 2 && now - *at > Duration::from_millis(500) && !killed {
                kill_group(pgid, libc::SIGKILL);
                killed = true;
            }
            if eofs < 2 && now - *at > Duration::from_secs(2) {
                tracing::warn!(run = %id, "output pipes still open 2 s after exit; stopping capture");
                break;
            }
        } else if now - last_poll >= opts.poll {
            last_poll = now;
            if term_at.is_none() && (cancel.is_cancelled() || crate::signals::interrupted() || sup.cancel_requested()) {
                cancel.cancel();
                kill_group(pgid, libc::SIGTERM);
                term_at = Some(now);
            }
            if let Some(t) = term_at
                && now - t >= opts.grace
                && !killed
            {
                kill_group(pgid, libc::SIGKILL);
                killed = true;
            }
        }
        let beat = now - last_beat >= opts.heartbeat;
        if beat {
            last_beat = now;
        }
        if sup.buf.len() >= opts.flush_lines
            || (!sup.buf.is_empty() && now - sup.last_flush >= opts.flush_interval)
            || beat
        {
            sup.flush(beat || exit.is_none())?;
        }
    }
    // Nothing the child started outlives its run.
    kill_group(pgid, libc::SIGKILL);
    while let Ok(msg) = rx.try_recv() {
        if let Msg::Line(stream, ts_ms, line) = msg {
            sup.buf.push(LogLine { stream, ts_ms, line });
        }
    }
    let (status, exit_at) = match exit {
        Some((s, at)) => (s.ok(), at),
        None => (None, Instant::now()),
    };
    let run_time = exit_at.saturating_duration_since(started);
    let code = status.and_then(|s| s.code());
    let signal = status.and_then(|s| s.signal());
    let (run_status, why) = if cancel.is_cancelled() {
        (RunStatus::Killed, Some("cancelled".to_string()))
    } else {
        match (code, signal) {
            (Some(0), _) => (RunStatus::Finished, None),
            (Some(c), _) => (RunStatus::Failed, Some(format!("exit code {c}"))),
            (None, Some(s)) if [libc::SIGTERM, libc::SIGKILL, libc::SIGINT, libc::SIGHUP].contains(&s) => {
                (RunStatus::Killed, Some(format!("killed by signal {s} ({})", signal_name(s))))
            }
            (None, Some(s)) => (RunStatus::Failed, Some(format!("killed by signal {s} ({})", signal_name(s)))),
            (None, None) => (RunStatus::Failed, Some("the launcher could not wait for the process".into())),
        }
    };
    let mut end_tags = Vec::new();
    if let Some(c) = code {
        end_tags.push(("launch.exit_code".to_string(), c.to_string()));
    }
    if let Some(s) = signal {
        end_tags.push(("launch.signal".to_string(), s.to_string()));
    }
    sup.buf_tags(end_tags);
    sup.flush(true)?;
    // Keep an error the child recorded itself (an SDK's traceback); else say how it ended.
    let previous = sup.target.run(&id).ok().and_then(|r| r.error);
    let error = previous.or(why.clone());
    sup.target.finish_run(&id, run_status, error.as_deref())?;
    let exit_to_recorded = exit_at.elapsed();
    Ok(JobResult {
        run_id: Some(id),
        status: run_status,
        exit_code: code,
        signal,
        error: why,
        lines: sup.lines,
        timings: Timings { launch_to_start, exit_to_recorded, run: run_time },
    })
}

struct Supervisor<'a> {
    target: &'a mut dyn RunTarget,
    id: String,
    buf: Vec<LogLine>,
    lines: u64,
    last_flush: Instant,
}

impl Supervisor<'_> {
    fn buf_tags(&mut self, tags: Vec<(String, String)>) {
        if !tags.is_empty() {
            let batch = Batch { tags, ..Batch::default() };
            if let Err(e) = self.target.log_batch(&self.id, &batch) {
                tracing::warn!(run = %self.id, "could not tag the run: {e}");
            }
        }
    }

    /// Writes waiting lines (and a heartbeat) in one transaction.
    fn flush(&mut self, heartbeat: bool) -> Result<(), LaunchError> {
        let batch = Batch {
            log_lines: std::mem::take(&mut self.buf),
            heartbeat_ms: heartbeat.then(now_ms),
            ..Batch::default()
        };
        self.last_flush = Instant::now();
        if batch.log_lines.is_empty() && batch.heartbeat_ms.is_none() {
            return Ok(());
        }
        self.lines += batch.log_lines.len() as u64;
        self.target.log_batch(&self.id, &batch)?;
        Ok(())
    }

    /// True when another process asked (through the run's tag) to cancel this job.
    fn cancel_requested(&mut self) -> bool {
        self.target.tags(&self.id).is_ok_and(|t| t.iter().any(|(k, _)| k == CANCEL_TAG))
    }
}

/// Sends each line (without its newline; invalid UTF-8 replaced) as it arrives.
fn read_lines(pipe: Box<dyn Read + Send>, stream: Stream, tx: &mpsc::Sender<Msg>) {
    let mut reader = BufReader::with_capacity(64 * 1024, pipe);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                    buf.pop();
                }
                let line = String::from_utf8_lossy(&buf).into_owned();
                if tx.send(Msg::Line(stream, now_ms(), line)).is_err() {
                    return;
                }
            }
        }
    }
}

fn signal_name(s: i32) -> &'static str {
    match s {
        libc::SIGTERM => "SIGTERM",
        libc::SIGKILL => "SIGKILL",
        libc::SIGINT => "SIGINT",
        libc::SIGHUP => "SIGHUP",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGPIPE => "SIGPIPE",
        _ => "signal",
    }
}
