//! The Trackbench store: one SQLite database plus a content-addressed blob folder.
//!
//! Everything the product knows lives here and is reached only through [`Store`]:
//! projects -> runs -> params, tags, user summary values, metric series (stored in compressed
//! chunks, see [`codec`]), per-series summaries kept on ingest, artifacts (blobs stored once by
//! blake3 hash under `blobs/`) and captured log lines.
//!
//! The one write is [`Store::log_batch`]: a [`Batch`] of points, params, tags, summary values
//! and log lines lands in one IMMEDIATE transaction, or not at all. Reads: [`Store::series`]
//! (whole or a step range), [`Store::downsample`] (min/max/last per bucket, so no extreme is
//! hidden), [`Store::list_runs`] with the query language of `trackbench-query` compiled to SQL
//! with bound parameters ([`filter`]).
//!
//! Decisions this crate enforces: no point is dropped or overwritten (the same key at the same
//! step twice keeps both); NaN and ±inf round-trip bit-exactly; params are write-once; a
//! running run whose heartbeat is older than [`StoreOptions::heartbeat_timeout_ms`] reads as
//! `crashed`, and so does, at once, a running run whose process on this machine is gone
//! ([`liveness`], [`StoreOptions::process_probe`]). A/B comparisons ([`AbInfo`]) name two
//! arms of runs, a metric and a direction, and keep the verdict their maker computed. Models
//! (`models`): logged models with their own params, tags, metrics and artifacts, and the
//! registry (registered models, numbered versions, aliases, stages). The store knows nothing
//! about HTTP, SDK queues or UIs.

mod ab;
pub mod artifacts;
pub mod backend;
pub mod backend_access;
pub mod backend_artifacts;
mod backend_models;
pub mod blobs;
pub mod chunking;
pub mod codec;
pub mod copy;
mod error;
pub mod filter;
mod gc;
mod ingest;
pub mod liveness;
pub mod migrate;
mod model;
mod models;
mod projects;
mod runs;
mod series;
pub mod validate;
mod watch;
pub mod wire;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use rustc_hash::FxHashMap;

pub use ab::{AbInfo, AbRun, Arm, NewAb};
pub use backend::{AbStore, Backend, ChangeStore, MetricStore, ProjectStore, RunStore};
pub use backend_access::{AccessStore, Grant, OWNER_TAG, Permission, TokenCheck, TokenInfo, UserInfo};
pub use backend_artifacts::ArtifactStore;
pub use backend_models::ModelStore;
pub use blobs::{BlobEntry, BlobInfo, BlobStore, DirBlobs, StagedBlob};
pub use codec::Points;
pub use error::{Result, StoreError};
pub use gc::{GcOptions, GcReport};
pub use liveness::{LocalProcesses, ProcessIdentity, ProcessProbe};
pub use model::*;
pub use models::{
    LoggedModel, ModelMetric, ModelStatus, ModelVersion, NewLoggedModel, NewModelVersion, RegisteredModel, STAGES,
    check_alias, new_model_id,
};
pub use runs::{Health, default_run_name, new_run_id, status_sql_with};
pub use watch::{Change, ChangeCursor, ChangeSource, PolledRun, PolledSeries, poll_changes_with};

/// File name of the database inside the store folder.
pub const DB_FILE: &str = "trackbench.db";

/// A source of "now" in epoch milliseconds (injectable so tests and snapshots are stable).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(now_ms)
}

/// Current wall time in epoch milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// `2026-11-29 06:03:37`: epoch milliseconds as a UTC date and time (for tables and reports).
pub fn format_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn format_utc_dates() {
        assert_eq!(super::format_utc(0), "1970-01-01 00:00:00");
        assert_eq!(super::format_utc(19_723 * 86_400_000), "2024-01-01 00:00:00");
        assert_eq!(super::format_utc(11_016 * 86_400_000), "2000-02-29 00:00:00");
        assert_eq!(super::format_utc(1_764_396_217_000), "2025-11-29 06:03:37");
        assert_eq!(super::format_utc(-1000), "1969-12-31 23:59:59");
    }
}

/// How to open a store.
#[derive(Clone)]
pub struct StoreOptions {
    /// How long a write waits for another process's transaction before `SQLITE_BUSY`.
    pub busy_timeout: Duration,
    /// A running run with no heartbeat for this long reads as crashed.
    pub heartbeat_timeout_ms: i64,
    /// Open without creating or migrating anything; writes fail.
    pub read_only: bool,
    /// Refuse to grow the database past about this many bytes (`PRAGMA max_page_count`);
    /// writes past it fail like a full disk. `None`: limited by the disk only.
    pub max_db_bytes: Option<u64>,
    pub clock: Clock,
    /// Tells whether the process holding a running run on this machine is still there, so a
    /// killed run reads `crashed` at once rather than after the heartbeat timeout. `None`:
    /// the heartbeat alone decides. Default: [`LocalProcesses`] (`/proc`).
    pub process_probe: Option<Arc<dyn ProcessProbe>>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            busy_timeout: Duration::from_secs(30),
            heartbeat_timeout_ms: DEFAULT_HEARTBEAT_TIMEOUT_MS,
            read_only: false,
            max_db_bytes: None,
            clock: system_clock(),
            process_probe: Some(LocalProcesses::shared()),
        }
    }
}

