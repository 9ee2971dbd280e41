//! The one write on PostgreSQL (`log_batch`) and reading back what it wrote, with the chunking
//! algorithm the SQLite store uses (`trackbench_store::chunking`), over this backend's chunk
//! table ([`PgChunks`]).
//!
//! A batch takes its run's row lock first (the heartbeat update), so batches of one run, from
//! any replica, are stored one after the other: a retried batch sees its mark, and appends to
//! a series never interleave.

use postgres::Transaction;
use postgres::types::ToSql;
use trackbench_store::chunking::Downsampler;
use trackbench_store::chunking::{self, ChunkRow, ChunkTx, EncodedChunk, SeriesSummary};
use trackbench_store::codec::{self, Points};
use trackbench_store::wire::ChunkedBatch;
use trackbench_store::{
    Batch, Bucket, IngestReport, LogLine, MetricStore, MetricSummary, Rejected, Result, StepRange, StoreError,
    StoredLogLine, Stream, validate,
};

use crate::{PgStore, db};

/// The PostgreSQL chunk table, inside a write transaction, with the connection's prepared
/// statements.
pub(crate) struct PgChunks<'a, 'b>(pub(crate) &'a mut Transaction<'b>, pub(crate) &'a mut Stmts);

impl PgChunks<'_, '_> {
    fn query(&mut self, sql: &'static str, args: &[&(dyn ToSql + Sync)]) -> Result<Vec<postgres::Row>> {
        let st = self.1.get(self.0, sql)?;
        self.0.query(&st, args).map_err(db)
    }

    fn query_opt(&mut self, sql: &'static str, args: &[&(dyn ToSql + Sync)]) -> Result<Option<postgres::Row>> {
        let st = self.1.get(self.0, sql)?;
        self.0.query_opt(&st, args).map_err(db)
    }

    fn execute(&mut self, sql: &'static str, args: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let st = self.1.get(self.0, sql)?;
        self.0.execute(&st, args).map_err(db)
    }
}

/// Statements prepared once per connection: a text query is otherwise parsed and described by
/// the server on every call, a round trip of its own, and a batch runs a dozen of them per
/// series (and a page of a run listing reads a few per run). Protocol-level prepared statements
/// outlive the transaction that prepared them and go with the connection.
#[derive(Default)]
pub(crate) struct Stmts(std::collections::HashMap<&'static str, postgres::Statement>);

impl Stmts {
    /// `sql`, prepared on `c`'s connection the first time.
    pub(crate) fn get(
        &mut self,
        c: &mut impl postgres::GenericClient,
        sql: &'static str,
    ) -> Result<postgres::Statement> {
        if let Some(st) = self.0.get(sql) {
            return Ok(st.clone());
        }
        let st = c.prepare(sql).map_err(db)?;
        self.0.insert(sql, st.clone());
        Ok(st)
    }
}

impl ChunkTx for PgChunks<'_, '_> {
    fn tail(&mut self, run: i64, key: i64, limit: usize) -> Result<Vec<(i64, i64)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.query(
            "SELECT seq, n FROM metric_chunks WHERE run_id = $1 AND key_id = $2 ORDER BY seq DESC LIMIT $3",
            &[&run, &key, &limit],
        )?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn read(&mut self, run: i64, key: i64, first: i64, last: i64, out: &mut Points) -> Result<()> {
        let rows = self.query(
            "SELECT data FROM metric_chunks WHERE run_id = $1 AND key_id = $2 AND seq BETWEEN $3 AND $4 ORDER BY seq",
            &[&run, &key, &first, &last],
        )?;
        for r in rows {
            codec::decode_into(r.get::<_, &[u8]>(0), out)?;
        }
        Ok(())
    }

    fn delete(&mut self, run: i64, key: i64, first: i64, last: i64) -> Result<()> {
        self.execute(
            "DELETE FROM metric_chunks WHERE run_id = $1 AND key_id = $2 AND seq BETWEEN $3 AND $4",
            &[&run, &key, &first, &last],
        )?;
        Ok(())
    }

    fn put(&mut self, run: i64, key: i64, c: &ChunkRow) -> Result<()> {
        self.execute(
            "INSERT INTO metric_chunks(run_id, key_id, seq, n, step_min, step_max, vmin, vmax, vlast, data) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (run_id, key_id, seq) DO UPDATE SET n = excluded.n, step_min = excluded.step_min, \
                   step_max = excluded.step_max, vmin = excluded.vmin, vmax = excluded.vmax, \
                   vlast = excluded.vlast, data = excluded.data",
            &[&run, &key, &c.seq, &c.n, &c.step_min, &c.step_max, &c.vmin, &c.vmax, &c.vlast, &c.data],
        )?;
        Ok(())
    }

    fn summary(&mut self, run: i64, key: i64) -> Result<Option<SeriesSummary>> {
        let row = self.query_opt(
            "SELECT count, nan_count, last, last_is_nan, last_step, last_wall_ms, min, max, sum \
                 FROM metric_summaries WHERE run_id = $1 AND key_id = $2",
            &[&run, &key],
        )?;
        Ok(row.map(|r| summary_from(&r, 0)))
    }

    fn put_summary(&mut self, run: i64, key: i64, s: &SeriesSummary) -> Result<()> {
        // As every backend keeps them (`stored_real`): `last_is_nan` says when `last` was NaN.
        let real = chunking::stored_real;
        self.execute(
            "INSERT INTO metric_summaries(run_id, key_id, count, nan_count, last, last_is_nan, last_step, \
                   last_wall_ms, min, max, sum) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (run_id, key_id) DO UPDATE SET count = excluded.count, nan_count = excluded.nan_count, \
                   last = excluded.last, last_is_nan = excluded.last_is_nan, last_step = excluded.last_step, \
                   last_wall_ms = excluded.last_wall_ms, min = excluded.min, max = excluded.max, sum = excluded.sum",
            &[
                &run,
                &key,
                &s.count,
                &s.nan_count,
                &real(s.last),
                &s.last.is_nan(),
                &s.last_step,
                &s.last_wall_ms,
                &s.min.and_then(real),
                &s.max.and_then(real),
                &s.sum.and_then(real),
            ],
        )?;
        Ok(())
    }
}

/// A summary from columns `at..at+9` (count, nan_count, last, last_is_nan, last_step,
/// last_wall_ms, min, max, sum).
fn summary_from(r: &postgres::Row, at: usize) -> SeriesSummary {
    let last: Option<f64> = r.get(at + 2);
    let is_nan: bool = r.get(at + 3);
    SeriesSummary {
        count: r.get(at),
        nan_count: r.get(at + 1),
        last: if is_nan { f64::NAN } else { last.unwrap_or(f64::NAN) },
        last_step: r.get(at + 4),
        last_wall_ms: r.get(at + 5),
        min: r.get(at + 6),
        max: r.get(at + 7),
        sum: r.get(at + 8),
    }
}

impl PgStore {
    /// Id of metric key `name`, interning it on first use (cached: keys are never deleted).
    fn key_id(&mut self, name: &str) -> Result<i64> {
        if let Some(id) = self.existing_key_id(name)? {
            return Ok(id);
        }
        let c = self.client.get_mut();
        c.execute("INSERT INTO metric_keys(name) VALUES ($1) ON CONFLICT (name) DO NOTHING", &[&name]).map_err(db)?;
        let id: i64 = c.query_one("SELECT id FROM metric_keys WHERE name = $1", &[&name]).map_err(db)?.get(0);
        self.key_ids.borrow_mut().insert(name.to_string(), id);
        Ok(id)
    }

    /// Id of metric key `name` if any run ever logged it.
    pub(crate) fn existing_key_id(&self, name: &str) -> Result<Option<i64>> {
        if let Some(&id) = self.key_ids.borrow().get(name) {
            return Ok(Some(id));
        }
        let row =
            self.client.borrow_mut().query_opt("SELECT id FROM metric_keys WHERE name = $1", &[&name]).map_err(db)?;
        let id = row.map(|r| r.get::<_, i64>(0));
        if let Some(id) = id {
            self.key_ids.borrow_mut().insert(name.to_string(), id);
        }
        Ok(id)
    }

    /// Rewrites each series of run `uid` into full chunks (when a run finishes).
    pub(crate) fn compact_run(&mut self, run: i64) -> Result<usize> {
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        let keys: Vec<i64> = tx
            .query(
                "SELECT DISTINCT key_id FROM metric_chunks WHERE run_id = $1 AND n < $2",
                &[&run, &(chunking::CHUNK_POINTS as i64)],
            )
            .map_err(db)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut removed = 0;
        for key in keys {
            removed += chunking::compact_series(&mut PgChunks(&mut tx, self.stmts.get_mut()), run, key)?;
        }
        tx.commit().map_err(db)?;
        Ok(removed)
    }

    /// Runs a read prepared once per connection ([`Stmts`]).
    pub(crate) fn query_prepared(&self, sql: &'static str, args: &[&(dyn ToSql + Sync)]) -> Result<Vec<postgres::Row>> {
        let mut c = self.client.borrow_mut();
        let st = self.stmts.borrow_mut().get(&mut *c, sql)?;
        c.query(&st, args).map_err(db)
    }

    fn key_json_rows(&self, sql: &'static str, uid: &str) -> Result<Vec<(String, serde_json::Value)>> {
        let run = self.run_rowid(uid)?;
        let rows = self.query_prepared(sql, &[&run])?;
        Ok(rows
            .iter()
            .map(|r| {
                let (k, v): (String, String) = (r.get(0), r.get(1));
                (k, serde_json::from_str(&v).unwrap_or(serde_json::Value::String(v)))
            })
            .collect())
    }
}

/// Inserts a param (the SQLite store's rules): `Ok(false)` when the same value was already
/// logged, `Invalid` when a different one was.
fn insert_param(c: &mut PgChunks, run: i64, key: &str, value: &serde_json::Value) -> Result<bool> {
    validate::key("param", key)?;
    validate::param_value(key, value)?;
    let json = value.to_string();
    let old = c
        .query_opt("SELECT value_json FROM params WHERE run_id = $1 AND key = $2", &[&run, &key])?
        .map(|r| r.get::<_, String>(0));
    if let Some(old) = old {
        return if old == json { Ok(false) } else { Err(validate::param_rewrite(key, &old, &json)) };
    }
    let (text, num) = validate::param_text_num(value);
    c.execute(
        "INSERT INTO params(run_id, key, value_json, value_text, value_num) VALUES ($1, $2, $3, $4, $5)",
        &[&run, &key, &json, &text, &num],
    )?;
    Ok(true)
}

impl PgStore {
    /// The one write; `chunks`, when the batch came as codec chunks, one list per series.
    fn log_batch_from(
        &mut self,
        uid: &str,
        batch: &Batch,
        chunks: Option<&[Vec<EncodedChunk>]>,
    ) -> Result<IngestReport> {
        if chunks.is_some_and(|c| c.len() != batch.series.len()) {
            return Err(StoreError::Invalid { what: "batch", why: "one list of chunks per series".into() });
        }
        let run = self.run_rowid(uid)?;
        let mut report = IngestReport::default();
        let key_ids = chunking::series_keys(batch, &mut report, |k| self.key_id(k))?;
        if let Some((writer, _)) = &batch.mark {
            validate::key("writer id", writer)?;
        }
        let beat = batch.heartbeat_ms.unwrap_or_else(|| self.now());
        let mut tx = self.client.get_mut().transaction().map_err(db)?;
        let mut c = PgChunks(&mut tx, self.stmts.get_mut());
        // First, and it locks the run's row: batches of one run are stored one at a time.
        let found =
            c.execute("UPDATE runs SET heartbeat_ms = greatest(heartbeat_ms, $2) WHERE id = $1", &[&run, &beat])?;
        if found == 0 {
            drop(tx);
            self.forget_run(uid);
            return Err(StoreError::RunNotFound(uid.to_string()));
        }
        if let Some((writer, seq)) = &batch.mark {
            let last: Option<i64> = c
                .query_opt("SELECT seq FROM ingest_marks WHERE run_id = $1 AND writer = $2", &[&run, writer])?
                .map(|r| r.get(0));
            if last.is_some_and(|l| l >= *seq) {
                return Ok(IngestReport { duplicate: true, ..IngestReport::default() });
            }
            c.execute(
                "INSERT INTO ingest_marks(run_id, writer, seq) VALUES ($1, $2, $3) \
                 ON CONFLICT (run_id, writer) DO UPDATE SET seq = excluded.seq",
                &[&run, writer, seq],
            )?;
        }
        for (i, (s, key_id)) in batch.series.iter().zip(&key_ids).enumerate() {
            if let Some(key_id) = key_id
                && !s.points.is_empty()
            {
                chunking::append_series_from(&mut c, run, *key_id, &s.points, chunks.map(|c| &c[i][..]))?;
                report.points += s.points.len();
            }
        }
        for (k, v) in &batch.params {
            match insert_param(&mut c, run, k, v) {
                Ok(true) => report.params += 1,
                Ok(false) => {}
                Err(StoreError::Invalid { why, .. }) => {
                    report.rejected.push(Rejected { what: "param".into(), key: k.clone(), reason: why })
                }
                Err(e) => return Err(e),
            }
        }
        let accepted = chunking::accepted_tags_and_summary(batch, &mut report);
        for (k, v) in accepted.tags {
            c.execute(
                "INSERT INTO run_tags(run_id, key, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                &[&run, k, v],
            )?;
        }
        for (k, v) in accepted.summary {
            c.execute(
                "INSERT INTO run_summary(run_id, key, value_json) VALUES ($1, $2, $3) \
                 ON CONFLICT (run_id, key) DO UPDATE SET value_json = excluded.value_json",
                &[&run, k, &v.to_string()],
            )?;
        }
        if !batch.log_lines.is_empty() {
            let mut seq: i64 =
                c.query("SELECT coalesce(max(seq), 0) FROM log_lines WHERE run_id = $1", &[&run])?[0].get(0);
            for l in &batch.log_lines {
                seq += 1;
                c.execute(
                    "INSERT INTO log_lines(run_id, seq, stream, ts_ms, line) VALUES ($1, $2, $3, $4, $5)",
                    &[&run, &seq, &l.stream.as_str(), &l.ts_ms, &validate::log_line(&l.line)],
                )?;
            }
        }
        if report.points > 0 {
            // Live views on other connections learn of the points on commit.
            c.0.batch_execute(crate::changes::NOTIFY).map_err(db)?;
        }
        tx.commit().map_err(db)?;
        Ok(report)
    }
}

impl MetricStore for PgStore {
    fn log_batch(&mut self, uid: &str, batch: &Batch) -> Result<IngestReport> {
        self.log_batch_from(uid, batch, None)
    }

    fn log_chunked_batch(&mut self, uid: &str, batch: &ChunkedBatch) -> Result<IngestReport> {
        self.log_batch_from(uid, &batch.batch, Some(&batch.chunks))
    }

    fn series(&mut self, uid: &str, key: &str, range: StepRange) -> Result<Points> {
        let run = self.run_rowid(uid)?;
        let Some(key_id) = self.existing_key_id(key)? else {
            return Ok(Points::default());
        };
        let c = self.client.get_mut();
        let (lo, hi) = (range.min.unwrap_or(i64::MIN), range.max.unwrap_or(i64::MAX));
        let rows = c
            .query(
                "SELECT data FROM metric_chunks WHERE run_id = $1 AND key_id = $2 AND step_max >= $3 AND step_min <= $4 \
                 ORDER BY seq",
                &[&run, &key_id, &lo, &hi],
            )
            .map_err(db)?;
        let mut out = Points::default();
        for r in rows {
            codec::decode_into(r.get::<_, &[u8]>(0), &mut out)?;
        }
        Ok(chunking::finish_read(out, range))
    }

    fn downsample(&mut self, uid: &str, key: &str, range: StepRange, buckets: usize) -> Result<Vec<Bucket>> {
        let run = self.run_rowid(uid)?;
        let Some(key_id) = self.existing_key_id(key)? else {
            return Ok(Vec::new());
        };
        let c = self.client.get_mut();
        let extent = c
            .query_one(
                "SELECT min(step_min), max(step_max) FROM metric_chunks WHERE run_id = $1 AND key_id = $2",
                &[&run, &key_id],
            )
            .map_err(db)?;
        let (Some(first), Some(last)) = (extent.get::<_, Option<i64>>(0), extent.get::<_, Option<i64>>(1)) else {
            return Ok(Vec::new());
        };
        let (lo, hi) = (range.min.unwrap_or(first), range.max.unwrap_or(last));
        if hi < lo {
            return Ok(Vec::new());
        }
        let mut down = Downsampler::new(lo, hi, range, buckets);
        let rows = c
            .query(
                "SELECT n, step_min, step_max, vmin, vmax, vlast, data FROM metric_chunks \
                 WHERE run_id = $1 AND key_id = $2 AND step_max >= $3 AND step_min <= $4 ORDER BY seq",
                &[&run, &key_id, &lo, &hi],
            )
            .map_err(db)?;
        for r in rows {
            down.add_chunk(r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5), r.get::<_, &[u8]>(6))?;
        }
        Ok(down.finish())
    }

    fn metric_summaries(&self, uid: &str) -> Result<Vec<MetricSummary>> {
        let run = self.run_rowid(uid)?;
        let rows = self.query_prepared(
            "SELECT k.name, s.count, s.nan_count, s.last, s.last_is_nan, s.last_step, s.last_wall_ms, s.min, \
               s.max, s.sum FROM metric_summaries s JOIN metric_keys k ON k.id = s.key_id \
             WHERE s.run_id = $1 ORDER BY k.name",
            &[&run],
        )?;
        Ok(rows
            .iter()
            .map(|r| {
                let s = summary_from(r, 1);
                MetricSummary {
                    key: r.get(0),
                    count: s.count,
                    nan_count: s.nan_count,
                    last: s.last,
                    last_step: s.last_step,
                    last_wall_ms: s.last_wall_ms,
                    min: s.min,
                    max: s.max,
                    sum: s.sum,
                }
            })
            .collect())
    }

    fn params(&self, uid: &str) -> Result<Vec<(String, serde_json::Value)>> {
        self.key_json_rows("SELECT key, value_json FROM params WHERE run_id = $1 ORDER BY key", uid)
    }

    fn summary_values(&self, uid: &str) -> Result<Vec<(String, serde_json::Value)>> {
        self.key_json_rows("SELECT key, value_json FROM run_summary WHERE run_id = $1 ORDER BY key", uid)
    }

    fn log_lines(&self, uid: &str, after: i64, limit: usize) -> Result<Vec<StoredLogLine>> {
        let run = self.run_rowid(uid)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client
            .borrow_mut()
            .query(
                "SELECT seq, stream, ts_ms, line FROM log_lines WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                &[&run, &after, &limit],
            )
            .map_err(db)?;
        Ok(rows
            .iter()
            .map(|r| {
                let stream: String = r.get(1);
                StoredLogLine {
                    seq: r.get(0),
                    line: LogLine {
                        stream: if stream == "stderr" { Stream::Stderr } else { Stream::Stdout },
                        ts_ms: r.get(2),
                        line: r.get(3),
                    },
                }
            })
            .collect())
    }
}
