//! Artifacts: files attached to a run (or to a logged model, see `models`), stored
//! once by content under `blobs/<2 hex>/<blake3>`.
//!
//! A put streams the file into a temporary file inside the store while hashing it, then
//! renames it into place (atomic on one file system), so a killed process never leaves a
//! half-written blob under its final name, and identical files share one blob. The rename and
//! the artifact's row happen in one write transaction, the lock garbage collection takes to
//! remove a blob, so a collection running beside an upload never removes a blob a new artifact
//! points to. The blob folder is a [`DirBlobs`] (`crate::blobs`); the same operations on
//! any backend are the [`ArtifactStore`](crate::backend_artifacts::ArtifactStore) seam.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, params};

use crate::backend_artifacts::artifact_info;
use crate::blobs::{BlobStore, DirBlobs};
use crate::error::{Result, StoreError};
use crate::model::ArtifactInfo;
use crate::{Store, validate};

impl Store {
    /// The store's blob folder, `<root>/blobs`.
    pub(crate) fn blobs(&self) -> DirBlobs {
        DirBlobs::new(self.root.join("blobs"))
    }

    pub(crate) fn blob_path(&self, hash: &str) -> PathBuf {
        self.blobs().path(hash)
    }

    /// Stores the file at `source` as artifact `path` of run `uid` (replacing an artifact of
    /// that path). Returns what was stored.
    pub fn put_artifact(&mut self, uid: &str, path: &str, source: &Path) -> Result<ArtifactInfo> {
        let input = File::open(source).map_err(StoreError::io(format!("reading artifact {}", source.display())))?;
        self.put_artifact_from(uid, path, input, &source.display().to_string())
    }

    /// Stores what `input` yields as artifact `path` of run `uid` (an upload streamed from a
    /// socket, say); `what` names the source in errors. Nothing is stored if reading fails.
    pub fn put_artifact_from(&mut self, uid: &str, path: &str, input: impl Read, what: &str) -> Result<ArtifactInfo> {
        let path = validate::artifact_path(path)?;
        let run = self.run_rowid(uid)?;
        self.put_blob(&path, input, what, |tx, a| {
            tx.execute(
                "INSERT OR REPLACE INTO artifacts(run_id, path, hash, size, media_type, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![run, a.path, a.hash, a.size as i64, a.media_type, a.created_ms],
            )?;
            Ok(())
        })
    }

    /// Streams `input` into a blob (hashing it on the way) and, in one write transaction,
    /// moves the blob into place and lets `record` write the row that names it: the one way
    /// an artifact of a run or of a model is stored.
    pub(crate) fn put_blob(
        &mut self,
        path: &str,
        mut input: impl Read,
        what: &str,
        record: impl FnOnce(&rusqlite::Transaction<'_>, &ArtifactInfo) -> Result<()>,
    ) -> Result<ArtifactInfo> {
        // Staged in `blobs/tmp`; dropped on any error below, which removes the file.
        let staged = self.blobs().stage(&mut input, what)?;
        let info = artifact_info(path, staged.hash(), staged.size(), self.now());
        // The blob goes into place and its row in one write transaction, which garbage
        // collection also takes to remove a blob (see `crate::gc`): a blob gc saw unreferenced
        // is either gone before this (and the rename puts it back) or referenced after it.
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        staged.commit()?;
        record(&tx, &info)?;
        tx.commit()?;
        Ok(info)
    }

    /// Stores every file under folder `dir` as artifacts `prefix/<relative path>`.
    pub fn put_artifact_dir(&mut self, uid: &str, prefix: &str, dir: &Path) -> Result<Vec<ArtifactInfo>> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            let mut entries: Vec<_> = std::fs::read_dir(&d)
                .map_err(StoreError::io(format!("reading folder {}", d.display())))?
                .collect::<std::io::Result<_>>()
                .map_err(StoreError::io(format!("reading folder {}", d.display())))?;
            entries.sort_by_key(|e| e.file_name());
            for e in entries {
                let p = e.path();
                let ft = e.file_type().map_err(StoreError::io(format!("reading {}", p.display())))?;
                if ft.is_dir() {
                    stack.push(p);
                } else if ft.is_file() {
                    let rel = p.strip_prefix(dir).unwrap_or(&p);
                    let rel = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                    let name = if prefix.is_empty() { rel } else { format!("{prefix}/{rel}") };
                    out.push(self.put_artifact(uid, &name, &p)?);
                }
            }
        }
        Ok(out)
    }

    /// Artifacts of run `uid`, sorted by path.
    pub fn artifacts(&self, uid: &str) -> Result<Vec<ArtifactInfo>> {
        self.run(uid)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT path, size, hash, media_type, created_ms FROM artifacts \
             WHERE run_id = (SELECT id FROM runs WHERE uid = ?1) ORDER BY path",
        )?;
        let rows = stmt.query_map([uid], artifact_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Removes artifact `path` of run `uid`, or every artifact under folder `path`; returns how
    /// many went. Blobs stay until garbage collection (another artifact may share them).
    pub fn delete_artifacts(&mut self, uid: &str, path: &str) -> Result<usize> {
        let path = validate::artifact_path(path)?;
        let run = self.run_rowid(uid)?;
        let prefix = format!("{path}/");
        Ok(self.conn.execute(
            "DELETE FROM artifacts WHERE run_id = ?1 AND (path = ?2 OR substr(path, 1, length(?3)) = ?3)",
            params![run, path, prefix],
        )?)
    }

    /// The artifact's record and the blob file holding its bytes.
    pub fn artifact_file(&self, uid: &str, path: &str) -> Result<(ArtifactInfo, PathBuf)> {
        let path = validate::artifact_path(path)?;
        let info = self
            .conn
            .query_row(
                "SELECT path, size, hash, media_type, created_ms FROM artifacts \
                 WHERE run_id = (SELECT id FROM runs WHERE uid = ?1) AND path = ?2",
                params![uid, path],
                artifact_row,
            )
            .optional()?
            .ok_or_else(|| StoreError::ArtifactNotFound(format!("{uid}/{path}")))?;
        let file = self.blob_path(&info.hash);
        Ok((info, file))
    }
}

/// An artifact's row: `path, size, hash, media_type, created_ms`.
pub(crate) fn artifact_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ArtifactInfo> {
    Ok(ArtifactInfo {
        path: r.get(0)?,
        size: r.get::<_, i64>(1)? as u64,
        hash: r.get(2)?,
        media_type: r.get(3)?,
        created_ms: r.get(4)?,
    })
}
