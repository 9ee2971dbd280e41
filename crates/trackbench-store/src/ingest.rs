//! The single write path: [`Store::log_batch`] stores a [`Batch`] in one IMMEDIATE
//! transaction — metric chunks and their summaries, params, tags, summary values, log lines
//! and the heartbeat.
//!
//! Chunking: each flush appends chunks of up to [`CHUNK_POINTS`] points; small chunks at the
//! end of a series are merged into bigger ones in the same transaction (see
//! [`append_series`]), so the many small flushes of a slow training loop still end up as few
//! full chunks without rewriting the tail on every flush. Merging decodes and re-encodes
//! losslessly: nothing already stored is dropped or replaced by a different point.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::codec::{self, Points};
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::{Store, validate};

/// Target number of points per chunk.
pub const CHUNK_POINTS: usize = 4096;

/// Running per-series summary, folded point by point.
#[derive(Debug, Clone)]
struct Summary {
    count: i64,
    nan_count: i64,
    last: f64,
    last_step: i64,
    last_wall_ms: i64,
    min: Option<f64>,
    max: Option<f64>,
    sum: Option<f64>,
}

impl Summary {
    fn empty() -> Summary {
        Summary {
            count: 0,
            nan_count: 0,
            last: f64::NAN,
            last_step: i64::MIN,
            last_wall_ms: 0,
            min: None,
            max: None,
            sum: None,
        }
    }

    #[inline]
    fn add(&mut self, step: i64, wall: i64, v: f64) {
        self.count += 1;
        if step >= self.last_step {
            self.last_step = step;
            self.last = v;
            self.last_wall_ms = wall;
        }
        if v.is_nan() {
            self.nan_count += 1;
        } else {
            self.min = Some(self.min.map_or(v, |m| m.min(v)));
            self.max = Some(self.max.map_or(v, |m| m.max(v)));
            self.sum = Some(self.sum.map_or(v, |s| s + v));
        }
    }
}

/// `Some(v)` unless NaN (SQLite would store NaN as NULL anyway; be explicit).
fn real(v: f64) -> Option<f64> {
    (!v.is_nan()).then_some(v)
}

impl Store {
    /// Stores `batch` into run `uid` atomically. Invalid items (a bad key, a param whose
    /// value differs from the one already logged) are refused and listed in the report;
    /// everything else is stored. Errors (I/O, busy after the busy timeout, unknown run)
    /// store nothing.
    pub fn log_batch(&mut self, uid: &str, batch: &Batch) -> Result<IngestReport> {
        let run = self.run_rowid(uid)?;
        let mut report = IngestReport::default();
        // Resolve keys before the write transaction so the cache stays right on rollback.
        let mut key_ids = Vec::with_capacity(batch.series.len());
        for s in &batch.series {
            match validate::key("metric", &s.key) {
                Ok(()) => key_ids.push(Some(self.key_id(&s.key)?)),
                Err(e) => {
                    report.rejected.push(Rejected { what: "metric".into(), key: s.key.clone(), reason: e.to_string() });
                    key_ids.push(None);
                }
            }
        }
        let now = self.now();
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // First, so a run purged by another connection (whose id this one cached) is refused
        // before anything is written; ids are never reused, so the id names no other run.
        let beat = batch.heartbeat_ms.unwrap_or(now);
        let found = tx
            .prepare_cached("UPDATE runs SET heartbeat_ms = max(heartbeat_ms, ?2) WHERE id = ?1")?
            .execute(params![run, beat])?;
        if found == 0 {
            drop(tx);
            self.run_ids.remove(uid);
            return Err(StoreError::RunNotFound(uid.to_string()));
        }
        if let Some((writer, seq)) = &batch.mark {
            validate::key("writer id", writer)?;
            let last: Option<i64> = tx
                .prepare_cached("SELECT seq FROM ingest_marks WHERE run_id = ?1 AND writer = ?2")?
                .query_row(params![run, writer], |r| r.get(0))
                .optional()?;
            if last.is_some_and(|l| l >= *seq) {
                return Ok(IngestReport { duplicate: true, ..IngestReport::default() });
            }
            tx.prepare_cached(
                "INSERT INTO ingest_marks(run_id, writer, seq) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO UPDATE SET seq = excluded.seq",
            )?
            .execute(params![run, writer, seq])?;
        }
        for (s, key_id) in batch.series.iter().zip(&key_ids) {
            if let Some(key_id) = key_id
                && !s.points.is_empty()
            {
                append_series(&tx, run, *key_id, &s.points)?;
                report.points += s.points.len();
            }
        }
        for (k, v) in &batch.params {
            match insert_param(&tx, run, k, v) {
                Ok(true) => report.params += 1,
                Ok(false) => {}
                Err(StoreError::Invalid { why, .. }) => {
                    report.rejected.push(Rejected { what: "param".into(), key: k.clone(), reason: why })
                }
                Err(e) => return Err(e),
            }
        }
        for (k, v) in &batch.tags {
            if let Err(e) = validate::key("tag", k).and_then(|_| validate::tag_value(k, v)) {
                report.rejected.push(Rejected { what: "tag".into(), key: k.clone(), reason: e.to_string() });
                continue;
            }
            tx.prepare_cached("INSERT INTO run_tags(run_id, key, value) VALUES (?1, ?2, ?3) ON CONFLICT DO UPDATE SET value = excluded.value")?
                .execute(params![run, k, v])?;
        }
        for (k, v) in &batch.summary {
            if let Err(e) = validate::key("summary", k) {
                report.rejected.push(Rejected { what: "summary".into(), key: k.clone(), reason: e.to_string() });
                continue;
            }
            tx.prepare_cached("INSERT INTO run_summary(run_id, key, value_json) VALUES (?1, ?2, ?3) ON CONFLICT DO UPDATE SET value_json = excluded.value_json")?
                .execute(params![run, k, v.to_string()])?;
        }
        if !batch.log_lines.is_empty() {
            let mut seq: i64 = tx
                .prepare_cached("SELECT coalesce(max(seq), 0) FROM log_lines WHERE run_id = ?1")?
                .query_row([run], |r| r.get(0))?;
            let mut stmt = tx.prepare_cached(
                "INSERT INTO log_lines(run_id, seq, stream, ts_ms, line) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for l in &batch.log_lines {
                seq += 1;
                let clean = l.line.replace('\0', "\u{FFFD}");
                stmt.execute(params![
                    run,
                    seq,
                    l.stream.as_str(),
                    l.ts_ms,
                    truncate(&clean, validate::MAX_LOG_LINE_BYTES)
                ])?;
            }
        }
        tx.commit()?;
        Ok(report)
    }

