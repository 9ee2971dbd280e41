//! `trackbench compare`: the param diff, a summary table per metric and (with `--group-by`)
//! grouped aggregates of runs named or matched by a filter. The numbers come from
//! `trackbench-compare`'s [`report`]; this file only selects and prints.

use clap::Args;
use trackbench_compare::{
    DEFAULT_GROUP_POINTS, Direction, GroupBy, GroupedMetric, MeanCi, MetricTable, ParamDiff, Report, ReportOptions,
    report,
};

use crate::Ctx;
use crate::output;
use crate::selection::{DirectionArg, RunSelection, lift};

#[derive(Args)]
pub struct CompareArgs {
    #[command(flatten)]
    select: RunSelection,
    /// Metrics to summarise (repeat or comma-separate) [default: every metric all runs logged]
    #[arg(long, short, value_delimiter = ',', value_name = "KEY")]
    metric: Vec<String>,
    /// Which way is better [default: guessed per metric: min for loss, error, time…, else max]
    #[arg(long, value_enum)]
    direction: Option<DirectionArg>,
    /// Also aggregate each metric over groups of runs: by a param's value or by the run group
    #[arg(long, value_name = "params.KEY|group")]
    group_by: Option<String>,
    /// Most points of each group's per-step series (in --json)
    #[arg(long, default_value_t = DEFAULT_GROUP_POINTS)]
    points: usize,
    #[arg(long)]
    json: bool,
}

pub fn compare(ctx: &Ctx, a: CompareArgs) -> anyhow::Result<()> {
    let mut boxed = ctx.open()?;
    let store = boxed.as_mut();
    let (_, runs) = a.select.resolve(&*store)?;
    let opts = ReportOptions {
        metrics: (!a.metric.is_empty()).then_some(a.metric),
        direction: a.direction.map(Direction::from),
        group_by: a.group_by.as_deref().map(GroupBy::parse).transpose().map_err(lift)?,
        group_points: a.points,
    };
    let r = report(&mut *store, &runs, &opts).map_err(lift)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    print_params(&r);
    if r.metrics.is_empty() {
        println!("\nno metric was logged by all {} runs; name one with --metric", r.runs.len());
    }
    for m in &r.metrics {
        print_metric(&r, m);
    }
    for g in &r.grouped {
        print_grouped(g);
    }
    Ok(())
}

fn short(id: &str) -> String {
    id.chars().take(8).collect()
}

fn better(d: Direction) -> &'static str {
    match d {
        Direction::Maximize => "higher is better",
        Direction::Minimize => "lower is better",
    }
}

/// Differing and partly missing params as a table, one row per run; equal ones as a list.
fn print_params(r: &Report) {
    let ParamDiff { differing, equal, missing, .. } = &r.params;
    let n = r.runs.len();
    let mut shown: Vec<_> = differing.iter().chain(missing).collect();
    shown.sort_by(|a, b| a.key.cmp(&b.key));
    println!(
        "PARAMS of {n} run(s): {} differ, {} missing in some runs, {} equal",
        differing.len(),
        missing.len(),
        equal.len()
    );
    if !shown.is_empty() {
        let mut header = vec!["RUN", "ID"];
        header.extend(shown.iter().map(|p| p.key.as_str()));
        let rows: Vec<Vec<String>> = r
            .runs
            .iter()
            .enumerate()
            .map(|(i, run)| {
                let mut row = vec![run.name.clone(), short(&run.id)];
                row.extend(
                    shown.iter().map(|p| p.values[i].as_ref().map(output::json_cell).unwrap_or_else(|| "-".into())),
                );
                row
            })
            .collect();
        print!("{}", output::table(&header, &rows));
    }
    for p in differing.iter().filter(|p| p.numeric_equal) {
        println!("note: `{}` differs only in type: the same number as text in some runs", p.key);
    }
    if !equal.is_empty() {
        const LISTED: usize = 12;
        let list: Vec<String> = equal
            .iter()
            .take(LISTED)
            .map(|p| format!("{}={}", p.key, p.values[0].as_ref().map(output::json_cell).unwrap_or_default()))
            .collect();
        let more = if equal.len() > LISTED { format!(" (and {} more)", equal.len() - LISTED) } else { String::new() };
        println!("equal in all runs: {}{more}", list.join(", "));
    }
}

fn opt_num(v: Option<f64>) -> String {
    v.map(output::num).unwrap_or_else(|| "-".into())
}

fn print_metric(r: &Report, m: &MetricTable) {
    let guessed = if m.direction_guessed { ", guessed from the name" } else { "" };
    println!("\nMETRIC {} ({}{guessed})", m.metric, better(m.direction));
    let rows: Vec<Vec<String>> = m
        .rows
        .iter()
        .map(|row| {
            vec![
                row.name.clone(),
                short(&row.run),
                opt_num(row.last),
                row.last_step.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                opt_num(row.min),
                opt_num(row.max),
                opt_num(row.best),
                row.count.to_string(),
            ]
        })
        .collect();
    print!("{}", output::table(&["RUN", "ID", "LAST", "STEP", "MIN", "MAX", "BEST", "POINTS"], &rows));
    let best = m.rows.iter().filter_map(|row| row.best.map(|b| (row, b))).reduce(|x, y| {
        let y_better = match m.direction {
            Direction::Maximize => y.1 > x.1,
            Direction::Minimize => y.1 < x.1,
        };
        if y_better { y } else { x }
    });
    if let Some((row, b)) = best.filter(|_| r.runs.len() > 1) {
        println!("best: {} ({}) with {}", row.name, short(&row.run), output::num(b));
    }
}

fn mean_std(s: &MeanCi) -> String {
    match (s.mean, s.std) {
        (Some(m), Some(sd)) => format!("{} ± {}", output::num(m), output::num(sd)),
        (Some(m), None) => output::num(m),
        _ => "-".into(),
    }
}

fn ci(s: &MeanCi) -> String {
    match (s.ci_low, s.ci_high) {
        (Some(lo), Some(hi)) => format!("{} to {}", output::num(lo), output::num(hi)),
        _ => "-".into(),
    }
}

fn print_grouped(g: &GroupedMetric) {
    println!("\nGROUPED {} by {} ({})", g.metric, g.group_by.label(), better(g.direction));
    let rows: Vec<Vec<String>> = g
        .groups
        .iter()
        .map(|a| {
            vec![
                a.label.clone(),
                a.runs.len().to_string(),
                a.final_value.n.to_string(),
                mean_std(&a.final_value),
                ci(&a.final_value),
                mean_std(&a.best),
            ]
        })
        .collect();
    let header = ["GROUP", "RUNS", "N", "FINAL (MEAN ± STD)", "95% CI OF MEAN", "BEST (MEAN ± STD)"];
    print!("{}", output::table(&header, &rows));
    for a in &g.groups {
        if let Some(note) = &a.final_value.note {
            println!("note: {}: {note}", a.label);
        }
        if !a.without_metric.is_empty() {
            println!("note: {}: {} run(s) never logged {}", a.label, a.without_metric.len(), g.metric);
        }
    }
}
