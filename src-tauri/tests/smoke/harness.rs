//! The harness around the desktop app: Xvfb, a private session bus, the real CLI logging a
//! store, tauri-driver, and killing every process started when the test ends.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::webdriver::{Driver, Session};

/// Kills and reaps a child we started when dropped.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        // With its descendants: tauri-driver's WebKitWebDriver outlives a killed tauri-driver,
        // and an orphan holding the test's stdout keeps whoever reads it waiting for ever.
        let pids = process_tree(self.0.id());
        let _ = self.0.kill();
        for pid in pids.iter().skip(1) {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).stderr(Stdio::null()).status();
        }
        let _ = self.0.wait();
    }
}

pub fn skip(why: &str) {
    println!("SKIPPED: desktop smoke: {why}");
}

pub fn which(name: &str) -> Option<PathBuf> {
    trackbench_launch::find::on_path(name)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts `Xvfb` on the first free display from :90.
pub fn start_xvfb() -> Result<(Guard, String), String> {
    let xvfb = which("Xvfb").ok_or("Xvfb not found (Debian: apt-get install xvfb xauth)")?;
    for n in 90..140 {
        if Path::new(&format!("/tmp/.X{n}-lock")).exists() || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
            continue;
        }
        let child = Command::new(&xvfb)
            .args([&format!(":{n}"), "-screen", "0", "1400x900x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting Xvfb: {e}"))?;
        let mut guard = Guard(child);
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(10) {
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                return Ok((guard, format!(":{n}")));
            }
            if let Ok(Some(_)) = guard.0.try_wait() {
                break; // lost a race for this display: try the next
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Err("no free X display for Xvfb".into())
}

/// Runs the CLI against the test's store, returning stdout.
pub fn tb(bin: &Path, store: &Path, args: &[&str]) -> String {
    let out = Command::new(bin)
        .args(args)
        .env("TRACKBENCH_DIR", store)
        .env("HOME", store.parent().unwrap())
        .output()
        .unwrap_or_else(|e| panic!("spawning {}: {e}", bin.display()));
    assert!(
        out.status.success(),
        "trackbench {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Processes whose executable is `exe` (the app, started by WebKitWebDriver).
pub fn pids_of(exe: &Path) -> Vec<u32> {
    let exe = exe.canonicalize().unwrap_or_else(|_| exe.to_path_buf());
    std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                .filter(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|p| p == exe))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether `pid` still runs (a zombie waiting for its parent to reap it has exited).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| !rest.starts_with('Z')))
        .unwrap_or(false)
}

/// What every desktop test needs: the CLI, tauri-driver on a free port in front of
/// WebKitWebDriver, a display, and a hermetic home. `None` (after printing SKIPPED) when
/// something is missing.
pub struct Harness {
    pub cli: PathBuf,
    pub app: PathBuf,
    pub tmp: tempfile::TempDir,
    pub driver: Driver,
    /// The environment the app runs in (display, hermetic home, session bus, store).
    pub app_env: Vec<(String, String)>,
    /// Whether the app has a D-Bus session bus (single-instance needs one on Linux).
    pub session_bus: bool,
    pub _guards: Vec<Guard>,
}

/// A private D-Bus session bus (`dbus-daemon --session`), as a desktop session has one: the
/// single-instance plugin finds the first instance through it. `None` without dbus-daemon.
pub fn start_session_bus() -> Option<(Guard, String)> {
    use std::io::BufRead;
    let daemon = which("dbus-daemon")?;
    let mut child = Command::new(daemon)
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take()?).read_line(&mut line).ok()?;
    let address = line.trim().to_string();
    let guard = Guard(child);
    (!address.is_empty()).then_some((guard, address))
}

impl Harness {
    pub fn store(&self) -> PathBuf {
        self.tmp.path().join("store")
    }

    pub fn saves(&self) -> PathBuf {
        self.tmp.path().join("saves")
    }

