//! The crate's error type: every way the inputs can make a statistic impossible to compute.

use crate::Group;

/// Why a statistic could not be computed. Each variant names the offending input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// Fewer usable (non-NaN) values than the statistic needs: one for [`crate::describe`], two
    /// per group for everything that compares groups.
    #[error("{group} has {n} usable value(s) ({excluded_nan} NaN excluded); at least {needed} are needed")]
    TooFewValues {
        /// The group that is too small.
        group: Group,
        /// How many values were left after dropping NaN.
        n: usize,
        /// How many the statistic needs.
        needed: usize,
        /// How many NaN values were dropped from the group.
        excluded_nan: usize,
    },
    /// A value is +inf or -inf: no mean or variance exists.
    #[error("{group} has an infinite value at index {index}")]
    InfiniteValue {
        /// The group holding the value.
        group: Group,
        /// Its position in the input slice (NaN included).
        index: usize,
    },
    /// The confidence level is not strictly between 0 and 1.
    #[error("confidence must be strictly between 0 and 1 (e.g. 0.95), got {0}")]
    InvalidConfidence(f64),
    /// The number of bootstrap resamples is 0 or above [`crate::MAX_RESAMPLES`].
    #[error("bootstrap resamples must be between 1 and {max}, got {resamples}")]
    InvalidResamples {
        /// The number asked for.
        resamples: usize,
        /// The largest number allowed.
        max: usize,
    },
    /// Both groups have zero variance, so an effect size in standard deviations is undefined.
    #[error("both groups have zero variance: an effect size in standard deviations is undefined")]
    ZeroVariance,
}

pub(crate) fn check_confidence(confidence: f64) -> Result<(), StatsError> {
    if confidence > 0.0 && confidence < 1.0 { Ok(()) } else { Err(StatsError::InvalidConfidence(confidence)) }
}
