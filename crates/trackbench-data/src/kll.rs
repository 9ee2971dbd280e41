//! A KLL quantile sketch over finite `f64` values, written here rather than taken from
//! `datasketches` (see the crate doc for the measurement behind that choice).
//!
//! Karnin, Lang and Liberty's compactor hierarchy, laid out as the Apache DataSketches
//! implementations lay it out: level `h` holds items of weight `2^h`, level 0 unsorted and every
//! other level sorted; a level's capacity is `max(8, ceil(k (2/3)^(depth)))` where depth counts
//! from the top level; when the sketch holds more than the sum of the capacities, the lowest
//! over-full level is sorted and every other item (even or odd positions, chosen by a coin)
//! moves up one level with twice the weight. Two differences from the library: the coin comes
//! from a SplitMix64 state kept in the sketch and seeded with a constant, so the same values in
//! the same order give the same sketch (and the same bytes) every time; and the retained items
//! with their weights are public ([`Kll::weighted`]), which is what the drift tests need to walk
//! two CDFs together.
//!
//! Accuracy: DataSketches' empirical 99%-confidence bound on the normalized rank error,
//! `2.296 / k^0.9723` for ranks and `2.446 / k^0.9433` for the mass of an interval
//! ([`Kll::rank_error`], [`Kll::pmf_error`]); `k = 200` gives 1.33% and 1.65%.
//!
//! Items above level 0 are rounded to `f32` as they are promoted (see `to_f32`), as the float
//! KLL sketches of DataSketches and whylogs hold them; level 0, and so a sketch that never
//! compacted, keeps the data's own values.

use serde::{Deserialize, Serialize};

/// The smallest capacity of any level, DataSketches' `m`.
const MIN_LEVEL_CAPACITY: usize = 8;

/// Values level 0 gathers before [`Kll::update`] compacts.
pub const BATCH: usize = 1024;

/// A mergeable quantile sketch of finite `f64` values.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Kll {
    k: u16,
    /// The smallest `k` merged in; the error bound follows it.
    min_k: u16,
    n: u64,
    /// `levels[h]`: items of weight `2^h`; level 0 unsorted, the rest sorted ascending.
    #[serde(with = "crate::blob::f64_levels")]
    levels: Vec<Vec<f64>>,
    rng: u64,
    /// Caches, not state: each level's capacity, their sum, the items held, a merge buffer.
    #[serde(skip)]
    caps: Vec<usize>,
    #[serde(skip)]
    total_cap: usize,
    #[serde(skip)]
    held: usize,
    #[serde(skip)]
    scratch: Vec<f64>,
}

impl PartialEq for Kll {
    fn eq(&self, other: &Self) -> bool {
        (self.k, self.min_k, self.n, self.rng, &self.levels)
            == (other.k, other.min_k, other.n, other.rng, &other.levels)
    }
}

impl Kll {
    /// A new, empty sketch; `k` is clamped to `8..=32768`.
    pub fn new(k: u16) -> Self {
        let k = k.clamp(MIN_LEVEL_CAPACITY as u16, 32768);
        Kll {
            k,
            min_k: k,
            n: 0,
            levels: vec![Vec::new()],
            rng: 0x5EED_0F7B_D47A,
            caps: Vec::new(),
            total_cap: 0,
            held: 0,
            scratch: Vec::new(),
        }
    }

    /// The sketch's `k`.
    pub fn k(&self) -> u16 {
        self.k
    }

    /// How many values went in.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// How many items it holds.
    pub fn retained(&self) -> usize {
        self.levels.iter().map(Vec::len).sum()
    }

    /// Normalized rank error (99% confidence) of a CDF value read from this sketch.
    pub fn rank_error(&self) -> f64 {
        if self.levels.len() == 1 { 0.0 } else { 2.296 / f64::from(self.min_k).powf(0.9723) }
    }

    /// Normalized error (99% confidence) of the mass of an interval read from this sketch.
    pub fn pmf_error(&self) -> f64 {
        if self.levels.len() == 1 { 0.0 } else { 2.446 / f64::from(self.min_k).powf(0.9433) }
    }

