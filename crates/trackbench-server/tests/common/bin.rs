//! The `trackbench` binary the server's integration test binaries (`it`, `team`) spawn.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `trackbench` binary: `TRACKBENCH_BIN`, else next to this test's target folder (built by
/// `cargo test --workspace`), else built now.
pub fn bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TRACKBENCH_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test exe");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let candidate = profile_dir.join("trackbench");
    if !candidate.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "trackbench-cli", "--bin", "trackbench"])
            .status()
            .expect("running cargo build");
        assert!(status.success(), "building the trackbench binary failed");
    }
    candidate
}
