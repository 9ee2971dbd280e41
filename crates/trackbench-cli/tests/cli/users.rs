//! `users`, `tokens`, `projects grant|revoke|default` against a store folder, and `login`,
//! `whoami`, `logout` against a real `trackbench serve` on it: the token printed once and never
//! listed, the login file private to the user, a refused token never kept.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::util::{Env, Served};

/// `trackbench ARGS` with `HOME` and the store in `env`'s folder, and `vars`.
fn run(env: &Env, args: &[&str], vars: &[(&str, &str)], stdin: Option<&str>) -> (i32, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trackbench"));
    c.args(args).env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
    c.env("TRACKBENCH_DIR", env.store()).env("HOME", env.store()).envs(vars.iter().copied());
    c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().expect("trackbench");
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn serve(env: &Env) -> Served {
    crate::util::serve(env.store(), "server-token-0123456789")
}

#[test]
fn accounts_tokens_and_grants_are_kept_in_the_store() {
    let env = Env::new();
    env.ok(&["users", "add", "ana"]);
    env.ok(&["users", "add", "root", "--admin"]);
    assert_eq!(env.cmd(&["users", "add", "ana"]).code, 1, "a second ana");
    assert_eq!(env.cmd(&["users", "add", "a b"]).code, 2, "a bad name");
    let users = env.ok(&["users", "ls", "--json"]).json();
    assert_eq!(
        users.as_array().unwrap().iter().map(|u| (u["name"].clone(), u["admin"].clone())).collect::<Vec<_>>(),
        [("ana".into(), false.into()), ("root".into(), true.into())]
    );
    let created = env.ok(&["tokens", "create", "ana", "--expires", "30"]);
    let secret = created.stdout.trim();
    assert!(secret.starts_with("tbu_") && secret.len() == 68, "{secret}");
    assert!(created.stderr.contains("shown once"), "{}", created.stderr);
    let listed = env.ok(&["tokens", "ls", "--json"]);
    assert!(!listed.stdout.contains(&secret[4..]), "a listing never shows the secret");
    assert_eq!(listed.json()[0]["user"], "ana");
    assert_eq!(env.cmd(&["tokens", "create", "nobody"]).code, 4);
    assert_eq!(env.cmd(&["tokens", "create", "ana", "--expires", "-1"]).code, 2);
    env.log_run("vision", "r", 0.1, &[0.5]);
    env.ok(&["projects", "grant", "vision", "ana", "edit"]);
    assert_eq!(env.cmd(&["projects", "grant", "nope", "ana", "read"]).code, 4);
    assert_eq!(env.cmd(&["projects", "grant", "vision", "ana", "owner"]).code, 2);
    let grants = env.ok(&["projects", "grants", "--json"]).json();
    assert_eq!((grants[0]["project"].clone(), grants[0]["permission"].clone()), ("vision".into(), "EDIT".into()));
    assert_eq!(env.ok(&["projects", "default"]).stdout.trim(), "NONE");
    assert_eq!(env.ok(&["projects", "default", "read"]).stdout.trim(), "READ");
    env.ok(&["projects", "revoke", "vision", "ana"]);
    assert_eq!(env.ok(&["projects", "grants", "--json"]).json(), serde_json::json!([]));
    env.ok(&["tokens", "revoke", "1"]);
    assert!(env.ok(&["tokens", "ls"]).stdout.contains("revoked"));
    env.ok(&["users", "rm", "ana"]);
    assert_eq!(env.cmd(&["users", "rm", "ana"]).code, 4);
}

#[cfg(unix)]
#[test]
fn login_keeps_a_checked_token_privately_and_whoami_asks_the_server() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.log_run("vision", "r", 0.1, &[0.5]);
    env.ok(&["users", "add", "ana"]);
    env.ok(&["projects", "grant", "vision", "ana", "read"]);
    let token = env.ok(&["tokens", "create", "ana"]).stdout.trim().to_string();
    let server = serve(&env);
    let file = env.store().join(".config/trackbench/login.toml");

    // A refused token is never kept.
    let (code, _, err) = run(&env, &["login", &server.url, "--token", "tbu_wrong"], &[], None);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("401") && err.contains("malformed"), "{err}");
    assert!(!file.exists());

    // The token from stdin, checked with the server, kept 0600 in a 0700 folder.
    let (code, _, err) = run(&env, &["login", &format!("{}/", server.url)], &[], Some(&format!("{token}\n")));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("as ana"), "{err}");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(file.parent().unwrap()), 0o700);
    let (code, out, err) = run(&env, &["whoami"], &[], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ana on") && out.contains("vision") && out.contains("READ"), "{out}");
    // TRACKBENCH_TOKEN overrides the kept token.
    let (_, out, _) = run(&env, &["whoami", "--json"], &[("TRACKBENCH_TOKEN", "server-token-0123456789")], None);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&out).unwrap()["admin"], true, "{out}");
    // XDG_CONFIG_HOME moves the file.
    let xdg = env.store().join("xdg");
    let (code, _, err) =
        run(&env, &["login", &server.url, "--token", &token], &[("XDG_CONFIG_HOME", xdg.to_str().unwrap())], None);
    assert_eq!(code, 0, "{err}");
    assert!(xdg.join("trackbench/login.toml").exists());

    // A revoked token: whoami says why.
    env.ok(&["tokens", "revoke", "1"]);
    let (code, _, err) = run(&env, &["whoami"], &[], None);
    assert_eq!(code, 1);
    assert!(err.contains("revoked"), "{err}");
    let (code, _, err) = run(&env, &["logout"], &[], None);
    assert_eq!(code, 0, "{err}");
    assert!(!file.exists());
    let (code, _, err) = run(&env, &["whoami"], &[], None);
    assert_eq!(code, 1);
    assert!(err.contains("not logged in"), "{err}");
}
