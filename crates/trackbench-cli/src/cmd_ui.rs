//! `trackbench ui`: opens the store in the desktop app when it is installed
//! (`TRACKBENCH_DESKTOP`, else `trackbench-desktop` next to this executable, else on `PATH`);
//! otherwise serves the UI on a free loopback port and opens the browser at the login URL
//! (`--browser` forces that).
//!
//! The login URL carries the access token, and anyone holding it can launch programs as this
//! user, so it never goes on a command line (every local user can read `/proc/*/cmdline`) or
//! into a child's environment. The browser is opened on a small page instead (as Jupyter
//! does): a file readable only by this user (mode 0600, in a fresh folder of mode 0700 under
//! `$XDG_RUNTIME_DIR`, else the temp folder) that sends the browser on to the login URL; it is
//! removed when the server stops. The desktop app is given only the store folder: it runs its
//! own server with its own token.
//!
//! `--server URL` opens a team server's UI instead of a local store, signed in with the token
//! of `TRACKBENCH_TOKEN` or `trackbench login` (checked first with `whoami`). The same rules
//! hold: the browser gets the private page leading to `URL/?token=…`, removed once the user
//! presses Enter, or after a minute; the desktop app gets `--server URL --token-stdin` and the
//! token on its standard input, never in its argv or environment.

