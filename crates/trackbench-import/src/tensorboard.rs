//! TensorBoard event files -> runs.
//!
//! Each folder that holds `events.out.tfevents.*` files is one run, named by its path under the
//! imported folder. Scalars come from `simple_value` (tensorboardX, TF1) and from rank-0 tensor
//! summaries (TF2's `tf.summary.scalar`: float, double, int); the hparams plugin's session start
//! info becomes params. Values keep the precision the file has (a `simple_value` is a 32-bit
//! float). A file with a corrupt or truncated record imports everything before it and reports
//! the offset. The source folder is kept as the run's `import.source` tag: a folder imported
//! before is skipped, and [`Follower`] appends what a still-running job writes later.
//!
//! Event files are streamed record by record (a `BufReader` under [`crate::tfrecord::Reader`]),
//! so a file of any size imports with bounded memory. The walk stays inside the imported folder
//! (see [`crate::confine`]): links to folders are not followed (so a link loop cannot make it
//! walk forever, and a linked run is not imported twice), an event file that is a link is read
//! only when it resolves inside the folder; what is skipped is reported.

use std::collections::BTreeMap;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;
use trackbench_store::{Batch, NewRun, Points, RunQuery, SeriesBatch, Store};

use crate::confine::Skipped;
use crate::protobuf::{Malformed, Wire, fields};
use crate::tfrecord::{Reader, Stop};

/// The tag that records where an imported run came from.
pub const SOURCE_TAG: &str = "import.source";

/// What one folder held.
#[derive(Debug, Default, Clone)]
pub struct Parsed {
    pub scalars: BTreeMap<String, Points>,
    pub params: BTreeMap<String, Value>,
    pub records: usize,
    /// Summary values that are not scalars (images, histograms, …), not imported.
    pub skipped_values: usize,
    /// Where and why reading stopped early, per file.
    pub problems: Vec<String>,
}

impl Parsed {
    pub fn scalar_count(&self) -> usize {
        self.scalars.values().map(Points::len).sum()
    }
}

/// Parses the records of `data` (file bytes from offset `base`) into `acc`; returns the offset
/// after the last whole record and why it stopped, if it did before the end.
pub fn parse_events(data: &[u8], base: u64, acc: &mut Parsed) -> (u64, Option<Stop>) {
    parse_stream(data, base, acc)
}

/// [`parse_events`] over a reader (a `BufReader` over an event file): one record in memory at
/// a time.
pub fn parse_stream(input: impl Read, base: u64, acc: &mut Parsed) -> (u64, Option<Stop>) {
    let mut reader = Reader::new(input, base);
    while let Some(record) = reader.read_record() {
        acc.records += 1;
        if let Err(Malformed(at)) = parse_event(record, acc) {
            acc.problems.push(format!("an event record is malformed at byte {at}; skipped"));
        }
    }
    acc.skipped_values += reader.skipped_large;
    (reader.offset(), reader.stop.clone())
}

fn parse_event(rec: &[u8], acc: &mut Parsed) -> Result<(), Malformed> {
    let (mut wall, mut step, mut summary) = (0.0f64, 0i64, None);
    for f in fields(rec) {
        match f? {
            (1, w) => wall = w.as_f64().unwrap_or(0.0),
            (2, w) => step = w.as_i64().unwrap_or(0),
            (5, Wire::Bytes(b)) => summary = Some(b),
            _ => {}
        }
    }
    let Some(summary) = summary else { return Ok(()) };
    let wall_ms = (wall * 1000.0).round() as i64;
    for f in fields(summary) {
        if let (1, Wire::Bytes(v)) = f? {
            parse_value(v, step, wall_ms, acc)?;
        }
    }
    Ok(())
}

