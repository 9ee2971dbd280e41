//! The server a user logged in to (`trackbench login URL`): its URL and the user's token,
//! kept in `login.toml` in the user's config folder (`$XDG_CONFIG_HOME/trackbench/`, else
//! `~/.config/trackbench/`; the file mode 0600, its folder 0700, as the token is a password),
//! and `whoami`, the server's answer to who a token is.
//!
//! `TRACKBENCH_URL` / `TRACKBENCH_TOKEN` override the file ([`env_or_login`]), so a job or a
//! CI step can point elsewhere without touching it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A server and the token to reach it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub url: String,
    pub token: String,
}

/// Where the login is kept: `CONFIG/trackbench/login.toml`, `CONFIG` being `config_home`
/// (`$XDG_CONFIG_HOME`) when set and absolute, else `home/.config`.
pub fn login_path_in(config_home: Option<&Path>, home: Option<&Path>) -> Option<PathBuf> {
    let base = match config_home.filter(|p| p.is_absolute()) {
        Some(c) => c.to_path_buf(),
        None => home?.join(".config"),
    };
    Some(base.join("trackbench").join("login.toml"))
}

/// [`login_path_in`] for this user (`XDG_CONFIG_HOME`, `HOME`).
pub fn login_path() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from);
    login_path_in(xdg.as_deref(), dirs::home_dir().as_deref())
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn unquote(s: &str) -> Option<String> {
    let inner = s.trim().strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// The file's text for `login`.
pub fn format_login(login: &Login) -> String {
    format!(
        "# Written by `trackbench login`; `trackbench logout` removes it.\nurl = {}\ntoken = {}\n",
        quote(&login.url),
        quote(&login.token)
    )
}

/// Reads `url = "…"` and `token = "…"`; `None` when either is missing or malformed.
pub fn parse_login(text: &str) -> Option<Login> {
    let (mut url, mut token) = (None, None);
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (k, v) = line.split_once('=')?;
        match k.trim() {
            "url" => url = Some(unquote(v)?),
            "token" => token = Some(unquote(v)?),
            _ => {}
        }
    }
    Some(Login { url: url?, token: token? })
}

/// The login kept at `path`, if any.
pub fn read_login(path: &Path) -> Option<Login> {
    parse_login(&std::fs::read_to_string(path).ok()?)
}

/// Keeps `login` at `path`: the folder made 0700, the file written 0600 (never readable by
/// others, not even for a moment) and replaced whole.
pub fn write_login(path: &Path, login: &Login) -> std::io::Result<()> {
    let dir = path.parent().ok_or_else(|| std::io::Error::other("the login file has no folder"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(".login.toml.tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        let _ = std::fs::remove_file(&tmp);
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        f.write_all(format_login(login).as_bytes())?;
        f.sync_all()?;
    }
    #[cfg(not(unix))]
    std::fs::write(&tmp, format_login(login))?;
    std::fs::rename(&tmp, path)
}

/// Removes the login at `path`; false when there was none.
pub fn remove_login(path: &Path) -> std::io::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// The server and token to use: `env_url` (with `env_token`) when set, else the login with
/// `env_token` overriding its token.
pub fn resolve(
    env_url: Option<String>,
    env_token: Option<String>,
    login: Option<Login>,
) -> Option<(String, Option<String>)> {
    let env_url = env_url.filter(|u| !u.trim().is_empty());
    let env_token = env_token.filter(|t| !t.is_empty());
    match (env_url, login) {
        (Some(url), _) => Some((url, env_token)),
        (None, Some(l)) => Some((l.url, env_token.or(Some(l.token)))),
        (None, None) => None,
    }
}

/// `TRACKBENCH_URL` / `TRACKBENCH_TOKEN` over the login file: the server this user logs to.
pub fn env_or_login() -> Option<(String, Option<String>)> {
    let login = login_path().and_then(|p| read_login(&p));
    resolve(std::env::var("TRACKBENCH_URL").ok(), std::env::var("TRACKBENCH_TOKEN").ok(), login)
}

/// Asks the server at `url` who `token` is (`GET /api/v1/whoami`): `{"user", "admin",
/// "projects"}`. A refused token is an error with the server's message.
pub fn whoami(url: &str, token: &str) -> Result<serde_json::Value, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let target = format!("{}/api/v1/whoami", url.trim_end_matches('/'));
    let mut resp = agent
        .get(&target)
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .map_err(|e| format!("could not reach {target}: {e}"))?;
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    if status == 200 {
        return Ok(body);
    }
    let msg = body.get("message").and_then(|m| m.as_str()).map(str::to_string).unwrap_or(text);
    Err(format!("{target} answered {status}: {msg}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_round_trips_and_env_overrides_it() {
        let l = Login { url: "http://h:5005".into(), token: "tbu_\"odd\\\u{1}".into() };
        assert_eq!(parse_login(&format_login(&l)), Some(l.clone()));
        assert_eq!(parse_login("url = \"x\""), None);
        assert_eq!(
            login_path_in(Some(Path::new("/c")), Some(Path::new("/h"))),
            Some(PathBuf::from("/c/trackbench/login.toml"))
        );
        assert_eq!(
            login_path_in(Some(Path::new("rel")), Some(Path::new("/h"))),
            Some(PathBuf::from("/h/.config/trackbench/login.toml"))
        );
        assert_eq!(resolve(None, None, Some(l.clone())), Some((l.url.clone(), Some(l.token.clone()))));
        assert_eq!(resolve(None, Some("t2".into()), Some(l.clone())), Some((l.url.clone(), Some("t2".into()))));
        assert_eq!(resolve(Some("http://e".into()), None, Some(l)), Some(("http://e".into(), None)));
        assert_eq!(resolve(Some(" ".into()), None, None), None);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cfg").join("trackbench").join("login.toml");
        let l = Login { url: "http://h".into(), token: "t".into() };
        write_login(&path, &l).unwrap();
        write_login(&path, &l).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(read_login(&path), Some(l));
        assert!(remove_login(&path).unwrap());
        assert!(!remove_login(&path).unwrap());
    }
}
