//! Projects and runs: create, look up, list with filters, change status/tags/notes, delete;
//! reads of a run's params, tags, summaries and log lines; store health.

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::error::{Result, StoreError};
use crate::liveness::ProcessIdentity;
use crate::model::*;
use crate::{Store, validate};

/// Columns of [`RunInfo`], in the order [`run_from_row`] reads them, with the effective status
/// of [`status_sql`]. `?1` is the "stale before" time for crash detection.
pub(crate) fn run_columns(gone: &[i64]) -> String {
    format!(
        "r.uid, p.name, r.name, {}, r.grp, r.notes, r.created_ms, r.started_ms, r.ended_ms, r.heartbeat_ms, \
         r.host, r.pid, r.command, r.git_commit, r.git_dirty, r.env_json, r.error, r.deleted_ms",
        status_sql(gone)
    )
}

/// SQL for the effective status of run `r`: a `running` run reads `crashed` when its heartbeat
/// is older than `?1` or its id is in `gone` (its process on this host is gone, see
/// [`Store::gone_runs`]). The ids are the store's own integers, never user input.
pub(crate) fn status_sql(gone: &[i64]) -> String {
    status_sql_with(gone, "?1")
}

/// [`status_sql`] with the stale-before time at placeholder `stale` (`?1`, `$1`).
pub fn status_sql_with(gone: &[i64], stale: &str) -> String {
    if gone.is_empty() {
        return format!(
            "(CASE WHEN r.status = 'running' AND r.heartbeat_ms < {stale} THEN 'crashed' ELSE r.status END)"
        );
    }
    let ids = gone.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    format!(
        "(CASE WHEN r.status = 'running' AND (r.heartbeat_ms < {stale} OR r.id IN ({ids})) THEN 'crashed' \
         ELSE r.status END)"
    )
}

fn run_from_row(row: &Row) -> rusqlite::Result<RunInfo> {
    let status: String = row.get(3)?;
    let env: Option<String> = row.get(15)?;
    Ok(RunInfo {
        id: row.get(0)?,
        project: row.get(1)?,
        name: row.get(2)?,
        status: RunStatus::parse(&status).unwrap_or(RunStatus::Failed),
        group: row.get(4)?,
        notes: row.get(5)?,
        created_ms: row.get(6)?,
        started_ms: row.get(7)?,
        ended_ms: row.get(8)?,
        heartbeat_ms: row.get(9)?,
        host: row.get(10)?,
        pid: row.get(11)?,
        command: row.get(12)?,
        git_commit: row.get(13)?,
        git_dirty: row.get::<_, Option<i64>>(14)?.map(|d| d != 0),
        env: env.and_then(|e| serde_json::from_str(&e).ok()),
        error: row.get(16)?,
        deleted: row.get::<_, Option<i64>>(17)?.is_some(),
    })
}

/// Store health, as `trackbench doctor` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub path: String,
    pub schema_version: i64,
    pub integrity: String,
    pub projects: i64,
    pub runs: i64,
    pub metric_series: i64,
    pub metric_points: i64,
    pub metric_chunks: i64,
    pub artifacts: i64,
    pub blob_bytes: i64,
    pub db_bytes: u64,
}

const ADJECTIVES: [&str; 16] = [
    "amber", "brisk", "calm", "dawn", "eager", "fleet", "gentle", "hazy", "ivory", "jolly", "keen", "lucid", "mellow",
    "nimble", "quiet", "rapid",
];
const NOUNS: [&str; 16] = [
    "river", "falcon", "meadow", "comet", "harbor", "pine", "ember", "glacier", "lotus", "canyon", "otter", "breeze",
    "summit", "willow", "quartz", "tide",
];
const ID_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// The readable name a run without one gets (`calm-otter-3`): two words picked by its id and
/// the number of runs its project already had, plus one. Every backend names runs so.
pub fn default_run_name(uid: &str, runs_before: i64) -> String {
    let b = blake3::hash(uid.as_bytes());
    let b = b.as_bytes();
    format!("{}-{}-{}", ADJECTIVES[(b[0] & 15) as usize], NOUNS[(b[1] & 15) as usize], runs_before + 1)
}

