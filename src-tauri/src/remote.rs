//! A team server shown instead of the embedded one (File > Connect to a Team Server…, or
//! `trackbench ui --server URL`, which starts the app with `--server URL --token-stdin` and the
//! token on its standard input, never in argv or the environment).
//!
//! Connecting checks the token with the server's `whoami`, puts it in the webview's
//! `trackbench_token` cookie for that server (what the server's own login URL would set; done
//! here so a user's token works whatever the server's login URL accepts), then shows the
//! server's UI; the embedded server stops. A connection made from the menu is remembered in
//! `team-server.toml` in the app's config folder (mode 0600 in a 0700 folder, the format of the
//! CLI's `login.toml`), and the app reconnects to it when started without `--store`; File > Use
//! the Local Store forgets it and serves the local store again. The local store stays the
//! default: nothing is remembered until the user connects.
//!
//! The dialog is two `prompt()`s in the page (Tauri has no native text-input dialog); the
//! answer comes back as a navigation to [`ANSWER_URL`] that the window's navigation hook
//! swallows (never loaded), and only with the one-time nonce of the dialog the menu opened.

use std::path::{Path, PathBuf};

use trackbench_sdk::login::{Login, read_login, remove_login, write_login};

/// Where the dialog's answer is sent (a reserved name: `.invalid` never resolves).
pub const ANSWER_URL: &str = "http://trackbench-desktop.invalid/connect";

/// The remembered team server's file in the app's config folder.
pub fn config_file(config_dir: &Path) -> PathBuf {
    config_dir.join("team-server.toml")
}

/// The remembered team server, if any.
pub fn remembered(config_dir: &Path) -> Option<Login> {
    read_login(&config_file(config_dir))
}

/// Remembers `login` (mode 0600, its folder 0700).
pub fn remember(config_dir: &Path, login: &Login) -> std::io::Result<()> {
    write_login(&config_file(config_dir), login)
}

/// Forgets the remembered team server (none is fine).
pub fn forget(config_dir: &Path) -> std::io::Result<()> {
    remove_login(&config_file(config_dir)).map(drop)
}

