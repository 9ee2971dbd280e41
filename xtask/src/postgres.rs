//! A throwaway PostgreSQL server for the tests of the team-server store: the system's server
//! binaries (installed with apt-get when missing and we are root), a fresh cluster under the
//! target dir on a free loopback port and a private socket folder, one database, stopped and
//! removed when dropped. `initdb` and `postgres` refuse to run as root, so as root the cluster
//! belongs to the `postgres` user and its commands run through `runuser`.
//!
//! The tests get the URL in `TRACKBENCH_TEST_POSTGRES`; without it they skip, saying why.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{apt_install, is_root, target_dir, which};

/// A running cluster; stopped (and its folder removed) on drop.
pub struct Postgres {
    pub url: String,
    bin: PathBuf,
    dir: PathBuf,
    as_postgres: bool,
}

/// The folder holding `initdb` and `pg_ctl`: on PATH, else Debian's versioned folder.
fn server_bin() -> Option<PathBuf> {
    if let Some(p) = which("pg_ctl")
        && let Some(dir) = std::fs::canonicalize(&p).ok().and_then(|p| p.parent().map(Path::to_path_buf))
        && dir.join("initdb").exists()
    {
        return Some(dir);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("pg_ctl").exists() && b.join("initdb").exists())
        .collect();
    found.sort();
    found.pop()
}

impl Postgres {
    /// Starts a cluster, or says why it cannot.
    pub fn start() -> Result<Postgres, String> {
        let bin = match server_bin() {
            Some(b) => b,
            None if is_root() && which("apt-get").is_some() => {
                eprintln!("PostgreSQL server not found; installing it with apt-get for the team-store tests");
                if !apt_install(&["postgresql"]) {
                    return Err("apt-get install postgresql failed".into());
                }
                server_bin().ok_or("postgresql installed but its server binaries were not found")?
            }
            None => return Err("no PostgreSQL server binaries (initdb, pg_ctl) and not root to install them".into()),
        };
        let as_postgres = is_root();
        if as_postgres && Command::new("id").arg("postgres").output().map(|o| !o.status.success()).unwrap_or(true) {
            return Err("running as root, but there is no `postgres` user to own the test cluster".into());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("finding a free port: {e}"))?
            .port();
        let parent = target_dir().join("postgres-test");
        stop_leftovers(&bin, &parent, as_postgres);
        let dir = parent.join(std::process::id().to_string());
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sock")).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let pg = Postgres {
            url: format!("postgres://postgres@127.0.0.1:{port}/trackbench_test"),
            bin,
            dir: dir.clone(),
            as_postgres,
        };
        if as_postgres {
            let ok =
                Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).status().is_ok_and(|s| s.success());
            if !ok {
                return Err(format!("chown postgres {} failed", dir.display()));
            }
        }
        let data = dir.join("data");
        pg.run("initdb", &["-D", &data.to_string_lossy(), "-U", "postgres", "-A", "trust", "--no-sync"])?;
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off",
            dir.join("sock").display()
        );
        let log = dir.join("server.log");
        pg.run("pg_ctl", &["-D", &data.to_string_lossy(), "-l", &log.to_string_lossy(), "-w", "-o", &opts, "start"])?;
        let port_s = port.to_string();
        pg.run("createdb", &["-h", "127.0.0.1", "-p", &port_s, "-U", "postgres", "trackbench_test"])?;
        Ok(pg)
    }

    /// Creates database `name` (dropping one left from an earlier run) and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        let port = self.url.rsplit_once(':').and_then(|(_, rest)| rest.split('/').next()).unwrap_or("5432").to_string();
        let _ = self.run("dropdb", &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "--if-exists", name]);
        self.run("createdb", &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", name])?;
        Ok(format!("postgres://postgres@127.0.0.1:{port}/{name}"))
    }

    /// Runs one of the server's programs (as `postgres` when we are root).
    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let exe = self.bin.join(program);
        let mut c = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        // The server's programs must not inherit a working folder `postgres` cannot enter.
        c.args(args).current_dir(&self.dir);
        let out = c.output().map_err(|e| format!("starting {program}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout).trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
}

/// Stops and removes clusters that earlier runs left behind when they were killed before
/// stopping theirs (each folder is named by the pid of the xtask that made it).
fn stop_leftovers(bin: &Path, parent: &Path, as_postgres: bool) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for e in entries.flatten() {
        let alive = e
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
        if alive {
            continue;
        }
        let leftover = Postgres { url: String::new(), bin: bin.to_path_buf(), dir: e.path(), as_postgres };
        eprintln!("stopping a test PostgreSQL left behind in {}", e.path().display());
        drop(leftover);
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        if let Err(e) = self.run("pg_ctl", &["-D", &data.to_string_lossy(), "-m", "fast", "-w", "stop"]) {
            eprintln!("warning: stopping the test PostgreSQL: {e}");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
