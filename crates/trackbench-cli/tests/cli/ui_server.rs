//! `trackbench ui --server URL` against a real `trackbench serve` with a user: the token is
//! checked first, then handed to the browser only through a private page and to the desktop
//! app only on its standard input, never on a command line or in an environment.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Env, Served};

/// A server on `env`'s store with user `ana` (READ on `vision`); her token.
fn serve_with_a_user(env: &Env) -> (Served, String) {
    env.log_run("vision", "r", 0.1, &[0.5]);
    env.ok(&["users", "add", "ana"]);
    env.ok(&["projects", "grant", "vision", "ana", "read"]);
    let token = env.ok(&["tokens", "create", "ana"]).stdout.trim().to_string();
    (crate::util::serve(env.store(), "server-token-0123456789"), token)
}

/// An executable shell script that writes its name, arguments, environment and standard input
/// to `record`.
#[cfg(unix)]
fn recorder(bin: &Path, name: &str, record: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = bin.join(name);
    let script = format!(
        "#!/bin/sh\n{{ echo \"name: {name}\"; for a in \"$@\"; do echo \"arg: $a\"; done; env; echo \"stdin: $(cat)\"; echo ---; }} >> '{}'\n",
        record.display()
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// `trackbench ui ARGS` with `bin` first on `PATH`, the token in `TRACKBENCH_TOKEN`.
fn ui(env: &Env, bin: &Path, args: &[&str], token: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_trackbench"))
        .arg("ui")
        .args(args)
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("TRACKBENCH_DIR", env.store().join("store"))
        .env("HOME", env.store())
        .env("XDG_RUNTIME_DIR", env.store().join("run"))
        .env("BROWSER", bin.join("my-browser"))
        .env("TRACKBENCH_TOKEN", token)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn trackbench ui")
}

fn setup(env: &Env) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let bin = env.store().join("bin");
    let run_dir = env.store().join("run");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&run_dir).unwrap();
    std::fs::set_permissions(&run_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    (bin, env.store().join("opened.txt"))
}

fn wait_for_record(record: &Path) -> String {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(record).unwrap_or_default();
        if text.contains("---") {
            return text;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "nothing was started");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(unix)]
#[test]
fn ui_server_opens_the_team_server_through_a_private_page() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let (server, token) = serve_with_a_user(&env);
    let (bin, record) = setup(&env);
    for name in
        ["xdg-open", "sensible-browser", "x-www-browser", "gnome-open", "firefox", "chromium", "open", "my-browser"]
    {
        recorder(&bin, name, &record);
    }
    let mut child = ui(&env, &bin, &["--browser", "--server", &format!("{}/", server.url)], &token);
    let recorded = wait_for_record(&record);
    assert!(!recorded.contains(&token), "the token reached an opener's argv or environment:\n{recorded}");
    let args: Vec<&str> = recorded.lines().filter_map(|l| l.strip_prefix("arg: ")).collect();
    assert_eq!(args.len(), 1, "the opener gets one file: {recorded}");
    let page = Path::new(args[0]);
    assert!(page.starts_with(env.store().join("run")), "{}", page.display());
    assert_eq!(std::fs::metadata(page).unwrap().permissions().mode() & 0o777, 0o600);
    let html = std::fs::read_to_string(page).unwrap();
    assert!(html.contains(&format!("url={}/?token={token}\"", server.url)), "leads to the server's login URL:\n{html}");
    // Enter ends it, and the page goes with it.
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("Signed in to {} as ana", server.url)), "{stderr}");
    assert!(!stdout.contains(&token) && !stderr.contains(&token), "the token is never printed:\n{stdout}\n{stderr}");
    assert!(!page.parent().unwrap().exists(), "the page's folder is removed");
}

#[cfg(unix)]
#[test]
fn ui_server_hands_the_token_to_the_desktop_app_on_stdin_only() {
    let env = Env::new();
    let (server, token) = serve_with_a_user(&env);
    let (bin, record) = setup(&env);
    recorder(&bin, "trackbench-desktop", &record);
    let child = ui(&env, &bin, &["--server", &server.url], &token);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let recorded = std::fs::read_to_string(&record).unwrap();
    let args: Vec<&str> = recorded.lines().filter_map(|l| l.strip_prefix("arg: ")).collect();
    assert_eq!(args, ["--server", server.url.as_str(), "--token-stdin"], "{recorded}");
    assert!(recorded.contains(&format!("stdin: {token}\n")), "the token on stdin:\n{recorded}");
    assert_eq!(recorded.matches(&token).count(), 1, "nowhere but stdin:\n{recorded}");
}

#[test]
fn ui_server_refuses_a_bad_token_before_opening_anything() {
    let env = Env::new();
    let (server, _) = serve_with_a_user(&env);
    let (bin, record) = setup(&env);
    #[cfg(unix)]
    recorder(&bin, "trackbench-desktop", &record);
    let mut child = ui(&env, &bin, &["--server", &server.url], "tbu_wrong");
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("401") && stderr.contains("checking the token"), "{stderr}");
    assert!(!record.exists(), "nothing was opened");
}

/// `GET /?token=…` as the browser sends it: the status and the `Set-Cookie` header, if any.
fn login_answer(base: &str, token: &str) -> (u16, Option<String>) {
    let authority = base.trim_start_matches("http://").to_string();
    let mut conn = std::net::TcpStream::connect(&authority).unwrap();
    write!(conn, "GET /?token={token} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    let status = answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let cookie = answer
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: ").or_else(|| l.strip_prefix("Set-Cookie: ")))
        .map(str::to_string);
    (status, cookie)
}

/// The login URL the browser page leads to signs a user in with their own token (the cookie
/// holds it, the address bar loses it); a revoked or made-up token sets nothing.
#[test]
fn the_login_url_takes_a_users_token() {
    let env = Env::new();
    let (server, token) = serve_with_a_user(&env);
    let (status, cookie) = login_answer(&server.url, &token);
    assert_eq!(status, 303);
    assert!(cookie.as_deref().is_some_and(|c| c.starts_with(&format!("trackbench_token={token};"))), "{cookie:?}");
    let made_up = format!("tbu_{}", "0".repeat(64));
    assert_eq!(login_answer(&server.url, &made_up), (200, None));
    let id = env.ok(&["tokens", "ls", "--json"]).json()[0]["id"].clone();
    env.ok(&["tokens", "revoke", &id.to_string()]);
    assert_eq!(login_answer(&server.url, &token), (200, None), "a revoked token signs nobody in");
}
