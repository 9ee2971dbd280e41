//! The native menu (File, View, Help) and what its items do. Everything goes through the
//! server or the page: opening another store restarts the in-process server on it, Connect to
//! a Team Server asks for a URL and token in the page and shows that server instead
//! ([`crate::remote`]), Use the Local Store goes back, Export asks the UI
//! (`window.trackbench.exportReport()`), whose download lands in [`crate::download`].

use tauri::menu::{
    AboutMetadataBuilder, Menu, MenuBuilder, MenuEvent, MenuItemBuilder, PredefinedMenuItem, SubmenuBuilder,
};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_dialog::{DialogExt, MessageDialogKind};
use tauri_plugin_opener::OpenerExt;

use crate::Shell;

/// Where Help > Docs points (override at build time with `TRACKBENCH_DOCS_URL`).
pub const DOCS_URL: &str = match option_env!("TRACKBENCH_DOCS_URL") {
    Some(u) => u,
    None => "https://github.com/trackbench/trackbench#readme",
};

const ZOOM_STEP: f64 = 1.1;

pub fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<Menu<R>> {
    let item = |id: &str, text: &str, accel: Option<&str>| {
        let b = MenuItemBuilder::with_id(id, text);
        match accel {
            Some(a) => b.accelerator(a).build(app),
            None => b.build(app),
        }
    };
    let file = SubmenuBuilder::new(app, "File")
        .item(&item("open-store", "Open Store Folder…", Some("CmdOrCtrl+O"))?)
        .item(&item("connect", "Connect to a Team Server…", Some("CmdOrCtrl+Shift+T"))?)
        .item(&item("use-local", "Use the Local Store", Some("CmdOrCtrl+Shift+L"))?)
        .item(&item("export-report", "Export Report…", Some("CmdOrCtrl+E"))?)
        .separator()
        .item(&item("quit", "Quit", Some("CmdOrCtrl+Q"))?)
        .build()?;
    let view = SubmenuBuilder::new(app, "View")
        .item(&item("reload", "Reload", Some("CmdOrCtrl+R"))?)
        .separator()
        .item(&item("zoom-in", "Zoom In", Some("CmdOrCtrl+="))?)
        .item(&item("zoom-out", "Zoom Out", Some("CmdOrCtrl+-"))?)
        .item(&item("zoom-reset", "Actual Size", Some("CmdOrCtrl+0"))?)
        .build()?;
    let about = AboutMetadataBuilder::new()
        .name(Some("Trackbench"))
        .version(Some(env!("CARGO_PKG_VERSION")))
        .comments(Some("Local-first ML experiment tracker"))
        .website(Some(DOCS_URL))
        .license(Some("MIT OR Apache-2.0"))
        .build();
    let help = SubmenuBuilder::new(app, "Help")
        .item(&item("docs", "Documentation", None)?)
        .separator()
        .item(&PredefinedMenuItem::about(app, Some("About Trackbench"), Some(about))?)
        .build()?;
    MenuBuilder::new(app).items(&[&file, &view, &help]).build()
}

pub fn on_event<R: Runtime>(app: &AppHandle<R>, event: MenuEvent) {
    let Some(window) = app.get_webview_window(crate::MAIN) else { return };
    match event.id().as_ref() {
        "open-store" => {
            let app = app.clone();
            app.dialog().file().set_title("Open a Trackbench store folder").pick_folder(move |folder| {
                let Some(dir) = folder.and_then(|f| f.into_path().ok()) else { return };
                // Starting and stopping servers blocks: keep it off the GTK thread.
                std::thread::spawn(move || crate::open_store(&app, dir, true));
            });
        }
        "connect" => {
            let nonce = trackbench_server::auth::random_token();
            *app.state::<Shell>().connect_nonce.lock().unwrap() = Some(nonce.clone());
            // Suggested: the server connected to last, else the CLI's `trackbench login`.
            let suggested = app
                .path()
                .app_config_dir()
                .ok()
                .and_then(|c| crate::remote::remembered(&c))
                .or_else(|| trackbench_sdk::login::login_path().and_then(|p| trackbench_sdk::login::read_login(&p)))
                .map_or_else(|| "http://".to_string(), |l| l.url);
            let _ = window.eval(crate::remote::dialog_script(&nonce, &suggested));
        }
        "use-local" => {
            let app = app.clone();
            let store = app.state::<Shell>().store.lock().unwrap().clone();
            std::thread::spawn(move || crate::open_store(&app, store, true));
        }
        "export-report" => {
            let _ = window.eval(
                "if (!(window.trackbench && window.trackbench.exportReport && window.trackbench.exportReport())) { \
                 alert('Select the runs to export first (tick them in the runs table, or \"select for compare\" on a run).') }",
            );
        }
        "quit" => app.exit(0),
        "reload" => {
            let _ = window.eval("location.reload()");
        }
        "zoom-in" | "zoom-out" | "zoom-reset" => {
            let shell = app.state::<Shell>();
            let mut zoom = shell.zoom.lock().unwrap();
            *zoom = match event.id().as_ref() {
                "zoom-in" => (*zoom * ZOOM_STEP).min(5.0),
                "zoom-out" => (*zoom / ZOOM_STEP).max(0.25),
                _ => 1.0,
            };
            let _ = window.set_zoom(*zoom);
        }
        "docs" => {
            if let Err(e) = app.opener().open_url(DOCS_URL, None::<&str>) {
                app.dialog()
                    .message(format!("Could not open a browser: {e}\n\n{DOCS_URL}"))
                    .kind(MessageDialogKind::Error)
                    .show(|_| {});
            }
        }
        _ => {}
    }
}