fn parse_value(v: &[u8], step: i64, wall_ms: i64, acc: &mut Parsed) -> Result<(), Malformed> {
    let (mut tag, mut simple, mut tensor, mut plugin, mut content) = ("", None, None, "", None);
    for f in fields(v) {
        match f? {
            (1, w) => tag = w.as_str().unwrap_or(""),
            (2, w) => simple = w.as_f64(),
            (8, Wire::Bytes(b)) => tensor = Some(b),
            (9, Wire::Bytes(meta)) => {
                for m in fields(meta) {
                    if let (1, Wire::Bytes(pd)) = m? {
                        for p in fields(pd) {
                            match p? {
                                (1, w) => plugin = w.as_str().unwrap_or(""),
                                (2, Wire::Bytes(c)) => content = Some(c),
                                _ => {}
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if plugin == "hparams" {
        if let Some(c) = content {
            parse_hparams(c, acc)?;
        }
        return Ok(());
    }
    let value = match (simple, tensor) {
        (Some(x), _) => Some(x),
        (None, Some(t)) if plugin.is_empty() || plugin == "scalars" => tensor_scalar(t)?,
        _ => None,
    };
    match value {
        Some(x) if !tag.is_empty() => acc.scalars.entry(tag.to_string()).or_default().push(step, wall_ms, x),
        _ => acc.skipped_values += 1,
    }
    Ok(())
}

/// The one value of a rank-0 (or one-element) numeric tensor.
fn tensor_scalar(t: &[u8]) -> Result<Option<f64>, Malformed> {
    // Only whether there is exactly one value matters: count them, keep the first.
    let (mut dtype, mut content, mut vals) = (0u64, None, OneValue::default());
    for f in fields(t) {
        match f? {
            (1, Wire::Varint(d)) => dtype = d,
            (4, Wire::Bytes(b)) => content = Some(b),
            // float_val / double_val, packed or not
            (5, Wire::Bytes(b)) => {
                vals.extend(b.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap_or([0; 4])) as f64))
            }
            (6, Wire::Bytes(b)) => {
                vals.extend(b.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8]))))
            }
            (5 | 6, w) => vals.extend(w.as_f64()),
            // int_val / int64_val, packed or not
            (7 | 10, Wire::Bytes(b)) => {
                for x in fields_of_packed_varints(b) {
                    vals.push(x? as i64 as f64);
                }
            }
            (7 | 10, Wire::Varint(x)) => vals.push(x as i64 as f64),
            _ => {}
        }
    }
    if let Some(c) = content {
        match (dtype, c.len()) {
            (1, 4) => vals.push(f32::from_le_bytes(c.try_into().unwrap_or([0; 4])) as f64),
            (2, 8) => vals.push(f64::from_le_bytes(c.try_into().unwrap_or([0; 8]))),
            (3, 4) => vals.push(i32::from_le_bytes(c.try_into().unwrap_or([0; 4])) as f64),
            (9, 8) => vals.push(i64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f64),
            _ => {}
        }
    }
    Ok(if vals.count == 1 { vals.first } else { None })
}

/// The first value and how many there were.
#[derive(Default)]
struct OneValue {
    first: Option<f64>,
    count: usize,
}

impl OneValue {
    fn push(&mut self, x: f64) {
        self.first.get_or_insert(x);
        self.count += 1;
    }
}

impl Extend<f64> for OneValue {
    fn extend<I: IntoIterator<Item = f64>>(&mut self, iter: I) {
        iter.into_iter().for_each(|x| self.push(x));
    }
}

fn fields_of_packed_varints(b: &[u8]) -> impl Iterator<Item = Result<u64, Malformed>> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= b.len() {
            return None;
        }
        let start = pos;
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&byte) = b.get(pos) else { return Some(Err(Malformed(start))) };
            pos += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(Ok(v));
            }
        }
        Some(Err(Malformed(start)))
    })
}

