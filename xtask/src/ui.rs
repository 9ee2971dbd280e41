//! The web UI's part of `cargo xtask`: build `ui/dist` (the server embeds it) when its sources
//! changed, and run its unit tests (vitest) and browser end-to-end tests (Playwright on the system
//! Chromium against the real `trackbench serve`).
//!
//! "Changed" is a hash of the UI's sources and lock file kept under the target dir, so a second
//! `cargo xtask test` does not rebuild (or re-embed) anything. `npm ci` runs when
//! `package-lock.json` changed or `node_modules` is missing. Without network for npm, or without
//! Node, the UI is not built: its suites are SKIPPED with the reason and the server serves a page
//! saying how to build the UI.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Outcome, apt_install, is_root, root, status, target_dir, which};

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

/// `npm ci` when needed, then `npm run build` when the sources changed since the last build.
pub fn build() -> Built {
    let ui = ui_dir();
    if !ui.join("package.json").exists() {
        return Built::Unavailable("ui/ has no package.json".into());
    }
    if which("npm").is_none() || which("node").is_none() {
        return Built::Unavailable("Node.js/npm not found on PATH (Debian: apt-get install nodejs npm)".into());
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
        if apt_install(&["chromium"]) {
            if let Some(p) = which("chromium") {
                return Ok(p);
            }
        }
        return Err("apt-get install chromium failed".into());
    }
    Err("Chromium not found and not root to install it (run: sudo apt-get install -y chromium)".into())
}

/// vitest, then the Playwright end-to-end tests against `trackbench` (the debug CLI).
pub fn tests(built: &Built, cli: &Path) -> Outcome {
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
    let mut e2e = Command::new("node");
    e2e.arg("e2e/run.mjs")
        .current_dir(&ui)
        .env("TRACKBENCH_BIN", cli)
        .env("CHROMIUM", &browser)
        .env("CARGO_TARGET_DIR", target_dir());
    match status(e2e) {
        Outcome::Passed => Outcome::Passed,
        Outcome::Failed(e) | Outcome::Skipped(e) => Outcome::Failed(format!("browser end-to-end tests: {e}")),
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
