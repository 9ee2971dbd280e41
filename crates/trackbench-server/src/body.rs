//! Request bodies: size limit (413), gzip (`Content-Encoding: gzip`, as the remote SDK sends),
//! JSON with the non-finite literals Python's `json` writes (`NaN`, `Infinity`, `-Infinity`),
//! and parse errors answered as 400 with serde's message and position.
//!
//! A JSON body must be declared `Content-Type: application/json` (parameters such as
//! `charset=utf-8` allowed), else 415: a second barrier against cross-site requests besides
//! the Origin check, since an HTML form or a "simple" cross-site `fetch` can only send
//! form-encoded, multipart or `text/plain` bodies.

use std::borrow::Cow;
use std::io::Read;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON request body, parsed into `T`.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        if !content_type_is(req.headers(), "application/json") {
            let e = not_json(req.headers());
            return Err(drain_then(req, e, 1 << 20).await);
        }
        let gzip = req
            .headers()
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
        let limit = state.max_body;
        let bytes = read_limited(req, limit).await?;
        let bytes = if gzip { Cow::Owned(gunzip(&bytes, limit)?) } else { Cow::Borrowed(&bytes[..]) };
        parse_json(&bytes).map(JsonBody)
    }
}

/// A remote SDK's batch (`POST /api/v1/runs/{id}/batch`): JSON as any client sends it, or
/// the SDK's binary form of codec chunks (`Content-Type: application/x-trackbench-batch`,
/// [`trackbench_store::wire`]), each gzip-compressed or not. Malformed input of either kind
/// is a 400 that says what is wrong, before anything is stored.
pub enum BatchBody {
    Json(trackbench_store::Batch),
    Chunked(trackbench_store::wire::ChunkedBatch),
}

impl FromRequest<Arc<AppState>> for BatchBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        use trackbench_store::wire::{BINARY_CONTENT_TYPE, WireBatch, decode_binary};
        if !content_type_is(req.headers(), BINARY_CONTENT_TYPE) {
            let JsonBody(wire) = JsonBody::<WireBatch>::from_request(req, state).await?;
            return Ok(BatchBody::Json(wire.into_batch()?));
        }
        let gzip = req
            .headers()
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
        let limit = state.max_body;
        let bytes = read_limited(req, limit).await?;
        let bytes = if gzip { Cow::Owned(gunzip(&bytes, limit)?) } else { Cow::Borrowed(&bytes[..]) };
        Ok(BatchBody::Chunked(decode_binary(&bytes)?))
    }
}

/// True when `Content-Type` is a body type the API takes (the request middleware's barrier):
/// `application/json`, or the SDK's binary batch ([`trackbench_store::wire::BINARY_CONTENT_TYPE`],
/// which only `/api/v1/runs/{id}/batch` reads; every JSON endpoint still answers 415 to it).
/// Neither can be sent cross-site without a CORS preflight, as a form or a simple `fetch`
/// body could.
pub fn is_json(headers: &HeaderMap) -> bool {
    content_type_is(headers, "application/json")
        || content_type_is(headers, trackbench_store::wire::BINARY_CONTENT_TYPE)
}

/// True when `Content-Type` is `essence`, with or without parameters.
fn content_type_is(headers: &HeaderMap, essence: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case(essence))
}

/// True when a request carries a body, or says it might (`Content-Length` above 0, or
/// `Transfer-Encoding`).
pub fn has_body(headers: &HeaderMap) -> bool {
    let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).map(str::trim);
    headers.contains_key(header::TRANSFER_ENCODING) || length.is_some_and(|l| l != "0")
}

/// The 415 for a JSON endpoint sent something else.
pub fn not_json(headers: &HeaderMap) -> ApiError {
    let got = match headers.get(header::CONTENT_TYPE) {
        Some(v) => format!("`{}`", String::from_utf8_lossy(v.as_bytes())),
        None => "none".to_string(),
    };
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "INVALID_PARAMETER_VALUE",
        format!("this endpoint takes a JSON body: send `Content-Type: application/json` (the Content-Type was {got})"),
    )
}

/// Reads a body of at most `limit` bytes. A longer one is read on and thrown away (up to
/// `DRAIN_FACTOR` times the limit) before the 413 goes out: a client still sending its body
/// would otherwise see a reset connection instead of the answer that says what went wrong.
pub async fn read_limited(req: Request, limit: usize) -> Result<Bytes, ApiError> {
    use futures_util::StreamExt;
    let drain_cap = limit.saturating_mul(DRAIN_FACTOR);
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > drain_cap) {
        return Err(too_large(limit));
    }
    let mut stream = req.into_body().into_data_stream();
    let mut buf = Vec::with_capacity(declared.unwrap_or(0).min(limit));
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::invalid(format!("could not read the request body: {e}")))?;
        seen += chunk.len();
        if seen > drain_cap {
            break;
        }
        if seen <= limit {
            buf.extend_from_slice(&chunk);
        }
    }
    if seen > limit {
        return Err(too_large(limit));
    }
    Ok(Bytes::from(buf))
}

