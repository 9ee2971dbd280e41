//! `trackbench-ui-datasets DIR`: logs dataset profiles into the store at DIR through the real SDK
//! (`Run::log_dataset`), for the web UI's end-to-end tests (`ui/e2e/run.mjs`: the run page's
//! Data tab and the drift view). Project `data`:
//!
//! - `data-reference`: `train` (6,000 rows: `age`, sketched past the exact cap; `visits`, a few
//!   integers; `city`; `score` with a few NaN) and `held out / v2 ✓` (a name a URL must carry).
//! - `data-current`: `train` again with `age` shifted and a new city (`visits` and `score`
//!   unchanged), and `serving` at steps 0, 1 (like `train`) and 2 (shifted).
//! - `data-empty`: no datasets.
//!
//! Prints the three run ids as JSON on stdout: `{"reference": …, "current": …, "empty": …}`.

use anyhow::Context;
use trackbench_sdk::data::{Column, ColumnValues};
use trackbench_sdk::{Run, RunOptions};

/// A table of `n` rows; `shifted` moves `age` and a third of `city`.
struct Table {
    age: Vec<f64>,
    visits: Vec<Option<i64>>,
    city: Vec<Option<&'static str>>,
    score: Vec<f64>,
}

fn table(n: usize, shifted: bool) -> Table {
    // A deterministic spread (no generator): i * golden ratio mod 1.
    let u = |i: usize, k: f64| ((i as f64 + 1.0) * 0.618_033_988_75 * k).fract();
    Table {
        age: (0..n).map(|i| 20.0 + 40.0 * u(i, 1.0) + if shifted { 15.0 } else { 0.0 }).collect(),
        visits: (0..n).map(|i| if i % 97 == 0 { None } else { Some((u(i, 3.0) * 12.0) as i64) }).collect(),
        city: (0..n)
            .map(|i| match i % 3 {
                0 if shifted => Some("Lyon"),
                0 => Some("Paris"),
                1 => Some("Berlin"),
                _ => Some("Rome"),
            })
            .collect(),
        score: (0..n).map(|i| if i % 500 == 7 { f64::NAN } else { u(i, 7.0) }).collect(),
    }
}

fn log(run: &Run, name: &str, t: &Table, context: &str, step: Option<i64>) -> anyhow::Result<()> {
    let cols = [
        Column::new("age", ColumnValues::F64(&t.age)),
        Column::new("visits", ColumnValues::I64(&t.visits)),
        Column::new("city", ColumnValues::Str(&t.city)),
        Column::new("score", ColumnValues::F64(&t.score)),
    ];
    run.log_dataset(name, &cols, Some(context), step).with_context(|| format!("logging dataset {name:?}"))?;
    Ok(())
}

fn start(dir: &std::path::Path, name: &str) -> anyhow::Result<Run> {
    let mut opts = RunOptions::new("data").name(name).store_dir(dir);
    opts.system_metrics = None;
    opts.capture_context = false;
    Run::start(opts).with_context(|| format!("starting run {name}"))
}

fn main() -> anyhow::Result<()> {
    let dir = std::env::args_os().nth(1).context("usage: trackbench-ui-datasets DIR")?;
    let dir = std::path::PathBuf::from(dir);
    let n = 6000;

    let reference = start(&dir, "data-reference")?;
    log(&reference, "train", &table(n, false), "training", None)?;
    log(&reference, "held out / v2 ✓", &table(800, false), "evaluation", None)?;

    let current = start(&dir, "data-current")?;
    log(&current, "train", &table(n, true), "training", None)?;
    for step in 0..3 {
        log(&current, "serving", &table(1000, step == 2), "serving", Some(step))?;
    }

    let empty = start(&dir, "data-empty")?;
    let ids = serde_json::json!({
        "reference": reference.id(),
        "current": current.id(),
        "empty": empty.id(),
    });
    for run in [reference, current, empty] {
        run.finish()?;
    }
    println!("{ids}");
    Ok(())
}