use std::io::{BufRead, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;
use clap::Args;
use trackbench_server::ServerConfig;

use crate::{Ctx, cmd_serve};

#[derive(Args)]
pub struct UiArgs {
    /// Serve the UI and open a browser even when the desktop app is installed
    #[arg(long)]
    browser: bool,
    /// With the browser: only print the URL, do not open it
    #[arg(long)]
    no_open: bool,
    /// With the browser: port to listen on (0 picks a free one)
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Open a team server's UI instead of the store's (no URL: the one `trackbench login`
    /// keeps); the token comes from TRACKBENCH_TOKEN or the login
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    server: Option<String>,
}

/// The name of the desktop app's binary.
const DESKTOP: &str = "trackbench-desktop";

/// `TRACKBENCH_DESKTOP` (a path), else `trackbench-desktop` next to the running executable,
/// else the first one on `PATH`.
pub fn find_desktop() -> Option<PathBuf> {
    trackbench_launch::find::companion("TRACKBENCH_DESKTOP", DESKTOP)
}

pub fn ui(ctx: &Ctx, args: UiArgs) -> anyhow::Result<()> {
    if let Some(server) = &args.server {
        return ui_server(server, &args);
    }
    if !args.browser {
        if let Some(app) = find_desktop() {
            eprintln!("Opening {} in {}", ctx.store_dir.display(), app.display());
            let status = Command::new(&app)
                .arg("--store")
                .arg(&ctx.store_dir)
                .env("TRACKBENCH_DIR", &ctx.store_dir)
                // Trainer jobs launched from the app run this executable's `train`.
                .env("TRACKBENCH_CLI", std::env::current_exe()?)
                .status()
                .map_err(|e| anyhow::anyhow!("starting {}: {e}", app.display()))?;
            anyhow::ensure!(status.success(), "{} exited with {status}", app.display());
            return Ok(());
        }
        eprintln!("The desktop app ({DESKTOP}) is not installed; serving the UI to a browser instead.");
    }
    let mut cfg = ServerConfig::new(ctx.store_dir.clone());
    cfg.opts = ctx.opts.clone();
    cfg.host = IpAddr::from([127, 0, 0, 1]);
    cfg.port = args.port;
    cmd_serve::with_trainer(&mut cfg);
    // Lives until the server stops: the browser may read the page late.
    let mut page: Option<LoginPage> = None;
    let served = cmd_serve::run_until_ctrl_c(cfg, |server| {
        let url = server.login_url();
        println!("Trackbench UI for {}", ctx.store_dir.display());
        println!("  open:  {url}");
        println!("  (Ctrl-C stops it)");
        if !args.no_open {
            let opened = LoginPage::create(&url).and_then(|p| {
                let file = p.file.clone();
                page = Some(p);
                open_browser(&file)
            });
            if let Err(e) = opened {
                eprintln!("could not open a browser ({e}); open the URL above yourself");
            }
        }
        Ok(())
    });
    drop(page);
    served
}

/// A page that sends the browser to the login URL, in a folder of its own that only this user
/// can read; both are removed on drop.
struct LoginPage {
    dir: PathBuf,
    file: PathBuf,
}

impl LoginPage {
    fn create(login_url: &str) -> std::io::Result<LoginPage> {
        let base = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .filter(|d| d.is_absolute() && d.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        // A fresh name, created here (never an existing folder or a link planted by another user).
        let dir = base.join(format!("trackbench-ui-{}", trackbench_server::auth::random_token()));
        let mut folder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
        folder.create(&dir)?;
        let page = LoginPage { file: dir.join("open-trackbench.html"), dir };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(&page.file)?.write_all(redirect_html(login_url).as_bytes())?;
        Ok(page)
    }
}

impl Drop for LoginPage {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An HTML page that goes straight on to `url` (with a link, should refreshing be off).
fn redirect_html(url: &str) -> String {
    let url = url.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n\
         <meta http-equiv=\"refresh\" content=\"0;url={url}\">\n<title>Trackbench</title></head>\n\
         <body><p>Opening Trackbench… If nothing happens, <a href=\"{url}\">open the Trackbench UI</a>.</p></body></html>\n"
    )
}

/// Opens `file` with the platform's opener (`xdg-open`, `open`, `start`), without waiting for
/// it, and without `TRACKBENCH_TOKEN` in its environment.
fn open_browser(file: &Path) -> std::io::Result<()> {
    let mut c = if cfg!(target_os = "macos") {
        Command::new("open")
    } else if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else {
        Command::new("xdg-open")
    };
    // The user's own token (`--server`'s, or the one a local server takes) is not the browser's.
    c.arg(file)
        .env_remove("TRACKBENCH_TOKEN")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    c.spawn().map(drop)
}

/// The team server to open and the token to sign in with: `url` (else the login's URL), and
/// `env_token` (`TRACKBENCH_TOKEN`), else the login's token when the login is for that server.
fn server_and_token(
    url: &str,
    env_token: Option<String>,
    login: Option<trackbench_sdk::login::Login>,
) -> anyhow::Result<(String, String)> {
    let url = match url.trim() {
        "" => match &login {
            Some(l) => l.url.clone(),
            None => anyhow::bail!(
                "no server given and no login: `trackbench ui --server URL`, or `trackbench login URL` first"
            ),
        },
        u => u.to_string(),
    };
    let url = url.trim_end_matches('/').to_string();
    anyhow::ensure!(
        url.starts_with("http://") || url.starts_with("https://"),
        "`{url}` is not an http:// or https:// URL"
    );
    if let Some(t) = env_token.filter(|t| !t.is_empty()) {
        return Ok((url, t));
    }
    match login {
        Some(l) if l.url.trim_end_matches('/') == url => Ok((url, l.token)),
        Some(l) => anyhow::bail!(
            "no token for {url}: the login is for {} (run `trackbench login {url}`, or set TRACKBENCH_TOKEN)",
            l.url
        ),
        None => anyhow::bail!("no token for {url}: run `trackbench login {url}` first, or set TRACKBENCH_TOKEN"),
    }
}

/// `trackbench ui --server URL`: the team server's UI in the desktop app or the browser.
fn ui_server(server: &str, args: &UiArgs) -> anyhow::Result<()> {
    let login = trackbench_sdk::login::login_path().and_then(|p| trackbench_sdk::login::read_login(&p));
    let (url, token) = server_and_token(server, std::env::var("TRACKBENCH_TOKEN").ok(), login)?;
    // A wrong or revoked token is said now, not by a signed-out page.
    let who = trackbench_sdk::login::whoami(&url, &token).map_err(|e| anyhow::anyhow!("checking the token: {e}"))?;
    let name = who.get("user").and_then(|u| u.as_str()).unwrap_or("the server's own token");
    eprintln!("Signed in to {url} as {}", crate::output::escape(name));
    if !args.browser
        && let Some(app) = find_desktop()
    {
        eprintln!("Opening {url} in {}", app.display());
        let mut child = Command::new(&app)
            .arg("--server")
            .arg(&url)
            .arg("--token-stdin")
            .env_remove("TRACKBENCH_TOKEN")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| anyhow::anyhow!("starting {}: {e}", app.display()))?;
        if let Some(mut stdin) = child.stdin.take() {
            // An app that exits before reading is told by its exit status below.
            let _ = writeln!(stdin, "{token}");
        }
        let status = child.wait()?;
        anyhow::ensure!(status.success(), "{} exited with {status}", app.display());
        return Ok(());
    }
    let login_url = format!("{url}/?token={token}");
    println!("Trackbench UI of {url}");
    let page = LoginPage::create(&login_url).context("writing the private sign-in page")?;
    if args.no_open {
        println!("  open:  {}", page.file.display());
    } else if let Err(e) = open_browser(&page.file) {
        eprintln!("could not open a browser ({e}); open {} yourself", page.file.display());
    }
    println!("  (press Enter once the UI is open: the sign-in page is removed then, or in a minute)");
    let _ = std::io::stdout().flush();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = std::io::stdin().lock().read_line(&mut String::new());
        let _ = tx.send(());
    });
    let _ = rx.recv_timeout(std::time::Duration::from_secs(60));
    drop(page);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::server_and_token;
    use trackbench_sdk::login::Login;

    fn login(url: &str) -> Option<Login> {
        Some(Login { url: url.to_string(), token: "tbu_kept".to_string() })
    }

    #[test]
    fn the_token_comes_from_the_env_or_the_login_for_that_server() {
        let ok = |url: &str, env: Option<&str>, l: Option<Login>| {
            server_and_token(url, env.map(str::to_string), l).map_err(|e| e.to_string())
        };
        let pair = |u: &str, t: &str| Ok((u.to_string(), t.to_string()));
        assert_eq!(ok("http://tb:5005/", None, login("http://tb:5005")), pair("http://tb:5005", "tbu_kept"));
        assert_eq!(ok("", None, login("http://tb:5005/")), pair("http://tb:5005", "tbu_kept"));
        assert_eq!(ok("http://other", Some("tbu_env"), login("http://tb:5005")), pair("http://other", "tbu_env"));
        assert_eq!(ok("http://tb", Some(""), login("http://tb")), pair("http://tb", "tbu_kept"));
        let err = ok("http://other", None, login("http://tb:5005")).unwrap_err();
        assert!(err.contains("no token for http://other") && err.contains("http://tb:5005"), "{err}");
        assert!(ok("http://tb", None, None).unwrap_err().contains("trackbench login http://tb"));
        assert!(ok("", Some("t"), None).unwrap_err().contains("no server given"));
        assert!(ok("tb:5005", Some("t"), None).unwrap_err().contains("not an http"));
    }
}