    pub fn start() -> Option<Harness> {
        // `TRACKBENCH_DESKTOP_APP`: another build of the app (the benchmark uses the release one).
        let app = std::env::var_os("TRACKBENCH_DESKTOP_APP")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_trackbench-desktop")));
        let Some(cli) = std::env::var_os("TRACKBENCH_BIN").map(PathBuf::from).filter(|p| p.is_file()) else {
            skip("TRACKBENCH_BIN (the trackbench CLI to log the runs with) is not set; `cargo xtask test` sets it");
            return None;
        };
        let Some(driver_bin) = std::env::var_os("TAURI_DRIVER").map(PathBuf::from).or_else(|| which("tauri-driver"))
        else {
            skip("tauri-driver not found (cargo install tauri-driver --version '^2' --locked)");
            return None;
        };
        if which("WebKitWebDriver").is_none() {
            skip("WebKitWebDriver not found (Debian: apt-get install webkit2gtk-driver)");
            return None;
        }
        let mut guards = Vec::new();
        let display = match std::env::var("DISPLAY").ok().filter(|d| !d.is_empty()) {
            Some(d) => d,
            None => match start_xvfb() {
                Ok((g, d)) => {
                    guards.push(g);
                    d
                }
                Err(e) => {
                    skip(&e);
                    return None;
                }
            },
        };
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        for d in [home.clone(), tmp.path().join("saves"), home.join("runtime")] {
            std::fs::create_dir_all(d).unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(home.join("runtime"), std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        // tauri-driver -> WebKitWebDriver -> the app, on the display, in a hermetic home.
        let (port, native_port) = (free_port(), free_port());
        let path = |p: PathBuf| p.display().to_string();
        let mut app_env: Vec<(String, String)> = vec![
            ("DISPLAY".into(), display.clone()),
            ("LANG".into(), "en_US.UTF-8".into()),
            ("HOME".into(), path(home.clone())),
            ("XDG_CONFIG_HOME".into(), path(home.join("config"))),
            ("XDG_DATA_HOME".into(), path(home.join("data"))),
            ("XDG_RUNTIME_DIR".into(), path(home.join("runtime"))),
            ("TRACKBENCH_DIR".into(), path(tmp.path().join("store"))),
            ("TRACKBENCH_DESKTOP_SAVE_DIR".into(), path(tmp.path().join("saves"))),
            // As `trackbench ui` sets it: the CLI that runs trainer jobs.
            ("TRACKBENCH_CLI".into(), path(cli.clone())),
        ];
        let session_bus = match start_session_bus() {
            Some((g, address)) => {
                guards.push(g);
                app_env.push(("DBUS_SESSION_BUS_ADDRESS".into(), address));
                true
            }
            None => {
                println!(
                    "note: no dbus-daemon: the single-instance check is skipped (the app runs without a session bus)"
                );
                false
            }
        };
        let driver = Command::new(&driver_bin)
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .envs(app_env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting tauri-driver");
        guards.push(Guard(driver));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        let driver = Driver { agent, base: format!("http://127.0.0.1:{port}") };
        let t = Instant::now();
        while driver.call("GET", "/status", None).is_err() {
            assert!(t.elapsed() < Duration::from_secs(20), "tauri-driver did not answer on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(Harness { cli, app, tmp, driver, app_env, session_bus, _guards: guards })
    }

    /// Starts the app (a WebDriver session) with `args`, runs `f`, and always ends the session.
    pub fn with_app(&self, args: &[&str], f: impl FnOnce(&Session)) {
        let caps = json!({"capabilities": {"alwaysMatch": {"tauri:options": {
            "application": self.app, "args": args
        }}}});
        let created =
            self.driver.call("POST", "/session", Some(caps)).unwrap_or_else(|e| panic!("creating the session: {e}"));
        let s =
            Session { d: &self.driver, id: created["value"]["sessionId"].as_str().expect("a session id").to_string() };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&s)));
        // One session at a time: a leftover one blocks the next.
        let _ = self.driver.call("DELETE", &format!("/session/{}", s.id), None);
        if let Err(p) = result {
            std::panic::resume_unwind(p);
        }
    }
}

/// The base URL (`http://127.0.0.1:PORT`) once the app has left its login URL.
pub fn wait_for_ui(s: &Session) -> String {
    let t = Instant::now();
    let mut url = s.url();
    while !url.starts_with("http://127.0.0.1:") || url.contains("token=") {
        assert!(t.elapsed() < Duration::from_secs(30), "the app never reached its UI (at {url:?})");
        std::thread::sleep(Duration::from_millis(50));
        url = s.url();
    }
    url.split('/').take(3).collect::<Vec<_>>().join("/")
}

/// The processes under `pid` (WebKit's web and network processes), `pid` included.
pub fn process_tree(pid: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                .filter_map(|p| {
                    let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
                    let ppid = stat.rsplit_once(") ")?.1.split_whitespace().nth(1)?.parse().ok()?;
                    Some((p, ppid))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(parents.iter().filter(|(_, pp)| *pp == parent).map(|(p, _)| *p));
        i += 1;
    }
    tree
}

/// `(RSS, PSS)` in KiB of one process (`VmRSS`, `smaps_rollup`'s `Pss`).
pub fn memory_kib(pid: u32) -> (u64, u64) {
    let field = |text: &str, name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|r| r.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    (field(&status, "VmRSS:"), field(&rollup, "Pss:"))
}
