//! W&B offline runs -> runs. `wandb/offline-run-*/run-<id>.wandb` is a `:W&B` header (7 bytes)
//! then LevelDB-log framing: 32 KiB blocks of fragments (7-byte header: CRC-32 of type + data —
//! the IEEE polynomial, which is what wandb writes — length, type FULL/FIRST/MIDDLE/LAST), each
//! record a `Record` protobuf. We read the run (name, group, tags, notes, host, start), config
//! (params, W&B's own `_wandb` left out), history rows (points at `_step` with `_timestamp`),
//! summary, system stats (`sys/…` series), files saved with the run (artifacts, from the run's
//! `files/` folder) and the exit code. A truncated file (a crashed run) imports up to the last
//! whole record and reads as failed. Run ids are kept, so a second import skips them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use trackbench_store::{Batch, NewRun, Points, RunStatus, SeriesBatch, Store};

use crate::ImportError;
use crate::mlflow::RunReport;
use crate::protobuf::{Malformed, Wire, fields};

const BLOCK: usize = 32 * 1024;
const HEADER: &[u8] = b":W&B";

/// Records of a `.wandb` file, reassembled; the error says where and why reading stopped early.
pub fn records(data: &[u8]) -> (Vec<Vec<u8>>, Option<String>) {
    let mut out = Vec::new();
    if data.len() < 7 || &data[..4] != HEADER {
        return (out, Some("not a W&B run file (no :W&B header)".into()));
    }
    let mut pos = 7;
    let mut partial: Option<Vec<u8>> = None;
    while pos < data.len() {
        let left_in_block = BLOCK - pos % BLOCK;
        if left_in_block < 7 {
            pos += left_in_block; // zero padding at a block's end
            continue;
        }
        if pos + 7 > data.len() {
            return (out, Some(format!("ends inside a record header at byte {pos}")));
        }
        let crc = u32::from_le_bytes(data[pos..pos + 4].try_into().expect("4 bytes"));
        let len = u16::from_le_bytes([data[pos + 4], data[pos + 5]]) as usize;
        let kind = data[pos + 6];
        if kind == 0 && len == 0 && crc == 0 {
            // Preallocated zeros at the end of a block or file.
            pos += left_in_block;
            continue;
        }
        let end = pos + 7 + len;
        if end > data.len() {
            return (out, Some(format!("ends inside a record at byte {pos} of {} (truncated)", data.len())));
        }
        let body = &data[pos + 7..end];
        let mut h = crc32fast::Hasher::new();
        h.update(&[kind]);
        h.update(body);
        if h.finalize() != crc {
            return (out, Some(format!("bad checksum at byte {pos}; the rest is not read")));
        }
        match kind {
            1 => out.push(body.to_vec()),
            2 => partial = Some(body.to_vec()),
            3 => {
                if let Some(p) = partial.as_mut() {
                    p.extend_from_slice(body);
                }
            }
            4 => {
                if let Some(mut p) = partial.take() {
                    p.extend_from_slice(body);
                    out.push(p);
                }
            }
            other => return (out, Some(format!("unknown fragment type {other} at byte {pos}"))),
        }
        pos = end;
    }
    (out, None)
}

#[derive(Debug, Default)]
struct WbRun {
    id: String,
    project: String,
    name: Option<String>,
    group: Option<String>,
    notes: Option<String>,
    host: Option<String>,
    tags: Vec<String>,
    start_ms: Option<i64>,
    config: BTreeMap<String, Value>,
    summary: BTreeMap<String, Value>,
    series: BTreeMap<String, Points>,
    files: Vec<String>,
    exit_code: Option<i64>,
    skipped_values: usize,
}

fn text(w: &Wire<'_>) -> String {
    w.as_str().unwrap_or("").to_string()
}

/// A `google.protobuf.Timestamp` -> epoch ms.
fn timestamp(b: &[u8]) -> Result<i64, Malformed> {
    let (mut s, mut n) = (0i64, 0i64);
    for f in fields(b) {
        match f? {
            (1, w) => s = w.as_i64().unwrap_or(0),
            (2, w) => n = w.as_i64().unwrap_or(0),
            _ => {}
        }
    }
    Ok(s * 1000 + n / 1_000_000)
}

