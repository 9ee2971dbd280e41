//! `cargo xtask`: the repository's build and test driver (`test`, `bench`, `demo`, `ui`, `bundle`,
//! `slurm`).
//!
//! Everything a new machine needs is set up from here, so that the README's two commands
//! (`cargo xtask demo`, `cargo xtask test`) work on a fresh clone. Each suite prints what it
//! ran; a suite that cannot run here says so and why, and the run ends with a summary.

mod azurite;
mod data_bench;
mod desktop;
mod gcs;
mod postgres;
mod s3;
mod slurm;
mod slurm_bench;
mod tally;
mod team_bench;
mod ui;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

/// The repository root. `cargo run` sets CARGO_MANIFEST_DIR at run time too; prefer that over
/// the compile-time value, which is stale when one target dir serves several checkouts.
fn root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// Outcome of one suite.
enum Outcome {
    Passed,
    Failed(String),
    Skipped(String),
}

/// One suite's result: its name, outcome, seconds, and the skips its own output reported; and
/// which suites to run (`None`: all; else those whose name contains the text).
struct Report(Vec<(&'static str, Outcome, f64, Vec<String>)>, Option<String>);

impl Report {
    fn run(&mut self, name: &'static str, f: impl FnOnce() -> Outcome) {
        if self.1.as_ref().is_some_and(|part| !name.contains(part.as_str())) {
            return;
        }
        eprintln!("\n==> {name}");
        let t = Instant::now();
        let skips_before = tally::with(|s| s.skipped.len());
        let outcome = f();
        let secs = t.elapsed().as_secs_f64();
        let inner: Vec<String> = tally::with(|s| s.skipped[skips_before..].to_vec());
        match &outcome {
            Outcome::Passed if inner.is_empty() => eprintln!("<== {name}: passed ({secs:.0} s)"),
            Outcome::Passed => eprintln!("<== {name}: passed, with {} skip(s) inside ({secs:.0} s)", inner.len()),
            Outcome::Failed(why) => eprintln!("<== {name}: FAILED: {why} ({secs:.0} s)"),
            Outcome::Skipped(why) => eprintln!("<== {name}: SKIPPED: {why}"),
        }
        self.0.push((name, outcome, secs, inner));
    }

    /// Prints the summary: every suite, every test skipped inside a suite with its reason, and
    /// the runners' test counts added up. The exit code is a failure when any suite failed.
    fn finish(self) -> ExitCode {
        eprintln!("\nxtask test summary:");
        let (mut failed, mut passed, mut skipped) = (0, 0, 0);
        for (name, outcome, secs, inner) in &self.0 {
            match outcome {
                Outcome::Passed => {
                    passed += 1;
                    eprintln!("  ok       {name} ({secs:.0} s)")
                }
                Outcome::Failed(why) => {
                    failed += 1;
                    eprintln!("  FAILED   {name}: {why}")
                }
                Outcome::Skipped(why) => {
                    skipped += 1;
                    eprintln!("  skipped  {name}: {why}")
                }
            }
            for line in inner {
                eprintln!("             skipped inside: {line}");
            }
        }
        let (tests_passed, tests_failed, inner_skips) = tally::with(|s| (s.passed, s.failed, s.skipped.len()));
        eprintln!(
            "\nsuites: {passed} passed, {failed} failed, {skipped} skipped; {inner_skips} skip line(s) inside suites (listed above)"
        );
        // One plain closing line for whoever reads the log's end: the runners' counts added up.
        println!("tests: {tests_passed} passed, {tests_failed} failed, {inner_skips} skipped");
        if failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS }
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// Whether this process runs as root (so it may install system packages).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// Finds `name` on PATH.
fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file()))
}

/// A virtualenv at `venv` (its python returned), created when missing; Debian's python3 ships
/// `venv` separately, so `python3-venv` is installed with apt-get where we may.
pub(crate) fn new_venv(venv: &Path) -> Result<PathBuf, String> {
    let python = which("python3").ok_or("python3 not found on PATH")?;
    let vpy = venv.join("bin").join("python");
    if vpy.exists() {
        return Ok(vpy);
    }
    let make_venv =
        || Command::new(&python).args(["-m", "venv"]).arg(venv).status().map(|s| s.success()).unwrap_or(false);
    let mut ok = make_venv();
    if !ok && is_root() && which("apt-get").is_some() {
        eprintln!("python3 has no working venv module; installing python3-venv with apt-get");
        let _ = std::fs::remove_dir_all(venv);
        apt_install(&["python3-venv"]);
        ok = make_venv();
    }
    if !ok {
        return Err(format!("`{} -m venv` failed (Debian: apt-get install python3-venv)", python.display()));
    }
    Ok(vpy)
}

