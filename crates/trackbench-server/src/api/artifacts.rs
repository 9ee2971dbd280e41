//! Artifacts over the native API: the listing, downloads with Range (active types as
//! attachments), and streamed uploads under a size limit.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use serde_json::json;
use trackbench_store::StoreError;
use trackbench_store::backend_artifacts::resolve_range;
use trackbench_store::prelude::*;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

use super::AppJson;

pub(super) async fn list_artifacts(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<AppJson> {
    let a = s.read(move |st| Ok(st.artifacts(&id)?)).await?;
    Ok(axum::Json(json!({ "artifacts": a })))
}

/// Streams one artifact (with `Range: bytes=a-b` support); see [`serve_file`] for the headers
/// that keep an active artifact from running with the UI's origin.
pub async fn download_artifact(
    State(s): State<Arc<AppState>>,
    Path((id, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    serve_artifact(&s, &headers, Owner::Run(id), path, |_| Ok(())).await
}

/// Media types a browser only displays (no script, no markup that can load any): served
/// inline. Everything else, HTML, SVG, XML and JavaScript included, is a download
/// (`Content-Disposition: attachment`), on top of `Content-Security-Policy: sandbox` and
/// `X-Content-Type-Options: nosniff`, which every artifact gets.
pub(super) fn is_passive(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "image/png"
            | "image/jpeg"
            | "image/gif"
            | "image/webp"
            | "image/avif"
            | "image/bmp"
            | "text/plain"
            | "text/csv"
            | "application/json"
    ) || ["audio/", "video/"].iter().any(|p| essence.starts_with(p))
}

/// `attachment; filename="NAME"`, with the last segment of `path` reduced to characters that
/// need no quoting.
pub(super) fn attachment(path: &str) -> HeaderValue {
    let name = path.rsplit('/').next().unwrap_or("");
    let safe: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    let safe = if safe.trim_matches('.').is_empty() { "artifact".to_string() } else { safe };
    HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")).unwrap_or(HeaderValue::from_static("attachment"))
}

/// Answers a GET of artifact `path` of `owner`, honouring a single byte `Range`: `check` runs
/// first on the store connection (on the blocking pool), then the blob is opened once, whole
/// or only the range asked for (a ranged read looks up the record's size first, so an object
/// store is asked for those bytes only), and streams to the client as it is read.
pub async fn serve_artifact(
    s: &Arc<AppState>,
    headers: &HeaderMap,
    owner: Owner,
    path: String,
    check: impl FnOnce(&mut dyn Backend) -> ApiResult<()> + Send + 'static,
) -> ApiResult<Response> {
    let spec = headers.get(header::RANGE).map(|r| r.to_str().unwrap_or("").to_string());
    let (info, reader, range) = s
        .read(move |st| {
            check(st)?;
            let open = |st: &mut dyn Backend, range| -> ApiResult<_> {
                Ok(match &owner {
                    Owner::Run(id) => st.open_artifact(id, &path, range)?,
                    Owner::Model(id) => st.open_model_artifact(id, &path, range)?,
                })
            };
            let Some(spec) = spec else {
                let (info, reader) = open(st, None)?;
                return Ok((info, Some(reader), None));
            };
            let info = match &owner {
                Owner::Run(id) => st.artifact(id, &path)?,
                Owner::Model(id) => st
                    .model_artifacts(id)?
                    .into_iter()
                    .find(|a| a.path == path)
                    .ok_or_else(|| StoreError::ArtifactNotFound(format!("{id}/{path}")))?,
            };
            match resolve_range(&spec, info.size) {
                // Unsatisfiable, or not one range of bytes: 416 with the size.
                None => Ok((info, None, Some(None))),
                Some(r) => {
                    let (info, reader) = open(st, Some(r.clone()))?;
                    Ok((info, Some(reader), Some(Some(r))))
                }
            }
        })
        .await?;
    let size = info.size;
    let (status, start, len) = match &range {
        None => (StatusCode::OK, 0, size),
        Some(Some(r)) => (StatusCode::PARTIAL_CONTENT, r.start, r.end - r.start),
        Some(None) => {
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, [(header::CONTENT_RANGE, format!("bytes */{size}"))])
                .into_response());
        }
    };
    let Some(reader) = reader else { return Err(ApiError::internal("no reader for a readable artifact")) };
    let mut resp = Response::new(Body::from_stream(read_stream(reader)));
    *resp.status_mut() = status;
    let media_type = info.media_type.as_str();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(media_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox"));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", info.hash)) {
        h.insert(header::ETAG, etag);
    }
    if !is_passive(media_type) {
        h.insert(header::CONTENT_DISPOSITION, attachment(&info.path));
    }
    if status == StatusCode::PARTIAL_CONTENT {
        let v = format!("bytes {}-{}/{size}", start, start + len - 1);
        h.insert(header::CONTENT_RANGE, HeaderValue::from_str(&v).map_err(|e| ApiError::internal(e.to_string()))?);
    }
    Ok(resp)
}

