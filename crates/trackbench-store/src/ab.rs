//! A/B comparisons: an object naming two arms of runs (A, the baseline, and B, the candidate),
//! the metric and direction they are judged on, how they were made (`spec`, free JSON) and the
//! verdict its maker computed (`result`, free JSON). The store does no statistics: it keeps
//! what the launcher or CLI computed, so `ab ls` and reports read it back unchanged.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::model::RunStatus;
use crate::{Store, validate};

/// One side of an A/B comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arm {
    A,
    B,
}

impl Arm {
    pub fn as_str(self) -> &'static str {
        match self {
            Arm::A => "a",
            Arm::B => "b",
        }
    }
}

/// What a new A/B comparison records.
#[derive(Debug, Clone, Default)]
pub struct NewAb {
    pub project: String,
    pub name: String,
    pub metric: String,
    /// `maximize` or `minimize`.
    pub direction: String,
    /// How it was made: arms' parameters, seeds, command, or the groups it was built from.
    pub spec: serde_json::Value,
}

/// A run of an A/B comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbRun {
    pub arm: Arm,
    /// Order within the comparison (launch order: A1 B1 A2 B2 …).
    pub seq: i64,
    pub run_id: String,
}

/// An A/B comparison as read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbInfo {
    pub id: String,
    pub project: String,
    pub name: String,
    pub metric: String,
    pub direction: String,
    /// `running` while its runs are launched, then `finished`, `failed` (no verdict possible)
    /// or `killed` (cancelled).
    pub status: RunStatus,
    pub spec: serde_json::Value,
    /// The verdict and every number behind it, as its maker stored it.
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    pub created_ms: i64,
    pub ended_ms: Option<i64>,
    pub runs: Vec<AbRun>,
}

const AB_COLUMNS: &str = "a.id, a.uid, p.name, a.name, a.metric, a.direction, a.status, a.spec_json, \
    a.result_json, a.error, a.created_ms, a.ended_ms";

impl Store {
    /// Creates an A/B comparison (status `running`, no runs yet) and returns its id.
    pub fn create_ab(&mut self, new: &NewAb) -> Result<String> {
        let uid = crate::new_run_id();
        self.create_ab_with_id(&uid, new, None)?;
        Ok(uid)
    }

    /// Creates an A/B with a caller-chosen id, created at `created_ms` (now when `None`):
    /// what copying a store between backends needs to keep both.
    pub fn create_ab_with_id(&mut self, uid: &str, new: &NewAb, created_ms: Option<i64>) -> Result<()> {
        validate::new_ab(new)?;
        validate::key("A/B id", uid)?;
        let project_id = self.ensure_project(&new.project)?;
        let created = created_ms.unwrap_or_else(|| self.now());
        self.conn.execute(
            "INSERT INTO ab_tests(uid, project_id, name, metric, direction, status, spec_json, created_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6, ?7)",
            params![uid, project_id, new.name, new.metric, new.direction, new.spec.to_string(), created],
        )?;
        Ok(())
    }

    /// Adds run `run` to arm `arm` of A/B `ab` at position `seq` (launch order); adding a run
    /// twice keeps the first.
    pub fn add_ab_run(&mut self, ab: &str, arm: Arm, run: &str, seq: i64) -> Result<()> {
        let ab_id = self.ab_rowid(ab)?;
        let run_id = self.run_rowid(run)?;
        self.conn.execute(
            "INSERT OR IGNORE INTO ab_runs(ab_id, run_id, arm, seq) VALUES (?1, ?2, ?3, ?4)",
            params![ab_id, run_id, arm.as_str(), seq],
        )?;
        Ok(())
    }

    /// Ends A/B `ab` with `status` (not `running`/`crashed`), its verdict and an error text.
    pub fn finish_ab(
        &mut self,
        ab: &str,
        status: RunStatus,
        result: Option<&serde_json::Value>,
        error: Option<&str>,
    ) -> Result<()> {
        self.finish_ab_at(ab, status, result, error, None)
    }

