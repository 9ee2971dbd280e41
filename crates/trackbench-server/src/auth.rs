//! The guard in front of every route: `Host` check (DNS rebinding), `Origin` check on writes
//! (CSRF), then the access token (`Authorization: Bearer …`, or the `trackbench_token` cookie
//! the UI gets by opening the printed URL with `?token=`). The UI's static files (every path
//! outside `/api/` and `/ajax-api/`) pass the Host check and need no token.
//!
//! A write to the API (anything but GET, HEAD, OPTIONS) that declares a body type other than
//! JSON, or carries a body without declaring one, is refused with 415 before any handler
//! runs: a cross-site form or "simple" request cannot send `application/json`. Artifact
//! uploads (raw bytes of any type) are the exception.
//!
//! Besides the server's token (the single-user mode: everything), a request may carry a user's
//! token (`trackbench tokens create`), looked up by hash on every request; a user who is not an
//! admin then passes [`crate::access`]'s permission check before the handler runs. Every
//! request past the guard carries its [`Caller`] (but a job token's).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use trackbench_launch::jobtoken;
use trackbench_store::backend_access::{TOKEN_PREFIX, is_token_shaped, token_hash};
use trackbench_store::{TokenCheck, UserInfo};

use crate::access::{self, Caller};
use crate::error::ApiError;
use crate::state::AppState;

/// A request made with a job token: the scope its runs must carry (see `trackbench_launch::jobtoken`).
#[derive(Debug, Clone)]
pub struct JobScope(pub String);

/// The bearer token of a request, if any.
fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|t| t.trim().to_string())
}

/// A job token reaches what a cluster task's agent and the SDK inside it need, for the runs
/// of its scope only, until the launcher revokes it (the run's `launch.token_revoked` tag):
/// creating or resuming its run (`POST /api/v1/runs`, scope checked by the handler), and that
/// run's detail, batches, end and artifacts. Everything else is 403.
async fn check_job_token(state: &Arc<AppState>, req: &mut Request, token: &str) -> Result<(), ApiError> {
    let job = jobtoken::verify(&state.token, token, trackbench_store::now_ms())
        .map_err(|why| ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", format!("refused {why}")))?;
    let denied = |why: &str| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            format!("a job token reaches only its own job's runs while the job runs: {why}"),
        )
    };
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    if method == Method::POST && path == "/api/v1/runs" {
        req.extensions_mut().insert(JobScope(job.scope));
        return Ok(());
    }
    let Some(rest) = path.strip_prefix("/api/v1/runs/") else { return Err(denied("not a run's route")) };
    let (run, sub) = rest.split_once('/').unwrap_or((rest, ""));
    let allowed = match sub {
        "" => method == Method::GET,
        "batch" | "finish" | "resume" => method == Method::POST,
        _ => sub.starts_with("artifacts/") && matches!(method, Method::PUT | Method::GET),
    };
    if !allowed {
        return Err(denied(&format!("{method} {path}")));
    }
    let run = run.to_string();
    let found = state
        .read(move |st| match st.tags(&run) {
            Ok(tags) => Ok(Some(tags)),
            Err(trackbench_store::StoreError::RunNotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        })
        .await?;
    match found {
        Some(tags) => {
            let in_scope = tags.iter().any(|(k, v)| k == jobtoken::SCOPE_TAG && *v == job.scope);
            if !in_scope {
                return Err(denied("this run is not one of the job's"));
            }
            if tags.iter().any(|(k, _)| k == jobtoken::REVOKED_TAG) {
                return Err(denied("the job has ended and its token was revoked"));
            }
            Ok(())
        }
        // The agent asks whether its run exists before creating it: let the handler say 404.
        None if sub.is_empty() => Ok(()),
        None => Err(denied("no such run")),
    }
}

/// Name of the cookie that carries the token for the UI.
pub const COOKIE: &str = "trackbench_token";

/// API paths that need no token (they reveal nothing stored). The UI's files (every path
/// outside the APIs) need none either: they hold no data.
fn is_public(path: &str) -> bool {
    path == "/api/v1/health"
}

/// Writes by method that only read: searches sent as POST (MLflow's), and dry runs.
fn is_read_by_post(path: &str) -> bool {
    path.ends_with("/experiments/search")
        || path.ends_with("/runs/search")
        || path.ends_with("/logged-models/search")
        || path.ends_with("/registered-models/get-latest-versions")
        || path == "/api/v1/sweeps/plan"
}

