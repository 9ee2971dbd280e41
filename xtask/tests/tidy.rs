//! Tidy checks, run as ordinary tests: every Rust file opens with a `//!` module doc, and the
//! crate dependency edges are exactly the ones ARCHITECTURE.md allows.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if !matches!(name.as_str(), "target" | "node_modules" | ".git") {
                rust_files(&p, out);
            }
        } else if name.ends_with(".rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let mut files = Vec::new();
    for top in ["crates", "tracker-sdk", "xtask", "src-tauri"] {
        rust_files(&root().join(top), &mut files);
    }
    assert!(files.len() > 10, "found only {} files", files.len());
    let missing: Vec<String> = files
        .iter()
        .filter(|f| !std::fs::read_to_string(f).unwrap_or_default().trim_start().starts_with("//!"))
        .map(|f| f.strip_prefix(root()).unwrap_or(f).display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a leading `//!` doc comment: {missing:#?}");
}

/// `(crate, dependency)` pairs from each member's `[dependencies]` on `trackbench-*` crates.
fn actual_edges() -> BTreeSet<(String, String)> {
    let mut manifests = Vec::new();
    for top in ["crates", "tracker-sdk", "xtask", "src-tauri"] {
        let p = root().join(top);
        if p.join("Cargo.toml").exists() {
            manifests.push(p.join("Cargo.toml"));
        }
        if let Ok(entries) = std::fs::read_dir(&p) {
            for e in entries.flatten() {
                if e.path().join("Cargo.toml").exists() {
                    manifests.push(e.path().join("Cargo.toml"));
                }
            }
        }
    }
    let mut edges = BTreeSet::new();
    for m in manifests {
        let text = std::fs::read_to_string(&m).unwrap();
        let name = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("name = \"").and_then(|r| r.strip_suffix('"')))
            .unwrap_or_default()
            .to_string();
        let mut in_deps = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                in_deps = line == "[dependencies]";
                continue;
            }
            if in_deps && line.starts_with("trackbench-") {
                let dep: String = line.chars().take_while(|c| c.is_alphanumeric() || *c == '-').collect();
                edges.insert((name.clone(), dep));
            }
        }
    }
    edges
}

/// The edges listed in ARCHITECTURE.md between `<!-- tidy:edges -->` markers, as
/// `crate -> dep, dep` lines.
fn documented_edges() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let block = text.split("<!-- tidy:edges -->").nth(1).expect("ARCHITECTURE.md has a <!-- tidy:edges --> block");
    let mut edges = BTreeSet::new();
    for line in block.lines().map(str::trim).filter(|l| l.contains("->")) {
        let (from, to) = line.split_once("->").unwrap();
        for dep in to.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            edges.insert((from.trim().to_string(), dep.to_string()));
        }
    }
    edges
}

#[test]
fn crate_dependencies_match_architecture_md() {
    let actual = actual_edges();
    let documented = documented_edges();
    let undocumented: Vec<_> = actual.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&actual).collect();
    assert!(undocumented.is_empty(), "dependency edges not allowed by ARCHITECTURE.md: {undocumented:?}");
    assert!(stale.is_empty(), "ARCHITECTURE.md lists edges that no longer exist: {stale:?}");
}

/// A member crate: its package name and folder.
fn members() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for top in ["crates", "tracker-sdk", "xtask", "src-tauri"] {
        let p = root().join(top);
        let mut dirs = vec![p.clone()];
        if let Ok(entries) = std::fs::read_dir(&p) {
            dirs.extend(entries.flatten().map(|e| e.path()));
        }
        for dir in dirs {
            let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml")) else { continue };
            let name = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("name = \"").and_then(|r| r.strip_suffix('"')))
                .unwrap_or_default()
                .to_string();
            out.push((name, dir));
        }
    }
    out
}

/// A crate's shipped code: `src/` (and `build.rs` when `build_rs`), each file cut at its
/// `#[cfg(test)]` module; tests, benches and examples are not included.
fn product_sources(dir: &Path, build_rs: bool) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    rust_files(&dir.join("src"), &mut files);
    if build_rs && dir.join("build.rs").exists() {
        files.push(dir.join("build.rs"));
    }
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            let shipped = match text.find("#[cfg(test)]") {
                Some(at) => text[..at].to_string(),
                None => text,
            };
            (f, shipped)
        })
        .collect()
}

/// What only some crates may use (ARCHITECTURE.md's "Boundary" lines, checked).
struct Rule {
    what: &'static str,
    /// Text that marks a use (in code, after comments are dropped).
    patterns: &'static [&'static str],
    /// Crates allowed to use it; `crate:path` allows one file of a crate.
    allowed: &'static [&'static str],
}

