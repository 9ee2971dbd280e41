//! Garbage collection: runs soft-deleted long ago are purged for good, then artifact blobs no
//! run references (and temporary upload files left by killed processes) are removed.
//!
//! Safe with writers running: a blob is only removed when no artifact row names it *and* its
//! file is older than [`GcOptions::grace_ms`], both checked again inside a write transaction
//! that also covers the removal. A put moves its blob into place and writes the row that
//! references it inside one write transaction (see [`crate::artifacts`]), so an upload of bytes
//! whose blob gc is about to remove either comes first (gc then sees the row, or a fresh file)
//! or after (and puts the blob back). The grace period still covers temporary upload files and
//! writers that predate this. A dry run reports what would go and touches nothing.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::Store;
use crate::error::{Result, StoreError};

/// What to collect.
#[derive(Debug, Clone)]
pub struct GcOptions {
    /// Purge runs deleted more than this long ago (epoch-ms age); `None`: purge none.
    pub deleted_older_than_ms: Option<i64>,
    /// Files younger than this are never removed (a put may be between its blob and its row).
    pub grace_ms: i64,
    /// Report only.
    pub dry_run: bool,
}

impl Default for GcOptions {
    fn default() -> Self {
        GcOptions { deleted_older_than_ms: Some(30 * 86_400_000), grace_ms: 3_600_000, dry_run: true }
    }
}

/// What a collection removed (or, on a dry run, would remove).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GcReport {
    pub dry_run: bool,
    /// Ids of the purged runs.
    pub runs_purged: Vec<String>,
    pub blobs_removed: usize,
    pub blob_bytes_freed: u64,
    pub temp_files_removed: usize,
    pub temp_bytes_freed: u64,
}

