//! The `cargo xtask bench` part "data profiles and drift, side by side with whylogs and
//! Evidently" (issue 19): `crates/trackbench-bench/data/bench_data.py` in a venv under the target
//! dir (`data-bench-venv`) built from `crates/trackbench-bench/data/requirements.txt` (whylogs,
//! Evidently, pandas, numpy, pyarrow, scipy, maturin), into which the Trackbench wheel is built in
//! release by that venv's maturin and installed (not `maturin develop`: the source tree's
//! extension stays the test venv's); with the release CLI for `trackbench drift` and
//! `trackbench-data-bench` for the numbers taken in Rust. Skipped, saying why, when the venv
//! cannot be had (no python3, PyPI unreachable). The result's JSON line is also kept in
//! `target/data-bench.json`.

use std::path::PathBuf;
use std::process::Command;

use crate::{Outcome, cargo, pinned_venv, root, status, target_dir};

/// Makes the venv (installing the pinned requirements when they changed), returning its python.
pub(crate) fn venv() -> Result<PathBuf, String> {
    pinned_venv(
        &target_dir().join("data-bench-venv"),
        &root().join("crates/trackbench-bench/data/requirements.txt"),
        "whylogs, Evidently, pandas and maturin for the data benchmark",
    )
}

/// Builds the Python SDK's wheel in release and installs it into the venv of `vpy`.
pub(crate) fn install_wheel(vpy: &PathBuf) -> Result<(), String> {
    let out = target_dir().join("data-bench-wheels");
    let _ = std::fs::remove_dir_all(&out);
    let bin = vpy.parent().ok_or("the venv's python has no folder")?;
    let mut c = Command::new(bin.join("maturin"));
    c.current_dir(root())
        .args(["build", "--release", "--locked", "--quiet", "-m", "tracker-sdk/python/Cargo.toml", "--out"])
        .arg(&out)
        .arg("--interpreter")
        .arg(vpy);
    if let Outcome::Failed(e) | Outcome::Skipped(e) = status(c) {
        return Err(format!("maturin build --release: {e}"));
    }
    let wheel = std::fs::read_dir(&out)
        .map_err(|e| format!("reading {}: {e}", out.display()))?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| format!("maturin left no wheel in {}", out.display()))?;
    let mut c = Command::new(vpy);
    c.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--force-reinstall", "--no-deps"])
        .arg(&wheel);
    match status(c) {
        Outcome::Passed => Ok(()),
        Outcome::Failed(e) | Outcome::Skipped(e) => Err(format!("pip install {}: {e}", wheel.display())),
    }
}

pub fn bench() -> Outcome {
    let vpy = match venv() {
        Ok(v) => v,
        Err(why) => return Outcome::Skipped(format!("no data-benchmark venv: {why}")),
    };
    let mut build = cargo();
    build.args(["build", "--release", "--locked", "-p", "trackbench-cli", "-p", "trackbench-bench"]);
    if let Outcome::Failed(e) = status(build) {
        return Outcome::Failed(format!("building the CLI and trackbench-data-bench: {e}"));
    }
    if let Err(e) = install_wheel(&vpy) {
        return Outcome::Failed(e);
    }
    let release = target_dir().join("release");
    let mut c = Command::new(&vpy);
    // Run from the target dir, so `import trackbench` finds the installed wheel, not the source
    // tree's package.
    c.current_dir(target_dir())
        .arg(root().join("crates/trackbench-bench/data/bench_data.py"))
        .arg("--trackbench")
        .arg(release.join("trackbench"))
        .arg("--native")
        .arg(release.join("trackbench-data-bench"))
        .arg("--json-out")
        .arg(target_dir().join("data-bench.json"));
    status(c)
}
