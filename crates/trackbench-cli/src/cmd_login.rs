//! `trackbench login URL [--token T]`, `logout` and `whoami`: the team server this user works
//! with, kept by the SDK's `login` module (a 0600 `login.toml` in the user's config folder),
//! where the CLI and the SDKs find it; `TRACKBENCH_URL` / `TRACKBENCH_TOKEN` override it.

use std::io::{BufRead, IsTerminal, Write};

use clap::Args;
use trackbench_sdk::login::{self, Login};

use crate::output;

#[derive(Args)]
pub struct LoginArgs {
    /// The server's URL (http://HOST:PORT)
    url: String,
    /// The token (`trackbench tokens create USER` printed it); read from stdin when left out
    #[arg(long)]
    token: Option<String>,
}

fn path() -> anyhow::Result<std::path::PathBuf> {
    login::login_path().ok_or_else(|| anyhow::anyhow!("no config folder: set HOME or XDG_CONFIG_HOME"))
}

pub fn login(args: LoginArgs) -> anyhow::Result<()> {
    let url = args.url.trim().trim_end_matches('/').to_string();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(trackbench_store::StoreError::Invalid {
            what: "server URL",
            why: format!("`{url}`: give http://HOST:PORT or https://…"),
        }
        .into());
    }
    let token = match args.token {
        Some(t) => t,
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprint!("Token for {url}: ");
                std::io::stderr().flush()?;
            }
            let mut line = String::new();
            stdin.lock().read_line(&mut line)?;
            line
        }
    };
    let token = token.trim().to_string();
    if token.is_empty() {
        anyhow::bail!("no token given: pass --token or type it on stdin");
    }
    let who = login::whoami(&url, &token).map_err(|e| anyhow::anyhow!("the server refused the login: {e}"))?;
    let path = path()?;
    login::write_login(&path, &Login { url: url.clone(), token })?;
    eprintln!("logged in to {url} as {} (kept in {})", describe(&who), path.display());
    Ok(())
}

pub fn logout() -> anyhow::Result<()> {
    let path = path()?;
    if login::remove_login(&path)? {
        eprintln!("logged out (removed {})", path.display());
    } else {
        eprintln!("not logged in ({} does not exist)", path.display());
    }
    Ok(())
}

fn describe(who: &serde_json::Value) -> String {
    let admin = who["admin"].as_bool().unwrap_or(false);
    match who["user"].as_str() {
        Some(u) => format!("{}{}", output::escape(u), if admin { " (admin)" } else { "" }),
        None => "the server's own token (admin)".to_string(),
    }
}

pub fn whoami(json: bool) -> anyhow::Result<()> {
    let Some((url, token)) = login::env_or_login() else {
        anyhow::bail!("not logged in: run `trackbench login URL` (or set TRACKBENCH_URL and TRACKBENCH_TOKEN)");
    };
    let token = token.unwrap_or_default();
    let who = login::whoami(&url, &token).map_err(anyhow::Error::msg)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&who)?);
        return Ok(());
    }
    println!("{} on {url}", describe(&who));
    let rows: Vec<Vec<String>> = who["projects"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(p, perm)| vec![output::escape(p).into_owned(), perm.as_str().unwrap_or("").to_string()])
                .collect()
        })
        .unwrap_or_default();
    print!("{}", output::table(&["PROJECT", "PERMISSION"], &rows));
    Ok(())
}