/// On a `--readonly` replica (a dashboard), every write is refused before its handler runs.
fn refused_on_readonly(state: &AppState, method: &Method, path: &str) -> Option<ApiError> {
    let write = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) && !is_read_by_post(path);
    (state.readonly && write && crate::ui::is_api_path(path)).then(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "this server is read-only (`trackbench serve --readonly`): send writes to a replica without it",
        )
    })
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
    let path = req.uri().path();
    let ui = !crate::ui::is_api_path(path);
    if ui
        && req.method() == Method::GET
        && let Some(t) = query_token(req.uri().query()).map(str::to_string)
        && (constant_time_eq(t.as_bytes(), state.token.as_bytes()) || live_user_token(&state, &t).await)
    {
        // Opening the printed URL (the server's token, or a user's live token, as `trackbench
        // ui --server` opens it): keep the token in a cookie and drop it from the address bar
        // (and history) by sending the browser to the same URL without it. A wrong token sets
        // nothing: the page loads and the UI finds itself signed out.
        let cookie = format!("{COOKIE}={t}; Path=/; HttpOnly; SameSite=Strict");
        let location = without_token(path, req.uri().query());
        let mut resp =
            (StatusCode::SEE_OTHER, [(header::SET_COOKIE, cookie), (header::LOCATION, location)]).into_response();
        resp.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
        crate::ui::security_headers(resp.headers_mut());
        return resp;
    }
    if is_public(path) || ui {
        return next.run(req).await;
    }
    let mut req = req;
    let mut user = None;
    if let Some(t) = bearer(req.headers()).filter(|t| jobtoken::is_job_token(t)) {
        if let Err(e) = check_job_token(&state, &mut req, &t).await {
            return refuse(req, e).await;
        }
    } else if !token_ok(req.headers(), &state.token) {
        match user_of(&state, req.headers()).await {
            Ok(u) => user = Some(u),
            Err(e) => return refuse(req, e).await,
        }
    }
    let path = req.uri().path();
    if let Some(e) = refused_on_readonly(&state, req.method(), path) {
        return refuse(req, e).await;
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && !is_artifact_path(path)
        && (req.headers().contains_key(header::CONTENT_TYPE) || crate::body::has_body(req.headers()))
        && !crate::body::is_json(req.headers())
    {
        let e = crate::body::not_json(req.headers());
        return refuse(req, e).await;
    }
    match user {
        // A user who is not an admin: the permission check, before any handler runs.
        Some(u) if !u.admin => match access::authorize(&state, u, req).await {
            Ok((mut req, caller, after)) => {
                req.extensions_mut().insert(caller);
                let resp = next.run(req).await;
                if resp.status().is_success() {
                    access::finish(&state, after).await;
                }
                resp
            }
            Err((req, e)) => refuse(req, e).await,
        },
        Some(u) => {
            req.extensions_mut().insert(Caller { user: Some(u), readable: None });
            next.run(req).await
        }
        None => {
            if req.extensions().get::<JobScope>().is_none() {
                req.extensions_mut().insert(Caller::server());
            }
            next.run(req).await
        }
    }
}

/// The user whose token (bearer, the UI's cookie, or the password of HTTP basic auth, as the
/// `mlflow` client sends `MLFLOW_TRACKING_USERNAME`/`PASSWORD`) the request carries, looked up
/// by its hash now: no answer is kept past this request, so a token revoked, expired or whose
/// user was removed is refused at once by every replica.
async fn user_of(state: &Arc<AppState>, headers: &HeaderMap) -> Result<UserInfo, ApiError> {
    let unauthenticated = |msg: String| ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", msg);
    let basic = basic_auth(headers);
    let presented =
        bearer(headers).or_else(|| cookie_token(headers)).or_else(|| basic.as_ref().map(|(_, p)| p.clone()));
    let Some(token) = presented.filter(|t| !t.is_empty()) else {
        return Err(unauthenticated(
            "missing access token: send `Authorization: Bearer <token>` (the token `trackbench serve` printed, \
             TRACKBENCH_TOKEN, or a user's token from `trackbench tokens create`)"
                .to_string(),
        ));
    };
    if !token.starts_with(TOKEN_PREFIX) {
        return Err(unauthenticated("wrong access token: it is neither this server's token nor a user's".to_string()));
    }
    if !is_token_shaped(&token) {
        return Err(unauthenticated(format!(
            "malformed user token: a user token is `{TOKEN_PREFIX}` and 64 hex digits, as `trackbench tokens create` printed it"
        )));
    }
    let hash = token_hash(&token);
    let checked = state.read(move |st| Ok(st.check_token_hash(&hash)?)).await?;
    let user = match checked {
        TokenCheck::Valid { user, .. } => user,
        TokenCheck::Revoked => return Err(unauthenticated("this token was revoked".to_string())),
        TokenCheck::Expired => return Err(unauthenticated("this token has expired: make a new one".to_string())),
        TokenCheck::Unknown => {
            return Err(unauthenticated("unknown token (never made here, or its user was removed)".to_string()));
        }
    };
    if let Some((name, _)) = basic.filter(|(n, _)| !n.is_empty())
        && name != user.name
    {
        return Err(unauthenticated(format!("this token is not user `{name}`'s")));
    }
    Ok(user)
}

