//! The backend seam for artifacts: the files of runs and of logged models, each a row (path,
//! size, hash, media type, time) naming a blob of a [`BlobStore`](crate::blobs::BlobStore).
//! Implemented by the SQLite [`Store`] (its own blob folder) and by `trackbench-store-pg`
//! (whatever `BlobStore` it was given: a folder or an object store), and checked by one
//! contract suite on both.
//!
//! Reads are streams: [`ArtifactStore::open_artifact`] gives the record and a reader of the
//! whole file or of a byte range, so a server serves any size without holding it, and an
//! HTTP `Range` request reads only what it asked for (see [`resolve_range`]).

use std::io::Read;
use std::ops::Range;

use crate::Store;
use crate::blobs::BlobStore;
use crate::error::{Result, StoreError};
use crate::model::ArtifactInfo;
use crate::validate;

/// Files of runs and of logged models, stored once by content.
pub trait ArtifactStore {
    /// Stores what `input` yields as artifact `path` of run `uid`, replacing an artifact of
    /// that path; `what` names the source in errors. Nothing is stored if reading fails.
    fn put_artifact_from(&mut self, uid: &str, path: &str, input: &mut dyn Read, what: &str) -> Result<ArtifactInfo>;
    /// Artifacts of run `uid`, sorted by path (byte-wise).
    fn artifacts(&self, uid: &str) -> Result<Vec<ArtifactInfo>>;
    /// The record of artifact `path` of run `uid`.
    fn artifact(&self, uid: &str, path: &str) -> Result<ArtifactInfo>;
    /// Removes artifact `path` of run `uid`, or every artifact under folder `path`; how many
    /// went. Blobs stay until garbage collection (another artifact may share them).
    fn delete_artifacts(&mut self, uid: &str, path: &str) -> Result<usize>;
    /// The record of artifact `path` of run `uid` and a reader of its bytes: all of them, or
    /// `range` (half-open, within the file: see [`resolve_range`]).
    fn open_artifact(
        &self,
        uid: &str,
        path: &str,
        range: Option<Range<u64>>,
    ) -> Result<(ArtifactInfo, Box<dyn Read + Send>)>;
    /// Stores what `input` yields as artifact `path` of logged model `uid`.
    fn put_model_artifact_from(
        &mut self,
        uid: &str,
        path: &str,
        input: &mut dyn Read,
        what: &str,
    ) -> Result<ArtifactInfo>;
    /// Artifacts of logged model `uid`, sorted by path.
    fn model_artifacts(&self, uid: &str) -> Result<Vec<ArtifactInfo>>;
    /// The record of artifact `path` of logged model `uid` and a reader of its bytes (or of
    /// `range`).
    fn open_model_artifact(
        &self,
        uid: &str,
        path: &str,
        range: Option<Range<u64>>,
    ) -> Result<(ArtifactInfo, Box<dyn Read + Send>)>;
}

/// The record of a new artifact `path` (already validated) holding `blob`, written at
/// `created_ms`: the media type guessed from the path, as every backend does it.
pub fn artifact_info(path: &str, hash: &str, size: u64, created_ms: i64) -> ArtifactInfo {
    let media_type = mime_guess::from_path(path).first_or_octet_stream().essence_str().to_string();
    ArtifactInfo { path: path.to_string(), size, hash: hash.to_string(), media_type, created_ms }
}

/// Checks that `range` lies within a file of `size` bytes (`start <= end <= size`).
pub fn check_range(info: &ArtifactInfo, range: &Range<u64>) -> Result<()> {
    if range.start > range.end || range.end > info.size {
        return Err(StoreError::invalid(
            "byte range",
            format!("{}..{} is not within {} ({} bytes)", range.start, range.end, info.path, info.size),
        ));
    }
    Ok(())
}

