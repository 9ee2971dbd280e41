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

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

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
}

/// The name of the desktop app's binary.
const DESKTOP: &str = "trackbench-desktop";

/// `TRACKBENCH_DESKTOP` (a path), else `trackbench-desktop` next to the running executable,
/// else the first one on `PATH`.
pub fn find_desktop() -> Option<PathBuf> {
    trackbench_launch::find::companion("TRACKBENCH_DESKTOP", DESKTOP)
}

pub fn ui(ctx: &Ctx, args: UiArgs) -> anyhow::Result<()> {
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
/// it.
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
    c.arg(file)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    c.spawn().map(drop)
}
