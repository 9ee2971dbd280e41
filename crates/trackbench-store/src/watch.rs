//! Change detection for live views: what changed in the store since the last look.
//!
//! A [`ChangeCursor`] remembers the newest run, the status of every run that may still change
//! and the point count of each of their series. [`Store::poll_changes`] compares the store with
//! it and returns the differences as [`Change`]s. Only running runs (and runs that just ended)
//! are scanned, so a poll costs little however large the store is. Callers poll when the files
//! change or `PRAGMA data_version` moves (see [`Store::data_version`]).

use rustc_hash::FxHashMap;
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

/// One run as a poll sees it: internal id, uid, project, name and effective status.
pub type PolledRun = (i64, String, String, String, RunStatus);
/// One series as a poll sees it: run id, key id, key, point count, last step.
pub type PolledSeries = (i64, i64, String, i64, i64);

/// The four questions a poll asks a backend; [`poll_changes_with`] turns the answers into
/// [`Change`]s, so every backend reports the same changes. Statuses are effective ones (a
/// silent `running` run reads `crashed`), as of one moment per poll.
pub trait ChangeSource {
    /// Runs whose internal id is above `after`, by id.
    fn runs_after(&self, after: i64) -> Result<Vec<PolledRun>>;
    /// Runs stored as `running` (resumed ones included); their names may be empty.
    fn running_runs(&self) -> Result<Vec<PolledRun>>;
    /// The effective status of run `id`, `None` once it is purged.
    fn run_status(&self, id: i64) -> Result<Option<RunStatus>>;
    /// The series of `runs`, by run then key.
    fn series_counts(&self, runs: &[i64]) -> Result<Vec<PolledSeries>>;
}

/// Changes since `cursor` as `src` answers, the cursor moved past them: the poll every
/// backend's `poll_changes` is.
pub fn poll_changes_with(src: &impl ChangeSource, cursor: &mut ChangeCursor) -> Result<Vec<Change>> {
    let first = !cursor.primed;
    cursor.primed = true;
    let mut out = Vec::new();
    // New runs.
    for (id, uid, project, name, status) in src.runs_after(cursor.max_run_id)? {
        cursor.max_run_id = cursor.max_run_id.max(id);
        if !first {
            out.push(Change::RunCreated { run: uid.clone(), project: project.clone(), name, status });
        }
        cursor.watched.insert(id, Watched { uid, project, status: if first { status } else { RunStatus::Running } });
    }
    // Runs that are running now (resumed ones included) or were running at the last look.
    let mut current: FxHashMap<i64, (String, String, RunStatus)> = FxHashMap::default();
    for (id, uid, project, _, status) in src.running_runs()? {
        current.insert(id, (uid, project, status));
    }
    let gone: Vec<i64> = cursor.watched.keys().filter(|id| !current.contains_key(id)).copied().collect();
    for id in gone {
        // Ended (or deleted for good) since the last look.
        if let Some(status) = src.run_status(id)? {
            current.insert(id, (cursor.watched[&id].uid.clone(), cursor.watched[&id].project.clone(), status));
        }
    }
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
    if !current.is_empty() {
        let mut ids: Vec<i64> = current.keys().copied().collect();
        ids.sort_unstable();
        for (run_id, key_id, key, count, last_step) in src.series_counts(&ids)? {
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

/// The SQLite store's answers, with the effective-status expression fixed for one poll.
struct SqlitePoll<'a> {
    store: &'a Store,
    stale: i64,
    status_sql: String,
}

fn polled_run(r: &rusqlite::Row<'_>) -> rusqlite::Result<PolledRun> {
    let status: String = r.get(4)?;
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, RunStatus::parse(&status).unwrap_or(RunStatus::Running)))
}

impl ChangeSource for SqlitePoll<'_> {
    fn runs_after(&self, after: i64) -> Result<Vec<PolledRun>> {
        let mut stmt = self.store.conn.prepare_cached(&format!(
            "SELECT r.id, r.uid, p.name, r.name, {} FROM runs r JOIN projects p ON p.id = r.project_id \
             WHERE r.id > ?2 ORDER BY r.id",
            self.status_sql
        ))?;
        let rows = stmt.query_map(rusqlite::params![self.stale, after], polled_run)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn running_runs(&self) -> Result<Vec<PolledRun>> {
        let mut stmt = self.store.conn.prepare_cached(&format!(
            "SELECT r.id, r.uid, p.name, '', {} FROM runs r JOIN projects p ON p.id = r.project_id \
             WHERE r.status = 'running'",
            self.status_sql
        ))?;
        let rows = stmt.query_map([self.stale], polled_run)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn run_status(&self, id: i64) -> Result<Option<RunStatus>> {
        use rusqlite::OptionalExtension;
        let mut s =
            self.store.conn.prepare_cached(&format!("SELECT {} FROM runs r WHERE r.id = ?2", self.status_sql))?;
        let status: Option<String> = s.query_row(rusqlite::params![self.stale, id], |r| r.get(0)).optional()?;
        Ok(status.as_deref().and_then(RunStatus::parse))
    }

    fn series_counts(&self, runs: &[i64]) -> Result<Vec<PolledSeries>> {
        // Internal ids, not input: safe to inline.
        let list = runs.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let mut stmt = self.store.conn.prepare(&format!(
            "SELECT s.run_id, s.key_id, k.name, s.count, s.last_step FROM metric_summaries s \
             JOIN metric_keys k ON k.id = s.key_id WHERE s.run_id IN ({list}) ORDER BY s.run_id, k.name"
        ))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
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
        let src = SqlitePoll {
            store: self,
            stale: self.stale_before(),
            status_sql: crate::runs::status_sql(&self.gone_runs(None)?),
        };
        poll_changes_with(&src, cursor)
    }
}
