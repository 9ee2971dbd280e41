//! Reading metric series: whole, a step range, or downsampled to N step buckets.
//!
//! Points come back ordered by step; points logged at the same step keep their logging order.
//! Downsampling keeps per bucket the count, min, max (NaN ignored) and the value at the last
//! step, so no extreme is hidden; a chunk that falls entirely inside one bucket is folded from
//! its stored min/max/last without being decoded.

use crate::codec::{self, Points};
use crate::error::Result;
use crate::model::{Bucket, StepRange};
use crate::Store;

/// One stored chunk's row.
struct ChunkRow {
    n: i64,
    step_min: i64,
    step_max: i64,
    vmin: Option<f64>,
    vmax: Option<f64>,
    /// NULL means NaN (a chunk always has a last value).
    vlast: Option<f64>,
    data: Vec<u8>,
}

impl Store {
    /// Metric keys logged in run `uid`, sorted.
    pub fn metric_keys(&self, uid: &str) -> Result<Vec<String>> {
        Ok(self.metric_summaries(uid)?.into_iter().map(|s| s.key).collect())
    }

    fn chunks(&mut self, uid: &str, key: &str, range: StepRange, with_data: bool) -> Result<Vec<ChunkRow>> {
        let run = self.run_rowid(uid)?;
        let Some(key_id) = self.existing_key_id(key)? else {
            return Ok(Vec::new());
        };
        let data_col = if with_data { "data" } else { "x''" };
        let sql = format!(
            "SELECT n, step_min, step_max, vmin, vmax, vlast, {data_col} FROM metric_chunks \
             WHERE run_id = ?1 AND key_id = ?2 AND step_max >= ?3 AND step_min <= ?4 ORDER BY seq"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            rusqlite::params![run, key_id, range.min.unwrap_or(i64::MIN), range.max.unwrap_or(i64::MAX)],
            |r| {
                Ok(ChunkRow {
                    n: r.get(0)?,
                    step_min: r.get(1)?,
                    step_max: r.get(2)?,
                    vmin: r.get(3)?,
                    vmax: r.get(4)?,
                    vlast: r.get(5)?,
                    data: r.get(6)?,
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every point of series `key` in run `uid` within `range`, ordered by step (stable).
    /// An unknown key is an empty series.
    pub fn series(&mut self, uid: &str, key: &str, range: StepRange) -> Result<Points> {
        let chunks = self.chunks(uid, key, range, true)?;
        let total: usize = chunks.iter().map(|c| c.n as usize).sum();
        let mut out = Points::with_capacity(total);
        let mut sorted = true;
        let mut prev_max = i64::MIN;
        for c in &chunks {
            if c.step_min < prev_max {
                sorted = false;
            }
            prev_max = prev_max.max(c.step_max);
            let before = out.len();
            codec::decode_into(&c.data, &mut out)?;
            if sorted && out.steps[before..].windows(2).any(|w| w[1] < w[0]) {
                sorted = false;
            }
        }
        if range != StepRange::ALL {
            out = filter_range(out, range);
        }
        if !sorted {
            out = stable_sort_by_step(out);
        }
        Ok(out)
    }

    /// Series `key` of run `uid` reduced to at most `buckets` equal-width step buckets over
    /// `range` (or the series' own step extent). Empty buckets are left out.
    pub fn downsample(&mut self, uid: &str, key: &str, range: StepRange, buckets: usize) -> Result<Vec<Bucket>> {
        let buckets = buckets.max(1);
        let chunks = self.chunks(uid, key, range, false)?;
        if chunks.is_empty() {
            return Ok(Vec::new());
        }
        let lo = range.min.unwrap_or_else(|| chunks.iter().map(|c| c.step_min).min().unwrap_or(0));
        let hi = range.max.unwrap_or_else(|| chunks.iter().map(|c| c.step_max).max().unwrap_or(0));
        let span = (hi as i128 - lo as i128 + 1).max(1) as u128;
        let index = |step: i64| -> usize { (((step as i128 - lo as i128) as u128 * buckets as u128) / span) as usize };
        let mut acc: Vec<Option<Bucket>> = vec![None; buckets];
        let mut need_decode = Vec::new();
        for (i, c) in chunks.iter().enumerate() {
            let whole = range.contains(c.step_min) && range.contains(c.step_max);
            if whole && index(c.step_min) == index(c.step_max) {
                let b = Bucket {
                    first_step: c.step_min,
                    last_step: c.step_max,
                    count: c.n as u64,
                    min: c.vmin,
                    max: c.vmax,
                    last: c.vlast.unwrap_or(f64::NAN),
                };
                merge(&mut acc[index(c.step_min)], b);
            } else {
                need_decode.push(i);
            }
        }
        if !need_decode.is_empty() {
            let full = self.chunks(uid, key, range, true)?;
            let mut pts = Points::default();
            for i in need_decode {
                pts.steps.clear();
                pts.wall_ms.clear();
                pts.values.clear();
                codec::decode_into(&full[i].data, &mut pts)?;
                for (&step, &v) in pts.steps.iter().zip(&pts.values) {
                    if range.contains(step) {
                        let ok = (!v.is_nan()).then_some(v);
                        merge(
                            &mut acc[index(step)],
                            Bucket { first_step: step, last_step: step, count: 1, min: ok, max: ok, last: v },
                        );
                    }
                }
            }
        }
        Ok(acc.into_iter().flatten().collect())
    }
}

/// Folds `b` into bucket `slot`. Chunks and points arrive in logging order, so on equal
/// last steps the later one wins, as in the series summary.
#[inline]
fn merge(slot: &mut Option<Bucket>, b: Bucket) {
    match slot {
        None => *slot = Some(b),
        Some(a) => {
            a.first_step = a.first_step.min(b.first_step);
            if b.last_step >= a.last_step {
                a.last_step = b.last_step;
                a.last = b.last;
            }
            a.count += b.count;
            a.min = match (a.min, b.min) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, y) => x.or(y),
            };
            a.max = match (a.max, b.max) {
                (Some(x), Some(y)) => Some(x.max(y)),
                (x, y) => x.or(y),
            };
        }
    }
}

fn filter_range(p: Points, range: StepRange) -> Points {
    let mut out = Points::with_capacity(p.len());
    for i in 0..p.len() {
        if range.contains(p.steps[i]) {
            out.push(p.steps[i], p.wall_ms[i], p.values[i]);
        }
    }
    out
}

fn stable_sort_by_step(p: Points) -> Points {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by_key(|&i| p.steps[i]);
    let mut out = Points::with_capacity(p.len());
    for i in idx {
        out.push(p.steps[i], p.wall_ms[i], p.values[i]);
    }
    out
}
