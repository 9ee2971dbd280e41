//! Drift statistics against scipy/numpy on generated data (shifted mean, changed variance, new
//! category, unchanged columns, NaN/±inf): `scipy_check.py` recomputes every statistic from the
//! raw data in a venv with pinned scipy and numpy and fails on any difference above 1e-9 where
//! both profiles are exact (beyond the stated bound where sketched) or any wrong verdict.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value as Json, json};
use trackbench_data::{Column, ColumnValues, DriftOptions, Profile, ProfileOptions, Test, drift};

use super::generate::Rng;

const PINS: [&str; 2] = ["numpy==2.2.6", "scipy==1.15.3"];

enum Data {
    Num(Vec<f64>),
    Int(Vec<Option<i64>>),
    Cat(Vec<Option<&'static str>>),
    Flag(Vec<Option<bool>>),
}

impl Data {
    fn values(&self) -> ColumnValues<'_> {
        match self {
            Data::Num(v) => ColumnValues::F64(v),
            Data::Int(v) => ColumnValues::I64(v),
            Data::Cat(v) => ColumnValues::Str(v),
            Data::Flag(v) => ColumnValues::Bool(v),
        }
    }

    fn json(&self) -> (&'static str, Json) {
        let num = |x: f64| if x.is_finite() { json!(x) } else { json!(x.to_string().to_lowercase()) };
        match self {
            Data::Num(v) => ("num", v.iter().map(|&x| num(x)).collect()),
            Data::Int(v) => ("num", v.iter().flatten().map(|&x| json!(x as f64)).collect()),
            Data::Cat(v) => ("cat", v.iter().flatten().map(|s| json!(s)).collect()),
            Data::Flag(v) => ("cat", v.iter().flatten().map(|b| json!(b.to_string())).collect()),
        }
    }
}

struct Case {
    name: &'static str,
    reference: Data,
    current: Data,
    drifts: bool,
}

fn with_non_finite(mut v: Vec<f64>, rng: &mut Rng) -> Vec<f64> {
    for x in v.iter_mut() {
        let u = rng.uniform();
        if u < 0.03 {
            *x = f64::NAN;
        } else if u < 0.04 {
            *x = f64::INFINITY;
        } else if u < 0.05 {
            *x = f64::NEG_INFINITY;
        }
    }
    v
}

fn cases(n_ref: usize, n_cur: usize, seed: u64) -> Vec<Case> {
    let mut r = Rng::new(seed);
    let ints = |r: &mut Rng, n: usize| -> Vec<Option<i64>> {
        (0..n).map(|_| if r.uniform() < 0.05 { None } else { Some((r.uniform() * 4.0) as i64) }).collect()
    };
    let abc = ["a", "b", "c", "d"];
    let cats = |r: &mut Rng, n: usize, w: &[f64]| -> Vec<Option<&'static str>> {
        r.pick(n, &abc, w).into_iter().map(Some).collect()
    };
    let flags =
        |r: &mut Rng, n: usize, p: f64| -> Vec<Option<bool>> { (0..n).map(|_| Some(r.uniform() < p)).collect() };
    vec![
        Case {
            name: "same",
            reference: Data::Num(r.normals(n_ref, 0.0, 1.0)),
            current: Data::Num(r.normals(n_cur, 0.0, 1.0)),
            drifts: false,
        },
        Case {
            name: "shift",
            reference: Data::Num(r.normals(n_ref, 0.0, 1.0)),
            current: Data::Num(r.normals(n_cur, 0.5, 1.0)),
            drifts: true,
        },
        Case {
            name: "scale",
            reference: Data::Num(r.normals(n_ref, 0.0, 1.0)),
            current: Data::Num(r.normals(n_cur, 0.0, 2.0)),
            drifts: true,
        },
        Case {
            name: "with_nan",
            reference: Data::Num({
                let v = r.normals(n_ref, 5.0, 2.0);
                with_non_finite(v, &mut r)
            }),
            current: Data::Num({
                let v = r.normals(n_cur, 5.0, 2.0);
                with_non_finite(v, &mut r)
            }),
            drifts: false,
        },
        Case {
            name: "few_ints",
            reference: Data::Int(ints(&mut r, n_ref)),
            current: Data::Int(ints(&mut r, n_cur)),
            drifts: false,
        },
        Case {
            name: "cat_same",
            reference: Data::Cat(cats(&mut r, n_ref, &[5.0, 3.0, 2.0, 0.0])),
            current: Data::Cat(cats(&mut r, n_cur, &[5.0, 3.0, 2.0, 0.0])),
            drifts: false,
        },
        Case {
            name: "cat_new",
            reference: Data::Cat(cats(&mut r, n_ref, &[5.0, 3.0, 2.0, 0.0])),
            current: Data::Cat(cats(&mut r, n_cur, &[3.75, 2.25, 1.5, 2.5])),
            drifts: true,
        },
        Case {
            name: "flag",
            reference: Data::Flag(flags(&mut r, n_ref, 0.3)),
            current: Data::Flag(flags(&mut r, n_cur, 0.6)),
            drifts: true,
        },
    ]
}

