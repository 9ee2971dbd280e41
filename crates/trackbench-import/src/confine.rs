//! Keeping an import inside the folder it was given.
//!
//! The files importers read were written by other programs, maybe on other machines, maybe by
//! someone else: an MLflow `meta.yaml` can name `/` as a run's artifact location, a params
//! folder can hold a symlink to `~/.ssh/id_rsa`, two symlinks can point at each other. Every
//! walk over a source folder goes through here, with one rule:
//!
//! - a **symlink to a folder** is never followed (so no walk can loop, and nothing is imported
//!   twice under two names); it is reported;
//! - a **symlink to a file** is followed when its target lies inside the source folder (after
//!   resolving every link and `..`), and skipped with a warning when it lies outside, unless
//!   the caller allows outside files (artifacts with `--allow-outside-artifacts`);
//! - anything that is neither a regular file nor a folder (FIFOs, sockets, devices, dangling
//!   links) is skipped, so no read can block;
//! - folders are also tracked by (device, inode), so a cycle made without symlinks (a bind
//!   mount of a parent) ends the walk too.
//!
//! Files are opened through [`Found::open`], which checks that what was opened is the file the
//! walk saw (a link swapped in between listing and opening is refused).

use std::collections::HashSet;
use std::fs::{File, Metadata};
use std::path::{Component, Path, PathBuf};

/// A file a walk found: its key (`a/b`, relative to the walked folder, `/`-separated), its
/// path as listed, and the identity of the file it resolves to.
#[derive(Debug, Clone)]
pub struct Found {
    pub key: String,
    pub path: PathBuf,
    id: Option<FileId>,
}

/// Something a walk or a check left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub why: String,
}

impl Skipped {
    fn new(path: &Path, why: impl Into<String>) -> Skipped {
        Skipped { path: path.to_path_buf(), why: why.into() }
    }
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.why)
    }
}

/// Where an import may read: canonical folders, and whether files outside them may be read.
#[derive(Debug, Clone)]
pub struct Confine {
    roots: Vec<PathBuf>,
    pub allow_outside: bool,
    /// Said after "outside the imported folder" in warnings (how to allow it, if one can).
    pub hint: &'static str,
}

/// `(device, inode)` on Unix; elsewhere the canonical path stands in for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum FileId {
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg_attr(unix, allow(dead_code))]
    Path(PathBuf),
}

fn file_id(meta: &Metadata, canonical: &Path) -> FileId {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = canonical;
        FileId::Inode(meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        FileId::Path(canonical.to_path_buf())
    }
}

impl Confine {
    /// Confines to `roots` (each canonicalised; roots that do not exist are left out).
    pub fn new(roots: &[&Path], allow_outside: bool, hint: &'static str) -> Confine {
        Confine { roots: roots.iter().filter_map(|r| r.canonicalize().ok()).collect(), allow_outside, hint }
    }

    /// True when canonical path `p` lies inside one of the roots.
    pub fn contains(&self, canonical: &Path) -> bool {
        self.roots.iter().any(|r| canonical.starts_with(r))
    }

    /// Resolves `path` (every link and `..`) and says whether it may be read: `Ok(canonical)`
    /// when it is inside (or outside is allowed), `Err(why)` otherwise or when it does not
    /// resolve.
    pub fn resolve(&self, path: &Path) -> Result<PathBuf, Skipped> {
        let canonical =
            path.canonicalize().map_err(|e| Skipped::new(path, format!("cannot resolve ({e}); skipped")))?;
        if self.contains(&canonical) || self.allow_outside {
            Ok(canonical)
        } else {
            Err(Skipped::new(
                path,
                format!("resolves to {}, outside the imported folder; skipped{}", canonical.display(), self.hint),
            ))
        }
    }

    /// A single file at `path` (a name the source itself gave, say): resolved and checked like
    /// a file met in a walk.
    pub fn file(&self, key: &str, path: &Path) -> Result<Found, Skipped> {
        let canonical = self.resolve(path)?;
        let meta = std::fs::metadata(&canonical).map_err(|e| Skipped::new(path, format!("{e}; skipped")))?;
        if !meta.is_file() {
            return Err(Skipped::new(path, "not a regular file; skipped"));
        }
        Ok(Found { key: key.to_string(), path: canonical.clone(), id: Some(file_id(&meta, &canonical)) })
    }