/// `HParamsPluginData.session_start_info.hparams` (a map of `google.protobuf.Value`) -> params.
fn parse_hparams(c: &[u8], acc: &mut Parsed) -> Result<(), Malformed> {
    for f in fields(c) {
        if let (3, Wire::Bytes(start_info)) = f? {
            for g in fields(start_info) {
                if let (1, Wire::Bytes(entry)) = g? {
                    let (mut key, mut value) = ("", Value::Null);
                    for e in fields(entry) {
                        match e? {
                            (1, w) => key = w.as_str().unwrap_or(""),
                            (2, Wire::Bytes(pv)) => {
                                for p in fields(pv) {
                                    value = match p? {
                                        (2, w) => w.as_f64().map(|x| serde_json::json!(x)).unwrap_or(Value::Null),
                                        (3, w) => Value::String(w.as_str().unwrap_or("").to_string()),
                                        (4, Wire::Varint(b)) => Value::Bool(b != 0),
                                        _ => value,
                                    };
                                }
                            }
                            _ => {}
                        }
                    }
                    if !key.is_empty() && !value.is_null() {
                        acc.params.insert(key.to_string(), value);
                    }
                }
            }
        }
    }
    Ok(())
}

fn is_event_file(p: &Path) -> bool {
    p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.contains("tfevents"))
}

/// Folders under `root` (itself included) that hold event files, with those files, sorted.
/// Links to folders are not followed, linked event files only when they resolve inside `root`.
pub fn discover(root: &Path) -> std::io::Result<Folders> {
    Ok(discover_checked(root)?.0)
}

/// Folders of event files, each with its files.
pub type Folders = Vec<(PathBuf, Vec<PathBuf>)>;

/// [`discover`], with what the walk skipped (links out of `root`, links to folders).
pub fn discover_checked(root: &Path) -> std::io::Result<(Folders, Vec<Skipped>)> {
    std::fs::read_dir(root)?; // a missing or unreadable root is an error, not an empty import
    let confine = crate::confine::Confine::new(&[root], false, "");
    let (files, mut warnings) = confine.walk(root);
    let mut by_dir: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for f in files.into_iter().filter(|f| is_event_file(&f.path)) {
        let dir = f.path.parent().unwrap_or(root).to_path_buf();
        by_dir.entry(dir).or_default().push(f.path);
    }
    for files in by_dir.values_mut() {
        files.sort();
    }
    // Only links among event files matter here; the rest of a log folder is not read.
    warnings.retain(|w| is_event_file(&w.path) || w.why.contains("link to a folder") || w.why.contains("cycle"));
    Ok((by_dir.into_iter().collect(), warnings))
}

/// How one folder's import went.
#[derive(Debug, Clone, Serialize)]
pub struct FolderReport {
    pub folder: String,
    pub run: Option<String>,
    pub scalars: usize,
    pub series: usize,
    pub params: usize,
    /// Why nothing was imported (already imported, no scalars).
    pub skipped: Option<String>,
    /// Where reading stopped early (truncated or corrupt files).
    pub problems: Vec<String>,
}

/// Reads every event file of one folder, each streamed record by record.
pub fn parse_folder(files: &[PathBuf]) -> std::io::Result<(Parsed, Vec<(PathBuf, u64)>)> {
    let mut acc = Parsed::default();
    let mut offsets = Vec::new();
    for f in files {
        let file = std::fs::File::open(f)?;
        let len = file.metadata()?.len();
        let (offset, stop) = parse_stream(BufReader::with_capacity(READ_BUFFER, file), 0, &mut acc);
        if let Some(stop) = stop {
            acc.problems.push(describe(f, &stop, len));
        }
        offsets.push((f.clone(), offset));
    }
    Ok((acc, offsets))
}

/// The read buffer under the record reader.
const READ_BUFFER: usize = 256 * 1024;

