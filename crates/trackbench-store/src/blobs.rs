//! Blob storage: the bytes of artifacts, stored once by content under their blake3 hash, behind
//! one seam ([`BlobStore`]) so a store's records can live in one place (SQLite, PostgreSQL) and
//! its bytes in another (a folder, an object store: `trackbench-objstore`).
//!
//! A put is two steps. [`BlobStore::stage`] streams the input somewhere private (a temporary
//! file) while hashing it: the slow part, done before any lock is taken. [`StagedBlob::commit`]
//! then puts the bytes under their hash, skipping the copy when a blob of that hash is already
//! there. A store commits inside the transaction that writes the row naming the blob, under the
//! lock its garbage collection takes to remove blobs, so a collection never removes a blob a new
//! row points to (see `artifacts` and `gc`). Nothing holds a whole blob in memory.
//!
//! [`DirBlobs`] is the local layout the SQLite store has always used: `<dir>/<2 hex>/<hash>`,
//! temporary files in `<dir>/tmp`, a blob moved into place by a rename (atomic on one file
//! system, so a killed process never leaves half a blob under its final name).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::{Result, StoreError};

/// A stored blob: its hash (64 lowercase hex digits of blake3) and size in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    pub hash: String,
    pub size: u64,
}

/// A blob as listed for garbage collection: hash, size and when it was last written (the
/// store's own clock: the file system's or the object store's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobEntry {
    pub hash: String,
    pub size: u64,
    pub modified: SystemTime,
}

/// Bytes read and hashed but not yet stored under their hash; dropping it discards them.
pub trait StagedBlob: Send {
    /// The blake3 hash of the bytes (64 lowercase hex digits).
    fn hash(&self) -> &str;
    /// Their size in bytes.
    fn size(&self) -> u64;
    /// Stores the bytes under their hash, unless a blob of that hash is already there.
    fn commit(self: Box<Self>) -> Result<BlobInfo>;
}

/// Where blobs live. Blobs are immutable: a hash names the same bytes forever.
pub trait BlobStore: Send + Sync {
    /// Where this is, for messages and health reports: a URL without secrets.
    fn describe(&self) -> String;
    /// Whether the blobs can be reached (the folder exists, the bucket exists and the
    /// credentials are accepted); the error says what is wrong and what to change.
    fn check(&self) -> Result<()>;
    /// Streams `input` to a private place while hashing it (`what` names it in errors).
    fn stage(&self, input: &mut dyn Read, what: &str) -> Result<Box<dyn StagedBlob>>;
    /// Stages and commits `input` at once (for callers with no row to write in between).
    fn put(&self, input: &mut dyn Read, what: &str) -> Result<BlobInfo> {
        self.stage(input, what)?.commit()
    }
    /// Reads bytes `range` (half-open, within the blob) of blob `hash`, or all of it.
    fn open(&self, hash: &str, range: Option<Range<u64>>) -> Result<Box<dyn Read + Send>>;
    /// Whether blob `hash` is there.
    fn exists(&self, hash: &str) -> Result<bool>;
    /// Removes blob `hash` (no error when it is already gone).
    fn delete(&self, hash: &str) -> Result<()>;
    /// Every blob, by hash.
    fn list(&self) -> Result<Vec<BlobEntry>>;
}

/// Refuses anything but a blake3 hash as 64 lowercase hex digits (a hash becomes a file or
/// object name: nothing else may).
pub fn check_hash(hash: &str) -> Result<()> {
    if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(())
    } else {
        Err(StoreError::invalid("blob hash", format!("{hash:?} is not 64 lowercase hex digits")))
    }
}

/// The read buffer of a put.
pub const COPY_BUFFER: usize = 256 * 1024;

/// Copies `input` to `out` while hashing it; the hash and the byte count. A read error names
/// `what` (the source); a write error names `dest`.
pub fn copy_hashing(input: &mut dyn Read, out: &mut dyn Write, what: &str, dest: &str) -> Result<BlobInfo> {
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; COPY_BUFFER];
    let mut size = 0u64;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(StoreError::Io { context: format!("reading artifact {what}"), source: e }),
        };
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(StoreError::io(format!("writing {dest}")))?;
        size += n as u64;
    }
    Ok(BlobInfo { hash: hasher.finalize().to_hex().to_string(), size })
}

