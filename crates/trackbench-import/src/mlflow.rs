//! MLflow stores -> runs: the `mlruns/` file store and the SQLite tracking database.
//!
//! Experiments become projects (by name), runs keep their MLflow run id (so importing twice
//! skips what is already there), `mlflow.runName` becomes the name, params keep MLflow's string
//! values, tags are copied, every metric point is kept (the same step twice included) with its
//! timestamp, statuses map to ours, deleted runs are imported as deleted, and artifacts are
//! copied from the run's artifact URI when it is a local path (`--remap-artifacts OLD=NEW`
//! rewrites a prefix, for a store copied from another machine). The SQLite database is read
//! read-only with its own connection: the one place outside the store crate that runs SQL, on a
//! foreign file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;
use trackbench_store::{Batch, NewRun, Points, RunStatus, SeriesBatch, Store};

use crate::ImportError;

/// One MLflow run as read from either store kind.
#[derive(Debug, Default, Clone)]
pub struct MlflowRun {
    pub run_id: String,
    pub experiment: String,
    pub name: Option<String>,
    pub status: String,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    pub deleted: bool,
    pub artifact_uri: Option<String>,
    pub params: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub metrics: BTreeMap<String, Points>,
}

/// How one run's import went.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run_id: String,
    pub project: String,
    pub name: String,
    pub points: usize,
    pub params: usize,
    pub artifacts: usize,
    /// Why the run (or part of it) was not imported.
    pub skipped: Option<String>,
    pub problems: Vec<String>,
}

fn status(s: &str) -> RunStatus {
    match s {
        "FINISHED" | "3" => RunStatus::Finished,
        "FAILED" | "4" => RunStatus::Failed,
        "KILLED" | "5" => RunStatus::Killed,
        _ => RunStatus::Running,
    }
}

/// `key: value` lines of an MLflow `meta.yaml` (flat, which is all it holds that we need).
fn meta_yaml(path: &Path) -> std::io::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('\'').trim_matches('"').to_string()))
        .collect())
}

/// Files under `dir`, recursively, as (`a/b` key, path): MLflow stores a key with `/` as folders.
fn keyed_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), dir.to_path_buf())];
    while let Some((prefix, d)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let key = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
            if e.path().is_dir() {
                stack.push((key, e.path()));
            } else {
                out.push((key, e.path()));
            }
        }
    }
    out.sort();
    out
}

/// Reads every run of an `mlruns/` folder.
pub fn read_file_store(root: &Path) -> Result<Vec<MlflowRun>, ImportError> {
    let mut runs = Vec::new();
    let mut exps: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(|e| ImportError::io(root, e))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("meta.yaml").is_file())
        .collect();
    exps.sort();
    for exp in exps {
        let meta = meta_yaml(&exp.join("meta.yaml")).map_err(|e| ImportError::io(&exp, e))?;
        let Some(exp_name) = meta.get("name").cloned() else { continue };
        let exp_deleted = meta.get("lifecycle_stage").is_some_and(|s| s == "deleted");
        let mut run_dirs: Vec<PathBuf> = std::fs::read_dir(&exp)
            .map_err(|e| ImportError::io(&exp, e))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("meta.yaml").is_file())
            .collect();
        run_dirs.sort();
        for dir in run_dirs {
            let m = meta_yaml(&dir.join("meta.yaml")).map_err(|e| ImportError::io(&dir, e))?;
            let Some(run_id) = m.get("run_id").or_else(|| m.get("run_uuid")).cloned() else { continue };
            let num = |k: &str| m.get(k).and_then(|v| v.parse::<i64>().ok());
            let mut run = MlflowRun {
                run_id,
                experiment: exp_name.clone(),
                name: m.get("run_name").filter(|n| !n.is_empty()).cloned(),
                status: m.get("status").cloned().unwrap_or_default(),
                start_ms: num("start_time"),
                end_ms: num("end_time"),
                deleted: exp_deleted || m.get("lifecycle_stage").is_some_and(|s| s == "deleted"),
                artifact_uri: m.get("artifact_uri").cloned(),
                ..MlflowRun::default()
            };
            for (k, p) in keyed_files(&dir.join("params")) {
                run.params.push((k, std::fs::read_to_string(&p).map_err(|e| ImportError::io(&p, e))?));
            }
            for (k, p) in keyed_files(&dir.join("tags")) {
                run.tags.push((k, std::fs::read_to_string(&p).map_err(|e| ImportError::io(&p, e))?));
            }
            for (k, p) in keyed_files(&dir.join("metrics")) {
                let text = std::fs::read_to_string(&p).map_err(|e| ImportError::io(&p, e))?;
                let points = run.metrics.entry(k).or_default();
                for line in text.lines() {
                    let f: Vec<&str> = line.split_whitespace().collect();
                    if let [ts, value, rest @ ..] = f.as_slice() {
                        let step = rest.first().and_then(|s| s.parse().ok()).unwrap_or(0);
                        if let (Ok(ts), Ok(v)) = (ts.parse::<i64>(), value.parse::<f64>()) {
                            points.push(step, ts, v);
                        }
                    }
                }
            }
            runs.push(run);
        }
    }
    Ok(runs)
}