/// The venv at `venv` with the pinned `requirements` installed (again only when the file
/// changed; the installed copy is the stamp), returning its python. `what` names the install
/// in the one line it prints.
pub(crate) fn pinned_venv(venv: &Path, requirements: &Path, what: &str) -> Result<PathBuf, String> {
    let vpy = new_venv(venv)?;
    let text = std::fs::read_to_string(requirements).map_err(|e| format!("reading {}: {e}", requirements.display()))?;
    let stamp = venv.join("requirements.txt");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(text.as_str()) {
        eprintln!("installing {what} (once)");
        let mut c = Command::new(&vpy);
        c.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"]).arg(requirements);
        match status(c) {
            Outcome::Passed => {
                let _ = std::fs::write(&stamp, &text);
            }
            Outcome::Failed(e) | Outcome::Skipped(e) => {
                return Err(format!("pip install -r {} failed ({e}; is PyPI reachable?)", requirements.display()));
            }
        }
    }
    Ok(vpy)
}

/// A virtualenv under the target dir with maturin and pytest, created on first use.
fn python_venv() -> Result<PathBuf, String> {
    let venv = target_dir().join("py-venv");
    let vpy = new_venv(&venv)?;
    let have = Command::new(&vpy)
        .args(["-c", "import maturin, pytest"])
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !have {
        let mut c = Command::new(&vpy);
        c.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "maturin>=1.5,<2", "pytest>=7"]);
        if !matches!(status(c), Outcome::Passed) {
            return Err("installing maturin and pytest from PyPI failed".into());
        }
    }
    Ok(venv)
}

/// Builds the Python package into the venv (`maturin develop`), returning the venv.
fn python_package(release: bool) -> Result<PathBuf, String> {
    let venv = python_venv()?;
    let bin = venv.join("bin");
    let path = std::env::join_paths(
        std::iter::once(bin.clone()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .map_err(|e| e.to_string())?;
    let mut c = Command::new(bin.join("maturin"));
    c.current_dir(root()).args(["develop", "--quiet", "-m", "tracker-sdk/python/Cargo.toml"]);
    if release {
        c.arg("--release");
    }
    c.env("VIRTUAL_ENV", &venv).env("PATH", path);
    match status(c) {
        Outcome::Passed => Ok(venv),
        _ => Err("maturin develop failed".into()),
    }
}

fn python_tests() -> Outcome {
    let venv = match python_package(false) {
        Ok(v) => v,
        Err(e) if e.contains("not found") => return Outcome::Skipped(e),
        Err(e) => return Outcome::Failed(e),
    };
    // `cargo test --workspace` above built the CLI; build it only when it is missing (a build
    // with other features would recompile half the dependency tree).
    let cli = target_dir().join("debug").join("trackbench");
    if !cli.exists() {
        let mut build = cargo();
        build.args(["build", "--locked", "-p", "trackbench-cli"]);
        if let Outcome::Failed(e) = status(build) {
            return Outcome::Failed(format!("building the trackbench CLI: {e}"));
        }
    }
    let mut c = Command::new(venv.join("bin").join("python"));
    c.current_dir(root().join("tracker-sdk/python"))
        .args(["-m", "pytest", "tests", "-q", "-rs", "-p", "no:cacheprovider"])
        .env("TRACKBENCH_BIN", &cli);
    match framework_requirements(&venv) {
        // Installed: a test that finds a framework missing fails instead of skipping.
        Ok(()) => {
            c.env("TRACKBENCH_REQUIRE_FRAMEWORKS", "1");
        }
        Err(why) => eprintln!(
            "\n!!! the real Lightning, Hugging Face, pandas, polars and pyarrow tests will be SKIPPED: {why}\n"
        ),
    }
    status(c)
}

/// Installs `tracker-sdk/python/tests/requirements-frameworks.txt` (CPU use of torch, Lightning,
/// transformers; pandas, polars and pyarrow for `log_dataset`) into the test venv when its hash changed since the last install.
fn framework_requirements(venv: &Path) -> Result<(), String> {
    let requirements = root().join("tracker-sdk/python/tests/requirements-frameworks.txt");
    let text = std::fs::read(&requirements).map_err(|e| format!("reading {}: {e}", requirements.display()))?;
    let hash = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut h);
        h.finish().to_string()
    };
    let stamp = venv.join("frameworks.hash");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == hash) {
        return Ok(());
    }
    eprintln!(
        "installing the real frameworks for the integration tests (torch, lightning, transformers, pandas, polars, pyarrow; once)"
    );
    let mut c = Command::new(venv.join("bin").join("python"));
    c.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"]).arg(&requirements);
    match status(c) {
        Outcome::Passed => {
            let _ = std::fs::write(&stamp, hash);
            Ok(())
        }
        Outcome::Failed(e) | Outcome::Skipped(e) => Err(format!("pip install -r {}: {e}", requirements.display())),
    }
}

