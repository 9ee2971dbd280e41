//! `trackbench import mlflow SOURCE`: an MLflow `mlruns/` folder or SQLite database.
//! `trackbench import trackio PROJECT.db`: a trackio project.
//! `trackbench import wandb PATH`: W&B offline runs.
//! `trackbench import tensorboard DIR`: TensorBoard event files into the store, one run per
//! folder of event files; `--watch` keeps following a job that is still writing (Ctrl-C stops).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Subcommand;
use trackbench_import::tensorboard::{self, Follower};

use crate::{Ctx, output};

#[derive(Subcommand)]
pub enum ImportCmd {
    /// An MLflow `mlruns/` folder or `sqlite:///path/mlflow.db` tracking database
    Mlflow {
        /// `mlruns/` folder, or `sqlite:///path.db`
        source: String,
        /// Rewrite the start of local artifact paths (a store copied from elsewhere): OLD=NEW
        #[arg(long, value_name = "OLD=NEW")]
        remap_artifacts: Option<String>,
        /// Also copy artifacts that lie outside the imported folder (and NEW): by default an
        /// artifact location or link pointing elsewhere is skipped with a warning
        #[arg(long)]
        allow_outside_artifacts: bool,
        #[arg(long)]
        json: bool,
    },
    /// W&B offline runs (`wandb/offline-run-*`), which W&B itself shows only after syncing
    Wandb {
        /// A `wandb/` folder, one `offline-run-*` folder, or one `run-*.wandb` file
        path: PathBuf,
        /// Project to import into (default: the run's W&B project)
        #[arg(long)]
        project: Option<String>,
        /// Also copy saved files that are links to outside the run's `files/` folder: by
        /// default they are skipped with a warning
        #[arg(long)]
        allow_outside_artifacts: bool,
        #[arg(long)]
        json: bool,
    },
    /// A trackio project database (`<project>.db` in trackio's folder)
    Trackio {
        db: PathBuf,
        /// Project to import into (default: the database's name)
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// TensorBoard event files (tensorboardX, TensorFlow, PyTorch's SummaryWriter)
    Tensorboard {
        /// A log folder; every folder under it that holds event files becomes a run
        dir: PathBuf,
        /// Project to import into
        #[arg(long, default_value = "tensorboard")]
        project: String,
        /// Keep following the folder and append new scalars as they are written (Ctrl-C stops)
        #[arg(long)]
        watch: bool,
        #[arg(long)]
        json: bool,
    },
}

pub fn import(ctx: &Ctx, cmd: ImportCmd) -> anyhow::Result<()> {
    match cmd {
        ImportCmd::Wandb { path, project, allow_outside_artifacts, json } => {
            let mut store = ctx.open_local()?;
            let opts = trackbench_import::wandb::Options { project: project.as_deref(), allow_outside_artifacts };
            let reports =
                with_bar("run files", |p| trackbench_import::wandb::import_opts(&mut store, &path, &opts, p))?;
            print_runs(&reports, json)
        }
        ImportCmd::Trackio { db, project, json } => {
            let mut store = ctx.open_local()?;
            let reports =
                with_bar("runs", |p| trackbench_import::trackio::import_with(&mut store, &db, project.as_deref(), p))?;
            print_runs(&reports, json)
        }
        ImportCmd::Mlflow { source, remap_artifacts, allow_outside_artifacts, json } => {
            let remap = match remap_artifacts.as_deref() {
                Some(r) => Some(r.split_once('=').ok_or_else(|| {
                    anyhow::Error::new(trackbench_store::StoreError::Invalid {
                        what: "--remap-artifacts",
                        why: format!("`{r}` is not OLD=NEW"),
                    })
                })?),
                None => None,
            };
            let mut store = ctx.open_local()?;
            let opts = trackbench_import::mlflow::Options { remap, allow_outside_artifacts };
            let reports = with_bar("runs", |p| trackbench_import::mlflow::import_opts(&mut store, &source, &opts, p))?;
            print_runs(&reports, json)
        }
        ImportCmd::Tensorboard { dir, project, watch, json } => {
            let mut store = ctx.open_local()?;
            if watch {
                return follow(&mut store, &dir, &project);
            }
            let reports = with_bar("folders", |p| tensorboard::import_with(&mut store, &dir, &project, p))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&reports)?);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = reports
                .iter()
                .map(|r| {
                    vec![
                        r.folder.clone(),
                        r.run.clone().unwrap_or_else(|| "-".into()),
                        r.scalars.to_string(),
                        r.params.to_string(),
                        r.skipped.clone().unwrap_or_else(|| "imported".into()),
                    ]
                })
                .collect();
            print!("{}", output::table(&["FOLDER", "RUN", "SCALARS", "PARAMS", "RESULT"], &rows));
            for r in &reports {
                for p in &r.problems {
                    eprintln!("warning: {p}");
                }
            }
            let imported = reports.iter().filter(|r| r.skipped.is_none()).count();
            eprintln!(
                "{imported} run(s) imported, {} skipped, {} scalar(s)",
                reports.len() - imported,
                reports.iter().map(|r| r.scalars).sum::<usize>()
            );
            Ok(())
        }
    }
}