/// A URL and token as typed: trimmed, the URL without a trailing `/`, http(s) with a host.
pub fn parse(url: &str, token: &str) -> Result<Login, String> {
    let url = url.trim().trim_end_matches('/').to_string();
    let token = token.trim().to_string();
    let parsed = tauri::Url::parse(&url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{url}` is not an http:// or https:// server address"));
    }
    if token.is_empty() {
        return Err("no token given (a user's `tbu_…` token from `trackbench tokens create`)".to_string());
    }
    if token.chars().any(|c| c.is_control() || c == ';' || c == ' ') {
        return Err("the token has characters no token has".to_string());
    }
    Ok(Login { url, token })
}

/// The `Set-Cookie`-style line that signs the webview in to `login.url` (host-only, the
/// server's own cookie name and attributes; `Secure` over https).
pub fn cookie_line(login: &Login) -> Result<String, String> {
    let url = tauri::Url::parse(&login.url).map_err(|e| e.to_string())?;
    let host = url.host_str().ok_or("no host")?;
    let secure = if url.scheme() == "https" { "; Secure" } else { "" };
    Ok(format!("trackbench_token={}; Domain={host}; Path=/; HttpOnly; SameSite=Strict{secure}", login.token))
}

/// The page script of the Connect dialog: asks for the URL (`suggested` filled in) and the
/// token, then sends both with `nonce` to [`ANSWER_URL`].
pub fn dialog_script(nonce: &str, suggested: &str) -> String {
    let js = |s: &str| {
        let mut out = String::from("'");
        for c in s.chars() {
            match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | ':' | '/' | '.' | '-' | '_' | ' ' => out.push(c),
                c => out.extend(c.encode_utf16(&mut [0; 2]).iter().map(|u| format!("\\u{u:04x}"))),
            }
        }
        out.push('\'');
        out
    };
    format!(
        "(() => {{ const u = prompt('Team server URL (http://HOST:PORT)', {suggested}); if (!u) return; \
         const t = prompt('Your token for ' + u + ' (from trackbench tokens create)', ''); if (!t) return; \
         const q = new URLSearchParams({{ nonce: {nonce}, url: u, token: t }}); location.href = {answer} + '?' + q; }})()",
        suggested = js(suggested),
        nonce = js(nonce),
        answer = js(ANSWER_URL),
    )
}

/// A navigation to [`ANSWER_URL`]: `None` for any other URL (loaded as usual), else the typed
/// server, or why it is refused (a stale or forged nonce included).
pub fn answer(url: &tauri::Url, nonce: Option<&str>) -> Option<Result<Login, String>> {
    let base = tauri::Url::parse(ANSWER_URL).ok()?;
    if url.scheme() != base.scheme() || url.host_str() != base.host_str() {
        return None;
    }
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    let expected = nonce.filter(|n| !n.is_empty());
    if expected.is_none() || q.get("nonce").map(String::as_str) != expected {
        return Some(Err("a connect request the app's dialog did not make was ignored".to_string()));
    }
    Some(parse(q.get("url").map_or("", String::as_str), q.get("token").map_or("", String::as_str)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_servers_are_checked_and_normalized() {
        let ok = |u: &str, t: &str| parse(u, t).map(|l| (l.url, l.token));
        assert_eq!(ok(" http://tb:5005/ ", " tbu_1\n"), Ok(("http://tb:5005".into(), "tbu_1".into())));
        assert_eq!(ok("https://tb.example", "t"), Ok(("https://tb.example".into(), "t".into())));
        assert!(ok("tb:5005", "t").unwrap_err().contains("http"));
        assert!(ok("file:///etc", "t").unwrap_err().contains("http"));
        assert!(ok("http://tb", " ").unwrap_err().contains("no token"));
        assert!(ok("http://tb", "a;b").is_err());
    }

    #[test]
    fn the_cookie_is_the_servers_own_for_that_host() {
        let l = |u: &str| Login { url: u.into(), token: "tbu_x".into() };
        assert_eq!(
            cookie_line(&l("http://127.0.0.1:5005")).unwrap(),
            "trackbench_token=tbu_x; Domain=127.0.0.1; Path=/; HttpOnly; SameSite=Strict"
        );
        assert!(cookie_line(&l("https://tb.example")).unwrap().ends_with("; Secure"));
    }

    #[test]
    fn only_the_dialogs_own_answer_is_taken() {
        let url = |q: &str| tauri::Url::parse(&format!("{ANSWER_URL}?{q}")).unwrap();
        let a = url("nonce=n1&url=http%3A%2F%2Ftb%3A5005%2F&token=tbu_1");
        let login = answer(&a, Some("n1")).unwrap().unwrap();
        assert_eq!((login.url.as_str(), login.token.as_str()), ("http://tb:5005", "tbu_1"));
        assert!(answer(&a, Some("n2")).unwrap().is_err(), "another dialog's nonce");
        assert!(answer(&a, None).unwrap().is_err(), "no dialog open");
        assert!(answer(&url("url=http%3A%2F%2Ftb&token=t"), Some("n1")).unwrap().is_err(), "no nonce");
        assert!(answer(&tauri::Url::parse("http://127.0.0.1:5005/p/demo").unwrap(), Some("n1")).is_none());
        // The script carries the nonce and sends to the answer URL.
        let js = dialog_script("n1", "http://tb:5005");
        assert!(
            js.contains("'n1'") && js.contains("'http://tb:5005'") && js.contains(ANSWER_URL) && js.contains("prompt("),
            "{js}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_remembered_server_is_private_and_forgotten_on_request() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("trackbench-desktop-remote-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(remembered(&dir), None);
        let login = Login { url: "http://tb:5005".into(), token: "tbu_1".into() };
        remember(&dir, &login).unwrap();
        assert_eq!(remembered(&dir), Some(login));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&config_file(&dir)), 0o600);
        assert_eq!(mode(&dir), 0o700);
        forget(&dir).unwrap();
        assert_eq!(remembered(&dir), None);
        forget(&dir).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