/// True when `token` is a user's token, well formed, neither revoked nor expired.
async fn live_user_token(state: &Arc<AppState>, token: &str) -> bool {
    if !token.starts_with(TOKEN_PREFIX) || !is_token_shaped(token) {
        return false;
    }
    let hash = token_hash(token);
    matches!(state.read(move |st| Ok(st.check_token_hash(&hash)?)).await, Ok(TokenCheck::Valid { .. }))
}

/// The `trackbench_token` cookie's value.
fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(COOKIE).and_then(|r| r.strip_prefix('=')).map(str::to_string))
}

/// `Authorization: Basic …` as (user name, password).
fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic "))?;
    let decoded = String::from_utf8(base64_decode(encoded.trim())?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// Standard base64 (padding optional); `None` on anything else.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Paths whose writes take raw bytes (artifact uploads), not JSON: the native
/// `/api/v1/runs/ID/artifacts/PATH` and the `mlflow-artifacts` proxy.
fn is_artifact_path(path: &str) -> bool {
    let native = path
        .strip_prefix("/api/v1/runs/")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(_, rest)| rest.starts_with("artifacts/"));
    let mlflow = ["/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow-artifacts/"].iter().any(|p| path.starts_with(p));
    native || mlflow
}

/// Answers a refused request after reading (a bounded part of) its body, so a client still
/// sending sees the answer rather than a reset connection.
async fn refuse(req: Request, e: ApiError) -> Response {
    crate::body::drain_then(req, e, 1 << 20).await.into_response()
}

/// `path?query` with every `token=` parameter removed (the others kept, in order).
fn without_token(path: &str, query: Option<&str>) -> String {
    let rest: Vec<&str> = query
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("token=") && *kv != "token")
        .collect();
    if rest.is_empty() { path.to_string() } else { format!("{path}?{}", rest.join("&")) }
}

fn query_token(query: Option<&str>) -> Option<&str> {
    query?.split('&').find_map(|kv| kv.strip_prefix("token="))
}

pub(crate) fn token_ok(headers: &HeaderMap, token: &str) -> bool {
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
        assert_eq!(without_token("/", Some("token=zz")), "/");
        assert_eq!(without_token("/compare", Some("runs=a,b&token=zz&x=1")), "/compare?runs=a,b&x=1");
        assert_eq!(without_token("/p/x", None), "/p/x");
    }

    #[test]
    fn artifact_paths_take_raw_bytes() {
        assert!(is_artifact_path("/api/v1/runs/abc/artifacts/model.bin"));
        assert!(is_artifact_path("/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/x"));
        assert!(is_artifact_path("/ajax-api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/x"));
        assert!(!is_artifact_path("/api/v1/runs/abc/batch"));
        assert!(!is_artifact_path("/api/v1/runs/abc/artifacts"));
        assert!(!is_artifact_path("/api/v1/runs/artifacts/x"));
        assert!(!is_artifact_path("/api/2.0/mlflow/runs/log-batch"));
    }

    #[test]
    fn basic_auth_carries_a_name_and_a_token() {
        let mut h = HeaderMap::new();
        // base64("ana:tbu_x")
        h.insert(header::AUTHORIZATION, "Basic YW5hOnRidV94".parse().unwrap());
        assert_eq!(basic_auth(&h), Some(("ana".to_string(), "tbu_x".to_string())));
        assert_eq!(base64_decode("aGk="), Some(b"hi".to_vec()));
        assert_eq!(base64_decode("a*"), None);
    }
}
