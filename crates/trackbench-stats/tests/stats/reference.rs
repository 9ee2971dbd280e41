//! Every number in `fixtures/stats/scipy_reference.json` (numpy + scipy, written by
//! `fixtures/stats/make_reference.py`) against this crate: relative 1e-6, or absolute 1e-12 near
//! zero. All mismatches are collected and reported together, each naming its case and field.
//!
//! Rows marked `"degenerate": "both_zero_variance"` are where scipy answers nan/inf; there the
//! crate's documented convention is checked instead (see `trackbench_stats::Welch`).

use serde_json::Value;
use trackbench_stats::{
    Direction, MwuMethod, StatsError, compare, describe, hedges_g, mann_whitney, power, seeds_needed, welch,
};

pub const REFERENCE: &str = include_str!("../../../../fixtures/stats/scipy_reference.json");

pub fn reference() -> Value {
    serde_json::from_str(REFERENCE).expect("scipy_reference.json parses")
}

/// A case's input group: `null` stands for NaN.
pub fn group(case: &Value, key: &str) -> Vec<f64> {
    case[key].as_array().unwrap().iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect()
}

fn close(got: f64, expect: f64) -> bool {
    let err = (got - expect).abs();
    err <= 1e-12 || err <= 1e-6 * got.abs().max(expect.abs())
}

/// Collects mismatches instead of stopping at the first.
#[derive(Default)]
struct Checker {
    checked: usize,
    failures: Vec<String>,
}

impl Checker {
    fn num(&mut self, case: &str, field: &str, got: f64, expect: &Value) {
        self.checked += 1;
        match expect.as_f64() {
            Some(e) if close(got, e) => {}
            _ => self.failures.push(format!("{case}: {field}: got {got:e}, reference {expect}")),
        }
    }

    fn opt(&mut self, case: &str, field: &str, got: Option<f64>, expect: &Value) {
        match got {
            Some(g) => self.num(case, field, g, expect),
            None => {
                self.checked += 1;
                self.failures.push(format!("{case}: {field}: got None, reference {expect}"));
            }
        }
    }

    fn same<T: PartialEq + std::fmt::Debug>(&mut self, case: &str, field: &str, got: T, expect: T) {
        self.checked += 1;
        if got != expect {
            self.failures.push(format!("{case}: {field}: got {got:?}, expected {expect:?}"));
        }
    }

    fn finish(self, what: &str) {
        eprintln!("{what}: {} values checked", self.checked);
        assert!(
            self.failures.is_empty(),
            "{} of {} {what} values differ:\n{}",
            self.failures.len(),
            self.checked,
            self.failures.join("\n")
        );
    }
}

#[test]
fn reference_table_is_complete() {
    let r = reference();
    assert!(r["scipy_version"].is_string() && r["numpy_version"].is_string());
    let cases = r["cases"].as_array().unwrap();
    assert!(cases.len() >= 25, "only {} cases", cases.len());
    let methods: Vec<&str> = cases.iter().map(|c| c["mann_whitney"]["method"].as_str().unwrap()).collect();
    assert!(methods.contains(&"exact") && methods.contains(&"asymptotic"));
    assert!(cases.iter().any(|c| !c["degenerate"].is_null()));
    assert!(cases.iter().any(|c| c["nan_dropped_a"].as_u64().unwrap() > 0));
}

