//! `trackbench ui --browser` opens the browser without putting the access token on any
//! command line or in any environment: stand-in openers (`xdg-open`, the browsers it may
//! call, `$BROWSER`) record how they were started, and the page they are given must be
//! private to the user and lead to the login URL.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::Env;

/// Writes an executable shell script that appends its name, arguments and environment to
/// `record`, then (like a browser asked to open a file) copies nothing and exits.
#[cfg(unix)]
fn recorder(bin: &Path, name: &str, record: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = bin.join(name);
    let script = format!(
        "#!/bin/sh\n{{ echo \"name: {name}\"; for a in \"$@\"; do echo \"arg: $a\"; done; env; echo ---; }} >> '{}'\n",
        record.display()
    );
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[cfg(unix)]
#[test]
fn the_browser_gets_a_private_page_and_never_the_token() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let bin = env.store().join("bin");
    let run_dir = env.store().join("run");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&run_dir).unwrap();
    std::fs::set_permissions(&run_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let record = env.store().join("opened.txt");
    for name in ["xdg-open", "sensible-browser", "x-www-browser", "gnome-open", "firefox", "chromium", "open"] {
        recorder(&bin, name, &record);
    }
    let browser = recorder(&bin, "my-browser", &record);
    let mut child = Command::new(env!("CARGO_BIN_EXE_trackbench"))
        .args(["ui", "--browser"])
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("TRACKBENCH_DIR", env.store().join("store"))
        .env("HOME", env.store())
        .env("XDG_RUNTIME_DIR", &run_dir)
        .env("BROWSER", &browser)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn trackbench ui --browser");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.trim().strip_prefix("open:").map(|u| u.trim().to_string()))
        .expect("an `open:` line");
    let token = url.split("token=").nth(1).expect("the printed URL carries the token").to_string();
    assert!(token.len() >= 32, "{url}");

    let start = Instant::now();
    let recorded = loop {
        let text = std::fs::read_to_string(&record).unwrap_or_default();
        if text.contains("---") {
            break text;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no opener was started");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!recorded.contains(&token), "the token reached an opener's argv or environment:\n{recorded}");
    let args: Vec<&str> = recorded.lines().filter_map(|l| l.strip_prefix("arg: ")).collect();
    assert_eq!(args.len(), 1, "the opener gets one file: {recorded}");
    let page = Path::new(args[0]);
    assert!(page.starts_with(&run_dir), "the page is under $XDG_RUNTIME_DIR: {}", page.display());
    let mode = std::fs::metadata(page).expect("the page exists while the server runs").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the page is readable by this user only");
    let folder = page.parent().unwrap();
    assert_eq!(std::fs::metadata(folder).unwrap().permissions().mode() & 0o777, 0o700);
    let html = std::fs::read_to_string(page).unwrap();
    assert!(html.contains(&format!("url={url}\"")), "the page refreshes to the login URL:\n{html}");

    // The login URL it leads to signs the browser in (the cookie, then the token dropped).
    let authority = url.trim_start_matches("http://").split('/').next().unwrap().to_string();
    let mut conn = std::net::TcpStream::connect(&authority).unwrap();
    let path = url.trim_start_matches("http://").trim_start_matches(&authority);
    use std::io::{Read, Write};
    write!(conn, "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 303") && answer.contains("trackbench_token="), "{answer}");

    // A graceful stop removes the page and its folder.
    let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    assert!(!folder.exists(), "the page's folder is removed when the server stops");
}
