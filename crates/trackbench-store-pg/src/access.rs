//! Users, API tokens (kept as hashes) and per-project permissions on PostgreSQL: the seam's
//! `AccessStore`, with the same rules as the SQLite store (the shared functions of
//! `trackbench_store::backend_access`), checked by the same contract tests.

use postgres::Row;
use trackbench_store::backend_access::{check_user_name, token_state};
use trackbench_store::{
    AccessStore, Grant, Permission, ProjectStore, Result, StoreError, TokenCheck, TokenInfo, UserInfo,
};

use crate::{PgStore, db};

const DEFAULT_PERMISSION_KEY: &str = "default_permission";

const GRANT_COLUMNS: &str = "SELECT g.project_id, p.name, u.name, g.permission FROM project_permissions g \
     JOIN projects p ON p.id = g.project_id JOIN users u ON u.id = g.user_id";

const TOKEN_COLUMNS: &str =
    "SELECT t.id, u.name, t.created_ms, t.expires_ms, t.revoked_ms FROM api_tokens t JOIN users u ON u.id = t.user_id";

fn user_row(r: &Row) -> UserInfo {
    UserInfo { id: r.get(0), name: r.get(1), admin: r.get(2), created_ms: r.get(3) }
}

fn token_row(r: &Row) -> TokenInfo {
    TokenInfo { id: r.get(0), user: r.get(1), created_ms: r.get(2), expires_ms: r.get(3), revoked_ms: r.get(4) }
}

fn grants_of(rows: Vec<Row>) -> Result<Vec<Grant>> {
    rows.iter()
        .map(|r| {
            let p: String = r.get(3);
            Ok(Grant { project_id: r.get(0), project: r.get(1), user: r.get(2), permission: Permission::parse(&p)? })
        })
        .collect()
}

fn user_not_found(name: &str) -> StoreError {
    StoreError::NotFound { what: "user", name: name.to_string() }
}

impl AccessStore for PgStore {
    fn create_user(&mut self, name: &str, admin: bool) -> Result<UserInfo> {
        check_user_name(name)?;
        let now = self.now();
        let row = self
            .client
            .get_mut()
            .query_opt(
                "INSERT INTO users(name, admin, created_ms) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING \
                 RETURNING id, name, admin, created_ms",
                &[&name, &admin, &now],
            )
            .map_err(db)?;
        row.map(|r| user_row(&r)).ok_or_else(|| StoreError::AlreadyExists { what: "user", name: name.to_string() })
    }

    fn user(&self, name: &str) -> Result<UserInfo> {
        let row = self
            .client
            .borrow_mut()
            .query_opt("SELECT id, name, admin, created_ms FROM users WHERE name = $1", &[&name])
            .map_err(db)?;
        row.map(|r| user_row(&r)).ok_or_else(|| user_not_found(name))
    }

    fn list_users(&self) -> Result<Vec<UserInfo>> {
        let rows = self
            .client
            .borrow_mut()
            .query("SELECT id, name, admin, created_ms FROM users ORDER BY name", &[])
            .map_err(db)?;
        Ok(rows.iter().map(user_row).collect())
    }

    fn remove_user(&mut self, name: &str) -> Result<()> {
        let n = self.client.get_mut().execute("DELETE FROM users WHERE name = $1", &[&name]).map_err(db)?;
        if n == 0 {
            return Err(user_not_found(name));
        }
        Ok(())
    }

    fn add_token(&mut self, user: &str, hash: &str, expires_ms: Option<i64>) -> Result<TokenInfo> {
        let u = AccessStore::user(self, user)?;
        let now = self.now();
        let id: i64 = self
            .client
            .get_mut()
            .query_one(
                "INSERT INTO api_tokens(user_id, hash, created_ms, expires_ms) VALUES ($1, $2, $3, $4) RETURNING id",
                &[&u.id, &hash, &now, &expires_ms],
            )
            .map_err(db)?
            .get(0);
        let row = self.client.get_mut().query_one(&format!("{TOKEN_COLUMNS} WHERE t.id = $1"), &[&id]).map_err(db)?;
        Ok(token_row(&row))
    }

