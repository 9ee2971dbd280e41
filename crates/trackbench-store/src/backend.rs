//! The store's backend seam (the team server's first part): the operations every backend
//! provides, as traits, so the same contract tests run against SQLite ([`Store`]) and
//! PostgreSQL (`trackbench-store-pg`). A behaviour only one backend has is a bug.
//!
//! It covers projects, the life of a run (creation, status, heartbeat, tags, names, notes,
//! deletion), the one write with what it wrote (points in chunks, downsampling, summaries,
//! params, summary values, log lines), listing runs with the query language (compiled for each
//! dialect by `filter`), A/B comparisons, live views ([`ChangeStore`]), and, in their own
//! modules, logged models and the registry (`backend_models`), artifacts
//! (`backend_artifacts`) and users, tokens and permissions (`backend_access`). [`Backend`] is all of them as one object: what the server, compare
//! and launch hold. Maintenance that only the SQLite file has (integrity check, vacuum) stays
//! on [`Store`].

use crate::Store;
use crate::ab::{AbInfo, Arm, NewAb};
use crate::codec::Points;
use crate::error::Result;
use crate::liveness::ProcessIdentity;
use crate::model::{
    Batch, Bucket, IngestReport, MetricSummary, NewRun, ProjectInfo, RunInfo, RunQuery, RunStatus, StepRange,
    StoredLogLine,
};
use crate::watch::{Change, ChangeCursor};

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

/// A run's life: created `running`, kept alive by heartbeats (a `running` run whose heartbeat is
/// older than the timeout, or whose process on this host is gone, reads `crashed`), ended
/// `finished`, `failed` or `killed`; tags, name and notes; soft deletion.
pub trait RunStore: ProjectStore {
    /// Creates a run with a caller-chosen id (status `running`, heartbeat now).
    /// The store's clock (ms since the epoch): the time it records writes at.
    fn now(&self) -> i64;
    fn create_run_with_id(&mut self, uid: &str, new: &NewRun) -> Result<RunInfo>;
    /// Creates a run with a fresh id.
    fn create_run(&mut self, new: &NewRun) -> Result<RunInfo> {
        self.create_run_with_id(&crate::new_run_id(), new)
    }
    /// Run `uid` (exact id), with its effective status.
    fn run(&self, uid: &str) -> Result<RunInfo>;
    /// A full id, a unique id prefix of 4+ characters, or a unique run name, to a run id.
    fn resolve_run(&self, what: &str) -> Result<String>;
    /// Runs matching `q` (project, the query language's filter and order, paging), newest
    /// first unless ordered otherwise.
    fn list_runs(&self, q: &RunQuery) -> Result<Vec<RunInfo>>;
    /// Ends a run with `status` (not `running`/`crashed`) at `ended_ms` (now when `None`).
    fn finish_run_at(&mut self, uid: &str, status: RunStatus, error: Option<&str>, ended_ms: Option<i64>)
    -> Result<()>;
    /// Records that the run is alive at `at_ms` (a heartbeat never goes back).
    fn heartbeat(&mut self, uid: &str, at_ms: i64) -> Result<()>;
    /// Marks a run ended with `status` now (see [`RunStore::finish_run_at`]).
    fn finish_run(&mut self, uid: &str, status: RunStatus, error: Option<&str>) -> Result<()> {
        self.finish_run_at(uid, status, error, None)
    }
    /// Puts a run back to `running` (see [`RunStore::resume_run_as`]).
    fn resume_run(&mut self, uid: &str) -> Result<()> {
        self.resume_run_as(uid, None)
    }
    /// Sets one tag (a write: it also records a heartbeat).
    fn set_tag(&mut self, uid: &str, key: &str, value: &str) -> Result<()>;
    /// Removes one tag; false when it was not set.
    fn remove_tag(&mut self, uid: &str, key: &str) -> Result<bool>;
    /// Tags of a run, sorted by key.
    fn tags(&self, uid: &str) -> Result<Vec<(String, String)>>;
    /// Renames a run (names need not be unique).
    fn set_run_name(&mut self, uid: &str, name: &str) -> Result<()>;
    fn set_notes(&mut self, uid: &str, notes: Option<&str>) -> Result<()>;
    /// Soft-deletes a run (hidden from listings, restorable).
    fn delete_run(&mut self, uid: &str) -> Result<()>;
    fn restore_run(&mut self, uid: &str) -> Result<()>;
    /// Deletes a run and everything it logged, for good.
    fn purge_run(&mut self, uid: &str) -> Result<()>;
    /// Puts a run back to `running` with a fresh heartbeat, held by `by` unless the process
    /// recorded as holding it still runs on this host.
    fn resume_run_as(&mut self, uid: &str, by: Option<&ProcessIdentity>) -> Result<()>;
    /// Records inputs (MLflow datasets) by digest; one already recorded is not added again.
    fn add_run_inputs(&mut self, uid: &str, inputs: &[(String, serde_json::Value)]) -> Result<()>;
    /// Inputs in the order they were first recorded.
    fn run_inputs(&self, uid: &str) -> Result<Vec<serde_json::Value>>;
}

