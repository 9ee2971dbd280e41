//! Builds the example report in `docs/example-report/` from synthetic, deterministic fixture
//! runs: an A/B comparison of a constant and a cosine learning-rate schedule, 3 seeds each,
//! 4 metrics over 2,000 steps, with a statistics section.
//!
//! `cargo run -p trackbench-report --example example_report [-- OUT_DIR]` writes `report.html`,
//! `report.md` and `report_files/*.png`. The statistics section is computed, not typed in:
//! `trackbench-stats` compares the runs' final `val/acc` (the last point of each simulated
//! series) and its verdict is the one `trackbench report --ab` would print; the table has the
//! rows and number format of `trackbench-compare`'s report document (which this crate cannot
//! depend on, so `stats_section` restates it).

use std::path::PathBuf;

use trackbench_report::{
    Band, Chart, ChartSeries, ParamDiff, ParamKeyDiff, ReportInput, RunRow, StatsSection, format_num as num,
};
use trackbench_stats::{Comparison, Direction, Summary};

const STEPS: usize = 2000;
const VARIANTS: [&str; 2] = ["constant", "cosine"];
/// The A/B's arms as a report names them: this one was made from the run groups
/// (`trackbench ab --from-groups constant cosine`).
const ARMS: [&str; 2] = ["A: constant", "B: cosine"];
/// Final `val/acc` of each run, per variant then seed.
const FINAL_ACC: [[f64; 3]; 2] = [[0.9114, 0.9131, 0.9102], [0.9236, 0.9251, 0.9219]];

/// splitmix64: a tiny deterministic generator, so the example needs no `rand`.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

struct RunData {
    train_loss: Vec<f64>,
    val_loss: Vec<f64>,
    val_acc: Vec<f64>,
    lr: Vec<f64>,
}

fn simulate(variant: usize, seed: usize) -> RunData {
    let mut rng = Rng(0x5eed_0000 + (variant as u64) * 100 + seed as u64);
    let t_max = (STEPS - 1) as f64;
    let target = FINAL_ACC[variant][seed];
    let speed = 1.0 + 0.08 * (seed as f64 - 1.0);
    let mut d = RunData { train_loss: vec![], val_loss: vec![], val_acc: vec![], lr: vec![] };
    for step in 0..STEPS {
        let t = step as f64;
        let progress = t / t_max;
        let lr = if variant == 0 { 0.1 } else { 0.05 * (1.0 + (std::f64::consts::PI * progress).cos()) };
        // The cosine arm learns a little slower early and keeps improving late.
        let tau = if variant == 0 { 260.0 } else { 330.0 } / speed;
        let decay = (-t / tau).exp();
        let late = if variant == 0 { 0.0 } else { 0.02 * (1.0 - progress) };
        // Training loss falls like a power law (straight on log-log axes, curved on log-linear).
        let power = (1.0 + t / (tau / 4.5)).powf(-1.1);
        let train = 0.04 + 2.26 * power + late + 0.05 * (1.0 - 0.7 * progress) * rng.normal().abs();
        let val =
            0.27 + 2.0 * decay + 0.4 * late + 0.012 * (1.0 - progress) * rng.normal() - 0.03 * (target - 0.91) * 10.0;
        let acc = target - (target - 0.1) * decay - 0.3 * late + 0.004 * (1.0 - progress) * rng.normal();
        d.train_loss.push(train);
        d.val_loss.push(val);
        d.val_acc.push(if step == STEPS - 1 { target } else { acc });
        d.lr.push(lr);
    }
    d
}

fn ema(values: &[f64], alpha: f64) -> Vec<f64> {
    let mut out = Vec::with_capacity(values.len());
    let mut s = values[0];
    for &v in values {
        s = alpha * s + (1.0 - alpha) * v;
        out.push(s);
    }
    out
}