/// `{key, nested_key*, value_json}` items (config, summary, history, stats).
fn items(b: &[u8], field: u32) -> Result<Vec<(String, Value)>, Malformed> {
    let mut out = Vec::new();
    for f in fields(b) {
        if let (n, Wire::Bytes(item)) = f?
            && n == field
        {
            let (mut key, mut nested, mut value) = (String::new(), Vec::new(), Value::Null);
            for g in fields(item) {
                match g? {
                    (1, w) => key = text(&w),
                    (2, w) => nested.push(text(&w)),
                    (16, w) => {
                        let t = w.as_str().unwrap_or("null");
                        // Python's json writes bare NaN/Infinity, which strict JSON refuses.
                        value = serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.trim().to_string()));
                    }
                    _ => {}
                }
            }
            if key.is_empty() && !nested.is_empty() {
                key = nested.join(".");
            }
            out.push((key, value));
        }
    }
    Ok(out)
}

fn apply(rec: &[u8], run: &mut WbRun) -> Result<(), Malformed> {
    for f in fields(rec) {
        match f? {
            (17, Wire::Bytes(r)) => {
                for g in fields(r) {
                    match g? {
                        (1, w) => run.id = text(&w),
                        (3, w) => run.project = text(&w),
                        (6, w) => run.group = Some(text(&w)).filter(|s| !s.is_empty()),
                        (8, w) => run.name = Some(text(&w)).filter(|s| !s.is_empty()),
                        (9, w) => run.notes = Some(text(&w)).filter(|s| !s.is_empty()),
                        (10, w) => run.tags.push(text(&w)),
                        (13, w) => run.host = Some(text(&w)).filter(|s| !s.is_empty()),
                        (17, Wire::Bytes(t)) => run.start_ms = Some(timestamp(t)?),
                        (4, Wire::Bytes(c)) => config(c, run)?,
                        _ => {}
                    }
                }
            }
            (5, Wire::Bytes(c)) => config(c, run)?,
            (3, Wire::Bytes(s)) => {
                for (k, v) in items(s, 1)? {
                    if !k.starts_with('_') {
                        run.summary.insert(k, v);
                    }
                }
            }
            (2, Wire::Bytes(h)) => {
                let row = items(h, 1)?;
                let get = |k: &str| row.iter().find(|(n, _)| n == k).and_then(|(_, v)| crate::metric_value(v));
                let step = get("_step").map(|s| s as i64).unwrap_or(0);
                let wall = get("_timestamp").map(|t| (t * 1000.0).round() as i64).unwrap_or(0);
                for (k, v) in &row {
                    if k.starts_with('_') {
                        continue;
                    }
                    match crate::metric_value(v) {
                        Some(x) => run.series.entry(k.clone()).or_default().push(step, wall, x),
                        None => run.skipped_values += 1,
                    }
                }
            }
            (7, Wire::Bytes(s)) => {
                let mut wall = 0;
                for g in fields(s) {
                    if let (2, Wire::Bytes(t)) = g? {
                        wall = timestamp(t)?;
                    }
                }
                for (k, v) in items(s, 3)? {
                    if let Some(x) = crate::metric_value(&v) {
                        let series = run.series.entry(format!("sys/{k}")).or_default();
                        let step = series.len() as i64;
                        series.push(step, wall, x);
                    }
                }
            }
            (6, Wire::Bytes(fs)) => {
                for g in fields(fs) {
                    if let (1, Wire::Bytes(item)) = g? {
                        for h in fields(item) {
                            if let (1, w) = h? {
                                let p = text(&w);
                                if !p.is_empty() && !run.files.contains(&p) {
                                    run.files.push(p);
                                }
                            }
                        }
                    }
                }
            }
            (18, Wire::Bytes(e)) => {
                for g in fields(e) {
                    if let (1, w) = g? {
                        run.exit_code = Some(w.as_i64().unwrap_or(0) as i32 as i64);
                    }
                }
                run.exit_code.get_or_insert(0);
            }
            _ => {}
        }
    }
    Ok(())
}

fn config(c: &[u8], run: &mut WbRun) -> Result<(), Malformed> {
    for (k, v) in items(c, 1)? {
        if k.starts_with('_') {
            continue;
        }
        // wandb stores config values as {"value": …} in some versions, bare in others.
        let v = match v {
            Value::Object(mut m) if m.len() <= 2 && m.contains_key("value") => m.remove("value").unwrap_or(Value::Null),
            v => v,
        };
        let mut flat = Vec::new();
        if v.is_object() {
            crate::flatten_into(&k, &v, &mut flat);
        } else {
            flat.push((k, v));
        }
        run.config.extend(flat);
    }
    Ok(())
}

