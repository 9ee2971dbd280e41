//! `trackbench`: the command-line tool. Only glue: it parses arguments (clap), resolves
//! configuration (flags, then `TRACKBENCH_*` environment, then defaults) and calls the library
//! crates. Results go to stdout (tables, or JSON with `--json`), logs and progress to stderr.
//!
//! Exit codes: 0 success; 1 an operation failed; 2 bad usage or a bad filter expression;
//! 4 a named run, project, A/B, model or metric was not found, or no run matched (`compare`).
//! `launch`, `sweep` and `ab` exit 1 when a job did not finish, 2 for an unknown device, a
//! malformed grid or a command that does not exist.

mod cmd_ab;
mod cmd_compare;
mod cmd_demo;
mod cmd_drift;
mod cmd_export;
mod cmd_gc;
mod cmd_import;
mod cmd_job_exec;
mod cmd_launch;
mod cmd_login;
mod cmd_models;
mod cmd_push;
mod cmd_report;
mod cmd_runs;
mod cmd_serve;
mod cmd_store;
mod cmd_sweep;
mod cmd_train;
mod cmd_ui;
mod cmd_users;
mod output;
mod report_drift;
mod selection;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use trackbench_compare::CompareError;
use trackbench_store::{Backend, Store, StoreError, StoreOptions};

#[derive(Parser)]
#[command(name = "trackbench", version, about = "Local-first experiment tracking", propagate_version = true)]
struct Cli {
    /// Store folder, or a team store's PostgreSQL URL (postgres://USER@HOST:PORT/DB)
    /// [env: TRACKBENCH_STORE, then TRACKBENCH_DIR; default: the platform data dir]
    #[arg(long, global = true, value_name = "DIR|URL")]
    store: Option<String>,
    /// Where a team store's artifacts live: s3://BUCKET/PREFIX, gs://…, az://…, file:///PATH
    #[arg(long, global = true, value_name = "URL", env = "TRACKBENCH_ARTIFACTS")]
    artifacts: Option<String>,
    /// A running run without a heartbeat for this many seconds reads as crashed
    #[arg(long, global = true, env = "TRACKBENCH_HEARTBEAT_TIMEOUT", default_value_t = 120.0, hide_env_values = true)]
    heartbeat_timeout: f64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List, show, tag and delete runs
    #[command(subcommand)]
    Runs(cmd_runs::RunsCmd),
    /// List projects; grant and revoke users' permissions on them
    #[command(subcommand)]
    Projects(cmd_runs::ProjectsCmd),
    /// The team's users (against a store, as its admin)
    #[command(subcommand)]
    Users(cmd_users::UsersCmd),
    /// Users' API tokens: create (printed once), list, revoke
    #[command(subcommand)]
    Tokens(cmd_users::TokensCmd),
    /// Keep a team server's URL and your token for the CLI and the SDKs
    Login(cmd_login::LoginArgs),
    /// Forget the server `login` kept
    Logout,
    /// Ask the server who your token is: user, admin, projects
    Whoami {
        #[arg(long)]
        json: bool,
    },
    /// Export runs with every point and every param
    Export(cmd_export::ExportArgs),
    /// Compare runs: param diff, metric summaries, grouped mean ± std with 95% CI
    Compare(cmd_compare::CompareArgs),
    /// Write a comparison of runs as self-contained HTML, Markdown with PNG charts, CSV or JSON
    Report(cmd_report::ReportArgs),
    /// Check the store: path, schema version, integrity, counts
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// Log a few example runs through the Rust SDK and list them
    Demo(cmd_demo::DemoArgs),
    /// Import runs from other trackers' files
    #[command(subcommand)]
    Import(cmd_import::ImportCmd),
    /// Remove runs deleted long ago and artifact blobs nothing references (dry run by default)
    Gc(cmd_gc::GcArgs),
    /// Serve the HTTP API (native, MLflow-compatible, live events) over the store
    Serve(cmd_serve::ServeArgs),
    /// Open the store in the desktop app, or serve the UI and open a browser without it
    Ui(cmd_ui::UiArgs),
    /// Train the reference MLP (CPU, wgpu or CUDA) as a tracked run
    Train(cmd_train::TrainArgs),
    /// Run a command as a tracked run on a device: trackbench launch [OPTIONS] -- CMD ARGS…
    Launch(cmd_launch::LaunchArgs),
    /// Cancel launched runs (SIGTERM to their process group, SIGKILL after the grace period)
    Cancel(cmd_launch::CancelArgs),
    /// Publish local runs to a team server, keeping their ids (idempotent, resumable)
    Push(cmd_push::PushArgs),
    /// Bring team runs into the local store for offline work, keeping their ids
    Pull(cmd_push::PullArgs),
    /// The task agent a Slurm batch script runs on its node (see `launch --on slurm`)
    #[command(hide = true)]
    JobExec(cmd_job_exec::JobExecArgs),
    /// Run a command over a grid of parameters: trackbench sweep --grid 'lr=1e-3,1e-2' -- CMD {lr}
    Sweep(cmd_sweep::SweepArgs),
    /// A/B comparison of two variants over seeds, with a statistical verdict (also `ab ls|show`)
    Ab(cmd_ab::AbArgs),
    /// The model registry: registered models, versions, aliases
    #[command(subcommand)]
    Models(cmd_models::ModelsCmd),
    /// Copy a whole store between a folder and a team store (PostgreSQL + object storage)
    #[command(subcommand)]
    Store(cmd_store::StoreCmd),
    /// Drift tests between two logged datasets: trackbench drift RUN:DATASET[@STEP] RUN:DATASET[@STEP]
    /// (exit 0 no drift, 1 drift, 2 error)
    Drift(cmd_drift::DriftArgs),
}

