//! The backend seam's models part: logged models (with their tags, params, metrics and the
//! runs that output them) and the registry (registered models, numbered versions, tags,
//! aliases, legacy stages), as one trait every backend implements, so the same contract
//! tests run against SQLite ([`Store`]) and PostgreSQL (`trackbench-store-pg`).
//!
//! Model artifacts are not here: they join the seam with the other artifacts. The methods
//! have the names and signatures of [`Store`]'s own, so callers holding a [`Store`] read the
//! same with or without the trait in scope.

use crate::Store;
use crate::backend::RunStore;
use crate::error::Result;
use crate::models::{LoggedModel, ModelStatus, ModelVersion, NewLoggedModel, NewModelVersion, RegisteredModel};

/// Logged models and the model registry.
pub trait ModelStore: RunStore {
    // ---- logged models ----

    /// Creates a logged model (`pending`) with its tags and params, in project `new.project`
    /// (created when missing).
    fn create_logged_model(&mut self, new: &NewLoggedModel) -> Result<LoggedModel>;
    /// [`ModelStore::create_logged_model`] with a caller-chosen id (`m-` and 32 hex digits
    /// for new ones), created at `created_ms` (now when `None`), as copying a store needs.
    fn create_logged_model_with_id(
        &mut self,
        uid: &str,
        new: &NewLoggedModel,
        created_ms: Option<i64>,
    ) -> Result<LoggedModel>;
    /// Logged model `uid` (not deleted).
    fn logged_model(&self, uid: &str) -> Result<LoggedModel>;
    /// Logged models (not deleted) of the named projects (all projects when empty), newest
    /// first.
    fn logged_models(&self, projects: &[String]) -> Result<Vec<LoggedModel>>;
    /// Logged models (not deleted) run `run` produced, newest first.
    fn logged_models_of_run(&self, run: &str) -> Result<Vec<LoggedModel>>;
    /// Records that run `run` produced logged models (id, step): MLflow's run outputs.
    fn log_model_outputs(&mut self, run: &str, models: &[(String, i64)]) -> Result<()>;
    /// The logged models run `run` output (not deleted), with their steps, oldest first.
    fn model_outputs(&self, run: &str) -> Result<Vec<(String, i64)>>;
    /// Sets the status of logged model `uid` (`ready` once its files are in, or `failed`).
    fn finalize_logged_model(&mut self, uid: &str, status: ModelStatus, message: Option<&str>) -> Result<LoggedModel>;
    /// Deletes logged model `uid` (hidden from reads; versions keep pointing at it).
    fn delete_logged_model(&mut self, uid: &str) -> Result<()>;
    /// Sets tags of logged model `uid` (replacing values of existing keys).
    fn set_logged_model_tags(&mut self, uid: &str, tags: &[(String, String)]) -> Result<()>;
    /// Removes tag `key` of logged model `uid`; a missing tag is `NotFound`.
    fn delete_logged_model_tag(&mut self, uid: &str, key: &str) -> Result<()>;
    /// Logs params of logged model `uid`: write-once (the same value again is fine, another
    /// value is `Invalid`), all or none.
    fn log_logged_model_params(&mut self, uid: &str, params: &[(String, String)]) -> Result<()>;
    /// Links metric values to logged model `uid` (key, value, step, wall ms), logged by `run`.
    fn log_model_metrics(&mut self, uid: &str, run: Option<&str>, metrics: &[(String, f64, i64, i64)]) -> Result<()>;

    // ---- the registry ----