impl Store {
    /// Collects garbage as `opts` says; see the module docs.
    pub fn gc(&mut self, opts: &GcOptions) -> Result<GcReport> {
        let mut report = GcReport { dry_run: opts.dry_run, ..GcReport::default() };
        let now = self.now();
        if let Some(age) = opts.deleted_older_than_ms {
            let cutoff = now - age;
            let ids: Vec<String> = {
                let mut stmt = self.conn.prepare(
                    "SELECT uid FROM runs WHERE deleted_ms IS NOT NULL AND deleted_ms < ?1 ORDER BY deleted_ms",
                )?;
                stmt.query_map([cutoff], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
            };
            if !opts.dry_run {
                let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                tx.execute("DELETE FROM runs WHERE deleted_ms IS NOT NULL AND deleted_ms < ?1", [cutoff])?;
                tx.commit()?;
                for id in &ids {
                    self.run_ids.remove(id);
                }
            }
            report.runs_purged = ids;
        }
        // Blobs still referenced (on a dry run, not counting the runs a real run would purge).
        let referenced: HashSet<String> = {
            let sql = if opts.dry_run && !report.runs_purged.is_empty() {
                "SELECT DISTINCT a.hash FROM artifacts a JOIN runs r ON r.id = a.run_id \
                 WHERE NOT (r.deleted_ms IS NOT NULL AND r.deleted_ms < ?1) \
                 UNION SELECT hash FROM model_artifacts"
            } else {
                "SELECT hash FROM artifacts WHERE ?1 IS NOT NULL UNION SELECT hash FROM model_artifacts"
            };
            let cutoff = now - opts.deleted_older_than_ms.unwrap_or(i64::MAX / 2);
            let mut stmt = self.conn.prepare(sql)?;
            stmt.query_map([cutoff], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
        };
        // Blob ages are file modification times, which the file system stamps from the system
        // clock: the grace period is measured on that clock, not the store's (injectable) one.
        let grace = SystemTime::now()
            .checked_sub(Duration::from_millis(opts.grace_ms.max(0) as u64))
            .unwrap_or(SystemTime::UNIX_EPOCH);
        for (path, size, is_tmp) in self.unused_files(&referenced, grace)? {
            if !opts.dry_run {
                if is_tmp {
                    match std::fs::remove_file(&path) {
                        Ok(()) => {}
                        // Moved into place by the upload that wrote it since the listing.
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                        Err(e) => {
                            return Err(StoreError::Io { context: format!("removing {}", path.display()), source: e });
                        }
                    }
                } else if !self.remove_blob_if_unused(&path, grace)? {
                    continue;
                }
            }
            if is_tmp {
                report.temp_files_removed += 1;
                report.temp_bytes_freed += size;
            } else {
                report.blobs_removed += 1;
                report.blob_bytes_freed += size;
            }
        }
        Ok(report)
    }
}

impl Store {
    /// Files under `blobs/` older than `grace`: blobs not in `referenced` and temporary files.
    /// (path, size, is a temporary upload).
    fn unused_files(&self, referenced: &HashSet<String>, grace: SystemTime) -> Result<Vec<(PathBuf, u64, bool)>> {
        let mut out = Vec::new();
        for (path, size, modified, is_tmp) in blob_files(&self.root.join("blobs"))? {
            if modified > grace {
                continue;
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !is_tmp && referenced.contains(name) {
                continue;
            }
            out.push((path, size, is_tmp));
        }
        Ok(out)
    }

    /// Removes blob file `path` if, inside a write transaction, no artifact names it and the
    /// file is still older than `grace`; true when it went.
    fn remove_blob_if_unused(&mut self, path: &std::path::Path, grace: SystemTime) -> Result<bool> {
        let Some(hash) = path.file_name().and_then(|n| n.to_str()) else { return Ok(false) };
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let used: bool =
            tx.query_row(
                "SELECT EXISTS(SELECT 1 FROM artifacts WHERE hash = ?1) OR EXISTS(SELECT 1 FROM model_artifacts WHERE hash = ?1)",
                [hash],
                |r| r.get(0),
            )?;
        if used {
            return Ok(false);
        }
        match std::fs::metadata(path).and_then(|m| m.modified()) {
            Ok(modified) if modified <= grace => {}
            Ok(_) => return Ok(false),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(StoreError::Io { context: format!("reading {}", path.display()), source: e }),
        }
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(StoreError::Io { context: format!("removing {}", path.display()), source: e }),
        }
        tx.commit()?;
        Ok(true)
    }
}

/// Every file under `blobs/`: (path, size, modified, is a temporary upload).
fn blob_files(blobs: &std::path::Path) -> Result<Vec<(PathBuf, u64, SystemTime, bool)>> {
    let mut out = Vec::new();
    let Ok(dirs) = std::fs::read_dir(blobs) else { return Ok(out) };
    for dir in dirs.flatten() {
        let is_tmp = dir.file_name() == "tmp";
        if !dir.path().is_dir() {
            continue;
        }
        let entries =
            std::fs::read_dir(dir.path()).map_err(StoreError::io(format!("listing {}", dir.path().display())))?;
        for e in entries.flatten() {
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_file() {
                out.push((e.path(), meta.len(), meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), is_tmp));
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::time::{Duration, SystemTime};

    use crate::{NewRun, Store, StoreOptions};

    fn age(path: &std::path::Path, by: Duration) {
        let f = std::fs::File::options().write(true).open(path).unwrap();
        f.set_modified(SystemTime::now() - by).unwrap();
    }

    /// The race, step by step: gc lists an old unreferenced blob, then another connection
    /// uploads the same bytes as a new artifact, then gc gets to removing it.
    #[test]
    fn an_upload_between_listing_and_removal_keeps_its_blob() {
        let dir = tempfile::tempdir().unwrap();
        let mut gc = Store::open(dir.path(), StoreOptions::default()).unwrap();
        let mut up = Store::open(dir.path(), StoreOptions::default()).unwrap();
        let src = dir.path().join("weights.bin");
        std::fs::write(&src, b"the same bytes").unwrap();
        let old = up.create_run(&NewRun { project: "p".into(), ..NewRun::default() }).unwrap().id;
        let (_, blob) = {
            up.put_artifact(&old, "w.bin", &src).unwrap();
            up.artifact_file(&old, "w.bin").unwrap()
        };
        up.delete_artifacts(&old, "w.bin").unwrap();
        let hour = Duration::from_secs(3600);
        age(&blob, 2 * hour);

        let grace = SystemTime::now() - hour;
        let listed = gc.unused_files(&HashSet::new(), grace).unwrap();
        assert_eq!(listed.iter().filter(|(p, _, tmp)| p == &blob && !tmp).count(), 1, "{listed:?}");

        let new = up.create_run(&NewRun { project: "p".into(), ..NewRun::default() }).unwrap().id;
        up.put_artifact(&new, "w.bin", &src).unwrap();
        let modified = std::fs::metadata(&blob).unwrap().modified().unwrap();
        assert!(modified > grace, "the upload refreshed the blob's age");
        age(&blob, 2 * hour); // even if it had not: the row is checked again under the lock

        for (path, _, _) in listed {
            assert!(!gc.remove_blob_if_unused(&path, grace).unwrap(), "{} is referenced again", path.display());
        }
        let (_, file) = up.artifact_file(&new, "w.bin").unwrap();
        assert_eq!(std::fs::read(file).unwrap(), b"the same bytes");
    }

    /// The other order: gc removes the blob first, then the upload of those bytes puts it back.
    #[test]
    fn an_upload_after_removal_puts_the_blob_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut gc = Store::open(dir.path(), StoreOptions::default()).unwrap();
        let mut up = Store::open(dir.path(), StoreOptions::default()).unwrap();
        let src = dir.path().join("weights.bin");
        std::fs::write(&src, b"bytes").unwrap();
        let run = up.create_run(&NewRun { project: "p".into(), ..NewRun::default() }).unwrap().id;
        up.put_artifact(&run, "w.bin", &src).unwrap();
        let (_, blob) = up.artifact_file(&run, "w.bin").unwrap();
        up.delete_artifacts(&run, "w.bin").unwrap();
        age(&blob, Duration::from_secs(7200));
        let grace = SystemTime::now() - Duration::from_secs(3600);
        assert!(gc.remove_blob_if_unused(&blob, grace).unwrap());
        assert!(!blob.exists());
        up.put_artifact(&run, "again.bin", &src).unwrap();
        let (_, file) = up.artifact_file(&run, "again.bin").unwrap();
        assert_eq!(std::fs::read(file).unwrap(), b"bytes");
    }
}
