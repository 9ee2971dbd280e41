//! Numbered schema migrations, applied in order, one IMMEDIATE transaction each.
//!
//! Append-only: a shipped migration is never edited (the `migrations_are_append_only` test
//! pins each one's hash). The schema version is SQLite's `user_version`.

use std::path::Path;

use rusqlite::Connection;

use crate::error::{Result, StoreError};

/// The migrations, in order; migration `i` takes the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: projects, runs, params, tags, chunked metrics and their summaries.
    r#"
    CREATE TABLE projects (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        created_ms  INTEGER NOT NULL
    );
    CREATE TABLE runs (
        id            INTEGER PRIMARY KEY,
        uid           TEXT NOT NULL UNIQUE,
        project_id    INTEGER NOT NULL REFERENCES projects(id),
        name          TEXT NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('running','finished','failed','killed')),
        grp           TEXT,
        notes         TEXT,
        created_ms    INTEGER NOT NULL,
        started_ms    INTEGER NOT NULL,
        ended_ms      INTEGER,
        heartbeat_ms  INTEGER NOT NULL,
        host          TEXT,
        pid           INTEGER,
        command       TEXT,
        git_commit    TEXT,
        git_dirty     INTEGER,
        env_json      TEXT,
        error         TEXT,
        deleted_ms    INTEGER
    );
    CREATE INDEX runs_project ON runs(project_id, created_ms);
    CREATE TABLE run_tags (
        run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key     TEXT NOT NULL,
        value   TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
    ) WITHOUT ROWID;
    CREATE TABLE params (
        run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key         TEXT NOT NULL,
        value_json  TEXT NOT NULL,
        value_text  TEXT NOT NULL,
        value_num   REAL,
        PRIMARY KEY (run_id, key)
    ) WITHOUT ROWID;
    CREATE TABLE metric_keys (
        id    INTEGER PRIMARY KEY,
        name  TEXT NOT NULL UNIQUE
    );
    CREATE TABLE metric_chunks (
        run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key_id    INTEGER NOT NULL REFERENCES metric_keys(id),
        seq       INTEGER NOT NULL,
        n         INTEGER NOT NULL,
        step_min  INTEGER NOT NULL,
        step_max  INTEGER NOT NULL,
        vmin      REAL,
        vmax      REAL,
        vlast     REAL,
        data      BLOB NOT NULL,
        PRIMARY KEY (run_id, key_id, seq)
    ) WITHOUT ROWID;
    CREATE TABLE metric_summaries (
        run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key_id      INTEGER NOT NULL REFERENCES metric_keys(id),
        count       INTEGER NOT NULL,
        nan_count   INTEGER NOT NULL,
        last        REAL,
        last_is_nan INTEGER NOT NULL,
        last_step   INTEGER NOT NULL,
        last_wall_ms INTEGER NOT NULL,
        min         REAL,
        max         REAL,
        sum         REAL,
        PRIMARY KEY (run_id, key_id)
    ) WITHOUT ROWID;
    "#,
    // 2: artifacts (content-addressed blobs), user summary values, captured log lines.
    r#"
    CREATE TABLE artifacts (
        run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        path        TEXT NOT NULL,
        hash        TEXT NOT NULL,
        size        INTEGER NOT NULL,
        media_type  TEXT NOT NULL,
        created_ms  INTEGER NOT NULL,
        PRIMARY KEY (run_id, path)
    ) WITHOUT ROWID;
    CREATE INDEX artifacts_hash ON artifacts(hash);
    CREATE TABLE run_summary (
        run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        key         TEXT NOT NULL,
        value_json  TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
    ) WITHOUT ROWID;
    CREATE TABLE log_lines (
        run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        seq     INTEGER NOT NULL,
        stream  TEXT NOT NULL,
        ts_ms   INTEGER NOT NULL,
        line    TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    ) WITHOUT ROWID;
    "#,
    // 3: project lifecycle and tags (MLflow experiments), run inputs (MLflow datasets),
    //    the last batch number stored per remote writer (retries are not stored twice).
    r#"
    ALTER TABLE projects ADD COLUMN deleted_ms INTEGER;
    ALTER TABLE projects ADD COLUMN updated_ms INTEGER;
    CREATE TABLE project_tags (
        project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        key         TEXT NOT NULL,
        value       TEXT NOT NULL,
        PRIMARY KEY (project_id, key)
    ) WITHOUT ROWID;
    CREATE TABLE run_inputs (
        run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        seq         INTEGER NOT NULL,
        digest      TEXT NOT NULL,
        value_json  TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)
    ) WITHOUT ROWID;
    CREATE TABLE ingest_marks (
        run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        writer  TEXT NOT NULL,
        seq     INTEGER NOT NULL,
        PRIMARY KEY (run_id, writer)
    ) WITHOUT ROWID;
    "#,
    // 4: A/B comparisons (the launcher's `ab`): the object, its spec and verdict, its runs by arm.
    r#"
    CREATE TABLE ab_tests (
        id           INTEGER PRIMARY KEY,
        uid          TEXT NOT NULL UNIQUE,
        project_id   INTEGER NOT NULL REFERENCES projects(id),
        name         TEXT NOT NULL,
        metric       TEXT NOT NULL,
        direction    TEXT NOT NULL CHECK (direction IN ('maximize','minimize')),
        status       TEXT NOT NULL CHECK (status IN ('running','finished','failed','killed')),
        spec_json    TEXT NOT NULL,
        result_json  TEXT,
        error        TEXT,
        created_ms   INTEGER NOT NULL,
        ended_ms     INTEGER
    );
    CREATE INDEX ab_tests_project ON ab_tests(project_id, created_ms);
    CREATE TABLE ab_runs (
        ab_id   INTEGER NOT NULL REFERENCES ab_tests(id) ON DELETE CASCADE,
        run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        arm     TEXT NOT NULL CHECK (arm IN ('a','b')),
        seq     INTEGER NOT NULL,
        PRIMARY KEY (ab_id, run_id)
    ) WITHOUT ROWID;
    "#,
    // 5: the process holding a run (its start time and the boot it runs in), so a run whose
    //    process on this host is gone reads `crashed` at once; run ids are never reused after a
    //    purge (`id_floor` keeps the greatest id ever deleted), so an id cached by another
    //    connection cannot come to name a newer run.
    r#"
    ALTER TABLE runs ADD COLUMN proc_start INTEGER;
    ALTER TABLE runs ADD COLUMN proc_boot TEXT;
    CREATE INDEX runs_running ON runs(host) WHERE status = 'running';
    CREATE TABLE id_floor (
        tbl     TEXT PRIMARY KEY,
        max_id  INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO id_floor(tbl, max_id) SELECT 'runs', coalesce(max(id), 0) FROM runs;
    CREATE TRIGGER runs_id_floor AFTER DELETE ON runs BEGIN
        UPDATE id_floor SET max_id = max(max_id, OLD.id) WHERE tbl = 'runs';
    END;
    "#,
    // 6: models. Logged models (MLflow 3: a model a run produced, with its own tags, params,
    //    metrics and artifacts; a run's outputs name them) and the registry (named models, versions numbered per model
    //    from a counter that never goes back, aliases, tags, legacy stages). Metric values are
    //    kept as their f64 bits, so NaN and infinities round-trip exactly.
    r#"
    CREATE TABLE logged_models (
        id              INTEGER PRIMARY KEY,
        uid             TEXT NOT NULL UNIQUE,
        project_id      INTEGER NOT NULL REFERENCES projects(id),
        name            TEXT NOT NULL,
        source_run_id   INTEGER REFERENCES runs(id) ON DELETE SET NULL,
        model_type      TEXT,
        status          TEXT NOT NULL CHECK (status IN ('pending','ready','failed')),
        status_message  TEXT,
        created_ms      INTEGER NOT NULL,
        updated_ms      INTEGER NOT NULL,
        deleted_ms      INTEGER
    );
    CREATE INDEX logged_models_project ON logged_models(project_id, created_ms);
    CREATE INDEX logged_models_run ON logged_models(source_run_id);
    CREATE TABLE logged_model_tags (
        model_id  INTEGER NOT NULL REFERENCES logged_models(id) ON DELETE CASCADE,
        key       TEXT NOT NULL,
        value     TEXT NOT NULL,
        PRIMARY KEY (model_id, key)
    ) WITHOUT ROWID;
    CREATE TABLE logged_model_params (
        model_id  INTEGER NOT NULL REFERENCES logged_models(id) ON DELETE CASCADE,
        key       TEXT NOT NULL,
        value     TEXT NOT NULL,
        PRIMARY KEY (model_id, key)
    ) WITHOUT ROWID;
    CREATE TABLE logged_model_metrics (
        model_id    INTEGER NOT NULL REFERENCES logged_models(id) ON DELETE CASCADE,
        key         TEXT NOT NULL,
        step        INTEGER NOT NULL,
        wall_ms     INTEGER NOT NULL,
        value_bits  INTEGER NOT NULL,
        run_id      INTEGER REFERENCES runs(id) ON DELETE SET NULL,
        seq         INTEGER NOT NULL,
        PRIMARY KEY (model_id, key, step, seq)
    ) WITHOUT ROWID;
    CREATE TABLE model_artifacts (
        model_id    INTEGER NOT NULL REFERENCES logged_models(id) ON DELETE CASCADE,
        path        TEXT NOT NULL,
        hash        TEXT NOT NULL,
        size        INTEGER NOT NULL,
        media_type  TEXT NOT NULL,
        created_ms  INTEGER NOT NULL,
        PRIMARY KEY (model_id, path)
    ) WITHOUT ROWID;
    CREATE INDEX model_artifacts_hash ON model_artifacts(hash);
    CREATE TABLE model_outputs (
        run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        model_id  INTEGER NOT NULL REFERENCES logged_models(id) ON DELETE CASCADE,
        step      INTEGER NOT NULL,
        PRIMARY KEY (run_id, model_id)
    ) WITHOUT ROWID;
    CREATE TABLE registered_models (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        description   TEXT,
        next_version  INTEGER NOT NULL DEFAULT 1,
        created_ms    INTEGER NOT NULL,
        updated_ms    INTEGER NOT NULL
    );
    CREATE TABLE registered_model_tags (
        model_id  INTEGER NOT NULL REFERENCES registered_models(id) ON DELETE CASCADE,
        key       TEXT NOT NULL,
        value     TEXT NOT NULL,
        PRIMARY KEY (model_id, key)
    ) WITHOUT ROWID;
    CREATE TABLE model_versions (
        model_id        INTEGER NOT NULL REFERENCES registered_models(id) ON DELETE CASCADE,
        version         INTEGER NOT NULL,
        source          TEXT NOT NULL,
        run_id          INTEGER REFERENCES runs(id) ON DELETE SET NULL,
        logged_model_id INTEGER REFERENCES logged_models(id) ON DELETE SET NULL,
        description     TEXT,
        stage           TEXT NOT NULL DEFAULT 'None',
        created_ms      INTEGER NOT NULL,
        updated_ms      INTEGER NOT NULL,
        PRIMARY KEY (model_id, version)
    ) WITHOUT ROWID;
    CREATE TABLE model_version_tags (
        model_id  INTEGER NOT NULL,
        version   INTEGER NOT NULL,
        key       TEXT NOT NULL,
        value     TEXT NOT NULL,
        PRIMARY KEY (model_id, version, key),
        FOREIGN KEY (model_id, version) REFERENCES model_versions(model_id, version) ON DELETE CASCADE
    ) WITHOUT ROWID;
    CREATE TABLE model_aliases (
        model_id  INTEGER NOT NULL,
        alias     TEXT NOT NULL,
        version   INTEGER NOT NULL,
        PRIMARY KEY (model_id, alias),
        FOREIGN KEY (model_id, version) REFERENCES model_versions(model_id, version) ON DELETE CASCADE
    ) WITHOUT ROWID;
    "#,
    // 7: users, their API tokens (a hash of the secret; ids never reused, so a revoked id
    //    never comes back), per-project permissions and settings (the default permission).
    r#"
    CREATE TABLE users (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        name        TEXT NOT NULL UNIQUE,
        admin       INTEGER NOT NULL DEFAULT 0,
        created_ms  INTEGER NOT NULL
    );
    CREATE TABLE api_tokens (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        hash        TEXT NOT NULL UNIQUE,
        created_ms  INTEGER NOT NULL,
        expires_ms  INTEGER,
        revoked_ms  INTEGER
    );
    CREATE INDEX api_tokens_user ON api_tokens(user_id);
    CREATE TABLE project_permissions (
        project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        permission  TEXT NOT NULL CHECK (permission IN ('READ','EDIT','MANAGE')),
        PRIMARY KEY (project_id, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX project_permissions_user ON project_permissions(user_id);
    CREATE TABLE settings (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
    ) WITHOUT ROWID;
    "#,
];

/// The schema version this build writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// Reads `user_version`.
pub fn version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Brings the database up to [`LATEST`], one transaction per migration. A newer database
/// than this build knows is refused untouched.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<i64> {
    migrate_to(conn, path, LATEST)
}

/// Applies migrations up to `target` (tests use this to build older stores).
pub fn migrate_to(conn: &mut Connection, path: &Path, target: i64) -> Result<i64> {
    loop {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let current = version(&tx)?;
        if current > LATEST {
            return Err(StoreError::SchemaTooNew { path: path.to_path_buf(), found: current, known: LATEST });
        }
        if current >= target {
            return Ok(current);
        }
        tracing::info!(from = current, to = current + 1, "migrating store schema");
        tx.execute_batch(MIGRATIONS[current as usize])?;
        tx.pragma_update(None, "user_version", current + 1)?;
        tx.commit()?;
    }
}