/// What commands get: the resolved store location and options.
pub struct Ctx {
    pub store_dir: PathBuf,
    /// The team store named by `--store postgres://…`, instead of the folder.
    pub team: Option<TeamSpec>,
    pub opts: StoreOptions,
}

/// A team store as the command line names it.
pub struct TeamSpec {
    /// `postgres://USER[:PASSWORD]@HOST:PORT/DB`.
    pub url: String,
    /// Where its artifacts live (needed by commands that touch artifacts, and by `serve`).
    pub artifacts: Option<String>,
}

/// True when `spec` names a PostgreSQL database rather than a store folder.
pub fn is_postgres_url(spec: &str) -> bool {
    spec.starts_with("postgres://") || spec.starts_with("postgresql://")
}

impl Ctx {
    /// Opens the store for reading and writing (a folder is created if missing; a team
    /// database is migrated).
    pub fn open(&self) -> anyhow::Result<Box<dyn Backend>> {
        match self.team_pg()? {
            Some(pg) => Ok(Box::new(pg)),
            None => Ok(Box::new(self.open_local()?)),
        }
    }

    /// The team store, when `--store` names one: its database, with its artifact store when
    /// `--artifacts` names one (without it, artifacts are refused with a clear error).
    pub fn team_pg(&self) -> anyhow::Result<Option<trackbench_store_pg::PgStore>> {
        let Some(team) = &self.team else { return Ok(None) };
        let pg = trackbench_store_pg::PgStore::connect(&team.url, self.opts.clone())
            .map_err(|e| anyhow::Error::new(e).context("opening the team store"))?;
        Ok(Some(match &team.artifacts {
            Some(url) => pg.with_blobs(
                trackbench_objstore::open_blobs(url)
                    .map_err(|e| anyhow::Error::new(e).context(format!("opening the artifact store {url}")))?,
            ),
            None => pg,
        }))
    }

    /// Opens the store folder, for the commands that work on one only (a team store is
    /// refused with a clear error).
    pub fn open_local(&self) -> anyhow::Result<Store> {
        if let Some(team) = &self.team {
            anyhow::bail!(
                "this command works on a store folder, not on a team store ({}); run it against a \
                 folder with --store DIR",
                trackbench_store_pg::redact(&team.url)
            );
        }
        Store::open(&self.store_dir, self.opts.clone())
            .map_err(|e| anyhow::Error::new(e).context(format!("opening store at {}", self.store_dir.display())))
    }

    /// The team store as the server takes it: the database and its artifact store.
    pub fn team_store(&self) -> anyhow::Result<Option<trackbench_server::TeamStore>> {
        let Some(team) = &self.team else { return Ok(None) };
        let Some(artifacts) = &team.artifacts else {
            anyhow::bail!(
                "a team store needs --artifacts URL (or TRACKBENCH_ARTIFACTS): where its artifacts live \
                 (s3://BUCKET/PREFIX, gs://BUCKET/PREFIX, az://CONTAINER/PREFIX or file:///PATH)"
            );
        };
        let store = trackbench_server::TeamStore::open(&team.url, artifacts)
            .map_err(|e| anyhow::Error::new(e).context(format!("opening the artifact store {artifacts}")))?;
        Ok(Some(store))
    }
}

