//! Comparison results as a report document: the one place that turns runs, a [`Report`] and
//! (for an A/B) its verdict into `trackbench-report`'s [`ReportInput`], so `trackbench report`
//! and the server's report endpoints write the same bytes for the same runs.
//!
//! Charts: each group's mean with its min–max band when grouping on the step axis, else each
//! run's line (optionally EMA-smoothed); an A/B's groups are named for its arms (`A: lr=0.001`,
//! from its spec), not for the run groups the launcher made up. Statistics: with exactly two
//! groups, the comparison of their runs' final values on the first metric; for an A/B, its
//! verdict recomputed as [`crate::finish_ab`] computes it.

use trackbench_report::{
    Band, Chart, ChartSeries, ParamDiff, ParamKeyDiff, ReportInput, RunRow, StatsSection, format_num,
};
use trackbench_stats::{Comparison, Direction, Summary};
use trackbench_store::prelude::*;
use trackbench_store::{AbInfo, Arm, RunInfo};

use crate::{
    AxisKind, GroupBy, Report, ReportOptions, Result, Selection, ab_comparison, ab_direction, aligned, report,
    smooth_ema,
};

/// How to draw the document.
#[derive(Debug, Clone)]
pub struct DocumentOptions {
    /// Metrics to chart and summarise; empty: every metric all runs logged (an A/B: its metric).
    pub metrics: Vec<String>,
    /// Which way is better; `None`: guessed per metric (an A/B: its own).
    pub direction: Option<Direction>,
    /// Compare groups of runs (an A/B: its arms, by run group).
    pub group_by: Option<GroupBy>,
    pub axis: AxisKind,
    /// EMA weight for run lines, 0 (none) to 0.99.
    pub smooth: f64,
    pub log_y: bool,
    /// Points per chart line.
    pub points: usize,
    /// Document title; `None`: from the selection (an A/B: its name and metric).
    pub title: Option<String>,
    /// When the document says it was made (epoch ms; injectable for stable output).
    pub generated_at_ms: i64,
    /// What made it (the command line, the server endpoint).
    pub generated_by: String,
}

impl Default for DocumentOptions {
    fn default() -> DocumentOptions {
        DocumentOptions {
            metrics: Vec::new(),
            direction: None,
            group_by: None,
            axis: AxisKind::Step,
            smooth: 0.0,
            log_y: false,
            points: 1000,
            title: None,
            generated_at_ms: 0,
            generated_by: String::new(),
        }
    }
}

/// The runs of an A/B as a selection (in launch order).
pub fn ab_selection(store: &dyn Backend, ab: &AbInfo) -> Result<(Selection, Vec<RunInfo>)> {
    let selection = Selection::Ids(ab.runs.iter().map(|r| r.run_id.clone()).collect());
    let runs = selection.resolve(store)?;
    Ok((selection, runs))
}

