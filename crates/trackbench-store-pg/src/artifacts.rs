//! Artifacts on PostgreSQL: the rows (`artifacts`, `model_artifacts`) in the database, the
//! bytes in the [`BlobStore`] the store was given ([`PgStore::with_blobs`]: an object store
//! for a team server, or a folder), through the seam's
//! [`ArtifactStore`](trackbench_store::ArtifactStore).
//!
//! Garbage collection and puts share one advisory lock, as the SQLite store shares its write
//! lock. A put streams its input to the blob store's staging area first (no lock held), then,
//! in the transaction that writes its row, takes the lock *shared* and commits the blob
//! (uploading it unless that hash is already there). [`PgStore::gc`] removes a blob only while
//! holding the lock *exclusively* and after checking again that no row names it. So a put
//! that finds its blob already there either runs before the removal (gc then sees its row) or
//! after it (and uploads the bytes again); puts never wait for each other. One bucket prefix
//! belongs to one database: gc removes what this database does not name.

use std::collections::HashSet;
use std::io::Read;
use std::ops::Range;
use std::sync::Arc;

use postgres::Row;
use trackbench_store::backend_artifacts::{artifact_info, open_blob};
use trackbench_store::blobs::BlobStore;
use trackbench_store::{ArtifactInfo, ArtifactStore, GcOptions, GcReport, Result, StoreError, StoreOptions, validate};

use crate::{PgStore, db};

/// The advisory lock key of blob puts (shared) and blob removal (exclusive): "tbblobs".
const BLOB_LOCK: i64 = 0x0074_6262_6c6f_6273;

const COLUMNS: &str = "path, size, hash, media_type, created_ms";

fn artifact_row(r: &Row) -> ArtifactInfo {
    ArtifactInfo {
        path: r.get(0),
        size: r.get::<_, i64>(1) as u64,
        hash: r.get(2),
        media_type: r.get(3),
        created_ms: r.get(4),
    }
}

impl PgStore {
    /// Connects as [`PgStore::connect`] does, keeping artifact bytes in `blobs`.
    pub fn connect_with(url: &str, opts: StoreOptions, blobs: Arc<dyn BlobStore>) -> Result<PgStore> {
        Ok(PgStore::connect(url, opts)?.with_blobs(blobs))
    }

    /// This store, keeping artifact bytes in `blobs`.
    pub fn with_blobs(mut self, blobs: Arc<dyn BlobStore>) -> PgStore {
        self.blobs = Some(blobs);
        self
    }

    /// Where artifact bytes live (an error when the store was opened without).
    pub fn blobs(&self) -> Result<&Arc<dyn BlobStore>> {
        self.blobs.as_ref().ok_or_else(|| StoreError::Invalid {
            what: "artifact store",
            why: "this PostgreSQL store was opened without one (give it an artifact store URL)".into(),
        })
    }

    /// Internal id of logged model `uid` (not deleted), for its artifacts.
    fn artifact_model_id(&self, uid: &str) -> Result<i64> {
        let row = if uid.contains('\0') {
            None
        } else {
            self.client
                .borrow_mut()
                .query_opt("SELECT id FROM logged_models WHERE uid = $1 AND deleted_ms IS NULL", &[&uid])
                .map_err(db)?
        };
        row.map(|r| r.get(0)).ok_or_else(|| StoreError::NotFound { what: "logged model", name: uid.to_string() })
    }

    /// Stages `input`, then in one transaction (under the blob lock, shared) commits the blob
    /// and writes its row with `insert` (`$1` the owner's id, then the row's columns).
    fn put_blob(
        &mut self,
        owner: i64,
        path: &str,
        input: &mut dyn Read,
        what: &str,
        insert: &str,
    ) -> Result<ArtifactInfo> {
        let blobs = self.blobs()?.clone();
        let staged = blobs.stage(input, what)?;
        let info = artifact_info(path, staged.hash(), staged.size(), self.now());
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        tx.execute("SELECT pg_advisory_xact_lock_shared($1)", &[&BLOB_LOCK]).map_err(db)?;
        staged.commit()?;
        let size = info.size as i64;
        tx.execute(insert, &[&owner, &info.path, &info.hash, &size, &info.media_type, &info.created_ms]).map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(info)
    }