/// Reads every run of an MLflow SQLite tracking database (opened read-only).
pub fn read_sqlite(db: &Path) -> Result<Vec<MlflowRun>, ImportError> {
    use rusqlite::{Connection, OpenFlags};
    let sql_err = |e: rusqlite::Error| ImportError::Source(format!("reading MLflow database {}: {e}", db.display()));
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sql_err)?;
    let mut runs: Vec<MlflowRun> = Vec::new();
    {
        let mut stmt = conn
            .prepare(
                "SELECT r.run_uuid, e.name, r.name, r.status, r.start_time, r.end_time, \
                   r.lifecycle_stage = 'deleted' OR e.lifecycle_stage = 'deleted', r.artifact_uri \
                 FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id ORDER BY r.start_time, r.run_uuid",
            )
            .map_err(sql_err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(MlflowRun {
                    run_id: r.get(0)?,
                    experiment: r.get(1)?,
                    name: r.get::<_, Option<String>>(2)?.filter(|n| !n.is_empty()),
                    status: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                    start_ms: r.get(4)?,
                    end_ms: r.get(5)?,
                    deleted: r.get(6)?,
                    artifact_uri: r.get(7)?,
                    ..MlflowRun::default()
                })
            })
            .map_err(sql_err)?;
        for row in rows {
            runs.push(row.map_err(sql_err)?);
        }
    }
    let index: BTreeMap<String, usize> = runs.iter().enumerate().map(|(i, r)| (r.run_id.clone(), i)).collect();
    let kv = |table: &str, runs: &mut Vec<MlflowRun>, params: bool| -> Result<(), ImportError> {
        let mut stmt = conn
            .prepare(&format!("SELECT run_uuid, key, value FROM {table} ORDER BY run_uuid, key"))
            .map_err(sql_err)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?)))
            .map_err(sql_err)?;
        for row in rows {
            let (id, k, v) = row.map_err(sql_err)?;
            if let Some(&i) = index.get(&id) {
                let target = if params { &mut runs[i].params } else { &mut runs[i].tags };
                target.push((k, v.unwrap_or_default()));
            }
        }
        Ok(())
    };
    kv("params", &mut runs, true)?;
    kv("tags", &mut runs, false)?;
    let mut stmt = conn
        .prepare(
            "SELECT run_uuid, key, step, timestamp, value, is_nan FROM metrics ORDER BY run_uuid, key, step, timestamp",
        )
        .map_err(sql_err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<f64>>(4)?,
                r.get::<_, bool>(5)?,
            ))
        })
        .map_err(sql_err)?;
    for row in rows {
        let (id, key, step, ts, value, is_nan) = row.map_err(sql_err)?;
        if let Some(&i) = index.get(&id) {
            let v = if is_nan { f64::NAN } else { value.unwrap_or(f64::NAN) };
            runs[i].metrics.entry(key).or_default().push(step, ts, v);
        }
    }
    Ok(runs)
}

/// A local path for an artifact URI (`file:///…` or a bare path), after prefix remapping.
fn local_artifacts(uri: &str, remap: Option<(&str, &str)>) -> Option<PathBuf> {
    let path = uri.strip_prefix("file://").unwrap_or(uri);
    if path.contains("://") {
        return None;
    }
    let path = match remap {
        Some((old, new)) if path.starts_with(old) => format!("{new}{}", &path[old.len()..]),
        _ => path.to_string(),
    };
    Some(PathBuf::from(path))
}