#[test]
fn matches_scipy() {
    let r = reference();
    let mut c = Checker::default();
    for case in r["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (a, b) = (group(case, "a"), group(case, "b"));
        let confidence = case["confidence"].as_f64().unwrap();

        for (key, xs, dropped) in [("describe_a", &a, "nan_dropped_a"), ("describe_b", &b, "nan_dropped_b")] {
            let s = describe(xs).unwrap();
            let e = &case[key];
            c.same(name, &format!("{key}.n"), s.n as u64, e["n"].as_u64().unwrap());
            c.same(name, &format!("{key}.excluded_nan"), s.excluded_nan as u64, case[dropped].as_u64().unwrap());
            c.num(name, &format!("{key}.mean"), s.mean, &e["mean"]);
            c.opt(name, &format!("{key}.std"), s.std, &e["std"]);
            c.num(name, &format!("{key}.median"), s.median, &e["median"]);
            c.num(name, &format!("{key}.min"), s.min, &e["min"]);
            c.num(name, &format!("{key}.max"), s.max, &e["max"]);
            c.opt(name, &format!("{key}.sem"), s.sem, &e["sem"]);
        }

        let w = welch(&a, &b, confidence).unwrap();
        let e = &case["welch"];
        c.num(name, "welch.diff", w.diff, &e["diff"]);
        c.num(name, "welch.se", w.se, &e["se"]);
        if case["degenerate"].as_str() == Some("both_zero_variance") {
            // scipy: t = nan or +-inf, p = nan or 0, df = 1. Ours: documented convention.
            let expect_p = if w.diff == 0.0 { 1.0 } else { 0.0 };
            c.same(name, "welch.p_two_sided (convention)", w.p_two_sided, expect_p);
            c.same(name, "welch.t (undefined)", w.t, None);
            c.same(name, "welch.df (undefined)", w.df, None);
            c.same(name, "welch.ci_low (collapsed)", w.ci_low, w.diff);
            c.same(name, "welch.ci_high (collapsed)", w.ci_high, w.diff);
            c.same(name, "welch.note", w.note.is_some(), true);
            c.same(name, "hedges_g (undefined)", hedges_g(&a, &b), Err(StatsError::ZeroVariance));
        } else {
            c.opt(name, "welch.df", w.df, &e["df"]);
            c.opt(name, "welch.t", w.t, &e["t"]);
            c.num(name, "welch.p_two_sided", w.p_two_sided, &e["p_two_sided"]);
            c.num(name, "welch.ci_low", w.ci_low, &e["ci_low"]);
            c.num(name, "welch.ci_high", w.ci_high, &e["ci_high"]);
            c.same(name, "welch.note", w.note, None);
            c.num(name, "hedges_g", hedges_g(&a, &b).unwrap(), &case["hedges_g"]);
        }

        let m = mann_whitney(&a, &b).unwrap();
        let e = &case["mann_whitney"];
        c.num(name, "mann_whitney.u", m.u, &e["u"]);
        c.num(name, "mann_whitney.p_two_sided", m.p_two_sided, &e["p_two_sided"]);
        let method = match m.method {
            MwuMethod::Exact => "exact",
            MwuMethod::Asymptotic => "asymptotic",
        };
        c.same(name, "mann_whitney.method", method, e["method"].as_str().unwrap());

        let cmp = compare(&a, &b, Direction::Maximize, confidence, 7).unwrap();
        c.num(name, "compare.pooled_sd", cmp.pooled_sd, &case["pooled_sd"]);
        let e = &case["seeds_needed"];
        if case["degenerate"].is_null() {
            c.same(name, "compare.seeds_needed", cmp.seeds_needed, e["n"].as_u64());
            if !e.is_null() {
                check_seeds_row(&mut c, name, e);
            }
        } else {
            // Both groups constant: any nonzero difference is detected by the smallest test.
            let expect = (cmp.welch.diff != 0.0).then_some(2);
            c.same(name, "compare.seeds_needed (convention)", cmp.seeds_needed, expect);
        }
    }
    c.finish("reference-case");
}

/// One `seeds_needed` row: the n, and the power at n and n - 1 that pin it.
fn check_seeds_row(c: &mut Checker, name: &str, e: &Value) {
    let get = |k: &str| e[k].as_f64().unwrap();
    let (diff, sd, alpha, target) = (get("diff"), get("sd"), get("alpha"), get("power"));
    let n = e["n"].as_u64().unwrap();
    c.same(name, "seeds_needed", seeds_needed(diff, sd, alpha, target), Some(n));
    c.opt(name, "power_at_n", power(n, diff, sd, alpha), &e["power_at_n"]);
    if n > 2 {
        c.opt(name, "power_at_n_minus_1", power(n - 1, diff, sd, alpha), &e["power_at_n_minus_1"]);
    }
}

#[test]
fn seeds_needed_matches_scipy_nct() {
    let r = reference();
    let mut c = Checker::default();
    for e in r["seeds_needed"].as_array().unwrap() {
        let name =
            format!("seeds_needed(diff={}, sd={}, alpha={}, power={})", e["diff"], e["sd"], e["alpha"], e["power"]);
        check_seeds_row(&mut c, &name, e);
    }
    c.finish("seeds-needed");
}