fn profile(cases: &[Case], current: bool) -> Profile {
    let cols: Vec<Column> = cases
        .iter()
        .map(|c| Column::new(c.name, if current { c.current.values() } else { c.reference.values() }))
        .collect();
    Profile::from_columns(&cols, &ProfileOptions::default()).unwrap()
}

fn set(name: &str, n_ref: usize, n_cur: usize, seed: u64) -> Json {
    let cs = cases(n_ref, n_cur, seed);
    let (a, b) = (profile(&cs, false), profile(&cs, true));
    let mut results: Vec<Vec<Json>> = vec![Vec::new(); cs.len()];
    for test in [Test::Auto, Test::Ks, Test::Chi2, Test::Wasserstein, Test::Js, Test::Psi] {
        let report = drift(&a, &b, &DriftOptions { test, ..DriftOptions::default() });
        for (i, col) in report.columns.iter().enumerate() {
            if col.test.is_some() && col.statistic.is_some() {
                let mut v = serde_json::to_value(col).unwrap();
                v["requested"] = json!(test.name());
                results[i].push(v);
            }
        }
    }
    let columns: Vec<Json> = cs
        .iter()
        .zip(results)
        .map(|(c, results)| {
            let (kind, reference) = c.reference.json();
            let (_, current) = c.current.json();
            json!({"name": c.name, "kind": kind, "ref": reference, "cur": current, "drifts": c.drifts, "results": results})
        })
        .collect();
    json!({"name": name, "columns": columns})
}

/// A venv under the target dir with the pinned scipy and numpy, or why there is none.
fn venv() -> Result<PathBuf, String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scipy-venv");
    let py = dir.join("bin").join("python");
    let check = || Command::new(&py).args(["-c", "import numpy, scipy"]).output().is_ok_and(|o| o.status.success());
    if check() {
        return Ok(py);
    }
    let made = Command::new("python3").args(["-m", "venv"]).arg(&dir).status().map_err(|e| format!("python3: {e}"))?;
    if !made.success() {
        return Err("`python3 -m venv` failed (Debian: apt-get install python3-venv)".into());
    }
    let pip = Command::new(&py)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
        .args(PINS)
        .output()
        .map_err(|e| e.to_string())?;
    if !pip.status.success() || !check() {
        return Err(format!("installing {PINS:?} from PyPI failed: {}", String::from_utf8_lossy(&pip.stderr).trim()));
    }
    Ok(py)
}

#[test]
fn drift_statistics_equal_scipy() {
    let sets = json!({"sets": [
        // Exact, small: auto picks KS and chi-square.
        set("small", 500, 400, 1),
        // Exact, above 1000: auto picks normed Wasserstein and Jensen–Shannon.
        set("large", 3000, 2500, 2),
        // Sketched numbers (50 000 distinct values > 4096): statistics within their bound.
        set("sketched", 50_000, 40_000, 3),
    ]});
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scipy_check_cases.json");
    std::fs::write(&path, serde_json::to_vec(&sets).unwrap()).unwrap();
    let py = match venv() {
        Ok(py) => py,
        Err(why) => {
            eprintln!("*** SKIPPED: {why} ***");
            return;
        }
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("scipy_check.py");
    let out = Command::new(py).arg(script).arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "scipy_check.py found differences:\n{text}");
}