/// A blocking reader as a body stream: a blocking-pool thread reads 256 KiB at a time into a
/// short channel, so a slow client holds back the reads instead of filling memory.
fn read_stream(
    mut reader: Box<dyn std::io::Read + Send>,
) -> impl futures_util::Stream<Item = std::io::Result<axum::body::Bytes>> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<axum::body::Bytes>>(4);
    tokio::task::spawn_blocking(move || {
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let item = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => Ok(axum::body::Bytes::copy_from_slice(&buf[..n])),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => Err(e),
            };
            let failed = item.is_err();
            // The client went away: stop reading.
            if tx.blocking_send(item).is_err() || failed {
                break;
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// Streams a request body into the store as artifact `path` of run `id`, refusing more than
/// `max_upload` bytes (nothing is stored then).
/// Whose artifact an upload is.
pub enum Owner {
    Run(String),
    /// A logged model (MLflow 3).
    Model(String),
}

pub async fn store_upload(
    s: &Arc<AppState>,
    owner: Owner,
    path: String,
    req: Request,
) -> ApiResult<trackbench_store::ArtifactInfo> {
    let max = s.max_upload;
    if let Some(len) =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok())
        && len > max
    {
        return Err(upload_too_large(max));
    }
    let stream = req.into_body().into_data_stream().map_err(std::io::Error::other);
    let reader = tokio_util::io::StreamReader::new(stream);
    let reader = tokio_util::io::SyncIoBridge::new(reader);
    s.read(move |store| {
        let mut limited = LimitedReader { inner: reader, left: max };
        let stored = match &owner {
            Owner::Run(id) => store.put_artifact_from(id, &path, &mut limited, "upload"),
            Owner::Model(id) => store.put_model_artifact_from(id, &path, &mut limited, "upload"),
        };
        stored.map_err(|e| match e {
            trackbench_store::StoreError::Io { source, .. } if source.kind() == std::io::ErrorKind::FileTooLarge => {
                upload_too_large(max)
            }
            e => e.into(),
        })
    })
    .await
}

fn upload_too_large(max: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RESOURCE_EXHAUSTED",
        format!("artifact is larger than the limit of {max} bytes"),
    )
}

struct LimitedReader<R> {
    inner: R,
    left: u64,
}

impl<R: std::io::Read> std::io::Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(std::io::Error::new(std::io::ErrorKind::FileTooLarge, "upload over the limit"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

pub(super) async fn upload_artifact(
    State(s): State<Arc<AppState>>,
    Path((id, path)): Path<(String, String)>,
    req: Request,
) -> ApiResult<Response> {
    let checked = {
        let (id, path) = (id.clone(), path.clone());
        s.read(move |st| {
            trackbench_store::validate::artifact_path(&path)?;
            st.run(&id)?;
            Ok(())
        })
        .await
    };
    if let Err(e) = checked {
        return Err(crate::body::drain_then(req, e, crate::body::DRAIN_LIMIT).await);
    }
    let info = store_upload(&s, Owner::Run(id), path, req).await?;
    Ok((StatusCode::CREATED, axum::Json(info)).into_response())
}