    /// Regular files under folder `dir` (recursively), sorted by key, with a warning for each
    /// thing skipped. `dir` itself must be a folder (a missing one gives nothing).
    pub fn walk(&self, dir: &Path) -> (Vec<Found>, Vec<Skipped>) {
        let mut files = Vec::new();
        let mut warnings = Vec::new();
        let mut seen: HashSet<FileId> = HashSet::new();
        let Ok(meta) = std::fs::metadata(dir) else { return (files, warnings) };
        if !meta.is_dir() {
            return (files, warnings);
        }
        seen.insert(file_id(&meta, &dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())));
        let mut stack = vec![(String::new(), dir.to_path_buf())];
        while let Some((prefix, d)) = stack.pop() {
            let entries = match std::fs::read_dir(&d) {
                Ok(entries) => entries,
                Err(e) => {
                    warnings.push(Skipped::new(&d, format!("cannot list ({e}); skipped")));
                    continue;
                }
            };
            for e in entries {
                let Ok(e) = e else { continue };
                let name = e.file_name().to_string_lossy().into_owned();
                let key = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
                let path = e.path();
                let Ok(ft) = e.file_type() else { continue };
                if ft.is_dir() {
                    // A real folder (read_dir's type does not follow links).
                    let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
                    let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
                    if seen.insert(file_id(&meta, &canonical)) {
                        stack.push((key, path));
                    } else {
                        warnings.push(Skipped::new(&path, "a folder already walked (a cycle); skipped"));
                    }
                } else if ft.is_file() {
                    match std::fs::symlink_metadata(&path) {
                        Ok(meta) => files.push(Found { key, id: Some(file_id(&meta, &path)), path }),
                        Err(e) => warnings.push(Skipped::new(&path, format!("{e}; skipped"))),
                    }
                } else if ft.is_symlink() {
                    match std::fs::metadata(&path) {
                        Ok(m) if m.is_dir() => warnings.push(Skipped::new(
                            &path,
                            "a symbolic link to a folder (links to folders are not followed); skipped",
                        )),
                        Ok(m) if m.is_file() => match self.resolve(&path) {
                            Ok(canonical) => files.push(Found { key, id: Some(file_id(&m, &canonical)), path }),
                            Err(why) => warnings.push(why),
                        },
                        Ok(_) => warnings.push(Skipped::new(&path, "a link to something not a file; skipped")),
                        Err(e) => {
                            warnings.push(Skipped::new(&path, format!("a broken or looping link ({e}); skipped")))
                        }
                    }
                } else {
                    warnings.push(Skipped::new(&path, "not a regular file or folder; skipped"));
                }
            }
        }
        files.sort_by(|a, b| a.key.cmp(&b.key));
        (files, warnings)
    }
}

impl Found {
    /// Opens the file, refusing it when what opens is not the file the walk saw (a symlink
    /// swapped in since).
    pub fn open(&self) -> std::io::Result<File> {
        let f = File::open(&self.path)?;
        let meta = f.metadata()?;
        let canonical = self.path.canonicalize()?;
        if !meta.is_file() || self.id.as_ref().is_some_and(|id| *id != file_id(&meta, &canonical)) {
            return Err(std::io::Error::other("the file changed since it was listed (a link swapped in?)"));
        }
        Ok(f)
    }
}

/// True when relative name `name` stays below the folder it is joined to: no root, no prefix,
/// no `..` (a name a source file gives, like a W&B saved file's).
pub fn is_plain_relative(name: &str) -> bool {
    let p = Path::new(name);
    !name.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Reads at most `max` bytes of `f` as text; `Err` says it is larger.
pub fn read_small(f: File, max: u64) -> std::io::Result<String> {
    use std::io::Read;
    let mut s = String::new();
    f.take(max + 1).read_to_string(&mut s)?;
    if s.len() as u64 > max {
        return Err(std::io::Error::other(format!("larger than {max} bytes")));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_relative_names() {
        assert!(is_plain_relative("a/b.txt"));
        assert!(is_plain_relative("./a"));
        assert!(!is_plain_relative("../a"));
        assert!(!is_plain_relative("a/../../b"));
        assert!(!is_plain_relative("/etc/passwd"));
        assert!(!is_plain_relative(""));
    }
}
