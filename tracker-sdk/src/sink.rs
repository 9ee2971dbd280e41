//! Where the writer sends batches. One implementation today, straight into the local store;
//! the HTTP transport to a Trackbench server (`TRACKBENCH_URL`) will be a second one.

use std::path::Path;

use trackbench_store::{Batch, IngestReport, RunStatus, Store, StoreError};

/// A destination for one run's data.
pub(crate) trait Sink: Send {
    fn write(&mut self, run: &str, batch: &Batch) -> Result<IngestReport, StoreError>;
    fn put_artifact(&mut self, run: &str, name: &str, source: &Path) -> Result<(), StoreError>;
    fn finish(&mut self, run: &str, status: RunStatus, error: Option<&str>) -> Result<(), StoreError>;
}

/// Writes into a local store, retrying while another process holds the write lock.
pub(crate) struct StoreSink {
    pub store: Store,
}

/// How many times a write is retried when SQLite still reports busy after its busy timeout.
const BUSY_RETRIES: u32 = 20;

pub(crate) fn retry_busy<T>(mut f: impl FnMut() -> Result<T, StoreError>) -> Result<T, StoreError> {
    let mut attempt = 0;
    loop {
        match f() {
            Err(e) if e.is_busy() && attempt < BUSY_RETRIES => {
                attempt += 1;
                tracing::debug!(attempt, "store busy; retrying");
                std::thread::sleep(std::time::Duration::from_millis(5 << attempt.min(6)));
            }
            other => return other,
        }
    }
}

impl Sink for StoreSink {
    fn write(&mut self, run: &str, batch: &Batch) -> Result<IngestReport, StoreError> {
        retry_busy(|| self.store.log_batch(run, batch))
    }

    fn put_artifact(&mut self, run: &str, name: &str, source: &Path) -> Result<(), StoreError> {
        if source.is_dir() {
            retry_busy(|| self.store.put_artifact_dir(run, name, source).map(|_| ()))
        } else {
            retry_busy(|| self.store.put_artifact(run, name, source).map(|_| ()))
        }
    }

    fn finish(&mut self, run: &str, status: RunStatus, error: Option<&str>) -> Result<(), StoreError> {
        retry_busy(|| self.store.finish_run(run, status, error))
    }
}