fn describe(f: &Path, stop: &Stop, len: u64) -> String {
    match stop {
        Stop::Incomplete { offset } => {
            format!(
                "{}: ends inside a record at byte {offset} of {len} (truncated); imported what came before",
                f.display()
            )
        }
        Stop::Corrupt { offset, what } => {
            format!("{}: bad {what} at byte {offset} of {len}; imported what came before", f.display())
        }
        Stop::Unreadable { offset, error } => {
            format!("{}: reading failed at byte {offset} of {len} ({error}); imported what came before", f.display())
        }
    }
}

/// The run already imported from `source`, if any (one indexed query through the filter
/// language, not a scan of the project's tags).
pub fn find_imported(store: &Store, project: &str, source: &str) -> trackbench_store::Result<Option<String>> {
    let filter = format!("tags.`{SOURCE_TAG}` = '{}'", source.replace('\'', "''"));
    let q = RunQuery {
        project: Some(project.to_string()),
        filter: Some(filter),
        include_deleted: true,
        limit: Some(1),
        ..RunQuery::default()
    };
    Ok(store.list_runs(&q)?.into_iter().next().map(|r| r.id))
}

/// Points per `log_batch` when importing.
const BATCH_POINTS: usize = 100_000;

/// Appends `parsed` to run `run`: scalars in batches, params once.
pub fn store_parsed(store: &mut Store, run: &str, parsed: &Parsed) -> trackbench_store::Result<()> {
    if !parsed.params.is_empty() {
        let batch =
            Batch { params: parsed.params.iter().map(|(k, v)| (k.clone(), v.clone())).collect(), ..Batch::default() };
        store.log_batch(run, &batch)?;
    }
    let mut batch = Batch::default();
    for (key, points) in &parsed.scalars {
        let mut start = 0;
        while start < points.len() {
            let room = BATCH_POINTS - batch.point_count().min(BATCH_POINTS);
            let end = (start + room).min(points.len());
            let mut part = Points::with_capacity(end - start);
            part.extend_from(points, start..end);
            batch.series.push(SeriesBatch { key: key.clone(), points: part });
            start = end;
            if batch.point_count() >= BATCH_POINTS {
                store.log_batch(run, &std::mem::take(&mut batch))?;
            }
        }
    }
    if !batch.is_empty() {
        store.log_batch(run, &batch)?;
    }
    Ok(())
}

/// Imports every event-file folder under `root` into `project`.
pub fn import(store: &mut Store, root: &Path, project: &str) -> Result<Vec<FolderReport>, crate::ImportError> {
    import_with(store, root, project, &mut |_, _| {})
}

/// [`import`], calling `progress(done, total)` before each folder.
pub fn import_with(
    store: &mut Store,
    root: &Path,
    project: &str,
    progress: crate::Progress<'_>,
) -> Result<Vec<FolderReport>, crate::ImportError> {
    let root = root.canonicalize().map_err(|e| crate::ImportError::io(root, e))?;
    let mut out = Vec::new();
    let (folders, warnings) = discover_checked(&root).map_err(|e| crate::ImportError::io(&root, e))?;
    // What the walk skipped gets a row of its own, so it shows in the table and the JSON.
    for w in warnings {
        out.push(FolderReport {
            folder: w.path.display().to_string(),
            run: None,
            scalars: 0,
            series: 0,
            params: 0,
            skipped: Some(w.why.clone()),
            problems: vec![w.to_string()],
        });
    }
    let total = folders.len();
    for (i, (dir, files)) in folders.into_iter().enumerate() {
        progress(i, total);
        let source = format!("tensorboard:{}", dir.display());
        let name = run_name(&root, &dir);
        let mut report = FolderReport {
            folder: dir.display().to_string(),
            run: None,
            scalars: 0,
            series: 0,
            params: 0,
            skipped: None,
            problems: vec![],
        };
        if let Some(id) = find_imported(store, project, &source)? {
            report.run = Some(id);
            report.skipped = Some("already imported (its import.source tag matches)".into());
            out.push(report);
            continue;
        }
        let (parsed, _) = parse_folder(&files).map_err(|e| crate::ImportError::io(&dir, e))?;
        report.problems = parsed.problems.clone();
        if parsed.scalars.is_empty() && parsed.params.is_empty() {
            report.skipped = Some("no scalars or hparams in its event files".into());
            out.push(report);
            continue;
        }
        let created_ms = parsed.scalars.values().filter_map(|p| p.wall_ms.iter().min().copied()).min();
        let new = NewRun {
            project: project.to_string(),
            name: Some(name),
            tags: vec![(SOURCE_TAG.to_string(), source)],
            created_ms,
            ..NewRun::default()
        };
        let run = store.create_run(&new)?;
        store_parsed(store, &run.id, &parsed)?;
        store.finish_run(&run.id, trackbench_store::RunStatus::Finished, None)?;
        report.run = Some(run.id);
        report.scalars = parsed.scalar_count();
        report.series = parsed.scalars.len();
        report.params = parsed.params.len();
        out.push(report);
    }
    Ok(out)
}

