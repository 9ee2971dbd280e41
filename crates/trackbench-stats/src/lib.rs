//! Seed-to-seed statistics for comparing two model variants ("A/B"): is B's metric really
//! better than A's, by how much, and how many seeds would settle it?
//!
//! Pure functions over `f64` slices (one value per seed), returning plain `Serialize` structs:
//!
//! - [`describe`] -> [`Summary`]: n, mean, sample std, median, min, max, standard error.
//! - [`welch`] -> [`Welch`]: Welch's unequal-variance t-test of mean(B) - mean(A) with its
//!   confidence interval (matches `scipy.stats.ttest_ind(b, a, equal_var=False)`).
//! - [`bootstrap_diff_ci`]: a seeded percentile bootstrap interval for mean(B) - mean(A).
//! - [`mann_whitney`] -> [`MannWhitney`]: the rank test, exact or normal approximation with
//!   scipy's `method='auto'` rule (matches `scipy.stats.mannwhitneyu(b, a)`).
//! - [`hedges_g`]: the standardised effect size of B over A.
//! - [`seeds_needed`]: per-arm seeds for a two-sided t-test to detect a difference, and
//!   [`power`], that test's power for a given number of seeds.
//! - [`compare`] -> [`Comparison`]: all of the above plus a plain-words verdict.
//!
//! Conventions shared by every function: A is the baseline and B the candidate, differences are
//! B - A; NaN values are dropped (and counted in [`Summary::excluded_nan`]); infinities are an
//! error ([`StatsError::InfiniteValue`]); a two-group statistic needs at least two values per
//! group ([`StatsError::TooFewValues`]). No input panics, and no output is a silent NaN: where a
//! statistic is undefined (both groups constant) the field is `None` or the documented
//! convention applies, with a note saying so.
//!
//! ```
//! use trackbench_stats::{Direction, compare};
//!
//! let a = [0.8123, 0.8241, 0.8057, 0.8309, 0.8186]; // baseline, one accuracy per seed
//! let b = [0.8352, 0.8297, 0.8463, 0.8381, 0.8514]; // candidate
//! let c = compare(&a, &b, Direction::Maximize, 0.95, 0).unwrap();
//! assert_eq!(
//!     c.verdict,
//!     "B is better than A by 0.022 (95% CI 0.0082 to 0.035), p = 0.0061 (Welch), 5 seeds each"
//! );
//! ```
//!
//! Numbers are checked against numpy/scipy by `fixtures/stats/scipy_reference.json` (written by
//! `fixtures/stats/make_reference.py`). This crate depends on nothing else of ours.

mod bootstrap;
mod compare;
mod describe;
mod dist;
mod effect;
mod error;
mod mann_whitney;
mod power;
mod rng;
mod sample;
mod welch;

pub use bootstrap::{DEFAULT_RESAMPLES, MAX_RESAMPLES, bootstrap_diff_ci};
pub use compare::{BootstrapCi, Comparison, Outcome, compare};
pub use describe::{Summary, describe};
pub use effect::hedges_g;
pub use error::StatsError;
pub use mann_whitney::{MannWhitney, MwuMethod, mann_whitney};
pub use power::{DEFAULT_ALPHA, DEFAULT_POWER, MAX_SEEDS, power, seeds_needed};
pub use welch::{Welch, welch};

use serde::Serialize;

/// Which input a value or an error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// The baseline (first argument).
    A,
    /// The candidate (second argument).
    B,
    /// The single sample given to [`describe`].
    Sample,
}

impl std::fmt::Display for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Group::A => "group A",
            Group::B => "group B",
            Group::Sample => "the sample",
        })
    }
}

/// What "better" means for the metric being compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Higher is better (accuracy, reward).
    Maximize,
    /// Lower is better (loss, error rate, latency).
    Minimize,
}
