//! The backend seam's access part: users (a name and an admin flag), their API tokens (kept
//! only as a BLAKE3 hash of a 256-bit random secret, shown once when made; revocable; an
//! optional expiry) and per-project permissions READ < EDIT < MANAGE (MLflow's basic-auth
//! model), with a default permission for every project a user holds no grant on (a setting,
//! none unless set). One trait every backend implements, so one contract test suite runs
//! against SQLite ([`Store`]) and PostgreSQL (`trackbench-store-pg`).
//!
//! A run's owner is the run tag [`OWNER_TAG`] (the user whose token created it; none for runs
//! made in single-user mode or with the server's own token): a tag travels with the run
//! through copies and every backend alike. The store makes no randomness: a caller makes the
//! secret ([`token_secret`] formats one from its random bytes) and the store keeps its hash.
//!
//! Who may do what with these is the server's and the CLI's concern; the store only records.

use crate::Store;
use crate::backend::RunStore;
use crate::error::{Result, StoreError};
use rusqlite::{OptionalExtension, params};

/// The run tag naming the user whose token created the run.
pub const OWNER_TAG: &str = "trackbench.owner";

/// What every user token starts with (the server's own token and job tokens never do).
pub const TOKEN_PREFIX: &str = "tbu_";

/// A permission on a project; each includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Permission {
    /// See the project and its runs.
    Read,
    /// Also create runs and change them (log, tag, rename, end).
    Edit,
    /// Also delete and restore, grant permissions and launch.
    Manage,
}

impl Permission {
    /// `READ`, `EDIT`, `MANAGE`: how the stores keep it and MLflow names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "READ",
            Permission::Edit => "EDIT",
            Permission::Manage => "MANAGE",
        }
    }

    /// `read`, `edit`, `manage` in any case.
    pub fn parse(s: &str) -> Result<Permission> {
        match s.to_ascii_uppercase().as_str() {
            "READ" => Ok(Permission::Read),
            "EDIT" => Ok(Permission::Edit),
            "MANAGE" => Ok(Permission::Manage),
            _ => Err(StoreError::invalid("permission", format!("{s:?} is not one of read, edit, manage"))),
        }
    }
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserInfo {
    pub id: i64,
    pub name: String,
    pub admin: bool,
    pub created_ms: i64,
}

/// An API token as listed: never its secret, nor its hash.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenInfo {
    /// Ids are never reused.
    pub id: i64,
    pub user: String,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
}

/// What a presented token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCheck {
    /// A live token of `user`.
    Valid {
        user: UserInfo,
        token: i64,
    },
    /// No token has this hash (never made, or its user was removed).
    Unknown,
    Revoked,
    Expired,
}

/// One user's permission on one project.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Grant {
    pub project_id: i64,
    pub project: String,
    pub user: String,
    pub permission: Permission,
}

/// `tbu_` and 64 hex digits of `random` (32 bytes from the OS's random source).
pub fn token_secret(random: &[u8; 32]) -> String {
    let mut s = String::with_capacity(TOKEN_PREFIX.len() + 64);
    s.push_str(TOKEN_PREFIX);
    for b in random {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Whether `token` has a user token's shape (prefix and 64 lowercase hex digits).
pub fn is_token_shaped(token: &str) -> bool {
    token
        .strip_prefix(TOKEN_PREFIX)
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// What the stores keep of a secret: its BLAKE3 hash, hex.
pub fn token_hash(secret: &str) -> String {
    blake3::hash(secret.as_bytes()).to_hex().to_string()
}

/// A user name: 1 to 64 characters of letters, digits, `.`, `_`, `-`, `@`.
pub fn check_user_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::invalid("user name", format!("{name:?}: use 1 to 64 letters, digits, `.`, `_`, `-`, `@`")))
    }
}

/// Turns a token row's times into what the token is at `now`.
pub fn token_state(
    user: UserInfo,
    token: i64,
    expires_ms: Option<i64>,
    revoked_ms: Option<i64>,
    now: i64,
) -> TokenCheck {
    if revoked_ms.is_some() {
        TokenCheck::Revoked
    } else if expires_ms.is_some_and(|e| e <= now) {
        TokenCheck::Expired
    } else {
        TokenCheck::Valid { user, token }
    }
}

fn user_not_found(name: &str) -> StoreError {
    StoreError::NotFound { what: "user", name: name.to_string() }
}

