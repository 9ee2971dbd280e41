//! `trackbench report`: a comparison of runs exported as one self-contained HTML file, Markdown
//! with PNG charts, or the CSV/JSON numbers behind them.
//!
//! Glue only: runs are selected and compared by `trackbench-compare` (param diff, summaries,
//! aligned series, groups), two groups are tested by `trackbench-stats`, and the document is
//! rendered by `trackbench-report` from a [`ReportInput`] built here.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use trackbench_compare::{AxisKind, Direction, GroupBy, Report, ReportOptions, aligned, report, smooth_ema};
use trackbench_report::{Band, Chart, ChartSeries, ParamDiff, ParamKeyDiff, ReportInput, RunRow, StatsSection};
use trackbench_store::{RunInfo, Store};

use crate::Ctx;
use crate::output;
use crate::selection::{DirectionArg, RunSelection, lift};

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Html,
    Md,
    Csv,
    Json,
}

#[derive(Args)]
pub struct ReportArgs {
    #[command(flatten)]
    select: RunSelection,
    /// Report an A/B comparison (`trackbench ab`): its runs grouped by arm, its verdict
    #[arg(long, value_name = "ID", conflicts_with_all = ["runs", "filter", "project", "group_by"])]
    ab: Option<String>,
    /// Output file (Markdown writes its PNG charts into a folder next to it)
    #[arg(long, short)]
    output: PathBuf,
    /// Output format [default: from the file extension, else html]
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Metrics to chart and summarise [default: every metric all runs logged]
    #[arg(long, short, value_delimiter = ',', value_name = "KEY")]
    metric: Vec<String>,
    /// Which way is better [default: guessed per metric]
    #[arg(long, value_enum)]
    direction: Option<DirectionArg>,
    /// Compare groups of runs (e.g. the seeds of two variants): by a param or by the run group
    #[arg(long, value_name = "params.KEY|group")]
    group_by: Option<String>,
    /// X axis of the charts
    #[arg(long, default_value = "step", value_parser = ["step", "relative", "wall"])]
    axis: String,
    /// EMA smoothing weight for run lines, 0 (none) to 0.99
    #[arg(long, default_value_t = 0.0)]
    smooth: f64,
    /// Logarithmic y axis
    #[arg(long)]
    log_y: bool,
    /// Points per chart line (series are downsampled; min/max kept per bucket)
    #[arg(long, default_value_t = 1000)]
    points: usize,
    /// Document title
    #[arg(long)]
    title: Option<String>,
}

impl ReportArgs {
    /// Arguments as if typed after `trackbench report` (for the demo).
    pub fn parse_from(args: &[&str]) -> anyhow::Result<ReportArgs> {
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            args: ReportArgs,
        }
        let argv = std::iter::once("report").chain(args.iter().copied());
        Ok(<Wrapper as clap::Parser>::try_parse_from(argv)?.args)
    }
}

fn format_of(a: &ReportArgs) -> Format {
    a.format.unwrap_or_else(|| match a.output.extension().and_then(|e| e.to_str()) {
        Some("md") | Some("markdown") => Format::Md,
        Some("csv") => Format::Csv,
        Some("json") => Format::Json,
        _ => Format::Html,
    })
}

