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
        ImportCmd::Wandb { path, project, json } => {
            let mut store = ctx.open()?;
            let reports = trackbench_import::wandb::import(&mut store, &path, project.as_deref())?;
            print_runs(&reports, json)
        }
        ImportCmd::Trackio { db, project, json } => {
            let mut store = ctx.open()?;
            let reports = trackbench_import::trackio::import(&mut store, &db, project.as_deref())?;
            print_runs(&reports, json)
        }
        ImportCmd::Mlflow { source, remap_artifacts, json } => {
            let remap = match remap_artifacts.as_deref() {
                Some(r) => Some(r.split_once('=').ok_or_else(|| {
                    anyhow::Error::new(trackbench_store::StoreError::Invalid {
                        what: "--remap-artifacts",
                        why: format!("`{r}` is not OLD=NEW"),
                    })
                })?),
                None => None,
            };
            let mut store = ctx.open()?;
            let reports = trackbench_import::mlflow::import(&mut store, &source, remap)?;
            print_runs(&reports, json)
        }
        ImportCmd::Tensorboard { dir, project, watch, json } => {
            let mut store = ctx.open()?;
            if watch {
                return follow(&mut store, &dir, &project);
            }
            let reports = tensorboard::import(&mut store, &dir, &project)?;
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
    eprintln!("following {} (Ctrl-C to stop)", dir.display());
    while !stop.load(Ordering::SeqCst) {
        let n = follower.poll(store)?;
        if n > 0 {
            eprintln!("+{n} scalar(s)");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
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
            eprintln!("warning: run {}: {p}", r.run_id);
        }
    }
    let imported = reports.iter().filter(|r| r.skipped.is_none()).count();
    eprintln!("{imported} run(s) imported, {} skipped", reports.len() - imported);
    Ok(())
}