    /// Adds one value; the caller passes finite values only.
    ///
    /// Values gather in level 0 up to [`BATCH`] before the sketch compacts (one sort per batch
    /// instead of one per few values: 4x faster, and fewer level-0 compactions only lower the
    /// error); call [`Kll::settle`] before storing the sketch, so its size is its capacity.
    pub fn update(&mut self, x: f64) {
        debug_assert!(x.is_finite());
        self.levels[0].push(x);
        self.n += 1;
        if self.levels[0].len() >= BATCH {
            self.settle();
        }
    }

    /// Recomputes the caches from the levels.
    fn sync(&mut self) {
        let levels = self.levels.len();
        self.caps.clear();
        let mut cap = f64::from(self.k);
        for _ in 0..levels {
            self.caps.push((cap.ceil() as usize).max(MIN_LEVEL_CAPACITY));
            cap *= 2.0 / 3.0;
        }
        self.caps.reverse();
        self.total_cap = self.caps.iter().sum();
        self.held = self.retained();
    }

    /// Compacts until the sketch holds no more than its capacity.
    pub fn settle(&mut self) {
        self.sync();
        while self.held > self.total_cap {
            self.compress();
        }
    }

    /// Adds `count` copies of one value (how exact value counts become a sketch).
    pub fn update_many(&mut self, x: f64, count: u64) {
        // Weight-preserving: place the binary digits of `count` on their levels, then compress.
        let mut c = count;
        let mut h = 0;
        while c > 0 {
            if c & 1 == 1 {
                while self.levels.len() <= h {
                    self.levels.push(Vec::new());
                }
                let level = &mut self.levels[h];
                if h == 0 {
                    level.push(x);
                } else {
                    let x = to_f32(x);
                    let at = level.partition_point(|&v| v < x);
                    level.insert(at, x);
                }
            }
            c >>= 1;
            h += 1;
        }
        self.n += count;
        self.settle();
    }

    /// Merges `other` in: the result summarizes both inputs' values.
    pub fn merge(&mut self, other: &Kll) {
        if other.n == 0 {
            return;
        }
        while self.levels.len() < other.levels.len() {
            self.levels.push(Vec::new());
        }
        self.levels[0].extend_from_slice(&other.levels[0]);
        for (h, items) in other.levels.iter().enumerate().skip(1) {
            let mine = std::mem::take(&mut self.levels[h]);
            self.levels[h] = merge_sorted(&mine, items);
        }
        self.n += other.n;
        if other.levels.len() > 1 {
            self.min_k = self.min_k.min(other.min_k);
        }
        self.rng ^= other.rng.rotate_left(17);
        self.settle();
    }

    /// The retained items with their weights, sorted by value, equal values combined.
    pub fn weighted(&self) -> Vec<(f64, u64)> {
        let mut all: Vec<(f64, u64)> = Vec::with_capacity(self.retained());
        for (h, items) in self.levels.iter().enumerate() {
            all.extend(items.iter().map(|&v| (v, 1u64 << h)));
        }
        all.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut out: Vec<(f64, u64)> = Vec::with_capacity(all.len());
        for (v, w) in all {
            match out.last_mut() {
                Some(last) if last.0 == v => last.1 += w,
                _ => out.push((v, w)),
            }
        }
        out
    }

    fn coin(&mut self) -> usize {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) & 1) as usize
    }

    /// Compacts the lowest level at or over its capacity (the top level if none is); the caches
    /// must be in sync.
    fn compress(&mut self) {
        let top = self.levels.len() - 1;
        let h = (0..=top).find(|&h| self.levels[h].len() >= self.caps[h]).unwrap_or(top);
        if h == top {
            self.levels.push(Vec::new());
        }
        let offset = self.coin();
        let mut items = std::mem::take(&mut self.levels[h]);
        if h == 0 {
            items.sort_unstable_by(f64::total_cmp);
        }
        // An odd item out stays behind (the smallest), so weight is conserved exactly.
        let keep = items.len() % 2;
        let mut above = std::mem::take(&mut self.levels[h + 1]);
        let mut out = std::mem::take(&mut self.scratch);
        out.clear();
        out.reserve(above.len() + items.len() / 2);
        {
            let mut promoted = items[keep..].iter().skip(offset).step_by(2).map(|&x| to_f32(x)).peekable();
            let mut i = 0;
            while let Some(&p) = promoted.peek() {
                if i < above.len() && above[i] <= p {
                    out.push(above[i]);
                    i += 1;
                } else {
                    out.push(p);
                    promoted.next();
                }
            }
            out.extend_from_slice(&above[i..]);
        }
        let removed = items.len() - keep - (out.len() - above.len());
        items.truncate(keep);
        self.levels[h] = items;
        above.clear();
        self.scratch = above;
        self.levels[h + 1] = out;
        self.held -= removed;
        if h == top {
            self.sync();
        }
    }
}