/// The official MLflow client (the full `mlflow` package with scikit-learn, pinned in
/// `crates/trackbench-server/tests/python/requirements.txt`) against the real `trackbench serve`,
/// in its own venv under the target dir. Without PyPI the suite cannot install the client: it is
/// skipped, and says so. With `team` (the PostgreSQL admin URL and the S3 URL) the same suite runs
/// against `trackbench serve` on a team store: a fresh database and bucket prefix (conftest.py).
fn mlflow_client_tests(team: Option<(&str, &str)>) -> Outcome {
    let suite = root().join("crates/trackbench-server/tests/python");
    let requirements = suite.join("requirements.txt");
    let vpy = match new_venv(&target_dir().join("mlflow-venv")) {
        Ok(v) => v,
        Err(e) => return Outcome::Skipped(e),
    };
    let pinned = std::fs::read_to_string(&requirements)
        .ok()
        .and_then(|r| r.lines().find_map(|l| l.trim().strip_prefix("mlflow==").map(str::to_string)))
        .unwrap_or_default();
    let have = Command::new(&vpy)
        // The distribution `mlflow`, not only `mlflow-skinny` (same version, same import name).
        .args([
            "-c",
            &format!("import importlib.metadata as m, pytest, sklearn; assert m.version('mlflow') == '{pinned}'"),
        ])
        .current_dir(target_dir())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !have {
        let mut c = Command::new(&vpy);
        c.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"]).arg(&requirements);
        if let Outcome::Failed(e) = status(c) {
            let reachable = std::net::ToSocketAddrs::to_socket_addrs(&("pypi.org", 443))
                .ok()
                .and_then(|mut a| a.next())
                .is_some_and(|a| std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(10)).is_ok());
            if !reachable && std::env::var_os("PIP_INDEX_URL").is_none() {
                eprintln!("\n!!! SKIPPED: the MLflow client suite could not install mlflow: PyPI is unreachable\n");
                return Outcome::Skipped(format!("cannot reach PyPI to install mlflow=={pinned} ({e})"));
            }
            return Outcome::Failed(format!("pip install -r {}: {e}", requirements.display()));
        }
    }
    let cli = target_dir().join("debug").join("trackbench");
    if !cli.exists() {
        let mut build = cargo();
        build.args(["build", "--locked", "-p", "trackbench-cli"]);
        if let Outcome::Failed(e) = status(build) {
            return Outcome::Failed(format!("building the trackbench CLI: {e}"));
        }
    }
    let mut c = Command::new(&vpy);
    c.current_dir(&suite)
        .args(["-m", "pytest", ".", "-q", "-rs", "-p", "no:cacheprovider"])
        .env("TRACKBENCH_BIN", &cli);
    if let Some((postgres, s3)) = team {
        c.env("TRACKBENCH_TEST_TEAM_POSTGRES", postgres).env("TRACKBENCH_TEST_TEAM_S3", s3);
    }
    status(c)
}

/// Runs a command to its end, its output copied to stderr and scanned for skipped tests and test
/// counts ([`tally`]); the log also stays under the target dir (`xtask-logs/`).
fn status(c: Command) -> Outcome {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    eprintln!("$ {c:?}");
    let log = target_dir().join("xtask-logs").join(format!("{:03}.log", N.fetch_add(1, Ordering::Relaxed)));
    match tally::run_followed(c, &log, &mut std::io::stderr()) {
        Ok(s) if s.success() => Outcome::Passed,
        Ok(s) => Outcome::Failed(format!("exited with {s}")),
        Err(e) => Outcome::Failed(format!("could not start: {e}")),
    }
}

