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
//!
//! The import stays inside its source (see [`crate::confine`]): the `mlruns/` folder, or the
//! folder holding the database (and the folder `--remap-artifacts OLD=NEW` names as NEW). An
//! artifact location that resolves outside it (`artifact_uri: file:///home/u/.ssh`, `/`, a
//! relative `../..`) is not copied but reported, unless [`Options::allow_outside_artifacts`];
//! a relative one is taken relative to the `mlruns/` folder or the database's folder. Links to
//! folders are never followed; a linked file (an artifact, a param, a tag, a metric, a
//! `meta.yaml`) is read only when it resolves inside (artifacts: or outside is allowed).
//! Artifacts are streamed into the store, metric files read line by line.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;
use trackbench_store::{Batch, NewRun, Points, RunStatus, SeriesBatch, Store};

use crate::ImportError;
use crate::confine::{Confine, Found};

/// How to import.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// Rewrite the start of local artifact paths, `(OLD, NEW)`: a store copied from elsewhere.
    /// Folder NEW counts as inside the source.
    pub remap: Option<(&'a str, &'a str)>,
    /// Copy artifacts that resolve outside the source (an `artifact_uri` elsewhere, a link out
    /// of the artifact folder). Off by default: the source's files say where they point, and
    /// must not make an import copy `~/.ssh` into the store.
    pub allow_outside_artifacts: bool,
}

/// The longest `meta.yaml`, param or tag file read (MLflow's own limits are a few KiB).
const MAX_SMALL_FILE: u64 = 1 << 20;
/// The longest metric file line read (`timestamp value step` is a few dozen bytes).
const MAX_LINE: u64 = 4096;

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
    /// What was not read (links out of the source, files too large), said in the report.
    pub problems: Vec<String>,
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
fn meta_yaml(found: &Found) -> std::io::Result<BTreeMap<String, String>> {
    let text = crate::confine::read_small(found.open()?, MAX_SMALL_FILE)?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('\'').trim_matches('"').to_string()))
        .collect())
}

/// Sub-folders of `dir` (real folders, not links to folders) that hold a `meta.yaml`, with it.
/// Links to folders are reported in `problems`.
fn meta_folders(confine: &Confine, dir: &Path, problems: &mut Vec<String>) -> std::io::Result<Vec<(PathBuf, Found)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)?.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => {}
            Ok(t) if t.is_symlink() && p.is_dir() => {
                problems.push(format!("{}: a symbolic link to a folder (not followed); skipped", p.display()));
                continue;
            }
            _ => continue,
        }
        let meta = p.join("meta.yaml");
        if std::fs::symlink_metadata(&meta).is_err() {
            continue;
        }
        match confine.file("meta.yaml", &meta) {
            Ok(found) => out.push((p, found)),
            Err(skipped) => problems.push(skipped.to_string()),
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Calls `f` with each line of `input` (lines longer than [`MAX_LINE`] are skipped whole).
fn each_line(input: impl Read, mut f: impl FnMut(&str)) -> std::io::Result<()> {
    let mut r = BufReader::new(input);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = (&mut r).take(MAX_LINE).read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(());
        }
        if line.last() != Some(&b'\n') && n as u64 == MAX_LINE {
            // Too long: drop the rest of this line.
            loop {
                let buf = r.fill_buf()?;
                if buf.is_empty() {
                    return Ok(());
                }
                match buf.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        r.consume(i + 1);
                        break;
                    }
                    None => {
                        let len = buf.len();
                        r.consume(len);
                    }
                }
            }
            continue;
        }
        if let Ok(s) = std::str::from_utf8(&line) {
            f(s.trim_end_matches(['\n', '\r']));
        }
    }
}

