//! How a series is kept as chunks, for every backend: appending a flush (merging small tail
//! chunks, tiered like an LSM tree), compacting a finished run's series into full chunks, and
//! folding the per-series summary point by point. A backend gives the chunk table's few
//! operations ([`ChunkTx`], inside its write transaction); the algorithm is written once here,
//! so SQLite and PostgreSQL store the same chunks for the same flushes.
//!
//! Merging decodes and re-encodes losslessly: nothing already stored is dropped or replaced by
//! a different point.

use crate::codec::{self, Chunk, Points};
use crate::error::Result;
use crate::model::{Bucket, StepRange};

/// Target number of points per chunk.
pub const CHUNK_POINTS: usize = 4096;

/// Tail chunks merged at once by the tiered compaction.
const MERGE_FANOUT: usize = 8;

/// Size class of a chunk for tiered merging: 1-7 points, 8-63, 64-511, 512-4095.
fn level(n: i64) -> u32 {
    (63 - (n.max(1) as u64).leading_zeros()) / 3
}

/// Running per-series summary, folded point by point.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSummary {
    pub count: i64,
    pub nan_count: i64,
    /// Value at the greatest step (the later-logged on a tie); NaN before any point.
    pub last: f64,
    pub last_step: i64,
    pub last_wall_ms: i64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub sum: Option<f64>,
}

impl SeriesSummary {
    pub fn empty() -> SeriesSummary {
        SeriesSummary {
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
    pub fn add(&mut self, step: i64, wall: i64, v: f64) {
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

/// A value as summary columns keep it, in every backend alike: NaN as none (a flag says when
/// the last value was NaN) and -0.0 as 0.0 (SQLite stores whole REAL values as integers, which
/// have no negative zero). The points themselves keep every bit.
pub fn stored_real(v: f64) -> Option<f64> {
    if v.is_nan() {
        None
    } else if v == 0.0 {
        Some(0.0)
    } else {
        Some(v)
    }
}

/// The metric keys of `batch`'s series, resolved with `key_id` (a backend's interning), or
/// `None` for a key the rules refuse (the refusal goes into `report`).
pub fn series_keys(
    batch: &crate::Batch,
    report: &mut crate::IngestReport,
    mut key_id: impl FnMut(&str) -> Result<i64>,
) -> Result<Vec<Option<i64>>> {
    let mut out = Vec::with_capacity(batch.series.len());
    for s in &batch.series {
        match crate::validate::key("metric", &s.key) {
            Ok(()) => out.push(Some(key_id(&s.key)?)),
            Err(e) => {
                report.rejected.push(crate::Rejected {
                    what: "metric".into(),
                    key: s.key.clone(),
                    reason: e.to_string(),
                });
                out.push(None);
            }
        }
    }
    Ok(out)
}

/// The tags and summary values of a batch that the rules accept.
pub struct Accepted<'a> {
    pub tags: Vec<&'a (String, String)>,
    pub summary: Vec<&'a (String, serde_json::Value)>,
}

/// The tags and summary values of `batch` the rules accept; the others are refused into
/// `report`. (Params are checked against what is stored, inside the write.)
pub fn accepted_tags_and_summary<'a>(batch: &'a crate::Batch, report: &mut crate::IngestReport) -> Accepted<'a> {
    use crate::validate;
    let mut tags = Vec::new();
    for t in &batch.tags {
        match validate::key("tag", &t.0).and_then(|_| validate::tag_value(&t.0, &t.1)) {
            Ok(()) => tags.push(t),
            Err(e) => {
                report.rejected.push(crate::Rejected { what: "tag".into(), key: t.0.clone(), reason: e.to_string() })
            }
        }
    }
    let mut summary = Vec::new();
    for kv in &batch.summary {
        match validate::key("summary", &kv.0) {
            Ok(()) => summary.push(kv),
            Err(e) => report.rejected.push(crate::Rejected {
                what: "summary".into(),
                key: kv.0.clone(),
                reason: e.to_string(),
            }),
        }
    }
    Accepted { tags, summary }
}

/// One chunk row: its number in the series, point count, step extent, value summary (NaN
/// kept out of min/max; `vlast` `None` when the last value is NaN) and encoded points.
#[derive(Debug, Clone)]
pub struct ChunkRow {
    pub seq: i64,
    pub n: i64,
    pub step_min: i64,
    pub step_max: i64,
    pub vmin: Option<f64>,
    pub vmax: Option<f64>,
    pub vlast: Option<f64>,
    pub data: Vec<u8>,
}

/// The chunk table of one backend, inside its open write transaction.
pub trait ChunkTx {
    /// The newest chunks of series (run, key), newest first: (seq, point count), at most `limit`.
    fn tail(&mut self, run: i64, key: i64, limit: usize) -> Result<Vec<(i64, i64)>>;
    /// Decodes chunks `first..=last` (by seq) of the series into `out`, in order.
    fn read(&mut self, run: i64, key: i64, first: i64, last: i64, out: &mut Points) -> Result<()>;
    /// Deletes chunks `first..=last` of the series.
    fn delete(&mut self, run: i64, key: i64, first: i64, last: i64) -> Result<()>;
    /// Writes a chunk, replacing one of that seq.
    fn put(&mut self, run: i64, key: i64, chunk: &ChunkRow) -> Result<()>;
    /// The series' summary, if it has one.
    fn summary(&mut self, run: i64, key: i64) -> Result<Option<SeriesSummary>>;
    fn put_summary(&mut self, run: i64, key: i64, s: &SeriesSummary) -> Result<()>;
}

/// Appends `new` to series (run, key) and folds it into the series summary.
///
/// Write amplification stays bounded both for big flushes and for a slow loop that flushes a
/// few points at a time: a small tail chunk is merged with new points when they outnumber it
/// (rewriting at most as much as is added); otherwise new points go into new chunks, and
/// whenever the last [`MERGE_FANOUT`] chunks are of one size class they are merged into one,
/// so each point is rewritten about once per size class.
pub fn append_series(tx: &mut dyn ChunkTx, run: i64, key: i64, new: &Points) -> Result<()> {
    append_series_from(tx, run, key, new, None)
}

/// A chunk as it came over the wire: its encoded bytes (checked by
/// [`codec::decode_checked`]) and its point count. At most [`CHUNK_POINTS`] points.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedChunk {
    pub n: usize,
    pub data: Vec<u8>,
}

