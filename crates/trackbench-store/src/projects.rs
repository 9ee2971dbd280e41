//! Projects (MLflow's experiments): creation, lookup, rename, soft delete and restore, tags.
//!
//! Deleting a project soft-deletes its live runs with the same timestamp, so restoring it brings
//! back exactly those runs and not ones deleted on their own before.

use rusqlite::{OptionalExtension, params};

use crate::error::{Result, StoreError};
use crate::model::ProjectInfo;
use crate::{Store, validate};

const PROJECT_COLUMNS: &str = "p.id, p.name, p.created_ms, p.updated_ms, p.deleted_ms IS NOT NULL, \
   (SELECT count(*) FROM runs r WHERE r.project_id = p.id AND r.deleted_ms IS NULL), \
   (SELECT max(max(r.heartbeat_ms, r.created_ms, coalesce(r.ended_ms, 0))) FROM runs r \
      WHERE r.project_id = p.id AND r.deleted_ms IS NULL)";

fn project_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ProjectInfo> {
    Ok(ProjectInfo {
        id: r.get(0)?,
        name: r.get(1)?,
        created_ms: r.get(2)?,
        updated_ms: r.get(3)?,
        deleted: r.get(4)?,
        runs: r.get(5)?,
        last_activity_ms: r.get(6)?,
    })
}

impl Store {
    /// Returns the id of project `name`, creating it.
    pub fn ensure_project(&mut self, name: &str) -> Result<i64> {
        validate::name("project", name)?;
        let now = self.now();
        self.conn.execute(
            "INSERT INTO projects(name, created_ms) VALUES (?1, ?2) ON CONFLICT(name) DO NOTHING",
            params![name, now],
        )?;
        Ok(self.conn.query_row("SELECT id FROM projects WHERE name = ?1", [name], |r| r.get(0))?)
    }

    /// Creates project `name`; an existing one (deleted or not) is an error.
    pub fn create_project(&mut self, name: &str) -> Result<ProjectInfo> {
        validate::name("project", name)?;
        let now = self.now();
        let n = self.conn.execute(
            "INSERT INTO projects(name, created_ms, updated_ms) VALUES (?1, ?2, ?2) ON CONFLICT(name) DO NOTHING",
            params![name, now],
        )?;
        if n == 0 {
            return Err(StoreError::ProjectExists(name.to_string()));
        }
        self.project(name)
    }

    /// Live projects with their run counts and last activity, by name.
    pub fn projects(&self) -> Result<Vec<ProjectInfo>> {
        self.list_projects(false)
    }

    /// Projects by name, deleted ones too when asked.
    pub fn list_projects(&self, include_deleted: bool) -> Result<Vec<ProjectInfo>> {
        let filter = if include_deleted { "" } else { "WHERE p.deleted_ms IS NULL" };
        let mut stmt =
            self.conn.prepare(&format!("SELECT {PROJECT_COLUMNS} FROM projects p {filter} ORDER BY p.name"))?;
        let rows = stmt.query_map([], project_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Project `name` (deleted or not).
    pub fn project(&self, name: &str) -> Result<ProjectInfo> {
        self.conn
            .query_row(&format!("SELECT {PROJECT_COLUMNS} FROM projects p WHERE p.name = ?1"), [name], project_from_row)
            .optional()?
            .ok_or_else(|| StoreError::ProjectNotFound(name.to_string()))
    }

    /// Project with numeric id `id` (deleted or not).
    pub fn project_by_id(&self, id: i64) -> Result<ProjectInfo> {
        self.conn
            .query_row(&format!("SELECT {PROJECT_COLUMNS} FROM projects p WHERE p.id = ?1"), [id], project_from_row)
            .optional()?
            .ok_or_else(|| StoreError::ProjectNotFound(format!("id {id}")))
    }

    /// Renames project `id`; the new name must be free.
    pub fn rename_project(&mut self, id: i64, new_name: &str) -> Result<()> {
        validate::name("project", new_name)?;
        let current = self.project_by_id(id)?;
        if current.name == new_name {
            return Ok(());
        }
        if self.project(new_name).is_ok() {
            return Err(StoreError::ProjectExists(new_name.to_string()));
        }
        let now = self.now();
        self.conn
            .execute("UPDATE projects SET name = ?2, updated_ms = ?3 WHERE id = ?1", params![id, new_name, now])?;
        Ok(())
    }

    /// Soft-deletes project `id` and its live runs.
    pub fn delete_project(&mut self, id: i64) -> Result<()> {
        let p = self.project_by_id(id)?;
        if p.deleted {
            return Ok(());
        }
        let now = self.now();
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute("UPDATE projects SET deleted_ms = ?2, updated_ms = ?2 WHERE id = ?1", params![id, now])?;
        tx.execute("UPDATE runs SET deleted_ms = ?2 WHERE project_id = ?1 AND deleted_ms IS NULL", params![id, now])?;
        tx.commit()?;
        Ok(())
    }

    /// Restores project `id` and the runs its deletion deleted.
    pub fn restore_project(&mut self, id: i64) -> Result<()> {
        self.project_by_id(id)?;
        let now = self.now();
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "UPDATE runs SET deleted_ms = NULL WHERE project_id = ?1 \
               AND deleted_ms = (SELECT deleted_ms FROM projects WHERE id = ?1)",
            [id],
        )?;
        tx.execute("UPDATE projects SET deleted_ms = NULL, updated_ms = ?2 WHERE id = ?1", params![id, now])?;
        tx.commit()?;
        Ok(())
    }

    /// Sets one tag of project `id` (last write wins).
    pub fn set_project_tag(&mut self, id: i64, key: &str, value: &str) -> Result<()> {
        validate::key("tag", key)?;
        validate::tag_value(key, value)?;
        self.project_by_id(id)?;
        let now = self.now();
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO project_tags(project_id, key, value) VALUES (?1, ?2, ?3) \
             ON CONFLICT(project_id, key) DO UPDATE SET value = excluded.value",
            params![id, key, value],
        )?;
        tx.execute("UPDATE projects SET updated_ms = ?2 WHERE id = ?1", params![id, now])?;
        tx.commit()?;
        Ok(())
    }

    /// Removes one tag of project `id`; false when it was not set.
    pub fn remove_project_tag(&mut self, id: i64, key: &str) -> Result<bool> {
        self.project_by_id(id)?;
        Ok(self.conn.execute("DELETE FROM project_tags WHERE project_id = ?1 AND key = ?2", params![id, key])? > 0)
    }

    /// Tags of project `id`, by key.
    pub fn project_tags(&self, id: i64) -> Result<Vec<(String, String)>> {
        self.project_by_id(id)?;
        let mut stmt =
            self.conn.prepare_cached("SELECT key, value FROM project_tags WHERE project_id = ?1 ORDER BY key")?;
        let rows = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
