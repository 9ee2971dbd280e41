//! Serializing float columns the way the store does: JSON has no NaN or infinities, so they
//! are written as the strings `"NaN"`, `"Infinity"` and `"-Infinity"` (see
//! `trackbench_store::json_f64`), never as a silent `null`.

use serde::{Serialize, Serializer};
use trackbench_store::json_f64;

/// One float, NaN-safe.
struct F(f64);

impl Serialize for F {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        json_f64::serialize(&self.0, s)
    }
}

/// A column of floats.
pub(crate) fn vec_f64<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|&x| F(x)))
}

/// A column of optional floats (`null` for `None`).
pub(crate) fn vec_opt_f64<S: Serializer>(v: &[Option<f64>], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|x| x.map(F)))
}