/// [`append_series`] for points that came already encoded: `chunks` hold exactly `new`, in
/// order, each at most [`CHUNK_POINTS`] points. They are stored byte for byte wherever the
/// algorithm writes new chunks; the tail is merged (decoded and encoded again, the codec
/// having no way to join two chunks' blocks) only when all of `new` is less than one full
/// chunk, so a remote writer that flushes at least [`CHUNK_POINTS`] points of a series at a
/// time has its chunks stored as it made them.
pub fn append_series_from(
    tx: &mut dyn ChunkTx,
    run: i64,
    key: i64,
    new: &Points,
    chunks: Option<&[EncodedChunk]>,
) -> Result<()> {
    let merge_small = chunks.is_none() || new.len() < CHUNK_POINTS;
    match tx.tail(run, key, 1)?.first().copied() {
        Some((tail_seq, n)) if (n as usize) < CHUNK_POINTS && n as usize <= new.len() && merge_small => {
            let mut all = Points::default();
            tx.read(run, key, tail_seq, tail_seq, &mut all)?;
            all.extend_from(new, 0..new.len());
            write_chunks(tx, run, key, tail_seq, &all)?;
        }
        Some((tail_seq, _)) => {
            match chunks {
                Some(chunks) => put_encoded(tx, run, key, tail_seq + 1, new, chunks)?,
                None => write_chunks(tx, run, key, tail_seq + 1, new)?,
            }
            compact_tail(tx, run, key)?;
        }
        None => match chunks {
            Some(chunks) => put_encoded(tx, run, key, 0, new, chunks)?,
            None => write_chunks(tx, run, key, 0, new)?,
        },
    }
    let mut s = tx.summary(run, key)?.unwrap_or_else(SeriesSummary::empty);
    for i in 0..new.len() {
        s.add(new.steps[i], new.wall_ms[i], new.values[i]);
    }
    tx.put_summary(run, key, &s)
}

/// Rewrites series (run, key) so that each run of consecutive small chunks becomes full
/// chunks (done when a run finishes; reads are fastest on full chunks). Returns chunks removed.
pub fn compact_series(tx: &mut dyn ChunkTx, run: i64, key: i64) -> Result<usize> {
    let mut chunks = tx.tail(run, key, usize::MAX)?;
    chunks.reverse();
    let mut removed = 0;
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
            let mut merged = Points::default();
            tx.read(run, key, chunks[i].0, chunks[j].0, &mut merged)?;
            tx.delete(run, key, chunks[i].0, chunks[j].0)?;
            write_chunks(tx, run, key, chunks[i].0, &merged)?;
            removed += j - i + 1 - merged.len().div_ceil(CHUNK_POINTS);
        }
        i = j + 1;
    }
    Ok(removed)
}

