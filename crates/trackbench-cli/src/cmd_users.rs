//! `trackbench users add|ls|rm`, `tokens create|ls|revoke` and `projects grant|revoke|default`:
//! the team's accounts and who may do what, run against a store (a folder or a team store's
//! database) by whoever holds it, i.e. its admin. A token's secret is printed once, on
//! creation, and never stored (the store keeps its hash).

use clap::{Subcommand, ValueEnum};
use trackbench_store::backend_access::token_hash;
use trackbench_store::{Backend, Permission};

use crate::{Ctx, output};

#[derive(Subcommand)]
pub enum UsersCmd {
    /// Add a user (an admin may do everything, on every project)
    Add {
        name: String,
        #[arg(long)]
        admin: bool,
    },
    /// List users
    Ls {
        #[arg(long)]
        json: bool,
    },
    /// Remove a user with their tokens (refused at once) and permissions; their runs keep their owner tag
    Rm { name: String },
}

#[derive(Subcommand)]
pub enum TokensCmd {
    /// Make an API token for USER and print it (once: only its hash is kept)
    Create {
        user: String,
        /// Expire after this many days (fractions allowed); never when left out
        #[arg(long, value_name = "DAYS")]
        expires: Option<f64>,
    },
    /// List tokens (never their secrets)
    Ls {
        /// Only this user's
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by its id (refused at once by every server on this store)
    Revoke { id: i64 },
}

/// A permission as the command line names it.
#[derive(Clone, Copy, ValueEnum)]
pub enum Level {
    Read,
    Edit,
    Manage,
}

impl From<Level> for Permission {
    fn from(l: Level) -> Permission {
        match l {
            Level::Read => Permission::Read,
            Level::Edit => Permission::Edit,
            Level::Manage => Permission::Manage,
        }
    }
}

/// The default permission, or none.
#[derive(Clone, Copy, ValueEnum)]
pub enum DefaultLevel {
    None,
    Read,
    Edit,
    Manage,
}

/// `projects grant|revoke|default|grants`.
pub enum AccessCmd {
    Grant { project: String, user: String, level: Level },
    Revoke { project: String, user: String },
    Default { level: Option<DefaultLevel> },
    Grants { project: Option<String>, json: bool },
}

pub fn users(ctx: &Ctx, cmd: UsersCmd) -> anyhow::Result<()> {
    let mut store = ctx.open()?;
    match cmd {
        UsersCmd::Add { name, admin } => {
            let u = store.create_user(&name, admin)?;
            eprintln!(
                "added user {}{}; make them a token with `trackbench tokens create {}`",
                u.name,
                if u.admin { " (admin)" } else { "" },
                u.name
            );
        }
        UsersCmd::Ls { json } => {
            let users = store.list_users()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&users)?);
            } else {
                let rows: Vec<Vec<String>> = users
                    .iter()
                    .map(|u| vec![u.name.clone(), if u.admin { "yes" } else { "" }.into(), output::time(u.created_ms)])
                    .collect();
                print!("{}", output::table(&["USER", "ADMIN", "CREATED (UTC)"], &rows));
            }
        }
        UsersCmd::Rm { name } => {
            store.remove_user(&name)?;
            eprintln!("removed user {name}, their tokens and their permissions");
        }
    }
    Ok(())
}

pub fn tokens(ctx: &Ctx, cmd: TokensCmd) -> anyhow::Result<()> {
    let mut store = ctx.open()?;
    match cmd {
        TokensCmd::Create { user, expires } => {
            let expires_ms = match expires {
                Some(d) if !(d > 0.0 && d <= 36_500.0) => {
                    return Err(trackbench_store::StoreError::Invalid {
                        what: "--expires",
                        why: format!("{d} days: give a number of days above 0 and at most 36500"),
                    }
                    .into());
                }
                Some(d) => Some(store.now() + (d * 86_400_000.0) as i64),
                None => None,
            };
            let secret = trackbench_server::access::new_user_token();
            let t = store.add_token(&user, &token_hash(&secret), expires_ms)?;
            println!("{secret}");
            let until = t.expires_ms.map(|e| format!(", expires {} UTC", output::time(e))).unwrap_or_default();
            eprintln!(
                "token {} for user {}{until}: shown once, keep it now (`trackbench login URL` stores it; \
                 `trackbench tokens revoke {}` ends it)",
                t.id, t.user, t.id
            );
        }
        TokensCmd::Ls { user, json } => {
            let tokens = store.list_tokens(user.as_deref())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&tokens)?);
            } else {
                let now = store.now();
                let rows: Vec<Vec<String>> = tokens
                    .iter()
                    .map(|t| {
                        let state = if t.revoked_ms.is_some() {
                            "revoked"
                        } else if t.expires_ms.is_some_and(|e| e <= now) {
                            "expired"
                        } else {
                            "live"
                        };
                        vec![
                            t.id.to_string(),
                            t.user.clone(),
                            state.into(),
                            output::time(t.created_ms),
                            t.expires_ms.map(output::time).unwrap_or_default(),
                        ]
                    })
                    .collect();
                print!("{}", output::table(&["ID", "USER", "STATE", "CREATED (UTC)", "EXPIRES (UTC)"], &rows));
            }
        }
        TokensCmd::Revoke { id } => {
            store.revoke_token(id)?;
            eprintln!("revoked token {id}");
        }
    }
    Ok(())
}

pub fn access(ctx: &Ctx, cmd: AccessCmd) -> anyhow::Result<()> {
    let mut store = ctx.open()?;
    let st: &mut dyn Backend = store.as_mut();
    match cmd {
        AccessCmd::Grant { project, user, level } => {
            let p = st.project(&project)?;
            st.grant(p.id, &user, level.into())?;
            eprintln!("{user} now holds {} on {}", Permission::from(level), output::escape(&p.name));
        }
        AccessCmd::Revoke { project, user } => {
            let p = st.project(&project)?;
            let had = st.revoke_grant(p.id, &user)?;
            let default = st.default_permission()?.map_or("nothing".to_string(), |d| d.to_string());
            if had {
                eprintln!(
                    "took {user}'s permission on {} away; they hold the default now ({default})",
                    output::escape(&p.name)
                );
            } else {
                eprintln!(
                    "{user} held no permission of their own on {} (the default applies: {default})",
                    output::escape(&p.name)
                );
            }
        }
        AccessCmd::Default { level } => {
            if let Some(l) = level {
                let p = match l {
                    DefaultLevel::None => None,
                    DefaultLevel::Read => Some(Permission::Read),
                    DefaultLevel::Edit => Some(Permission::Edit),
                    DefaultLevel::Manage => Some(Permission::Manage),
                };
                st.set_default_permission(p)?;
            }
            let now = st.default_permission()?;
            println!("{}", now.map_or("NONE".to_string(), |p| p.to_string()));
        }
        AccessCmd::Grants { project, json } => {
            let id = match &project {
                Some(p) => Some(st.project(p)?.id),
                None => None,
            };
            let grants = st.grants(id)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&grants)?);
            } else {
                let rows: Vec<Vec<String>> = grants
                    .iter()
                    .map(|g| vec![output::escape(&g.project).into_owned(), g.user.clone(), g.permission.to_string()])
                    .collect();
                print!("{}", output::table(&["PROJECT", "USER", "PERMISSION"], &rows));
            }
        }
    }
    Ok(())
}
