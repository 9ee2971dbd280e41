//! Finding programs: on `PATH` as `execvp` does, and the companion binaries we ship (the CLI,
//! the desktop app) beside the running executable. The one definition the CLI, the desktop
//! app and the launcher use (xtask keeps its own: it depends on no crate of ours).

use std::path::{Path, PathBuf};

/// True for a regular file with an execute bit.
pub fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The first executable named `name` in the folders of `PATH`.
pub fn on_path(name: &str) -> Option<PathBuf> {
    if name.is_empty() || name.contains('/') {
        return None;
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| is_executable(p))
}

/// One of our own programs: the path in `env_var` when it is set, else `name` (with the
/// platform's executable suffix) next to the running executable, else on `PATH`.
pub fn companion(env_var: &str, name: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env_var).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe().ok().and_then(|e| e.parent().map(|d| d.join(&file)));
    beside.filter(|p| is_executable(p)).or_else(|| on_path(&file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_executables_only() {
        assert!(on_path("sh").is_some_and(|p| p.is_absolute()), "sh is on PATH");
        assert_eq!(on_path("no-such-program-trackbench"), None);
        assert_eq!(on_path("/bin/sh"), None, "a path is not looked up");
        assert_eq!(on_path(""), None);
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("data.txt");
        std::fs::write(&plain, "x").unwrap();
        assert!(!is_executable(&plain) && !is_executable(dir.path()));
    }
}