impl RunStore for Store {
    fn now(&self) -> i64 {
        Store::now(self)
    }
    fn create_run_with_id(&mut self, uid: &str, new: &NewRun) -> Result<RunInfo> {
        Store::create_run_with_id(self, uid, new)
    }
    fn run(&self, uid: &str) -> Result<RunInfo> {
        Store::run(self, uid)
    }
    fn resolve_run(&self, what: &str) -> Result<String> {
        Store::resolve_run(self, what)
    }
    fn list_runs(&self, q: &RunQuery) -> Result<Vec<RunInfo>> {
        Store::list_runs(self, q)
    }
    fn finish_run_at(
        &mut self,
        uid: &str,
        status: RunStatus,
        error: Option<&str>,
        ended_ms: Option<i64>,
    ) -> Result<()> {
        Store::finish_run_at(self, uid, status, error, ended_ms)
    }
    fn heartbeat(&mut self, uid: &str, at_ms: i64) -> Result<()> {
        Store::heartbeat(self, uid, at_ms)
    }
    fn set_tag(&mut self, uid: &str, key: &str, value: &str) -> Result<()> {
        Store::set_tag(self, uid, key, value)
    }
    fn remove_tag(&mut self, uid: &str, key: &str) -> Result<bool> {
        Store::remove_tag(self, uid, key)
    }
    fn tags(&self, uid: &str) -> Result<Vec<(String, String)>> {
        Store::tags(self, uid)
    }
    fn set_run_name(&mut self, uid: &str, name: &str) -> Result<()> {
        Store::set_run_name(self, uid, name)
    }
    fn set_notes(&mut self, uid: &str, notes: Option<&str>) -> Result<()> {
        Store::set_notes(self, uid, notes)
    }
    fn delete_run(&mut self, uid: &str) -> Result<()> {
        Store::delete_run(self, uid)
    }
    fn restore_run(&mut self, uid: &str) -> Result<()> {
        Store::restore_run(self, uid)
    }
    fn purge_run(&mut self, uid: &str) -> Result<()> {
        Store::purge_run(self, uid)
    }
    fn resume_run_as(&mut self, uid: &str, by: Option<&ProcessIdentity>) -> Result<()> {
        Store::resume_run_as(self, uid, by)
    }
    fn add_run_inputs(&mut self, uid: &str, inputs: &[(String, serde_json::Value)]) -> Result<()> {
        Store::add_run_inputs(self, uid, inputs)
    }
    fn run_inputs(&self, uid: &str) -> Result<Vec<serde_json::Value>> {
        Store::run_inputs(self, uid)
    }
}

