//! Models: logged models and the model registry.
//!
//! A logged model (MLflow 3's `LoggedModel`) is a model a run produced: a project, a name (no
//! `/ : . % " '`, MLflow's rule, as it appears in paths and filters), the run it came from (if any), a status (`pending` until its files are in, then `ready` or
//! `failed`), its own tags, params (write-once), metrics (each with the run that logged it)
//! and artifacts (content-addressed blobs, like a run's). Ids are `m-` and 32 hex digits.
//! Deleting one hides it; its rows stay for the versions that point at it.
//!
//! The registry names models across projects: a registered model has a description, tags,
//! aliases and versions. A version points at its source (a `models:/m-…` or `runs:/…` URI, or
//! a location), the run and the logged model it came from, and carries a description, tags and
//! a legacy stage. Versions are numbered per model from a counter kept on the model, in the
//! same write transaction as the version, so concurrent registrations get 1, 2, 3… without a
//! gap or a repeat, and a deleted version's number is never given again.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::model::{ArtifactInfo, json_f64};
use crate::{Store, validate};

/// Where a logged model is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelStatus {
    /// Created; its files may still be uploading.
    Pending,
    Ready,
    Failed,
}

impl ModelStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelStatus::Pending => "pending",
            ModelStatus::Ready => "ready",
            ModelStatus::Failed => "failed",
        }
    }

    /// The status stored as `s` (`pending` for anything unknown).
    pub fn parse(s: &str) -> ModelStatus {
        match s {
            "ready" => ModelStatus::Ready,
            "failed" => ModelStatus::Failed,
            _ => ModelStatus::Pending,
        }
    }
}

/// What a new logged model records.
#[derive(Debug, Clone, Default)]
pub struct NewLoggedModel {
    pub project: String,
    pub name: String,
    /// The run that produced it.
    pub source_run: Option<String>,
    pub model_type: Option<String>,
    pub tags: Vec<(String, String)>,
    pub params: Vec<(String, String)>,
}

/// One metric value linked to a logged model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelMetric {
    pub key: String,
    #[serde(with = "json_f64")]
    pub value: f64,
    pub step: i64,
    pub wall_ms: i64,
    /// The run that logged it.
    pub run: Option<String>,
}

/// A logged model as read back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggedModel {
    pub id: String,
    pub project: String,
    pub name: String,
    pub source_run: Option<String>,
    pub model_type: Option<String>,
    pub status: ModelStatus,
    pub status_message: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub tags: BTreeMap<String, String>,
    pub params: BTreeMap<String, String>,
    /// In logging order per key and step.
    pub metrics: Vec<ModelMetric>,
}

/// A registered model as read back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegisteredModel {
    pub name: String,
    pub description: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub tags: BTreeMap<String, String>,
    /// Alias -> version.
    pub aliases: BTreeMap<String, i64>,
}

/// What a new model version records.
#[derive(Debug, Clone, Default)]
pub struct NewModelVersion {
    /// The registered model (it must exist).
    pub name: String,
    /// Where the files are: `models:/m-…`, `runs:/RUN/PATH`, or a location.
    pub source: String,
    pub run: Option<String>,
    pub logged_model: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<(String, String)>,
}

/// A model version as read back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelVersion {
    pub name: String,
    pub version: i64,
    pub source: String,
    pub run: Option<String>,
    pub logged_model: Option<String>,
    pub description: Option<String>,
    /// `None`, `Staging`, `Production` or `Archived` (MLflow's legacy stages).
    pub stage: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub tags: BTreeMap<String, String>,
    pub aliases: Vec<String>,
}

/// MLflow's legacy stages, in their canonical spelling.
pub const STAGES: [&str; 4] = ["None", "Staging", "Production", "Archived"];

/// An alias: 1..=255 of letters, digits, `_` and `-`; not `latest` or `v<number>` (reserved).
pub fn check_alias(alias: &str) -> Result<()> {
    if alias.is_empty() || alias.len() > 255 {
        return Err(StoreError::invalid("alias", "must be 1 to 255 characters"));
    }
    if !alias.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
        return Err(StoreError::invalid("alias", format!("`{alias}`: only letters, digits, `_` and `-`")));
    }
    let version_like =
        alias.len() > 1 && alias.starts_with(['v', 'V']) && alias[1..].chars().all(|c| c.is_ascii_digit());
    if alias.eq_ignore_ascii_case("latest") || version_like {
        return Err(StoreError::invalid("alias", format!("`{alias}` is reserved")));
    }
    Ok(())
}

