//! `trackbench-desktop`: the Trackbench desktop app. A thin Tauri 2 shell: it starts the
//! Trackbench server in-process (loopback, random port and token) on the same store the CLI
//! and SDKs use, shows the server's UI in one window, and adds only what a native app should:
//! a menu, native open/save dialogs, a remembered window, a single instance. Closing the window
//! stops the server gracefully.
//!
//! Usage: `trackbench-desktop [--store DIR] [--page /p/PROJECT]` (store default:
//! `TRACKBENCH_DIR`, else the data dir; page default: the UI's start page).

mod download;
mod locale;
mod menu;
mod server;

use std::path::PathBuf;
use std::sync::Mutex;

use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};
use tauri_plugin_dialog::{DialogExt, MessageDialogKind};

use server::Embedded;

/// Label of the one window.
pub const MAIN: &str = "main";

/// App state: the running server and the page zoom.
pub struct Shell {
    server: Mutex<Option<Embedded>>,
    zoom: Mutex<f64>,
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

/// Serves `dir` instead of the current store: starts a server on it, points the window at it,
/// then stops the old one. A store that fails to open leaves everything as it was.
pub fn open_store<R: Runtime>(app: &AppHandle<R>, dir: PathBuf) {
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
    let old = app.state::<Shell>().server.lock().unwrap().replace(started);
    let _ = window.navigate(url);
    if let Some(old) = old {
        old.stop();
    }
}

fn main() {
    locale::fix_c_locale();
    let store = arg("store").map(PathBuf::from).unwrap_or_else(trackbench_sdk::default_store_dir);
    let server = match Embedded::start(&store) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("trackbench-desktop: cannot serve the store at {}: {e}", store.display());
            std::process::exit(1);
        }
    };
    let login = arg("page").map(|p| server.login_url_for(&p)).unwrap_or_else(|| server.login_url.clone());
    let login: tauri::Url = login.parse().expect("the server's login URL parses");
    let shell = Shell { server: Mutex::new(Some(server)), zoom: Mutex::new(1.0) };
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
            WebviewWindowBuilder::new(app, MAIN, WebviewUrl::External(login))
                .title(title(&store))
                .inner_size(1280.0, 820.0)
                .min_inner_size(640.0, 420.0)
                .on_download(download::on_download)
                .build()?;
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
