//! Garbage collection: runs soft-deleted long ago are purged for good, then artifact blobs no
//! run references (and temporary upload files left by killed processes) are removed.
//!
//! Safe with writers running: a blob is only removed when no artifact row names it *and* its
//! file is older than [`GcOptions::grace_ms`], because a put writes the blob before the row that
//! references it (see [`crate::artifacts`]). A dry run reports what would go and touches nothing.

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
                 WHERE NOT (r.deleted_ms IS NOT NULL AND r.deleted_ms < ?1)"
            } else {
                "SELECT DISTINCT hash FROM artifacts WHERE ?1 IS NOT NULL"
            };
            let cutoff = now - opts.deleted_older_than_ms.unwrap_or(i64::MAX / 2);
            let mut stmt = self.conn.prepare(sql)?;
            stmt.query_map([cutoff], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
        };
        let grace = SystemTime::now() - Duration::from_millis(opts.grace_ms.max(0) as u64);
        let blobs = self.root.join("blobs");
        for (path, size, modified, is_tmp) in blob_files(&blobs)? {
            if modified > grace {
                continue;
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !is_tmp && referenced.contains(name) {
                continue;
            }
            if !opts.dry_run {
                std::fs::remove_file(&path).map_err(StoreError::io(format!("removing {}", path.display())))?;
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
