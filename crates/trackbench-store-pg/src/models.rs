//! Logged models and the model registry on PostgreSQL, as the SQLite store keeps them (same
//! checks from `trackbench_store::validate`, same errors, same orders): logged models with
//! their tags, write-once params, metrics and the runs that output them; registered models,
//! versions numbered per model, tags, aliases and legacy stages.
//!
//! Where SQLite's IMMEDIATE transaction serialises writers, this takes the row lock of the
//! model written to: a registered model's while numbering a version (so concurrent
//! registrations get 1, 2, 3… without a gap or a repeat), a logged model's while checking its
//! write-once params or numbering its metric values.

use std::collections::BTreeMap;

use postgres::error::SqlState;
use postgres::types::ToSql;
use trackbench_store::{
    LoggedModel, ModelMetric, ModelStatus, ModelStore, ModelVersion, NewLoggedModel, NewModelVersion, ProjectStore,
    RegisteredModel, Result, check_alias, new_model_id, validate,
};

use crate::{PgStore, db};

/// Whether `s` can name a stored row: PostgreSQL's text holds no NUL (refused on write by the
/// shared checks), so a name with one is simply not there, as it is not on SQLite.
fn storable(s: &str) -> bool {
    !s.contains('\0')
}

impl PgStore {
    /// The `(key, value)` rows `sql` selects with `args`, as a map.
    fn pairs(&self, sql: &str, args: &[&(dyn ToSql + Sync)]) -> Result<BTreeMap<String, String>> {
        let rows = self.client.borrow_mut().query(sql, args).map_err(db)?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn logged_model_rowid(&self, uid: &str) -> Result<i64> {
        let row = if storable(uid) {
            self.client
                .borrow_mut()
                .query_opt("SELECT id FROM logged_models WHERE uid = $1 AND deleted_ms IS NULL", &[&uid])
                .map_err(db)?
        } else {
            None
        };
        row.map(|r| r.get(0)).ok_or_else(|| validate::logged_model_not_found(uid))
    }

    fn logged_model_by_rowid(&self, id: i64) -> Result<LoggedModel> {
        let row = self
            .client
            .borrow_mut()
            .query_one(
                "SELECT m.uid, p.name, m.name, r.uid, m.model_type, m.status, m.status_message, m.created_ms, \
                   m.updated_ms \
                 FROM logged_models m JOIN projects p ON p.id = m.project_id \
                 LEFT JOIN runs r ON r.id = m.source_run_id WHERE m.id = $1",
                &[&id],
            )
            .map_err(db)?;
        let metrics = self
            .client
            .borrow_mut()
            .query(
                "SELECT x.key, x.value_bits, x.step, x.wall_ms, r.uid FROM logged_model_metrics x \
                 LEFT JOIN runs r ON r.id = x.run_id WHERE x.model_id = $1 ORDER BY x.key, x.step, x.seq",
                &[&id],
            )
            .map_err(db)?
            .iter()
            .map(|r| ModelMetric {
                key: r.get(0),
                value: f64::from_bits(r.get::<_, i64>(1) as u64),
                step: r.get(2),
                wall_ms: r.get(3),
                run: r.get(4),
            })
            .collect();
        Ok(LoggedModel {
            id: row.get(0),
            project: row.get(1),
            name: row.get(2),
            source_run: row.get(3),
            model_type: row.get(4),
            status: ModelStatus::parse(row.get(5)),
            status_message: row.get(6),
            created_ms: row.get(7),
            updated_ms: row.get(8),
            tags: self.pairs("SELECT key, value FROM logged_model_tags WHERE model_id = $1", &[&id])?,
            params: self.pairs("SELECT key, value FROM logged_model_params WHERE model_id = $1", &[&id])?,
            metrics,
        })
    }

    fn registered_rowid(&self, name: &str) -> Result<i64> {
        let row = if storable(name) {
            self.client
                .borrow_mut()
                .query_opt("SELECT id FROM registered_models WHERE name = $1", &[&name])
                .map_err(db)?
        } else {
            None
        };
        row.map(|r| r.get(0)).ok_or_else(|| validate::registered_model_not_found(name))
    }

    fn registered_by_rowid(&self, id: i64) -> Result<RegisteredModel> {
        let row = self
            .client
            .borrow_mut()
            .query_one("SELECT name, description, created_ms, updated_ms FROM registered_models WHERE id = $1", &[&id])
            .map_err(db)?;
        let aliases = self
            .client
            .borrow_mut()
            .query("SELECT alias, version FROM model_aliases WHERE model_id = $1", &[&id])
            .map_err(db)?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        Ok(RegisteredModel {
            name: row.get(0),
            description: row.get(1),
            created_ms: row.get(2),
            updated_ms: row.get(3),
            tags: self.pairs("SELECT key, value FROM registered_model_tags WHERE model_id = $1", &[&id])?,
            aliases,
        })
    }

    fn version_exists(&self, id: i64, name: &str, version: i64) -> Result<()> {
        let found: bool = self
            .client
            .borrow_mut()
            .query_one(
                "SELECT EXISTS(SELECT 1 FROM model_versions WHERE model_id = $1 AND version = $2)",
                &[&id, &version],
            )
            .map_err(db)?
            .get(0);
        if found { Ok(()) } else { Err(validate::model_version_not_found(name, version)) }
    }

    /// Versions of registered model `id` (only `version` when given), by version.
    fn versions_where(&self, id: i64, version: Option<i64>) -> Result<Vec<ModelVersion>> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT rm.name, v.version, v.source, r.uid, lm.uid, v.description, v.stage, v.created_ms, \
                   v.updated_ms \
                 FROM model_versions v JOIN registered_models rm ON rm.id = v.model_id \
                 LEFT JOIN runs r ON r.id = v.run_id LEFT JOIN logged_models lm ON lm.id = v.logged_model_id \
                 WHERE v.model_id = $1 AND ($2::bigint IS NULL OR v.version = $2) ORDER BY v.version",
                &[&id, &version],
            )
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                let version: i64 = r.get(1);
                let aliases = self
                    .client
                    .borrow_mut()
                    .query(
                        "SELECT alias FROM model_aliases WHERE model_id = $1 AND version = $2 ORDER BY alias",
                        &[&id, &version],
                    )
                    .map_err(db)?
                    .iter()
                    .map(|a| a.get(0))
                    .collect();
                Ok(ModelVersion {
                    name: r.get(0),
                    version,
                    source: r.get(2),
                    run: r.get(3),
                    logged_model: r.get(4),
                    description: r.get(5),
                    stage: r.get(6),
                    created_ms: r.get(7),
                    updated_ms: r.get(8),
                    tags: self.pairs(
                        "SELECT key, value FROM model_version_tags WHERE model_id = $1 AND version = $2",
                        &[&id, &version],
                    )?,
                    aliases,
                })
            })
            .collect()
    }

    /// Runs one statement on the registered model `name`'s id (`$1`) and `args` (`$2`…).
    fn on_registered(&mut self, name: &str, sql: &str, args: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let id = self.registered_rowid(name)?;
        let mut all: Vec<&(dyn ToSql + Sync)> = vec![&id];
        all.extend_from_slice(args);
        self.client.get_mut().execute(sql, &all).map_err(db)
    }

    /// Runs one statement on an existing version: `$1` the model's id, `$2` the version,
    /// `args` from `$3`.
    fn on_version(&mut self, name: &str, version: i64, sql: &str, args: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let id = self.registered_rowid(name)?;
        self.version_exists(id, name, version)?;
        let mut all: Vec<&(dyn ToSql + Sync)> = vec![&id, &version];
        all.extend_from_slice(args);
        self.client.get_mut().execute(sql, &all).map_err(db)
    }
}

