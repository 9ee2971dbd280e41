//! Spawning the real binary with a hermetic environment and a temp store per test.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use trackbench_sdk::{Run, RunOptions};

pub struct Env {
    pub dir: tempfile::TempDir,
}

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

impl Env {
    pub fn new() -> Env {
        Env { dir: tempfile::tempdir().expect("tempdir") }
    }

    pub fn store(&self) -> &Path {
        self.dir.path()
    }

    /// `trackbench ARGS` with only this test's store in its environment.
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_trackbench"));
        c.args(args).env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
        c.env("TRACKBENCH_DIR", self.store()).env("HOME", self.store());
        c
    }

    /// Starts `trackbench ARGS` in the background; its stdout and stderr are piped to the test
    /// when `piped`, else discarded.
    pub fn spawn(&self, args: &[&str], piped: bool) -> Child {
        let out = || if piped { Stdio::piped() } else { Stdio::null() };
        self.command(args).stdout(out()).stderr(out()).spawn().expect("spawn trackbench")
    }

    /// Runs `trackbench ARGS` to its end.
    pub fn cmd(&self, args: &[&str]) -> Out {
        let Output { status, stdout, stderr } = self.command(args).output().expect("spawn trackbench");
        Out {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }

    /// Like [`Env::cmd`] but asserts success.
    pub fn ok(&self, args: &[&str]) -> Out {
        let out = self.cmd(args);
        assert_eq!(out.code, 0, "trackbench {args:?} failed:\n{}\n{}", out.stdout, out.stderr);
        out
    }

    /// Logs a finished run through the SDK; returns its id.
    pub fn log_run(&self, project: &str, name: &str, lr: f64, values: &[f64]) -> String {
        let run = Run::start(RunOptions::new(project).name(name).store_dir(self.store())).expect("start run");
        run.log_params(&[("lr", lr.into()), ("opt", "adam".into())]).unwrap();
        for (i, v) in values.iter().enumerate() {
            run.log_at(i as i64, &[("acc", *v)]).unwrap();
        }
        let id = run.id().to_string();
        run.finish().unwrap();
        id
    }
}

/// A real `trackbench serve` on a store folder, with `token` as the server's token; killed
/// when dropped.
pub struct Served {
    pub child: Child,
    /// Its base URL, `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `trackbench serve` on `store` (a free loopback port) and waits for its URL.
pub fn serve(store: &Path, token: &str) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trackbench"))
        .args(["serve", "--port", "0"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TRACKBENCH_DIR", store)
        .env("HOME", store)
        .env("TRACKBENCH_TOKEN", token)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn trackbench serve");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.trim().strip_prefix("API:").map(|u| u.trim().split("/api/v1").next().unwrap_or("").to_string()))
        .expect("the server prints its API URL");
    // Keep reading: a server whose stdout is closed ends at its next line.
    std::thread::spawn(move || lines.for_each(drop));
    Served { child, url }
}
