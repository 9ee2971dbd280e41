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