/// An HTTP `Range` header's single byte range (`bytes=A-B`, `bytes=A-`, `bytes=-N`) resolved
/// against a file of `size` bytes, as a half-open range; `None` when it cannot be satisfied
/// (answer 416) or is not one range of bytes (serve the whole file).
pub fn resolve_range(header: &str, size: u64) -> Option<Range<u64>> {
    let spec = header.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 || size == 0 {
            return None;
        }
        return Some(size.saturating_sub(n)..size);
    }
    let start: u64 = a.parse().ok()?;
    if start >= size {
        return None;
    }
    let end = if b.is_empty() { size } else { b.parse::<u64>().ok()?.saturating_add(1).min(size) };
    (end > start).then_some(start..end)
}

/// Opens `info`'s blob in `blobs`, all of it or `range` of it (checked against its size).
pub fn open_blob(
    blobs: &dyn BlobStore,
    info: ArtifactInfo,
    range: Option<Range<u64>>,
) -> Result<(ArtifactInfo, Box<dyn Read + Send>)> {
    if let Some(r) = &range {
        check_range(&info, r)?;
        if r.start == r.end {
            return Ok((info, Box::new(std::io::empty())));
        }
    }
    let reader = blobs.open(&info.hash, range)?;
    Ok((info, reader))
}

impl ArtifactStore for Store {
    fn put_artifact_from(&mut self, uid: &str, path: &str, input: &mut dyn Read, what: &str) -> Result<ArtifactInfo> {
        Store::put_artifact_from(self, uid, path, input, what)
    }
    fn artifacts(&self, uid: &str) -> Result<Vec<ArtifactInfo>> {
        Store::artifacts(self, uid)
    }
    fn artifact(&self, uid: &str, path: &str) -> Result<ArtifactInfo> {
        Ok(Store::artifact_file(self, uid, path)?.0)
    }
    fn delete_artifacts(&mut self, uid: &str, path: &str) -> Result<usize> {
        Store::delete_artifacts(self, uid, path)
    }
    fn open_artifact(
        &self,
        uid: &str,
        path: &str,
        range: Option<Range<u64>>,
    ) -> Result<(ArtifactInfo, Box<dyn Read + Send>)> {
        let (info, _) = Store::artifact_file(self, uid, path)?;
        open_blob(&self.blobs(), info, range)
    }
    fn put_model_artifact_from(
        &mut self,
        uid: &str,
        path: &str,
        input: &mut dyn Read,
        what: &str,
    ) -> Result<ArtifactInfo> {
        Store::put_model_artifact_from(self, uid, path, input, what)
    }
    fn model_artifacts(&self, uid: &str) -> Result<Vec<ArtifactInfo>> {
        Store::model_artifacts(self, uid)
    }
    fn open_model_artifact(
        &self,
        uid: &str,
        path: &str,
        range: Option<Range<u64>>,
    ) -> Result<(ArtifactInfo, Box<dyn Read + Send>)> {
        let path = validate::artifact_path(path)?;
        let (info, _) = Store::model_artifact_file(self, uid, &path)?;
        open_blob(&self.blobs(), info, range)
    }
}

#[cfg(test)]
mod tests {
    use super::resolve_range;

    #[test]
    fn http_ranges_resolve_as_rfc_9110_says() {
        let check = |h: &str, size: u64, want: Option<std::ops::Range<u64>>| {
            assert_eq!(resolve_range(h, size), want, "{h} of {size}");
        };
        check("bytes=0-9", 100, Some(0..10));
        check("bytes=90-200", 100, Some(90..100));
        check("bytes=10-", 100, Some(10..100));
        check("bytes=-10", 100, Some(90..100));
        check("bytes=-200", 100, Some(0..100));
        check("bytes=100-", 100, None);
        check("bytes=-0", 100, None);
        check("bytes=5-4", 100, None);
        check("bytes=0-1,5-6", 100, None);
        check("items=0-1", 100, None);
        check("bytes=0-0", 0, None);
    }
}
