//! The desktop app's part of `cargo xtask`: its system packages (installed when missing and
//! root, else the exact command is printed), `tauri-driver`, the smoke test under Xvfb
//! (`src-tauri/tests/smoke/`), the installers (`cargo xtask bundle`) and its benchmark
//! (`src-tauri/bench-desktop.sh`).
//!
//! `src-tauri` is its own cargo workspace (the root one excludes it) with its own target dir,
//! so Tauri's large dependency tree and WebKitGTK never enter the rest of the build: the
//! workspace builds and tests on a machine without them.

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use crate::{Outcome, apt_install, is_root, root, status, target_dir, which};

/// Debian packages the desktop app needs to build (Tauri 2 on WebKitGTK 4.1).
const BUILD_PACKAGES: &[&str] = &[
    "libwebkit2gtk-4.1-dev",
    "build-essential",
    "curl",
    "wget",
    "file",
    "libxdo-dev",
    "libssl-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "pkg-config",
];

/// ...and its smoke test needs to run (a virtual display, WebKit's WebDriver, screenshots, a
/// session bus for the single-instance check).
const TEST_PACKAGES: &[&str] = &["xvfb", "xauth", "imagemagick", "x11-apps", "xdotool", "webkit2gtk-driver", "dbus"];

/// The desktop app's own target dir: `TRACKBENCH_DESKTOP_TARGET_DIR`, else
/// `/var/tmp/trackbench-desktop-target`, kept between runs (a cold Tauri build takes minutes).
pub fn target() -> PathBuf {
    std::env::var_os("TRACKBENCH_DESKTOP_TARGET_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/trackbench-desktop-target"))
}

/// The newest build of the app, release first.
pub fn built_app() -> Option<PathBuf> {
    ["release", "debug"].iter().map(|p| target().join(p).join("trackbench-desktop")).find(|p| p.is_file())
}

/// The packages of `wanted` that dpkg does not list as installed.
fn missing_packages<'a>(wanted: &[&'a str]) -> Vec<&'a str> {
    wanted
        .iter()
        .copied()
        .filter(|p| {
            !Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", p])
                .stderr(Stdio::null())
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        })
        .collect()
}

/// Installs what the desktop app needs when missing and we may (root with apt-get, like
/// the lavapipe packages); otherwise says which command would.
fn ensure_packages(wanted: &[&str]) -> Result<(), String> {
    if which("dpkg-query").is_none() {
        // Not Debian: trust pkg-config and PATH; the build or the test says what is missing.
        return Ok(());
    }
    let missing = missing_packages(wanted);
    if missing.is_empty() {
        return Ok(());
    }
    let cmd = format!("sudo apt-get install -y --no-install-recommends {}", missing.join(" "));
    if is_root() && which("apt-get").is_some() {
        eprintln!("installing the desktop app's system packages: {}", missing.join(" "));
        if apt_install(&missing) && missing_packages(&missing).is_empty() {
            return Ok(());
        }
        return Err(format!("installing {} with apt-get failed; try: {cmd}", missing.join(" ")));
    }
    eprintln!("\n!!! the desktop app needs system packages; install them with:\n    {cmd}\n");
    Err(format!("missing system packages {} (install with: {cmd})", missing.join(" ")))
}

/// `tauri-driver` (WebDriver for Tauri apps), installed with cargo into the desktop target dir.
fn tauri_driver() -> Result<PathBuf, String> {
    let dir = target().join("tools");
    let bin = dir.join("bin").join("tauri-driver");
    if !bin.exists() {
        let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        c.args(["install", "tauri-driver", "--version", "^2", "--locked", "--root"]).arg(&dir);
        if let Outcome::Failed(e) = status(c) {
            return Err(format!("cargo install tauri-driver: {e}"));
        }
    }
    Ok(bin)
}

