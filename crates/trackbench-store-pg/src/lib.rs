//! The Trackbench store on PostgreSQL: the team server's metadata and metric chunks in a
//! database the team already runs, behind the same contract as the SQLite store
//! (`trackbench_store::backend`), checked by one contract test suite run against both.
//!
//! Work in progress (the team-server issue): the schema is complete ([`migrate`]); the
//! operations grow one concept at a time with the seam's traits, today projects
//! ([`ProjectStore`]). The server does not use this crate yet.
//!
//! Connection: a `postgres://USER[:PASSWORD]@HOST:PORT/DB` URL (anything `postgres` accepts).
//! A database that cannot be reached is `StoreError::Database { unavailable: true }`.

pub mod migrate;

use std::cell::RefCell;

use postgres::error::SqlState;
use postgres::{Client, NoTls, Row};
use trackbench_store::{Clock, ProjectInfo, ProjectStore, Result, StoreError, validate};

/// A store in a PostgreSQL database.
pub struct PgStore {
    // The client needs `&mut` for every query; the store API reads through `&self`.
    client: RefCell<Client>,
    clock: Clock,
}

/// A PostgreSQL error as the store's.
pub(crate) fn db(e: postgres::Error) -> StoreError {
    let unavailable =
        e.is_closed() || e.code().is_none_or(|c| c.code().starts_with("08") || *c == SqlState::ADMIN_SHUTDOWN);
    StoreError::Database { message: e.to_string(), unavailable }
}

/// `url` without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s + 3 => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

const PROJECT_COLUMNS: &str = "p.id, p.name, p.created_ms, p.updated_ms, p.deleted_ms IS NOT NULL, \
   (SELECT count(*) FROM runs r WHERE r.project_id = p.id AND r.deleted_ms IS NULL), \
   (SELECT max(greatest(r.heartbeat_ms, r.created_ms, coalesce(r.ended_ms, 0))) FROM runs r \
      WHERE r.project_id = p.id AND r.deleted_ms IS NULL)";

fn project_from_row(r: &Row) -> ProjectInfo {
    ProjectInfo {
        id: r.get(0),
        name: r.get(1),
        created_ms: r.get(2),
        updated_ms: r.get(3),
        deleted: r.get(4),
        runs: r.get(5),
        last_activity_ms: r.get(6),
    }
}