/// Reads and discards a request's body (up to `limit` bytes), then gives back `err`: a
/// handler that refuses a request before reading its body answers through this, so the client,
/// still sending, receives the answer instead of a reset connection.
pub async fn drain_then(req: Request, err: ApiError, limit: usize) -> ApiError {
    use futures_util::StreamExt;
    let mut stream = req.into_body().into_data_stream();
    let mut seen = 0usize;
    while let Some(Ok(chunk)) = stream.next().await {
        seen += chunk.len();
        if seen > limit {
            break;
        }
    }
    err
}

/// Most bytes of a refused upload read before answering.
pub const DRAIN_LIMIT: usize = 64 << 20;

/// How much of an oversized body is read and discarded before answering 413.
const DRAIN_FACTOR: usize = 4;

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "RESOURCE_EXHAUSTED",
        format!("request body is larger than the limit of {limit} bytes; send smaller batches"),
    )
}

/// Inflates a gzip body, refusing more than `limit` bytes of output.
pub fn gunzip(bytes: &[u8], limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::with_capacity(bytes.len() * 4);
    flate2::read::GzDecoder::new(bytes)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ApiError::invalid(format!("bad gzip body: {e}")))?;
    if out.len() > limit {
        return Err(too_large(limit));
    }
    Ok(out)
}

/// Parses JSON, accepting bare `NaN`/`Infinity`/`-Infinity` (turned into the strings the
/// `json_f64` fields of the store's types read).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text = relax_non_finite(bytes);
    serde_json::from_slice(&text).map_err(|e| ApiError::invalid(format!("malformed JSON body: {e}")))
}

/// Quotes the bare non-finite literals outside strings; borrows when there are none.
pub fn relax_non_finite(bytes: &[u8]) -> Cow<'_, [u8]> {
    let has_literal = bytes.windows(3).any(|w| w == b"NaN") || bytes.windows(8).any(|w| w == b"Infinity");
    if !has_literal {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + 16);
    let (mut in_string, mut escaped) = (false, false);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        let rest = &bytes[i..];
        let literal = [&b"-Infinity"[..], b"Infinity", b"NaN"].into_iter().find(|l| rest.starts_with(l));
        match literal {
            Some(l) => {
                out.push(b'"');
                out.extend_from_slice(l);
                out.push(b'"');
                i += l.len();
            }
            None => {
                if b == b'"' {
                    in_string = true;
                }
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_literals_are_quoted_outside_strings_only() {
        let src = br#"{"a": NaN, "b": -Infinity, "c": [Infinity], "s": "NaN \" Infinity"}"#;
        let got = relax_non_finite(src);
        assert_eq!(
            std::str::from_utf8(&got).unwrap(),
            r#"{"a": "NaN", "b": "-Infinity", "c": ["Infinity"], "s": "NaN \" Infinity"}"#
        );
        assert!(matches!(relax_non_finite(b"{\"a\": 1}"), Cow::Borrowed(_)));
    }

    #[test]
    fn json_content_types() {
        let check = |ct: Option<&str>, want: bool| {
            let mut h = HeaderMap::new();
            if let Some(ct) = ct {
                h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
            }
            assert_eq!(is_json(&h), want, "{ct:?}");
        };
        check(Some("application/json"), true);
        check(Some("application/json; charset=utf-8"), true);
        check(Some("Application/JSON ;charset=UTF-8"), true);
        check(None, false);
        check(Some("text/plain"), false);
        check(Some("application/x-www-form-urlencoded"), false);
        check(Some("multipart/form-data; boundary=x"), false);
        check(Some("application/x-trackbench-batch"), true);
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, "application/x-trackbench-batch".parse().unwrap());
        assert!(!content_type_is(&h, "application/json"), "JSON endpoints refuse the binary batch");
        check(Some("application/jsonx"), false);
        check(Some("text/plain; application/json"), false);
    }

    #[test]
    fn gzip_bodies_inflate_within_the_limit() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&vec![b'x'; 10_000]).unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(gunzip(&gz, 10_000).unwrap().len(), 10_000);
        assert_eq!(gunzip(&gz, 9_999).unwrap_err().status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(gunzip(b"not gzip", 100).unwrap_err().status, StatusCode::BAD_REQUEST);
    }
}
