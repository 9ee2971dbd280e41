//! Downloads from the UI (the report export, `/api/v1/report?runs=…`) go through the native
//! save dialog: WebKit downloads into a private staging folder, then the dialog asks where the
//! file belongs and it is moved there. Staging first keeps the webview's cookie-authenticated
//! request as is (no second HTTP client) and never blocks the GTK thread on a dialog.
//!
//! `TRACKBENCH_DESKTOP_SAVE_DIR` skips the dialog and saves into that folder (for automation,
//! where no one is there to answer a dialog).

use std::path::{Path, PathBuf};

use tauri::webview::DownloadEvent;
use tauri::{Runtime, Webview};
use tauri_plugin_dialog::DialogExt;

/// The `on_download` hook of the main webview.
pub fn on_download<R: Runtime>(webview: Webview<R>, event: DownloadEvent<'_>) -> bool {
    match event {
        DownloadEvent::Requested { url, destination } => {
            let name = file_name(destination, url.path());
            let staging = staging_dir();
            if let Err(e) = std::fs::create_dir_all(&staging) {
                eprintln!("trackbench-desktop: cannot create {}: {e}", staging.display());
                return false;
            }
            *destination = unique(&staging.join(name));
            true
        }
        DownloadEvent::Finished { url, path, success } => {
            let Some(path) = path else { return true };
            if !success {
                eprintln!("trackbench-desktop: download of {url} failed");
                let _ = std::fs::remove_file(&path);
                return true;
            }
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if let Some(dir) = std::env::var_os("TRACKBENCH_DESKTOP_SAVE_DIR").filter(|d| !d.is_empty()) {
                place(&path, &unique(&PathBuf::from(dir).join(&name)));
                return true;
            }
            let mut dialog = webview.dialog().file().set_title("Save report").set_file_name(&name);
            if name.ends_with(".html") {
                dialog = dialog.add_filter("HTML report", &["html"]);
            }
            dialog.save_file(move |dest| match dest.and_then(|d| d.into_path().ok()) {
                Some(dest) => place(&path, &dest),
                None => {
                    let _ = std::fs::remove_file(&path);
                }
            });
            true
        }
        _ => true,
    }
}

/// Private per-process folder for downloads in flight.
fn staging_dir() -> PathBuf {
    std::env::temp_dir().join(format!("trackbench-desktop-downloads-{}", std::process::id()))
}

/// The name WebKit suggested (from `Content-Disposition`), else the URL's last segment.
fn file_name(suggested: &Path, url_path: &str) -> String {
    let from_url = url_path.rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or("download");
    let name = suggested.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| from_url.to_string());
    if name == "report" { "trackbench-report.html".to_string() } else { name }
}

/// `path`, or `name (2).ext`… when it exists.
fn unique(path: &Path) -> PathBuf {
    if !path.exists() {
        return path.to_path_buf();
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    (2..).map(|i| path.with_file_name(format!("{stem} ({i}){ext}"))).find(|p| !p.exists()).unwrap()
}

/// Moves the staged file to its destination (copying across file systems).
fn place(staged: &Path, dest: &Path) {
    let moved = std::fs::rename(staged, dest).or_else(|_| std::fs::copy(staged, dest).map(drop));
    match moved {
        Ok(()) => eprintln!("trackbench-desktop: saved {}", dest.display()),
        Err(e) => eprintln!("trackbench-desktop: could not save {}: {e}", dest.display()),
    }
    let _ = std::fs::remove_file(staged);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_suggestion_then_the_url() {
        assert_eq!(file_name(Path::new("/home/u/Downloads/ab.html"), "/api/v1/report"), "ab.html");
        assert_eq!(file_name(Path::new(""), "/api/v1/report"), "trackbench-report.html");
    }

    #[test]
    fn unique_names_do_not_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.html");
        assert_eq!(unique(&p), p);
        std::fs::write(&p, "x").unwrap();
        assert_eq!(unique(&p), dir.path().join("r (2).html"));
    }
}
