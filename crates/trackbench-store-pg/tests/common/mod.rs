//! What the contract test files share: the PostgreSQL test server (`TRACKBENCH_TEST_POSTGRES`;
//! without it the PostgreSQL runs are skipped, and say so), a fresh database per scenario,
//! and store options with a manual clock, so both backends see the same times.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

use postgres::{Client, NoTls};
use trackbench_store::StoreOptions;

/// Where every manual clock starts.
pub const T0: i64 = 1_750_000_000_000;

/// Says loudly, past the test harness's capture, that a test could not run here.
pub fn skipped(why: &str) {
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: {why} ***");
}

/// A fresh database on the test server, dropped afterwards.
pub struct Database {
    admin: String,
    name: String,
    pub url: String,
}

impl Database {
    pub fn create(admin: &str) -> Database {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!("tbm_{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
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

/// The admin URL of the test server, or `None` (said loudly) when there is none.
pub fn test_server() -> Option<String> {
    let url = std::env::var("TRACKBENCH_TEST_POSTGRES").ok().filter(|u| !u.is_empty());
    if url.is_none() {
        skipped("PostgreSQL backend: TRACKBENCH_TEST_POSTGRES is not set (`cargo xtask test` starts a server)");
    }
    url
}

/// Store options with a manual clock from [`T0`] (and no process probe), and the clock.
pub fn manual_clock() -> (StoreOptions, Arc<AtomicI64>) {
    let clock = Arc::new(AtomicI64::new(T0));
    let c = clock.clone();
    let opts = StoreOptions {
        clock: Arc::new(move || c.load(Ordering::SeqCst)),
        process_probe: None,
        ..StoreOptions::default()
    };
    (opts, clock)
}
