//! `trackbench-desktop`: the Trackbench desktop app. A thin Tauri 2 shell: it starts the
//! Trackbench server in-process (loopback, random port and token) on the same store the CLI
//! and SDKs use, shows the server's UI in one window, and adds only what a native app should:
//! a menu, native open/save dialogs, a remembered window, a single instance. Closing the window
//! stops the server gracefully.
//!
//! Usage: `trackbench-desktop [--store DIR] [--page /p/PROJECT]` (store default:
//! `TRACKBENCH_DIR`, else the data dir; page default: the UI's start page), or
//! `trackbench-desktop --server URL --token-stdin` (a team server's UI instead, the token read
//! from standard input; see [`remote`]). Started with neither, it reconnects to the team server
//! the user last connected to from the menu, if any; else it serves the local store.

mod download;
mod locale;
mod menu;
mod remote;
mod server;

use std::path::PathBuf;
use std::sync::Mutex;

use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};
use tauri_plugin_dialog::{DialogExt, MessageDialogKind};

use server::Embedded;

/// Label of the one window.
pub const MAIN: &str = "main";

/// App state: the running server (none while a team server is shown), the local store, the
/// page zoom, and the nonce of the open Connect dialog.
pub struct Shell {
    server: Mutex<Option<Embedded>>,
    zoom: Mutex<f64>,
    store: Mutex<PathBuf>,
    connect_nonce: Mutex<Option<String>>,
}

/// `--NAME VALUE` or `--NAME=VALUE`. Unknown arguments are ignored: WebDriver and desktop
/// launchers add their own.
fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = format!("--{name}");
    let inline = format!("--{name}=");
    args.iter()
        .position(|a| *a == flag)
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| args.iter().find_map(|a| a.strip_prefix(&inline).map(String::from)))
}

fn title(store: &std::path::Path) -> String {
    format!("Trackbench — {}", store.display())
}

/// Serves `dir` instead of the current store or team server: starts a server on it, points the
/// window at it, then stops the old one; `forget_team` also forgets a remembered team server.
/// A store that fails to open leaves everything as it was.
pub fn open_store<R: Runtime>(app: &AppHandle<R>, dir: PathBuf, forget_team: bool) {
    let started = match Embedded::start(&dir) {
        Ok(s) => s,
        Err(e) => {
            app.dialog()
                .message(format!("Could not open the store at {}:\n{e}", dir.display()))
                .kind(MessageDialogKind::Error)
                .show(|_| {});
            return;
        }
    };
    let Some(window) = app.get_webview_window(MAIN) else { return };
    let url = match started.login_url.parse() {
        Ok(u) => u,
        Err(e) => {
            eprintln!("trackbench-desktop: bad server URL {}: {e}", started.login_url);
            return;
        }
    };
    let _ = window.set_title(&title(&dir));
    let shell = app.state::<Shell>();
    *shell.store.lock().unwrap() = dir;
    let old = shell.server.lock().unwrap().replace(started);
    let _ = window.navigate(url);
    if let Some(old) = old {
        old.stop();
    }
    if forget_team
        && let Ok(config) = app.path().app_config_dir()
        && let Err(e) = remote::forget(&config)
    {
        eprintln!("trackbench-desktop: could not forget the team server: {e}");
    }
}

/// Shows the team server `login` instead of the local store: checks the token (`whoami`), signs
/// the webview in with the server's cookie, navigates to the server's UI, stops the embedded
/// server; remembers the server when `keep`. Blocks (HTTP): never call it on the GTK thread. A
/// refused connection leaves everything as it was and says why; when nothing is shown yet
/// (`fallback`), the local store is served instead.
pub fn connect<R: Runtime>(app: &AppHandle<R>, login: trackbench_sdk::login::Login, keep: bool, fallback: bool) {
    let fail = |msg: String| {
        app.dialog().message(msg).kind(MessageDialogKind::Error).show(|_| {});
        if fallback {
            // The team server stays remembered: it may be back next time.
            let store = app.state::<Shell>().store.lock().unwrap().clone();
            open_store(app, store, false);
        }
    };
    let who = match trackbench_sdk::login::whoami(&login.url, &login.token) {
        Ok(w) => w,
        Err(e) => return fail(format!("Could not connect to {}:\n{e}", login.url)),
    };
    let Some(window) = app.get_webview_window(MAIN) else { return };
    let cookie = remote::cookie_line(&login).and_then(|c| tauri::webview::Cookie::parse(c).map_err(|e| e.to_string()));
    let set = cookie.and_then(|c| window.set_cookie(c).map_err(|e| e.to_string()));
    if let Err(e) = set {
        return fail(format!("Could not sign in to {}: {e}", login.url));
    }
    let Ok(url) = format!("{}/", login.url).parse::<tauri::Url>() else { return };
    let user = who.get("user").and_then(|u| u.as_str()).unwrap_or("the server's token").to_string();
    let _ = window.set_title(&format!("Trackbench — {} (as {user})", login.url));
    let _ = window.navigate(url);
    if let Some(old) = app.state::<Shell>().server.lock().unwrap().take() {
        old.stop();
    }
    if keep {
        let saved = app
            .path()
            .app_config_dir()
            .map_err(|e| e.to_string())
            .and_then(|c| remote::remember(&c, &login).map_err(|e| e.to_string()));
        if let Err(e) = saved {
            eprintln!("trackbench-desktop: could not remember the team server: {e}");
        }
    }
}

