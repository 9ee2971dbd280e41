//! A/B comparisons on PostgreSQL, as the SQLite store keeps them: the object, its runs by arm
//! in launch order, and the verdict its maker stored.

use postgres::Row;
use trackbench_store::{AbInfo, AbRun, AbStore, Arm, NewAb, Result, RunStatus, StoreError, validate};

use crate::{PgStore, db};

const AB_COLUMNS: &str = "a.id, a.uid, p.name, a.name, a.metric, a.direction, a.status, a.spec_json, \
    a.result_json, a.error, a.created_ms, a.ended_ms";

fn ab_from_row(r: &Row) -> (i64, AbInfo) {
    let status: String = r.get(6);
    let spec: String = r.get(7);
    let result: Option<String> = r.get(8);
    (
        r.get(0),
        AbInfo {
            id: r.get(1),
            project: r.get(2),
            name: r.get(3),
            metric: r.get(4),
            direction: r.get(5),
            status: RunStatus::parse(&status).unwrap_or(RunStatus::Failed),
            spec: serde_json::from_str(&spec).unwrap_or(serde_json::Value::Null),
            result: result.and_then(|r| serde_json::from_str(&r).ok()),
            error: r.get(9),
            created_ms: r.get(10),
            ended_ms: r.get(11),
            runs: Vec::new(),
        },
    )
}

impl PgStore {
    fn ab_rowid(&self, uid: &str) -> Result<i64> {
        let row = self.client.borrow_mut().query_opt("SELECT id FROM ab_tests WHERE uid = $1", &[&uid]).map_err(db)?;
        row.map(|r| r.get(0)).ok_or_else(|| StoreError::AbNotFound(uid.to_string()))
    }

    fn ab_runs(&self, ab: i64) -> Result<Vec<AbRun>> {
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT x.arm, x.seq, r.uid FROM ab_runs x JOIN runs r ON r.id = x.run_id WHERE x.ab_id = $1 \
                 ORDER BY x.seq, r.id",
                &[&ab],
            )
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| {
                let arm: String = r.get(0);
                AbRun { arm: if arm == "b" { Arm::B } else { Arm::A }, seq: r.get(1), run_id: r.get(2) }
            })
            .collect())
    }
}

impl AbStore for PgStore {
    fn create_ab(&mut self, new: &NewAb) -> Result<String> {
        let uid = trackbench_store::new_run_id();
        self.create_ab_with_id(&uid, new, None)?;
        Ok(uid)
    }

    fn create_ab_with_id(&mut self, uid: &str, new: &NewAb, created_ms: Option<i64>) -> Result<()> {
        validate::new_ab(new)?;
        validate::key("A/B id", uid)?;
        let project_id = trackbench_store::ProjectStore::ensure_project(self, &new.project)?;
        let created = created_ms.unwrap_or_else(|| self.now());
        self.client
            .get_mut()
            .execute(
                "INSERT INTO ab_tests(uid, project_id, name, metric, direction, status, spec_json, created_ms) \
                 VALUES ($1, $2, $3, $4, $5, 'running', $6, $7)",
                &[&uid, &project_id, &new.name, &new.metric, &new.direction, &new.spec.to_string(), &created],
            )
            .map_err(db)?;
        Ok(())
    }

    fn add_ab_run(&mut self, ab: &str, arm: Arm, run: &str, seq: i64) -> Result<()> {
        let ab_id = self.ab_rowid(ab)?;
        let run_id = self.run_rowid(run)?;
        self.client
            .get_mut()
            .execute(
                "INSERT INTO ab_runs(ab_id, run_id, arm, seq) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[&ab_id, &run_id, &arm.as_str(), &seq],
            )
            .map_err(db)?;
        Ok(())
    }

    fn finish_ab(
        &mut self,
        ab: &str,
        status: RunStatus,
        result: Option<&serde_json::Value>,
        error: Option<&str>,
    ) -> Result<()> {
        self.finish_ab_at(ab, status, result, error, None)
    }

    fn finish_ab_at(
        &mut self,
        ab: &str,
        status: RunStatus,
        result: Option<&serde_json::Value>,
        error: Option<&str>,
        ended_ms: Option<i64>,
    ) -> Result<()> {
        validate::end_status("an A/B", status)?;
        let ab_id = self.ab_rowid(ab)?;
        let now = ended_ms.unwrap_or_else(|| self.now());
        self.client
            .get_mut()
            .execute(
                "UPDATE ab_tests SET status = $2, result_json = $3, error = $4, ended_ms = $5 WHERE id = $1",
                &[&ab_id, &status.as_str(), &result.map(|r| r.to_string()), &error, &now],
            )
            .map_err(db)?;
        Ok(())
    }

    fn resolve_ab(&self, what: &str) -> Result<String> {
        let found: Vec<String> = self
            .client
            .borrow_mut()
            .query(
                "SELECT uid FROM ab_tests WHERE uid = $1 OR (length($1) >= 4 AND substr(uid, 1, length($1)) = $1) \
                 LIMIT 3",
                &[&what],
            )
            .map_err(db)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        match found.len() {
            0 => Err(StoreError::AbNotFound(what.to_string())),
            1 => Ok(found.into_iter().next().unwrap_or_default()),
            _ if found.iter().any(|f| f == what) => Ok(what.to_string()),
            n => Err(validate::ambiguous_ab(what, n)),
        }
    }

    fn ab(&self, uid: &str) -> Result<AbInfo> {
        let sql =
            format!("SELECT {AB_COLUMNS} FROM ab_tests a JOIN projects p ON p.id = a.project_id WHERE a.uid = $1");
        let row = self.client.borrow_mut().query_opt(&sql, &[&uid]).map_err(db)?;
        let (rowid, mut info) = row.map(|r| ab_from_row(&r)).ok_or_else(|| StoreError::AbNotFound(uid.to_string()))?;
        info.runs = self.ab_runs(rowid)?;
        Ok(info)
    }

    fn list_abs(&self, project: Option<&str>) -> Result<Vec<AbInfo>> {
        let sql = format!(
            "SELECT {AB_COLUMNS} FROM ab_tests a JOIN projects p ON p.id = a.project_id \
             WHERE $1::text IS NULL OR p.name = $1 ORDER BY a.created_ms DESC, a.id DESC"
        );
        let rows = self.client.borrow_mut().query(&sql, &[&project]).map_err(db)?;
        rows.iter()
            .map(|r| {
                let (rowid, mut info) = ab_from_row(r);
                info.runs = self.ab_runs(rowid)?;
                Ok(info)
            })
            .collect()
    }
}