    fn artifact_rows(&self, sql: &str, owner: i64) -> Result<Vec<ArtifactInfo>> {
        let rows = self.client.borrow_mut().query(sql, &[&owner]).map_err(db)?;
        Ok(rows.iter().map(artifact_row).collect())
    }

    /// Collects garbage as the SQLite store's `gc` does: purges runs deleted longer ago than
    /// `opts.deleted_older_than_ms`, then removes blobs no artifact names that are older than
    /// `opts.grace_ms` (by the store's clock against the blob store's times), each under the
    /// blob lock held exclusively (see the module docs). There are no temporary files here.
    pub fn gc(&mut self, opts: &GcOptions) -> Result<GcReport> {
        let mut report = GcReport { dry_run: opts.dry_run, ..GcReport::default() };
        let now = self.now();
        let cutoff = now - opts.deleted_older_than_ms.unwrap_or(i64::MAX / 2);
        if opts.deleted_older_than_ms.is_some() {
            let c = self.client.get_mut();
            let rows = if opts.dry_run {
                c.query(
                    "SELECT uid FROM runs WHERE deleted_ms IS NOT NULL AND deleted_ms < $1 ORDER BY deleted_ms, uid",
                    &[&cutoff],
                )
            } else {
                c.query("DELETE FROM runs WHERE deleted_ms IS NOT NULL AND deleted_ms < $1 RETURNING uid", &[&cutoff])
            }
            .map_err(db)?;
            report.runs_purged = rows.iter().map(|r| r.get(0)).collect();
            for uid in &report.runs_purged {
                self.forget_run(uid);
            }
        }
        let blobs = self.blobs()?.clone();
        // Blobs still named (on a dry run, not counting the runs a real run would purge).
        let referenced: HashSet<String> = self
            .client
            .get_mut()
            .query(
                "SELECT a.hash FROM artifacts a JOIN runs r ON r.id = a.run_id \
                   WHERE NOT (r.deleted_ms IS NOT NULL AND r.deleted_ms < $1) \
                 UNION SELECT hash FROM model_artifacts",
                &[&cutoff],
            )
            .map_err(db)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let grace = now - opts.grace_ms.max(0);
        for blob in blobs.list()? {
            let modified_ms =
                blob.modified.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
            if referenced.contains(&blob.hash) || modified_ms > grace {
                continue;
            }
            if !opts.dry_run && !self.remove_blob_if_unused(blobs.as_ref(), &blob.hash)? {
                continue;
            }
            report.blobs_removed += 1;
            report.blob_bytes_freed += blob.size;
        }
        Ok(report)
    }

    /// Removes blob `hash` if, under the blob lock held exclusively, no artifact names it.
    fn remove_blob_if_unused(&mut self, blobs: &dyn BlobStore, hash: &str) -> Result<bool> {
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&BLOB_LOCK]).map_err(db)?;
        let used: bool = tx
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM artifacts WHERE hash = $1) \
                     OR EXISTS(SELECT 1 FROM model_artifacts WHERE hash = $1)",
                &[&hash],
            )
            .map_err(db)?
            .get(0);
        if used {
            return Ok(false);
        }
        blobs.delete(hash)?;
        tx.commit().map_err(db)?;
        Ok(true)
    }
}

