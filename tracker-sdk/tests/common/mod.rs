//! What the SDK's integration tests share: the real `trackbench` binary and a `trackbench serve`
//! on a store folder, killed when the test ends.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const TOKEN: &str = "remote-test-token";

pub fn bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TRACKBENCH_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap();
    let candidate = exe.parent().and_then(Path::parent).unwrap().join("trackbench");
    if !candidate.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let ok = Command::new(cargo).args(["build", "-p", "trackbench-cli", "--bin", "trackbench"]).status().unwrap();
        assert!(ok.success(), "building trackbench failed");
    }
    candidate
}

/// A server process, killed when the test ends (pass or panic).
pub struct Served(Child);

impl Served {
    pub fn kill(&mut self) -> std::io::Result<()> {
        self.0.kill()?;
        self.0.wait().map(drop)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// Starts `trackbench serve` on `port` (0: any) and returns it with its base URL.
pub fn serve(store: &Path, port: u16) -> (Served, String) {
    let mut child = Command::new(bin())
        .arg("--store")
        .arg(store)
        .args(["serve", "--port", &port.to_string()])
        .env("TRACKBENCH_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("server printed its URL").unwrap();
        if let Some(url) = line.trim().strip_prefix("open:") {
            break url.trim().split("/?token=").next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (Served(child), base)
}

/// A folder to log as an artifact: `a.json` and `sub/b name.txt` (a space in a nested name).
pub fn artifact_folder(under: &Path) -> PathBuf {
    let folder = under.join("cfg");
    std::fs::create_dir_all(folder.join("sub")).unwrap();
    std::fs::write(folder.join("a.json"), "{}").unwrap();
    std::fs::write(folder.join("sub/b name.txt"), "b").unwrap();
    folder
}