/// Blobs in a local folder: `<dir>/<2 hex>/<hash>`, temporary files in `<dir>/tmp`.
#[derive(Debug, Clone)]
pub struct DirBlobs {
    dir: PathBuf,
}

impl DirBlobs {
    /// Blobs under `dir` (created on the first put).
    pub fn new(dir: impl Into<PathBuf>) -> DirBlobs {
        DirBlobs { dir: dir.into() }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of blob `hash` (whether or not it exists). `hash` must be a checked hash.
    pub fn path(&self, hash: &str) -> PathBuf {
        self.dir.join(&hash[..2]).join(hash)
    }

    fn checked_path(&self, hash: &str) -> Result<PathBuf> {
        check_hash(hash)?;
        Ok(self.path(hash))
    }
}

/// A blob staged in `<dir>/tmp`, renamed into place by `commit`, removed if dropped first.
struct StagedFile {
    tmp: PathBuf,
    dest: PathBuf,
    info: BlobInfo,
    done: bool,
}

impl StagedBlob for StagedFile {
    fn hash(&self) -> &str {
        &self.info.hash
    }

    fn size(&self) -> u64 {
        self.info.size
    }

    fn commit(mut self: Box<Self>) -> Result<BlobInfo> {
        if let Some(dir) = self.dest.parent() {
            std::fs::create_dir_all(dir).map_err(StoreError::io(format!("creating {}", dir.display())))?;
        }
        // The rename also replaces a blob already there with the same bytes, freshly dated, so
        // a collector going by age alone sees it young.
        std::fs::rename(&self.tmp, &self.dest)
            .map_err(StoreError::io(format!("moving blob to {}", self.dest.display())))?;
        self.done = true;
        Ok(self.info.clone())
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

impl BlobStore for DirBlobs {
    fn describe(&self) -> String {
        format!("file://{}", self.dir.display())
    }

    fn check(&self) -> Result<()> {
        let context = || format!("blob folder {}", self.dir.display());
        if let Ok(m) = std::fs::metadata(&self.dir)
            && !m.is_dir()
        {
            return Err(StoreError::Io {
                context: context(),
                source: std::io::Error::other("exists but is not a folder"),
            });
        }
        // Made when missing, but only inside a folder that is there (a mistyped path is an
        // error, not a new tree), then checked writable as every put needs it: the folder a
        // put stages in is made and a file is created in it and removed.
        match std::fs::create_dir(&self.dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(StoreError::Io { context: context(), source: e }),
        }
        let tmp_dir = self.dir.join("tmp");
        std::fs::create_dir_all(&tmp_dir).map_err(|e| StoreError::Io { context: context(), source: e })?;
        let (probe, file) = tempfile_in(&tmp_dir).map_err(|e| match e {
            StoreError::Io { source, .. } => StoreError::Io { context: context(), source },
            e => e,
        })?;
        drop(file);
        let _ = std::fs::remove_file(probe);
        Ok(())
    }

    fn stage(&self, input: &mut dyn Read, what: &str) -> Result<Box<dyn StagedBlob>> {
        let tmp_dir = self.dir.join("tmp");
        std::fs::create_dir_all(&tmp_dir).map_err(StoreError::io(format!("creating {}", tmp_dir.display())))?;
        let (tmp, mut file) = tempfile_in(&tmp_dir)?;
        // From here on the staged blob owns the temporary file: any error below removes it.
        let mut staged =
            StagedFile { tmp, dest: PathBuf::new(), info: BlobInfo { hash: String::new(), size: 0 }, done: false };
        staged.info = copy_hashing(input, &mut file, what, "artifact blob")?;
        file.sync_all().map_err(StoreError::io("syncing artifact blob"))?;
        staged.dest = self.path(&staged.info.hash);
        Ok(Box::new(staged))
    }

    fn open(&self, hash: &str, range: Option<Range<u64>>) -> Result<Box<dyn Read + Send>> {
        let path = self.checked_path(hash)?;
        let mut file = File::open(&path).map_err(StoreError::io(format!("opening blob {}", path.display())))?;
        match range {
            None => Ok(Box::new(file)),
            Some(r) => {
                file.seek(SeekFrom::Start(r.start))
                    .map_err(StoreError::io(format!("seeking in {}", path.display())))?;
                Ok(Box::new(file.take(r.end.saturating_sub(r.start))))
            }
        }
    }

    fn exists(&self, hash: &str) -> Result<bool> {
        Ok(self.checked_path(hash)?.is_file())
    }

    fn delete(&self, hash: &str) -> Result<()> {
        let path = self.checked_path(hash)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::Io { context: format!("removing {}", path.display()), source: e }),
        }
    }