    /// Creates registered model `name`; an existing one is `AlreadyExists`.
    fn create_registered_model(
        &mut self,
        name: &str,
        description: Option<&str>,
        tags: &[(String, String)],
    ) -> Result<RegisteredModel>;
    /// Registered model `name`.
    fn registered_model(&self, name: &str) -> Result<RegisteredModel>;
    /// Every registered model, by name (byte-wise).
    fn registered_models(&self) -> Result<Vec<RegisteredModel>>;
    /// Renames registered model `name` (its versions and aliases follow); a taken name is
    /// `AlreadyExists`.
    fn rename_registered_model(&mut self, name: &str, new_name: &str) -> Result<RegisteredModel>;
    /// Sets (or clears) the description of registered model `name`.
    fn update_registered_model(&mut self, name: &str, description: Option<&str>) -> Result<RegisteredModel>;
    /// Deletes registered model `name` with its versions, aliases and tags.
    fn delete_registered_model(&mut self, name: &str) -> Result<()>;
    /// Sets tag `key` of registered model `name`.
    fn set_registered_model_tag(&mut self, name: &str, key: &str, value: &str) -> Result<()>;
    /// Removes tag `key` of registered model `name` (a missing tag is fine).
    fn delete_registered_model_tag(&mut self, name: &str, key: &str) -> Result<()>;
    /// Registers a new version of `new.name`, numbered after every version it ever had.
    fn create_model_version(&mut self, new: &NewModelVersion) -> Result<ModelVersion>;
    /// Version `version` of registered model `name`.
    fn model_version(&self, name: &str, version: i64) -> Result<ModelVersion>;
    /// Versions of registered model `name` (every model's when `None`), by name then version.
    fn model_versions(&self, name: Option<&str>) -> Result<Vec<ModelVersion>>;
    /// Sets (or clears) the description of a version.
    fn update_model_version(&mut self, name: &str, version: i64, description: Option<&str>) -> Result<ModelVersion>;
    /// Moves a version to `stage` (`None`, `Staging`, `Production`, `Archived`, any case);
    /// with `archive_existing`, the model's other versions in that stage go to `Archived`.
    fn transition_model_version_stage(
        &mut self,
        name: &str,
        version: i64,
        stage: &str,
        archive_existing: bool,
    ) -> Result<ModelVersion>;
    /// Deletes a version (its tags and aliases go with it; its number is not given again).
    fn delete_model_version(&mut self, name: &str, version: i64) -> Result<()>;
    /// Sets tag `key` of a version.
    fn set_model_version_tag(&mut self, name: &str, version: i64, key: &str, value: &str) -> Result<()>;
    /// Removes tag `key` of a version (a missing tag is fine).
    fn delete_model_version_tag(&mut self, name: &str, version: i64, key: &str) -> Result<()>;
    /// Points `alias` of registered model `name` at `version`, moving it if it pointed
    /// elsewhere (`latest` and `v<number>` are reserved).
    fn set_model_alias(&mut self, name: &str, alias: &str, version: i64) -> Result<()>;
    /// Removes `alias` of registered model `name` (a missing alias is fine).
    fn delete_model_alias(&mut self, name: &str, alias: &str) -> Result<()>;
    /// The version `alias` of registered model `name` points at.
    fn model_version_by_alias(&self, name: &str, alias: &str) -> Result<ModelVersion>;
}

impl ModelStore for Store {
    fn create_logged_model(&mut self, new: &NewLoggedModel) -> Result<LoggedModel> {
        Store::create_logged_model(self, new)
    }
    fn create_logged_model_with_id(
        &mut self,
        uid: &str,
        new: &NewLoggedModel,
        created_ms: Option<i64>,
    ) -> Result<LoggedModel> {
        Store::create_logged_model_with_id(self, uid, new, created_ms)
    }
    fn logged_model(&self, uid: &str) -> Result<LoggedModel> {
        Store::logged_model(self, uid)
    }
    fn logged_models(&self, projects: &[String]) -> Result<Vec<LoggedModel>> {
        Store::logged_models(self, projects)
    }
    fn logged_models_of_run(&self, run: &str) -> Result<Vec<LoggedModel>> {
        Store::logged_models_of_run(self, run)
    }
    fn log_model_outputs(&mut self, run: &str, models: &[(String, i64)]) -> Result<()> {
        Store::log_model_outputs(self, run, models)
    }
    fn model_outputs(&self, run: &str) -> Result<Vec<(String, i64)>> {
        Store::model_outputs(self, run)
    }
    fn finalize_logged_model(&mut self, uid: &str, status: ModelStatus, message: Option<&str>) -> Result<LoggedModel> {
        Store::finalize_logged_model(self, uid, status, message)
    }
    fn delete_logged_model(&mut self, uid: &str) -> Result<()> {
        Store::delete_logged_model(self, uid)
    }
    fn set_logged_model_tags(&mut self, uid: &str, tags: &[(String, String)]) -> Result<()> {
        Store::set_logged_model_tags(self, uid, tags)
    }
    fn delete_logged_model_tag(&mut self, uid: &str, key: &str) -> Result<()> {
        Store::delete_logged_model_tag(self, uid, key)
    }
    fn log_logged_model_params(&mut self, uid: &str, params: &[(String, String)]) -> Result<()> {
        Store::log_logged_model_params(self, uid, params)
    }
    fn log_model_metrics(&mut self, uid: &str, run: Option<&str>, metrics: &[(String, f64, i64, i64)]) -> Result<()> {
        Store::log_model_metrics(self, uid, run, metrics)
    }

