//! W&B offline runs -> runs. `wandb/offline-run-*/run-<id>.wandb` is a `:W&B` header (7 bytes)
//! then LevelDB-log framing: 32 KiB blocks of fragments (7-byte header: CRC-32 of type + data —
//! the IEEE polynomial, which is what wandb writes — length, type FULL/FIRST/MIDDLE/LAST), each
//! record a `Record` protobuf. We read the run (name, group, tags, notes, host, start), config
//! (params, W&B's own `_wandb` left out), history rows (points at `_step` with `_timestamp`),
//! summary, system stats (`sys/…` series), files saved with the run (artifacts, from the run's
//! `files/` folder) and the exit code. A truncated file (a crashed run) imports up to the last
//! whole record and reads as failed. Run ids are kept, so a second import skips them.
//!
//! Run files are streamed (one block and one record in memory; a record over [`MAX_RECORD`] is
//! skipped). The walk does not follow links to folders; a saved file is copied only when it
//! resolves inside the run's `files/` folder (wandb links some saved files to where they were
//! written: [`Options::allow_outside_artifacts`] copies those), and a saved-file name with `..`
//! or a leading `/` is refused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use trackbench_store::{Batch, NewRun, Points, RunStatus, SeriesBatch, Store};

use crate::ImportError;
use crate::confine::{Confine, Skipped};
use crate::mlflow::RunReport;
use crate::protobuf::{Malformed, Wire, fields};

const BLOCK: usize = 32 * 1024;
const HEADER: &[u8] = b":W&B";

/// The longest record held in memory (64 MiB); longer ones are skipped and counted.
pub const MAX_RECORD: usize = 64 << 20;

/// Records of a `.wandb` file read from `R` one 32 KiB block at a time, reassembled from their
/// fragments; memory use is one block and one record. [`Records::stop`] says where and why
/// reading stopped early.
pub struct Records<R> {
    input: R,
    block: Vec<u8>,
    /// File offset of `block`'s first byte.
    block_start: u64,
    pos: usize,
    started: bool,
    ended: bool,
    partial: Option<Vec<u8>>,
    /// Inside a record too long to keep: its fragments are dropped up to its last.
    discarding: bool,
    max_record: usize,
    pub stop: Option<String>,
    /// Records longer than the limit, skipped.
    pub skipped_large: usize,
}

impl<R: std::io::Read> Records<R> {
    pub fn new(input: R) -> Records<R> {
        Records {
            input,
            block: Vec::with_capacity(BLOCK),
            block_start: 0,
            pos: 0,
            started: false,
            ended: false,
            partial: None,
            discarding: false,
            max_record: MAX_RECORD,
            stop: None,
            skipped_large: 0,
        }
    }

    /// The same with another longest record kept (tests use a small one).
    pub fn with_max_record(mut self, max: usize) -> Records<R> {
        self.max_record = max;
        self
    }

    /// Reads the next block; false at the end of the input.
    fn next_block(&mut self) -> bool {
        if self.started {
            self.block_start += BLOCK as u64;
        }
        self.started = true;
        self.block.clear();
        self.pos = 0;
        let mut input = std::io::Read::take(&mut self.input, BLOCK as u64);
        match std::io::Read::read_to_end(&mut input, &mut self.block) {
            Ok(0) => false,
            Ok(_) => true,
            Err(e) => {
                self.stop = Some(format!("reading failed at byte {} ({e})", self.block_start));
                false
            }
        }
    }

    fn halt(&mut self, why: String) -> Option<Vec<u8>> {
        self.stop = Some(why);
        None
    }
}

impl<R: std::io::Read> Iterator for Records<R> {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        loop {
            if self.stop.is_some() || self.ended {
                return None;
            }
            if !self.started {
                if !self.next_block() || self.block.len() < 7 || &self.block[..4] != HEADER {
                    return self.halt("not a W&B run file (no :W&B header)".into());
                }
                self.pos = 7;
            }
            // Fewer than 7 bytes left in a block are zero padding.
            if BLOCK - self.pos < 7 || self.pos >= self.block.len() {
                if self.block.len() < BLOCK || !self.next_block() {
                    self.ended = true;
                    if self.stop.is_none() && (self.partial.is_some() || self.discarding) {
                        let at = self.block_start + self.pos as u64;
                        return self.halt(format!("ends inside a record at byte {at} (truncated)"));
                    }
                    return None;
                }
                continue;
            }
            let at = self.block_start + self.pos as u64;
            let rest = &self.block[self.pos..];
            if rest.len() < 7 {
                return self.halt(format!("ends inside a record header at byte {at}"));
            }
            let crc = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
            let len = u16::from_le_bytes([rest[4], rest[5]]) as usize;
            let kind = rest[6];
            if kind == 0 && len == 0 && crc == 0 {
                // Preallocated zeros at the end of a block or file.
                self.pos = BLOCK;
                continue;
            }
            let Some(body) = rest.get(7..7 + len) else {
                return self.halt(if self.block.len() < BLOCK {
                    format!("ends inside a record at byte {at} (truncated)")
                } else {
                    format!("a fragment at byte {at} runs past its block; the rest is not read")
                });
            };
            let mut h = crc32fast::Hasher::new();
            h.update(&[kind]);
            h.update(body);
            if h.finalize() != crc {
                return self.halt(format!("bad checksum at byte {at}; the rest is not read"));
            }
            self.pos += 7 + len;
            let max = self.max_record;
            let body = &self.block[self.pos - len..self.pos];
            match kind {
                1 => {
                    self.partial = None;
                    self.discarding = false;
                    if body.len() <= max {
                        return Some(body.to_vec());
                    }
                    self.skipped_large += 1;
                }
                2 => {
                    self.discarding = body.len() > max;
                    self.partial = (!self.discarding).then(|| body.to_vec());
                }
                3 | 4 => {
                    if let Some(p) = self.partial.as_mut() {
                        if p.len() + body.len() > max {
                            self.partial = None;
                            self.discarding = true;
                        } else {
                            p.extend_from_slice(body);
                        }
                    }
                    if kind == 4 {
                        if self.discarding {
                            self.discarding = false;
                            self.skipped_large += 1;
                        } else if let Some(p) = self.partial.take() {
                            return Some(p);
                        }
                    }
                }
                other => return self.halt(format!("unknown fragment type {other} at byte {at}")),
            }
        }
    }
}