/// The one write, `log_batch` (points, params, tags, summary values, log lines and the
/// heartbeat in one transaction, a retried batch a no-op), and reading back what it wrote.
pub trait MetricStore: RunStore {
    /// Stores `batch` into run `uid` atomically; invalid items are refused in the report.
    fn log_batch(&mut self, uid: &str, batch: &Batch) -> Result<IngestReport>;
    /// `log_batch` for a batch that came as codec chunks (a remote SDK's binary batch), its
    /// chunks stored as they came wherever a series gets new chunks
    /// ([`crate::chunking::append_series_from`]).
    fn log_chunked_batch(&mut self, uid: &str, batch: &crate::wire::ChunkedBatch) -> Result<IngestReport>;
    /// Points of series `key` in `range`, in step order (bit-exact).
    fn series(&mut self, uid: &str, key: &str, range: StepRange) -> Result<Points>;
    /// Series `key` reduced to at most `buckets` equal-width step buckets over `range` (or its
    /// own extent): count, min, max and last per bucket, no extreme hidden.
    fn downsample(&mut self, uid: &str, key: &str, range: StepRange, buckets: usize) -> Result<Vec<Bucket>>;
    /// Summaries of every series of a run, by key.
    fn metric_summaries(&self, uid: &str) -> Result<Vec<MetricSummary>>;
    /// Params, by key, with their JSON type.
    fn params(&self, uid: &str) -> Result<Vec<(String, serde_json::Value)>>;
    /// User summary values, by key.
    fn summary_values(&self, uid: &str) -> Result<Vec<(String, serde_json::Value)>>;
    /// Up to `limit` log lines after position `after`, in order.
    fn log_lines(&self, uid: &str, after: i64, limit: usize) -> Result<Vec<StoredLogLine>>;
}

impl MetricStore for Store {
    fn log_batch(&mut self, uid: &str, batch: &Batch) -> Result<IngestReport> {
        Store::log_batch(self, uid, batch)
    }
    fn log_chunked_batch(&mut self, uid: &str, batch: &crate::wire::ChunkedBatch) -> Result<IngestReport> {
        Store::log_chunked_batch(self, uid, batch)
    }
    fn series(&mut self, uid: &str, key: &str, range: StepRange) -> Result<Points> {
        Store::series(self, uid, key, range)
    }
    fn downsample(&mut self, uid: &str, key: &str, range: StepRange, buckets: usize) -> Result<Vec<Bucket>> {
        Store::downsample(self, uid, key, range, buckets)
    }
    fn metric_summaries(&self, uid: &str) -> Result<Vec<MetricSummary>> {
        Store::metric_summaries(self, uid)
    }
    fn params(&self, uid: &str) -> Result<Vec<(String, serde_json::Value)>> {
        Store::params(self, uid)
    }
    fn summary_values(&self, uid: &str) -> Result<Vec<(String, serde_json::Value)>> {
        Store::summary_values(self, uid)
    }
    fn log_lines(&self, uid: &str, after: i64, limit: usize) -> Result<Vec<StoredLogLine>> {
        Store::log_lines(self, uid, after, limit)
    }
}

/// A/B comparisons: the object (arms, metric, direction, spec), its runs by arm in launch
/// order, and the verdict its maker stored.
pub trait AbStore: RunStore {
    /// Creates an A/B (status `running`, no runs yet) and returns its id.
    fn create_ab(&mut self, new: &NewAb) -> Result<String>;
    /// Creates an A/B with a caller-chosen id, created at `created_ms` (now when `None`), as
    /// copying a store between backends needs.
    fn create_ab_with_id(&mut self, uid: &str, new: &NewAb, created_ms: Option<i64>) -> Result<()>;
    /// Adds run `run` to arm `arm` at position `seq`; adding a run twice keeps the first.
    fn add_ab_run(&mut self, ab: &str, arm: Arm, run: &str, seq: i64) -> Result<()>;
    /// Ends A/B `ab` with `status` (finished, failed, killed), its verdict and an error text.
    fn finish_ab(
        &mut self,
        ab: &str,
        status: RunStatus,
        result: Option<&serde_json::Value>,
        error: Option<&str>,
    ) -> Result<()>;
    /// [`AbStore::finish_ab`] at `ended_ms` (now when `None`).
    fn finish_ab_at(
        &mut self,
        ab: &str,
        status: RunStatus,
        result: Option<&serde_json::Value>,
        error: Option<&str>,
        ended_ms: Option<i64>,
    ) -> Result<()>;
    /// A full A/B id or a unique prefix of 4+ characters, to an id.
    fn resolve_ab(&self, what: &str) -> Result<String>;
    /// A/B `uid` with its runs in launch order.
    fn ab(&self, uid: &str) -> Result<AbInfo>;
    /// A/B comparisons, newest first, of one project or all.
    fn list_abs(&self, project: Option<&str>) -> Result<Vec<AbInfo>>;
}

