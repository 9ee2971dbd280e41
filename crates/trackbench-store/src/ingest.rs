//! The single write path: [`Store::log_batch`] stores a [`Batch`] in one IMMEDIATE
//! transaction — metric chunks and their summaries, params, tags, summary values, log lines
//! and the heartbeat.
//!
//! Chunking (appending a flush, merging small tail chunks, compacting a finished run) is
//! [`crate::chunking`]'s, shared with the other backends; here is SQLite's chunk table.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::chunking::{
    ChunkRow, ChunkTx, EncodedChunk, SeriesSummary, accepted_tags_and_summary, append_series_from, compact_series,
    series_keys,
};
use crate::codec::{self, Points};
use crate::error::{Result, StoreError};
use crate::model::*;
use crate::{Store, validate};

use crate::chunking::CHUNK_POINTS;

impl Store {
    /// Stores `batch` into run `uid` atomically. Invalid items (a bad key, a param whose
    /// value differs from the one already logged) are refused and listed in the report;
    /// everything else is stored. Errors (I/O, busy after the busy timeout, unknown run)
    /// store nothing.
    pub fn log_batch(&mut self, uid: &str, batch: &Batch) -> Result<IngestReport> {
        self.log_batch_from(uid, batch, None)
    }

    /// [`Store::log_batch`] for a batch that came as codec chunks (a remote SDK's binary
    /// batch): the same rules and report, its chunks stored as they came wherever a series
    /// gets new chunks ([`crate::chunking::append_series_from`]).
    pub fn log_chunked_batch(&mut self, uid: &str, batch: &crate::wire::ChunkedBatch) -> Result<IngestReport> {
        self.log_batch_from(uid, &batch.batch, Some(&batch.chunks))
    }

    fn log_batch_from(
        &mut self,
        uid: &str,
        batch: &Batch,
        chunks: Option<&[Vec<EncodedChunk>]>,
    ) -> Result<IngestReport> {
        if chunks.is_some_and(|c| c.len() != batch.series.len()) {
            return Err(StoreError::invalid("batch", "one list of chunks per series"));
        }
        let run = self.run_rowid(uid)?;
        let mut report = IngestReport::default();
        // Resolve keys before the write transaction so the cache stays right on rollback.
        let key_ids = series_keys(batch, &mut report, |k| self.key_id(k))?;
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
        for (i, (s, key_id)) in batch.series.iter().zip(&key_ids).enumerate() {
            if let Some(key_id) = key_id
                && !s.points.is_empty()
            {
                let encoded = chunks.map(|c| &c[i][..]);
                append_series_from(&mut SqliteChunks(&tx), run, *key_id, &s.points, encoded)?;
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
        let accepted = accepted_tags_and_summary(batch, &mut report);
        for (k, v) in accepted.tags {
            tx.prepare_cached("INSERT INTO run_tags(run_id, key, value) VALUES (?1, ?2, ?3) ON CONFLICT DO UPDATE SET value = excluded.value")?
                .execute(params![run, k, v])?;
        }
        for (k, v) in accepted.summary {
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
                stmt.execute(params![run, seq, l.stream.as_str(), l.ts_ms, validate::log_line(&l.line)])?;
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
            removed += compact_series(&mut SqliteChunks(&tx), run, key)?;
        }
        tx.commit()?;
        Ok(removed)
    }
}

/// The SQLite chunk table, inside a write transaction.
struct SqliteChunks<'a>(&'a Transaction<'a>);

impl ChunkTx for SqliteChunks<'_> {
    fn tail(&mut self, run: i64, key: i64, limit: usize) -> Result<Vec<(i64, i64)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        Ok(self
            .0
            .prepare_cached(
                "SELECT seq, n FROM metric_chunks WHERE run_id = ?1 AND key_id = ?2 ORDER BY seq DESC LIMIT ?3",
            )?
            .query_map(params![run, key, limit], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?)
    }

    fn read(&mut self, run: i64, key: i64, first: i64, last: i64, out: &mut Points) -> Result<()> {
        let mut stmt = self.0.prepare_cached(
            "SELECT data FROM metric_chunks WHERE run_id = ?1 AND key_id = ?2 AND seq BETWEEN ?3 AND ?4 ORDER BY seq",
        )?;
        let mut rows = stmt.query(params![run, key, first, last])?;
        while let Some(row) = rows.next()? {
            let data = row.get_ref(0)?.as_blob().map_err(rusqlite::Error::from)?;
            codec::decode_into(data, out)?;
        }
        Ok(())
    }

    fn delete(&mut self, run: i64, key: i64, first: i64, last: i64) -> Result<()> {
        self.0
            .prepare_cached("DELETE FROM metric_chunks WHERE run_id = ?1 AND key_id = ?2 AND seq BETWEEN ?3 AND ?4")?
            .execute(params![run, key, first, last])?;
        Ok(())
    }

    fn put(&mut self, run: i64, key: i64, c: &ChunkRow) -> Result<()> {
        self.0
            .prepare_cached(
                "INSERT OR REPLACE INTO metric_chunks(run_id, key_id, seq, n, step_min, step_max, vmin, vmax, vlast, data) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![run, key, c.seq, c.n, c.step_min, c.step_max, c.vmin, c.vmax, c.vlast, c.data])?;
        Ok(())
    }

    fn summary(&mut self, run: i64, key: i64) -> Result<Option<SeriesSummary>> {
        Ok(self
            .0
            .prepare_cached(
                "SELECT count, nan_count, last, last_is_nan, last_step, last_wall_ms, min, max, sum \
                 FROM metric_summaries WHERE run_id = ?1 AND key_id = ?2",
            )?
            .query_row([run, key], |r| {
                let last: Option<f64> = r.get(2)?;
                let is_nan: bool = r.get(3)?;
                Ok(SeriesSummary {
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
            .optional()?)
    }

    fn put_summary(&mut self, run: i64, key: i64, s: &SeriesSummary) -> Result<()> {
        // As every backend keeps them (`stored_real`): `last_is_nan` says when `last` was NaN.
        let real = crate::chunking::stored_real;
        self.0
            .prepare_cached(
                "INSERT OR REPLACE INTO metric_summaries(run_id, key_id, count, nan_count, last, last_is_nan, \
                   last_step, last_wall_ms, min, max, sum) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                run,
                key,
                s.count,
                s.nan_count,
                real(s.last),
                s.last.is_nan(),
                s.last_step,
                s.last_wall_ms,
                s.min.and_then(real),
                s.max.and_then(real),
                s.sum.and_then(real)
            ])?;
        Ok(())
    }
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
        return Err(validate::param_rewrite(key, &old, &json));
    }
    let (text, num) = validate::param_text_num(value);
    tx.prepare_cached(
        "INSERT INTO params(run_id, key, value_json, value_text, value_num) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![run, key, json, text, num])?;
    Ok(true)
}