/// Installs Debian packages with apt-get (running `apt-get update` once if the first try fails).
fn apt_install(packages: &[&str]) -> bool {
    let install = || {
        let mut c = Command::new("apt-get");
        c.args(["install", "-y", "--no-install-recommends"]).args(packages).env("DEBIAN_FRONTEND", "noninteractive");
        matches!(status(c), Outcome::Passed)
    };
    install() || {
        let mut u = Command::new("apt-get");
        u.arg("update");
        let _ = status(u);
        install()
    }
}

/// Whether a Vulkan loader and Mesa's lavapipe (a CPU Vulkan driver) are installed.
fn have_lavapipe() -> bool {
    let loader = [
        "/usr/lib/x86_64-linux-gnu/libvulkan.so.1",
        "/usr/lib/aarch64-linux-gnu/libvulkan.so.1",
        "/usr/lib/libvulkan.so.1",
    ]
    .iter()
    .any(|p| Path::new(p).exists());
    let icd = std::fs::read_dir("/usr/share/vulkan/icd.d")
        .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with("lvp_icd")))
        .unwrap_or(false);
    loader && icd
}

/// The trainer's wgpu tests run on lavapipe where there is no GPU: install it when missing and
/// we may (root with apt-get). Without it those tests print SKIPPED with the reason.
fn ensure_lavapipe() {
    if have_lavapipe() {
        return;
    }
    if is_root() && which("apt-get").is_some() {
        eprintln!("no Vulkan driver found; installing mesa-vulkan-drivers and libvulkan1 (lavapipe) with apt-get");
        if !apt_install(&["mesa-vulkan-drivers", "libvulkan1"]) || !have_lavapipe() {
            eprintln!("warning: installing lavapipe failed; the trainer's wgpu tests will be SKIPPED");
        }
    } else {
        eprintln!(
            "warning: no Vulkan driver and no root/apt-get to install lavapipe; the trainer's wgpu tests will be SKIPPED"
        );
    }
}

/// A private `XDG_RUNTIME_DIR` (Mesa complains without one) under the target dir.
fn xdg_runtime_dir() -> Option<PathBuf> {
    if std::env::var_os("XDG_RUNTIME_DIR").is_some() {
        return None;
    }
    let dir = target_dir().join("xdg-runtime");
    std::fs::create_dir_all(&dir).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).ok()?;
    }
    Some(dir)
}

