//! `trackbench ui`: without the desktop app it serves the UI and prints the login URL; with a
//! `trackbench-desktop` on `PATH` it hands the store over to it. (The real app is driven
//! end to end by `src-tauri/tests/smoke/`.)

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use crate::util::Env;

#[test]
fn ui_without_the_desktop_app_serves_the_ui_and_prints_its_url() {
    let env = Env::new();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trackbench"))
        .args(["ui", "--no-open"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("TRACKBENCH_DIR", env.store())
        .env("HOME", env.store())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn trackbench ui");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.trim().strip_prefix("open:").map(|u| u.trim().to_string()))
        .expect("an `open:` line");
    assert!(url.starts_with("http://127.0.0.1:") && url.contains("/?token="), "{url}");
    let authority = url.trim_start_matches("http://").split('/').next().unwrap().to_string();
    let mut conn = std::net::TcpStream::connect(&authority).expect("connect to the served UI");
    write!(conn, "GET /api/v1/health HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Set up like `trackbench serve`: trainer jobs run this CLI (a bad trainer parameter is
    // refused by name, not because there is no trainer).
    let token = url.split("token=").nth(1).unwrap();
    let body = r#"{"project": "p", "device": "cpu", "trainer": {"bogus": 1}}"#;
    let mut conn = std::net::TcpStream::connect(&authority).expect("connect to the served UI");
    write!(
        conn,
        "POST /api/v1/jobs HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400") && answer.contains("unknown trainer parameter `bogus`"), "{answer}");
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains("not installed"), "says why it serves to a browser: {stderr}");
}

#[test]
fn ui_hands_the_store_to_the_desktop_app_on_path() {
    let env = Env::new();
    // A stand-in executable under the desktop app's name, recording how it was started.
    let bin = env.store().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let record = env.store().join("started-with.txt");
    let started_cli = env.store().join("started-cli.txt");
    let app = bin.join("trackbench-desktop");
    std::fs::write(
        &app,
        format!(
            "#!/bin/sh\necho \"$@\" \"$TRACKBENCH_DIR\" > '{}'\necho \"$TRACKBENCH_CLI\" > '{}'\n",
            record.display(),
            started_cli.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&app, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let store = env.store().join("store");
    let out = Command::new(env!("CARGO_BIN_EXE_trackbench"))
        .args(["--store"])
        .arg(&store)
        .arg("ui")
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("HOME", env.store())
        .output()
        .expect("spawn trackbench ui");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s = store.display().to_string();
    assert_eq!(std::fs::read_to_string(&record).unwrap().trim(), format!("--store {s} {s}"));
    let cli = std::fs::read_to_string(&started_cli).unwrap();
    assert_eq!(cli.trim(), env!("CARGO_BIN_EXE_trackbench"), "the app is told which CLI runs trainer jobs");
}
