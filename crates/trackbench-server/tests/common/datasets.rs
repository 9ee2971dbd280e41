//! What the server's test binaries (`it`, `team`) log as datasets: a small table, shifted or
//! not, logged through the real SDK over HTTP, and URL encoding for the names.

use trackbench_sdk::data::{Column, ColumnValues};
use trackbench_sdk::{Remote, Run, RunOptions};

/// A table of 400 rows: `age` (shifted by `shift`), `income` (scaled by `scale`, every 50th
/// row null), `city` (a third of the rows moved to a new city when `new_city`) and `score`,
/// the same in every table.
pub struct Table {
    age: Vec<f64>,
    income: Vec<Option<i64>>,
    city: Vec<Option<&'static str>>,
    score: Vec<f64>,
}

pub fn table(shift: f64, scale: f64, new_city: bool) -> Table {
    let n = 400;
    // A deterministic spread (no generator): i * golden ratio mod 1.
    let u = |i: usize, k: f64| ((i as f64 + 1.0) * 0.618_033_988_75 * k).fract();
    Table {
        age: (0..n).map(|i| 20.0 + 40.0 * u(i, 1.0) + shift).collect(),
        income: (0..n)
            .map(|i| if i % 50 == 0 { None } else { Some((30_000.0 * scale * (1.0 + u(i, 3.0))) as i64) })
            .collect(),
        city: (0..n)
            .map(|i| match i % 3 {
                0 if new_city => Some("Lyon"),
                0 => Some("Paris"),
                1 => Some("Berlin"),
                _ => Some("Rome"),
            })
            .collect(),
        score: (0..n).map(|i| u(i, 7.0)).collect(),
    }
}

pub fn log(run: &Run, name: &str, t: &Table, context: &str, step: Option<i64>) {
    let cols = [
        Column::new("age", ColumnValues::F64(&t.age)),
        Column::new("income", ColumnValues::I64(&t.income)),
        Column::new("city", ColumnValues::Str(&t.city)),
        Column::new("score", ColumnValues::F64(&t.score)),
    ];
    run.log_dataset(name, &cols, Some(context), step).expect("log_dataset");
}

/// A run of project `data` logging through the server's HTTP API, as a remote SDK does.
pub fn remote_run(base: &str, token: &str, name: &str) -> Run {
    let mut opts = RunOptions::new("data").name(name).remote(Remote::new(base, Some(token.into())));
    opts.system_metrics = None;
    opts.capture_context = false;
    Run::start(opts).expect("run over HTTP")
}

/// Percent-encodes everything but unreserved characters (a path segment or a query value).
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
