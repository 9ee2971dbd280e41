//! Live views on PostgreSQL: the shared poll ([`trackbench_store::poll_changes_with`]) answered
//! by this database, and the `LISTEN` side that tells a server replica when to poll.
//!
//! Every write a live view shows (a run created, ended, resumed, deleted or restored, points
//! stored) sends `NOTIFY trackbench_changes` in its own transaction, so the notice goes out on
//! commit and never before. A replica's [`ChangeListener`] waits on its own connection for those
//! notices, from any replica or process, and polls only then (and on a slow timer for runs that
//! turn `crashed` by silence). No loop scales with the number of runs.

use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls};
use trackbench_store::{
    Change, ChangeCursor, ChangeSource, ChangeStore, PolledRun, PolledSeries, Result, RunStatus, StoreError,
    poll_changes_with, status_sql_with,
};

use crate::{PgStore, db, redact};

/// The channel every change is announced on.
pub(crate) const CHANNEL: &str = "trackbench_changes";
/// The statement announcing a change (sent on commit of the transaction it is part of).
pub(crate) const NOTIFY: &str = "NOTIFY trackbench_changes";

/// One poll's answers, with the effective-status expression fixed for that poll.
struct PgPoll<'a> {
    store: &'a PgStore,
    stale: i64,
    status_sql: String,
}

fn polled_run(r: &postgres::Row) -> PolledRun {
    let status: String = r.get(4);
    (r.get(0), r.get(1), r.get(2), r.get(3), RunStatus::parse(&status).unwrap_or(RunStatus::Running))
}

impl ChangeSource for PgPoll<'_> {
    fn runs_after(&self, after: i64) -> Result<Vec<PolledRun>> {
        let sql = format!(
            "SELECT r.id, r.uid, p.name, r.name, {} FROM runs r JOIN projects p ON p.id = r.project_id \
             WHERE r.id > $2 ORDER BY r.id",
            self.status_sql
        );
        let rows = self.store.client.borrow_mut().query(&sql, &[&self.stale, &after]).map_err(db)?;
        Ok(rows.iter().map(polled_run).collect())
    }

    fn running_runs(&self) -> Result<Vec<PolledRun>> {
        let sql = format!(
            "SELECT r.id, r.uid, p.name, ''::text, {} FROM runs r JOIN projects p ON p.id = r.project_id \
             WHERE r.status = 'running'",
            self.status_sql
        );
        let rows = self.store.client.borrow_mut().query(&sql, &[&self.stale]).map_err(db)?;
        Ok(rows.iter().map(polled_run).collect())
    }

    fn run_status(&self, id: i64) -> Result<Option<RunStatus>> {
        let sql = format!("SELECT {} FROM runs r WHERE r.id = $2", self.status_sql);
        let row = self.store.client.borrow_mut().query_opt(&sql, &[&self.stale, &id]).map_err(db)?;
        Ok(row.and_then(|r| RunStatus::parse(&r.get::<_, String>(0))))
    }

    fn series_counts(&self, runs: &[i64]) -> Result<Vec<PolledSeries>> {
        let rows = self
            .store
            .client
            .borrow_mut()
            .query(
                "SELECT s.run_id, s.key_id, k.name, s.count, s.last_step FROM metric_summaries s \
                 JOIN metric_keys k ON k.id = s.key_id WHERE s.run_id = ANY($1) ORDER BY s.run_id, k.name",
                &[&runs],
            )
            .map_err(db)?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))).collect())
    }
}

impl ChangeStore for PgStore {
    fn poll_changes(&self, cursor: &mut ChangeCursor) -> Result<Vec<Change>> {
        let src = PgPoll {
            store: self,
            stale: self.stale_before(),
            status_sql: status_sql_with(&self.gone_runs(None)?, "$1"),
        };
        poll_changes_with(&src, cursor)
    }
}

/// A connection listening for change notices: a server replica's way to learn, within a
/// round trip, that any writer committed something a live view shows.
pub struct ChangeListener {
    client: Client,
}

impl ChangeListener {
    /// Connects to `url` and starts listening.
    pub fn connect(url: &str) -> Result<ChangeListener> {
        let mut client = Client::connect(url, NoTls).map_err(|e| StoreError::Database {
            message: format!("connecting to {}: {}", redact(url), crate::with_cause(&e)),
            unavailable: true,
        })?;
        client.batch_execute(&format!("LISTEN {CHANNEL}")).map_err(db)?;
        Ok(ChangeListener { client })
    }

    /// Waits up to `timeout` for a notice; `true` when one (or more: they are drained) came.
    /// A lost connection is an error (the caller reconnects).
    pub fn wait(&mut self, timeout: Duration) -> Result<bool> {
        let first = self.client.notifications().timeout_iter(timeout).next().map_err(db)?;
        if first.is_none() {
            if self.client.is_closed() {
                return Err(StoreError::Database {
                    message: "the listening connection closed".into(),
                    unavailable: true,
                });
            }
            return Ok(false);
        }
        // Drain what else arrived: one poll answers them all.
        while self.client.notifications().iter().next().map_err(db)?.is_some() {}
        Ok(true)
    }
}
