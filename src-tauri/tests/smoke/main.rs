//! Desktop smoke test: the real `trackbench-desktop` binary under Xvfb, driven over WebDriver
//! (tauri-driver in front of WebKitWebDriver), on a real store logged by the real `trackbench`
//! CLI. It opens the project's runs table; another process logs runs meanwhile and they appear
//! live; it selects two runs and exports their report (what File > Export Report does) through
//! the app's download hook; follows a run to its page; launches the app a second time (single
//! instance: the second hands over and exits); saves a download; makes an edit through the API;
//! resizes the window and quits with Ctrl+Q (the app's own exit path: graceful server stop,
//! window state saved). Then it starts the app again (same window size, same runs) and checks
//! the store is intact (run count, point count, the edit, `PRAGMA integrity_check`). Last, a
//! team server: a `trackbench serve` of its own with a user whose run it holds, remembered in the
//! app's config folder as File > Connect to a Team Server leaves it; the app started plainly
//! shows that server's runs (the user's one with its owner) instead of the local store; File >
//! Use the Local Store (Ctrl+Shift+L) goes back and forgets it, and File > Connect to a Team
//! Server… (Ctrl+Shift+T), answered in its two prompts, connects and remembers it again.
//! Screenshots go to `TRACKBENCH_SCREENSHOTS` (`cargo xtask test`: the target dir's
//! `desktop-screenshots`; the README's come from there). The processes around the app are in
//! `harness.rs`, the WebDriver client in `webdriver.rs`; this file is the scenario.
//!
//! `bench_cold_start_to_runs_table` (ignored; `src-tauri/bench-desktop.sh`) measures start-up
//! and idle memory over a 10k-run store.
//!
//! Needs: `TRACKBENCH_BIN` (the CLI), `tauri-driver` (`TAURI_DRIVER` or `PATH`),
//! `WebKitWebDriver`, `xdotool`, and a display (`DISPLAY`, else `Xvfb` is started on a free
//! one); a private `dbus-daemon` session bus for the single-instance check. Without the CLI,
//! the drivers or Xvfb the test prints SKIPPED with the reason and passes; `cargo xtask test`
//! installs and provides them all.

mod harness;
mod webdriver;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use harness::{Harness, alive, memory_kib, pids_of, process_tree, tb, wait_for_ui};
use webdriver::Session;

const PROJECT: &str = "demo";

const STEPS: u64 = 300;

const SEEDS: u64 = 2;

/// `trackbench demo` logs two learning rates per seed.
const RUNS: usize = 2 * SEEDS as usize;

#[test]
fn desktop_smoke() {
    let Some(h) = Harness::start() else { return };
    let shots = std::env::var_os("TRACKBENCH_SCREENSHOTS").map(PathBuf::from);
    let store = h.store();
    // A real store, logged by the real CLI through the SDK.
    tb(&h.cli, &store, &["demo", "--steps", &STEPS.to_string(), "--seeds", &SEEDS.to_string()]);
    let logged: Value =
        serde_json::from_str(&tb(&h.cli, &store, &["runs", "ls", "--project", PROJECT, "--json"])).unwrap();
    let logged = logged.as_array().unwrap().clone();
    assert_eq!(logged.len(), RUNS);

    let store_arg = store.display().to_string();
    h.with_app(&["--store", &store_arg], |s| drive(s, &h, &logged, shots.as_deref()));

    // Started again, the app remembers its window size and shows the store as it was left.
    h.with_app(&["--store", &store_arg], |s| {
        let base = wait_for_ui(s);
        assert_eq!(window_size(s), WINDOW, "window size after a restart");
        s.go(&format!("{base}/p/{PROJECT}"));
        let rows =
            s.wait_for(r#"[data-testid="runs-table"] [data-testid="run-row"]"#, RUNS + MORE, Duration::from_secs(30));
        assert_eq!(rows.len(), RUNS + MORE, "rows after a restart");
        quit_by_keyboard(&h);
    });

    // The store the app served is intact, with everything that was written, by the app and by
    // the CLI that wrote while it was open.
    let listed: Value =
        serde_json::from_str(&tb(&h.cli, &store, &["runs", "ls", "--project", PROJECT, "--json"])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), RUNS + MORE, "run count after the app closed");
    let first = logged[0]["id"].as_str().unwrap();
    let shown: Value = serde_json::from_str(&tb(&h.cli, &store, &["runs", "show", first, "--json"])).unwrap();
    assert_eq!(shown["metrics"]["train/loss"]["count"], json!(STEPS), "points of train/loss");
    assert_eq!(shown["notes"], json!(NOTE), "the edit made just before closing");
    let doctor: Value = serde_json::from_str(&tb(&h.cli, &store, &["doctor", "--json"])).unwrap();
    assert_eq!(doctor["integrity"], json!("ok"), "PRAGMA integrity_check");
    assert_eq!(doctor["runs"], json!(RUNS + MORE));

    team_server(&h, shots.as_deref());
    std::io::stdout().flush().unwrap();
}