impl ModelStore for PgStore {
    // ---- logged models ----

    fn create_logged_model(&mut self, new: &NewLoggedModel) -> Result<LoggedModel> {
        self.create_logged_model_with_id(&new_model_id(), new, None)
    }

    fn create_logged_model_with_id(
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
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        let id: i64 = tx
            .query_one(
                "INSERT INTO logged_models(uid, project_id, name, source_run_id, model_type, status, created_ms, \
                   updated_ms) \
                 VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6) RETURNING id",
                &[&uid, &project, &new.name, &run, &new.model_type, &now],
            )
            .map_err(db)?
            .get(0);
        for (k, v) in &new.tags {
            tx.execute(
                "INSERT INTO logged_model_tags(model_id, key, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value",
                &[&id, k, v],
            )
            .map_err(db)?;
        }
        for (k, v) in &new.params {
            tx.execute(
                "INSERT INTO logged_model_params(model_id, key, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value",
                &[&id, k, v],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)?;
        self.logged_model_by_rowid(id)
    }

    fn logged_model(&self, uid: &str) -> Result<LoggedModel> {
        let id = self.logged_model_rowid(uid)?;
        self.logged_model_by_rowid(id)
    }

    fn logged_models(&self, projects: &[String]) -> Result<Vec<LoggedModel>> {
        let names: Vec<&str> = projects.iter().map(String::as_str).filter(|p| storable(p)).collect();
        if names.is_empty() && !projects.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = self
            .client
            .borrow_mut()
            .query(
                "SELECT m.id FROM logged_models m JOIN projects p ON p.id = m.project_id \
                 WHERE m.deleted_ms IS NULL AND (cardinality($1::text[]) = 0 OR p.name = ANY($1)) \
                 ORDER BY m.created_ms DESC, m.id DESC",
                &[&names],
            )
            .map_err(db)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        ids.into_iter().map(|id| self.logged_model_by_rowid(id)).collect()
    }

    fn logged_models_of_run(&self, run: &str) -> Result<Vec<LoggedModel>> {
        if !storable(run) {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = self
            .client
            .borrow_mut()
            .query(
                "SELECT m.id FROM logged_models m JOIN runs r ON r.id = m.source_run_id \
                 WHERE r.uid = $1 AND m.deleted_ms IS NULL ORDER BY m.created_ms DESC, m.id DESC",
                &[&run],
            )
            .map_err(db)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        ids.into_iter().map(|id| self.logged_model_by_rowid(id)).collect()
    }

    fn log_model_outputs(&mut self, run: &str, models: &[(String, i64)]) -> Result<()> {
        let run = self.run_rowid(run)?;
        let ids = models.iter().map(|(m, _)| self.logged_model_rowid(m)).collect::<Result<Vec<_>>>()?;
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        for (id, (_, step)) in ids.iter().zip(models) {
            tx.execute(
                "INSERT INTO model_outputs(run_id, model_id, step) VALUES ($1, $2, $3) \
                 ON CONFLICT (run_id, model_id) DO UPDATE SET step = excluded.step",
                &[&run, id, step],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    fn model_outputs(&self, run: &str) -> Result<Vec<(String, i64)>> {
        if !storable(run) {
            return Ok(Vec::new());
        }
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT m.uid, o.step FROM model_outputs o JOIN logged_models m ON m.id = o.model_id \
                 JOIN runs r ON r.id = o.run_id WHERE r.uid = $1 AND m.deleted_ms IS NULL \
                 ORDER BY m.created_ms, m.id",
                &[&run],
            )
            .map_err(db)?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn finalize_logged_model(&mut self, uid: &str, status: ModelStatus, message: Option<&str>) -> Result<LoggedModel> {
        let id = self.logged_model_rowid(uid)?;
        let now = self.now();
        self.client
            .get_mut()
            .execute(
                "UPDATE logged_models SET status = $2, status_message = $3, updated_ms = $4 WHERE id = $1",
                &[&id, &status.as_str(), &message, &now],
            )
            .map_err(db)?;
        self.logged_model_by_rowid(id)
    }

    fn delete_logged_model(&mut self, uid: &str) -> Result<()> {
        let id = self.logged_model_rowid(uid)?;
        let now = self.now();
        self.client
            .get_mut()
            .execute("UPDATE logged_models SET deleted_ms = $2, updated_ms = $2 WHERE id = $1", &[&id, &now])
            .map_err(db)?;
        Ok(())
    }

    fn set_logged_model_tags(&mut self, uid: &str, tags: &[(String, String)]) -> Result<()> {
        validate::tags(tags)?;
        let id = self.logged_model_rowid(uid)?;
        let now = self.now();
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        for (k, v) in tags {
            tx.execute(
                "INSERT INTO logged_model_tags(model_id, key, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value",
                &[&id, k, v],
            )
            .map_err(db)?;
        }
        tx.execute("UPDATE logged_models SET updated_ms = $2 WHERE id = $1", &[&id, &now]).map_err(db)?;
        tx.commit().map_err(db)
    }

    fn delete_logged_model_tag(&mut self, uid: &str, key: &str) -> Result<()> {
        let id = self.logged_model_rowid(uid)?;
        let n = if storable(key) {
            self.client
                .get_mut()
                .execute("DELETE FROM logged_model_tags WHERE model_id = $1 AND key = $2", &[&id, &key])
                .map_err(db)?
        } else {
            0
        };
        if n == 0 {
            return Err(validate::logged_model_tag_not_found(uid, key));
        }
        Ok(())
    }

    fn log_logged_model_params(&mut self, uid: &str, params: &[(String, String)]) -> Result<()> {
        validate::model_params(params)?;
        let id = self.logged_model_rowid(uid)?;
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        // One writer of a model's params at a time: the check and the insert go together.
        tx.execute("SELECT 1 FROM logged_models WHERE id = $1 FOR UPDATE", &[&id]).map_err(db)?;
        for (k, v) in params {
            let old = tx
                .query_opt("SELECT value FROM logged_model_params WHERE model_id = $1 AND key = $2", &[&id, k])
                .map_err(db)?
                .map(|r| r.get::<_, String>(0));
            match old {
                // Dropping the transaction rolls back what this call inserted: all or none.
                Some(old) if &old != v => return Err(validate::model_param_rewrite(uid, k, &old)),
                Some(_) => {}
                None => {
                    tx.execute(
                        "INSERT INTO logged_model_params(model_id, key, value) VALUES ($1, $2, $3)",
                        &[&id, k, v],
                    )
                    .map_err(db)?;
                }
            }
        }
        tx.commit().map_err(db)
    }

    fn log_model_metrics(&mut self, uid: &str, run: Option<&str>, metrics: &[(String, f64, i64, i64)]) -> Result<()> {
        for (k, ..) in metrics {
            validate::key("metric", k)?;
        }
        let id = self.logged_model_rowid(uid)?;
        let run = run.map(|r| self.run_rowid(r)).transpose()?;
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        // Values at the same key and step are numbered in logging order: one writer at a time.
        tx.execute("SELECT 1 FROM logged_models WHERE id = $1 FOR UPDATE", &[&id]).map_err(db)?;
        for (k, v, step, wall) in metrics {
            tx.execute(
                "INSERT INTO logged_model_metrics(model_id, key, step, wall_ms, value_bits, run_id, seq) \
                 SELECT $1, $2, $3, $4, $5, $6, coalesce(max(seq), 0) + 1 FROM logged_model_metrics \
                 WHERE model_id = $1 AND key = $2 AND step = $3",
                &[&id, k, step, wall, &(v.to_bits() as i64), &run],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    // ---- the registry ----

    fn create_registered_model(
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
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        let id: i64 = tx
            .query_opt(
                "INSERT INTO registered_models(name, description, created_ms, updated_ms) VALUES ($1, $2, $3, $3) \
                 ON CONFLICT (name) DO NOTHING RETURNING id",
                &[&name, &description, &now],
            )
            .map_err(db)?
            .ok_or_else(|| validate::registered_model_exists(name))?
            .get(0);
        for (k, v) in tags {
            tx.execute(
                "INSERT INTO registered_model_tags(model_id, key, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value",
                &[&id, k, v],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)?;
        self.registered_by_rowid(id)
    }

    fn registered_model(&self, name: &str) -> Result<RegisteredModel> {
        let id = self.registered_rowid(name)?;
        self.registered_by_rowid(id)
    }

    fn registered_models(&self) -> Result<Vec<RegisteredModel>> {
        let ids: Vec<i64> = self
            .client
            .borrow_mut()
            .query("SELECT id FROM registered_models ORDER BY name", &[])
            .map_err(db)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        ids.into_iter().map(|id| self.registered_by_rowid(id)).collect()
    }

    fn rename_registered_model(&mut self, name: &str, new_name: &str) -> Result<RegisteredModel> {
        validate::registered_model_name(new_name)?;
        let id = self.registered_rowid(name)?;
        if name != new_name && self.registered_rowid(new_name).is_ok() {
            return Err(validate::registered_model_exists(new_name));
        }
        let now = self.now();
        let done = self
            .client
            .get_mut()
            .execute("UPDATE registered_models SET name = $2, updated_ms = $3 WHERE id = $1", &[&id, &new_name, &now]);
        match done {
            Ok(_) => self.registered_by_rowid(id),
            // Taken between the check and the update, by another writer.
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Err(validate::registered_model_exists(new_name)),
            Err(e) => Err(db(e)),
        }
    }

    fn update_registered_model(&mut self, name: &str, description: Option<&str>) -> Result<RegisteredModel> {
        if let Some(d) = description {
            validate::model_text("description", d)?;
        }
        let id = self.registered_rowid(name)?;
        let now = self.now();
        self.client
            .get_mut()
            .execute(
                "UPDATE registered_models SET description = $2, updated_ms = $3 WHERE id = $1",
                &[&id, &description, &now],
            )
            .map_err(db)?;
        self.registered_by_rowid(id)
    }

    fn delete_registered_model(&mut self, name: &str) -> Result<()> {
        self.on_registered(name, "DELETE FROM registered_models WHERE id = $1", &[])?;
        Ok(())
    }

    fn set_registered_model_tag(&mut self, name: &str, key: &str, value: &str) -> Result<()> {
        validate::key("tag", key)?;
        validate::tag_value(key, value)?;
        self.on_registered(
            name,
            "INSERT INTO registered_model_tags(model_id, key, value) VALUES ($1, $2, $3) \
             ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
        Ok(())
    }

    fn delete_registered_model_tag(&mut self, name: &str, key: &str) -> Result<()> {
        let key = if storable(key) { Some(key) } else { None };
        self.on_registered(name, "DELETE FROM registered_model_tags WHERE model_id = $1 AND key = $2", &[&key])?;
        Ok(())
    }

    fn create_model_version(&mut self, new: &NewModelVersion) -> Result<ModelVersion> {
        validate::new_model_version(new)?;
        let run = new.run.as_deref().map(|r| self.run_rowid(r)).transpose()?;
        let logged = new.logged_model.as_deref().map(|m| self.logged_model_rowid(m)).transpose()?;
        if !storable(&new.name) {
            return Err(validate::registered_model_not_found(&new.name));
        }
        let now = self.now();
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        // The model's row lock: concurrent registrations take numbers one after the other.
        let (id, version): (i64, i64) = tx
            .query_opt("SELECT id, next_version FROM registered_models WHERE name = $1 FOR UPDATE", &[&new.name])
            .map_err(db)?
            .map(|r| (r.get(0), r.get(1)))
            .ok_or_else(|| validate::registered_model_not_found(&new.name))?;
        tx.execute(
            "INSERT INTO model_versions(model_id, version, source, run_id, logged_model_id, description, created_ms, \
               updated_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
            &[&id, &version, &new.source, &run, &logged, &new.description, &now],
        )
        .map_err(db)?;
        for (k, v) in &new.tags {
            tx.execute(
                "INSERT INTO model_version_tags(model_id, version, key, value) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (model_id, version, key) DO UPDATE SET value = excluded.value",
                &[&id, &version, k, v],
            )
            .map_err(db)?;
        }
        tx.execute(
            "UPDATE registered_models SET next_version = $2::bigint + 1, updated_ms = $3 WHERE id = $1",
            &[&id, &version, &now],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        self.model_version(&new.name, version)
    }

    fn model_version(&self, name: &str, version: i64) -> Result<ModelVersion> {
        let id = self.registered_rowid(name)?;
        self.version_exists(id, name, version)?;
        self.versions_where(id, Some(version))?
            .into_iter()
            .next()
            .ok_or_else(|| validate::model_version_not_found(name, version))
    }

    fn model_versions(&self, name: Option<&str>) -> Result<Vec<ModelVersion>> {
        let ids: Vec<i64> = match name {
            Some(n) => vec![self.registered_rowid(n)?],
            None => self
                .client
                .borrow_mut()
                .query("SELECT id FROM registered_models ORDER BY name", &[])
                .map_err(db)?
                .iter()
                .map(|r| r.get(0))
                .collect(),
        };
        let mut out = Vec::new();
        for id in ids {
            out.extend(self.versions_where(id, None)?);
        }
        Ok(out)
    }

    fn update_model_version(&mut self, name: &str, version: i64, description: Option<&str>) -> Result<ModelVersion> {
        if let Some(d) = description {
            validate::model_text("description", d)?;
        }
        let now = self.now();
        self.on_version(
            name,
            version,
            "UPDATE model_versions SET description = $3, updated_ms = $4 WHERE model_id = $1 AND version = $2",
            &[&description, &now],
        )?;
        self.model_version(name, version)
    }

    fn transition_model_version_stage(
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
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        if archive_existing && matches!(stage, "Staging" | "Production") {
            tx.execute(
                "UPDATE model_versions SET stage = 'Archived', updated_ms = $4 \
                 WHERE model_id = $1 AND stage = $2 AND version != $3",
                &[&id, &stage, &version, &now],
            )
            .map_err(db)?;
        }
        tx.execute(
            "UPDATE model_versions SET stage = $3, updated_ms = $4 WHERE model_id = $1 AND version = $2",
            &[&id, &version, &stage, &now],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        self.model_version(name, version)
    }

    fn delete_model_version(&mut self, name: &str, version: i64) -> Result<()> {
        self.on_version(name, version, "DELETE FROM model_versions WHERE model_id = $1 AND version = $2", &[])?;
        Ok(())
    }

    fn set_model_version_tag(&mut self, name: &str, version: i64, key: &str, value: &str) -> Result<()> {
        validate::key("tag", key)?;
        validate::tag_value(key, value)?;
        self.on_version(
            name,
            version,
            "INSERT INTO model_version_tags(model_id, version, key, value) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (model_id, version, key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
        Ok(())
    }

    fn delete_model_version_tag(&mut self, name: &str, version: i64, key: &str) -> Result<()> {
        let key = if storable(key) { Some(key) } else { None };
        self.on_version(
            name,
            version,
            "DELETE FROM model_version_tags WHERE model_id = $1 AND version = $2 AND key = $3",
            &[&key],
        )?;
        Ok(())
    }

    fn set_model_alias(&mut self, name: &str, alias: &str, version: i64) -> Result<()> {
        check_alias(alias)?;
        self.on_version(
            name,
            version,
            "INSERT INTO model_aliases(model_id, version, alias) VALUES ($1, $2, $3) \
             ON CONFLICT (model_id, alias) DO UPDATE SET version = excluded.version",
            &[&alias],
        )?;
        Ok(())
    }

    fn delete_model_alias(&mut self, name: &str, alias: &str) -> Result<()> {
        let alias = if storable(alias) { Some(alias) } else { None };
        self.on_registered(name, "DELETE FROM model_aliases WHERE model_id = $1 AND alias = $2", &[&alias])?;
        Ok(())
    }

    fn model_version_by_alias(&self, name: &str, alias: &str) -> Result<ModelVersion> {
        let id = self.registered_rowid(name)?;
        let row = if storable(alias) {
            self.client
                .borrow_mut()
                .query_opt("SELECT version FROM model_aliases WHERE model_id = $1 AND alias = $2", &[&id, &alias])
                .map_err(db)?
        } else {
            None
        };
        let version: i64 = row.map(|r| r.get(0)).ok_or_else(|| validate::model_alias_not_found(name, alias))?;
        self.model_version(name, version)
    }
}