/// Stores MLflow runs; runs whose id is already in the store are skipped.
pub fn store_runs(
    store: &mut Store,
    runs: &[MlflowRun],
    remap: Option<(&str, &str)>,
    progress: crate::Progress<'_>,
) -> Result<Vec<RunReport>, ImportError> {
    let mut out = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        progress(i, runs.len());
        let name = r
            .name
            .clone()
            .or_else(|| r.tags.iter().find(|(k, _)| k == "mlflow.runName").map(|(_, v)| v.clone()))
            .unwrap_or_else(|| r.run_id.clone());
        let mut report = RunReport {
            run_id: r.run_id.clone(),
            project: r.experiment.clone(),
            name: name.clone(),
            points: 0,
            params: 0,
            artifacts: 0,
            skipped: None,
            problems: Vec::new(),
        };
        if crate::already_imported(store, &r.run_id, &mut report)? {
            out.push(report);
            continue;
        }
        let mut tags: Vec<(String, String)> = r.tags.iter().filter(|(k, _)| k != "mlflow.runName").cloned().collect();
        tags.push((crate::tensorboard::SOURCE_TAG.to_string(), format!("mlflow:{}", r.run_id)));
        let new =
            NewRun { project: r.experiment.clone(), name: Some(name), created_ms: r.start_ms, ..NewRun::default() };
        store.create_run_with_id(&r.run_id, &new)?;
        let mut batch = Batch {
            params: r.params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect(),
            tags,
            heartbeat_ms: r.end_ms.or(r.start_ms),
            ..Batch::default()
        };
        for (key, points) in &r.metrics {
            batch.series.push(SeriesBatch { key: key.clone(), points: points.clone() });
        }
        let ingest = store.log_batch(&r.run_id, &batch)?;
        report.points = ingest.points;
        report.params = ingest.params;
        report.problems.extend(ingest.rejected.iter().map(|x| format!("{} `{}` refused: {}", x.what, x.key, x.reason)));
        if let Some(dir) = r.artifact_uri.as_deref().and_then(|u| local_artifacts(u, remap)) {
            if dir.is_dir() {
                // The run's artifact root: each top-level entry under its own name.
                let entries = std::fs::read_dir(&dir).map_err(|e| ImportError::io(&dir, e))?;
                for e in entries.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    report.artifacts += if e.path().is_dir() {
                        store.put_artifact_dir(&r.run_id, &name, &e.path())?.len()
                    } else {
                        store.put_artifact(&r.run_id, &name, &e.path()).map(|_| 1)?
                    };
                }
            } else if !dir.ancestors().nth(2).is_some_and(Path::is_dir) {
                // Not even the experiment's artifact folder is there (a run that logged no
                // artifacts has no folder of its own, which is fine).
                report
                    .problems
                    .push(format!("artifacts not found at {} (use --remap-artifacts OLD=NEW)", dir.display()));
            }
        }
        let st = status(&r.status);
        if st != RunStatus::Running {
            store.finish_run_at(&r.run_id, st, None, r.end_ms)?;
        }
        if r.deleted {
            store.delete_run(&r.run_id)?;
        }
        out.push(report);
    }
    Ok(out)
}

/// Imports an `mlruns/` folder or a `sqlite:///path.db` database.
pub fn import(store: &mut Store, source: &str, remap: Option<(&str, &str)>) -> Result<Vec<RunReport>, ImportError> {
    import_with(store, source, remap, &mut |_, _| {})
}

/// [`import`], calling `progress(done, total)` before each run.
pub fn import_with(
    store: &mut Store,
    source: &str,
    remap: Option<(&str, &str)>,
    progress: crate::Progress<'_>,
) -> Result<Vec<RunReport>, ImportError> {
    let runs = match source.strip_prefix("sqlite:///").or_else(|| source.strip_prefix("sqlite://")) {
        Some(path) => read_sqlite(Path::new(&format!("/{}", path.trim_start_matches('/'))))?,
        None if source.ends_with(".db") || source.ends_with(".sqlite") => read_sqlite(Path::new(source))?,
        None => read_file_store(Path::new(source))?,
    };
    store_runs(store, &runs, remap, progress)
}