pub fn report_cmd(ctx: &Ctx, mut a: ReportArgs) -> anyhow::Result<()> {
    let mut store = ctx.open()?;
    let ab = match &a.ab {
        Some(id) => Some(store.ab(&store.resolve_ab(id)?)?),
        None => None,
    };
    let (selection, runs) = match &ab {
        Some(ab) => {
            let ids: Vec<String> = ab.runs.iter().map(|r| r.run_id.clone()).collect();
            let selection = trackbench_compare::Selection::Ids(ids);
            let runs = selection.resolve(&store).map_err(lift)?;
            if a.metric.is_empty() {
                a.metric = vec![ab.metric.clone()];
            }
            a.title.get_or_insert_with(|| format!("A/B {}: {}", ab.name, ab.metric));
            (selection, runs)
        }
        None => a.select.resolve(&store)?,
    };
    let direction = match &ab {
        Some(ab) => Some(crate::cmd_ab::direction_of(ab)),
        None => a.direction.map(Direction::from),
    };
    // An A/B's arms are run groups when each arm shares one (as `ab` and `--from-groups` make them).
    let group_by = match &ab {
        Some(_) => Some(GroupBy::Group),
        None => a.group_by.as_deref().map(GroupBy::parse).transpose().map_err(lift)?,
    };
    let opts = ReportOptions {
        metrics: (!a.metric.is_empty()).then(|| a.metric.clone()),
        direction,
        group_by: group_by.clone(),
        group_points: a.points.max(2),
    };
    let compared = report(&mut store, &runs, &opts).map_err(lift)?;
    let axis = AxisKind::parse(&a.axis).unwrap_or(AxisKind::Step);
    let bar = ProgressBar::new((compared.metrics.len() * runs.len()) as u64).with_style(
        ProgressStyle::with_template("{spinner} charting {pos}/{len} series {wide_bar} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let charts = charts(&mut store, &runs, &compared, axis, &a, &bar)?;
    bar.finish_and_clear();
    let input = ReportInput {
        title: a.title.clone().unwrap_or_else(|| format!("Trackbench report: {}", selection.describe())),
        generated_at: output::time(trackbench_store::now_ms()) + " UTC",
        generated_by: std::env::args().collect::<Vec<_>>().join(" "),
        runs: run_rows(&store, &runs, &compared)?,
        param_diff: param_diff(&compared),
        charts,
        stats: match &ab {
            Some(ab) => Some(ab_stats_section(&store, ab)?),
            None => stats_section(&compared),
        },
    };
    write(&input, format_of(&a), &a.output)?;
    eprintln!("wrote {}", a.output.display());
    Ok(())
}

fn run_rows(store: &Store, runs: &[RunInfo], r: &Report) -> anyhow::Result<Vec<RunRow>> {
    let now = trackbench_store::now_ms();
    runs.iter()
        .enumerate()
        .map(|(i, run)| {
            let summary = r
                .metrics
                .iter()
                .filter_map(|m| m.rows.get(i).and_then(|row| row.last).map(|v| (m.metric.clone(), v)))
                .collect();
            Ok(RunRow {
                id: run.id.clone(),
                name: run.name.clone(),
                project: run.project.clone(),
                status: run.status.to_string(),
                group: run.group.clone(),
                created: output::time(run.created_ms),
                duration_s: Some((run.ended_ms.unwrap_or(now) - run.started_ms) as f64 / 1000.0),
                host: run.host.clone(),
                command: run.command.clone(),
                git_commit: run.git_commit.clone(),
                git_dirty: run.git_dirty,
                env: run.env.clone().unwrap_or(serde_json::Value::Null),
                tags: store.tags(&run.id)?,
                summary,
            })
        })
        .collect()
}

fn cell(v: &Option<serde_json::Value>) -> Option<String> {
    v.as_ref().map(output::json_cell)
}

fn param_diff(r: &Report) -> ParamDiff {
    let mut keys: Vec<ParamKeyDiff> = r
        .params
        .differing
        .iter()
        .chain(&r.params.missing)
        .map(|row| ParamKeyDiff { key: row.key.clone(), values: row.values.iter().map(cell).collect() })
        .collect();
    keys.sort_by(|a, b| a.key.cmp(&b.key));
    ParamDiff {
        keys,
        equal_count: r.params.equal.len(),
        equal: r
            .params
            .equal
            .iter()
            .map(|row| (row.key.clone(), row.values.first().and_then(cell).unwrap_or_default()))
            .collect(),
    }
}

fn x_label(axis: AxisKind) -> &'static str {
    match axis {
        AxisKind::Step => "step",
        AxisKind::RelativeTime => "time since start (s)",
        AxisKind::WallTime => "wall time (s since epoch)",
    }
}

/// One chart per metric: each group's mean with its min–max band when grouping, else each
/// run's line (optionally EMA-smoothed).
fn charts(
    store: &mut Store,
    runs: &[RunInfo],
    r: &Report,
    axis: AxisKind,
    a: &ReportArgs,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<Chart>> {
    let mut out = Vec::new();
    for m in &r.metrics {
        let grouped = r.grouped.iter().find(|g| g.metric == m.metric);
        let (series, note) = match grouped {
            Some(g) if axis == AxisKind::Step => {
                bar.inc(runs.len() as u64);
                let series = g
                    .groups
                    .iter()
                    .map(|grp| ChartSeries {
                        label: format!("{} = {} ({} runs)", g.group_by.label(), grp.label, grp.runs.len()),
                        x: grp.series.steps.iter().map(|s| *s as f64).collect(),
                        y: grp.series.mean.clone(),
                        band: Some(Band { low: grp.series.min.clone(), high: grp.series.max.clone() }),
                    })
                    .collect();
                (series, Some("line: mean over the group's runs; band: min–max".to_string()))
            }
            _ => {
                let lines = aligned(store, runs, &m.metric, axis, a.points.max(2)).map_err(lift)?;
                bar.inc(runs.len() as u64);
                let series = lines
                    .into_iter()
                    .zip(runs)
                    .filter(|(l, _)| !l.x.is_empty())
                    .map(|(l, run)| {
                        let scale = if axis == AxisKind::Step { 1.0 } else { 1000.0 };
                        let y = if a.smooth > 0.0 { smooth_ema(&l.y, a.smooth.min(0.99)) } else { l.y.clone() };
                        ChartSeries {
                            label: run.name.clone(),
                            x: l.x.iter().map(|x| *x as f64 / scale).collect(),
                            y,
                            band: None,
                        }
                    })
                    .collect();
                let note = (a.smooth > 0.0).then(|| format!("EMA smoothing {}", a.smooth));
                (series, note)
            }
        };
        out.push(Chart { metric: m.metric.clone(), x_label: x_label(axis).to_string(), log_y: a.log_y, note, series });
    }
    Ok(out)
}

/// With exactly two groups: the statistics of their runs' final values on the first metric.
fn stats_section(r: &Report) -> Option<StatsSection> {
    let g = r.grouped.first()?;
    let [ga, gb] = g.groups.as_slice() else { return None };
    let table = r.metrics.iter().find(|m| m.metric == g.metric)?;
    let finals = |ids: &[String]| -> Vec<f64> {
        table.rows.iter().filter(|row| ids.contains(&row.run)).filter_map(|row| row.last).collect()
    };
    let (a, b) = (finals(&ga.runs), finals(&gb.runs));
    let c = trackbench_stats::compare(&a, &b, g.direction, 0.95, 0).ok()?;
    Some(comparison_section(&c, &g.metric, &ga.label, &gb.label))
}

/// The statistics of an A/B, computed as `trackbench ab` computed its verdict (the same runs,
/// values and seed); arms that cannot be compared say why.
fn ab_stats_section(store: &Store, ab: &trackbench_store::AbInfo) -> anyhow::Result<StatsSection> {
    let spec = |arm: &str| match &ab.spec[arm] {
        serde_json::Value::Object(m) => {
            m.iter().map(|(k, v)| format!("{k}={}", output::json_cell(v))).collect::<Vec<_>>().join(" ")
        }
        _ => arm.to_string(),
    };
    match crate::cmd_ab::comparison(store, ab) {
        Ok((_, c)) => Ok(comparison_section(&c, &ab.metric, &spec("a"), &spec("b"))),
        Err(e) => Ok(StatsSection {
            metric: ab.metric.clone(),
            direction: ab.direction.clone(),
            rows: Vec::new(),
            verdict: format!("no verdict: {e:#}"),
        }),
    }
}

/// A report's statistics table and verdict from one comparison of arms A and B.
fn comparison_section(c: &trackbench_stats::Comparison, metric: &str, label_a: &str, label_b: &str) -> StatsSection {
    let (ga_label, gb_label) = (label_a, label_b);
    let num = |v: f64| output::num(v);
    let opt = |v: Option<f64>| v.map(num).unwrap_or_else(|| "–".into());
    let group_row = |label: &str, s: &trackbench_stats::Summary| {
        (
            label.to_string(),
            vec![
                ("n".to_string(), s.n.to_string()),
                ("mean".to_string(), num(s.mean)),
                ("std".to_string(), opt(s.std)),
                ("median".to_string(), num(s.median)),
            ],
        )
    };
    let rows = vec![
        group_row(&format!("A: {ga_label}"), &c.a),
        group_row(&format!("B: {gb_label}"), &c.b),
        (
            "Welch's t".to_string(),
            vec![
                ("B − A".to_string(), num(c.welch.diff)),
                ("95% CI".to_string(), format!("{} to {}", num(c.welch.ci_low), num(c.welch.ci_high))),
                ("p".to_string(), num(c.welch.p_two_sided)),
            ],
        ),
        (
            "bootstrap".to_string(),
            vec![
                ("B − A".to_string(), num(c.welch.diff)),
                ("95% CI".to_string(), format!("{} to {}", num(c.bootstrap.low), num(c.bootstrap.high))),
                ("p".to_string(), "–".to_string()),
            ],
        ),
        (
            "Mann–Whitney U".to_string(),
            vec![
                ("B − A".to_string(), format!("U = {}", num(c.mann_whitney.u))),
                ("95% CI".to_string(), "–".to_string()),
                ("p".to_string(), num(c.mann_whitney.p_two_sided)),
            ],
        ),
        (
            "effect size".to_string(),
            vec![
                ("Hedges' g".to_string(), opt(c.hedges_g)),
                (
                    "seeds per arm for 80% power".to_string(),
                    c.seeds_needed.map(|n| n.to_string()).unwrap_or("–".into()),
                ),
            ],
        ),
    ];
    StatsSection {
        metric: metric.to_string(),
        direction: match c.direction {
            Direction::Maximize => "maximize".into(),
            Direction::Minimize => "minimize".into(),
        },
        rows,
        verdict: c.verdict.clone(),
    }
}

fn write(input: &ReportInput, format: Format, path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let write_file =
        |p: &Path, bytes: &[u8]| std::fs::write(p, bytes).with_context(|| format!("writing {}", p.display()));
    match format {
        Format::Html => write_file(path, trackbench_report::render_html(input)?.as_bytes()),
        Format::Csv => write_file(path, trackbench_report::render_csv(input)?.as_bytes()),
        Format::Json => write_file(path, trackbench_report::render_json(input)?.as_bytes()),
        Format::Md => {
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("report");
            let dir_name = format!("{stem}_files");
            let (md, pngs) = trackbench_report::render_markdown(input, &dir_name)?;
            let dir = path.with_file_name(&dir_name);
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            for (name, bytes) in pngs {
                write_file(&dir.join(name), &bytes)?;
            }
            write_file(path, md.as_bytes())
        }
    }
}
