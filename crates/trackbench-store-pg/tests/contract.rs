//! One contract, two backends: each scenario runs on the SQLite store and on PostgreSQL (a
//! fresh database of its own), and must behave the same on both. The PostgreSQL runs need a
//! server named by `TRACKBENCH_TEST_POSTGRES` (`cargo xtask test` starts one); without it they
//! are skipped, and say so.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use postgres::{Client, NoTls};
use trackbench_store::{ProjectStore, Store, StoreError, StoreOptions};
use trackbench_store_pg::{PgStore, migrate};

const T0: i64 = 1_750_000_000_000;

/// Says loudly, past the test harness's capture, that a test could not run here.
fn skipped(why: &str) {
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: {why} ***");
}

/// A fresh database on the test server, dropped afterwards.
struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Database {
    fn create(admin: &str) -> Database {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!("tb_{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
        let mut c = Client::connect(admin, NoTls).expect("connecting to the test PostgreSQL");
        c.batch_execute(&format!("CREATE DATABASE {name}")).expect("create database");
        let base = admin.rsplit_once('/').map(|(b, _)| b).expect("URL with a database");
        Database { admin: admin.to_string(), url: format!("{base}/{name}"), name }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut c) = Client::connect(&self.admin, NoTls) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

fn test_server() -> Option<String> {
    let url = std::env::var("TRACKBENCH_TEST_POSTGRES").ok().filter(|u| !u.is_empty());
    if url.is_none() {
        skipped("PostgreSQL backend: TRACKBENCH_TEST_POSTGRES is not set (`cargo xtask test` starts a server)");
    }
    url
}

/// A backend under test: its store, its manual clock, and what must outlive the store.
struct Backend {
    name: &'static str,
    store: Box<dyn ProjectStore>,
    clock: Arc<AtomicI64>,
    _db: Option<Database>,
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    fn advance(&self, ms: i64) {
        self.clock.fetch_add(ms, Ordering::SeqCst);
    }
}

/// SQLite, and PostgreSQL when a test server is there.
fn backends() -> Vec<Backend> {
    let clock = Arc::new(AtomicI64::new(T0));
    let c = clock.clone();
    let dir = tempfile::tempdir().unwrap();
    let opts = StoreOptions { clock: Arc::new(move || c.load(Ordering::SeqCst)), ..StoreOptions::default() };
    let sqlite = Store::open(dir.path(), opts).unwrap();
    let mut out = vec![Backend { name: "sqlite", store: Box::new(sqlite), clock, _db: None, _dir: Some(dir) }];
    if let Some(admin) = test_server() {
        let db = Database::create(&admin);
        let clock = Arc::new(AtomicI64::new(T0));
        let c = clock.clone();
        let pg = PgStore::connect(&db.url, Arc::new(move || c.load(Ordering::SeqCst))).unwrap();
        out.push(Backend { name: "postgres", store: Box::new(pg), clock, _db: Some(db), _dir: None });
    }
    out
}

#[test]
fn projects_are_created_listed_renamed_and_tagged_alike() {
    for mut b in backends() {
        let s = &mut b.store;
        let alpha = s.create_project("Alpha").unwrap();
        assert_eq!((alpha.created_ms, alpha.updated_ms, alpha.runs), (T0, Some(T0), 0), "{}", b.name);
        assert!(matches!(s.create_project("Alpha"), Err(StoreError::ProjectExists(_))), "{}", b.name);
        let beta = s.ensure_project("beta").unwrap();
        assert_eq!(s.ensure_project("beta").unwrap(), beta, "{}: ensure is idempotent", b.name);
        s.ensure_project("zeta").unwrap();
        s.ensure_project("émile ✓").unwrap();
        for bad in ["", "  ", "a\u{7}b"] {
            assert!(matches!(s.create_project(bad), Err(StoreError::Invalid { .. })), "{}: {bad:?}", b.name);
        }
        // Names order byte-wise on both (uppercase first, non-ASCII last), not by locale.
        let names: Vec<String> = s.list_projects(false).unwrap().into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["Alpha", "beta", "zeta", "émile ✓"], "{}", b.name);

        b.advance(10);
        let s = &mut b.store;
        s.rename_project(alpha.id, "Alpha").unwrap(); // the same name: nothing to do
        assert!(matches!(s.rename_project(alpha.id, "beta"), Err(StoreError::ProjectExists(_))), "{}", b.name);
        s.rename_project(alpha.id, "alpha-2").unwrap();
        let renamed = s.project_by_id(alpha.id).unwrap();
        assert_eq!((renamed.name.as_str(), renamed.updated_ms), ("alpha-2", Some(T0 + 10)), "{}", b.name);
        assert!(matches!(s.project("Alpha"), Err(StoreError::ProjectNotFound(_))), "{}", b.name);
        assert!(matches!(s.project_by_id(987_654), Err(StoreError::ProjectNotFound(_))), "{}", b.name);

        s.set_project_tag(beta, "team", "vision").unwrap();
        s.set_project_tag(beta, "owner", "ana").unwrap();
        s.set_project_tag(beta, "team", "nlp ✓").unwrap();
        assert!(s.set_project_tag(beta, "", "x").is_err(), "{}", b.name);
        assert!(s.remove_project_tag(beta, "owner").unwrap(), "{}", b.name);
        assert!(!s.remove_project_tag(beta, "owner").unwrap(), "{}", b.name);
        assert_eq!(s.project_tags(beta).unwrap(), [("team".to_string(), "nlp ✓".to_string())], "{}", b.name);
        assert!(matches!(s.project_tags(987_654), Err(StoreError::ProjectNotFound(_))), "{}", b.name);
    }
}

#[test]
fn deleted_projects_are_hidden_until_restored_alike() {
    for mut b in backends() {
        let id = b.store.create_project("p").unwrap().id;
        b.store.create_project("q").unwrap();
        b.advance(5);
        b.store.delete_project(id).unwrap();
        b.store.delete_project(id).unwrap(); // twice is fine
        let live: Vec<String> = b.store.list_projects(false).unwrap().into_iter().map(|p| p.name).collect();
        assert_eq!(live, ["q"], "{}", b.name);
        let all = b.store.list_projects(true).unwrap();
        assert_eq!(all.iter().map(|p| (p.name.as_str(), p.deleted)).collect::<Vec<_>>(), [("p", true), ("q", false)]);
        assert!(b.store.project("p").unwrap().deleted, "{}: still found by name", b.name);
        assert!(matches!(b.store.create_project("p"), Err(StoreError::ProjectExists(_))), "{}", b.name);
        b.store.restore_project(id).unwrap();
        let p = b.store.project_by_id(id).unwrap();
        assert_eq!((p.deleted, p.updated_ms), (false, Some(T0 + 5)), "{}", b.name);
        assert!(matches!(b.store.delete_project(987_654), Err(StoreError::ProjectNotFound(_))), "{}", b.name);
    }
}

/// blake3 of every shipped PostgreSQL migration. Append a line for a new one; never edit one.
const SHIPPED: &[&str] = &["c102eebfd2f74aebd1714464a2870256861f23b2d59f37416fd97cb3452b7436"];

#[test]
fn postgres_migrations_are_append_only() {
    let hashes: Vec<String> =
        migrate::MIGRATIONS.iter().map(|m| blake3::hash(m.as_bytes()).to_hex().to_string()).collect();
    assert!(hashes.len() >= SHIPPED.len(), "a shipped migration was removed");
    for (i, (got, pinned)) in hashes.iter().zip(SHIPPED).enumerate() {
        assert_eq!(got, pinned, "migration {} changed after shipping; add a new one instead", i + 1);
    }
    assert_eq!(hashes.len(), SHIPPED.len(), "new migration: pin its hash in SHIPPED: {:?}", &hashes[SHIPPED.len()..]);
}

#[test]
fn replicas_starting_at_once_migrate_once_and_a_newer_schema_is_refused() {
    let Some(admin) = test_server() else { return };
    let db = Database::create(&admin);
    let clock: trackbench_store::Clock = Arc::new(|| T0);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (url, clock) = (db.url.clone(), clock.clone());
            std::thread::spawn(move || PgStore::connect(&url, clock).map(|s| s.schema_version().unwrap()))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap().unwrap(), migrate::LATEST);
    }
    let mut c = Client::connect(&db.url, NoTls).unwrap();
    c.execute("UPDATE trackbench_schema SET version = $1", &[&(migrate::LATEST + 1)]).unwrap();
    match PgStore::connect(&db.url, clock.clone()) {
        Err(StoreError::SchemaTooNew { found, known, .. }) => {
            assert_eq!((found, known), (migrate::LATEST + 1, migrate::LATEST))
        }
        Err(e) => panic!("expected SchemaTooNew, got {e}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
    // The refusal changed nothing.
    let v: i64 = c.query_one("SELECT version FROM trackbench_schema", &[]).unwrap().get(0);
    assert_eq!(v, migrate::LATEST + 1);
}

#[test]
fn an_unreachable_database_is_a_clear_error_without_the_password() {
    // Port 1 on loopback: nothing listens there.
    let err = PgStore::connect("postgres://ana:s3cret@127.0.0.1:1/tb?connect_timeout=5", Arc::new(|| T0))
        .err()
        .expect("no server there");
    match err {
        StoreError::Database { message, unavailable } => {
            assert!(unavailable, "{message}");
            assert!(message.contains("127.0.0.1:1") && !message.contains("s3cret"), "{message}");
        }
        other => panic!("expected a Database error, got {other}"),
    }
}