fn follow(store: &mut trackbench_store::Store, dir: &std::path::Path, project: &str) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::spawn(move || {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
            rt.block_on(async {
                let _ = tokio::signal::ctrl_c().await;
            });
            flag.store(true, Ordering::SeqCst);
        }
    });
    let mut follower = Follower::new(dir, project)?;
    // File events wake the loop at once; a timer covers file systems without events.
    let (tx, rx) = std::sync::mpsc::channel();
    let watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        if ev.is_ok() {
            let _ = tx.send(());
        }
    })
    .and_then(|mut w| {
        use notify::Watcher;
        w.watch(dir, notify::RecursiveMode::Recursive)?;
        Ok(w)
    });
    if let Err(e) = &watcher {
        eprintln!("warning: cannot watch {} ({e}); checking every second instead", dir.display());
    }
    eprintln!("following {} (Ctrl-C to stop)", dir.display());
    while !stop.load(Ordering::SeqCst) {
        let n = follower.poll(store)?;
        if n > 0 {
            eprintln!("+{n} scalar(s)");
        }
        let _ = rx.recv_timeout(Duration::from_secs(1));
        // Let a burst of writes settle into one read.
        std::thread::sleep(Duration::from_millis(50));
        while rx.try_recv().is_ok() {}
    }
    drop(watcher);
    follower.finish(store)?;
    eprintln!("stopped; the followed runs are marked finished");
    Ok(())
}

fn print_runs(reports: &[trackbench_import::mlflow::RunReport], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(reports)?);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = reports
        .iter()
        .map(|r| {
            vec![
                r.run_id.clone(),
                r.project.clone(),
                r.name.clone(),
                r.points.to_string(),
                r.artifacts.to_string(),
                r.skipped.clone().unwrap_or_else(|| "imported".into()),
            ]
        })
        .collect();
    print!("{}", output::table(&["RUN", "PROJECT", "NAME", "POINTS", "ARTIFACTS", "RESULT"], &rows));
    for r in reports {
        for p in &r.problems {
            if r.run_id.is_empty() {
                eprintln!("warning: {p}");
            } else {
                eprintln!("warning: run {}: {p}", r.run_id);
            }
        }
    }
    let imported = reports.iter().filter(|r| r.skipped.is_none()).count();
    eprintln!("{imported} run(s) imported, {} skipped", reports.len() - imported);
    Ok(())
}

/// Runs `f` with a progress bar on stderr (shown on a terminal only) fed by its callback.
fn with_bar<T>(what: &str, f: impl FnOnce(&mut dyn FnMut(usize, usize)) -> T) -> T {
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} importing {{pos}}/{{len}} {what} {{wide_bar}} {{eta}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut update = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let out = f(&mut update);
    bar.finish_and_clear();
    out
}