const RULES: &[Rule] = &[
    Rule {
        what: "SQLite (rusqlite)",
        patterns: &["rusqlite"],
        // The store; the importers read MLflow's own SQLite files; the bench's raw baseline.
        allowed: &["trackbench-store", "trackbench-import", "trackbench-bench"],
    },
    Rule {
        what: "an HTTP server (axum, hyper, tower)",
        patterns: &["axum", "hyper::", "tower::", "tower_http"],
        allowed: &["trackbench-server"],
    },
    Rule {
        what: "tokio",
        patterns: &["tokio"],
        // The server, and the two programs that run it: the CLI (`serve`, `ui`) and the desktop app;
        // the object store's private runtime (`object_store` is async, the store API is not).
        allowed: &["trackbench-server", "trackbench-cli", "trackbench-desktop", "trackbench-objstore"],
    },
    Rule {
        what: "threads",
        patterns: &["std::thread", "thread::spawn", "thread::scope", "thread::Builder", "thread::sleep"],
        allowed: &[
            // Kept on purpose, measured: a whole-series read decodes on scoped workers that end
            // before it returns (1M points: 15.4 ms on two cores, 22.8 ms on one; the read
            // target is 20 ms). No thread outlives a call.
            "trackbench-store:crates/trackbench-store/src/series.rs",
            // Likewise: a large table's columns are profiled on scoped workers that end before
            // `Profile::from_columns` returns (1M x 20: 0.67 s on one core; the goal is 1 s).
            "trackbench-data:crates/trackbench-data/src/profile.rs",
            "trackbench-sdk",
            "trackbench-launch",
            "trackbench-server",
            "trackbench-cli",
            "trackbench-train",
            "trackbench-bench",
            "trackbench-desktop",
            // Its runtime's two workers, and a reader parking while it waits for the next chunk.
            "trackbench-objstore",
            "xtask",
        ],
    },
    Rule {
        what: "environment variables",
        patterns: &["env::var", "env::set_var", "env::remove_var", "var_os("],
        allowed: &[
            "trackbench-sdk:tracker-sdk/src/options.rs",
            "trackbench-sdk:tracker-sdk/src/http.rs",
            "trackbench-sdk:tracker-sdk/src/login.rs",
            "trackbench-sdk:tracker-sdk/src/system.rs",
            // `open_blobs` reads the clouds' credential variables (AWS_*, GOOGLE_*, AZURE_*).
            "trackbench-objstore:crates/trackbench-objstore/src/lib.rs",
            "trackbench-launch",
            "trackbench-cli",
            "trackbench-train",
            "trackbench-bench",
            "trackbench-desktop",
            "xtask",
        ],
    },
    Rule {
        what: "the wall clock",
        patterns: &["SystemTime::now", "now_ms()", "Utc::now", "Local::now"],
        allowed: &[
            // The store's injectable clock is defined here, and read only through it.
            "trackbench-store:crates/trackbench-store/src/lib.rs",
            // gc compares file modification times, which the file system stamps from this clock.
            "trackbench-store:crates/trackbench-store/src/gc.rs",
            "trackbench-sdk",
            "trackbench-launch",
            "trackbench-server",
            "trackbench-cli",
            "trackbench-train",
            "trackbench-bench",
            "trackbench-desktop",
            "xtask",
        ],
    },
];

/// `text` without its `//` comments (doc comments included), so prose may name what code may
/// not use. A comment after a string on the same line is kept (the `//` may be in the string).
fn code_only(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(at) if !l[..at].contains('"') => &l[..at],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn crates_use_only_what_architecture_md_allows() {
    let members = members();
    assert!(members.len() > 10, "found only {} crates", members.len());
    let mut violations = Vec::new();
    for (name, dir) in &members {
        for (file, text) in product_sources(dir, true) {
            let rel = file.strip_prefix(root()).unwrap_or(&file).display().to_string();
            let code = code_only(&text);
            for rule in RULES {
                let allowed = rule.allowed.iter().any(|a| match a.split_once(':') {
                    Some((c, path)) => c == name && path == rel,
                    None => a == name,
                });
                // Build scripts read cargo's variables (OUT_DIR, ...): not the program's environment.
                let build_env = rule.what == "environment variables" && rel.ends_with("build.rs");
                if allowed || build_env {
                    continue;
                }
                if let Some(p) = rule.patterns.iter().find(|p| code.contains(*p)) {
                    violations.push(format!("{rel} ({name}) uses {}: `{p}`", rule.what));
                }
            }
        }
    }
    assert!(violations.is_empty(), "uses outside ARCHITECTURE.md's boundaries:\n{}", violations.join("\n"));
}

#[test]
fn every_dependency_between_our_crates_is_used_by_shipped_code() {
    let dirs: std::collections::BTreeMap<String, PathBuf> = members().into_iter().collect();
    let mut unused = Vec::new();
    for (from, dep) in actual_edges() {
        let Some(dir) = dirs.get(&from) else { continue };
        let ident = dep.replace('-', "_");
        let used = product_sources(dir, true).iter().any(|(_, text)| code_only(text).contains(&ident));
        if !used {
            unused.push(format!("{from} -> {dep}"));
        }
    }
    assert!(
        unused.is_empty(),
        "[dependencies] edges no shipped code uses (remove them, or make them dev-dependencies): {unused:?}"
    );
}
