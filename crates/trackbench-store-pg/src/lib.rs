//! The Trackbench store on PostgreSQL: the team server's metadata and metric chunks in a
//! database the team already runs, behind the same contract as the SQLite store
//! (`trackbench_store::backend`), checked by one contract test suite run against both.
//!
//! Work in progress (the team-server issue): the schema is complete ([`migrate`]); the
//! operations grow one concept at a time with the seam's traits, today projects
//! ([`ProjectStore`]), the life of a run ([`RunStore`]), the one write with what it wrote
//! ([`trackbench_store::MetricStore`], in `ingest`) and A/B comparisons
//! ([`trackbench_store::AbStore`], in `ab`). The server does not use this crate
//! yet.
//!
//! Connection: a `postgres://USER[:PASSWORD]@HOST:PORT/DB` URL (anything `postgres` accepts).
//! A database that cannot be reached is `StoreError::Database { unavailable: true }`.

mod ab;
mod access;
mod artifacts;
mod changes;
mod ingest;
pub mod migrate;
mod models;

pub use changes::ChangeListener;

use std::cell::RefCell;
use std::collections::HashMap;

use postgres::error::SqlState;
use postgres::types::Type;
use postgres::{Client, NoTls, Row};
use trackbench_store::filter::{Dialect, ListPart, Param, list_runs_part_sql, order_metric};
use trackbench_store::{
    Batch, NewRun, ProcessIdentity, ProjectInfo, ProjectStore, Result, RunInfo, RunQuery, RunStatus, RunStore,
    StoreError, StoreOptions, default_run_name, status_sql_with, validate,
};

/// A store in a PostgreSQL database.
pub struct PgStore {
    // The client needs `&mut` for every query; the store API reads through `&self`.
    pub(crate) client: RefCell<Client>,
    /// The clock, the heartbeat timeout and the process probe, as the SQLite store takes them.
    opts: StoreOptions,
    /// run uid -> internal id (identities are never reused, so a cached id names no other run).
    run_ids: RefCell<HashMap<String, i64>>,
    /// metric key -> id (keys are never deleted).
    pub(crate) key_ids: RefCell<HashMap<String, i64>>,
    /// Statements the write path prepared on this connection.
    pub(crate) stmts: RefCell<ingest::Stmts>,
    /// Where artifact bytes live (`artifacts`); none: artifacts are refused.
    blobs: Option<std::sync::Arc<dyn trackbench_store::BlobStore>>,
}

/// A PostgreSQL error as the store's.
pub(crate) fn db(e: postgres::Error) -> StoreError {
    let unavailable =
        e.is_closed() || e.code().is_none_or(|c| c.code().starts_with("08") || *c == SqlState::ADMIN_SHUTDOWN);
    StoreError::Database { message: e.to_string(), unavailable }
}

