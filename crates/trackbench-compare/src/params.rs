//! The param diff: which keys differ between runs, which are equal, which some runs lack.
//!
//! Values compare by JSON type, numbers by value: `1` and `1.0` are equal, `"0.01"` (a string)
//! and `0.01` (a number) are not, but such a row is marked [`ParamRow::numeric_equal`] so a
//! reader sees that only the type differs. Arrays and objects compare element by element with
//! the same rules.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use trackbench_store::RunInfo;
use trackbench_store::prelude::*;

use crate::error::Result;

/// One param key across the compared runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamRow {
    pub key: String,
    /// One value per run, in the order of [`ParamDiff::runs`]; `None` where the run lacks
    /// the key.
    pub values: Vec<Option<Value>>,
    /// In a differing row: every value is a number or a string holding one, and all of them
    /// are the same number (`"0.01"` vs `0.01`). Always false in the other lists.
    pub numeric_equal: bool,
}

/// The params of several runs, split by key into three lists, each sorted by key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamDiff {
    /// Run ids, in the order of every row's values.
    pub runs: Vec<String>,
    /// Keys every run has, with values that are not all equal.
    pub differing: Vec<ParamRow>,
    /// Keys every run has, all with equal values.
    pub equal: Vec<ParamRow>,
    /// Keys some runs lack (and others have).
    pub missing: Vec<ParamRow>,
}

/// Reads the params of `runs` (one store read per run) and diffs them.
pub fn param_diff(store: &dyn Backend, runs: &[RunInfo]) -> Result<ParamDiff> {
    let params = runs.iter().map(|r| store.params(&r.id)).collect::<Result<Vec<_>, _>>()?;
    Ok(diff_params(runs.iter().map(|r| r.id.clone()).collect(), params))
}

/// Diffs params already read: `params[i]` belongs to `runs[i]`.
pub fn diff_params(runs: Vec<String>, params: Vec<Vec<(String, Value)>>) -> ParamDiff {
    let n = params.len();
    let mut by_key: BTreeMap<String, Vec<Option<Value>>> = BTreeMap::new();
    for (i, run_params) in params.into_iter().enumerate() {
        for (key, value) in run_params {
            by_key.entry(key).or_insert_with(|| vec![None; n])[i] = Some(value);
        }
    }
    let mut diff = ParamDiff { runs, differing: Vec::new(), equal: Vec::new(), missing: Vec::new() };
    for (key, values) in by_key {
        let present: Vec<&Value> = values.iter().flatten().collect();
        if present.len() < n {
            diff.missing.push(ParamRow { key, values, numeric_equal: false });
        } else if present.windows(2).all(|w| json_eq(w[0], w[1])) {
            diff.equal.push(ParamRow { key, values, numeric_equal: false });
        } else {
            let numeric_equal = same_number(&present);
            diff.differing.push(ParamRow { key, values, numeric_equal });
        }
    }
    diff
}

/// Equality by JSON type, numbers by value (`1 == 1.0`; integers exactly).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
            (Some(i), Some(j), _, _) => i == j,
            (_, _, Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, a)| y.get(k).is_some_and(|b| json_eq(a, b)))
        }
        _ => a == b,
    }
}

/// A value read as a number: a JSON number, or a string holding a finite one.
fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()),
        _ => None,
    }
}

fn same_number(values: &[&Value]) -> bool {
    let mut numbers = values.iter().map(|v| as_number(v));
    match numbers.next() {
        Some(Some(first)) => numbers.all(|x| x == Some(first)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn diff(params: &[&[(&str, Value)]]) -> ParamDiff {
        let ids = (0..params.len()).map(|i| format!("r{i}")).collect();
        let params = params.iter().map(|p| p.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()).collect();
        diff_params(ids, params)
    }

    fn keys(rows: &[ParamRow]) -> Vec<&str> {
        rows.iter().map(|r| r.key.as_str()).collect()
    }

    #[test]
    fn splits_keys_into_differing_equal_and_missing() {
        let d = diff(&[
            &[("lr", json!(0.01)), ("opt", json!("adam")), ("seed", json!(1)), ("width", json!(64))],
            &[("lr", json!(0.1)), ("opt", json!("adam")), ("seed", json!(2))],
            &[("lr", json!(0.01)), ("opt", json!("adam")), ("seed", json!(3)), ("depth", json!(4))],
        ]);
        assert_eq!(d.runs, ["r0", "r1", "r2"]);
        assert_eq!(keys(&d.differing), ["lr", "seed"]);
        assert_eq!(keys(&d.equal), ["opt"]);
        assert_eq!(keys(&d.missing), ["depth", "width"]);
        assert_eq!(d.missing[0].values, [None, None, Some(json!(4))]);
        assert_eq!(d.missing[1].values, [Some(json!(64)), None, None]);
        assert_eq!(d.differing[0].values, [Some(json!(0.01)), Some(json!(0.1)), Some(json!(0.01))]);
        assert!(!d.differing[0].numeric_equal);
    }

    #[test]
    fn numbers_compare_by_value_and_strings_by_type() {
        let d = diff(&[
            &[("a", json!(1)), ("b", json!(0.01)), ("c", json!([1, {"x": 2}])), ("d", json!(true)), ("e", json!(1))],
            &[
                ("a", json!(1.0)),
                ("b", json!("0.01")),
                ("c", json!([1.0, {"x": 2.0}])),
                ("d", json!("true")),
                ("e", json!(2)),
            ],
        ]);
        assert_eq!(keys(&d.equal), ["a", "c"]);
        assert_eq!(keys(&d.differing), ["b", "d", "e"]);
        let numeric: Vec<bool> = d.differing.iter().map(|r| r.numeric_equal).collect();
        assert_eq!(numeric, [true, false, false], "only the string/number pair with one value is numeric_equal");
    }

    #[test]
    fn large_integers_compare_exactly() {
        let big = 9_007_199_254_740_993_i64; // 2^53 + 1: equal to 2^53 as an f64
        assert!(!json_eq(&json!(big), &json!(big - 1)));
        assert!(json_eq(&json!(u64::MAX), &json!(u64::MAX)));
        assert!(!json_eq(&json!(-1), &json!(u64::MAX)));
        assert!(!json_eq(&json!(null), &json!(0)));
        assert!(!json_eq(&json!({"a": 1}), &json!({"b": 1})));
    }

    #[test]
    fn one_run_or_none() {
        let d = diff(&[&[("lr", json!(0.1))]]);
        assert_eq!((keys(&d.equal), d.differing.len(), d.missing.len()), (vec!["lr"], 0, 0));
        let d = diff(&[]);
        assert!(d.equal.is_empty() && d.differing.is_empty() && d.missing.is_empty());
        let d = diff(&[&[], &[]]);
        assert!(d.equal.is_empty() && d.differing.is_empty() && d.missing.is_empty());
    }
}