/// Users, their tokens, and who may do what on which project.
pub trait AccessStore: RunStore {
    /// Creates user `name`; an existing name is `AlreadyExists`.
    fn create_user(&mut self, name: &str, admin: bool) -> Result<UserInfo>;
    /// User `name`.
    fn user(&self, name: &str) -> Result<UserInfo>;
    /// Every user, by name.
    fn list_users(&self) -> Result<Vec<UserInfo>>;
    /// Removes user `name` with their tokens (refused at once from then on) and grants; their
    /// runs keep the owner tag.
    fn remove_user(&mut self, name: &str) -> Result<()>;
    /// Records a token of `user` by the hash of its secret, expiring at `expires_ms`.
    fn add_token(&mut self, user: &str, hash: &str, expires_ms: Option<i64>) -> Result<TokenInfo>;
    /// Tokens (live, expired and revoked) of one user or of all, by id.
    fn list_tokens(&self, user: Option<&str>) -> Result<Vec<TokenInfo>>;
    /// Revokes token `id` (again is fine; an unknown id is `NotFound`).
    fn revoke_token(&mut self, id: i64) -> Result<()>;
    /// What the token whose secret hashes to `hash` is now (store clock).
    fn check_token_hash(&self, hash: &str) -> Result<TokenCheck>;
    /// Gives `user` `permission` on project `project_id`, replacing what they had.
    fn grant(&mut self, project_id: i64, user: &str, permission: Permission) -> Result<()>;
    /// Takes `user`'s grant on project `project_id` away; false when there was none.
    fn revoke_grant(&mut self, project_id: i64, user: &str) -> Result<bool>;
    /// Grants on one project, or on all, by project then user name.
    fn grants(&self, project_id: Option<i64>) -> Result<Vec<Grant>>;
    /// Grants of user `user`, by project name.
    fn user_grants(&self, user: &str) -> Result<Vec<Grant>>;
    /// What every user may do on a project they hold no grant on (none unless set).
    fn default_permission(&self) -> Result<Option<Permission>>;
    fn set_default_permission(&mut self, permission: Option<Permission>) -> Result<()>;

    /// What the token `secret` is now.
    fn check_token(&self, secret: &str) -> Result<TokenCheck> {
        self.check_token_hash(&token_hash(secret))
    }

    /// What `user` may do on project `project_id`: everything for an admin, else their grant,
    /// else the default.
    fn permission(&self, user: &UserInfo, project_id: i64) -> Result<Option<Permission>> {
        if user.admin {
            return Ok(Some(Permission::Manage));
        }
        let granted = self.user_grants(&user.name)?.into_iter().find(|g| g.project_id == project_id);
        match granted {
            Some(g) => Ok(Some(g.permission)),
            None => self.default_permission(),
        }
    }
}

const DEFAULT_PERMISSION_KEY: &str = "default_permission";

fn user_row(r: &rusqlite::Row) -> rusqlite::Result<UserInfo> {
    Ok(UserInfo { id: r.get(0)?, name: r.get(1)?, admin: r.get(2)?, created_ms: r.get(3)? })
}

fn token_row(r: &rusqlite::Row) -> rusqlite::Result<TokenInfo> {
    Ok(TokenInfo {
        id: r.get(0)?,
        user: r.get(1)?,
        created_ms: r.get(2)?,
        expires_ms: r.get(3)?,
        revoked_ms: r.get(4)?,
    })
}