/// Merges the last [`MERGE_FANOUT`] chunks while they are small and of one size class.
fn compact_tail(tx: &mut dyn ChunkTx, run: i64, key: i64) -> Result<()> {
    loop {
        let tail = tx.tail(run, key, MERGE_FANOUT)?;
        let Some(&(last_seq, last_n)) = tail.first() else { return Ok(()) };
        let same_class = tail.iter().all(|&(_, n)| (n as usize) < CHUNK_POINTS && level(n) == level(last_n));
        if tail.len() < MERGE_FANOUT || !same_class {
            return Ok(());
        }
        let first_seq = tail[tail.len() - 1].0;
        let mut merged = Points::default();
        tx.read(run, key, first_seq, last_seq, &mut merged)?;
        tx.delete(run, key, first_seq, last_seq)?;
        write_chunks(tx, run, key, first_seq, &merged)?;
    }
}

/// Writes `points` as chunks of at most [`CHUNK_POINTS`], numbered from `seq`.
fn write_chunks(tx: &mut dyn ChunkTx, run: i64, key: i64, mut seq: i64, points: &Points) -> Result<()> {
    let mut start = 0;
    while start < points.len() {
        let end = (start + CHUNK_POINTS).min(points.len());
        tx.put(run, key, &chunk_row(seq, points, start..end, codec::encode(points, start..end)))?;
        seq += 1;
        start = end;
    }
    Ok(())
}

/// Writes already encoded `chunks` (holding `points`, in order) as they are, numbered from `seq`.
fn put_encoded(
    tx: &mut dyn ChunkTx,
    run: i64,
    key: i64,
    mut seq: i64,
    points: &Points,
    chunks: &[EncodedChunk],
) -> Result<()> {
    let total: usize = chunks.iter().map(|c| c.n).sum();
    if total != points.len() || chunks.iter().any(|c| c.n == 0 || c.n > CHUNK_POINTS) {
        return Err(crate::StoreError::invalid("batch", "encoded chunks do not match their points"));
    }
    let mut start = 0;
    for c in chunks {
        tx.put(run, key, &chunk_row(seq, points, start..start + c.n, c.data.clone()))?;
        seq += 1;
        start += c.n;
    }
    Ok(())
}

/// The row of a chunk holding `points[range]`, encoded as `data`.
fn chunk_row(seq: i64, points: &Points, range: std::ops::Range<usize>, data: Vec<u8>) -> ChunkRow {
    let mut s = SeriesSummary::empty();
    let (mut step_min, mut step_max) = (i64::MAX, i64::MIN);
    for i in range.clone() {
        let step = points.steps[i];
        step_min = step_min.min(step);
        step_max = step_max.max(step);
        s.add(step, points.wall_ms[i], points.values[i]);
    }
    ChunkRow {
        seq,
        n: range.len() as i64,
        step_min,
        step_max,
        vmin: s.min.and_then(stored_real),
        vmax: s.max.and_then(stored_real),
        vlast: stored_real(s.last),
        data,
    }
}

/// A series' points as read back: only those in `range`, in step order (stable: points of one
/// step keep their logging order).
pub fn finish_read(p: Points, range: crate::StepRange) -> Points {
    let p = if range == crate::StepRange::ALL {
        p
    } else {
        let mut out = Points::with_capacity(p.len());
        for i in 0..p.len() {
            if range.contains(p.steps[i]) {
                out.push(p.steps[i], p.wall_ms[i], p.values[i]);
            }
        }
        out
    };
    if !p.steps.windows(2).any(|w| w[1] < w[0]) {
        return p;
    }
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by_key(|&i| p.steps[i]);
    let mut out = Points::with_capacity(p.len());
    for i in idx {
        out.push(p.steps[i], p.wall_ms[i], p.values[i]);
    }
    out
}

/// Downsampling a series to equal-width step buckets over `[lo, hi]`, fed its chunk rows in
/// order: a chunk, or a block of a chunk (see [`codec`]), that falls entirely inside one
/// bucket is folded from its stored summary without being decoded, so only the blocks
/// straddling a bucket edge are decoded. Keeps per bucket the count, min, max (NaN ignored)
/// and the value at the last step, so no extreme is hidden.
pub struct Downsampler {
    lo: i64,
    hi: i64,
    range: StepRange,
    index: BucketIndex,
    acc: Vec<Acc>,
}