fn run_name(root: &Path, dir: &Path) -> String {
    match dir.strip_prefix(root) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.display().to_string(),
        _ => root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "tensorboard".into()),
    }
}

/// Follows a folder a job is still writing: each [`Follower::poll`] appends what was added to
/// the event files since the last one (new files and new folders too).
pub struct Follower {
    root: PathBuf,
    project: String,
    /// folder -> (run id, file -> offset read up to)
    runs: BTreeMap<PathBuf, (String, BTreeMap<PathBuf, u64>)>,
}

impl Follower {
    pub fn new(root: &Path, project: &str) -> std::io::Result<Follower> {
        Ok(Follower { root: root.canonicalize()?, project: project.to_string(), runs: BTreeMap::new() })
    }

    /// Reads what is new; returns the number of scalars stored.
    pub fn poll(&mut self, store: &mut Store) -> Result<usize, crate::ImportError> {
        let mut stored = 0;
        for (dir, files) in discover(&self.root).map_err(|e| crate::ImportError::io(&self.root, e))? {
            if !self.runs.contains_key(&dir) {
                let source = format!("tensorboard:{}", dir.display());
                let id = match find_imported(store, &self.project, &source)? {
                    Some(id) => {
                        store.resume_run(&id)?;
                        id
                    }
                    None => {
                        let new = NewRun {
                            project: self.project.clone(),
                            name: Some(run_name(&self.root, &dir)),
                            tags: vec![(SOURCE_TAG.to_string(), source)],
                            ..NewRun::default()
                        };
                        store.create_run(&new)?.id
                    }
                };
                self.runs.insert(dir.clone(), (id, BTreeMap::new()));
            }
            let (id, offsets) = self.runs.get_mut(&dir).expect("inserted above");
            let mut parsed = Parsed::default();
            for f in &files {
                let from = offsets.get(f).copied().unwrap_or(0);
                let input = read_from(f, from).map_err(|e| crate::ImportError::io(f, e))?;
                let (to, _) = parse_stream(input, from, &mut parsed);
                offsets.insert(f.clone(), to);
            }
            stored += parsed.scalar_count();
            store_parsed(store, id, &parsed)?;
            store.heartbeat(id, store.now())?;
        }
        Ok(stored)
    }

    /// Marks the followed runs finished.
    pub fn finish(&mut self, store: &mut Store) -> trackbench_store::Result<()> {
        for (id, _) in self.runs.values() {
            store.finish_run(id, trackbench_store::RunStatus::Finished, None)?;
        }
        Ok(())
    }
}

/// The file from `offset` on, buffered (read as it is parsed, never whole).
fn read_from(path: &Path, offset: u64) -> std::io::Result<BufReader<std::fs::File>> {
    let mut f = std::fs::File::open(path)?;
    f.seek(SeekFrom::Start(offset))?;
    Ok(BufReader::with_capacity(READ_BUFFER, f))
}