/// Records of a `.wandb` file in memory, reassembled; the error says where and why reading
/// stopped early.
pub fn records(data: &[u8]) -> (Vec<Vec<u8>>, Option<String>) {
    let mut r = Records::new(data);
    let out = r.by_ref().collect();
    (out, r.stop)
}

/// What one run file holds.
#[derive(Debug, Default)]
pub struct WbRun {
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
    Ok(s.saturating_mul(1000).saturating_add(n / 1_000_000))
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
    Ok(discover_checked(root)?.0)
}

fn is_run_file(p: &Path) -> bool {
    p.extension().is_some_and(|x| x == "wandb")
}

/// [`discover`], with what the walk skipped: links to folders are not followed, a linked run
/// file is read only when it resolves inside `root`.
pub fn discover_checked(root: &Path) -> std::io::Result<(Vec<PathBuf>, Vec<Skipped>)> {
    if root.is_file() {
        return Ok((vec![root.to_path_buf()], Vec::new())); // named by the user: read as named
    }
    std::fs::read_dir(root)?;
    let (files, mut skipped) = Confine::new(&[root], false, "").walk(root);
    skipped.retain(|s| is_run_file(&s.path) || s.why.contains("link to a folder") || s.why.contains("cycle"));
    Ok((files.into_iter().map(|f| f.path).filter(|p| is_run_file(p)).collect(), skipped))
}

/// Reads a run file from `input` (streamed, one 32 KiB block at a time): what it holds and
/// what was wrong with it.
pub fn read_run(input: impl std::io::Read) -> (WbRun, Vec<String>) {
    let mut records = Records::new(input);
    let mut run = WbRun::default();
    let mut problems = Vec::new();
    for r in records.by_ref() {
        if let Err(Malformed(at)) = apply(&r, &mut run) {
            problems.push(format!("a record is malformed at byte {at}; skipped"));
        }
    }
    if records.skipped_large > 0 {
        problems.push(format!("{} record(s) over {} MiB skipped", records.skipped_large, MAX_RECORD >> 20));
    }
    if let Some(s) = records.stop {
        problems.insert(0, format!("{s}; imported what came before"));
    }
    (run, problems)
}

impl WbRun {
    /// The run's W&B id (empty when the file has no run record).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Points over every series.
    pub fn point_count(&self) -> usize {
        self.series.values().map(Points::len).sum()
    }
}

/// How to import.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    /// Project to import into (default: the run's W&B project).
    pub project: Option<&'a str>,
    /// Copy saved files that resolve outside the run's `files/` folder (wandb itself saves
    /// some as links to where they were written). Off by default: a run file names its saved
    /// files, and must not make an import copy `~/.ssh` into the store.
    pub allow_outside_artifacts: bool,
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
    import_opts(store, root, &Options { project, ..Options::default() }, progress)
}

/// [`import_with`] with every option.
pub fn import_opts(
    store: &mut Store,
    root: &Path,
    opts: &Options<'_>,
    progress: crate::Progress<'_>,
) -> Result<Vec<RunReport>, ImportError> {
    let project = opts.project;
    let mut out = Vec::new();
    let (files, skipped) = discover_checked(root).map_err(|e| ImportError::io(root, e))?;
    for s in skipped {
        out.push(RunReport {
            run_id: String::new(),
            project: String::new(),
            name: s.path.display().to_string(),
            points: 0,
            params: 0,
            artifacts: 0,
            skipped: Some(s.why.clone()),
            problems: vec![s.to_string()],
        });
    }
    let total = files.len();
    for (i, file) in files.into_iter().enumerate() {
        progress(i, total);
        let input = std::fs::File::open(&file).map_err(|e| ImportError::io(&file, e))?;
        let (run, mut problems) = read_run(input);
        if let Some(first) = problems.first_mut().filter(|p| p.contains("imported what came before")) {
            *first = format!("{}: {first}", file.display());
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
        let files_dir = file.parent().unwrap_or(Path::new(".")).join("files");
        let confine =
            Confine::new(&[&files_dir], opts.allow_outside_artifacts, " (--allow-outside-artifacts copies it)");
        for f in &run.files {
            if !crate::confine::is_plain_relative(f) {
                report.problems.push(format!("saved file `{f}` names a place outside the run's files folder; skipped"));
                continue;
            }
            let path = files_dir.join(f);
            if std::fs::symlink_metadata(&path).is_err() {
                report.problems.push(format!("saved file {f} is not in {}", path.display()));
                continue;
            }
            let found = match confine.file(f, &path) {
                Ok(found) => found,
                Err(skipped) => {
                    report.problems.push(format!("saved file {skipped}"));
                    continue;
                }
            };
            match found.open() {
                Ok(input) => match store.put_artifact_from(&run.id, f, input, &path.display().to_string()) {
                    Ok(_) => report.artifacts += 1,
                    Err(e @ trackbench_store::StoreError::Invalid { .. }) => {
                        report.problems.push(format!("saved file {f}: {e}; skipped"))
                    }
                    Err(e) => return Err(e.into()),
                },
                Err(e) => report.problems.push(format!("saved file {}: {e}; skipped", path.display())),
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
