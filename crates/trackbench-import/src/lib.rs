//! Importers: other trackers' files into the Trackbench store.
//!
//! - [`tensorboard`]: TensorBoard event files (TFRecord framing with CRC32C checks, `Event` and
//!   `Summary` protobufs decoded by hand: scalars from `simple_value` and from rank-0 tensor
//!   summaries, hparams plugin data as params), one run per folder of event files, idempotent,
//!   with a follow mode for a job that is still writing.
//!
//! - [`mlflow`]: an MLflow `mlruns/` file store or SQLite tracking database: experiments,
//!   runs (ids kept), params, tags, every metric point, statuses, deleted runs, local artifacts.
//!
//! - [`wandb`]: W&B offline run files; [`trackio`]: a trackio project database.
//!
//! Importers write through the store's API only (runs, one `log_batch` per chunk of points) and
//! keep where each run came from as an `import.source` tag, so importing twice adds nothing.
//!
//! The files read are foreign, so every importer stays inside the folder it is given
//! ([`confine`]: artifact locations and links pointing out of it are skipped and reported unless
//! outside artifacts are allowed, links to folders are never followed, so walks end), streams
//! what can be large (event files, W&B run files, artifacts), and caps what one record may
//! make it hold in memory.

pub mod confine;
pub mod mlflow;
pub mod protobuf;
pub mod tensorboard;
pub mod tfrecord;
pub mod trackio;
pub mod wandb;

use std::path::Path;

/// A progress callback: `(items done, items in all)`, called before each item.
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize);

/// Why an import failed as a whole (problems inside a file are reported, not errors).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("reading {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] trackbench_store::StoreError),
    /// The source is not what it should be (an unreadable MLflow database, say).
    #[error("{0}")]
    Source(String),
}

impl ImportError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> ImportError {
        ImportError::Io { path: path.display().to_string(), source }
    }
}

/// True (and the report says so) when run `id` is already in the store: importers keep source
/// run ids, so this is what makes a second import add nothing.
pub(crate) fn already_imported(
    store: &trackbench_store::Store,
    id: &str,
    report: &mut mlflow::RunReport,
) -> Result<bool, ImportError> {
    match store.run(id) {
        Ok(_) => {
            report.skipped = Some("already imported (a run with this id exists)".into());
            Ok(true)
        }
        Err(trackbench_store::StoreError::RunNotFound(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// A JSON value as a metric value: numbers, booleans, and the non-finite spellings
/// Python writes ("NaN", "Infinity", "-Infinity"); anything else is not a metric.
pub(crate) fn metric_value(v: &serde_json::Value) -> Option<f64> {
    use serde_json::Value;
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::String(s) => trackbench_store::json_f64::non_finite(s),
        _ => None,
    }
}

/// Nested config objects flattened to dotted keys, values keeping their JSON type.
pub(crate) fn flatten_into(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, serde_json::Value)>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, c) in m {
                flatten_into(&if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") }, c, out);
            }
        }
        leaf if !prefix.is_empty() => out.push((prefix.to_string(), leaf.clone())),
        _ => {}
    }
}
