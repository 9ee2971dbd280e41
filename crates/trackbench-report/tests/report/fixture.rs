//! Fixed fixture inputs: three runs (two in one group), a param diff, two charts (a grouped
//! chart with a band and a NaN gap, a log-scale chart) and a statistics section.

use trackbench_report::{Band, Chart, ChartSeries, ParamDiff, ParamKeyDiff, ReportInput, RunRow, StatsSection};

pub fn run(i: usize, name: &str, group: &str) -> RunRow {
    RunRow {
        id: format!("run{i:04}"),
        name: name.into(),
        project: "mnist".into(),
        status: ["finished", "failed", "running"][i % 3].into(),
        group: Some(group.into()),
        created: format!("2025-01-0{}T10:00:00Z", i + 1),
        duration_s: Some(61.5 + 600.0 * i as f64),
        host: Some("box".into()),
        command: Some(format!("python train.py --seed {i}")),
        git_commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        git_dirty: Some(i == 1),
        env: serde_json::json!({"python": "3.12.1", "threads": 8}),
        tags: vec![("team".into(), "vision".into()), ("baseline".into(), String::new())],
        summary: vec![("acc".into(), 0.9 + 0.01 * i as f64), ("loss".into(), 0.3 - 0.05 * i as f64)],
    }
}

/// A curve of `n` points: `a + b * exp(-x / 10)` plus a fixed wiggle.
pub fn curve(n: usize, a: f64, b: f64) -> (Vec<f64>, Vec<f64>) {
    let x: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let y = x.iter().map(|&t| a + b * (-t / 10.0).exp() + 0.01 * ((t * 1.7).sin())).collect();
    (x, y)
}

pub fn input() -> ReportInput {
    let (x, y_a) = curve(40, 0.2, 1.0);
    let (_, mut y_b) = curve(40, 0.15, 1.2);
    y_b[20] = f64::NAN;
    let band_a = Band { low: y_a.iter().map(|v| v - 0.05).collect(), high: y_a.iter().map(|v| v + 0.05).collect() };
    let (lx, ly) = curve(30, 0.001, 1.0);
    ReportInput {
        title: "Fixture report".into(),
        generated_at: "2025-01-04T12:00:00Z".into(),
        generated_by: "trackbench report run0000 run0001 run0002 -o report.html".into(),
        runs: vec![run(0, "base-s0", "base"), run(1, "base-s1", "base"), run(2, "wide", "wide")],
        param_diff: ParamDiff {
            keys: vec![
                ParamKeyDiff {
                    key: "width".into(),
                    values: vec![Some("64".into()), Some("64".into()), Some("256".into())],
                },
                ParamKeyDiff { key: "seed".into(), values: vec![Some("0".into()), Some("1".into()), Some("0".into())] },
                ParamKeyDiff { key: "dropout".into(), values: vec![None, None, Some("0.1".into())] },
            ],
            equal_count: 3,
            equal: vec![("lr".into(), "0.001".into()), ("optimizer".into(), "adam".into())],
        },
        charts: vec![
            Chart {
                metric: "val/loss".into(),
                x_label: "step".into(),
                log_y: false,
                note: Some("mean of the group; band: min-max".into()),
                series: vec![
                    ChartSeries { label: "base (2 seeds)".into(), x: x.clone(), y: y_a, band: Some(band_a) },
                    ChartSeries { label: "wide".into(), x, y: y_b, band: None },
                ],
            },
            Chart {
                metric: "grad_norm".into(),
                x_label: "step".into(),
                log_y: true,
                note: None,
                series: vec![ChartSeries { label: "wide".into(), x: lx, y: ly, band: None }],
            },
        ],
        stats: Some(StatsSection {
            metric: "acc".into(),
            direction: "maximize".into(),
            rows: vec![
                ("base".into(), vec![("n".into(), "2".into()), ("mean".into(), "0.905".into())]),
                ("wide".into(), vec![("n".into(), "1".into()), ("mean".into(), "0.92".into())]),
                ("wide − base".into(), vec![("difference".into(), "+0.015".into()), ("p".into(), "n/a".into())]),
            ],
            verdict: "Too few runs to tell (1 run in one group).".into(),
        }),
        drift: None,
    }
}
