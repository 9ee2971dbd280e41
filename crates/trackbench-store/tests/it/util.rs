//! Helpers: a fresh store in a temp folder, runs with data.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use trackbench_store::{NewRun, Store, StoreOptions};

pub struct TestStore {
    pub store: Store,
    pub dir: tempfile::TempDir,
    pub clock: Arc<AtomicI64>,
}

pub const T0: i64 = 1_750_000_000_000;

/// A store in a fresh temp folder with a manual clock starting at [`T0`].
pub fn store() -> TestStore {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(AtomicI64::new(T0));
    let c = clock.clone();
    let opts = StoreOptions { clock: Arc::new(move || c.load(Ordering::SeqCst)), ..StoreOptions::default() };
    let store = Store::open(dir.path(), opts).expect("open store");
    TestStore { store, dir, clock }
}

impl TestStore {
    pub fn run(&mut self, project: &str, name: &str) -> String {
        self.store
            .create_run(&NewRun { project: project.into(), name: Some(name.into()), ..NewRun::default() })
            .expect("create run")
            .id
    }

    pub fn advance(&self, ms: i64) {
        self.clock.fetch_add(ms, Ordering::SeqCst);
    }
}
