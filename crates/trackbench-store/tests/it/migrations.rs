//! Schema migrations: an old store opens and migrates without loss; shipped migrations never
//! change; a newer store is refused untouched.

use rusqlite::Connection;
use trackbench_store::migrate::{self, MIGRATIONS};
use trackbench_store::{Store, StoreError, StoreOptions};

/// blake3 of every shipped migration. Append a line for a new migration; never edit one.
const SHIPPED: &[&str] = &[
    "a10dd9ed055d155910c653e0a3bfc1ced95bd02ad96fd64589723272292a02b6",
    "3e0f7c770f3ceb3ed8cf01196ec9c1772eeee7e108fe58e16af8234537c6ab35",
    "67f28fdec7c2ae67805bbddee179ab345b36c4b17e9f243cfe89b0ca2ba5d95d",
    "858367f9492efefaa311d144de79c92a7a1f2cf26c0f250e51b05dfb8bc78240",
    "b2d9d7705702ed90473bf9aa5958eb2a04d1a5d5869c0057e06709d538b04963",
    "8c300c91564e86fa5d6683a3820be6530893fbeec9b6c95635d4fab3a909110d",
    "c2fe6c092a549601ab19af10dea35899b6323489e796eac6bc0221b496615ded",
];

#[test]
fn migrations_are_append_only() {
    let hashes: Vec<String> = MIGRATIONS.iter().map(|m| blake3::hash(m.as_bytes()).to_hex().to_string()).collect();
    assert!(hashes.len() >= SHIPPED.len(), "a shipped migration was removed");
    for (i, (got, pinned)) in hashes.iter().zip(SHIPPED).enumerate() {
        assert_eq!(got, pinned, "migration {} changed after shipping; add a new one instead", i + 1);
    }
    assert_eq!(hashes.len(), SHIPPED.len(), "new migration: pin its hash in SHIPPED: {:?}", &hashes[SHIPPED.len()..]);
}

#[test]
fn a_version_1_store_opens_and_migrates_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(trackbench_store::DB_FILE);
    {
        // Written the way a v1 build wrote it: its schema and a run with data.
        let mut conn = Connection::open(&db).unwrap();
        migrate::migrate_to(&mut conn, &db, 1).unwrap();
        conn.execute_batch(
            "INSERT INTO projects(id, name, created_ms) VALUES (1, 'old', 1);
             INSERT INTO runs(id, uid, project_id, name, status, created_ms, started_ms, heartbeat_ms, ended_ms)
               VALUES (1, 'oldrun0000000001', 1, 'legacy', 'finished', 1, 1, 2, 2);
             INSERT INTO params VALUES (1, 'lr', '0.1', '0.1', 0.1);
             INSERT INTO run_tags VALUES (1, 'k', 'v');",
        )
        .unwrap();
        assert_eq!(migrate::version(&conn).unwrap(), 1);
    }
    let mut store = Store::open(dir.path(), StoreOptions::default()).unwrap();
    assert_eq!(store.schema_version().unwrap(), migrate::LATEST);
    let run = store.run("oldrun0000000001").unwrap();
    assert_eq!(run.name, "legacy");
    assert_eq!(store.params(&run.id).unwrap(), vec![("lr".to_string(), serde_json::json!(0.1))]);
    assert_eq!(store.tags(&run.id).unwrap(), vec![("k".to_string(), "v".to_string())]);
    // Tables of version 2 work on the migrated store.
    store.set_summary_for_test(&run.id);
    assert!(store.artifacts(&run.id).unwrap().is_empty());
}

#[test]
fn a_version_4_store_reads_read_only_without_migrating() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(trackbench_store::DB_FILE);
    {
        let mut conn = Connection::open(&db).unwrap();
        migrate::migrate_to(&mut conn, &db, 4).unwrap();
        conn.execute_batch(
            "INSERT INTO projects(id, name, created_ms) VALUES (1, 'old', 1);
             INSERT INTO runs(id, uid, project_id, name, status, created_ms, started_ms, heartbeat_ms, host, pid)
               VALUES (1, 'oldrun0000000001', 1, 'open', 'running', 1, 1, 2, 'h', 1);",
        )
        .unwrap();
    }
    let store = Store::open(dir.path(), StoreOptions { read_only: true, ..StoreOptions::default() }).unwrap();
    assert_eq!(store.schema_version().unwrap(), 4, "untouched");
    let runs = store.list_runs(&trackbench_store::RunQuery::default()).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(store.run("oldrun0000000001").unwrap().status, trackbench_store::RunStatus::Crashed, "stale heartbeat");
}

#[test]
fn a_newer_store_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    {
        let _ = Store::open(dir.path(), StoreOptions::default()).unwrap();
        let conn = Connection::open(dir.path().join(trackbench_store::DB_FILE)).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
    }
    match Store::open(dir.path(), StoreOptions::default()) {
        Err(StoreError::SchemaTooNew { found: 999, .. }) => {}
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a newer store was opened"),
    }
    let conn = Connection::open(dir.path().join(trackbench_store::DB_FILE)).unwrap();
    assert_eq!(migrate::version(&conn).unwrap(), 999);
}

trait SummaryForTest {
    fn set_summary_for_test(&mut self, run: &str);
}

impl SummaryForTest for Store {
    fn set_summary_for_test(&mut self, run: &str) {
        let b =
            trackbench_store::Batch { summary: vec![("best".into(), serde_json::json!(0.9))], ..Default::default() };
        self.log_batch(run, &b).unwrap();
        assert_eq!(self.summary_values(run).unwrap(), vec![("best".to_string(), serde_json::json!(0.9))]);
    }
}

#[test]
fn many_openers_of_a_new_store_at_once_all_succeed() {
    // Switching a new database to WAL needs an exclusive lock SQLite does not wait for; the
    // openers take turns on the store's open lock instead of failing busy.
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(12));
        let handles: Vec<_> = (0..12)
            .map(|_| {
                let (root, barrier) = (dir.path().to_path_buf(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    Store::open(&root, StoreOptions::default()).map(|s| s.schema_version().unwrap())
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap().unwrap(), migrate::LATEST);
        }
    }
}