fn test(args: &[String]) -> ExitCode {
    let mut report = Report(Vec::new(), None);
    ensure_lavapipe();
    let xdg = xdg_runtime_dir();
    // The server embeds ui/dist at compile time: build the UI before cargo builds the server.
    let mut ui_built = ui::Built::Unavailable("not built".into());
    report.run("ui: npm ci + build (embedded by the server)", || {
        ui_built = ui::build();
        match &ui_built {
            ui::Built::Ready => Outcome::Passed,
            ui::Built::Unavailable(why) => Outcome::Skipped(why.clone()),
            ui::Built::Failed(why) => Outcome::Failed(why.clone()),
        }
    });
    // A throwaway PostgreSQL for the team store's contract tests (they skip, saying why, without).
    let postgres = match postgres::Postgres::start() {
        Ok(pg) => Some(pg),
        Err(why) => {
            eprintln!("\n!!! SKIPPED: the PostgreSQL store tests: {why}\n");
            None
        }
    };
    // A throwaway S3 server (moto) for the object-store artifact tests (they skip without).
    let s3 = match s3::S3::start() {
        Ok(s3) => Some(s3),
        Err(why) => {
            eprintln!("\n!!! SKIPPED: the object-store (S3) tests: {why}\n");
            None
        }
    };
    // The same for Azure (Azurite) and GCS (fake-gcs-server); only the workspace tests use them.
    let azure = match azurite::Azurite::start() {
        Ok(azure) => Some(azure),
        Err(why) => {
            eprintln!("\n!!! SKIPPED: the object-store (Azure) tests: {why}\n");
            None
        }
    };
    let gcs = match gcs::Gcs::start() {
        Ok(gcs) => Some(gcs),
        Err(why) => {
            eprintln!("\n!!! SKIPPED: the object-store (GCS) tests: {why}\n");
            None
        }
    };
    // A throwaway single-node Slurm cluster for launching runs on Slurm (workspace tests only).
    let slurm = match slurm::Slurm::start() {
        Ok(slurm) => Some(slurm),
        Err(why) => {
            eprintln!("\n!!! SKIPPED: the Slurm cluster tests: {why}\n");
            None
        }
    };
    report.run("rust: build and test the workspace", || {
        let mut c = cargo();
        if let Some(dir) = &xdg {
            c.env("XDG_RUNTIME_DIR", dir);
        }
        if let Some(pg) = &postgres {
            c.env("TRACKBENCH_TEST_POSTGRES", &pg.url);
        }
        if let Some(s3) = &s3 {
            c.env("TRACKBENCH_TEST_S3", &s3.url);
        }
        if let Some(azure) = &azure {
            c.env("TRACKBENCH_TEST_AZURE", &azure.url);
        }
        if let Some(gcs) = &gcs {
            c.env("TRACKBENCH_TEST_GCS", &gcs.url);
        }
        if let Some(slurm) = &slurm {
            c.env("TRACKBENCH_TEST_SLURM", &slurm.conf);
        }
        // The PyO3 extension only links inside a Python process: maturin builds it below.
        c.args(["test", "--workspace", "--locked", "--exclude", "trackbench-python"]);
        c.args(args);
        status(c)
    });
    drop((azure, gcs));
    report.run("python SDK (maturin develop + pytest)", python_tests);
    report.run("mlflow client against trackbench serve (pytest)", || mlflow_client_tests(None));
    report.run("mlflow client against trackbench serve on PostgreSQL + S3 (pytest)", || match (&postgres, &s3) {
        (Some(pg), Some(s3)) => mlflow_client_tests(Some((&pg.url, &s3.url))),
        (None, _) => Outcome::Skipped("no throwaway PostgreSQL (see the warning above)".into()),
        (_, None) => Outcome::Skipped("no throwaway S3 server (see the warning above)".into()),
    });
    drop(s3);
    report.run("ui unit (vitest) + browser end-to-end (Playwright, Chromium)", || {
        // `cargo test` above built the debug CLI; make sure it embeds the current UI. The
        // browser tests' store gets its dataset profiles from `trackbench-ui-datasets`.
        let mut build = cargo();
        build.args(["build", "--locked", "-p", "trackbench-cli", "-p", "trackbench-bench"]);
        build.args(["--bin", "trackbench", "--bin", "trackbench-ui-datasets"]);
        if let Outcome::Failed(e) = status(build) {
            return Outcome::Failed(format!("building the trackbench CLI and trackbench-ui-datasets: {e}"));
        }
        // The browser tests run a second time against a server on a team store.
        let team = match &postgres {
            Some(pg) => pg.create_database("trackbench_e2e"),
            None => Err("no throwaway PostgreSQL (see the warning above)".into()),
        };
        // The launch form's Slurm spec runs on the test cluster when there is one.
        let slurm_conf = slurm.as_ref().map(|s| s.conf.as_path());
        ui::tests(&ui_built, &target_dir().join("debug").join("trackbench"), team, slurm_conf)
    });
    // Stopped (and its files removed) before the next suites need the machine.
    drop((postgres, slurm));
    report.run("desktop smoke under Xvfb (tauri-driver + WebKitWebDriver)", || match &ui_built {
        // The app shows the UI the server embeds: without it there is nothing to drive.
        ui::Built::Unavailable(why) => Outcome::Skipped(format!("the UI was not built: {why}")),
        ui::Built::Failed(why) => Outcome::Failed(format!("the UI did not build: {why}")),
        ui::Built::Ready => desktop::tests(&target_dir().join("debug").join("trackbench")),
    });
    report.finish()
}

