//! The guard in front of every route: `Host` check (DNS rebinding), `Origin` check on writes
//! (CSRF), then the access token (`Authorization: Bearer …`, or the `trackbench_token` cookie
//! the UI gets by opening the printed URL with `?token=`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// Name of the cookie that carries the token for the UI.
pub const COOKIE: &str = "trackbench_token";

/// Paths that need no token (they reveal nothing stored).
fn is_public(path: &str) -> bool {
    path == "/api/v1/health"
}

pub async fn guard(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if !state.allowed_hosts.is_empty() && !state.allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        let e = ApiError::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            format!("Host `{host}` is not this server's address (DNS rebinding protection)"),
        );
        return refuse(req, e).await;
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && let Some(origin) = headers.get(header::ORIGIN)
    {
        let origin = origin.to_str().unwrap_or("");
        let same = origin.strip_prefix("http://").is_some_and(|o| o.eq_ignore_ascii_case(host));
        if !same {
            let e = ApiError::new(
                StatusCode::FORBIDDEN,
                "PERMISSION_DENIED",
                format!("cross-site request from Origin `{origin}` refused"),
            );
            return refuse(req, e).await;
        }
    }
    if is_public(req.uri().path()) {
        return next.run(req).await;
    }
    if let Some(t) = query_token(req.uri().query()) {
        // Opening the printed URL: check it, then keep it in a cookie and drop it from the URL.
        if req.method() == Method::GET && constant_time_eq(t.as_bytes(), state.token.as_bytes()) {
            let cookie = format!("{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict", state.token);
            let path = req.uri().path().to_string();
            return (StatusCode::SEE_OTHER, [(header::SET_COOKIE, cookie), (header::LOCATION, path)]).into_response();
        }
    }
    if !token_ok(req.headers(), &state.token) {
        let e = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "missing or wrong access token: send `Authorization: Bearer <token>` (the token `trackbench serve` printed, or TRACKBENCH_TOKEN)",
        );
        return refuse(req, e).await;
    }
    next.run(req).await
}

/// Answers a refused request after reading (a bounded part of) its body, so a client still
/// sending sees the answer rather than a reset connection.
async fn refuse(req: Request, e: ApiError) -> Response {
    crate::body::drain_then(req, e, 1 << 20).await.into_response()
}

fn query_token(query: Option<&str>) -> Option<&str> {
    query?.split('&').find_map(|kv| kv.strip_prefix("token="))
}

fn token_ok(headers: &HeaderMap, token: &str) -> bool {
    let bearer = headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .any(|t| constant_time_eq(t.trim().as_bytes(), token.as_bytes()));
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix(COOKIE).and_then(|r| r.strip_prefix('=')))
        .any(|t| constant_time_eq(t.as_bytes(), token.as_bytes()));
    bearer || cookie
}

/// Compares without an early exit on the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A fresh random token (128 bits, hex).
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_compared_exactly() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(constant_time_eq(a.as_bytes(), a.as_bytes()));
        assert!(!constant_time_eq(a.as_bytes(), b.as_bytes()));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, format!("x=1; {COOKIE}={a}").parse().unwrap());
        assert!(token_ok(&h, &a));
        assert!(!token_ok(&h, &b));
        assert_eq!(query_token(Some("a=1&token=zz")), Some("zz"));
    }
}