impl Downsampler {
    /// `buckets` (at least 1) over `[lo, hi]` (`lo <= hi`), keeping only points in `range`.
    pub fn new(lo: i64, hi: i64, range: StepRange, buckets: usize) -> Downsampler {
        let buckets = buckets.max(1);
        Downsampler { lo, hi, range, index: BucketIndex::new(lo, hi, buckets), acc: vec![Acc::EMPTY; buckets] }
    }

    /// Folds one chunk row: its point count, step extent, summary (`vlast` `None` = NaN) and
    /// encoded points.
    #[allow(clippy::too_many_arguments)]
    pub fn add_chunk(
        &mut self,
        n: i64,
        step_min: i64,
        step_max: i64,
        vmin: Option<f64>,
        vmax: Option<f64>,
        vlast: Option<f64>,
        data: &[u8],
    ) -> Result<()> {
        let (lo, hi, range) = (self.lo, self.hi, self.range);
        let index = &self.index;
        if range.contains(step_min) && range.contains(step_max) && index.of(step_min) == index.of(step_max) {
            // The whole chunk is in one bucket: its row summary is enough.
            self.acc[index.of(step_min)].add_summary(
                n as u64,
                step_min,
                step_max,
                vmin,
                vmax,
                vlast.unwrap_or(f64::NAN),
            );
            return Ok(());
        }
        let chunk = Chunk::parse(data)?;
        for (b, m) in chunk.blocks.iter().enumerate() {
            if m.step_max < lo || m.step_min > hi {
                continue;
            }
            if range.contains(m.step_min) && range.contains(m.step_max) && index.of(m.step_min) == index.of(m.step_max)
            {
                self.acc[index.of(m.step_min)].add_summary(
                    m.count as u64,
                    m.step_min,
                    m.step_max,
                    m.min,
                    m.max,
                    m.last,
                );
            } else {
                let acc = &mut self.acc;
                chunk.decode_block_steps_values(b, |step, v| {
                    if step >= lo && step <= hi {
                        acc[index.of(step)].add_point(step, v);
                    }
                })?;
            }
        }
        Ok(())
    }

    /// The non-empty buckets, in step order.
    pub fn finish(self) -> Vec<Bucket> {
        self.acc.into_iter().filter_map(Acc::bucket).collect()
    }
}

/// Maps a step to its bucket: `(step - lo) * buckets / (hi - lo + 1)`, in 64-bit arithmetic
/// whenever that cannot overflow.
struct BucketIndex {
    lo: i64,
    span: u128,
    buckets: u128,
    fast: bool,
}

impl BucketIndex {
    fn new(lo: i64, hi: i64, buckets: usize) -> BucketIndex {
        let span = (hi as i128 - lo as i128 + 1) as u128;
        let fast = span.saturating_mul(buckets as u128) <= u64::MAX as u128;
        BucketIndex { lo, span, buckets: buckets as u128, fast }
    }

    #[inline]
    fn of(&self, step: i64) -> usize {
        let off = step.wrapping_sub(self.lo) as u64;
        if self.fast {
            (off * self.buckets as u64 / self.span as u64) as usize
        } else {
            (off as u128 * self.buckets / self.span) as usize
        }
    }
}

/// A bucket being filled.
#[derive(Clone, Copy)]
struct Acc {
    count: u64,
    first_step: i64,
    last_step: i64,
    /// Whether any non-NaN value was seen (min/max are meaningless until then).
    valued: bool,
    min: f64,
    max: f64,
    last: f64,
}

impl Acc {
    const EMPTY: Acc = Acc {
        count: 0,
        first_step: i64::MAX,
        last_step: i64::MIN,
        valued: false,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        last: f64::NAN,
    };

