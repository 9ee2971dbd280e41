//! Where the writer sends batches: straight into the local store ([`StoreSink`]), or to a
//! Trackbench server over HTTP (`crate::http::HttpSink`, with `TRACKBENCH_URL`).

use std::path::Path;

use trackbench_store::{Batch, IngestReport, RunStatus, Store, StoreError};

/// A destination for one run's data.
pub(crate) trait Sink: Send {
    fn write(&mut self, run: &str, batch: &Batch) -> Result<IngestReport, StoreError>;
    fn put_artifact(&mut self, run: &str, name: &str, source: &Path) -> Result<(), StoreError>;
    fn finish(&mut self, run: &str, status: RunStatus, error: Option<&str>) -> Result<(), StoreError>;
    /// Records run inputs (datasets), each keyed for deduplication (the same key twice is
    /// stored once, so a resent input is harmless).
    fn add_inputs(&mut self, run: &str, inputs: &[(String, serde_json::Value)]) -> Result<(), StoreError>;
    /// True when a failed write may still have been stored (an answer lost on the network):
    /// the writer then numbers its batches and resends a failed one unchanged, so the
    /// destination can drop the copy.
    fn marks_batches(&self) -> bool {
        false
    }
}

/// Writes into a local store; SQLite waits while another process holds the write lock (for
/// the SDK's store, up to [`crate::run::BUSY_TIMEOUT`]).
pub(crate) struct StoreSink {
    pub store: Store,
}

impl Sink for StoreSink {
    fn write(&mut self, run: &str, batch: &Batch) -> Result<IngestReport, StoreError> {
        self.store.log_batch(run, batch)
    }

    fn put_artifact(&mut self, run: &str, name: &str, source: &Path) -> Result<(), StoreError> {
        if source.is_dir() {
            self.store.put_artifact_dir(run, name, source).map(|_| ())
        } else {
            self.store.put_artifact(run, name, source).map(|_| ())
        }
    }

    fn finish(&mut self, run: &str, status: RunStatus, error: Option<&str>) -> Result<(), StoreError> {
        self.store.finish_run(run, status, error)
    }

    fn add_inputs(&mut self, run: &str, inputs: &[(String, serde_json::Value)]) -> Result<(), StoreError> {
        self.store.add_run_inputs(run, inputs)
    }
}