    fn create_registered_model(
        &mut self,
        name: &str,
        description: Option<&str>,
        tags: &[(String, String)],
    ) -> Result<RegisteredModel> {
        Store::create_registered_model(self, name, description, tags)
    }
    fn registered_model(&self, name: &str) -> Result<RegisteredModel> {
        Store::registered_model(self, name)
    }
    fn registered_models(&self) -> Result<Vec<RegisteredModel>> {
        Store::registered_models(self)
    }
    fn rename_registered_model(&mut self, name: &str, new_name: &str) -> Result<RegisteredModel> {
        Store::rename_registered_model(self, name, new_name)
    }
    fn update_registered_model(&mut self, name: &str, description: Option<&str>) -> Result<RegisteredModel> {
        Store::update_registered_model(self, name, description)
    }
    fn delete_registered_model(&mut self, name: &str) -> Result<()> {
        Store::delete_registered_model(self, name)
    }
    fn set_registered_model_tag(&mut self, name: &str, key: &str, value: &str) -> Result<()> {
        Store::set_registered_model_tag(self, name, key, value)
    }
    fn delete_registered_model_tag(&mut self, name: &str, key: &str) -> Result<()> {
        Store::delete_registered_model_tag(self, name, key)
    }
    fn create_model_version(&mut self, new: &NewModelVersion) -> Result<ModelVersion> {
        Store::create_model_version(self, new)
    }
    fn model_version(&self, name: &str, version: i64) -> Result<ModelVersion> {
        Store::model_version(self, name, version)
    }
    fn model_versions(&self, name: Option<&str>) -> Result<Vec<ModelVersion>> {
        Store::model_versions(self, name)
    }
    fn update_model_version(&mut self, name: &str, version: i64, description: Option<&str>) -> Result<ModelVersion> {
        Store::update_model_version(self, name, version, description)
    }
    fn transition_model_version_stage(
        &mut self,
        name: &str,
        version: i64,
        stage: &str,
        archive_existing: bool,
    ) -> Result<ModelVersion> {
        Store::transition_model_version_stage(self, name, version, stage, archive_existing)
    }
    fn delete_model_version(&mut self, name: &str, version: i64) -> Result<()> {
        Store::delete_model_version(self, name, version)
    }
    fn set_model_version_tag(&mut self, name: &str, version: i64, key: &str, value: &str) -> Result<()> {
        Store::set_model_version_tag(self, name, version, key, value)
    }
    fn delete_model_version_tag(&mut self, name: &str, version: i64, key: &str) -> Result<()> {
        Store::delete_model_version_tag(self, name, version, key)
    }
    fn set_model_alias(&mut self, name: &str, alias: &str, version: i64) -> Result<()> {
        Store::set_model_alias(self, name, alias, version)
    }
    fn delete_model_alias(&mut self, name: &str, alias: &str) -> Result<()> {
        Store::delete_model_alias(self, name, alias)
    }
    fn model_version_by_alias(&self, name: &str, alias: &str) -> Result<ModelVersion> {
        Store::model_version_by_alias(self, name, alias)
    }
}