    /// Logs points of one series (wrapper over [`Store::log_batch`]).
    pub fn log_metric_points(&mut self, uid: &str, key: &str, points: Points) -> Result<IngestReport> {
        let batch = Batch { series: vec![SeriesBatch { key: key.to_string(), points }], ..Batch::default() };
        self.log_batch(uid, &batch)
    }

    /// Logs params (wrapper over [`Store::log_batch`]).
    pub fn log_params(&mut self, uid: &str, params: Vec<(String, serde_json::Value)>) -> Result<IngestReport> {
        self.log_batch(uid, &Batch { params, ..Batch::default() })
    }

    /// Id of metric key `name`, interning it on first use.
    pub(crate) fn key_id(&mut self, name: &str) -> Result<i64> {
        if let Some(&id) = self.key_ids.get(name) {
            return Ok(id);
        }
        self.conn
            .prepare_cached("INSERT INTO metric_keys(name) VALUES (?1) ON CONFLICT(name) DO NOTHING")?
            .execute([name])?;
        let id: i64 =
            self.conn.prepare_cached("SELECT id FROM metric_keys WHERE name = ?1")?.query_row([name], |r| r.get(0))?;
        self.key_ids.insert(name.to_string(), id);
        Ok(id)
    }

    /// Id of metric key `name` if any run ever logged it.
    pub(crate) fn existing_key_id(&self, name: &str) -> Result<Option<i64>> {
        if let Some(&id) = self.key_ids.get(name) {
            return Ok(Some(id));
        }
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM metric_keys WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?)
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Tail chunks merged at once by the tiered compaction.
const MERGE_FANOUT: usize = 8;

/// Size class of a chunk for tiered merging: 1-7 points, 8-63, 64-511, 512-4095.
fn level(n: i64) -> u32 {
    (63 - (n.max(1) as u64).leading_zeros()) / 3
}

/// Appends `new` to series (run, key) and folds it into the series summary.
///
/// Write amplification stays bounded both for big flushes and for a slow loop that flushes a
/// few points at a time: a small tail chunk is merged with new points when they outnumber it
/// (rewriting at most as much as is added); otherwise new points go into new chunks, and
/// whenever the last [`MERGE_FANOUT`] chunks are of one size class they are merged into one
/// (tiered, like an LSM tree), so each point is rewritten about once per size class.
fn append_series(tx: &Transaction, run: i64, key: i64, new: &Points) -> Result<()> {
    let tail: Option<(i64, i64)> = tx
        .prepare_cached("SELECT seq, n FROM metric_chunks WHERE run_id = ?1 AND key_id = ?2 ORDER BY seq DESC LIMIT 1")?
        .query_row([run, key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match tail {
        Some((tail_seq, n)) if (n as usize) < CHUNK_POINTS && n as usize <= new.len() => {
            let mut all = read_chunks(tx, run, key, tail_seq, tail_seq)?;
            all.extend_from(new, 0..new.len());
            write_chunks(tx, run, key, tail_seq, &all)?;
        }
        Some((tail_seq, _)) => {
            write_chunks(tx, run, key, tail_seq + 1, new)?;
            compact_tail(tx, run, key)?;
        }
        None => write_chunks(tx, run, key, 0, new)?,
    }
    update_summary(tx, run, key, new)
}

impl Store {
    /// Rewrites each series of run `uid` so that runs of small chunks become full chunks
    /// (done when a run finishes; reads are fastest on full chunks). Returns chunks removed.
    pub fn compact_run(&mut self, uid: &str) -> Result<usize> {
        let run = self.run_rowid(uid)?;
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let keys: Vec<i64> = tx
            .prepare_cached("SELECT DISTINCT key_id FROM metric_chunks WHERE run_id = ?1 AND n < ?2")?
            .query_map(params![run, CHUNK_POINTS as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut removed = 0;
        for key in keys {
            let chunks: Vec<(i64, i64)> = tx
                .prepare_cached("SELECT seq, n FROM metric_chunks WHERE run_id = ?1 AND key_id = ?2 ORDER BY seq")?
                .query_map(params![run, key], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            // Each maximal run of consecutive non-full chunks becomes full chunks.
            let mut i = 0;
            while i < chunks.len() {
                if chunks[i].1 as usize >= CHUNK_POINTS {
                    i += 1;
                    continue;
                }
                let mut j = i;
                while j + 1 < chunks.len() && (chunks[j + 1].1 as usize) < CHUNK_POINTS {
                    j += 1;
                }
                if j > i {
                    let merged = read_chunks(&tx, run, key, chunks[i].0, chunks[j].0)?;
                    tx.prepare_cached(
                        "DELETE FROM metric_chunks WHERE run_id = ?1 AND key_id = ?2 AND seq BETWEEN ?3 AND ?4",
                    )?
                    .execute(params![run, key, chunks[i].0, chunks[j].0])?;
                    write_chunks(&tx, run, key, chunks[i].0, &merged)?;
                    removed += j - i + 1 - merged.len().div_ceil(CHUNK_POINTS);
                }
                i = j + 1;
            }
        }
        tx.commit()?;
        Ok(removed)
    }
}

/// Merges the last [`MERGE_FANOUT`] chunks while they are small and of one size class.
fn compact_tail(tx: &Transaction, run: i64, key: i64) -> Result<()> {
    loop {
        let tail: Vec<(i64, i64)> = tx
            .prepare_cached(
                "SELECT seq, n FROM metric_chunks WHERE run_id = ?1 AND key_id = ?2 ORDER BY seq DESC LIMIT ?3",
            )?
            .query_map(params![run, key, MERGE_FANOUT as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let Some(&(last_seq, last_n)) = tail.first() else { return Ok(()) };
        let same_class = tail.iter().all(|&(_, n)| (n as usize) < CHUNK_POINTS && level(n) == level(last_n));
        if tail.len() < MERGE_FANOUT || !same_class {
            return Ok(());
        }
        let first_seq = tail[tail.len() - 1].0;
        let merged = read_chunks(tx, run, key, first_seq, last_seq)?;
        tx.prepare_cached("DELETE FROM metric_chunks WHERE run_id = ?1 AND key_id = ?2 AND seq BETWEEN ?3 AND ?4")?
            .execute(params![run, key, first_seq, last_seq])?;
        write_chunks(tx, run, key, first_seq, &merged)?;
    }
}

/// Decodes chunks `first..=last` (by seq) of a series, in order.
fn read_chunks(tx: &Transaction, run: i64, key: i64, first: i64, last: i64) -> Result<Points> {
    let mut out = Points::default();
    let mut stmt = tx.prepare_cached(
        "SELECT data FROM metric_chunks WHERE run_id = ?1 AND key_id = ?2 AND seq BETWEEN ?3 AND ?4 ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![run, key, first, last])?;
    while let Some(row) = rows.next()? {
        let data = row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
        codec::decode_into(data, &mut out)?;
    }
    Ok(out)
}

/// Writes `points` as chunks of at most [`CHUNK_POINTS`], numbered from `seq` (replacing
/// rows of those numbers).
fn write_chunks(tx: &Transaction, run: i64, key: i64, mut seq: i64, points: &Points) -> Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT OR REPLACE INTO metric_chunks(run_id, key_id, seq, n, step_min, step_max, vmin, vmax, vlast, data) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut start = 0;
    while start < points.len() {
        let end = (start + CHUNK_POINTS).min(points.len());
        let mut s = Summary::empty();
        let (mut step_min, mut step_max) = (i64::MAX, i64::MIN);
        for i in start..end {
            let step = points.steps[i];
            step_min = step_min.min(step);
            step_max = step_max.max(step);
            s.add(step, points.wall_ms[i], points.values[i]);
        }
        let blob = codec::encode(points, start..end);
        insert.execute(params![
            run,
            key,
            seq,
            (end - start) as i64,
            step_min,
            step_max,
            s.min,
            s.max,
            real(s.last),
            blob
        ])?;
        seq += 1;
        start = end;
    }
    Ok(())
}

fn update_summary(tx: &Transaction, run: i64, key: i64, new: &Points) -> Result<()> {
    let mut s = tx
        .prepare_cached(
            "SELECT count, nan_count, last, last_is_nan, last_step, last_wall_ms, min, max, sum \
             FROM metric_summaries WHERE run_id = ?1 AND key_id = ?2",
        )?
        .query_row([run, key], |r| {
            let last: Option<f64> = r.get(2)?;
            let is_nan: bool = r.get(3)?;
            Ok(Summary {
                count: r.get(0)?,
                nan_count: r.get(1)?,
                last: if is_nan { f64::NAN } else { last.unwrap_or(f64::NAN) },
                last_step: r.get(4)?,
                last_wall_ms: r.get(5)?,
                min: r.get(6)?,
                max: r.get(7)?,
                sum: r.get(8)?,
            })
        })
        .optional()?
        .unwrap_or_else(Summary::empty);
    for i in 0..new.len() {
        s.add(new.steps[i], new.wall_ms[i], new.values[i]);
    }
    tx.prepare_cached(
        "INSERT OR REPLACE INTO metric_summaries(run_id, key_id, count, nan_count, last, last_is_nan, last_step, last_wall_ms, min, max, sum) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![run, key, s.count, s.nan_count, real(s.last), s.last.is_nan(), s.last_step, s.last_wall_ms, s.min, s.max, s.sum.and_then(real)])?;
    Ok(())
}

/// Inserts a param; `Ok(false)` when the same value was already logged, `Invalid` when a
/// different one was (params are write-once).
fn insert_param(tx: &Transaction, run: i64, key: &str, value: &serde_json::Value) -> Result<bool> {
    validate::key("param", key)?;
    validate::param_value(key, value)?;
    let json = value.to_string();
    let existing: Option<String> = tx
        .prepare_cached("SELECT value_json FROM params WHERE run_id = ?1 AND key = ?2")?
        .query_row(params![run, key], |r| r.get(0))
        .optional()?;
    if let Some(old) = existing {
        if old == json {
            return Ok(false);
        }
        return Err(StoreError::invalid(
            "param",
            format!(
                "`{key}` was already logged as {old}; params are write-once (log {json} under a new key or in a new run)"
            ),
        ));
    }
    let (text, num) = param_text_num(value);
    tx.prepare_cached(
        "INSERT INTO params(run_id, key, value_json, value_text, value_num) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![run, key, json, text, num])?;
    Ok(true)
}

/// The text form of a param (strings raw, everything else as JSON) and its numeric value
/// when it is a number or a string holding one (MLflow logs every param as a string).
pub(crate) fn param_text_num(value: &serde_json::Value) -> (String, Option<f64>) {
    match value {
        serde_json::Value::String(s) => (s.clone(), s.trim().parse::<f64>().ok().filter(|f| f.is_finite())),
        serde_json::Value::Number(n) => (n.to_string(), n.as_f64()),
        other => (other.to_string(), None),
    }
}
