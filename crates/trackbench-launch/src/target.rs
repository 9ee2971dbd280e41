//! Where a launched job's run lives. [`crate::launch`] writes to the local store folder
//! ([`StoreTarget`]); the task agent a Slurm job runs on its node (`trackbench job-exec`)
//! writes to the team server it was launched from, through the same supervision code, with its
//! own [`RunTarget`] over HTTP. The trait holds exactly what the supervisor needs.

use std::path::PathBuf;

use trackbench_store::{Batch, NewRun, RunInfo, RunStatus, Store, StoreError};

/// What the supervisor of one job reads and writes about its run.
pub trait RunTarget {
    /// Creates the run: with id `id` when given (a Slurm task's id, chosen at submission), else
    /// a fresh one.
    fn create_run(&mut self, id: Option<&str>, new: &NewRun) -> Result<RunInfo, StoreError>;
    fn log_batch(&mut self, run: &str, batch: &Batch) -> Result<(), StoreError>;
    fn run(&mut self, run: &str) -> Result<RunInfo, StoreError>;
    fn tags(&mut self, run: &str) -> Result<Vec<(String, String)>, StoreError>;
    fn finish_run(&mut self, run: &str, status: RunStatus, error: Option<&str>) -> Result<(), StoreError>;
    fn put_artifact(&mut self, run: &str, name: &str, bytes: &[u8], what: &str) -> Result<(), StoreError>;
    /// Variables the child gets so that an SDK inside logs to this run's store or server.
    fn child_env(&self) -> Vec<(String, String)>;
    /// Inherited variables the child must not see (they would point its SDK elsewhere).
    fn child_env_remove(&self) -> &'static [&'static str];
    /// True when the supervising process is on the machine whose store holds the run, so the
    /// run records it as the process that holds it open (a killed launcher reads `crashed` at
    /// once there).
    fn holds_locally(&self) -> bool;
}

/// The local store folder.
pub struct StoreTarget {
    pub store: Store,
    pub dir: PathBuf,
}

impl RunTarget for StoreTarget {
    fn create_run(&mut self, id: Option<&str>, new: &NewRun) -> Result<RunInfo, StoreError> {
        match id {
            Some(id) => self.store.create_run_with_id(id, new),
            None => self.store.create_run(new),
        }
    }

    fn log_batch(&mut self, run: &str, batch: &Batch) -> Result<(), StoreError> {
        self.store.log_batch(run, batch).map(drop)
    }

    fn run(&mut self, run: &str) -> Result<RunInfo, StoreError> {
        self.store.run(run)
    }

    fn tags(&mut self, run: &str) -> Result<Vec<(String, String)>, StoreError> {
        self.store.tags(run)
    }

    fn finish_run(&mut self, run: &str, status: RunStatus, error: Option<&str>) -> Result<(), StoreError> {
        self.store.finish_run(run, status, error)
    }

    fn put_artifact(&mut self, run: &str, name: &str, bytes: &[u8], what: &str) -> Result<(), StoreError> {
        self.store.put_artifact_from(run, name, bytes, what).map(drop)
    }

    fn child_env(&self) -> Vec<(String, String)> {
        vec![("TRACKBENCH_DIR".into(), self.dir.display().to_string())]
    }

    fn child_env_remove(&self) -> &'static [&'static str] {
        // The run lives in this store: a TRACKBENCH_URL inherited from the launcher's shell
        // would send the child's SDK to a server that does not have it.
        &["TRACKBENCH_URL", "TRACKBENCH_TOKEN"]
    }

    fn holds_locally(&self) -> bool {
        true
    }
}