    fn list_tokens(&self, user: Option<&str>) -> Result<Vec<TokenInfo>> {
        if let Some(u) = user {
            AccessStore::user(self, u)?;
        }
        let rows = self
            .client
            .borrow_mut()
            .query(&format!("{TOKEN_COLUMNS} WHERE $1::text IS NULL OR u.name = $1 ORDER BY t.id"), &[&user])
            .map_err(db)?;
        Ok(rows.iter().map(token_row).collect())
    }

    fn revoke_token(&mut self, id: i64) -> Result<()> {
        let now = self.now();
        let n = self
            .client
            .get_mut()
            .execute("UPDATE api_tokens SET revoked_ms = COALESCE(revoked_ms, $2) WHERE id = $1", &[&id, &now])
            .map_err(db)?;
        if n == 0 {
            return Err(StoreError::NotFound { what: "token", name: id.to_string() });
        }
        Ok(())
    }

    fn check_token_hash(&self, hash: &str) -> Result<TokenCheck> {
        let row = self
            .client
            .borrow_mut()
            .query_opt(
                "SELECT u.id, u.name, u.admin, u.created_ms, t.id, t.expires_ms, t.revoked_ms \
                 FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1",
                &[&hash],
            )
            .map_err(db)?;
        Ok(match row {
            None => TokenCheck::Unknown,
            Some(r) => token_state(user_row(&r), r.get(4), r.get(5), r.get(6), self.now()),
        })
    }

    fn grant(&mut self, project_id: i64, user: &str, permission: Permission) -> Result<()> {
        self.project_by_id(project_id)?;
        let u = AccessStore::user(self, user)?;
        self.client
            .get_mut()
            .execute(
                "INSERT INTO project_permissions(project_id, user_id, permission) VALUES ($1, $2, $3) \
                 ON CONFLICT (project_id, user_id) DO UPDATE SET permission = excluded.permission",
                &[&project_id, &u.id, &permission.as_str()],
            )
            .map_err(db)?;
        Ok(())
    }

    fn revoke_grant(&mut self, project_id: i64, user: &str) -> Result<bool> {
        self.project_by_id(project_id)?;
        let u = AccessStore::user(self, user)?;
        let n = self
            .client
            .get_mut()
            .execute("DELETE FROM project_permissions WHERE project_id = $1 AND user_id = $2", &[&project_id, &u.id])
            .map_err(db)?;
        Ok(n > 0)
    }

    fn grants(&self, project_id: Option<i64>) -> Result<Vec<Grant>> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                &format!("{GRANT_COLUMNS} WHERE $1::bigint IS NULL OR g.project_id = $1 ORDER BY p.name, u.name"),
                &[&project_id],
            )
            .map_err(db)?;
        grants_of(rows)
    }

    fn user_grants(&self, user: &str) -> Result<Vec<Grant>> {
        let rows = self
            .client
            .borrow_mut()
            .query(&format!("{GRANT_COLUMNS} WHERE u.name = $1 ORDER BY p.name"), &[&user])
            .map_err(db)?;
        grants_of(rows)
    }

    fn default_permission(&self) -> Result<Option<Permission>> {
        let row = self
            .client
            .borrow_mut()
            .query_opt("SELECT value FROM settings WHERE key = $1", &[&DEFAULT_PERMISSION_KEY])
            .map_err(db)?;
        row.map(|r| Permission::parse(&r.get::<_, String>(0))).transpose()
    }

    fn set_default_permission(&mut self, permission: Option<Permission>) -> Result<()> {
        let c = self.client.get_mut();
        match permission {
            Some(p) => c.execute(
                "INSERT INTO settings(key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&DEFAULT_PERMISSION_KEY, &p.as_str()],
            ),
            None => c.execute("DELETE FROM settings WHERE key = $1", &[&DEFAULT_PERMISSION_KEY]),
        }
        .map_err(db)?;
        Ok(())
    }
}