/// The error and its causes joined with `: `, leaving out a cause whose text the message
/// before it already ends with (store errors print their cause themselves).
fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.ends_with(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// Maps an error chain to an exit code.
fn exit_code(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
        if let Some(s) = cause.downcast_ref::<StoreError>() {
            return match s {
                StoreError::RunNotFound(_)
                | StoreError::ProjectNotFound(_)
                | StoreError::ArtifactNotFound(_)
                | StoreError::AbNotFound(_)
                | StoreError::NotFound { .. } => 4,
                StoreError::Filter(_) | StoreError::Invalid { .. } | StoreError::AmbiguousRun(..) => 2,
                _ => 1,
            };
        }
        if let Some(l) = cause.downcast_ref::<trackbench_launch::LaunchError>() {
            use trackbench_launch::LaunchError as L;
            return match l {
                L::CommandNotFound(_) | L::UnknownDevice { .. } | L::Invalid { .. } => 2,
                _ => 1,
            };
        }
        if let Some(c) = cause.downcast_ref::<CompareError>() {
            return match c {
                CompareError::NoRuns(_) | CompareError::MetricNotFound(_) => 4,
                CompareError::Invalid { .. } => 2,
                _ => 1,
            };
        }
    }
    1
}

/// `trackbench runs ls | head`: when the reader leaves, `println!` panics with "Broken pipe".
/// The reader leaving is not an error: exit quietly (0, as for `export`) instead of printing a
/// panic. Everything else still goes to the default hook.
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info.payload_as_str().unwrap_or_default();
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info)
    }));
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TRACKBENCH_LOG")
                // wgpu's GL probe logs driver-loading failures as errors even when it then
                // finds an adapter; `trackbench train`/`doctor` report what matters themselves.
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,wgpu_hal=off")),
        )
        .with_writer(std::io::stderr)
        .init();
    quiet_broken_pipe();
    let cli = Cli::parse();
    let spec = cli.store.clone().or_else(|| std::env::var("TRACKBENCH_STORE").ok().filter(|s| !s.is_empty()));
    let team = spec
        .as_deref()
        .filter(|s| is_postgres_url(s))
        .map(|url| TeamSpec { url: url.to_string(), artifacts: cli.artifacts.clone().filter(|a| !a.is_empty()) });
    let store_dir = match (&team, spec) {
        (None, Some(dir)) => PathBuf::from(dir),
        _ => trackbench_sdk::default_store_dir(),
    };
    let ctx = Ctx {
        store_dir,
        team,
        opts: StoreOptions {
            heartbeat_timeout_ms: (cli.heartbeat_timeout * 1000.0).max(0.0) as i64,
            ..StoreOptions::default()
        },
    };
    let result = match cli.command {
        Command::Runs(c) => cmd_runs::runs(&ctx, c),
        Command::Projects(c) => cmd_runs::projects(&ctx, c),
        Command::Users(c) => cmd_users::users(&ctx, c),
        Command::Tokens(c) => cmd_users::tokens(&ctx, c),
        Command::Login(a) => cmd_login::login(a),
        Command::Logout => cmd_login::logout(),
        Command::Whoami { json } => cmd_login::whoami(json),
        Command::Export(a) => cmd_export::export(&ctx, a),
        Command::Compare(a) => cmd_compare::compare(&ctx, a),
        Command::Report(a) => cmd_report::report_cmd(&ctx, a),
        Command::Doctor { json } => cmd_runs::doctor(&ctx, json),
        Command::Demo(a) => cmd_demo::demo(&ctx, a),
        Command::Serve(a) => cmd_serve::serve(&ctx, a),
        Command::Ui(a) => cmd_ui::ui(&ctx, a),
        Command::Gc(a) => cmd_gc::gc(&ctx, a),
        Command::Import(c) => cmd_import::import(&ctx, c),
        Command::Train(a) => cmd_train::train(&ctx, a),
        Command::Launch(a) => cmd_launch::launch(&ctx, a),
        Command::Cancel(a) => cmd_launch::cancel(&ctx, a),
        Command::JobExec(a) => cmd_job_exec::job_exec(a),
        Command::Push(a) => cmd_push::push(&ctx, a),
        Command::Pull(a) => cmd_push::pull(&ctx, a),
        Command::Sweep(a) => cmd_sweep::sweep(&ctx, a),
        Command::Ab(a) => cmd_ab::ab(&ctx, a),
        Command::Models(c) => cmd_models::models(&ctx, c),
        Command::Store(c) => cmd_store::store(&ctx, c),
        Command::Drift(a) => cmd_drift::drift(&ctx, a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `trackbench export … | head`: the reader left; that is not a failure.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            let code = exit_code(&e);
            // A filter error renders with a caret under the offending token.
            if let Some(StoreError::Filter(pe)) = e.chain().find_map(|c| c.downcast_ref::<StoreError>())
                && let Some(input) = output::LAST_FILTER.with(|f| f.borrow().clone())
            {
                eprintln!("error: invalid filter: {pe}\n{}", pe.render(&input));
            } else {
                eprintln!("error: {}", error_chain(&e));
            }
            ExitCode::from(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks a command's definition only when that command is parsed: check them all
    /// (two arguments with one name panic at run time otherwise).
    #[test]
    fn every_command_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