/// The `run-*.wandb` files under `root` (an offline-run folder, a `wandb/` folder, or one file).
pub fn discover(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    if root.is_file() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)?.flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "wandb") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Imports every offline run under `root`.
pub fn import(store: &mut Store, root: &Path, project: Option<&str>) -> Result<Vec<RunReport>, ImportError> {
    import_with(store, root, project, &mut |_, _| {})
}

/// [`import`], calling `progress(done, total)` before each run file.
pub fn import_with(
    store: &mut Store,
    root: &Path,
    project: Option<&str>,
    progress: crate::Progress<'_>,
) -> Result<Vec<RunReport>, ImportError> {
    let mut out = Vec::new();
    let files = discover(root).map_err(|e| ImportError::io(root, e))?;
    let total = files.len();
    for (i, file) in files.into_iter().enumerate() {
        progress(i, total);
        let data = std::fs::read(&file).map_err(|e| ImportError::io(&file, e))?;
        let (recs, stop) = records(&data);
        let mut run = WbRun::default();
        let mut problems = Vec::new();
        if let Some(s) = &stop {
            problems.push(format!("{}: {s}; imported what came before", file.display()));
        }
        for r in &recs {
            if let Err(Malformed(at)) = apply(r, &mut run) {
                problems.push(format!("a record is malformed at byte {at}; skipped"));
            }
        }
        if run.id.is_empty() {
            out.push(RunReport {
                run_id: String::new(),
                project: String::new(),
                name: file.display().to_string(),
                points: 0,
                params: 0,
                artifacts: 0,
                skipped: Some("no run record in the file".into()),
                problems,
            });
            continue;
        }
        let proj = project
            .map(String::from)
            .unwrap_or_else(|| if run.project.is_empty() { "wandb".into() } else { run.project.clone() });
        let mut report = RunReport {
            run_id: run.id.clone(),
            project: proj.clone(),
            name: run.name.clone().unwrap_or_else(|| run.id.clone()),
            points: 0,
            params: 0,
            artifacts: 0,
            skipped: None,
            problems,
        };
        if crate::already_imported(store, &run.id, &mut report)? {
            out.push(report);
            continue;
        }
        let mut tags: Vec<(String, String)> = run.tags.iter().map(|t| (t.clone(), String::new())).collect();
        tags.push((crate::tensorboard::SOURCE_TAG.to_string(), format!("wandb:{}", file.display())));
        let new = NewRun {
            project: proj,
            name: run.name.clone(),
            group: run.group.clone(),
            notes: run.notes.clone(),
            host: run.host.clone(),
            tags,
            created_ms: run.start_ms,
            ..NewRun::default()
        };
        store.create_run_with_id(&run.id, &new)?;
        let batch = Batch {
            params: run.config.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            summary: run.summary.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            series: run.series.iter().map(|(k, p)| SeriesBatch { key: k.clone(), points: p.clone() }).collect(),
            ..Batch::default()
        };
        let ingest = store.log_batch(&run.id, &batch)?;
        report.points = ingest.points;
        report.params = ingest.params;
        report.problems.extend(ingest.rejected.iter().map(|x| format!("{} `{}` refused: {}", x.what, x.key, x.reason)));
        if run.skipped_values > 0 {
            report
                .problems
                .push(format!("{} non-numeric history value(s) (media, tables) not imported", run.skipped_values));
        }
        let files_dir = file.parent().map(|d| d.join("files"));
        for f in &run.files {
            let Some(path) = files_dir.as_ref().map(|d| d.join(f)) else { continue };
            if path.is_file() {
                store.put_artifact(&run.id, f, &path)?;
                report.artifacts += 1;
            } else {
                report.problems.push(format!("saved file {f} is not in {}", path.display()));
            }
        }
        let end = run.series.values().filter_map(|p| p.wall_ms.iter().max().copied()).max();
        match run.exit_code {
            Some(0) => store.finish_run_at(&run.id, RunStatus::Finished, None, end)?,
            Some(code) => store.finish_run_at(&run.id, RunStatus::Failed, Some(&format!("exit code {code}")), end)?,
            None => store.finish_run_at(
                &run.id,
                RunStatus::Failed,
                Some("the W&B run file has no exit record: the run crashed or was killed"),
                end,
            )?,
        }
        out.push(report);
    }
    Ok(out)
}