/// The desktop suite of `cargo xtask test`: the real app built and driven under Xvfb by its
/// smoke test (real binary, real store logged by the CLI `cli`, real WebKit webview).
pub fn tests(cli: &std::path::Path) -> Outcome {
    if !root().join("src-tauri").exists() {
        return Outcome::Skipped("src-tauri/ does not exist".into());
    }
    let wanted: Vec<&str> = BUILD_PACKAGES.iter().chain(TEST_PACKAGES).copied().collect();
    if let Err(why) = ensure_packages(&wanted) {
        eprintln!("\n!!! SKIPPED: desktop smoke: {why}\n");
        return Outcome::Skipped(why);
    }
    if !root().join("ui/dist/index.html").exists() {
        return Outcome::Failed(
            "ui/dist/index.html is missing: the app shows the UI the server embeds from ui/dist (cargo xtask ui)"
                .into(),
        );
    }
    let driver = match tauri_driver() {
        Ok(d) => d,
        Err(e) => return Outcome::Failed(e),
    };
    let log = target_dir().join("desktop-smoke.log");
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root())
        .args([
            "test",
            "--locked",
            "--manifest-path",
            "src-tauri/Cargo.toml",
            "--",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("CARGO_TARGET_DIR", target())
        .env("TRACKBENCH_BIN", cli)
        .env("TAURI_DRIVER", &driver)
        .env("TRACKBENCH_SCREENSHOTS", target_dir().join("desktop-screenshots"))
        .env("LANG", "en_US.UTF-8")
        // The test starts its own Xvfb, so a developer's display stays untouched.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        // To a file, not a pipe: a process the test leaked holding a pipe open would keep us
        // waiting for its end after cargo exited.
        .stdout(match std::fs::File::create(&log) {
            Ok(f) => Stdio::from(f),
            Err(e) => return Outcome::Failed(format!("creating {}: {e}", log.display())),
        });
    eprintln!("$ {c:?} > {}", log.display());
    let status = match c.status() {
        Ok(s) => s,
        Err(e) => return Outcome::Failed(format!("could not start cargo: {e}")),
    };
    let stdout = std::fs::read_to_string(&log).unwrap_or_default();
    print!("{stdout}");
    crate::tally::scan_text(&stdout);
    if !status.success() {
        return Outcome::Failed(format!("exited with {status}"));
    }
    match stdout.lines().find_map(|l| l.trim().strip_prefix("SKIPPED: desktop smoke: ")) {
        Some(why) => Outcome::Skipped(why.to_string()),
        None => Outcome::Passed,
    }
}

/// `cargo xtask bundle [deb|appimage…]`: the desktop app's installers with `@tauri-apps/cli@2`
/// (pinned by `src-tauri/package-lock.json`), into `<desktop target>/release/bundle`. The
/// default is the `.deb`; an AppImage must be asked for (Tauri downloads linuxdeploy from
/// GitHub for it, which this project's machines cannot reach).
pub fn bundle(args: &[String]) -> ExitCode {
    if let Err(why) = ensure_packages(BUILD_PACKAGES) {
        eprintln!("cannot bundle: {why}");
        return ExitCode::FAILURE;
    }
    if let crate::ui::Built::Unavailable(why) | crate::ui::Built::Failed(why) = crate::ui::build() {
        eprintln!("cannot bundle: the UI the app shows was not built: {why}");
        return ExitCode::FAILURE;
    }
    let dir = root().join("src-tauri");
    if !dir.join("node_modules/.bin/tauri").exists() {
        let mut ci = Command::new("npm");
        ci.current_dir(&dir).args(["ci", "--no-audit", "--no-fund"]);
        if let Outcome::Failed(e) = status(ci) {
            eprintln!("npm ci in src-tauri failed: {e}");
            return ExitCode::FAILURE;
        }
    }
    let targets: Vec<String> = if args.is_empty() { vec!["deb".into()] } else { args.to_vec() };
    let mut failed = Vec::new();
    for t in &targets {
        let mut c = Command::new(dir.join("node_modules/.bin/tauri"));
        c.current_dir(&dir).args(["build", "--ci", "--bundles", t]).env("CARGO_TARGET_DIR", target());
        if let Outcome::Failed(e) = status(c) {
            eprintln!("bundling {t} failed: {e}");
            failed.push(t.clone());
        }
    }
    let out = target().join("release/bundle");
    for t in &targets {
        for e in std::fs::read_dir(out.join(t)).into_iter().flatten().flatten() {
            if e.path().is_file() {
                let size = e.metadata().map(|m| m.len()).unwrap_or(0);
                println!("{} ({:.1} MiB)", e.path().display(), size as f64 / (1 << 20) as f64);
            }
        }
    }
    if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// The desktop benchmarks (`src-tauri/bench-desktop.sh`: cold start to the runs table of a
/// 10k-run store, idle memory, installer size) on a release build.
pub fn bench() -> Outcome {
    if !root().join("src-tauri").exists() {
        return Outcome::Skipped("src-tauri/ does not exist".into());
    }
    let wanted: Vec<&str> = BUILD_PACKAGES.iter().chain(TEST_PACKAGES).copied().collect();
    if let Err(why) = ensure_packages(&wanted) {
        return Outcome::Skipped(why);
    }
    if let Err(e) = tauri_driver() {
        return Outcome::Failed(e);
    }
    // The release build and its .deb (whose size is one of the numbers).
    if bundle(&["deb".to_string()]) != ExitCode::SUCCESS {
        return Outcome::Failed("cargo xtask bundle deb failed".into());
    }
    let mut c = Command::new("bash");
    c.arg("src-tauri/bench-desktop.sh").current_dir(root()).env("TRACKBENCH_DESKTOP_TARGET_DIR", target());
    c.env("TRACKBENCH_BIN", target_dir().join("release").join("trackbench"));
    status(c)
}