    /// Points and summaries arrive in logging order, so on equal last steps the later one
    /// wins, as in the series summary.
    #[inline]
    fn add_point(&mut self, step: i64, v: f64) {
        self.count += 1;
        self.first_step = self.first_step.min(step);
        if step >= self.last_step {
            self.last_step = step;
            self.last = v;
        }
        if !v.is_nan() {
            self.valued = true;
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
    }

    #[inline]
    fn add_summary(&mut self, count: u64, step_min: i64, step_max: i64, min: Option<f64>, max: Option<f64>, last: f64) {
        self.count += count;
        self.first_step = self.first_step.min(step_min);
        if step_max >= self.last_step {
            self.last_step = step_max;
            self.last = last;
        }
        if let (Some(lo), Some(hi)) = (min, max) {
            self.valued = true;
            self.min = self.min.min(lo);
            self.max = self.max.max(hi);
        }
    }

    fn bucket(self) -> Option<Bucket> {
        (self.count > 0).then(|| Bucket {
            first_step: self.first_step,
            last_step: self.last_step,
            count: self.count,
            min: self.valued.then_some(self.min),
            max: self.valued.then_some(self.max),
            last: self.last,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One series' chunk table in memory.
    #[derive(Default)]
    struct Mem {
        rows: std::collections::BTreeMap<i64, ChunkRow>,
        summary: Option<SeriesSummary>,
    }

    impl ChunkTx for Mem {
        fn tail(&mut self, _: i64, _: i64, limit: usize) -> Result<Vec<(i64, i64)>> {
            Ok(self.rows.values().rev().take(limit).map(|r| (r.seq, r.n)).collect())
        }
        fn read(&mut self, _: i64, _: i64, first: i64, last: i64, out: &mut Points) -> Result<()> {
            for r in self.rows.range(first..=last).map(|(_, r)| r) {
                codec::decode_into(&r.data, out)?;
            }
            Ok(())
        }
        fn delete(&mut self, _: i64, _: i64, first: i64, last: i64) -> Result<()> {
            self.rows.retain(|s, _| !(first..=last).contains(s));
            Ok(())
        }
        fn put(&mut self, _: i64, _: i64, chunk: &ChunkRow) -> Result<()> {
            self.rows.insert(chunk.seq, chunk.clone());
            Ok(())
        }
        fn summary(&mut self, _: i64, _: i64) -> Result<Option<SeriesSummary>> {
            Ok(self.summary.clone())
        }
        fn put_summary(&mut self, _: i64, _: i64, s: &SeriesSummary) -> Result<()> {
            self.summary = Some(s.clone());
            Ok(())
        }
    }

    fn points(from: i64, n: i64) -> Points {
        let mut p = Points::default();
        for i in from..from + n {
            p.push(i, 1000 + i, if i % 5 == 0 { f64::NAN } else { (i as f64).cos() });
        }
        p
    }

    fn encoded(p: &Points) -> Vec<EncodedChunk> {
        (0..p.len())
            .step_by(CHUNK_POINTS)
            .map(|s| {
                let e = (s + CHUNK_POINTS).min(p.len());
                EncodedChunk { n: e - s, data: codec::encode(p, s..e) }
            })
            .collect()
    }

    #[test]
    fn encoded_chunks_are_stored_as_they_came_and_read_back_like_points() {
        let (mut by_chunks, mut by_points) = (Mem::default(), Mem::default());
        let mut all = Points::default();
        let mut from = 0;
        // Big flushes (stored as sent, a partial tail left unmerged), then small ones (merged).
        for n in [10_000, 5_000, 4_096, 100, 300, 7] {
            let p = points(from, n);
            let chunks = encoded(&p);
            append_series_from(&mut by_chunks, 1, 1, &p, Some(&chunks)).unwrap();
            append_series(&mut by_points, 1, 1, &p).unwrap();
            if n >= CHUNK_POINTS as i64 {
                let stored: Vec<&Vec<u8>> = by_chunks.rows.values().rev().take(chunks.len()).map(|r| &r.data).collect();
                let sent: Vec<&Vec<u8>> = chunks.iter().rev().map(|c| &c.data).collect();
                assert_eq!(stored, sent, "a flush of {n} is stored byte for byte");
            }
            all.extend_from(&p, 0..p.len());
            from += n;
        }
        let mut back = Points::default();
        by_chunks.read(1, 1, 0, i64::MAX, &mut back).unwrap();
        assert!(back.bit_eq(&all));
        assert_eq!(by_chunks.summary.as_ref().map(|s| (s.count, s.nan_count)), Some((all.len() as i64, 3901)));
        let (a, b) = (by_chunks.summary.clone().unwrap(), by_points.summary.unwrap());
        assert_eq!((a.last.to_bits(), a.min, a.max, a.sum), (b.last.to_bits(), b.min, b.max, b.sum));
        // Rows carry the same summaries whichever way they came.
        for r in by_chunks.rows.values() {
            let p = codec::decode(&r.data).unwrap();
            let want = chunk_row(r.seq, &p, 0..p.len(), Vec::new());
            assert_eq!(
                (r.n, r.step_min, r.step_max, r.vmin, r.vmax),
                (want.n, want.step_min, want.step_max, want.vmin, want.vmax)
            );
        }
        let wrong = [EncodedChunk { n: 3, data: codec::encode(&points(0, 3), 0..3) }];
        assert!(append_series_from(&mut by_chunks, 1, 1, &points(0, 4), Some(&wrong)).is_err());
    }
}