fn bench(args: &[String]) -> ExitCode {
    // `--part TEXT` runs only the parts whose name contains TEXT (`--part whylogs`); the other
    // arguments go to trackbench-bench.
    let (part, args) = match args.iter().position(|a| a == "--part") {
        Some(i) => {
            let Some(part) = args.get(i + 1) else {
                eprintln!("--part needs the text of a part's name (`cargo xtask bench --part whylogs`)");
                return ExitCode::FAILURE;
            };
            (Some(part.clone()), [&args[..i], &args[i + 2..]].concat())
        }
        None => (None, args.to_vec()),
    };
    let args = &args[..];
    let mut report = Report(Vec::new(), part);
    let ui_built = ui::build();
    report.run("macro benchmarks (trackbench-bench, release)", || {
        // The listing benchmark times the real CLI end to end.
        let mut build = cargo();
        build.args(["build", "--release", "--locked", "-p", "trackbench-cli"]);
        if let Outcome::Failed(e) = status(build) {
            return Outcome::Failed(format!("building the trackbench CLI: {e}"));
        }
        let mut c = cargo();
        c.args(["run", "--release", "--locked", "-p", "trackbench-bench", "--"]);
        c.args(args);
        status(c)
    });
    report.run("trainer throughput (trackbench-train-bench, release)", || {
        // Side by side with PyTorch when TRACKBENCH_PYTHON (default python3) can import torch.
        let mut c = cargo();
        c.args(["run", "--release", "--locked", "-p", "trackbench-train", "--bin", "trackbench-train-bench"]);
        if let Some(dir) = xdg_runtime_dir() {
            c.env("XDG_RUNTIME_DIR", dir);
        }
        status(c)
    });
    report.run("launcher overhead and queue (trackbench-launch-bench, release)", || {
        let mut c = cargo();
        c.args(["run", "--release", "--locked", "-p", "trackbench-launch", "--bin", "trackbench-launch-bench"]);
        status(c)
    });
    report.run("web UI (Playwright, Chromium: runs table and compare timings)", || {
        let mut build = cargo();
        build.args(["build", "--release", "--locked", "-p", "trackbench-cli", "-p", "trackbench-bench"]);
        if let Outcome::Failed(e) = status(build) {
            return Outcome::Failed(format!("building the CLI and trackbench-ui-fill: {e}"));
        }
        let release = target_dir().join("release");
        ui::bench(&ui_built, &release.join("trackbench"), &release.join("trackbench-ui-fill"))
    });
    report.run("desktop app (release: cold start on 10k runs, idle memory, .deb size)", desktop::bench);
    report.run("team server on PostgreSQL, side by side with mlflow server (trackbench-team-bench)", team_bench::bench);
    report.run(
        "remote logging wire: binary vs JSON vs local store vs mlflow client (trackbench-team-bench --wire)",
        team_bench::wire_bench,
    );
    report.run("data profiles and drift, side by side with whylogs and Evidently", data_bench::bench);
    report.run("launch backends: local against Slurm (one-node cluster)", slurm_bench::bench);
    report.run("push and pull of 10 runs x 1M points (trackbench-push-bench, release)", || {
        let mut build = cargo();
        build.args(["build", "--release", "--locked", "-p", "trackbench-cli", "-p", "trackbench-bench"]);
        if let Outcome::Failed(e) = status(build) {
            return Outcome::Failed(format!("building the CLI and trackbench-push-bench: {e}"));
        }
        let release = target_dir().join("release");
        let mut c = std::process::Command::new(release.join("trackbench-push-bench"));
        c.arg("--trackbench").arg(release.join("trackbench"));
        status(c)
    });
    report.run("micro benchmarks (criterion: SDK log())", || {
        let mut c = cargo();
        c.args(["bench", "--locked", "-p", "trackbench-bench", "--bench", "log_call"]);
        status(c)
    });
    if let (true, Some(part)) = (report.0.is_empty(), &report.1) {
        eprintln!("no benchmark part's name contains {part:?}");
        return ExitCode::FAILURE;
    }
    report.finish()
}

