//! Reading metric series: whole, a step range, or downsampled to N step buckets.
//!
//! Points come back ordered by step; points logged at the same step keep their logging order.
//! Whole reads decode chunks on several threads into one preallocated output. Downsampling
//! keeps per bucket the count, min, max (NaN ignored) and the value at the last step, so no
//! extreme is hidden; a chunk, or a block of a chunk (see [`codec`]), that falls entirely
//! inside one bucket is folded from its stored summary without being decoded, so only the
//! blocks straddling a bucket edge are decoded.

use rusqlite::OptionalExtension;

use crate::Store;
use crate::chunking::Downsampler;
use crate::codec::{Chunk, Points};
use crate::error::{Result, StoreError};
use crate::model::{Bucket, StepRange};

/// One stored chunk's row (with its blob).
struct ChunkRow {
    data: Vec<u8>,
}

/// Below this many points a whole read decodes on the calling thread only.
const PARALLEL_MIN_POINTS: usize = 64 * 1024;

impl Store {
    /// Metric keys logged in run `uid`, sorted.
    pub fn metric_keys(&self, uid: &str) -> Result<Vec<String>> {
        Ok(self.metric_summaries(uid)?.into_iter().map(|s| s.key).collect())
    }

    fn chunk_rows(&mut self, uid: &str, key: &str, range: StepRange) -> Result<Vec<ChunkRow>> {
        let run = self.run_rowid(uid)?;
        let Some(key_id) = self.existing_key_id(key)? else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT data FROM metric_chunks WHERE run_id = ?1 AND key_id = ?2 AND step_max >= ?3 AND step_min <= ?4 ORDER BY seq",
        )?;
        let rows = stmt.query_map(
            rusqlite::params![run, key_id, range.min.unwrap_or(i64::MIN), range.max.unwrap_or(i64::MAX)],
            |r| Ok(ChunkRow { data: r.get(0)? }),
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every point of series `key` in run `uid` within `range`, ordered by step (stable).
    /// An unknown key is an empty series.
    pub fn series(&mut self, uid: &str, key: &str, range: StepRange) -> Result<Points> {
        let rows = self.chunk_rows(uid, key, range)?;
        let chunks = rows.iter().map(|r| Chunk::parse(&r.data)).collect::<Result<Vec<_>>>()?;
        let total: usize = chunks.iter().map(|c| c.len).sum();
        let mut out = Points { steps: column(total), wall_ms: column(total), values: column(total) };
        decode_parallel(&chunks, &mut out)?;
        Ok(crate::chunking::finish_read(out, range))
    }

    /// Series `key` of run `uid` reduced to at most `buckets` equal-width step buckets over
    /// `range` (or the series' own step extent). Empty buckets are left out.
    pub fn downsample(&mut self, uid: &str, key: &str, range: StepRange, buckets: usize) -> Result<Vec<Bucket>> {
        let buckets = buckets.max(1);
        let run = self.run_rowid(uid)?;
        let Some(key_id) = self.existing_key_id(key)? else {
            return Ok(Vec::new());
        };
        let extent: Option<(i64, i64)> = self
            .conn
            .prepare_cached("SELECT min(step_min), max(step_max) FROM metric_chunks WHERE run_id = ?1 AND key_id = ?2")?
            .query_row([run, key_id], |r| Ok(r.get::<_, Option<i64>>(0)?.zip(r.get::<_, Option<i64>>(1)?)))
            .optional()?
            .flatten();
        let Some((first, last)) = extent else {
            return Ok(Vec::new());
        };
        let lo = range.min.unwrap_or(first);
        let hi = range.max.unwrap_or(last);
        if hi < lo {
            return Ok(Vec::new());
        }
        let mut down = Downsampler::new(lo, hi, range, buckets);
        let mut stmt = self.conn.prepare_cached(
            "SELECT n, step_min, step_max, vmin, vmax, vlast, data FROM metric_chunks \
             WHERE run_id = ?1 AND key_id = ?2 AND step_max >= ?3 AND step_min <= ?4 ORDER BY seq",
        )?;
        let mut rows = stmt.query(rusqlite::params![run, key_id, lo, hi])?;
        while let Some(row) = rows.next()? {
            let blob = row.get_ref(6)?.as_blob().map_err(rusqlite::Error::from)?;
            down.add_chunk(row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, blob)?;
        }
        Ok(down.finish())
    }
}

/// A zeroed output column of `n` values. Big columns ask for transparent huge pages first:
/// faulting in a million points' worth of 4 KiB pages one by one costs more than decoding them.
fn column<T: Copy + Default>(n: usize) -> Vec<T> {
    let mut v: Vec<T> = Vec::with_capacity(n);
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let bytes = n * std::mem::size_of::<T>();
        if bytes >= 2 * HUGE {
            let start = (v.as_ptr() as usize).next_multiple_of(HUGE);
            let end = (v.as_ptr() as usize + bytes) / HUGE * HUGE;
            if end > start {
                // SAFETY: the range lies inside `v`'s allocation; MADV_HUGEPAGE only changes how
                // the kernel backs those pages and is harmless if refused.
                unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
            }
        }
    }
    v.resize(n, T::default());
    v
}

/// Decodes `chunks` back to back into `out` (already sized), on up to a few threads.
fn decode_parallel(chunks: &[Chunk<'_>], out: &mut Points) -> Result<()> {
    let total = out.len();
    let threads = if total < PARALLEL_MIN_POINTS {
        1
    } else {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(8)
    };
    // Cut the outputs into one slice triple per chunk, then the chunks into `threads` groups
    // of about equal point counts.
    let mut parts = Vec::with_capacity(chunks.len());
    let (mut st, mut wa, mut va) = (&mut out.steps[..], &mut out.wall_ms[..], &mut out.values[..]);
    for c in chunks {
        let (a, rest_s) = std::mem::take(&mut st).split_at_mut(c.len);
        let (b, rest_w) = std::mem::take(&mut wa).split_at_mut(c.len);
        let (d, rest_v) = std::mem::take(&mut va).split_at_mut(c.len);
        parts.push((c, a, b, d));
        (st, wa, va) = (rest_s, rest_w, rest_v);
    }
    if threads <= 1 {
        for (c, a, b, d) in parts {
            c.decode_to_slices(a, b, d)?;
        }
        return Ok(());
    }
    let per = total.div_ceil(threads);
    let mut groups: Vec<Vec<_>> = vec![Vec::new()];
    let mut in_group = 0;
    for p in parts {
        if in_group >= per {
            groups.push(Vec::new());
            in_group = 0;
        }
        in_group += p.0.len;
        if let Some(g) = groups.last_mut() {
            g.push(p);
        }
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .into_iter()
            .map(|g| {
                scope.spawn(move || -> Result<()> {
                    for (c, a, b, d) in g {
                        c.decode_to_slices(a, b, d)?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles.into_iter().try_for_each(|h| {
            h.join().unwrap_or_else(|_| Err(StoreError::CorruptChunk("decoder thread panicked".into())))
        })
    })
}
