//! The `cargo xtask bench` part "team server on PostgreSQL, side by side with mlflow server":
//! `trackbench-team-bench` (crates/trackbench-bench) against a throwaway PostgreSQL cluster
//! ([`crate::postgres`]), or the server named by `TRACKBENCH_BENCH_POSTGRES` (an admin URL that
//! may create databases), with `mlflow server` from a venv under the target dir built from
//! `crates/trackbench-bench/team/requirements.txt` (mlflow + psycopg2). Skipped, saying why,
//! when PostgreSQL, `psql` or that venv cannot be had.
//!
//! [`wire_bench`], the part "remote logging wire" (issue 16 part 4), runs the same binary with
//! `--wire` and, for the Python SDK's rows, the data benchmark's venv with the release wheel
//! built into it (those rows are skipped, saying why, without that venv).

use std::process::Command;

use crate::{Outcome, cargo, pinned_venv, postgres, root, status, target_dir, which};

/// Makes the venv (installing the pinned requirements when they changed), returning its
/// `mlflow` executable.
fn mlflow_venv() -> Result<std::path::PathBuf, String> {
    let venv = target_dir().join("mlflow-pg-venv");
    pinned_venv(
        &venv,
        &root().join("crates/trackbench-bench/team/requirements.txt"),
        "mlflow + psycopg2 for the team-server benchmark",
    )?;
    Ok(venv.join("bin").join("mlflow"))
}

pub fn bench() -> Outcome {
    if which("psql").is_none() {
        return Outcome::Skipped("no `psql` on PATH (Debian: apt-get install postgresql-client)".into());
    }
    let mlflow = match mlflow_venv() {
        Ok(m) => m,
        Err(why) => return Outcome::Skipped(format!("no mlflow server venv: {why}")),
    };
    // A given server, else a throwaway cluster (stopped when this returns).
    let (url, _cluster) = match std::env::var("TRACKBENCH_BENCH_POSTGRES") {
        Ok(url) if !url.is_empty() => (url, None),
        _ => match postgres::Postgres::start() {
            Ok(pg) => (pg.url.clone(), Some(pg)),
            Err(why) => return Outcome::Skipped(format!("no PostgreSQL: {why}")),
        },
    };
    let mut build = cargo();
    build.args(["build", "--release", "--locked", "-p", "trackbench-cli", "-p", "trackbench-bench"]);
    if let Outcome::Failed(e) = status(build) {
        return Outcome::Failed(format!("building the CLI and trackbench-team-bench: {e}"));
    }
    let release = target_dir().join("release");
    let mut c = Command::new(release.join("trackbench-team-bench"));
    c.arg("--pg").arg(&url).arg("--mlflow").arg(&mlflow).arg("--trackbench").arg(release.join("trackbench"));
    status(c)
}

/// The PostgreSQL server to bench against: `TRACKBENCH_BENCH_POSTGRES`, else a throwaway cluster
/// (stopped when the second value drops).
fn bench_postgres() -> Result<(String, Option<postgres::Postgres>), String> {
    match std::env::var("TRACKBENCH_BENCH_POSTGRES") {
        Ok(url) if !url.is_empty() => Ok((url, None)),
        _ => postgres::Postgres::start().map(|pg| (pg.url.clone(), Some(pg))),
    }
}

pub fn wire_bench() -> Outcome {
    if which("psql").is_none() {
        return Outcome::Skipped("no `psql` on PATH (Debian: apt-get install postgresql-client)".into());
    }
    let mlflow = match mlflow_venv() {
        Ok(m) => m,
        Err(why) => return Outcome::Skipped(format!("no mlflow server venv: {why}")),
    };
    let (url, _cluster) = match bench_postgres() {
        Ok(pg) => pg,
        Err(why) => return Outcome::Skipped(format!("no PostgreSQL: {why}")),
    };
    let mut build = cargo();
    build.args(["build", "--release", "--locked", "-p", "trackbench-cli", "-p", "trackbench-bench"]);
    if let Outcome::Failed(e) = status(build) {
        return Outcome::Failed(format!("building the CLI and trackbench-team-bench: {e}"));
    }
    let python = match crate::data_bench::venv() {
        Ok(vpy) => match crate::data_bench::install_wheel(&vpy) {
            Ok(()) => Some(vpy),
            Err(e) => return Outcome::Failed(e),
        },
        Err(why) => {
            eprintln!("no venv for the Python SDK's rows ({why}); they are skipped");
            None
        }
    };
    let release = target_dir().join("release");
    let mut c = Command::new(release.join("trackbench-team-bench"));
    c.arg("--pg").arg(&url).arg("--mlflow").arg(&mlflow).arg("--trackbench").arg(release.join("trackbench"));
    c.arg("--wire");
    if let Some(py) = python {
        c.arg("--python").arg(py);
    }
    status(c)
}