/// A fresh 16-character run id: 80 bits hashed from the operating system's randomness (drawn
/// by std's hash-map seeding, no clock read), the pid and a counter.
pub fn new_run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = blake3::Hasher::new();
    for _ in 0..2 {
        // Each RandomState is seeded from the OS once per thread, then stepped: two draws.
        h.update(&std::collections::hash_map::RandomState::new().build_hasher().finish().to_le_bytes());
    }
    h.update(&std::process::id().to_le_bytes());
    h.update(&COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    h.update(&(&COUNTER as *const _ as usize).to_le_bytes());
    let bytes = h.finalize();
    let mut bits = u128::from_le_bytes(bytes.as_bytes()[..16].try_into().unwrap_or([0; 16]));
    (0..16)
        .map(|_| {
            let c = ID_ALPHABET[(bits & 31) as usize] as char;
            bits >>= 5;
            c
        })
        .collect()
}

impl Store {
    /// The stale-before time for crash detection.
    pub(crate) fn stale_before(&self) -> i64 {
        self.now() - self.opts.heartbeat_timeout_ms
    }

    /// Ids of running runs (all, or only run `uid`) whose heartbeat is still fresh but whose
    /// process on this host is gone: not running, or its pid now names a process with another
    /// start time. Only runs recorded with this host's name and boot key are probed (see
    /// [`crate::liveness`]); each costs one small `/proc` read, and nothing is cached.
    pub(crate) fn gone_runs(&self, uid: Option<&str>) -> Result<Vec<i64>> {
        let Some(probe) = self.opts.process_probe.as_ref().filter(|_| self.has_liveness) else {
            return Ok(Vec::new());
        };
        let (Some(host), Some(boot)) = (probe.host(), probe.boot()) else { return Ok(Vec::new()) };
        let sql = "SELECT id, pid, proc_start FROM runs \
                   WHERE status = 'running' AND host = ?1 AND proc_boot = ?2 AND heartbeat_ms >= ?3 \
                   AND pid IS NOT NULL AND proc_start IS NOT NULL AND (?4 IS NULL OR uid = ?4)";
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params![host, boot, self.stale_before(), uid], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        })?;
        let mut gone = Vec::new();
        for row in rows {
            let (id, pid, start) = row?;
            if probe.start_ticks(pid) != Some(start) {
                gone.push(id);
            }
        }
        Ok(gone)
    }

    /// True when process `p` runs on this machine now (the probe knows this host and boot,
    /// and the pid has the recorded start time).
    fn still_running(&self, p: &ProcessIdentity) -> bool {
        self.opts.process_probe.as_ref().is_some_and(|probe| p.runs_under(probe.as_ref()))
    }

    /// Creates a run (status `running`, heartbeat now) and returns it.
    pub fn create_run(&mut self, new: &NewRun) -> Result<RunInfo> {
        self.create_run_with_id(&new_run_id(), new)
    }

    /// Creates a run with a caller-chosen id (importers keep the source id where they can).
    pub fn create_run_with_id(&mut self, uid: &str, new: &NewRun) -> Result<RunInfo> {
        validate::new_run(uid, new)?;
        let project_id = self.ensure_project(&new.project)?;
        let now = self.now();
        let created = new.created_ms.unwrap_or(now);
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let name = match &new.name {
            Some(n) => n.clone(),
            None => {
                let count: i64 =
                    tx.query_row("SELECT count(*) FROM runs WHERE project_id = ?1", [project_id], |r| r.get(0))?;
                default_run_name(uid, count)
            }
        };
        let env = new.env.as_ref().map(|e| e.to_string());
        // The id is above every id a purged run ever had (`id_floor`), so an id another
        // connection cached for a purged run never comes to name this one.
        tx.execute(
            "INSERT INTO runs(id, uid, project_id, name, status, grp, notes, created_ms, started_ms, heartbeat_ms, \
               host, pid, command, git_commit, git_dirty, env_json, proc_start, proc_boot) \
             VALUES (max(coalesce((SELECT max(id) FROM runs), 0), \
                         coalesce((SELECT max_id FROM id_floor WHERE tbl = 'runs'), 0)) + 1, \
                     ?1, ?2, ?3, 'running', ?4, ?5, ?6, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                uid,
                project_id,
                name,
                new.group,
                new.notes,
                created,
                now.max(created),
                new.host,
                new.pid,
                new.command,
                new.git_commit,
                new.git_dirty.map(i64::from),
                env,
                new.proc_start,
                new.proc_boot
            ],
        )?;
        let rowid = tx.last_insert_rowid();
        for (k, v) in &new.tags {
            tx.execute(
                "INSERT OR REPLACE INTO run_tags(run_id, key, value) VALUES (?1, ?2, ?3)",
                params![rowid, k, v],
            )?;
        }
        tx.commit()?;
        self.run_ids.insert(uid.to_string(), rowid);
        self.run(uid)
    }

    /// Internal rowid of run `uid` (exact id only; cached).
    pub(crate) fn run_rowid(&mut self, uid: &str) -> Result<i64> {
        if let Some(&id) = self.run_ids.get(uid) {
            return Ok(id);
        }
        let id: i64 = self
            .conn
            .query_row("SELECT id FROM runs WHERE uid = ?1", [uid], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::RunNotFound(uid.to_string()))?;
        self.run_ids.insert(uid.to_string(), id);
        Ok(id)
    }

    /// Resolves what a user typed (a full id, a unique id prefix of 4+ characters, or a unique
    /// run name) to a run id.
    pub fn resolve_run(&self, what: &str) -> Result<String> {
        let exact: Option<String> =
            self.conn.query_row("SELECT uid FROM runs WHERE uid = ?1", [what], |r| r.get(0)).optional()?;
        if let Some(uid) = exact {
            return Ok(uid);
        }
        let mut candidates: Vec<String> = Vec::new();
        if what.len() >= 4 && what.chars().all(|c| c.is_ascii_alphanumeric()) {
            let mut stmt = self.conn.prepare("SELECT uid FROM runs WHERE uid >= ?1 AND uid < ?1 || '~' LIMIT 10")?;
            candidates = stmt.query_map([what], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        }
        if candidates.is_empty() {
            let mut stmt = self.conn.prepare("SELECT uid FROM runs WHERE name = ?1 AND deleted_ms IS NULL LIMIT 10")?;
            candidates = stmt.query_map([what], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        }
        match candidates.len() {
            0 => Err(StoreError::RunNotFound(what.to_string())),
            1 => Ok(candidates.remove(0)),
            n => Err(StoreError::AmbiguousRun(what.to_string(), n)),
        }
    }

    /// Run `uid` (exact id).
    pub fn run(&self, uid: &str) -> Result<RunInfo> {
        let sql = format!(
            "SELECT {} FROM runs r JOIN projects p ON p.id = r.project_id WHERE r.uid = ?2",
            run_columns(&self.gone_runs(Some(uid))?)
        );
        self.conn
            .query_row(&sql, params![self.stale_before(), uid], run_from_row)
            .optional()?
            .ok_or_else(|| StoreError::RunNotFound(uid.to_string()))
    }

    /// Runs matching `q`, newest first unless `q.order_by` says otherwise.
    pub fn list_runs(&self, q: &RunQuery) -> Result<Vec<RunInfo>> {
        let gone = self.gone_runs(None)?;
        let (text, params) = crate::filter::list_runs_sql(
            crate::filter::Dialect::Sqlite,
            q,
            self.stale_before(),
            self.now(),
            &gone,
            &run_columns(&gone),
        )?;
        let mut stmt = self.conn.prepare(&text)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), run_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Marks a run ended with `status` (not `running`/`crashed`), keeping `error` text.
    pub fn finish_run(&mut self, uid: &str, status: RunStatus, error: Option<&str>) -> Result<()> {
        self.finish_run_at(uid, status, error, None)
    }

    /// [`Store::finish_run`] with the end time given by the caller (an MLflow client's
    /// `end_time`, an importer's); the store's clock when `None`.
    pub fn finish_run_at(
        &mut self,
        uid: &str,
        status: RunStatus,
        error: Option<&str>,
        ended_ms: Option<i64>,
    ) -> Result<()> {
        validate::end_status("a run", status)?;
        let id = self.run_rowid(uid)?;
        let ended = ended_ms.unwrap_or_else(|| self.now());
        self.conn.execute(
            "UPDATE runs SET status = ?2, ended_ms = ?3, heartbeat_ms = max(heartbeat_ms, ?3), error = coalesce(?4, error) \
             WHERE id = ?1",
            params![id, status.as_str(), ended, error],
        )?;
        self.compact_run(uid)?;
        Ok(())
    }

    /// Puts a run back to `running` (an SDK resuming it), with a fresh heartbeat. The process
    /// recorded as holding it stays when it still runs on this host (a launched run, whose
    /// launcher holds it while the child attaches); otherwise the record is dropped, so the run
    /// is judged by its heartbeat only. [`Store::resume_run_as`] records the resuming process.
    pub fn resume_run(&mut self, uid: &str) -> Result<()> {
        self.resume_run_as(uid, None)
    }

    /// [`Store::resume_run`] by process `by`, which becomes the run's holder unless the one
    /// recorded still runs on this host.
    pub fn resume_run_as(&mut self, uid: &str, by: Option<&ProcessIdentity>) -> Result<()> {
        let id = self.run_rowid(uid)?;
        let now = self.now();
        let holder = self
            .conn
            .query_row("SELECT host, pid, proc_start, proc_boot FROM runs WHERE id = ?1", [id], |r| {
                Ok(match (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?) {
                    (Some(host), Some(pid), Some(start_ticks), Some(boot)) => {
                        Some(ProcessIdentity { host, pid, start_ticks, boot })
                    }
                    _ => None,
                })
            })
            .optional()?
            .ok_or_else(|| StoreError::RunNotFound(uid.to_string()))?;
        let held = holder.is_some_and(|h| self.still_running(&h));
        if held {
            self.conn.execute(
                "UPDATE runs SET status = 'running', ended_ms = NULL, heartbeat_ms = ?2 WHERE id = ?1",
                params![id, now],
            )?;
        } else {
            let (host, pid, start, boot) = match by {
                Some(p) => (Some(p.host.as_str()), Some(p.pid), Some(p.start_ticks), Some(p.boot.as_str())),
                None => (None, None, None, None),
            };
            // Without a new holder, host and pid stay as context; only the liveness record goes.
            self.conn.execute(
                "UPDATE runs SET status = 'running', ended_ms = NULL, heartbeat_ms = ?2, \
                   host = coalesce(?3, host), pid = coalesce(?4, pid), proc_start = ?5, proc_boot = ?6 \
                 WHERE id = ?1",
                params![id, now, host, pid, start, boot],
            )?;
        }
        Ok(())
    }

    /// Records that the run is alive.
    pub fn heartbeat(&mut self, uid: &str, at_ms: i64) -> Result<()> {
        let id = self.run_rowid(uid)?;
        self.conn.execute("UPDATE runs SET heartbeat_ms = max(heartbeat_ms, ?2) WHERE id = ?1", params![id, at_ms])?;
        Ok(())
    }

    /// Sets one tag (wrapper over [`Store::log_batch`]).
    pub fn set_tag(&mut self, uid: &str, key: &str, value: &str) -> Result<()> {
        let batch = Batch { tags: vec![(key.to_string(), value.to_string())], ..Batch::default() };
        let report = self.log_batch(uid, &batch)?;
        match report.rejected.into_iter().next() {
            Some(r) => Err(StoreError::Invalid { what: "tag", why: r.reason }),
            None => Ok(()),
        }
    }

    /// Removes one tag; false when it was not set.
    pub fn remove_tag(&mut self, uid: &str, key: &str) -> Result<bool> {
        let id = self.run_rowid(uid)?;
        Ok(self.conn.execute("DELETE FROM run_tags WHERE run_id = ?1 AND key = ?2", params![id, key])? > 0)
    }

    /// Renames a run (names need not be unique).
    pub fn set_run_name(&mut self, uid: &str, name: &str) -> Result<()> {
        validate::name("run name", name)?;
        let id = self.run_rowid(uid)?;
        self.conn.execute("UPDATE runs SET name = ?2 WHERE id = ?1", params![id, name])?;
        Ok(())
    }

    /// Records inputs of a run (MLflow datasets), each a JSON object identified by `digest`;
    /// an input already recorded with the same digest is not added again.
    pub fn add_run_inputs(&mut self, uid: &str, inputs: &[(String, serde_json::Value)]) -> Result<()> {
        let id = self.run_rowid(uid)?;
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for (digest, value) in inputs {
            validate::key("input digest", digest)?;
            let exists: bool = tx.query_row(
                "SELECT EXISTS(SELECT 1 FROM run_inputs WHERE run_id = ?1 AND digest = ?2)",
                params![id, digest],
                |r| r.get(0),
            )?;
            if !exists {
                tx.execute(
                    "INSERT INTO run_inputs(run_id, seq, digest, value_json) \
                     VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM run_inputs WHERE run_id = ?1), ?2, ?3)",
                    params![id, digest, value.to_string()],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Inputs of a run in the order they were first recorded.
    pub fn run_inputs(&self, uid: &str) -> Result<Vec<serde_json::Value>> {
        self.run(uid)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT value_json FROM run_inputs WHERE run_id = (SELECT id FROM runs WHERE uid = ?1) ORDER BY seq",
        )?;
        let rows = stmt.query_map([uid], |r| r.get::<_, String>(0))?;
        rows.map(|r| Ok(serde_json::from_str(&r?).unwrap_or(serde_json::Value::Null))).collect()
    }

    pub fn set_notes(&mut self, uid: &str, notes: Option<&str>) -> Result<()> {
        let id = self.run_rowid(uid)?;
        self.conn.execute("UPDATE runs SET notes = ?2 WHERE id = ?1", params![id, notes])?;
        Ok(())
    }

    /// Soft-deletes a run (hidden from listings, restorable).
    pub fn delete_run(&mut self, uid: &str) -> Result<()> {
        let id = self.run_rowid(uid)?;
        let now = self.now();
        self.conn.execute("UPDATE runs SET deleted_ms = ?2 WHERE id = ?1 AND deleted_ms IS NULL", params![id, now])?;
        Ok(())
    }

    pub fn restore_run(&mut self, uid: &str) -> Result<()> {
        let id = self.run_rowid(uid)?;
        self.conn.execute("UPDATE runs SET deleted_ms = NULL WHERE id = ?1", params![id])?;
        Ok(())
    }

    /// Deletes a run and everything it logged, for good (blobs stay until garbage collection).
    pub fn purge_run(&mut self, uid: &str) -> Result<()> {
        let id = self.run_rowid(uid)?;
        self.conn.execute("DELETE FROM runs WHERE id = ?1", [id])?;
        self.run_ids.remove(uid);
        Ok(())
    }

    /// Params of a run, sorted by key, values with their JSON type.
    pub fn params(&self, uid: &str) -> Result<Vec<(String, serde_json::Value)>> {
        self.key_json_rows(
            "SELECT key, value_json FROM params WHERE run_id = (SELECT id FROM runs WHERE uid = ?1) ORDER BY key",
            uid,
        )
    }

    /// User summary values of a run, sorted by key.
    pub fn summary_values(&self, uid: &str) -> Result<Vec<(String, serde_json::Value)>> {
        self.key_json_rows(
            "SELECT key, value_json FROM run_summary WHERE run_id = (SELECT id FROM runs WHERE uid = ?1) ORDER BY key",
            uid,
        )
    }

    fn key_json_rows(&self, sql: &str, uid: &str) -> Result<Vec<(String, serde_json::Value)>> {
        self.run(uid)?;
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([uid], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        rows.map(|r| {
            let (k, v) = r?;
            Ok((k, serde_json::from_str(&v).unwrap_or(serde_json::Value::String(v))))
        })
        .collect()
    }

    /// Tags of a run, sorted by key.
    pub fn tags(&self, uid: &str) -> Result<Vec<(String, String)>> {
        self.run(uid)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT key, value FROM run_tags WHERE run_id = (SELECT id FROM runs WHERE uid = ?1) ORDER BY key",
        )?;
        let rows = stmt.query_map([uid], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Summaries of every metric series of a run, sorted by key.
    pub fn metric_summaries(&self, uid: &str) -> Result<Vec<MetricSummary>> {
        self.run(uid)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT k.name, s.count, s.nan_count, s.last, s.last_is_nan, s.last_step, s.last_wall_ms, s.min, s.max, s.sum \
             FROM metric_summaries s JOIN metric_keys k ON k.id = s.key_id \
             WHERE s.run_id = (SELECT id FROM runs WHERE uid = ?1) ORDER BY k.name",
        )?;
        let rows = stmt.query_map([uid], |r| {
            let last: Option<f64> = r.get(3)?;
            let is_nan: bool = r.get(4)?;
            Ok(MetricSummary {
                key: r.get(0)?,
                count: r.get(1)?,
                nan_count: r.get(2)?,
                last: if is_nan { f64::NAN } else { last.unwrap_or(f64::NAN) },
                last_step: r.get(5)?,
                last_wall_ms: r.get(6)?,
                min: r.get(7)?,
                max: r.get(8)?,
                sum: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Captured log lines of a run with `seq > after`, oldest first.
    pub fn log_lines(&self, uid: &str, after: i64, limit: usize) -> Result<Vec<StoredLogLine>> {
        self.run(uid)?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, stream, ts_ms, line FROM log_lines WHERE run_id = (SELECT id FROM runs WHERE uid = ?1) \
             AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![uid, after, limit as i64], |r| {
            let stream: String = r.get(1)?;
            Ok(StoredLogLine {
                seq: r.get(0)?,
                line: LogLine {
                    stream: if stream == "stderr" { Stream::Stderr } else { Stream::Stdout },
                    ts_ms: r.get(2)?,
                    line: r.get(3)?,
                },
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Store path, schema version, `PRAGMA integrity_check` and counts.
    pub fn health(&self) -> Result<Health> {
        let integrity: Vec<String> = {
            let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
            stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
        };
        let count = |sql: &str| -> Result<i64> { Ok(self.conn.query_row(sql, [], |r| r.get(0))?) };
        Ok(Health {
            path: self.root.display().to_string(),
            schema_version: self.schema_version()?,
            integrity: integrity.join("; "),
            projects: count("SELECT count(*) FROM projects")?,
            runs: count("SELECT count(*) FROM runs")?,
            metric_series: count("SELECT count(*) FROM metric_summaries")?,
            metric_points: count("SELECT coalesce(sum(count), 0) FROM metric_summaries")?,
            metric_chunks: count("SELECT count(*) FROM metric_chunks")?,
            artifacts: count("SELECT count(*) FROM artifacts")?,
            blob_bytes: count("SELECT coalesce(sum(size), 0) FROM (SELECT DISTINCT hash, size FROM artifacts)")?,
            db_bytes: std::fs::metadata(self.db_path()).map(|m| m.len()).unwrap_or(0)
                + std::fs::metadata(self.root.join(format!("{}-wal", crate::DB_FILE))).map(|m| m.len()).unwrap_or(0),
        })
    }
}
