//! `trackbench ui`: opens the store in the desktop app when it is installed
//! (`TRACKBENCH_DESKTOP`, else `trackbench-desktop` next to this executable, else on `PATH`);
//! otherwise serves the UI on a free loopback port and opens the browser at the login URL
//! (`--browser` forces that).

use std::net::IpAddr;
use std::path::PathBuf;
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
    if let Some(p) = std::env::var_os("TRACKBENCH_DESKTOP").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let exe_name = format!("{DESKTOP}{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe().ok().and_then(|e| e.parent().map(|d| d.join(&exe_name)));
    beside.filter(|p| p.is_file()).or_else(|| {
        std::env::var_os("PATH")
            .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(&exe_name)).find(|p| p.is_file()))
    })
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
    cmd_serve::run_until_ctrl_c(cfg, |server| {
        let url = server.login_url();
        println!("Trackbench UI for {}", ctx.store_dir.display());
        println!("  open:  {url}");
        println!("  (Ctrl-C stops it)");
        if !args.no_open
            && let Err(e) = open_browser(&url)
        {
            eprintln!("could not open a browser ({e}); open the URL above yourself");
        }
        Ok(())
    })
}

/// Opens `url` with the platform's opener (`xdg-open`, `open`, `start`), without waiting for it.
fn open_browser(url: &str) -> std::io::Result<()> {
    let mut c = if cfg!(target_os = "macos") {
        Command::new("open")
    } else if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else {
        Command::new("xdg-open")
    };
    c.arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    c.spawn().map(drop)
}