impl AbStore for Store {
    fn create_ab(&mut self, new: &NewAb) -> Result<String> {
        Store::create_ab(self, new)
    }
    fn create_ab_with_id(&mut self, uid: &str, new: &NewAb, created_ms: Option<i64>) -> Result<()> {
        Store::create_ab_with_id(self, uid, new, created_ms)
    }
    fn finish_ab_at(
        &mut self,
        ab: &str,
        status: RunStatus,
        result: Option<&serde_json::Value>,
        error: Option<&str>,
        ended_ms: Option<i64>,
    ) -> Result<()> {
        Store::finish_ab_at(self, ab, status, result, error, ended_ms)
    }
    fn add_ab_run(&mut self, ab: &str, arm: Arm, run: &str, seq: i64) -> Result<()> {
        Store::add_ab_run(self, ab, arm, run, seq)
    }
    fn finish_ab(
        &mut self,
        ab: &str,
        status: RunStatus,
        result: Option<&serde_json::Value>,
        error: Option<&str>,
    ) -> Result<()> {
        Store::finish_ab(self, ab, status, result, error)
    }
    fn resolve_ab(&self, what: &str) -> Result<String> {
        Store::resolve_ab(self, what)
    }
    fn ab(&self, uid: &str) -> Result<AbInfo> {
        Store::ab(self, uid)
    }
    fn list_abs(&self, project: Option<&str>) -> Result<Vec<AbInfo>> {
        Store::list_abs(self, project)
    }
}

/// Live views: what changed since a cursor (new runs, status changes, new points), by the one
/// poll every backend shares ([`crate::poll_changes_with`]). How a backend learns that another
/// writer committed (file events and `data_version` on SQLite, `LISTEN` on PostgreSQL) is the
/// caller's side.
pub trait ChangeStore {
    /// Changes since `cursor`, which is moved past them.
    fn poll_changes(&self, cursor: &mut ChangeCursor) -> Result<Vec<Change>>;
    /// A cursor at the store's current state: the next poll reports only later changes.
    fn change_cursor(&self) -> Result<ChangeCursor> {
        let mut c = ChangeCursor::default();
        self.poll_changes(&mut c)?;
        Ok(c)
    }
}

impl ChangeStore for Store {
    fn poll_changes(&self, cursor: &mut ChangeCursor) -> Result<Vec<Change>> {
        Store::poll_changes(self, cursor)
    }
}

/// Everything a store offers, as one object: what the server, compare and launch hold, whether
/// the store is a SQLite folder or a PostgreSQL database. `&mut Store` coerces to
/// `&mut dyn Backend`, so callers holding a [`Store`] pass it as it is.
pub trait Backend:
    ProjectStore
    + RunStore
    + MetricStore
    + AbStore
    + ChangeStore
    + crate::ModelStore
    + crate::ArtifactStore
    + crate::AccessStore
    + Send
{
}

impl<T> Backend for T where
    T: ProjectStore
        + RunStore
        + MetricStore
        + AbStore
        + ChangeStore
        + crate::ModelStore
        + crate::ArtifactStore
        + crate::AccessStore
        + Send
{
}