/// The main job: an A/B of the reference trainer on the CPU (two learning rates, five seeds
/// each, interleaved, launched by `trackbench ab`), its verdict, an HTML report, then
/// `trackbench ui` to browse the store (the desktop app when one was built, else the browser;
/// only when a person is at a terminal; otherwise it says how to start it). `--seeds N`, `--epochs N` and `--slots N` make it smaller or faster.
fn demo(args: &[String]) -> ExitCode {
    let opt = |name: &str, default: &str| -> String {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .unwrap_or_else(|| default.to_string())
    };
    let (seeds, epochs) = (opt("--seeds", "5"), opt("--epochs", "30"));
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let slots = opt("--slots", &cores.min(4).to_string());
    if let ui::Built::Unavailable(why) | ui::Built::Failed(why) = ui::build() {
        eprintln!("warning: the web UI was not built ({why}); `trackbench serve` will say how to build it");
    }
    eprintln!("building trackbench (release)…");
    let mut build = cargo();
    build.args(["build", "--release", "--locked", "-p", "trackbench-cli"]);
    if !build.status().is_ok_and(|s| s.success()) {
        eprintln!("building the trackbench CLI failed");
        return ExitCode::FAILURE;
    }
    let exe = target_dir().join("release").join("trackbench");
    let tb = || {
        let mut c = Command::new(&exe);
        c.current_dir(root());
        c
    };
    let exe_s = exe.display().to_string();
    eprintln!(
        "\nA/B: is lr 0.01 better than lr 0.001 for the reference MLP (512-512) on 8x8 digits? \
         {seeds} seeds each, {epochs} epochs, on the CPU, {slots} at a time\n"
    );
    let started = Instant::now();
    let mut ab = tb();
    ab.args(["ab", "--project", "demo", "--name", "lr 0.001 vs 0.01", "--metric", "val/acc", "--maximize"]);
    ab.args(["--seeds", &seeds, "--a", "lr=0.001", "--b", "lr=0.01", "--base"]);
    ab.arg(format!("epochs={epochs}"));
    ab.args(["--device", "cpu", "--cpu-slots", &slots, "--"]);
    ab.args([&exe_s, "train", "--backend", "cpu", "--dataset", "digits", "--hidden", "512,512"]);
    ab.args(["--epochs", "{epochs}", "--lr", "{lr}", "--seed", "{seed}"]);
    if !ab.status().is_ok_and(|s| s.success()) {
        eprintln!("the A/B did not finish (see above)");
        return ExitCode::FAILURE;
    }
    eprintln!("(the A/B took {:.0}s)", started.elapsed().as_secs_f64());
    let listed = tb().args(["ab", "ls", "--project", "demo", "--json"]).output();
    let id = listed.ok().and_then(|o| {
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        let start = text.find("\"id\": \"")? + 7;
        Some(text[start..].split('"').next()?.to_string())
    });
    let Some(id) = id else {
        eprintln!("could not read the A/B back");
        return ExitCode::FAILURE;
    };
    let report = target_dir().join("trackbench-demo").join("ab-report.html");
    let report_s = report.display().to_string();
    if !tb().args(["report", "--ab", &id, "-o", &report_s]).status().is_ok_and(|s| s.success()) {
        eprintln!("writing the report failed");
        return ExitCode::FAILURE;
    }
    println!("\nReport (open in a browser): {report_s}");
    println!("Again later: {exe_s} ab show {id}   |   {exe_s} report --ab {id} -o report.html");
    use std::io::IsTerminal;
    let interactive = std::io::stdin().is_terminal() && std::env::var_os("CI").is_none();
    if !interactive {
        println!("\nTo browse the store: {exe_s} ui   (the desktop app if built, else prints a URL to open)");
        return ExitCode::SUCCESS;
    }
    // `trackbench ui`: the desktop app when one was built (`cargo xtask bundle`, or the smoke
    // test's debug build), else the UI in a browser.
    let mut ui = tb();
    ui.arg("ui");
    if let Some(app) = desktop::built_app() {
        ui.env("TRACKBENCH_DESKTOP", app);
    }
    println!("\nStarting `trackbench ui` (close the window, or Ctrl-C, to stop)…");
    match ui.status() {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => {
            eprintln!("trackbench ui exited with {s}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("could not start trackbench ui: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = args.split_first().map(|(c, r)| (c.as_str(), r)).unwrap_or(("help", &[]));
    match cmd {
        "test" => test(rest),
        "bench" => bench(rest),
        "demo" => demo(rest),
        "ui" => ui::build_command(),
        "bundle" => desktop::bundle(rest),
        "slurm" => slurm::dev(),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  test   run every test the repo has (Rust now; Python, UI, desktop as they land)\n  bench  run the benchmarks (numbers go to BENCHMARKS.md; `--part TEXT`: only the parts named so)\n  demo   run the main job: an A/B of the reference trainer, its verdict and report\n  ui     build the web UI (ui/dist, embedded by the server at its next build)\n  bundle build the desktop app's installer (.deb; `bundle appimage` for an AppImage)\n  slurm  keep a throwaway single-node Slurm cluster running (prints its SLURM_CONF; Ctrl-D stops it)"
            );
            if cmd == "help" { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
    }
}
