//! The web UI, embedded in the binary at build time (see `build.rs`) and served for every GET
//! outside the APIs: a file of the table at its path, else `index.html` (the UI routes in the
//! browser: `/p/NAME`, `/runs/ID`, `/compare?runs=…`), else, when no UI was built, a small
//! page saying how to build it.
//!
//! Paths are only ever compared with the table's names, never joined to a folder, so no path
//! (`/assets/../../Cargo.toml`, percent-encoded or not) can read anything else. Hashed files
//! under `/assets/` are cached for a year; `index.html` is revalidated every time. Every UI
//! response carries a strict Content-Security-Policy. The files are public (they hold no data);
//! the guard still checks their Host.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// One embedded file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Asset {
    /// Path inside `ui/dist`, `/`-separated, no leading slash (`assets/index-3f2a.js`).
    pub path: &'static str,
    pub bytes: &'static [u8],
    pub content_type: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));

/// The UI files built into this binary (empty when `ui/dist` did not exist at build time).
pub fn embedded() -> &'static [Asset] {
    EMBEDDED
}

/// The policy of every UI response: only this origin's scripts, no framing.
pub const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
                       script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// True for paths the UI never answers: the native and MLflow APIs.
pub fn is_api_path(path: &str) -> bool {
    ["/api", "/ajax-api"].iter().any(|p| path == *p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/')))
}

/// What a UI path resolves to.
#[derive(Debug, PartialEq)]
pub enum Lookup<'a> {
    /// A file of the table.
    File(&'a Asset),
    /// The application shell (`index.html`), for the browser-side router.
    Index(&'a Asset),
    /// No UI was built.
    NotBuilt,
    /// A file-like path under `/assets/` that the table lacks, or a path that tries to climb.
    NotFound,
}

/// Finds what to serve for the request path `raw` (as sent, percent-encoded) in `table`.
pub fn lookup<'a>(table: &'a [Asset], raw: &str) -> Lookup<'a> {
    let Some(path) = percent_decode(raw) else { return Lookup::NotFound };
    let rel = path.trim_start_matches('/');
    let climbs = rel.split(['/', '\\']).any(|seg| seg == ".." || seg == ".") || rel.contains(['\\', '\0']);
    if climbs {
        return Lookup::NotFound;
    }
    if !rel.is_empty()
        && let Some(a) = table.iter().find(|a| a.path == rel)
    {
        return Lookup::File(a);
    }
    // A missing hashed file is a 404, not the HTML shell (a browser would try to run it).
    if rel.starts_with("assets/") {
        return Lookup::NotFound;
    }
    match table.iter().find(|a| a.path == "index.html") {
        Some(index) => Lookup::Index(index),
        None => Lookup::NotBuilt,
    }
}

/// `%XX` decoding; `None` for a malformed escape or a result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The fallback of the router: the UI for GET/HEAD outside the APIs; JSON 404 inside them.
pub async fn fallback(req: Request) -> Response {
    let path = req.uri().path();
    if is_api_path(path) {
        return ApiError::not_found(format!("no such endpoint: {} {path}", req.method())).into_response();
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let e = ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", "the UI answers GET only");
        return e.into_response();
    }
    serve(embedded(), path)
}

/// The response for UI path `path` from `table` (a parameter so tests can bring their own).
pub fn serve(table: &[Asset], path: &str) -> Response {
    let (status, body, content_type, cache): (StatusCode, Body, &str, &str) = match lookup(table, path) {
        Lookup::File(a) if a.path == "index.html" => (StatusCode::OK, Body::from(a.bytes), a.content_type, "no-cache"),
        Lookup::File(a) if a.path.starts_with("assets/") => {
            (StatusCode::OK, Body::from(a.bytes), a.content_type, IMMUTABLE)
        }
        Lookup::File(a) => (StatusCode::OK, Body::from(a.bytes), a.content_type, "no-cache"),
        Lookup::Index(a) => (StatusCode::OK, Body::from(a.bytes), a.content_type, "no-cache"),
        Lookup::NotBuilt => (StatusCode::OK, Body::from(NOT_BUILT), "text/html; charset=utf-8", "no-cache"),
        Lookup::NotFound => (StatusCode::NOT_FOUND, Body::from("not found\n"), "text/plain; charset=utf-8", "no-cache"),
    };
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_str(cache).unwrap_or(HeaderValue::from_static("no-cache")));
    security_headers(h);
    resp
}