/// Per-step mean, min and max over a group's runs.
fn mean_band(series: &[&Vec<f64>]) -> (Vec<f64>, Band) {
    let n = series[0].len();
    let mut mean = Vec::with_capacity(n);
    let mut band = Band { low: Vec::with_capacity(n), high: Vec::with_capacity(n) };
    for i in 0..n {
        let vals: Vec<f64> = series.iter().map(|s| s[i]).collect();
        mean.push(vals.iter().sum::<f64>() / vals.len() as f64);
        band.low.push(vals.iter().copied().fold(f64::INFINITY, f64::min));
        band.high.push(vals.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    }
    (mean, band)
}

fn build() -> ReportInput {
    let steps: Vec<f64> = (0..STEPS).map(|s| s as f64).collect();
    let mut runs = Vec::new();
    let mut data = Vec::new();
    for (v, variant) in VARIANTS.iter().enumerate() {
        for seed in 0..3 {
            let d = simulate(v, seed);
            let best = d.val_acc.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let idx = v * 3 + seed;
            runs.push(RunRow {
                id: format!("{:08x}", 0x3c1e_7a00u32 + idx as u32 * 0x1f3),
                name: format!("{variant}-s{seed}"),
                project: "cifar10-resnet18".into(),
                status: "finished".into(),
                group: Some((*variant).into()),
                created: format!("2025-03-14T{:02}:{:02}:00Z", 9 + idx / 2, (idx % 2) * 30 + 5),
                duration_s: Some(3600.0 + 97.0 * idx as f64 + 13.0 * seed as f64),
                host: Some(if idx % 2 == 0 { "gpu-box-1" } else { "gpu-box-2" }.into()),
                command: Some(format!("python train.py --lr-schedule {variant} --seed {seed} --epochs 40")),
                git_commit: Some("4f2c9e1a7b3d5c8e9f0a1b2c3d4e5f6a7b8c9d0e".into()),
                git_dirty: Some(idx == 5),
                env: serde_json::json!({
                    "python": "3.11.8",
                    "torch": "2.3.1+cu121",
                    "cuda": "12.1",
                    "gpu": "NVIDIA GeForce RTX 4090",
                    "CUDA_VISIBLE_DEVICES": "0",
                }),
                tags: vec![("sweep".into(), "lr-schedule-ab".into()), ("owner".into(), "ana".into())],
                summary: vec![
                    ("val/acc".into(), *d.val_acc.last().unwrap_or(&f64::NAN)),
                    ("best val/acc".into(), best),
                    ("val/loss".into(), *d.val_loss.last().unwrap_or(&f64::NAN)),
                ],
            });
            data.push(d);
        }
    }

    // Each arm's final val/acc, one per seed: what the statistics compare.
    let finals: Vec<Vec<f64>> = (0..2)
        .map(|v| data[v * 3..v * 3 + 3].iter().map(|d| *d.val_acc.last().unwrap_or(&f64::NAN)).collect())
        .collect();
    let group = |v: usize| -> Vec<&RunData> { data[v * 3..v * 3 + 3].iter().collect() };
    let grouped = |metric: &str, pick: fn(&RunData) -> &Vec<f64>, log_y: bool| Chart {
        metric: metric.into(),
        x_label: "step".into(),
        log_y,
        note: Some("Line: mean over 3 seeds; band: min–max over the seeds.".into()),
        series: (0..2)
            .map(|v| {
                let runs: Vec<&Vec<f64>> = group(v).into_iter().map(pick).collect();
                let (mean, band) = mean_band(&runs);
                ChartSeries { label: format!("{} (3 runs)", ARMS[v]), x: steps.clone(), y: mean, band: Some(band) }
            })
            .collect(),
    };
    let charts = vec![
        Chart {
            metric: "train/loss".into(),
            x_label: "step".into(),
            log_y: true,
            note: Some("Every run; EMA smoothing 0.9.".into()),
            series: runs
                .iter()
                .zip(&data)
                .map(|(r, d)| ChartSeries {
                    label: r.name.clone(),
                    x: steps.clone(),
                    y: ema(&d.train_loss, 0.9),
                    band: None,
                })
                .collect(),
        },
        grouped("val/acc", |d| &d.val_acc, false),
        grouped("val/loss", |d| &d.val_loss, false),
        Chart {
            metric: "lr".into(),
            x_label: "step".into(),
            log_y: false,
            note: None,
            series: (0..2)
                .map(|v| ChartSeries {
                    label: VARIANTS[v].into(),
                    x: steps.clone(),
                    y: data[v * 3].lr.clone(),
                    band: None,
                })
                .collect(),
        },
    ];

    let kv = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
    ReportInput {
        title: "LR schedule A/B: constant vs cosine (CIFAR-10, ResNet-18)".into(),
        generated_at: "2025-03-14T16:20:00Z".into(),
        generated_by: "trackbench report --ab lr-schedule-ab -o docs/example-report/report.html".into(),
        param_diff: ParamDiff {
            keys: vec![
                ParamKeyDiff {
                    key: "lr_schedule".into(),
                    values: VARIANTS.iter().flat_map(|v| std::iter::repeat_n(Some(v.to_string()), 3)).collect(),
                },
                ParamKeyDiff { key: "seed".into(), values: (0..6).map(|i| Some((i % 3).to_string())).collect() },
                ParamKeyDiff {
                    key: "warmup_steps".into(),
                    values: vec![None, None, None, Some("100".into()), Some("100".into()), Some("100".into())],
                },
            ],
            equal_count: 7,
            equal: kv(&[
                ("batch_size", "128"),
                ("epochs", "40"),
                ("lr", "0.1"),
                ("model", "resnet18"),
                ("momentum", "0.9"),
                ("optimizer", "sgd"),
                ("weight_decay", "0.0005"),
            ]),
        },
        runs,
        charts,
        stats: Some(stats_section(&finals)),
        drift: None,
    }
}

/// The statistics of arm B (cosine) against arm A (constant) on the runs' final `val/acc`, as
/// `trackbench-compare`'s document lays them out for an A/B (same seed for the bootstrap).
fn stats_section(finals: &[Vec<f64>]) -> StatsSection {
    let c: Comparison = trackbench_stats::compare(&finals[0], &finals[1], Direction::Maximize, 0.95, 0)
        .expect("three finite values per arm");
    let opt = |v: Option<f64>| v.map(num).unwrap_or_else(|| "–".into());
    let kv = |pairs: Vec<(&str, String)>| pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Vec<_>>();
    let group_row = |label: &str, s: &Summary| {
        (
            label.to_string(),
            kv(vec![("n", s.n.to_string()), ("mean", num(s.mean)), ("std", opt(s.std)), ("median", num(s.median))]),
        )
    };
    StatsSection {
        metric: "val/acc".into(),
        direction: "maximize".into(),
        rows: vec![
            group_row(ARMS[0], &c.a),
            group_row(ARMS[1], &c.b),
            (
                "Welch's t".into(),
                kv(vec![
                    ("B − A", num(c.welch.diff)),
                    ("95% CI", format!("{} to {}", num(c.welch.ci_low), num(c.welch.ci_high))),
                    ("p", num(c.welch.p_two_sided)),
                ]),
            ),
            (
                format!("bootstrap ({} resamples)", c.bootstrap.resamples),
                kv(vec![
                    ("B − A", num(c.welch.diff)),
                    ("95% CI", format!("{} to {}", num(c.bootstrap.low), num(c.bootstrap.high))),
                    ("p", "–".into()),
                ]),
            ),
            (
                "Mann–Whitney U".into(),
                kv(vec![
                    ("B − A", format!("U = {}", num(c.mann_whitney.u))),
                    ("95% CI", "–".into()),
                    ("p", num(c.mann_whitney.p_two_sided)),
                ]),
            ),
            (
                "effect size".into(),
                kv(vec![
                    ("Hedges' g", opt(c.hedges_g)),
                    ("seeds per arm for 80% power", c.seeds_needed.map(|n| n.to_string()).unwrap_or("–".into())),
                ]),
            ),
        ],
        verdict: c.verdict,
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/example-report"));
    let input = build();
    std::fs::create_dir_all(out.join("report_files"))?;
    let html = trackbench_report::render_html(&input)?;
    std::fs::write(out.join("report.html"), &html)?;
    let (md, pngs) = trackbench_report::render_markdown(&input, "report_files")?;
    std::fs::write(out.join("report.md"), &md)?;
    for (name, bytes) in &pngs {
        std::fs::write(out.join("report_files").join(name), bytes)?;
    }
    println!("wrote {} (HTML {} bytes, Markdown {} bytes, {} PNGs)", out.display(), html.len(), md.len(), pngs.len());
    Ok(())
}