/// Kills the team server when the test ends, however it ends.
struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The app against a team server it remembers (see the module doc).
fn team_server(h: &Harness, shots: Option<&Path>) {
    use std::io::BufRead;
    let team = h.tmp.path().join("team");
    tb(&h.cli, &team, &["demo", "--steps", "20", "--seeds", "1"]);
    tb(&h.cli, &team, &["users", "add", "ana"]);
    tb(&h.cli, &team, &["projects", "grant", PROJECT, "ana", "edit"]);
    let token = tb(&h.cli, &team, &["tokens", "create", "ana"]).trim().to_string();
    let mut child = Command::new(&h.cli)
        .args(["serve", "--port", "0"])
        .env("TRACKBENCH_DIR", &team)
        .env("TRACKBENCH_TOKEN", "team-server-token-0123456789")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("trackbench serve");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let serving = Serving(child);
    let base = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.trim().strip_prefix("open:").map(|u| u.trim().split("/?token=").next().unwrap().to_string()))
        .expect("the team server's URL");
    std::thread::spawn(move || for _ in lines {});
    // Ana logs a run on the team server: it carries her as its owner.
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let created = agent
        .post(&format!("{base}/api/v1/runs"))
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(json!({"project": PROJECT, "name": "ana-on-the-team-server"}))
        .expect("creating ana's run");
    assert_eq!(created.status().as_u16(), 201, "ana creates a run");
    // What File > Connect to a Team Server… remembers (0600, in the app's config folder).
    let config = h.app_env.iter().find(|(k, _)| k == "XDG_CONFIG_HOME").map(|(_, v)| PathBuf::from(v)).unwrap();
    let login = trackbench_sdk::login::Login { url: base.clone(), token: token.clone() };
    trackbench_sdk::login::write_login(&config.join("dev.trackbench.desktop").join("team-server.toml"), &login)
        .unwrap();

    h.with_app(&[], |s| {
        let t = Instant::now();
        while !s.url().starts_with(&base) {
            assert!(t.elapsed() < Duration::from_secs(30), "the app never showed the team server (at {:?})", s.url());
            std::thread::sleep(Duration::from_millis(50));
        }
        s.go(&format!("{base}/p/{PROJECT}"));
        let rows = s.wait_for(r#"[data-testid="runs-table"] [data-testid="run-row"]"#, 3, Duration::from_secs(30));
        assert_eq!(rows.len(), 3, "the team server's two demo runs and ana's");
        let ana = rows.iter().find(|r| s.text(r).contains("ana-on-the-team-server")).expect("ana's run is shown");
        assert!(s.text(ana).contains("ana"), "with its owner: {}", s.text(ana));
        // Signed in as ana, not with the server's token: she may edit, so no read-only mark,
        // and the "mine" filter is offered.
        assert_eq!(s.find_all(r#"[data-testid="mine-filter"]"#).len(), 1, "the mine filter for a user");
        if let Some(dir) = shots {
            s.screenshot(dir, "desktop-team-server.png");
        }

        // Back to the local store: its own server (another port), and the team server forgotten.
        let remembered = config.join("dev.trackbench.desktop").join("team-server.toml");
        press_keys(h, "ctrl+shift+l");
        let local = wait_for_ui_off(s, &base);
        s.go(&format!("{local}/p/{PROJECT}"));
        let rows =
            s.wait_for(r#"[data-testid="runs-table"] [data-testid="run-row"]"#, RUNS + MORE, Duration::from_secs(30));
        assert_eq!(rows.len(), RUNS + MORE, "the local store's runs again");
        assert!(!remembered.exists(), "Use the Local Store forgets the team server");

        // Connect from the menu: two prompts (URL, token), then the team server, remembered.
        press_keys(h, "ctrl+shift+t");
        for answer in [&base, &token] {
            let t = Instant::now();
            while s.call("GET", "/alert/text", None).is_err() {
                assert!(t.elapsed() < Duration::from_secs(20), "the Connect dialog never asked");
                std::thread::sleep(Duration::from_millis(100));
            }
            s.call("POST", "/alert/text", Some(json!({ "text": answer }))).expect("typing into the prompt");
            s.call("POST", "/alert/accept", Some(json!({}))).expect("accepting the prompt");
        }
        let t = Instant::now();
        while !s.url().starts_with(&base) {
            assert!(t.elapsed() < Duration::from_secs(30), "Connect never showed the team server (at {:?})", s.url());
            std::thread::sleep(Duration::from_millis(100));
        }
        s.go(&format!("{base}/p/{PROJECT}"));
        let rows = s.wait_for(r#"[data-testid="runs-table"] [data-testid="run-row"]"#, 3, Duration::from_secs(30));
        assert_eq!(rows.len(), 3, "the team server's runs after Connect");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&remembered).expect("Connect remembers").permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "the remembered token is private");
        }
        assert_eq!(trackbench_sdk::login::read_login(&remembered), Some(login.clone()), "what Connect remembered");
    });
    drop(serving);
}

/// The base URL of the app's own server once the window left `team` (and any login URL).
fn wait_for_ui_off(s: &Session, team: &str) -> String {
    let t = Instant::now();
    loop {
        let url = s.url();
        if url.starts_with("http://127.0.0.1:") && !url.starts_with(team) && !url.contains("token=") {
            return url.split('/').take(3).collect::<Vec<_>>().join("/");
        }
        assert!(t.elapsed() < Duration::from_secs(30), "the app never went back to its own server (at {url:?})");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Presses `keys` (xdotool's names) in the app's window.
fn press_keys(h: &Harness, keys: &str) {
    let pids = pids_of(&h.app);
    assert_eq!(pids.len(), 1, "one app process");
    let xdotool = |args: &[&str]| {
        let out = Command::new("xdotool")
            .args(args)
            .envs(h.app_env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap_or_else(|e| panic!("xdotool (Debian: apt-get install xdotool): {e}"));
        assert!(out.status.success(), "xdotool {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let windows = xdotool(&["search", "--onlyvisible", "--pid", &pids[0].to_string()]);
    let window = windows.lines().next().expect("a visible window").trim().to_string();
    xdotool(&["windowfocus", "--sync", &window]);
    xdotool(&["key", "--clearmodifiers", keys]);
}

const NOTE: &str = "edited in the desktop smoke test";

/// The size the test gives the window, expected back after a restart.
const WINDOW: (u64, u64) = (1000, 700);

/// The window's outer size as WebDriver reports it.
fn window_size(s: &Session) -> (u64, u64) {
    let r = s.call("GET", "/window/rect", None).unwrap_or_default();
    (r["width"].as_u64().unwrap_or(0), r["height"].as_u64().unwrap_or(0))
}

/// Runs another process logs while the app is open (`demo --seeds 1`: two).
const MORE: usize = 2;

fn drive(s: &Session, h: &Harness, logged: &[Value], shots: Option<&Path>) {
    let (app, saves) = (&h.app, &h.saves());
    // The window opens at the login URL, which sets the cookie and redirects to the UI.
    let base = wait_for_ui(s);
    println!("app UI at {base}");
    s.go(&format!("{base}/p/{PROJECT}"));
    let rows =
        s.wait_for(r#"[data-testid="runs-table"] [data-testid="run-row"]"#, logged.len(), Duration::from_secs(30));
    assert_eq!(rows.len(), logged.len(), "one row per logged run");
    for row in &rows {
        let id = s.attr(row, "data-run-id");
        let run = logged.iter().find(|r| r["id"] == json!(id)).unwrap_or_else(|| panic!("row for unknown run {id:?}"));
        let name = run["name"].as_str().unwrap();
        assert!(s.text(row).contains(name), "row {id} shows its name {name:?}");
    }
    if let Some(dir) = shots {
        s.screenshot(dir, "desktop-runs.png");
    }

    // Another process writes to the store while the app has it open: its runs appear in the
    // table live, without a reload.
    tb(&h.cli, &h.store(), &["demo", "--steps", "50", "--seeds", "1"]);
    let rows_now = s.wait_for(
        r#"[data-testid="runs-table"] [data-testid="run-row"]"#,
        logged.len() + MORE,
        Duration::from_secs(30),
    );
    assert_eq!(rows_now.len(), logged.len() + MORE, "rows after another process logged {MORE} runs");
    let rows: Vec<String> =
        rows_now.into_iter().filter(|r| logged.iter().any(|l| l["id"] == json!(s.attr(r, "data-run-id")))).collect();

    // Export Report (the menu item runs `window.trackbench.exportReport()`): select two runs,
    // export, and the server's HTML report of exactly those runs lands through the download hook.
    for row in rows.iter().take(2) {
        let cb = s
            .call(
                "POST",
                &format!("/element/{row}/element"),
                Some(json!({"using": "css selector", "value": "input[type=checkbox]"})),
            )
            .unwrap_or_else(|e| panic!("the row's checkbox: {e}"));
        let cb =
            cb.as_object().and_then(|o| o.values().next()?.as_str().map(String::from)).expect("a checkbox element");
        s.call("POST", &format!("/element/{cb}/click"), Some(json!({}))).unwrap();
    }
    let selected = s.script("return window.trackbench.selection()", json!([]));
    assert_eq!(selected.as_array().map(Vec::len), Some(2), "selection after two clicks: {selected}");
    assert_eq!(
        s.script("return window.trackbench.exportReport()", json!([])),
        json!(true),
        "exportReport with a selection"
    );
    let names: Vec<String> = selected
        .as_array()
        .unwrap()
        .iter()
        .map(|id| {
            logged.iter().find(|r| &r["id"] == id).expect("a selected run is a logged one")["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let t = Instant::now();
    let report = loop {
        let found = std::fs::read_dir(saves).unwrap().flatten().map(|e| e.path()).find(|p| {
            p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("trackbench-report"))
                && std::fs::read_to_string(p).is_ok_and(|t| t.trim_end().ends_with("</html>"))
        });
        if let Some(p) = found {
            break std::fs::read_to_string(p).unwrap();
        }
        assert!(t.elapsed() < Duration::from_secs(30), "the exported report never reached {}", saves.display());
        std::thread::sleep(Duration::from_millis(100));
    };
    for name in &names {
        assert!(report.contains(name.as_str()), "the report names the selected run {name}");
    }
    println!("exported a report of {} runs ({} bytes)", names.len(), report.len());

    // Follow the first row's link to the run's page.
    let first_id = logged[0]["id"].as_str().unwrap();
    let row = rows.iter().find(|r| s.attr(r, "data-run-id") == first_id).unwrap();
    let link = s.call("POST", &format!("/element/{row}/element"), Some(json!({"using": "css selector", "value": "a"})));
    match link.ok().and_then(|l| l.as_object()?.values().next()?.as_str().map(String::from)) {
        Some(a) => {
            s.call("POST", &format!("/element/{a}/click"), Some(json!({}))).unwrap();
        }
        None => s.go(&format!("{base}/runs/{first_id}")),
    }
    let detail = s.wait_for(r#"[data-testid="run-detail"]"#, 1, Duration::from_secs(30));
    let name = logged[0]["name"].as_str().unwrap();
    assert!(s.text(&detail[0]).contains(name), "the detail page shows the run's name {name:?}");
    assert!(s.url().ends_with(&format!("/runs/{first_id}")), "detail URL: {}", s.url());
    if let Some(dir) = shots {
        s.screenshot(dir, "desktop-run-detail.png");
    }

    // A second launch hands over to the first (single instance) and exits; the first stays.
    if h.session_bus {
        let first = pids_of(app);
        let t = Instant::now();
        let mut second = Command::new(app)
            .arg("--store")
            .arg(h.store())
            .envs(h.app_env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("launching the app a second time");
        let status = loop {
            if let Some(st) = second.try_wait().unwrap() {
                break st;
            }
            if t.elapsed() > Duration::from_secs(20) {
                let _ = second.kill();
                let _ = second.wait();
                panic!(
                    "a second launch was still running after 20 s: it did not hand over to the first (single instance)"
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(status.success(), "the second launch exited with {status}");
        assert!(first.iter().all(|p| alive(*p)), "the first instance still runs after the second launch");
        assert!(s.url().ends_with(&format!("/runs/{first_id}")), "the first window keeps its page: {}", s.url());
        println!("a second launch handed over to the first and exited after {:.2} s", t.elapsed().as_secs_f64());
    }

    // A download goes through the app's hook (the save dialog is skipped by
    // TRACKBENCH_DESKTOP_SAVE_DIR) and lands complete.
    s.script(
        "const a = document.createElement('a'); \
         a.href = URL.createObjectURL(new Blob([arguments[0]], {type: 'text/html'})); \
         a.download = 'smoke-report.html'; document.body.appendChild(a); a.click(); a.remove();",
        json!(["<p>saved by the desktop smoke test</p>"]),
    );
    let saved = saves.join("smoke-report.html");
    let t = Instant::now();
    while std::fs::read_to_string(&saved).ok().as_deref() != Some("<p>saved by the desktop smoke test</p>") {
        assert!(t.elapsed() < Duration::from_secs(20), "the download never reached {}", saved.display());
        std::thread::sleep(Duration::from_millis(100));
    }

    // The Launch view's reference trainer is there: a bad trainer parameter is refused by name
    // (nothing is launched), not because the app's server has no trainer.
    let refused = s.script_async(
        "const done = arguments[arguments.length - 1]; \
         fetch('/api/v1/jobs', {method: 'POST', headers: {'content-type': 'application/json'}, \
           body: JSON.stringify({project: 'p', device: 'cpu', trainer: {bogus: 1}})}) \
           .then(r => r.text().then(t => done([r.status, t])), e => done(String(e)));",
        json!([]),
    );
    assert_eq!(refused[0], json!(400), "trainer job with a bad parameter: {refused}");
    assert!(refused[1].as_str().unwrap_or_default().contains("unknown trainer parameter"), "{refused}");

    // An edit through the API, acknowledged, right before closing: it must survive shutdown.
    let edited = s.script_async(
        "const done = arguments[arguments.length - 1]; \
         fetch('/api/v1/runs/' + arguments[0], {method: 'PATCH', headers: {'content-type': 'application/json'}, \
           body: JSON.stringify({notes: arguments[1]})}).then(r => done(r.status), e => done(String(e)));",
        json!([first_id, NOTE]),
    );
    assert_eq!(edited, json!(200), "PATCH of the run's notes");

    // Resize the window: the next start must come back at this size (window state).
    s.call("POST", "/window/rect", Some(json!({"width": WINDOW.0, "height": WINDOW.1}))).unwrap();
    let t = Instant::now();
    while window_size(s) != WINDOW {
        assert!(t.elapsed() < Duration::from_secs(10), "the window did not take {WINDOW:?}: {:?}", window_size(s));
        std::thread::sleep(Duration::from_millis(100));
    }

    // Quit as a person does (Ctrl+Q, File > Quit): the app's own exit path stops the server
    // gracefully and saves the window state. (WebDriver's "close window" is no test of that:
    // WebKitWebDriver kills the process once its window is gone.)
    let secs = quit_by_keyboard(h);
    println!("app exited {secs:.2} s after Ctrl+Q");
    let state = h.tmp.path().join("home/config/dev.trackbench.desktop/.window-state.json");
    let saved = std::fs::read_to_string(&state)
        .unwrap_or_else(|e| panic!("no window state at {} after quitting: {e}", state.display()));
    assert!(saved.contains(&format!("\"width\": {}", WINDOW.0)), "saved window state: {saved}");
}

/// Types Ctrl+Q into the app's window (xdotool: find the window by pid, give it the input
/// focus, then the keys through XTEST) and waits for the app to exit; returns the seconds that
/// took.
fn quit_by_keyboard(h: &Harness) -> f64 {
    let pids = pids_of(&h.app);
    assert_eq!(pids.len(), 1, "one app process");
    let pid = pids[0];
    let xdotool = |args: &[&str]| {
        let out = Command::new("xdotool")
            .args(args)
            .envs(h.app_env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap_or_else(|e| panic!("xdotool (Debian: apt-get install xdotool): {e}"));
        assert!(out.status.success(), "xdotool {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let windows = xdotool(&["search", "--onlyvisible", "--pid", &pid.to_string()]);
    let window = windows.lines().next().unwrap_or_else(|| panic!("no visible window of pid {pid}")).trim().to_string();
    xdotool(&["windowfocus", "--sync", &window]);
    xdotool(&["key", "--clearmodifiers", "ctrl+q"]);
    let t = Instant::now();
    while alive(pid) {
        assert!(t.elapsed() < Duration::from_secs(20), "the app did not exit after Ctrl+Q");
        std::thread::sleep(Duration::from_millis(100));
    }
    t.elapsed().as_secs_f64()
}

/// Logs `runs` finished runs into project `bench` through the SDK (params and a short loss
/// curve each), the way training code would.
fn make_bench_store(store: &Path, runs: usize) {
    for i in 0..runs {
        let opts = trackbench_sdk::RunOptions::new("bench").store_dir(store).name(format!("run-{i:05}"));
        let run = trackbench_sdk::Run::start(opts).expect("start run");
        run.log_params(&[("lr", (1e-4 * (1 + i % 7) as f64).into()), ("seed", (i as i64).into())]).unwrap();
        for step in 0..10 {
            run.log_at(step, &[("loss", 1.0 / (1.0 + step as f64 + (i % 13) as f64))]).unwrap();
        }
        run.finish().unwrap();
    }
}

/// Benchmark, not a check (`#[ignore]`; `src-tauri/bench-desktop.sh` runs it on a release
/// build): cold start, from asking WebDriver for the app to the runs table of a 10k-run store
/// on screen, and the idle memory of the app and its WebKit processes. Prints `BENCH` lines.
#[test]
#[ignore]
fn bench_cold_start_to_runs_table() {
    let Some(h) = Harness::start() else { return };
    let runs: usize = std::env::var("TRACKBENCH_BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(10_000);
    let store = h.store();
    let t = Instant::now();
    make_bench_store(&store, runs);
    println!("BENCH store: {runs} runs logged through the SDK in {:.1} s", t.elapsed().as_secs_f64());
    let store_arg = store.display().to_string();
    let mut times = Vec::new();
    for round in 1..=5 {
        let t0 = Instant::now();
        h.with_app(&["--store", &store_arg, "--page", "/p/bench"], |s| {
            s.wait_for(r#"[data-testid="runs-table"] [data-testid="run-row"]"#, 1, Duration::from_secs(120));
            let first_paint = t0.elapsed().as_secs_f64();
            times.push(first_paint);
            println!("BENCH round {round}: runs table on screen {first_paint:.3} s after the app was requested");
            if round == 1 {
                std::thread::sleep(Duration::from_secs(10)); // idle
                let pids = pids_of(&h.app);
                let tree: Vec<u32> = pids.iter().flat_map(|p| process_tree(*p)).collect();
                let (mut rss, mut pss) = (0, 0);
                for p in &tree {
                    let (r, s) = memory_kib(*p);
                    let name = std::fs::read_to_string(format!("/proc/{p}/comm")).unwrap_or_default();
                    println!(
                        "BENCH idle memory: pid {p} {}: RSS {:.1} MiB, PSS {:.1} MiB",
                        name.trim(),
                        r as f64 / 1024.0,
                        s as f64 / 1024.0
                    );
                    rss += r;
                    pss += s;
                }
                println!(
                    "BENCH idle memory total ({} processes): RSS {:.1} MiB, PSS {:.1} MiB",
                    tree.len(),
                    rss as f64 / 1024.0,
                    pss as f64 / 1024.0
                );
            }
            let pids = pids_of(&h.app);
            let _ = s.call("DELETE", "/window", None);
            let t = Instant::now();
            while pids.iter().any(|p| alive(*p)) && t.elapsed() < Duration::from_secs(20) {
                std::thread::sleep(Duration::from_millis(50));
            }
        });
    }
    times.sort_by(f64::total_cmp);
    println!(
        "BENCH cold start to runs table ({runs} runs): median {:.3} s, min {:.3} s, max {:.3} s",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
}
