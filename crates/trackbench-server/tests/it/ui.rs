//! The web UI routes against the real server: the shell at `/` and at deep links, its headers,
//! the login redirect that moves the token into a cookie, API 404s staying JSON, and paths
//! that try to climb out of the embedded table. Written to pass whether or not `ui/dist`
//! existed when the server was built (the table itself is unit-tested in `src/ui.rs`).

use std::io::{Read, Write};

use crate::util::{Api, Server, read};

fn no_redirects() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into()
}

/// GET without a token: (status, headers, body).
fn get_public(s: &Server, path: &str) -> (u16, ureq::http::HeaderMap, String) {
    let mut resp = no_redirects().get(s.url(path)).call().expect("GET");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.body_mut().read_to_string().unwrap_or_default())
}

/// Sends `path` byte for byte (no client-side normalisation of `..`): (status, body).
fn raw_get(s: &Server, path: &str) -> (u16, String) {
    let hostport = s.base.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(hostport).expect("connect");
    write!(conn, "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = Vec::new();
    conn.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

#[test]
fn the_shell_is_served_at_the_root_and_at_deep_links() {
    let s = Server::start();
    let (st, h, root) = get_public(&s, "/");
    assert_eq!(st, 200, "the UI needs no token");
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"), "{h:?}");
    assert_eq!(h["cache-control"], "no-cache");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert!(root.contains("<html"), "{root}");
    if !root.contains("type=\"module\"") {
        assert!(root.contains("cargo xtask ui"), "the page of a build without the UI says how to build it");
    }
    for deep in ["/p/myproject", "/runs/0123abcd", "/compare?runs=a,b", "/launch", "/ab/xyz"] {
        let (st, h, body) = get_public(&s, deep);
        assert_eq!((st, body.as_str()), (200, root.as_str()), "{deep}");
        assert!(h["content-type"].to_str().unwrap().starts_with("text/html"));
    }
    let (st, _, _) = get_public(&s, "/assets/no-such-file-1234.js");
    assert_eq!(st, 404, "a missing asset is not the HTML shell");
    // The Host check applies to the UI too.
    let resp = no_redirects().get(s.url("/")).header("Host", "evil.example").call().unwrap();
    assert_eq!(resp.status(), 403);
}

#[test]
fn the_login_url_moves_the_token_into_a_cookie() {
    let s = Server::start();
    let agent = no_redirects();
    let resp = agent.get(s.url(&format!("/compare?runs=a,b&token={}&x=1", s.token))).call().unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/compare?runs=a,b&x=1", "the token leaves the address bar");
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let pair = cookie.split(';').next().unwrap();
    let (st, _) = read(agent.get(s.url("/api/v1/runs")).header("Cookie", pair).call().unwrap());
    assert_eq!(st, 200, "the cookie opens the API");
    let resp = agent.get(s.url(&format!("/?token={}", s.token))).call().unwrap();
    assert_eq!((resp.status().as_u16(), resp.headers()["location"].to_str().unwrap()), (303, "/"));

    // A wrong token: no cookie, the page still loads (and its API calls will 401).
    let (st, h, _) = get_public(&s, "/runs/x?token=wrong");
    assert_eq!(st, 200);
    assert!(h.get("set-cookie").is_none());
    // A token in an API URL is not a credential and sets nothing.
    let resp = agent.get(s.url(&format!("/api/v1/runs?token={}", s.token))).call().unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().get("set-cookie").is_none());
}

#[test]
fn unknown_api_paths_stay_json_404s() {
    let s = Server::start();
    let (st, e) = s.get("/api/v1/no-such-endpoint");
    assert_eq!((st, e["error_code"].as_str()), (404, Some("RESOURCE_DOES_NOT_EXIST")), "{e}");
    let (st, e) = s.get("/ajax-api/nothing/here");
    assert_eq!((st, e["error_code"].as_str()), (404, Some("RESOURCE_DOES_NOT_EXIST")), "{e}");
    let (st, _, _) = get_public(&s, "/api/v1/no-such-endpoint");
    assert_eq!(st, 401, "API paths keep needing the token, even unknown ones");
    let (st, _) = s.post("/some/ui/path", "{}");
    assert_eq!(st, 405, "the UI answers GET only");
}

#[test]
fn static_paths_never_leave_the_embedded_table() {
    let s = Server::start();
    let (_, root) = raw_get(&s, "/");
    for bad in [
        "/assets/../../Cargo.toml",
        "/assets/../../../Cargo.toml",
        "/../../Cargo.toml",
        "/assets/%2e%2e/%2e%2e/Cargo.toml",
        "/assets/%2E%2E%2F%2E%2E%2FCargo.toml",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/assets/..%5c..%5cCargo.toml",
        "/assets/%00",
        "/crates/trackbench-server/Cargo.toml",
        "/src/lib.rs",
    ] {
        let (st, body) = raw_get(&s, bad);
        assert!(st == 400 || st == 404 || (st == 200 && body == root), "{bad}: {st} {body}");
        assert!(!body.contains("[package]") && !body.contains("root:"), "{bad} leaked a file: {body}");
    }
}