impl PgStore {
    /// Connects to the database at `url` and brings its schema up to date.
    pub fn connect(url: &str, clock: Clock) -> Result<PgStore> {
        let mut client = Client::connect(url, NoTls).map_err(|e| StoreError::Database {
            message: format!("connecting to {}: {e}", redact(url)),
            unavailable: true,
        })?;
        migrate::migrate(&mut client, &redact(url))?;
        Ok(PgStore { client: RefCell::new(client), clock })
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> Result<i64> {
        migrate::version(&mut self.client.borrow_mut())
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    fn one_project(
        &self,
        sql: &str,
        arg: &(dyn postgres::types::ToSql + Sync),
        missing: String,
    ) -> Result<ProjectInfo> {
        let row = self.client.borrow_mut().query_opt(sql, &[arg]).map_err(db)?;
        row.map(|r| project_from_row(&r)).ok_or(StoreError::ProjectNotFound(missing))
    }
}

impl ProjectStore for PgStore {
    fn ensure_project(&mut self, name: &str) -> Result<i64> {
        validate::name("project", name)?;
        let now = self.now();
        let c = self.client.get_mut();
        c.execute(
            "INSERT INTO projects(name, created_ms) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&name, &now],
        )
        .map_err(db)?;
        Ok(c.query_one("SELECT id FROM projects WHERE name = $1", &[&name]).map_err(db)?.get(0))
    }

    fn create_project(&mut self, name: &str) -> Result<ProjectInfo> {
        validate::name("project", name)?;
        let now = self.now();
        let n = self
            .client
            .get_mut()
            .execute(
                "INSERT INTO projects(name, created_ms, updated_ms) VALUES ($1, $2, $2) ON CONFLICT (name) DO NOTHING",
                &[&name, &now],
            )
            .map_err(db)?;
        if n == 0 {
            return Err(StoreError::ProjectExists(name.to_string()));
        }
        self.project(name)
    }

    fn list_projects(&self, include_deleted: bool) -> Result<Vec<ProjectInfo>> {
        let filter = if include_deleted { "" } else { "WHERE p.deleted_ms IS NULL" };
        let rows = self
            .client
            .borrow_mut()
            .query(&format!("SELECT {PROJECT_COLUMNS} FROM projects p {filter} ORDER BY p.name"), &[])
            .map_err(db)?;
        Ok(rows.iter().map(project_from_row).collect())
    }

    fn project(&self, name: &str) -> Result<ProjectInfo> {
        self.one_project(
            &format!("SELECT {PROJECT_COLUMNS} FROM projects p WHERE p.name = $1"),
            &name,
            name.to_string(),
        )
    }

    fn project_by_id(&self, id: i64) -> Result<ProjectInfo> {
        self.one_project(&format!("SELECT {PROJECT_COLUMNS} FROM projects p WHERE p.id = $1"), &id, format!("id {id}"))
    }

    fn rename_project(&mut self, id: i64, new_name: &str) -> Result<()> {
        validate::name("project", new_name)?;
        let current = self.project_by_id(id)?;
        if current.name == new_name {
            return Ok(());
        }
        let now = self.now();
        let done = self
            .client
            .get_mut()
            .execute("UPDATE projects SET name = $2, updated_ms = $3 WHERE id = $1", &[&id, &new_name, &now]);
        match done {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                Err(StoreError::ProjectExists(new_name.to_string()))
            }
            Err(e) => Err(db(e)),
        }
    }

    fn delete_project(&mut self, id: i64) -> Result<()> {
        if self.project_by_id(id)?.deleted {
            return Ok(());
        }
        let now = self.now();
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        tx.execute("UPDATE projects SET deleted_ms = $2, updated_ms = $2 WHERE id = $1", &[&id, &now]).map_err(db)?;
        tx.execute("UPDATE runs SET deleted_ms = $2 WHERE project_id = $1 AND deleted_ms IS NULL", &[&id, &now])
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn restore_project(&mut self, id: i64) -> Result<()> {
        self.project_by_id(id)?;
        let now = self.now();
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        tx.execute(
            "UPDATE runs SET deleted_ms = NULL WHERE project_id = $1 \
               AND deleted_ms = (SELECT deleted_ms FROM projects WHERE id = $1)",
            &[&id],
        )
        .map_err(db)?;
        tx.execute("UPDATE projects SET deleted_ms = NULL, updated_ms = $2 WHERE id = $1", &[&id, &now]).map_err(db)?;
        tx.commit().map_err(db)
    }

    fn set_project_tag(&mut self, id: i64, key: &str, value: &str) -> Result<()> {
        validate::key("tag", key)?;
        validate::tag_value(key, value)?;
        self.project_by_id(id)?;
        let now = self.now();
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        tx.execute(
            "INSERT INTO project_tags(project_id, key, value) VALUES ($1, $2, $3) \
             ON CONFLICT (project_id, key) DO UPDATE SET value = excluded.value",
            &[&id, &key, &value],
        )
        .map_err(db)?;
        tx.execute("UPDATE projects SET updated_ms = $2 WHERE id = $1", &[&id, &now]).map_err(db)?;
        tx.commit().map_err(db)
    }

    fn remove_project_tag(&mut self, id: i64, key: &str) -> Result<bool> {
        self.project_by_id(id)?;
        let n = self
            .client
            .get_mut()
            .execute("DELETE FROM project_tags WHERE project_id = $1 AND key = $2", &[&id, &key])
            .map_err(db)?;
        Ok(n > 0)
    }

    fn project_tags(&self, id: i64) -> Result<Vec<(String, String)>> {
        self.project_by_id(id)?;
        let rows = self
            .client
            .borrow_mut()
            .query("SELECT key, value FROM project_tags WHERE project_id = $1 ORDER BY key", &[&id])
            .map_err(db)?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(super::redact("postgres://ana:s3cret@db:5432/tb"), "postgres://ana:***@db:5432/tb");
        assert_eq!(super::redact("postgres://ana@db/tb"), "postgres://ana@db/tb");
        assert_eq!(super::redact("host=db user=ana"), "host=db user=ana");
    }
}