    /// [`Store::finish_ab`] at `ended_ms` (now when `None`).
    pub fn finish_ab_at(
        &mut self,
        ab: &str,
        status: RunStatus,
        result: Option<&serde_json::Value>,
        error: Option<&str>,
        ended_ms: Option<i64>,
    ) -> Result<()> {
        validate::end_status("an A/B", status)?;
        let ab_id = self.ab_rowid(ab)?;
        let ended = ended_ms.unwrap_or_else(|| self.now());
        self.conn.execute(
            "UPDATE ab_tests SET status = ?2, result_json = ?3, error = ?4, ended_ms = ?5 WHERE id = ?1",
            params![ab_id, status.as_str(), result.map(|r| r.to_string()), error, ended],
        )?;
        Ok(())
    }

    fn ab_rowid(&self, uid: &str) -> Result<i64> {
        self.conn
            .query_row("SELECT id FROM ab_tests WHERE uid = ?1", [uid], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::AbNotFound(uid.to_string()))
    }

    /// Resolves a full A/B id or a unique prefix of 4+ characters.
    pub fn resolve_ab(&self, what: &str) -> Result<String> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT uid FROM ab_tests WHERE uid = ?1 OR (length(?1) >= 4 AND substr(uid, 1, length(?1)) = ?1) LIMIT 3",
        )?;
        let found: Vec<String> = stmt.query_map([what], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        match found.len() {
            0 => Err(StoreError::AbNotFound(what.to_string())),
            1 => Ok(found.into_iter().next().unwrap_or_default()),
            _ if found.iter().any(|f| f == what) => Ok(what.to_string()),
            n => Err(validate::ambiguous_ab(what, n)),
        }
    }

    /// A/B `uid` (exact id) with its runs in launch order.
    pub fn ab(&self, uid: &str) -> Result<AbInfo> {
        let sql =
            format!("SELECT {AB_COLUMNS} FROM ab_tests a JOIN projects p ON p.id = a.project_id WHERE a.uid = ?1");
        let (rowid, mut info) = self
            .conn
            .query_row(&sql, [uid], ab_from_row)
            .optional()?
            .ok_or_else(|| StoreError::AbNotFound(uid.to_string()))?;
        info.runs = self.ab_runs(rowid)?;
        Ok(info)
    }

    /// A/B comparisons, newest first, of one project or all.
    pub fn list_abs(&self, project: Option<&str>) -> Result<Vec<AbInfo>> {
        let sql = format!(
            "SELECT {AB_COLUMNS} FROM ab_tests a JOIN projects p ON p.id = a.project_id \
             WHERE ?1 IS NULL OR p.name = ?1 ORDER BY a.created_ms DESC, a.id DESC"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows: Vec<(i64, AbInfo)> = stmt.query_map([project], ab_from_row)?.collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(rowid, mut info)| {
                info.runs = self.ab_runs(rowid)?;
                Ok(info)
            })
            .collect()
    }

    fn ab_runs(&self, ab_rowid: i64) -> Result<Vec<AbRun>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT x.arm, x.seq, r.uid FROM ab_runs x JOIN runs r ON r.id = x.run_id WHERE x.ab_id = ?1 ORDER BY x.seq, r.id",
        )?;
        let rows = stmt.query_map([ab_rowid], |r| {
            let arm: String = r.get(0)?;
            Ok(AbRun { arm: if arm == "b" { Arm::B } else { Arm::A }, seq: r.get(1)?, run_id: r.get(2)? })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn ab_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, AbInfo)> {
    let status: String = r.get(6)?;
    let spec: String = r.get(7)?;
    let result: Option<String> = r.get(8)?;
    Ok((
        r.get(0)?,
        AbInfo {
            id: r.get(1)?,
            project: r.get(2)?,
            name: r.get(3)?,
            metric: r.get(4)?,
            direction: r.get(5)?,
            status: RunStatus::parse(&status).unwrap_or(RunStatus::Failed),
            spec: serde_json::from_str(&spec).unwrap_or(serde_json::Value::Null),
            result: result.and_then(|s| serde_json::from_str(&s).ok()),
            error: r.get(9)?,
            created_ms: r.get(10)?,
            ended_ms: r.get(11)?,
            runs: Vec::new(),
        },
    ))
}