/// A new logged model id: `m-` and 32 hex digits.
pub fn new_model_id() -> String {
    let a = crate::new_run_id();
    let b = crate::new_run_id();
    let hex: String = blake3::hash(format!("{a}{b}").as_bytes()).to_hex().chars().take(32).collect();
    format!("m-{hex}")
}

impl Store {
    // ---- logged models ----

    /// Creates a logged model (`pending`) with its tags and params.
    pub fn create_logged_model(&mut self, new: &NewLoggedModel) -> Result<LoggedModel> {
        self.create_logged_model_with_id(&new_model_id(), new, None)
    }

    /// Creates a logged model with a caller-chosen id, created at `created_ms` (now when
    /// `None`): what copying a store between backends needs to keep both.
    pub fn create_logged_model_with_id(
        &mut self,
        uid: &str,
        new: &NewLoggedModel,
        created_ms: Option<i64>,
    ) -> Result<LoggedModel> {
        validate::new_logged_model(new)?;
        validate::key("logged model id", uid)?;
        let project = self.ensure_project(&new.project)?;
        let run = new.source_run.as_deref().map(|r| self.run_rowid(r)).transpose()?;
        let now = created_ms.unwrap_or_else(|| self.now());
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO logged_models(uid, project_id, name, source_run_id, model_type, status, created_ms, updated_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6)",
            params![uid, project, new.name, run, new.model_type, now],
        )?;
        let id = tx.last_insert_rowid();
        for (k, v) in &new.tags {
            tx.execute("INSERT OR REPLACE INTO logged_model_tags VALUES (?1, ?2, ?3)", params![id, k, v])?;
        }
        for (k, v) in &new.params {
            tx.execute("INSERT OR REPLACE INTO logged_model_params VALUES (?1, ?2, ?3)", params![id, k, v])?;
        }
        tx.commit()?;
        self.logged_model(uid)
    }

    fn logged_model_rowid(&self, uid: &str) -> Result<i64> {
        self.conn
            .query_row("SELECT id FROM logged_models WHERE uid = ?1 AND deleted_ms IS NULL", [uid], |r| r.get(0))
            .optional()?
            .ok_or_else(|| validate::logged_model_not_found(uid))
    }

    /// Logged model `uid` (not deleted).
    pub fn logged_model(&self, uid: &str) -> Result<LoggedModel> {
        let id = self.logged_model_rowid(uid)?;
        self.logged_model_by_rowid(id)
    }

    fn logged_model_by_rowid(&self, id: i64) -> Result<LoggedModel> {
        let mut m = self.conn.query_row(
            "SELECT m.uid, p.name, m.name, r.uid, m.model_type, m.status, m.status_message, m.created_ms, m.updated_ms \
             FROM logged_models m JOIN projects p ON p.id = m.project_id LEFT JOIN runs r ON r.id = m.source_run_id \
             WHERE m.id = ?1",
            [id],
            |r| {
                Ok(LoggedModel {
                    id: r.get(0)?,
                    project: r.get(1)?,
                    name: r.get(2)?,
                    source_run: r.get(3)?,
                    model_type: r.get(4)?,
                    status: ModelStatus::parse(&r.get::<_, String>(5)?),
                    status_message: r.get(6)?,
                    created_ms: r.get(7)?,
                    updated_ms: r.get(8)?,
                    tags: BTreeMap::new(),
                    params: BTreeMap::new(),
                    metrics: Vec::new(),
                })
            },
        )?;
        m.tags = self.pairs("SELECT key, value FROM logged_model_tags WHERE model_id = ?1", id)?;
        m.params = self.pairs("SELECT key, value FROM logged_model_params WHERE model_id = ?1", id)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT x.key, x.value_bits, x.step, x.wall_ms, r.uid FROM logged_model_metrics x \
             LEFT JOIN runs r ON r.id = x.run_id WHERE x.model_id = ?1 ORDER BY x.key, x.step, x.seq",
        )?;
        m.metrics = stmt
            .query_map([id], |r| {
                Ok(ModelMetric {
                    key: r.get(0)?,
                    value: f64::from_bits(r.get::<_, i64>(1)? as u64),
                    step: r.get(2)?,
                    wall_ms: r.get(3)?,
                    run: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(m)
    }

    fn pairs(&self, sql: &str, id: i64) -> Result<BTreeMap<String, String>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Logged models (not deleted) of the named projects (all projects when empty), newest
    /// first.
    pub fn logged_models(&self, projects: &[String]) -> Result<Vec<LoggedModel>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.id, p.name FROM logged_models m JOIN projects p ON p.id = m.project_id \
             WHERE m.deleted_ms IS NULL ORDER BY m.created_ms DESC, m.id DESC",
        )?;
        let ids: Vec<(i64, String)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        ids.into_iter()
            .filter(|(_, p)| projects.is_empty() || projects.contains(p))
            .map(|(id, _)| self.logged_model_by_rowid(id))
            .collect()
    }

    /// Logged models (not deleted) run `run` produced, newest first.
    pub fn logged_models_of_run(&self, run: &str) -> Result<Vec<LoggedModel>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.id FROM logged_models m JOIN runs r ON r.id = m.source_run_id \
             WHERE r.uid = ?1 AND m.deleted_ms IS NULL ORDER BY m.created_ms DESC, m.id DESC",
        )?;
        let ids: Vec<i64> = stmt.query_map([run], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        ids.into_iter().map(|id| self.logged_model_by_rowid(id)).collect()
    }

    /// Records that run `run` produced logged models (id, step): MLflow's run outputs.
    pub fn log_model_outputs(&mut self, run: &str, models: &[(String, i64)]) -> Result<()> {
        let run = self.run_rowid(run)?;
        let ids = models.iter().map(|(m, _)| self.logged_model_rowid(m)).collect::<Result<Vec<_>>>()?;
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for (id, (_, step)) in ids.iter().zip(models) {
            tx.execute("INSERT OR REPLACE INTO model_outputs VALUES (?1, ?2, ?3)", params![run, id, step])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The logged models run `run` output (not deleted), with their steps, oldest first.
    pub fn model_outputs(&self, run: &str) -> Result<Vec<(String, i64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT m.uid, o.step FROM model_outputs o JOIN logged_models m ON m.id = o.model_id \
             JOIN runs r ON r.id = o.run_id WHERE r.uid = ?1 AND m.deleted_ms IS NULL ORDER BY m.created_ms, m.id",
        )?;
        let rows = stmt.query_map([run], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Sets the status of logged model `uid` (`ready` once its files are in, or `failed`).
    pub fn finalize_logged_model(
        &mut self,
        uid: &str,
        status: ModelStatus,
        message: Option<&str>,
    ) -> Result<LoggedModel> {
        let id = self.logged_model_rowid(uid)?;
        let now = self.now();
        self.conn.execute(
            "UPDATE logged_models SET status = ?2, status_message = ?3, updated_ms = ?4 WHERE id = ?1",
            params![id, status.as_str(), message, now],
        )?;
        self.logged_model_by_rowid(id)
    }

    /// Deletes logged model `uid` (hidden from reads; versions keep pointing at it).
    pub fn delete_logged_model(&mut self, uid: &str) -> Result<()> {
        let id = self.logged_model_rowid(uid)?;
        let now = self.now();
        self.conn
            .execute("UPDATE logged_models SET deleted_ms = ?2, updated_ms = ?2 WHERE id = ?1", params![id, now])?;
        Ok(())
    }

    /// Sets tags of logged model `uid` (replacing values of existing keys).
    pub fn set_logged_model_tags(&mut self, uid: &str, tags: &[(String, String)]) -> Result<()> {
        validate::tags(tags)?;
        let id = self.logged_model_rowid(uid)?;
        let now = self.now();
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for (k, v) in tags {
            tx.execute("INSERT OR REPLACE INTO logged_model_tags VALUES (?1, ?2, ?3)", params![id, k, v])?;
        }
        tx.execute("UPDATE logged_models SET updated_ms = ?2 WHERE id = ?1", params![id, now])?;
        tx.commit()?;
        Ok(())
    }

    /// Removes tag `key` of logged model `uid`; a missing tag is `NotFound`.
    pub fn delete_logged_model_tag(&mut self, uid: &str, key: &str) -> Result<()> {
        let id = self.logged_model_rowid(uid)?;
        let n =
            self.conn.execute("DELETE FROM logged_model_tags WHERE model_id = ?1 AND key = ?2", params![id, key])?;
        if n == 0 {
            return Err(validate::logged_model_tag_not_found(uid, key));
        }
        Ok(())
    }

    /// Logs params of logged model `uid`: write-once (the same value again is fine, another
    /// value is `Invalid`), all or none.
    pub fn log_logged_model_params(&mut self, uid: &str, params: &[(String, String)]) -> Result<()> {
        validate::model_params(params)?;
        let id = self.logged_model_rowid(uid)?;
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for (k, v) in params {
            let old: Option<String> = tx
                .query_row(
                    "SELECT value FROM logged_model_params WHERE model_id = ?1 AND key = ?2",
                    params![id, k],
                    |r| r.get(0),
                )
                .optional()?;
            match old {
                Some(old) if &old != v => {
                    return Err(validate::model_param_rewrite(uid, k, &old));
                }
                Some(_) => {}
                None => {
                    tx.execute("INSERT INTO logged_model_params VALUES (?1, ?2, ?3)", params![id, k, v])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Links metric values to logged model `uid` (key, value, step, wall ms), logged by `run`.
    pub fn log_model_metrics(
        &mut self,
        uid: &str,
        run: Option<&str>,
        metrics: &[(String, f64, i64, i64)],
    ) -> Result<()> {
        for (k, ..) in metrics {
            validate::key("metric", k)?;
        }
        let id = self.logged_model_rowid(uid)?;
        let run = run.map(|r| self.run_rowid(r)).transpose()?;
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for (k, v, step, wall) in metrics {
            let seq: i64 = tx.query_row(
                "SELECT coalesce(max(seq), 0) + 1 FROM logged_model_metrics WHERE model_id = ?1 AND key = ?2 AND step = ?3",
                params![id, k, step],
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO logged_model_metrics VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![id, k, step, wall, v.to_bits() as i64, run, seq],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Stores what `input` yields as artifact `path` of logged model `uid`.
    pub fn put_model_artifact_from(
        &mut self,
        uid: &str,
        path: &str,
        input: impl Read,
        what: &str,
    ) -> Result<ArtifactInfo> {
        let path = validate::artifact_path(path)?;
        let id = self.logged_model_rowid(uid)?;
        self.put_blob(&path, input, what, |tx, info| {
            tx.execute(
                "INSERT OR REPLACE INTO model_artifacts(model_id, path, hash, size, media_type, created_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![id, info.path, info.hash, info.size as i64, info.media_type, info.created_ms],
            )?;
            Ok(())
        })
    }

    /// Artifacts of logged model `uid`, sorted by path.
    pub fn model_artifacts(&self, uid: &str) -> Result<Vec<ArtifactInfo>> {
        let id = self.logged_model_rowid(uid)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT path, size, hash, media_type, created_ms FROM model_artifacts WHERE model_id = ?1 ORDER BY path",
        )?;
        let rows = stmt.query_map([id], crate::artifacts::artifact_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The record of artifact `path` of logged model `uid` and the blob file holding its bytes.
    pub fn model_artifact_file(&self, uid: &str, path: &str) -> Result<(ArtifactInfo, PathBuf)> {
        let path = validate::artifact_path(path)?;
        let info = self
            .model_artifacts(uid)?
            .into_iter()
            .find(|a| a.path == path)
            .ok_or_else(|| StoreError::ArtifactNotFound(format!("{uid}/{path}")))?;
        let file = self.blob_path(&info.hash);
        Ok((info, file))
    }

    // ---- the registry ----

    fn registered_rowid(&self, name: &str) -> Result<i64> {
        self.conn
            .query_row("SELECT id FROM registered_models WHERE name = ?1", [name], |r| r.get(0))
            .optional()?
            .ok_or_else(|| validate::registered_model_not_found(name))
    }

    /// Creates registered model `name`; an existing one is `AlreadyExists`.
    pub fn create_registered_model(
        &mut self,
        name: &str,
        description: Option<&str>,
        tags: &[(String, String)],
    ) -> Result<RegisteredModel> {
        validate::registered_model_name(name)?;
        if let Some(d) = description {
            validate::model_text("description", d)?;
        }
        validate::tags(tags)?;
        let now = self.now();
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let n = tx.execute(
            "INSERT INTO registered_models(name, description, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?3) \
             ON CONFLICT(name) DO NOTHING",
            params![name, description, now],
        )?;
        if n == 0 {
            return Err(validate::registered_model_exists(name));
        }
        let id = tx.last_insert_rowid();
        for (k, v) in tags {
            tx.execute("INSERT OR REPLACE INTO registered_model_tags VALUES (?1, ?2, ?3)", params![id, k, v])?;
        }
        tx.commit()?;
        self.registered_model(name)
    }

    /// Registered model `name`.
    pub fn registered_model(&self, name: &str) -> Result<RegisteredModel> {
        let id = self.registered_rowid(name)?;
        self.registered_by_rowid(id)
    }

    fn registered_by_rowid(&self, id: i64) -> Result<RegisteredModel> {
        let mut m = self.conn.query_row(
            "SELECT name, description, created_ms, updated_ms FROM registered_models WHERE id = ?1",
            [id],
            |r| {
                Ok(RegisteredModel {
                    name: r.get(0)?,
                    description: r.get(1)?,
                    created_ms: r.get(2)?,
                    updated_ms: r.get(3)?,
                    tags: BTreeMap::new(),
                    aliases: BTreeMap::new(),
                })
            },
        )?;
        m.tags = self.pairs("SELECT key, value FROM registered_model_tags WHERE model_id = ?1", id)?;
        let mut stmt = self.conn.prepare_cached("SELECT alias, version FROM model_aliases WHERE model_id = ?1")?;
        m.aliases = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        Ok(m)
    }

    /// Every registered model, by name.
    pub fn registered_models(&self) -> Result<Vec<RegisteredModel>> {
        let mut stmt = self.conn.prepare_cached("SELECT id FROM registered_models ORDER BY name")?;
        let ids: Vec<i64> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        ids.into_iter().map(|id| self.registered_by_rowid(id)).collect()
    }

    /// Renames registered model `name` (its versions and aliases follow).
    pub fn rename_registered_model(&mut self, name: &str, new_name: &str) -> Result<RegisteredModel> {
        validate::registered_model_name(new_name)?;
        let id = self.registered_rowid(name)?;
        if name != new_name && self.registered_rowid(new_name).is_ok() {
            return Err(validate::registered_model_exists(new_name));
        }
        let now = self.now();
        self.conn.execute(
            "UPDATE registered_models SET name = ?2, updated_ms = ?3 WHERE id = ?1",
            params![id, new_name, now],
        )?;
        self.registered_by_rowid(id)
    }

    /// Sets (or clears) the description of registered model `name`.
    pub fn update_registered_model(&mut self, name: &str, description: Option<&str>) -> Result<RegisteredModel> {
        if let Some(d) = description {
            validate::model_text("description", d)?;
        }
        let id = self.registered_rowid(name)?;
        let now = self.now();
        self.conn.execute(
            "UPDATE registered_models SET description = ?2, updated_ms = ?3 WHERE id = ?1",
            params![id, description, now],
        )?;
        self.registered_by_rowid(id)
    }

    /// Deletes registered model `name` with its versions, aliases and tags.
    pub fn delete_registered_model(&mut self, name: &str) -> Result<()> {
        let id = self.registered_rowid(name)?;
        self.conn.execute("DELETE FROM registered_models WHERE id = ?1", [id])?;
        Ok(())
    }

    /// Sets tag `key` of registered model `name`.
    pub fn set_registered_model_tag(&mut self, name: &str, key: &str, value: &str) -> Result<()> {
        validate::key("tag", key)?;
        validate::tag_value(key, value)?;
        let id = self.registered_rowid(name)?;
        self.conn
            .execute("INSERT OR REPLACE INTO registered_model_tags VALUES (?1, ?2, ?3)", params![id, key, value])?;
        Ok(())
    }

    /// Removes tag `key` of registered model `name` (a missing tag is fine).
    pub fn delete_registered_model_tag(&mut self, name: &str, key: &str) -> Result<()> {
        let id = self.registered_rowid(name)?;
        self.conn.execute("DELETE FROM registered_model_tags WHERE model_id = ?1 AND key = ?2", params![id, key])?;
        Ok(())
    }

    /// Registers a new version of `new.name`, numbered after every version it ever had.
    pub fn create_model_version(&mut self, new: &NewModelVersion) -> Result<ModelVersion> {
        validate::new_model_version(new)?;
        let run = new.run.as_deref().map(|r| self.run_rowid(r)).transpose()?;
        let logged = new.logged_model.as_deref().map(|m| self.logged_model_rowid(m)).transpose()?;
        let now = self.now();
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let (id, version): (i64, i64) = tx
            .query_row("SELECT id, next_version FROM registered_models WHERE name = ?1", [&new.name], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?
            .ok_or_else(|| validate::registered_model_not_found(&new.name))?;
        tx.execute(
            "INSERT INTO model_versions(model_id, version, source, run_id, logged_model_id, description, created_ms, updated_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            params![id, version, new.source, run, logged, new.description, now],
        )?;
        for (k, v) in &new.tags {
            tx.execute(
                "INSERT OR REPLACE INTO model_version_tags VALUES (?1, ?2, ?3, ?4)",
                params![id, version, k, v],
            )?;
        }
        tx.execute(
            "UPDATE registered_models SET next_version = ?2 + 1, updated_ms = ?3 WHERE id = ?1",
            params![id, version, now],
        )?;
        tx.commit()?;
        self.model_version(&new.name, version)
    }

    fn version_exists(&self, id: i64, name: &str, version: i64) -> Result<()> {
        let found: bool = self.conn.query_row(
            "SELECT EXISTS(SELECT 1 FROM model_versions WHERE model_id = ?1 AND version = ?2)",
            params![id, version],
            |r| r.get(0),
        )?;
        if found { Ok(()) } else { Err(validate::model_version_not_found(name, version)) }
    }

    /// Version `version` of registered model `name`.
    pub fn model_version(&self, name: &str, version: i64) -> Result<ModelVersion> {
        let id = self.registered_rowid(name)?;
        self.version_exists(id, name, version)?;
        Ok(self.versions_where(id, Some(version))?.remove(0))
    }

    /// Versions of registered model `name` (every model's when `None`), by name then version.
    pub fn model_versions(&self, name: Option<&str>) -> Result<Vec<ModelVersion>> {
        match name {
            Some(n) => self.versions_where(self.registered_rowid(n)?, None),
            None => {
                let mut stmt = self.conn.prepare_cached("SELECT id FROM registered_models ORDER BY name")?;
                let ids: Vec<i64> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
                let mut out = Vec::new();
                for id in ids {
                    out.extend(self.versions_where(id, None)?);
                }
                Ok(out)
            }
        }
    }

    fn versions_where(&self, id: i64, version: Option<i64>) -> Result<Vec<ModelVersion>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT rm.name, v.version, v.source, r.uid, lm.uid, v.description, v.stage, v.created_ms, v.updated_ms \
             FROM model_versions v JOIN registered_models rm ON rm.id = v.model_id \
             LEFT JOIN runs r ON r.id = v.run_id LEFT JOIN logged_models lm ON lm.id = v.logged_model_id \
             WHERE v.model_id = ?1 AND (?2 IS NULL OR v.version = ?2) ORDER BY v.version",
        )?;
        let mut out: Vec<ModelVersion> = stmt
            .query_map(params![id, version], |r| {
                Ok(ModelVersion {
                    name: r.get(0)?,
                    version: r.get(1)?,
                    source: r.get(2)?,
                    run: r.get(3)?,
                    logged_model: r.get(4)?,
                    description: r.get(5)?,
                    stage: r.get(6)?,
                    created_ms: r.get(7)?,
                    updated_ms: r.get(8)?,
                    tags: BTreeMap::new(),
                    aliases: Vec::new(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut tags = self
            .conn
            .prepare_cached("SELECT key, value FROM model_version_tags WHERE model_id = ?1 AND version = ?2")?;
        let mut aliases = self
            .conn
            .prepare_cached("SELECT alias FROM model_aliases WHERE model_id = ?1 AND version = ?2 ORDER BY alias")?;
        for v in &mut out {
            v.tags = tags
                .query_map(params![id, v.version], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            v.aliases = aliases.query_map(params![id, v.version], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        }
        Ok(out)
    }

    /// Sets (or clears) the description of a version.
    pub fn update_model_version(
        &mut self,
        name: &str,
        version: i64,
        description: Option<&str>,
    ) -> Result<ModelVersion> {
        if let Some(d) = description {
            validate::model_text("description", d)?;
        }
        let id = self.registered_rowid(name)?;
        self.version_exists(id, name, version)?;
        let now = self.now();
        self.conn.execute(
            "UPDATE model_versions SET description = ?3, updated_ms = ?4 WHERE model_id = ?1 AND version = ?2",
            params![id, version, description, now],
        )?;
        self.model_version(name, version)
    }

    /// Moves a version to `stage` (`None`, `Staging`, `Production`, `Archived`, any case);
    /// with `archive_existing`, the model's other versions in that stage go to `Archived`.
    pub fn transition_model_version_stage(
        &mut self,
        name: &str,
        version: i64,
        stage: &str,
        archive_existing: bool,
    ) -> Result<ModelVersion> {
        let stage = validate::stage(stage)?;
        let id = self.registered_rowid(name)?;
        self.version_exists(id, name, version)?;
        let now = self.now();
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if archive_existing && matches!(stage, "Staging" | "Production") {
            tx.execute(
                "UPDATE model_versions SET stage = 'Archived', updated_ms = ?4 \
                 WHERE model_id = ?1 AND stage = ?2 AND version != ?3",
                params![id, stage, version, now],
            )?;
        }
        tx.execute(
            "UPDATE model_versions SET stage = ?3, updated_ms = ?4 WHERE model_id = ?1 AND version = ?2",
            params![id, version, stage, now],
        )?;
        tx.commit()?;
        self.model_version(name, version)
    }

    /// Deletes a version (its tags and aliases go with it; its number is not given again).
    pub fn delete_model_version(&mut self, name: &str, version: i64) -> Result<()> {
        let id = self.registered_rowid(name)?;
        self.version_exists(id, name, version)?;
        self.conn.execute("DELETE FROM model_versions WHERE model_id = ?1 AND version = ?2", params![id, version])?;
        Ok(())
    }

    /// Sets tag `key` of a version.
    pub fn set_model_version_tag(&mut self, name: &str, version: i64, key: &str, value: &str) -> Result<()> {
        validate::key("tag", key)?;
        validate::tag_value(key, value)?;
        let id = self.registered_rowid(name)?;
        self.version_exists(id, name, version)?;
        self.conn.execute(
            "INSERT OR REPLACE INTO model_version_tags VALUES (?1, ?2, ?3, ?4)",
            params![id, version, key, value],
        )?;
        Ok(())
    }

    /// Removes tag `key` of a version (a missing tag is fine).
    pub fn delete_model_version_tag(&mut self, name: &str, version: i64, key: &str) -> Result<()> {
        let id = self.registered_rowid(name)?;
        self.version_exists(id, name, version)?;
        self.conn.execute(
            "DELETE FROM model_version_tags WHERE model_id = ?1 AND version = ?2 AND key = ?3",
            params![id, version, key],
        )?;
        Ok(())
    }

    /// Points `alias` of registered model `name` at `version` (moving it if it pointed
    /// elsewhere). Aliases are letters, digits, `_` and `-` (`champion`, `prod-2026`); `latest`
    /// and `v<number>` are reserved, as in MLflow.
    pub fn set_model_alias(&mut self, name: &str, alias: &str, version: i64) -> Result<()> {
        check_alias(alias)?;
        let id = self.registered_rowid(name)?;
        self.version_exists(id, name, version)?;
        self.conn.execute("INSERT OR REPLACE INTO model_aliases VALUES (?1, ?2, ?3)", params![id, alias, version])?;
        Ok(())
    }

    /// Removes `alias` of registered model `name` (a missing alias is fine).
    pub fn delete_model_alias(&mut self, name: &str, alias: &str) -> Result<()> {
        let id = self.registered_rowid(name)?;
        self.conn.execute("DELETE FROM model_aliases WHERE model_id = ?1 AND alias = ?2", params![id, alias])?;
        Ok(())
    }

    /// The version `alias` of registered model `name` points at.
    pub fn model_version_by_alias(&self, name: &str, alias: &str) -> Result<ModelVersion> {
        let id = self.registered_rowid(name)?;
        let version: i64 = self
            .conn
            .query_row(
                "SELECT version FROM model_aliases WHERE model_id = ?1 AND alias = ?2",
                params![id, alias],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| validate::model_alias_not_found(name, alias))?;
        self.model_version(name, version)
    }
}
