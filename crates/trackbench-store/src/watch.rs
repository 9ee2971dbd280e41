//! Change detection for live views: what changed in the store since the last look.
//!
//! A [`ChangeCursor`] remembers the newest run, the status of every run that may still change
//! and the point count of each of their series. [`Store::poll_changes`] compares the store with
//! it and returns the differences as [`Change`]s. Only running runs (and runs that just ended)
//! are scanned, so a poll costs little however large the store is. Callers poll when the files
//! change or `PRAGMA data_version` moves (see [`Store::data_version`]).

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use crate::Store;
use crate::error::Result;
use crate::model::RunStatus;

/// One change seen by [`Store::poll_changes`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    /// A run was created.
    RunCreated { run: String, project: String, name: String, status: RunStatus },
    /// A run's effective status changed (including `running` -> `crashed`).
    RunStatus { run: String, project: String, status: RunStatus },
    /// New points arrived in one series; `count` is the series' total.
    Points { run: String, project: String, key: String, count: i64, last_step: i64 },
}

#[derive(Debug, Clone)]
struct Watched {
    uid: String,
    project: String,
    status: RunStatus,
}

/// What a poller has already seen.
#[derive(Debug, Default, Clone)]
pub struct ChangeCursor {
    primed: bool,
    max_run_id: i64,
    watched: FxHashMap<i64, Watched>,
    counts: FxHashMap<(i64, i64), i64>,
}

impl Store {
    /// A cursor at the store's current state: the next poll reports only later changes.
    pub fn change_cursor(&self) -> Result<ChangeCursor> {
        let mut c = ChangeCursor::default();
        self.poll_changes(&mut c)?;
        Ok(c)
    }

    /// Changes since `cursor`, which is moved past them.
    pub fn poll_changes(&self, cursor: &mut ChangeCursor) -> Result<Vec<Change>> {
        let first = !cursor.primed;
        cursor.primed = true;
        let mut out = Vec::new();
        let stale = self.stale_before();
        let status_sql = crate::runs::status_sql(&self.gone_runs(None)?);
        let status_sql = status_sql.as_str();
        // New runs.
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT r.id, r.uid, p.name, r.name, {status_sql} FROM runs r JOIN projects p ON p.id = r.project_id \
             WHERE r.id > ?2 ORDER BY r.id"
        ))?;
        let rows = stmt.query_map(rusqlite::params![stale, cursor.max_run_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        for row in rows {
            let (id, uid, project, name, status) = row?;
            let status = RunStatus::parse(&status).unwrap_or(RunStatus::Running);
            cursor.max_run_id = cursor.max_run_id.max(id);
            if !first {
                out.push(Change::RunCreated { run: uid.clone(), project: project.clone(), name, status });
            }
            cursor
                .watched
                .insert(id, Watched { uid, project, status: if first { status } else { RunStatus::Running } });
        }
        // Runs that are running now (resumed ones included) or were running at the last look.
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT r.id, r.uid, p.name, {status_sql} FROM runs r JOIN projects p ON p.id = r.project_id \
             WHERE r.status = 'running'"
        ))?;
        let mut current: FxHashMap<i64, (String, String, RunStatus)> = FxHashMap::default();
        for row in stmt.query_map([stale], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
        })? {
            let (id, uid, project, status) = row?;
            current.insert(id, (uid, project, RunStatus::parse(&status).unwrap_or(RunStatus::Running)));
        }
        let gone: Vec<i64> = cursor.watched.keys().filter(|id| !current.contains_key(id)).copied().collect();
        for id in gone {
            // Ended (or deleted for good) since the last look.
            let status: Option<String> = {
                let mut s = self.conn.prepare_cached(&format!("SELECT {status_sql} FROM runs r WHERE r.id = ?2"))?;
                use rusqlite::OptionalExtension;
                s.query_row(rusqlite::params![stale, id], |r| r.get(0)).optional()?
            };
            if let Some(status) = status.as_deref().and_then(RunStatus::parse) {
                current.insert(id, (cursor.watched[&id].uid.clone(), cursor.watched[&id].project.clone(), status));
            }
        }
        let ids: FxHashSet<i64> = current.keys().copied().collect();
        for (&id, (uid, project, status)) in &current {
            let prev = cursor.watched.get(&id).map(|w| w.status);
            if !first && prev != Some(*status) && !(prev.is_none() && *status == RunStatus::Running) {
                out.push(Change::RunStatus { run: uid.clone(), project: project.clone(), status: *status });
            }
            if !first && prev.is_none() && *status == RunStatus::Running {
                // A finished run was resumed.
                out.push(Change::RunStatus { run: uid.clone(), project: project.clone(), status: *status });
            }
        }
        // New points in the series of those runs.
        if !ids.is_empty() {
            let list = ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
            let mut stmt = self.conn.prepare(&format!(
                "SELECT s.run_id, s.key_id, k.name, s.count, s.last_step FROM metric_summaries s \
                 JOIN metric_keys k ON k.id = s.key_id WHERE s.run_id IN ({list}) ORDER BY s.run_id, k.name"
            ))?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                ))
            })?;
            for row in rows {
                let (run_id, key_id, key, count, last_step) = row?;
                let prev = cursor.counts.insert((run_id, key_id), count);
                if !first && prev != Some(count) {
                    let (uid, project, _) = &current[&run_id];
                    out.push(Change::Points { run: uid.clone(), project: project.clone(), key, count, last_step });
                }
            }
        }
        // Keep watching only what may still change.
        cursor.watched = current
            .into_iter()
            .filter(|(_, (_, _, s))| matches!(s, RunStatus::Running | RunStatus::Crashed))
            .map(|(id, (uid, project, status))| (id, Watched { uid, project, status }))
            .collect();
        cursor.counts.retain(|(run, _), _| cursor.watched.contains_key(run));
        Ok(out)
    }
}
