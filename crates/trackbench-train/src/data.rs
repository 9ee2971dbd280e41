//! Datasets: the 8x8 handwritten digits shipped in `fixtures/digits/` (with a fixed train/val
//! split) and seeded synthetic sets (two spirals, Gaussian blobs) of any size.
//!
//! Every set is a dense row-major `f32` matrix of features plus `u32` labels. The digits file is
//! compiled into the binary, so `trackbench train` works from any folder.

use std::io::Read;

use crate::TrainError;
use crate::rng::Rng;

/// The digits CSV (gzip): 1,797 rows of 64 pixel counts (0..16) and a label.
const DIGITS_GZ: &[u8] = include_bytes!("../../../fixtures/digits/digits.csv.gz");

/// A labelled set: `x` is `n x dim`, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub x: Vec<f32>,
    pub y: Vec<u32>,
    pub dim: usize,
    pub classes: usize,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// The rows at `idx`, gathered into `x` and `y` (cleared first).
    pub fn gather(&self, idx: &[usize], x: &mut Vec<f32>, y: &mut Vec<u32>) {
        x.clear();
        y.clear();
        for &i in idx {
            x.extend_from_slice(&self.x[i * self.dim..(i + 1) * self.dim]);
            y.push(self.y[i]);
        }
    }

    fn subset(&self, keep: impl Fn(usize) -> bool) -> Dataset {
        let idx: Vec<usize> = (0..self.len()).filter(|&i| keep(i)).collect();
        let (mut x, mut y) = (Vec::new(), Vec::new());
        self.gather(&idx, &mut x, &mut y);
        Dataset { x, y, dim: self.dim, classes: self.classes }
    }
}

/// A training set and its validation set.
#[derive(Debug, Clone)]
pub struct Split {
    pub name: String,
    pub train: Dataset,
    pub val: Dataset,
}

/// Which data to train on.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSpec {
    /// The 8x8 digits: 1,438 train / 359 val (every fifth row is validation).
    Digits,
    /// Two (or more) interleaved spirals in 2-D with noise.
    Spirals { samples: usize, classes: usize, noise: f32 },
    /// Gaussian blobs: one random centre per class in `dim` dimensions.
    Blobs { samples: usize, classes: usize, dim: usize, spread: f32 },
}

impl DataSpec {
    /// Builds the data; the synthetic sets depend only on `seed` (20% held out).
    pub fn load(&self, seed: u64) -> Result<Split, TrainError> {
        let (name, all) = match *self {
            DataSpec::Digits => return digits(),
            DataSpec::Spirals { samples, classes, noise } => ("spirals", spirals(samples, classes, noise, seed)),
            DataSpec::Blobs { samples, classes, dim, spread } => ("blobs", blobs(samples, classes, dim, spread, seed)),
        };
        if all.len() < 2 || all.classes < 2 {
            return Err(TrainError::Config(format!("{name}: need at least 2 samples and 2 classes")));
        }
        // Generated in random order already: the last fifth is the validation set.
        let cut = all.len() - (all.len() / 5).max(1);
        Ok(Split { name: name.into(), train: all.subset(|i| i < cut), val: all.subset(|i| i >= cut) })
    }
}

/// The digits set with its fixed split: row `i` is validation when `i % 5 == 4`.
pub fn digits() -> Result<Split, TrainError> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(DIGITS_GZ)
        .read_to_string(&mut text)
        .map_err(|e| TrainError::Data(format!("digits fixture: {e}")))?;
    let (mut x, mut y) = (Vec::with_capacity(1797 * 64), Vec::with_capacity(1797));
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.trim().split(',').collect();
        if fields.len() != 65 {
            return Err(TrainError::Data(format!(
                "digits fixture line {}: {} fields, expected 65",
                n + 1,
                fields.len()
            )));
        }
        for f in &fields[..64] {
            let v: f32 =
                f.parse().map_err(|_| TrainError::Data(format!("digits fixture line {}: bad pixel {f:?}", n + 1)))?;
            x.push(v / 16.0);
        }
        y.push(fields[64].parse().map_err(|_| TrainError::Data(format!("digits fixture line {}: bad label", n + 1)))?);
    }
    let all = Dataset { x, y, dim: 64, classes: 10 };
    Ok(Split { name: "digits".into(), train: all.subset(|i| i % 5 != 4), val: all.subset(|i| i % 5 == 4) })
}

/// `samples` points on `classes` interleaved spiral arms, in random order.
pub fn spirals(samples: usize, classes: usize, noise: f32, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed ^ 0x5350_4952);
    let (mut x, mut y) = (Vec::with_capacity(samples * 2), Vec::with_capacity(samples));
    for _ in 0..samples {
        let c = rng.below(classes.max(1));
        let t = rng.uniform();
        let r = t as f32;
        let angle = (t * 4.0 + c as f64 * std::f64::consts::TAU / classes.max(1) as f64) as f32;
        x.push(r * angle.cos() + noise * rng.normal() as f32);
        x.push(r * angle.sin() + noise * rng.normal() as f32);
        y.push(c as u32);
    }
    Dataset { x, y, dim: 2, classes }
}

/// `samples` points around `classes` random centres in `dim` dimensions, in random order.
pub fn blobs(samples: usize, classes: usize, dim: usize, spread: f32, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed ^ 0x424C_4F42);
    let centres: Vec<f32> = (0..classes * dim).map(|_| rng.normal() as f32).collect();
    let (mut x, mut y) = (Vec::with_capacity(samples * dim), Vec::with_capacity(samples));
    for _ in 0..samples {
        let c = rng.below(classes.max(1));
        for j in 0..dim {
            x.push(centres[c * dim + j] + spread * rng.normal() as f32);
        }
        y.push(c as u32);
    }
    Dataset { x, y, dim, classes }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_load_with_the_fixed_split() {
        let s = digits().unwrap();
        assert_eq!((s.train.len(), s.val.len()), (1438, 359));
        assert_eq!(s.train.dim, 64);
        assert!(s.train.x.iter().all(|&v| (0.0..=1.0).contains(&v)));
        let mut counts = [0; 10];
        s.val.y.iter().for_each(|&c| counts[c as usize] += 1);
        assert!(counts.iter().all(|&c| c >= 20), "{counts:?}");
    }

    #[test]
    fn synthetic_sets_are_seeded() {
        assert_eq!(spirals(100, 3, 0.05, 1), spirals(100, 3, 0.05, 1));
        assert_ne!(blobs(100, 3, 4, 0.5, 1), blobs(100, 3, 4, 0.5, 2));
        let s = DataSpec::Blobs { samples: 1000, classes: 10, dim: 8, spread: 0.3 }.load(3).unwrap();
        assert_eq!((s.train.len(), s.val.len()), (800, 200));
    }
}