/// Builds the report document of `runs` (chosen by `selection`), or of A/B `ab` (whose runs
/// they are; its metric, direction, arms and verdict then fill in what `opts` leaves open).
/// `progress(done, total)` is called as series are charted.
pub fn document(
    store: &mut dyn Backend,
    selection: &Selection,
    runs: &[RunInfo],
    ab: Option<&AbInfo>,
    opts: &DocumentOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ReportInput> {
    let mut opts = opts.clone();
    if let Some(ab) = ab {
        if opts.metrics.is_empty() {
            opts.metrics = vec![ab.metric.clone()];
        }
        opts.title.get_or_insert_with(|| format!("A/B {}: {}", ab.name, ab.metric));
        opts.direction = Some(ab_direction(ab));
        // An A/B's arms are run groups when each arm shares one (as `ab` and `--from-groups` make them).
        opts.group_by = Some(GroupBy::Group);
    }
    let ropts = ReportOptions {
        metrics: (!opts.metrics.is_empty()).then(|| opts.metrics.clone()),
        direction: opts.direction,
        group_by: opts.group_by.clone(),
        group_points: opts.points.max(2),
    };
    let compared = report(store, runs, &ropts)?;
    let total = (compared.metrics.len() * runs.len()) as u64;
    let mut done = 0u64;
    let mut tick = |n: u64| {
        done += n;
        progress(done, total);
    };
    let charts = charts(store, runs, &compared, &opts, ab, &mut tick)?;
    Ok(ReportInput {
        title: opts.title.clone().unwrap_or_else(|| format!("Trackbench report: {}", selection.describe())),
        generated_at: trackbench_store::format_utc(opts.generated_at_ms) + " UTC",
        generated_by: opts.generated_by.clone(),
        runs: run_rows(store, runs, &compared)?,
        param_diff: param_diff(&compared),
        charts,
        stats: match ab {
            Some(ab) => Some(ab_stats_section(store, ab)?),
            None => stats_section(&compared),
        },
        // Drift is the caller's (it reads dataset profiles, which compare does not).
        drift: None,
    })
}

/// A JSON param value for a table: strings bare, others as JSON.
pub fn json_cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn run_rows(store: &dyn Backend, runs: &[RunInfo], r: &Report) -> Result<Vec<RunRow>> {
    let now = store.now();
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
                created: trackbench_store::format_utc(run.created_ms),
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
    v.as_ref().map(json_cell)
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

/// What arm `arm` of `ab` is: the parameters it was launched with (`lr=0.001`, the ones that
/// differ between the arms), the run group it was made from, else `arm A`.
fn arm_description(ab: &AbInfo, arm: Arm) -> String {
    let fallback = || format!("arm {}", arm.as_str().to_uppercase());
    match &ab.spec[arm.as_str()] {
        serde_json::Value::Object(m) if ab.spec["source"] == "groups" => {
            m.get("group").map(json_cell).unwrap_or_else(fallback)
        }
        serde_json::Value::Object(m) if !m.is_empty() => {
            m.iter().map(|(k, v)| format!("{k}={}", json_cell(v))).collect::<Vec<_>>().join(" ")
        }
        _ => fallback(),
    }
}

/// An arm as a report names it: `A: lr=0.001`.
fn arm_label(ab: &AbInfo, arm: Arm) -> String {
    format!("{}: {}", arm.as_str().to_uppercase(), arm_description(ab, arm))
}

/// The arm a group of `ab`'s runs belongs to (its runs' arm), if any.
fn group_arm(ab: &AbInfo, group_runs: &[String]) -> Option<Arm> {
    group_runs.iter().find_map(|id| ab.runs.iter().find(|r| &r.run_id == id).map(|r| r.arm))
}

/// One chart per metric: each group's mean with its min–max band when grouping (an A/B's
/// groups named for their arms), else each run's line (optionally EMA-smoothed).
fn charts(
    store: &mut dyn Backend,
    runs: &[RunInfo],
    r: &Report,
    a: &DocumentOptions,
    ab: Option<&AbInfo>,
    tick: &mut dyn FnMut(u64),
) -> Result<Vec<Chart>> {
    let axis = a.axis;
    let mut out = Vec::new();
    for m in &r.metrics {
        let grouped = r.grouped.iter().find(|g| g.metric == m.metric);
        let (series, note) = match grouped {
            Some(g) if axis == AxisKind::Step => {
                tick(runs.len() as u64);
                let series = g
                    .groups
                    .iter()
                    .map(|grp| ChartSeries {
                        label: match ab.and_then(|ab| group_arm(ab, &grp.runs).map(|arm| arm_label(ab, arm))) {
                            Some(arm) => format!("{arm} ({} runs)", grp.runs.len()),
                            None => format!("{} = {} ({} runs)", g.group_by.label(), grp.label, grp.runs.len()),
                        },
                        x: grp.series.steps.iter().map(|s| *s as f64).collect(),
                        y: grp.series.mean.clone(),
                        band: Some(Band { low: grp.series.min.clone(), high: grp.series.max.clone() }),
                    })
                    .collect();
                (series, Some("line: mean over the group's runs; band: min–max".to_string()))
            }
            _ => {
                let lines = aligned(store, runs, &m.metric, axis, a.points.max(2))?;
                tick(runs.len() as u64);
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

/// The statistics of an A/B, computed as its verdict was (the same runs, values and seed);
/// arms that cannot be compared say why.
fn ab_stats_section(store: &dyn Backend, ab: &AbInfo) -> Result<StatsSection> {
    Ok(match ab_comparison(store, ab)?.1 {
        Ok(c) => comparison_section(&c, &ab.metric, &arm_description(ab, Arm::A), &arm_description(ab, Arm::B)),
        Err(e) => StatsSection {
            metric: ab.metric.clone(),
            direction: ab.direction.clone(),
            rows: Vec::new(),
            verdict: format!("no verdict: {e}"),
        },
    })
}

/// A report's statistics table and verdict from one comparison of arms A and B.
fn comparison_section(c: &Comparison, metric: &str, label_a: &str, label_b: &str) -> StatsSection {
    let num = format_num;
    let opt = |v: Option<f64>| v.map(num).unwrap_or_else(|| "–".into());
    let group_row = |label: &str, s: &Summary| {
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
        group_row(&format!("A: {label_a}"), &c.a),
        group_row(&format!("B: {label_b}"), &c.b),
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;
    use trackbench_store::{Batch, NewAb, NewRun, RunStatus, StoreOptions};

    use super::*;
    use trackbench_store::Store;

    /// An A/B as the launcher makes it: runs grouped `ab-<id8>-a`/`-b`, two seeds per arm.
    fn launched_ab(spec: serde_json::Value) -> (tempfile::TempDir, Store, AbInfo) {
        let dir = tempfile::tempdir().unwrap();
        let opts = StoreOptions { clock: Arc::new(|| 1_000_000), ..StoreOptions::default() };
        let mut store = Store::open(dir.path(), opts).unwrap();
        let id = store
            .create_ab(&NewAb {
                project: "p".into(),
                name: "lr".into(),
                metric: "acc".into(),
                direction: "maximize".into(),
                spec,
            })
            .unwrap();
        let mut seq = 0;
        for (arm, lr, finals) in [(Arm::A, 0.001, [0.70, 0.72]), (Arm::B, 0.01, [0.80, 0.83])] {
            for (seed, last) in finals.into_iter().enumerate() {
                let new = NewRun {
                    project: "p".into(),
                    name: Some(format!("{}{} lr={lr}", arm.as_str().to_uppercase(), seed + 1)),
                    group: Some(format!("ab-{}-{}", &id[..8], arm.as_str())),
                    ..NewRun::default()
                };
                let run = store.create_run(&new).unwrap();
                let mut batch = Batch { params: vec![("lr".into(), json!(lr))], ..Batch::default() };
                for step in 0..3 {
                    batch.push_metric("acc", step, 1_000 + step, last - 0.1 * (2 - step) as f64);
                }
                store.log_batch(&run.id, &batch).unwrap();
                store.finish_run(&run.id, RunStatus::Finished, None).unwrap();
                seq += 1;
                store.add_ab_run(&id, arm, &run.id, seq).unwrap();
            }
        }
        let ab = store.ab(&id).unwrap();
        (dir, store, ab)
    }

    fn doc(store: &mut dyn Backend, ab: &AbInfo) -> ReportInput {
        let (selection, runs) = ab_selection(store, ab).unwrap();
        document(store, &selection, &runs, Some(ab), &DocumentOptions::default(), &mut |_, _| {}).unwrap()
    }

    fn legend(input: &ReportInput) -> Vec<&str> {
        input.charts[0].series.iter().map(|s| s.label.as_str()).collect()
    }

    #[test]
    fn an_ab_legend_names_its_arms_not_its_run_groups() {
        let (_dir, mut store, ab) = launched_ab(json!({
            "source": "launch",
            "a": {"lr": "0.001"},
            "b": {"lr": "0.01"},
            "base": {"epochs": "2"},
            "seeds": 2,
        }));
        let input = doc(&mut store, &ab);
        assert_eq!(input.charts.len(), 1);
        assert_eq!(legend(&input), ["A: lr=0.001 (2 runs)", "B: lr=0.01 (2 runs)"]);
        let stats = input.stats.unwrap();
        assert_eq!(stats.rows[0].0, "A: lr=0.001");
        assert_eq!(stats.rows[1].0, "B: lr=0.01");
    }

    #[test]
    fn an_ab_of_run_groups_is_named_for_the_groups() {
        let (_dir, mut store, ab) =
            launched_ab(json!({"source": "groups", "a": {"group": "baseline"}, "b": {"group": "wide"}}));
        assert_eq!(legend(&doc(&mut store, &ab)), ["A: baseline (2 runs)", "B: wide (2 runs)"]);
        let (_dir, mut store, ab) = launched_ab(json!({}));
        assert_eq!(legend(&doc(&mut store, &ab)), ["A: arm A (2 runs)", "B: arm B (2 runs)"]);
    }

    #[test]
    fn groups_outside_an_ab_keep_their_values() {
        let (_dir, mut store, ab) = launched_ab(json!({"source": "launch", "a": {"lr": "0.001"}, "b": {"lr": "0.01"}}));
        let (selection, runs) = ab_selection(&store, &ab).unwrap();
        let opts = DocumentOptions { group_by: Some(GroupBy::Param("lr".into())), ..DocumentOptions::default() };
        let input = document(&mut store, &selection, &runs, None, &opts, &mut |_, _| {}).unwrap();
        assert_eq!(legend(&input), ["params.lr = 0.001 (2 runs)", "params.lr = 0.01 (2 runs)"]);
    }
}
