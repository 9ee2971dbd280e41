//! Downloads from the UI (the report export, `/api/v1/report?runs=…`) go through the native
//! save dialog: WebKit downloads into a private staging folder, then the dialog asks where the
//! file belongs and it is moved there. Staging first keeps the webview's cookie-authenticated
//! request as is (no second HTTP client) and never blocks the GTK thread on a dialog.
//!
//! Each download stages in a folder of its own, made fresh under the temp dir with an
//! unpredictable name and mode 0700 (never one that already exists, so another local user
//! cannot pre-create it and read or swap the report), and removed once the file has been moved
//! out or discarded.
//!
//! `TRACKBENCH_DESKTOP_SAVE_DIR` skips the dialog and saves into that folder (for automation,
//! where no one is there to answer a dialog).

use std::fs::Permissions;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tauri::webview::DownloadEvent;
use tauri::{Runtime, Webview};
use tauri_plugin_dialog::DialogExt;

/// The `on_download` hook of the main webview.
pub fn on_download<R: Runtime>(webview: Webview<R>, event: DownloadEvent<'_>) -> bool {
    match event {
        DownloadEvent::Requested { url, destination } => {
            let name = file_name(destination, url.path());
            let staging = match staging_dir(&std::env::temp_dir()) {
                Ok(dir) => dir,
                Err(e) => {
                    eprintln!("trackbench-desktop: cannot create a download staging folder: {e}");
                    return false;
                }
            };
            *destination = staging.join(name);
            true
        }
        DownloadEvent::Finished { url, path, success } => {
            let Some(path) = path else { return true };
            if !success {
                eprintln!("trackbench-desktop: download of {url} failed");
                discard(&path);
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
                None => discard(&path),
            });
            true
        }
        _ => true,
    }
}

/// Name prefix of the staging folders (their rest is random).
const STAGING_PREFIX: &str = "trackbench-download-";

/// A new private folder under `parent` for one download in flight: created here (an existing
/// folder is never reused, whoever made it), mode 0700, a random name. Removed by [`discard`].
fn staging_dir(parent: &Path) -> std::io::Result<PathBuf> {
    let dir = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .permissions(Permissions::from_mode(0o700))
        .tempdir_in(parent)?;
    Ok(dir.keep())
}

/// Removes a staged file and then its staging folder (only one of ours, and only when empty).
fn discard(staged: &Path) {
    let _ = std::fs::remove_file(staged);
    if let Some(dir) = staged.parent()
        && dir.file_name().is_some_and(|n| n.to_string_lossy().starts_with(STAGING_PREFIX))
    {
        let _ = std::fs::remove_dir(dir);
    }
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
    discard(staged);
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

    #[test]
    fn staging_folders_are_fresh_and_private() {
        use std::os::unix::fs::MetadataExt;
        let tmp = tempfile::tempdir().unwrap();
        // What an attacker could pre-create under the old predictable name, world-writable and
        // (when the test may) owned by someone else.
        let planted = tmp.path().join(format!("trackbench-desktop-downloads-{}", std::process::id()));
        std::fs::create_dir(&planted).unwrap();
        std::fs::set_permissions(&planted, Permissions::from_mode(0o777)).unwrap();
        let _ = std::os::unix::fs::chown(&planted, Some(65534), Some(65534));
        let me = std::fs::metadata(tmp.path()).unwrap().uid();

        let a = staging_dir(tmp.path()).unwrap();
        let b = staging_dir(tmp.path()).unwrap();
        assert_ne!(a, b, "one folder per download");
        for dir in [&a, &b] {
            assert_ne!(dir, &planted, "a pre-created folder is not reused");
            assert_eq!(dir.parent(), Some(tmp.path()));
            assert!(dir.file_name().unwrap().to_string_lossy().starts_with(STAGING_PREFIX));
            let m = std::fs::symlink_metadata(dir).unwrap();
            assert!(m.is_dir(), "a real folder, not a link");
            assert_eq!(m.mode() & 0o777, 0o700, "{} is private", dir.display());
            assert_eq!(m.uid(), me, "owned by this user");
        }
        // The name is not derivable: nothing of it is the pid.
        assert!(!a.to_string_lossy().ends_with(&std::process::id().to_string()));

        // Moved out or discarded, the file takes its folder with it; other folders stay.
        let staged = a.join("report.html");
        std::fs::write(&staged, "<html>").unwrap();
        let dest = tmp.path().join("saved.html");
        place(&staged, &dest);
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "<html>");
        assert!(!a.exists(), "the staging folder is removed after the move");
        let failed = b.join("partial.html");
        std::fs::write(&failed, "<ht").unwrap();
        discard(&failed);
        assert!(!b.exists(), "the staging folder is removed after a failed download");
        discard(&planted.join("x"));
        assert!(planted.exists(), "a folder not named like ours is left alone");
    }
}