/// File name of the lock `Store::open` holds while it sets the store up.
pub const OPEN_LOCK_FILE: &str = "trackbench.open.lock";

/// Takes the store folder's open lock (an advisory lock on [`OPEN_LOCK_FILE`]), waiting for
/// another process's `open` to finish; released when the file is dropped.
fn lock_for_open(root: &Path) -> Result<std::fs::File> {
    let path = root.join(OPEN_LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(StoreError::io(format!("opening {}", path.display())))?;
    file.lock().map_err(StoreError::io(format!("locking {}", path.display())))?;
    Ok(file)
}

/// Default crash-detection timeout: four missed SDK heartbeats.
pub const DEFAULT_HEARTBEAT_TIMEOUT_MS: i64 = 120_000;

/// An open store. Not `Sync`: give each thread (and each process) its own; SQLite's WAL and
/// locking make concurrent stores on one folder safe.
pub struct Store {
    conn: Connection,
    root: PathBuf,
    opts: StoreOptions,
    /// run uid -> rowid
    run_ids: FxHashMap<String, i64>,
    /// metric key -> id
    key_ids: FxHashMap<String, i64>,
    /// The runs table records holding processes (schema 5+; false only for an older store
    /// opened read-only).
    has_liveness: bool,
}

impl Store {
    /// Opens (creating and migrating when needed) the store in folder `root`.
    pub fn open(root: impl AsRef<Path>, opts: StoreOptions) -> Result<Store> {
        let root = root.as_ref().to_path_buf();
        let db = root.join(DB_FILE);
        let mut conn = if opts.read_only {
            if !db.exists() {
                return Err(StoreError::Io {
                    context: format!("opening store {}", root.display()),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "no trackbench.db in this folder"),
                });
            }
            Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?
        } else {
            std::fs::create_dir_all(&root)
                .map_err(StoreError::io(format!("creating store folder {}", root.display())))?;
            Connection::open(&db)?
        };
        conn.busy_timeout(opts.busy_timeout)?;
        // Opening for writing takes the store's lock file (blocking, released at the end of
        // `open`): switching to WAL needs an exclusive lock SQLite does not wait for, so
        // processes creating one store at once take turns here instead of failing busy.
        let _opening = if opts.read_only { None } else { Some(lock_for_open(&root)?) };
        if !opts.read_only {
            let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
                if !mode.eq_ignore_ascii_case("wal") {
                    tracing::warn!(mode, "could not switch the store to WAL");
                }
            }
        }
        // mmap: reads of big series map the file instead of copying it through read().
        conn.execute_batch(
            "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA mmap_size=1073741824;",
        )?;
        if let Some(bytes) = opts.max_db_bytes {
            let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
            conn.pragma_update(None, "max_page_count", (bytes as i64 / page.max(512)).max(1))?;
        }
        let version = if opts.read_only {
            let v = migrate::version(&conn)?;
            if v > migrate::LATEST {
                return Err(StoreError::SchemaTooNew { path: db, found: v, known: migrate::LATEST });
            }
            v
        } else {
            migrate::migrate(&mut conn, &db)?
        };
        Ok(Store {
            conn,
            root,
            opts,
            run_ids: FxHashMap::default(),
            key_ids: FxHashMap::default(),
            has_liveness: version >= 5,
        })
    }

    /// The store folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The database file.
    pub fn db_path(&self) -> PathBuf {
        self.root.join(DB_FILE)
    }

    pub fn options(&self) -> &StoreOptions {
        &self.opts
    }

    /// Schema version of the open database.
    pub fn schema_version(&self) -> Result<i64> {
        migrate::version(&self.conn)
    }

    /// Now, in epoch milliseconds, by the store's clock (`StoreOptions::clock`): what callers
    /// use instead of the system clock, so an injected clock governs them too.
    pub fn now(&self) -> i64 {
        (self.opts.clock)()
    }

    /// SQLite's `PRAGMA data_version`: changes whenever another connection commits.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self.conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }
}

/// The seam's traits, for code that holds a `dyn Backend` (`use trackbench_store::prelude::*`).
pub mod prelude {
    pub use crate::{AbStore, ArtifactStore, Backend, ChangeStore, MetricStore, ModelStore, ProjectStore, RunStore};
}
