//! The store's backend seam (the team server's first part): the operations every backend
//! provides, as traits, so the same contract tests run against SQLite ([`Store`]) and
//! PostgreSQL (`trackbench-store-pg`). A behaviour only one backend has is a bug.
//!
//! It grows one concept at a time; today it covers projects. What is not here yet is reached
//! through [`Store`] alone, which is why the server still holds a [`Store`].

use crate::Store;
use crate::error::Result;
use crate::model::ProjectInfo;

/// Projects (MLflow's experiments): create, look up, rename, soft delete and restore, tags.
pub trait ProjectStore {
    /// The id of project `name`, creating it.
    fn ensure_project(&mut self, name: &str) -> Result<i64>;
    /// Creates project `name`; an existing one (deleted or not) is `ProjectExists`.
    fn create_project(&mut self, name: &str) -> Result<ProjectInfo>;
    /// Projects by name, deleted ones too when asked.
    fn list_projects(&self, include_deleted: bool) -> Result<Vec<ProjectInfo>>;
    /// Project `name` (deleted or not).
    fn project(&self, name: &str) -> Result<ProjectInfo>;
    /// Project with numeric id `id` (deleted or not).
    fn project_by_id(&self, id: i64) -> Result<ProjectInfo>;
    /// Renames project `id`; the new name must be free.
    fn rename_project(&mut self, id: i64, new_name: &str) -> Result<()>;
    /// Soft-deletes project `id` and its live runs.
    fn delete_project(&mut self, id: i64) -> Result<()>;
    /// Restores project `id` and the runs its deletion deleted.
    fn restore_project(&mut self, id: i64) -> Result<()>;
    /// Sets one tag of project `id` (last write wins).
    fn set_project_tag(&mut self, id: i64, key: &str, value: &str) -> Result<()>;
    /// Removes one tag of project `id`; false when it was not set.
    fn remove_project_tag(&mut self, id: i64, key: &str) -> Result<bool>;
    /// Tags of project `id`, by key.
    fn project_tags(&self, id: i64) -> Result<Vec<(String, String)>>;
}

impl ProjectStore for Store {
    fn ensure_project(&mut self, name: &str) -> Result<i64> {
        Store::ensure_project(self, name)
    }
    fn create_project(&mut self, name: &str) -> Result<ProjectInfo> {
        Store::create_project(self, name)
    }
    fn list_projects(&self, include_deleted: bool) -> Result<Vec<ProjectInfo>> {
        Store::list_projects(self, include_deleted)
    }
    fn project(&self, name: &str) -> Result<ProjectInfo> {
        Store::project(self, name)
    }
    fn project_by_id(&self, id: i64) -> Result<ProjectInfo> {
        Store::project_by_id(self, id)
    }
    fn rename_project(&mut self, id: i64, new_name: &str) -> Result<()> {
        Store::rename_project(self, id, new_name)
    }
    fn delete_project(&mut self, id: i64) -> Result<()> {
        Store::delete_project(self, id)
    }
    fn restore_project(&mut self, id: i64) -> Result<()> {
        Store::restore_project(self, id)
    }
    fn set_project_tag(&mut self, id: i64, key: &str, value: &str) -> Result<()> {
        Store::set_project_tag(self, id, key, value)
    }
    fn remove_project_tag(&mut self, id: i64, key: &str) -> Result<bool> {
        Store::remove_project_tag(self, id, key)
    }
    fn project_tags(&self, id: i64) -> Result<Vec<(String, String)>> {
        Store::project_tags(self, id)
    }
}