/// Reads every run of an `mlruns/` folder.
pub fn read_file_store(root: &Path) -> Result<Vec<MlflowRun>, ImportError> {
    let confine = Confine::new(&[root], false, "");
    let mut runs = Vec::new();
    let mut top_problems = Vec::new();
    let exps = meta_folders(&confine, root, &mut top_problems).map_err(|e| ImportError::io(root, e))?;
    for (exp, exp_meta) in exps {
        let meta = meta_yaml(&exp_meta).map_err(|e| ImportError::io(&exp_meta.path, e))?;
        let Some(exp_name) = meta.get("name").cloned() else { continue };
        let exp_deleted = meta.get("lifecycle_stage").is_some_and(|s| s == "deleted");
        let mut exp_problems = Vec::new();
        let run_dirs = meta_folders(&confine, &exp, &mut exp_problems).map_err(|e| ImportError::io(&exp, e))?;
        top_problems.append(&mut exp_problems);
        for (dir, run_meta) in run_dirs {
            let m = meta_yaml(&run_meta).map_err(|e| ImportError::io(&run_meta.path, e))?;
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
            for (what, is_params) in [("params", true), ("tags", false)] {
                let (files, skipped) = confine.walk(&dir.join(what));
                run.problems.extend(skipped.iter().map(|s| format!("{what}: {s}")));
                for f in files {
                    match f.open().and_then(|file| crate::confine::read_small(file, MAX_SMALL_FILE)) {
                        Ok(v) if is_params => run.params.push((f.key, v)),
                        Ok(v) => run.tags.push((f.key, v)),
                        Err(e) => run.problems.push(format!("{what}: {}: {e}; skipped", f.path.display())),
                    }
                }
            }
            let (files, skipped) = confine.walk(&dir.join("metrics"));
            run.problems.extend(skipped.iter().map(|s| format!("metrics: {s}")));
            for f in files {
                let points = run.metrics.entry(f.key.clone()).or_default();
                let read = f.open().and_then(|file| {
                    each_line(file, |line| {
                        let mut it = line.split_whitespace();
                        if let (Some(ts), Some(value)) = (it.next(), it.next()) {
                            let step = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
                            if let (Ok(ts), Ok(v)) = (ts.parse::<i64>(), value.parse::<f64>()) {
                                points.push(step, ts, v);
                            }
                        }
                    })
                });
                if let Err(e) = read {
                    run.problems.push(format!("metrics: {}: {e}; read what came before", f.path.display()));
                }
            }
            runs.push(run);
        }
    }
    // What was skipped outside any run (links to experiment or run folders): an entry each,
    // with no run id, which [`store_runs`] reports as skipped.
    runs.extend(top_problems.into_iter().map(|p| MlflowRun { problems: vec![p], ..MlflowRun::default() }));
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

/// A local path for an artifact URI (`file:///…`, `file://localhost/…` or a bare path), after
/// prefix remapping; a relative path is taken relative to `base`.
fn local_artifacts(uri: &str, remap: Option<(&str, &str)>, base: &Path) -> Option<PathBuf> {
    let path = match uri.strip_prefix("file://") {
        Some(rest) => rest.strip_prefix("localhost").filter(|r| r.starts_with('/')).unwrap_or(rest),
        None => uri,
    };
    if path.contains("://") || path.contains(":/") && !path.starts_with('/') {
        return None; // another scheme (s3://, mlflow-artifacts:/…): not local
    }
    let path = match remap {
        Some((old, new)) if !old.is_empty() && path.starts_with(old) => format!("{new}{}", &path[old.len()..]),
        _ => path.to_string(),
    };
    Some(base.join(path))
}

/// Stores MLflow runs read from `source_dir` (the `mlruns/` folder, or the folder holding the
/// database); runs whose id is already in the store are skipped. Artifacts are copied only
/// from inside `source_dir` (or the remap's NEW) unless `opts` allows outside ones.
pub fn store_runs(
    store: &mut Store,
    runs: &[MlflowRun],
    source_dir: &Path,
    opts: &Options<'_>,
    progress: crate::Progress<'_>,
) -> Result<Vec<RunReport>, ImportError> {
    const HINT: &str = " (--allow-outside-artifacts copies it)";
    let new_root = opts.remap.map(|(_, new)| PathBuf::from(new));
    let mut roots = vec![source_dir];
    roots.extend(new_root.as_deref());
    let confine = Confine::new(&roots, opts.allow_outside_artifacts, HINT);
    let mut out = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        progress(i, runs.len());
        if r.run_id.is_empty() {
            out.push(RunReport {
                run_id: String::new(),
                project: r.experiment.clone(),
                name: String::new(),
                points: 0,
                params: 0,
                artifacts: 0,
                skipped: Some(r.problems.join("; ")),
                problems: r.problems.clone(),
            });
            continue;
        }
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
            problems: r.problems.clone(),
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
        if let Some(dir) = r.artifact_uri.as_deref().and_then(|u| local_artifacts(u, opts.remap, source_dir)) {
            if dir.is_dir() {
                match confine.resolve(&dir) {
                    Ok(canonical) => {
                        // The run's artifact root: each file under its path below it.
                        let (files, skipped) = confine.walk(&canonical);
                        report.problems.extend(skipped.iter().map(|s| format!("artifact {s}")));
                        for f in files {
                            match f.open() {
                                Ok(file) => {
                                    let what = f.path.display().to_string();
                                    store.put_artifact_from(&r.run_id, &f.key, file, &what)?;
                                    report.artifacts += 1;
                                }
                                Err(e) => report.problems.push(format!("artifact {}: {e}; skipped", f.path.display())),
                            }
                        }
                    }
                    Err(skipped) => report.problems.push(format!("artifacts {skipped}")),
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
    import_opts(store, source, &Options { remap, ..Options::default() }, progress)
}

/// [`import_with`] with every option.
pub fn import_opts(
    store: &mut Store,
    source: &str,
    opts: &Options<'_>,
    progress: crate::Progress<'_>,
) -> Result<Vec<RunReport>, ImportError> {
    let (runs, dir) = match source.strip_prefix("sqlite:///").or_else(|| source.strip_prefix("sqlite://")) {
        Some(path) => {
            let db = PathBuf::from(format!("/{}", path.trim_start_matches('/')));
            (read_sqlite(&db)?, db.parent().map(Path::to_path_buf).unwrap_or_default())
        }
        None if source.ends_with(".db") || source.ends_with(".sqlite") => {
            let db = Path::new(source);
            (read_sqlite(db)?, db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).into())
        }
        None => (read_file_store(Path::new(source))?, PathBuf::from(source)),
    };
    let dir = dir.canonicalize().map_err(|e| ImportError::io(&dir, e))?;
    store_runs(store, &runs, &dir, opts, progress)
}