impl ArtifactStore for PgStore {
    fn put_artifact_from(&mut self, uid: &str, path: &str, input: &mut dyn Read, what: &str) -> Result<ArtifactInfo> {
        let path = validate::artifact_path(path)?;
        let run = self.run_rowid(uid)?;
        self.put_blob(
            run,
            &path,
            input,
            what,
            "INSERT INTO artifacts(run_id, path, hash, size, media_type, created_ms) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (run_id, path) DO UPDATE SET hash = excluded.hash, size = excluded.size, \
               media_type = excluded.media_type, created_ms = excluded.created_ms",
        )
    }

    fn artifacts(&self, uid: &str) -> Result<Vec<ArtifactInfo>> {
        let run = self.run_rowid(uid)?;
        self.artifact_rows(&format!("SELECT {COLUMNS} FROM artifacts WHERE run_id = $1 ORDER BY path"), run)
    }

    fn artifact(&self, uid: &str, path: &str) -> Result<ArtifactInfo> {
        let path = validate::artifact_path(path)?;
        let missing = || StoreError::ArtifactNotFound(format!("{uid}/{path}"));
        let run = match self.run_rowid(uid) {
            Ok(id) => id,
            Err(StoreError::RunNotFound(_)) => return Err(missing()),
            Err(e) => return Err(e),
        };
        let row = self
            .client
            .borrow_mut()
            .query_opt(&format!("SELECT {COLUMNS} FROM artifacts WHERE run_id = $1 AND path = $2"), &[&run, &path])
            .map_err(db)?;
        row.map(|r| artifact_row(&r)).ok_or_else(missing)
    }

    fn delete_artifacts(&mut self, uid: &str, path: &str) -> Result<usize> {
        let path = validate::artifact_path(path)?;
        let run = self.run_rowid(uid)?;
        let prefix = format!("{path}/");
        let n = self
            .client
            .get_mut()
            .execute(
                "DELETE FROM artifacts WHERE run_id = $1 AND (path = $2 OR starts_with(path, $3))",
                &[&run, &path, &prefix],
            )
            .map_err(db)?;
        Ok(n as usize)
    }

    fn open_artifact(
        &self,
        uid: &str,
        path: &str,
        range: Option<Range<u64>>,
    ) -> Result<(ArtifactInfo, Box<dyn Read + Send>)> {
        let info = self.artifact(uid, path)?;
        open_blob(self.blobs()?.as_ref(), info, range)
    }

    fn put_model_artifact_from(
        &mut self,
        uid: &str,
        path: &str,
        input: &mut dyn Read,
        what: &str,
    ) -> Result<ArtifactInfo> {
        let path = validate::artifact_path(path)?;
        let model = self.artifact_model_id(uid)?;
        self.put_blob(
            model,
            &path,
            input,
            what,
            "INSERT INTO model_artifacts(model_id, path, hash, size, media_type, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (model_id, path) DO UPDATE SET hash = excluded.hash, size = excluded.size, \
               media_type = excluded.media_type, created_ms = excluded.created_ms",
        )
    }

    fn model_artifacts(&self, uid: &str) -> Result<Vec<ArtifactInfo>> {
        let model = self.artifact_model_id(uid)?;
        self.artifact_rows(&format!("SELECT {COLUMNS} FROM model_artifacts WHERE model_id = $1 ORDER BY path"), model)
    }

    fn open_model_artifact(
        &self,
        uid: &str,
        path: &str,
        range: Option<Range<u64>>,
    ) -> Result<(ArtifactInfo, Box<dyn Read + Send>)> {
        let path = validate::artifact_path(path)?;
        let model = self.artifact_model_id(uid)?;
        let row = self
            .client
            .borrow_mut()
            .query_opt(
                &format!("SELECT {COLUMNS} FROM model_artifacts WHERE model_id = $1 AND path = $2"),
                &[&model, &path],
            )
            .map_err(db)?;
        let info =
            row.map(|r| artifact_row(&r)).ok_or_else(|| StoreError::ArtifactNotFound(format!("{uid}/{path}")))?;
        open_blob(self.blobs()?.as_ref(), info, range)
    }
}