fn grant_row(r: &rusqlite::Row) -> rusqlite::Result<(i64, String, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn grants_of(rows: Vec<(i64, String, String, String)>) -> Result<Vec<Grant>> {
    rows.into_iter()
        .map(|(project_id, project, user, p)| {
            Ok(Grant { project_id, project, user, permission: Permission::parse(&p)? })
        })
        .collect()
}

const GRANT_COLUMNS: &str = "SELECT g.project_id, p.name, u.name, g.permission FROM project_permissions g \
     JOIN projects p ON p.id = g.project_id JOIN users u ON u.id = g.user_id";

const TOKEN_COLUMNS: &str =
    "SELECT t.id, u.name, t.created_ms, t.expires_ms, t.revoked_ms FROM api_tokens t JOIN users u ON u.id = t.user_id";

impl AccessStore for Store {
    fn create_user(&mut self, name: &str, admin: bool) -> Result<UserInfo> {
        check_user_name(name)?;
        let now = self.now();
        let n = self.conn.execute(
            "INSERT INTO users(name, admin, created_ms) VALUES (?1, ?2, ?3) ON CONFLICT(name) DO NOTHING",
            params![name, admin, now],
        )?;
        if n == 0 {
            return Err(StoreError::AlreadyExists { what: "user", name: name.to_string() });
        }
        AccessStore::user(self, name)
    }

    fn user(&self, name: &str) -> Result<UserInfo> {
        self.conn
            .query_row("SELECT id, name, admin, created_ms FROM users WHERE name = ?1", [name], user_row)
            .optional()?
            .ok_or_else(|| user_not_found(name))
    }

    fn list_users(&self) -> Result<Vec<UserInfo>> {
        let mut stmt = self.conn.prepare("SELECT id, name, admin, created_ms FROM users ORDER BY name")?;
        Ok(stmt.query_map([], user_row)?.collect::<rusqlite::Result<_>>()?)
    }

    fn remove_user(&mut self, name: &str) -> Result<()> {
        let user = AccessStore::user(self, name)?;
        // Foreign keys are on: tokens and grants go with the user.
        self.conn.execute("DELETE FROM users WHERE id = ?1", [user.id])?;
        Ok(())
    }

    fn add_token(&mut self, user: &str, hash: &str, expires_ms: Option<i64>) -> Result<TokenInfo> {
        let u = AccessStore::user(self, user)?;
        let now = self.now();
        self.conn.execute(
            "INSERT INTO api_tokens(user_id, hash, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4)",
            params![u.id, hash, now, expires_ms],
        )?;
        let id = self.conn.last_insert_rowid();
        Ok(self.conn.query_row(&format!("{TOKEN_COLUMNS} WHERE t.id = ?1"), [id], token_row)?)
    }

    fn list_tokens(&self, user: Option<&str>) -> Result<Vec<TokenInfo>> {
        if let Some(u) = user {
            AccessStore::user(self, u)?;
        }
        let mut stmt = self.conn.prepare(&format!("{TOKEN_COLUMNS} WHERE ?1 IS NULL OR u.name = ?1 ORDER BY t.id"))?;
        Ok(stmt.query_map([user], token_row)?.collect::<rusqlite::Result<_>>()?)
    }

    fn revoke_token(&mut self, id: i64) -> Result<()> {
        let now = self.now();
        let n = self
            .conn
            .execute("UPDATE api_tokens SET revoked_ms = COALESCE(revoked_ms, ?2) WHERE id = ?1", [id, now])?;
        if n == 0 {
            return Err(StoreError::NotFound { what: "token", name: id.to_string() });
        }
        Ok(())
    }

    fn check_token_hash(&self, hash: &str) -> Result<TokenCheck> {
        let row = self
            .conn
            .query_row(
                "SELECT u.id, u.name, u.admin, u.created_ms, t.id, t.expires_ms, t.revoked_ms \
                 FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?1",
                [hash],
                |r| Ok((user_row(r)?, r.get::<_, i64>(4)?, r.get::<_, Option<i64>>(5)?, r.get::<_, Option<i64>>(6)?)),
            )
            .optional()?;
        Ok(match row {
            None => TokenCheck::Unknown,
            Some((user, id, expires, revoked)) => token_state(user, id, expires, revoked, self.now()),
        })
    }

    fn grant(&mut self, project_id: i64, user: &str, permission: Permission) -> Result<()> {
        self.project_by_id(project_id)?;
        let u = AccessStore::user(self, user)?;
        self.conn.execute(
            "INSERT INTO project_permissions(project_id, user_id, permission) VALUES (?1, ?2, ?3) \
             ON CONFLICT(project_id, user_id) DO UPDATE SET permission = excluded.permission",
            params![project_id, u.id, permission.as_str()],
        )?;
        Ok(())
    }

    fn revoke_grant(&mut self, project_id: i64, user: &str) -> Result<bool> {
        self.project_by_id(project_id)?;
        let u = AccessStore::user(self, user)?;
        let n = self
            .conn
            .execute("DELETE FROM project_permissions WHERE project_id = ?1 AND user_id = ?2", [project_id, u.id])?;
        Ok(n > 0)
    }

    fn grants(&self, project_id: Option<i64>) -> Result<Vec<Grant>> {
        let mut stmt = self
            .conn
            .prepare(&format!("{GRANT_COLUMNS} WHERE ?1 IS NULL OR g.project_id = ?1 ORDER BY p.name, u.name"))?;
        grants_of(stmt.query_map([project_id], grant_row)?.collect::<rusqlite::Result<_>>()?)
    }

    fn user_grants(&self, user: &str) -> Result<Vec<Grant>> {
        let mut stmt = self.conn.prepare(&format!("{GRANT_COLUMNS} WHERE u.name = ?1 ORDER BY p.name"))?;
        grants_of(stmt.query_map([user], grant_row)?.collect::<rusqlite::Result<_>>()?)
    }

    fn default_permission(&self) -> Result<Option<Permission>> {
        let v: Option<String> = self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [DEFAULT_PERMISSION_KEY], |r| r.get(0))
            .optional()?;
        v.map(|p| Permission::parse(&p)).transpose()
    }

    fn set_default_permission(&mut self, permission: Option<Permission>) -> Result<()> {
        match permission {
            Some(p) => self.conn.execute(
                "INSERT INTO settings(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [DEFAULT_PERMISSION_KEY, p.as_str()],
            )?,
            None => self.conn.execute("DELETE FROM settings WHERE key = ?1", [DEFAULT_PERMISSION_KEY])?,
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_one_shape_and_hash_apart() {
        let a = token_secret(&[0xab; 32]);
        assert!(a.starts_with("tbu_abab") && a.len() == 68, "{a}");
        assert!(is_token_shaped(&a));
        for bad in ["", "tbu_", "tbu_xyz", &a[..60], &a.to_uppercase(), "0123456789abcdef0123456789abcdef"] {
            assert!(!is_token_shaped(bad), "{bad}");
        }
        assert_ne!(token_hash(&a), token_hash(&token_secret(&[0xac; 32])));
        assert_eq!(Permission::parse("Edit").unwrap(), Permission::Edit);
        assert!(Permission::Read < Permission::Edit && Permission::Edit < Permission::Manage);
        assert!(Permission::parse("owner").is_err());
        assert!(check_user_name("ana.b@x").is_ok());
        assert!(check_user_name("a b").is_err() && check_user_name("").is_err());
    }
}