/// The window's navigation hook: the Connect dialog's answer is taken here and never loaded.
fn on_navigation<R: Runtime>(app: &AppHandle<R>, url: &tauri::Url) -> bool {
    let nonce = app.state::<Shell>().connect_nonce.lock().unwrap().take();
    let Some(answer) = remote::answer(url, nonce.as_deref()) else {
        // Not an answer: the dialog (if one is open) still waits for its own.
        *app.state::<Shell>().connect_nonce.lock().unwrap() = nonce;
        return true;
    };
    let app = app.clone();
    match answer {
        Ok(login) => {
            std::thread::spawn(move || connect(&app, login, true, false));
        }
        Err(e) => {
            app.dialog().message(e).kind(MessageDialogKind::Warning).show(|_| {});
        }
    }
    false
}

/// `--server URL --token-stdin`: the team server to show, its token read from standard input.
fn team_server_arg() -> Option<trackbench_sdk::login::Login> {
    let url = arg("server")?;
    if !std::env::args().any(|a| a == "--token-stdin") {
        eprintln!("trackbench-desktop: --server needs --token-stdin (the token never goes on the command line)");
        std::process::exit(2);
    }
    let mut token = String::new();
    let _ = std::io::stdin().read_line(&mut token);
    match remote::parse(&url, &token) {
        Ok(l) => Some(l),
        Err(e) => {
            eprintln!("trackbench-desktop: {e}");
            std::process::exit(2);
        }
    }
}

fn main() {
    locale::fix_c_locale();
    let explicit_store = arg("store").map(PathBuf::from);
    let team = team_server_arg();
    let store = explicit_store.clone().unwrap_or_else(trackbench_sdk::default_store_dir);
    // The local store is served unless a team server is asked for (or remembered, checked in
    // `setup` where the config folder is known).
    let server = if team.is_some() {
        None
    } else {
        match Embedded::start(&store) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("trackbench-desktop: cannot serve the store at {}: {e}", store.display());
                std::process::exit(1);
            }
        }
    };
    let blank: tauri::Url = "about:blank".parse().expect("about:blank parses");
    let login = match &server {
        Some(server) => {
            let login = arg("page").map(|p| server.login_url_for(&p)).unwrap_or_else(|| server.login_url.clone());
            login.parse().expect("the server's login URL parses")
        }
        None => blank.clone(),
    };
    let shell = Shell {
        server: Mutex::new(server),
        zoom: Mutex::new(1.0),
        store: Mutex::new(store.clone()),
        connect_nonce: Mutex::new(None),
    };
    let app = tauri::Builder::default()
        // First, so a second launch hands over to the first before doing anything else.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(w) = app.get_webview_window(MAIN) {
                let _ = w.unminimize();
                let _ = w.show();
                let _ = w.set_focus();
            }
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .manage(shell)
        .menu(menu::build)
        .on_menu_event(menu::on_event)
        .setup(move |app| {
            // Started plainly (no --store, no --server): the team server connected to last.
            let remembered = match (&team, &explicit_store) {
                (None, None) => app.path().app_config_dir().ok().and_then(|c| remote::remembered(&c)),
                _ => None,
            };
            let to_connect = team.clone().map(|l| (l, false)).or(remembered.map(|l| (l, true)));
            let handle = app.handle().clone();
            let first = if to_connect.is_some() { blank.clone() } else { login.clone() };
            WebviewWindowBuilder::new(app, MAIN, WebviewUrl::External(first))
                .title(title(&store))
                .inner_size(1280.0, 820.0)
                .min_inner_size(640.0, 420.0)
                .on_download(download::on_download)
                .on_navigation(move |url| on_navigation(&handle, url))
                .build()?;
            if let Some((login, keep)) = to_connect {
                let handle = app.handle().clone();
                // The window is blank until connected: a refused connection shows the local store.
                std::thread::spawn(move || connect(&handle, login, keep, true));
            }
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("starting the Tauri app");
    app.run(|app, event| {
        if let tauri::RunEvent::Exit = event {
            // Graceful: running requests finish and their writes are committed.
            if let Some(server) = app.state::<Shell>().server.lock().unwrap().take() {
                server.stop();
            }
        }
    });
}