/// The headers every UI response carries.
pub fn security_headers(h: &mut axum::http::HeaderMap) {
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
}

/// The page at `/` of a server built without the UI.
pub const NOT_BUILT: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Trackbench</title></head><body style=\"font-family: sans-serif; max-width: 40em; margin: 3em auto\">\
<h1>Trackbench server</h1>\
<p>The web UI was not built into this binary. Build it and the server with <code>cargo xtask ui</code>, \
then start the server again.</p>\
<p>The API answers under <code>/api/v1</code> (see <code>/api/v1/openapi.json</code>); the MLflow \
tracking API under <code>/api/2.0/mlflow</code>.</p></body></html>\n";

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[Asset] = &[
        Asset { path: "index.html", bytes: b"<html>shell</html>", content_type: "text/html; charset=utf-8" },
        Asset {
            path: "assets/index-abc123.js",
            bytes: b"console.log(1)",
            content_type: "text/javascript; charset=utf-8",
        },
        Asset { path: "assets/index-abc123.css", bytes: b"body{}", content_type: "text/css; charset=utf-8" },
        Asset { path: "assets/a b.svg", bytes: b"<svg/>", content_type: "image/svg+xml" },
        Asset { path: "favicon.ico", bytes: b"ico", content_type: "image/x-icon" },
    ];

    fn check(path: &str, expect: Option<&str>) {
        let got = match lookup(TABLE, path) {
            Lookup::File(a) => Some(a.path),
            Lookup::Index(a) => Some(if a.path == "index.html" { "<index>" } else { a.path }),
            Lookup::NotBuilt => Some("<not built>"),
            Lookup::NotFound => None,
        };
        assert_eq!(got, expect, "{path}");
    }

    #[test]
    fn lookup_finds_files_and_falls_back_to_the_shell() {
        check("/", Some("<index>"));
        check("/index.html", Some("index.html"));
        check("/assets/index-abc123.js", Some("assets/index-abc123.js"));
        check("/assets/a%20b.svg", Some("assets/a b.svg"));
        check("/favicon.ico", Some("favicon.ico"));
        check("/p/myproject", Some("<index>"));
        check("/runs/0123abcd", Some("<index>"));
        check("/compare", Some("<index>"));
        check("/assets/missing-1.js", None);
        assert_eq!(lookup(&[], "/"), Lookup::NotBuilt);
        assert_eq!(lookup(&[], "/runs/x"), Lookup::NotBuilt);
    }

    #[test]
    fn lookup_never_climbs() {
        for bad in [
            "/assets/../../Cargo.toml",
            "/assets/%2e%2e/%2e%2e/Cargo.toml",
            "/assets/%2E%2E%2F%2E%2E%2FCargo.toml",
            "/..%2f..%2fCargo.toml",
            "/assets/..%5c..%5cCargo.toml",
            "/./index.html",
            "/assets/x%00.js",
            "/assets/%zz",
            "/%ff%fe",
        ] {
            check(bad, None);
        }
        // Climbing back into the table is refused too, rather than normalised.
        check("/assets/../index.html", None);
    }

    #[test]
    fn responses_carry_types_caching_and_policy() {
        let r = serve(TABLE, "/assets/index-abc123.css");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/css; charset=utf-8");
        assert_eq!(r.headers()[header::CACHE_CONTROL], IMMUTABLE);
        assert_eq!(r.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let r = serve(TABLE, "/assets/index-abc123.js");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        let r = serve(TABLE, "/runs/abc");
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-cache");
        assert_eq!(r.headers()[header::CONTENT_SECURITY_POLICY], CSP);
        assert_eq!(r.headers()[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(serve(TABLE, "/assets/../../Cargo.toml").status(), StatusCode::NOT_FOUND);
        assert_eq!(serve(&[], "/").status(), StatusCode::OK);
    }

    #[test]
    fn api_paths_are_not_ui_paths() {
        assert!(is_api_path("/api/v1/nope"));
        assert!(is_api_path("/api"));
        assert!(is_api_path("/ajax-api/2.0/mlflow/x"));
        assert!(!is_api_path("/apiary"));
        assert!(!is_api_path("/runs/api"));
    }
}