/// An item promoted above level 0, rounded to the nearest `f32` (as DataSketches' float KLL and
/// whylogs keep items): a relative change of at most 2^-24, far inside the sketch's rank error,
/// that halves what a stored level takes (see `blob.rs`). Values an `f32` cannot hold (beyond
/// its range, or so small they would round to zero) stay as they are. Rounding is monotone, so
/// sorted levels stay sorted.
fn to_f32(x: f64) -> f64 {
    let r = x as f32;
    if r.is_finite() && (r != 0.0 || x == 0.0) { f64::from(r) } else { x }
}

fn merge_sorted(a: &[f64], b: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] <= b[j] {
            out.push(a[i]);
            i += 1;
        } else {
            out.push(b[j]);
            j += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (*seed >> 11) as f64 / (1u64 << 53) as f64
    }

    fn max_rank_error(k: &Kll, sorted: &[f64]) -> f64 {
        let w = k.weighted();
        let n = k.n() as f64;
        let mut cum = 0u64;
        let mut worst = 0.0f64;
        for (v, wt) in w {
            cum += wt;
            let truth = sorted.partition_point(|&x| x <= v) as f64 / n;
            worst = worst.max((cum as f64 / n - truth).abs());
        }
        worst
    }

    #[test]
    fn small_input_is_exact_and_weights_sum_to_n() {
        let mut k = Kll::new(200);
        for i in 0..150 {
            k.update(f64::from(i % 10));
        }
        assert_eq!(k.weighted().len(), 10);
        assert!(k.weighted().iter().all(|&(_, w)| w == 15));
        assert_eq!(k.rank_error(), 0.0);
    }

    #[test]
    fn large_input_stays_within_the_rank_bound_and_is_deterministic() {
        let mut seed = 7;
        let data: Vec<f64> = (0..200_000).map(|_| lcg(&mut seed)).collect();
        let mut k = Kll::new(200);
        data.iter().for_each(|&x| k.update(x));
        let mut again = Kll::new(200);
        data.iter().for_each(|&x| again.update(x));
        assert_eq!(k, again);
        assert_eq!(k.weighted().iter().map(|p| p.1).sum::<u64>(), 200_000);
        let mut sorted = data.clone();
        sorted.sort_unstable_by(f64::total_cmp);
        let err = max_rank_error(&k, &sorted);
        assert!(err < k.rank_error(), "{err} vs {}", k.rank_error());
        assert!(k.retained() < 1000, "{}", k.retained());
    }

    #[test]
    fn merged_sketches_stay_within_the_bound() {
        let mut seed = 11;
        let mut all = Vec::new();
        let mut merged = Kll::new(200);
        for part in 0..7 {
            let mut k = Kll::new(200);
            for _ in 0..(10_000 * (part + 1)) {
                let x = lcg(&mut seed) * f64::from(part + 1);
                k.update(x);
                all.push(x);
            }
            merged.merge(&k);
        }
        k_update_many_matches(&mut seed);
        all.sort_unstable_by(f64::total_cmp);
        assert_eq!(merged.n(), all.len() as u64);
        assert!(max_rank_error(&merged, &all) < merged.rank_error());
    }

    fn k_update_many_matches(seed: &mut u64) {
        let mut k = Kll::new(64);
        let mut all = Vec::new();
        for i in 0..300 {
            let c = (lcg(seed) * 1000.0) as u64 + 1;
            k.update_many(f64::from(i), c);
            all.extend(std::iter::repeat_n(f64::from(i), c as usize));
        }
        assert_eq!(k.n(), all.len() as u64);
        assert!(max_rank_error(&k, &all) < k.rank_error());
    }
}