/// `e` with what caused it (the client's own message for a failed connection is only "error
/// connecting to server"; the cause says refused, unknown host, bad password…).
pub(crate) fn with_cause(e: &postgres::Error) -> String {
    match std::error::Error::source(e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

/// `url` without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s + 3 => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Columns of [`RunInfo`] in the order [`run_from_row`] reads them, with the effective status:
/// `$1` is the stale-before time; `gone` are runs whose process is gone (store ids, not input).
fn run_columns(gone: &[i64]) -> String {
    format!(
        "r.uid, p.name, r.name, {}, r.grp, r.notes, r.created_ms, r.started_ms, r.ended_ms, r.heartbeat_ms, r.host, \
         r.pid, r.command, r.git_commit, r.git_dirty, r.env_json, r.error, r.deleted_ms",
        status_sql_with(gone, "$1")
    )
}

/// Listings up to this long remember their runs' internal ids (a page of the server's, and more).
const MAX_REMEMBERED: usize = 10_001;

/// A run listing's rows (`list_runs_part_sql`'s SQL and parameters). Every parameter's type is
/// declared rather than inferred: the filter compiler may bind a value its SQL does not use
/// (`params.lr > '0.2'` compares only the number), which SQLite ignores and PostgreSQL refuses
/// ("could not determine data type of parameter").
fn query_listing(c: &mut impl postgres::GenericClient, (text, params): (String, Vec<Param>)) -> Result<Vec<Row>> {
    let (types, params): (Vec<Type>, Vec<Box<dyn postgres::types::ToSql + Sync>>) = params
        .iter()
        .map(|p| -> (Type, Box<dyn postgres::types::ToSql + Sync>) {
            match p {
                Param::Int(v) => (Type::INT8, Box::new(*v)),
                Param::Real(v) => (Type::FLOAT8, Box::new(*v)),
                Param::Text(v) => (Type::TEXT, Box::new(v.clone())),
            }
        })
        .unzip();
    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params.iter().map(|b| b.as_ref()).collect();
    let statement = c.prepare_typed(&text, &types).map_err(db)?;
    c.query(&statement, &refs).map_err(db)
}

fn run_from_row(row: &Row) -> RunInfo {
    let status: String = row.get(3);
    let env: Option<String> = row.get(15);
    RunInfo {
        id: row.get(0),
        project: row.get(1),
        name: row.get(2),
        status: RunStatus::parse(&status).unwrap_or(RunStatus::Failed),
        group: row.get(4),
        notes: row.get(5),
        created_ms: row.get(6),
        started_ms: row.get(7),
        ended_ms: row.get(8),
        heartbeat_ms: row.get(9),
        host: row.get(10),
        pid: row.get(11),
        command: row.get(12),
        git_commit: row.get(13),
        git_dirty: row.get(14),
        env: env.and_then(|e| serde_json::from_str(&e).ok()),
        error: row.get(16),
        deleted: row.get::<_, Option<i64>>(17).is_some(),
    }
}

const PROJECT_COLUMNS: &str = "p.id, p.name, p.created_ms, p.updated_ms, p.deleted_ms IS NOT NULL, \
   (SELECT count(*) FROM runs r WHERE r.project_id = p.id AND r.deleted_ms IS NULL), \
   (SELECT max(greatest(r.heartbeat_ms, r.created_ms, coalesce(r.ended_ms, 0))) FROM runs r \
      WHERE r.project_id = p.id AND r.deleted_ms IS NULL)";

fn project_from_row(r: &Row) -> ProjectInfo {
    ProjectInfo {
        id: r.get(0),
        name: r.get(1),
        created_ms: r.get(2),
        updated_ms: r.get(3),
        deleted: r.get(4),
        runs: r.get(5),
        last_activity_ms: r.get(6),
    }
}

impl PgStore {
    /// Connects to the database at `url` and brings its schema up to date. Of `opts`, the
    /// clock, the heartbeat timeout and the process probe apply.
    pub fn connect(url: &str, opts: StoreOptions) -> Result<PgStore> {
        let mut client = Client::connect(url, NoTls).map_err(|e| StoreError::Database {
            message: format!("connecting to {}: {}", redact(url), crate::with_cause(&e)),
            unavailable: true,
        })?;
        migrate::migrate(&mut client, &redact(url))?;
        Ok(PgStore {
            client: RefCell::new(client),
            opts,
            run_ids: RefCell::default(),
            key_ids: RefCell::default(),
            stmts: RefCell::default(),
            blobs: None,
        })
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> Result<i64> {
        migrate::version(&mut self.client.borrow_mut())
    }

    pub(crate) fn now(&self) -> i64 {
        (self.opts.clock)()
    }

    /// Before this time a `running` run's heartbeat is stale (it reads `crashed`).
    fn stale_before(&self) -> i64 {
        self.now() - self.opts.heartbeat_timeout_ms
    }

    /// Ids of running runs (all, or only `uid`) with a fresh heartbeat whose process on this
    /// host and boot is gone (the SQLite store's rule: only such runs are probed).
    fn gone_runs(&self, uid: Option<&str>) -> Result<Vec<i64>> {
        let Some(probe) = self.opts.process_probe.as_ref() else { return Ok(Vec::new()) };
        let (Some(host), Some(boot)) = (probe.host(), probe.boot()) else { return Ok(Vec::new()) };
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT id, pid, proc_start FROM runs \
                 WHERE status = 'running' AND host = $1 AND proc_boot = $2 AND heartbeat_ms >= $3 \
                 AND pid IS NOT NULL AND proc_start IS NOT NULL AND ($4::text IS NULL OR uid = $4)",
                &[&host, &boot, &self.stale_before(), &uid],
            )
            .map_err(db)?;
        Ok(rows
            .iter()
            .filter(|r| probe.start_ticks(r.get::<_, i64>(1)) != Some(r.get::<_, i64>(2)))
            .map(|r| r.get(0))
            .collect())
    }

    /// Internal id of run `uid` (exact id; cached, as the SQLite store caches it).
    pub(crate) fn run_rowid(&self, uid: &str) -> Result<i64> {
        if let Some(&id) = self.run_ids.borrow().get(uid) {
            return Ok(id);
        }
        let rows = self.query_prepared("SELECT id FROM runs WHERE uid = $1", &[&uid])?;
        let id: i64 = rows.first().map(|r| r.get(0)).ok_or_else(|| StoreError::RunNotFound(uid.to_string()))?;
        self.run_ids.borrow_mut().insert(uid.to_string(), id);
        Ok(id)
    }

    /// Announces a change to live views on other connections ([`changes`]).
    fn notify(&mut self) -> Result<()> {
        self.client.get_mut().batch_execute(changes::NOTIFY).map_err(db)
    }

    /// Forgets run `uid`'s cached id (it was purged, here or elsewhere).
    pub(crate) fn forget_run(&self, uid: &str) {
        self.run_ids.borrow_mut().remove(uid);
    }

    /// Runs one statement on run `uid`'s internal id (`$1`) and `args` (`$2`…).
    fn on_run(&mut self, uid: &str, sql: &str, args: &[&(dyn postgres::types::ToSql + Sync)]) -> Result<u64> {
        let id = self.run_rowid(uid)?;
        let mut all: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&id];
        all.extend_from_slice(args);
        self.client.get_mut().execute(sql, &all).map_err(db)
    }

    fn one_project(
        &self,
        sql: &str,
        arg: &(dyn postgres::types::ToSql + Sync),
        missing: String,
    ) -> Result<ProjectInfo> {
        let row = self.client.borrow_mut().query_opt(sql, &[arg]).map_err(db)?;
        row.map(|r| project_from_row(&r)).ok_or(StoreError::ProjectNotFound(missing))
    }
}

impl ProjectStore for PgStore {
    fn ensure_project(&mut self, name: &str) -> Result<i64> {
        validate::name("project", name)?;
        let now = self.now();
        let c = self.client.get_mut();
        // Look first: an INSERT that meets the name still takes a value from the id sequence,
        // and project ids (MLflow's experiment ids) would jump with every run created.
        if let Some(row) = c.query_opt("SELECT id FROM projects WHERE name = $1", &[&name]).map_err(db)? {
            return Ok(row.get(0));
        }
        c.execute(
            "INSERT INTO projects(name, created_ms) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&name, &now],
        )
        .map_err(db)?;
        Ok(c.query_one("SELECT id FROM projects WHERE name = $1", &[&name]).map_err(db)?.get(0))
    }

    fn create_project(&mut self, name: &str) -> Result<ProjectInfo> {
        validate::name("project", name)?;
        let now = self.now();
        // Refused before the INSERT, which would take an id from the sequence (see above).
        let c = self.client.get_mut();
        if c.query_opt("SELECT 1 FROM projects WHERE name = $1", &[&name]).map_err(db)?.is_some() {
            return Err(StoreError::ProjectExists(name.to_string()));
        }
        let n = c
            .execute(
                "INSERT INTO projects(name, created_ms, updated_ms) VALUES ($1, $2, $2) ON CONFLICT (name) DO NOTHING",
                &[&name, &now],
            )
            .map_err(db)?;
        if n == 0 {
            return Err(StoreError::ProjectExists(name.to_string()));
        }
        self.project(name)
    }

    fn list_projects(&self, include_deleted: bool) -> Result<Vec<ProjectInfo>> {
        let filter = if include_deleted { "" } else { "WHERE p.deleted_ms IS NULL" };
        let rows = self
            .client
            .borrow_mut()
            .query(&format!("SELECT {PROJECT_COLUMNS} FROM projects p {filter} ORDER BY p.name"), &[])
            .map_err(db)?;
        Ok(rows.iter().map(project_from_row).collect())
    }

    fn project(&self, name: &str) -> Result<ProjectInfo> {
        self.one_project(
            &format!("SELECT {PROJECT_COLUMNS} FROM projects p WHERE p.name = $1"),
            &name,
            name.to_string(),
        )
    }

    fn project_by_id(&self, id: i64) -> Result<ProjectInfo> {
        self.one_project(&format!("SELECT {PROJECT_COLUMNS} FROM projects p WHERE p.id = $1"), &id, format!("id {id}"))
    }

    fn rename_project(&mut self, id: i64, new_name: &str) -> Result<()> {
        validate::name("project", new_name)?;
        let current = self.project_by_id(id)?;
        if current.name == new_name {
            return Ok(());
        }
        let now = self.now();
        let done = self
            .client
            .get_mut()
            .execute("UPDATE projects SET name = $2, updated_ms = $3 WHERE id = $1", &[&id, &new_name, &now]);
        match done {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                Err(StoreError::ProjectExists(new_name.to_string()))
            }
            Err(e) => Err(db(e)),
        }
    }

    fn delete_project(&mut self, id: i64) -> Result<()> {
        if self.project_by_id(id)?.deleted {
            return Ok(());
        }
        let now = self.now();
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        tx.execute("UPDATE projects SET deleted_ms = $2, updated_ms = $2 WHERE id = $1", &[&id, &now]).map_err(db)?;
        tx.execute("UPDATE runs SET deleted_ms = $2 WHERE project_id = $1 AND deleted_ms IS NULL", &[&id, &now])
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn restore_project(&mut self, id: i64) -> Result<()> {
        self.project_by_id(id)?;
        let now = self.now();
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        tx.execute(
            "UPDATE runs SET deleted_ms = NULL WHERE project_id = $1 \
               AND deleted_ms = (SELECT deleted_ms FROM projects WHERE id = $1)",
            &[&id],
        )
        .map_err(db)?;
        tx.execute("UPDATE projects SET deleted_ms = NULL, updated_ms = $2 WHERE id = $1", &[&id, &now]).map_err(db)?;
        tx.commit().map_err(db)
    }

    fn set_project_tag(&mut self, id: i64, key: &str, value: &str) -> Result<()> {
        validate::key("tag", key)?;
        validate::tag_value(key, value)?;
        self.project_by_id(id)?;
        let now = self.now();
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        tx.execute(
            "INSERT INTO project_tags(project_id, key, value) VALUES ($1, $2, $3) \
             ON CONFLICT (project_id, key) DO UPDATE SET value = excluded.value",
            &[&id, &key, &value],
        )
        .map_err(db)?;
        tx.execute("UPDATE projects SET updated_ms = $2 WHERE id = $1", &[&id, &now]).map_err(db)?;
        tx.commit().map_err(db)
    }

    fn remove_project_tag(&mut self, id: i64, key: &str) -> Result<bool> {
        self.project_by_id(id)?;
        let n = self
            .client
            .get_mut()
            .execute("DELETE FROM project_tags WHERE project_id = $1 AND key = $2", &[&id, &key])
            .map_err(db)?;
        Ok(n > 0)
    }

    fn project_tags(&self, id: i64) -> Result<Vec<(String, String)>> {
        self.project_by_id(id)?;
        let rows = self
            .client
            .borrow_mut()
            .query("SELECT key, value FROM project_tags WHERE project_id = $1 ORDER BY key", &[&id])
            .map_err(db)?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

impl RunStore for PgStore {
    fn now(&self) -> i64 {
        PgStore::now(self)
    }

    fn create_run_with_id(&mut self, uid: &str, new: &NewRun) -> Result<RunInfo> {
        validate::new_run(uid, new)?;
        let project_id = self.ensure_project(&new.project)?;
        let now = self.now();
        let created = new.created_ms.unwrap_or(now);
        let env = new.env.as_ref().map(|e| e.to_string());
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        // Runs of a project are numbered in their default names: one creation at a time.
        tx.execute("SELECT 1 FROM projects WHERE id = $1 FOR UPDATE", &[&project_id]).map_err(db)?;
        let name = match &new.name {
            Some(n) => n.clone(),
            None => {
                let count: i64 =
                    tx.query_one("SELECT count(*) FROM runs WHERE project_id = $1", &[&project_id]).map_err(db)?.get(0);
                default_run_name(uid, count)
            }
        };
        let inserted = tx.execute(
            "INSERT INTO runs(uid, project_id, name, status, grp, notes, created_ms, started_ms, heartbeat_ms, \
               host, pid, command, git_commit, git_dirty, env_json, proc_start, proc_boot) \
             VALUES ($1, $2, $3, 'running', $4, $5, $6, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            &[
                &uid,
                &project_id,
                &name,
                &new.group,
                &new.notes,
                &created,
                &now.max(created),
                &new.host,
                &new.pid,
                &new.command,
                &new.git_commit,
                &new.git_dirty,
                &env,
                &new.proc_start,
                &new.proc_boot,
            ],
        );
        inserted.map_err(db)?;
        for (k, v) in &new.tags {
            tx.execute(
                "INSERT INTO run_tags(run_id, key, value) SELECT id, $2, $3 FROM runs WHERE uid = $1 \
                 ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                &[&uid, k, v],
            )
            .map_err(db)?;
        }
        tx.batch_execute(changes::NOTIFY).map_err(db)?;
        tx.commit().map_err(db)?;
        self.run(uid)
    }

    fn run(&self, uid: &str) -> Result<RunInfo> {
        let sql = format!(
            "SELECT {} FROM runs r JOIN projects p ON p.id = r.project_id WHERE r.uid = $2",
            run_columns(&self.gone_runs(Some(uid))?)
        );
        let row = self.client.borrow_mut().query_opt(&sql, &[&self.stale_before(), &uid]).map_err(db)?;
        row.map(|r| run_from_row(&r)).ok_or_else(|| StoreError::RunNotFound(uid.to_string()))
    }

    fn resolve_run(&self, what: &str) -> Result<String> {
        let mut c = self.client.borrow_mut();
        if let Some(r) = c.query_opt("SELECT uid FROM runs WHERE uid = $1", &[&what]).map_err(db)? {
            return Ok(r.get(0));
        }
        let mut candidates: Vec<String> = Vec::new();
        if what.len() >= 4 && what.chars().all(|c| c.is_ascii_alphanumeric()) {
            let upper = format!("{what}~");
            candidates = c
                .query("SELECT uid FROM runs WHERE uid >= $1 AND uid < $2 LIMIT 10", &[&what, &upper])
                .map_err(db)?
                .iter()
                .map(|r| r.get(0))
                .collect();
        }
        if candidates.is_empty() {
            candidates = c
                .query("SELECT uid FROM runs WHERE name = $1 AND deleted_ms IS NULL LIMIT 10", &[&what])
                .map_err(db)?
                .iter()
                .map(|r| r.get(0))
                .collect();
        }
        match candidates.len() {
            0 => Err(StoreError::RunNotFound(what.to_string())),
            1 => Ok(candidates.remove(0)),
            n => Err(StoreError::AmbiguousRun(what.to_string(), n)),
        }
    }

    fn list_runs(&self, q: &RunQuery) -> Result<Vec<RunInfo>> {
        let gone = self.gone_runs(None)?;
        // The internal id too, to remember (the per-run reads that follow a listing need it).
        let columns = format!("{}, r.id", run_columns(&gone));
        let (stale, now) = (self.stale_before(), self.now());
        let sql = |q: &RunQuery, part| list_runs_part_sql(Dialect::Postgres, q, stale, now, &gone, &columns, part);
        // Ordered first by a metric that some run has: in two parts (`ListPart`), the first by
        // walking the index on (key, last value) of migration 3, so a page costs about the same
        // whatever the number of runs that pass the filter.
        let key_id = match order_metric(q)? {
            Some(key) => self.existing_key_id(&key)?,
            None => None,
        };
        let mut c = self.client.borrow_mut();
        let rows = match key_id {
            None => query_listing(&mut *c, sql(q, ListPart::All)?)?,
            Some(key_id) => {
                // One snapshot for both parts, and no parallel workers: the planner costs a
                // parallel ordered walk as cheaper, but its workers each read far past the page.
                let mut tx = c
                    .build_transaction()
                    .isolation_level(postgres::IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start()
                    .map_err(db)?;
                tx.batch_execute("SET LOCAL max_parallel_workers_per_gather = 0").map_err(db)?;
                let mut rows = query_listing(&mut tx, sql(q, ListPart::With(key_id))?)?;
                if rows.is_empty() && q.offset > 0 {
                    // A page past the runs with the metric: where the others start is not known
                    // without counting those, so the whole listing it is.
                    tx.batch_execute("SET LOCAL max_parallel_workers_per_gather TO DEFAULT").map_err(db)?;
                    rows = query_listing(&mut tx, sql(q, ListPart::All)?)?;
                } else if q.limit.is_none_or(|l| rows.len() < l) {
                    // The runs without the metric follow the last run with it.
                    let rest = RunQuery { limit: q.limit.map(|l| l - rows.len()), offset: 0, ..q.clone() };
                    rows.extend(query_listing(&mut tx, sql(&rest, ListPart::Without(key_id))?)?);
                }
                tx.commit().map_err(db)?;
                rows
            }
        };
        drop(c);
        if rows.len() <= MAX_REMEMBERED {
            let mut ids = self.run_ids.borrow_mut();
            for r in &rows {
                ids.insert(r.get(0), r.get(18));
            }
        }
        Ok(rows.iter().map(run_from_row).collect())
    }

    fn finish_run_at(
        &mut self,
        uid: &str,
        status: RunStatus,
        error: Option<&str>,
        ended_ms: Option<i64>,
    ) -> Result<()> {
        validate::end_status("a run", status)?;
        let ended = ended_ms.unwrap_or_else(|| self.now());
        self.on_run(
            uid,
            "UPDATE runs SET status = $2, ended_ms = $3, heartbeat_ms = greatest(heartbeat_ms, $3), \
               error = coalesce($4, error) WHERE id = $1",
            &[&status.as_str(), &ended, &error],
        )?;
        // Reads are fastest on full chunks: an ended run's series are compacted.
        let run = self.run_rowid(uid)?;
        self.compact_run(run)?;
        self.notify()
    }

    fn heartbeat(&mut self, uid: &str, at_ms: i64) -> Result<()> {
        self.on_run(uid, "UPDATE runs SET heartbeat_ms = greatest(heartbeat_ms, $2) WHERE id = $1", &[&at_ms])?;
        Ok(())
    }

    fn set_tag(&mut self, uid: &str, key: &str, value: &str) -> Result<()> {
        // The one write, as the SQLite store does it (so the tag also records a heartbeat).
        let batch = Batch { tags: vec![(key.to_string(), value.to_string())], ..Batch::default() };
        let report = trackbench_store::MetricStore::log_batch(self, uid, &batch)?;
        match report.rejected.into_iter().next() {
            Some(r) => Err(StoreError::Invalid { what: "tag", why: r.reason }),
            None => Ok(()),
        }
    }

    fn remove_tag(&mut self, uid: &str, key: &str) -> Result<bool> {
        Ok(self.on_run(uid, "DELETE FROM run_tags WHERE run_id = $1 AND key = $2", &[&key])? > 0)
    }

    fn tags(&self, uid: &str) -> Result<Vec<(String, String)>> {
        let id = self.run_rowid(uid)?;
        let rows = self.query_prepared("SELECT key, value FROM run_tags WHERE run_id = $1 ORDER BY key", &[&id])?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn set_run_name(&mut self, uid: &str, name: &str) -> Result<()> {
        validate::name("run name", name)?;
        self.on_run(uid, "UPDATE runs SET name = $2 WHERE id = $1", &[&name])?;
        Ok(())
    }

    fn set_notes(&mut self, uid: &str, notes: Option<&str>) -> Result<()> {
        self.on_run(uid, "UPDATE runs SET notes = $2 WHERE id = $1", &[&notes])?;
        Ok(())
    }

    fn delete_run(&mut self, uid: &str) -> Result<()> {
        let now = self.now();
        self.on_run(uid, "UPDATE runs SET deleted_ms = $2 WHERE id = $1 AND deleted_ms IS NULL", &[&now])?;
        self.notify()
    }

    fn restore_run(&mut self, uid: &str) -> Result<()> {
        self.on_run(uid, "UPDATE runs SET deleted_ms = NULL WHERE id = $1", &[])?;
        self.notify()
    }

    fn purge_run(&mut self, uid: &str) -> Result<()> {
        self.on_run(uid, "DELETE FROM runs WHERE id = $1", &[])?;
        self.forget_run(uid);
        self.notify()
    }

    fn resume_run_as(&mut self, uid: &str, by: Option<&ProcessIdentity>) -> Result<()> {
        let id = self.run_rowid(uid)?;
        let now = self.now();
        let row = self
            .client
            .get_mut()
            .query_one("SELECT host, pid, proc_start, proc_boot FROM runs WHERE id = $1", &[&id])
            .map_err(db)?;
        let holder = match (row.get(0), row.get(1), row.get(2), row.get(3)) {
            (Some(host), Some(pid), Some(start_ticks), Some(boot)) => {
                Some(ProcessIdentity { host, pid, start_ticks, boot })
            }
            _ => None,
        };
        let probe = self.opts.process_probe.clone();
        let held = holder.is_some_and(|h| probe.as_ref().is_some_and(|p| h.runs_under(p.as_ref())));
        let c = self.client.get_mut();
        if held {
            c.execute(
                "UPDATE runs SET status = 'running', ended_ms = NULL, heartbeat_ms = $2 WHERE id = $1",
                &[&id, &now],
            )
            .map_err(db)?;
        } else {
            let (host, pid, start, boot) = match by {
                Some(p) => (Some(p.host.as_str()), Some(p.pid), Some(p.start_ticks), Some(p.boot.as_str())),
                None => (None, None, None, None),
            };
            // Without a new holder, host and pid stay as context; only the liveness record goes.
            c.execute(
                "UPDATE runs SET status = 'running', ended_ms = NULL, heartbeat_ms = $2, \
                   host = coalesce($3, host), pid = coalesce($4, pid), proc_start = $5, proc_boot = $6 WHERE id = $1",
                &[&id, &now, &host, &pid, &start, &boot],
            )
            .map_err(db)?;
        }
        self.notify()
    }

    fn add_run_inputs(&mut self, uid: &str, inputs: &[(String, serde_json::Value)]) -> Result<()> {
        for (digest, _) in inputs {
            validate::key("input digest", digest)?;
        }
        let id = self.run_rowid(uid)?;
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        // One writer of a run's inputs at a time (their order is the order first recorded).
        tx.execute("SELECT 1 FROM runs WHERE id = $1 FOR UPDATE", &[&id]).map_err(db)?;
        for (digest, value) in inputs {
            tx.execute(
                "INSERT INTO run_inputs(run_id, seq, digest, value_json) \
                 SELECT $1, (SELECT coalesce(max(seq), 0) + 1 FROM run_inputs WHERE run_id = $1), $2, $3 \
                 WHERE NOT EXISTS (SELECT 1 FROM run_inputs WHERE run_id = $1 AND digest = $2)",
                &[&id, digest, &value.to_string()],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    fn run_inputs(&self, uid: &str) -> Result<Vec<serde_json::Value>> {
        let id = self.run_rowid(uid)?;
        let rows = self
            .client
            .borrow_mut()
            .query("SELECT value_json FROM run_inputs WHERE run_id = $1 ORDER BY seq", &[&id])
            .map_err(db)?;
        Ok(rows.iter().map(|r| serde_json::from_str(r.get::<_, &str>(0)).unwrap_or(serde_json::Value::Null)).collect())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(super::redact("postgres://ana:s3cret@db:5432/tb"), "postgres://ana:***@db:5432/tb");
        assert_eq!(super::redact("postgres://ana@db/tb"), "postgres://ana@db/tb");
        assert_eq!(super::redact("host=db user=ana"), "host=db user=ana");
    }
}