    fn list(&self) -> Result<Vec<BlobEntry>> {
        let mut out = Vec::new();
        let dirs = match std::fs::read_dir(&self.dir) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(StoreError::Io { context: format!("listing {}", self.dir.display()), source: e }),
        };
        for dir in dirs.flatten() {
            let name = dir.file_name();
            let Some(prefix) = name.to_str().filter(|n| n.len() == 2) else { continue };
            if !dir.path().is_dir() {
                continue;
            }
            let entries =
                std::fs::read_dir(dir.path()).map_err(StoreError::io(format!("listing {}", dir.path().display())))?;
            for e in entries.flatten() {
                let Some(hash) = e.file_name().to_str().map(str::to_string) else { continue };
                if check_hash(&hash).is_err() || !hash.starts_with(prefix) {
                    continue;
                }
                let Ok(meta) = e.metadata() else { continue };
                if meta.is_file() {
                    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                    out.push(BlobEntry { hash, size: meta.len(), modified });
                }
            }
        }
        out.sort_by(|a, b| a.hash.cmp(&b.hash));
        Ok(out)
    }
}

/// A uniquely named temporary file in `dir`.
fn tempfile_in(dir: &Path) -> Result<(PathBuf, File)> {
    for attempt in 0..100u32 {
        let name = format!("{}-{}-{attempt}.part", std::process::id(), crate::runs::new_run_id());
        let p = dir.join(name);
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&p) {
            Ok(f) => return Ok((p, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(StoreError::Io { context: format!("creating {}", p.display()), source: e }),
        }
    }
    Err(StoreError::invalid("artifact", "could not create a temporary file"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(mut r: Box<dyn Read + Send>) -> Vec<u8> {
        let mut v = Vec::new();
        r.read_to_end(&mut v).unwrap();
        v
    }

    #[test]
    fn a_folder_keeps_each_content_once_and_reads_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = DirBlobs::new(dir.path().join("blobs"));
        blobs.check().unwrap();
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let a = blobs.put(&mut &data[..], "a").unwrap();
        let b = blobs.put(&mut &data[..], "b").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.hash, blake3::hash(&data).to_hex().to_string());
        assert_eq!(a.size, data.len() as u64);
        let listed = blobs.list().unwrap();
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(std::fs::read_dir(dir.path().join("blobs/tmp")).unwrap().count(), 0, "no temporary file left");
        assert_eq!(read_all(blobs.open(&a.hash, None).unwrap()), data);
        assert_eq!(read_all(blobs.open(&a.hash, Some(10..20)).unwrap()), &data[10..20]);
        assert_eq!(read_all(blobs.open(&a.hash, Some(5..5)).unwrap()), b"");
        assert!(blobs.exists(&a.hash).unwrap());
        blobs.delete(&a.hash).unwrap();
        blobs.delete(&a.hash).unwrap();
        assert!(!blobs.exists(&a.hash).unwrap());
        assert!(blobs.list().unwrap().is_empty());
    }

    #[test]
    fn a_dropped_stage_leaves_nothing_and_bad_hashes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = DirBlobs::new(dir.path());
        let staged = blobs.stage(&mut &b"abc"[..], "x").unwrap();
        assert_eq!(staged.size(), 3);
        drop(staged);
        assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        assert!(blobs.list().unwrap().is_empty());
        for bad in ["../../etc/passwd", "", "AB", &"A".repeat(64)] {
            assert!(matches!(blobs.open(bad, None), Err(StoreError::Invalid { .. })), "{bad}");
            assert!(blobs.delete(bad).is_err(), "{bad}");
        }
    }
}
