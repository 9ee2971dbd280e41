//! The view model: [`ReportInput`] reshaped for the templates (numbers formatted, summary columns
//! aligned, param cells classified, stats rows grouped into tables), so the HTML and Markdown
//! templates only lay text out and make no decisions of their own.

use serde::Serialize;

use crate::drift_chart::drawable;
use crate::format;
use crate::model::{DriftChart, DriftColumn, DriftRule, DriftSection, DriftSide, ReportInput, RunRow, StatsSection};

/// At most this many drift charts are drawn (the most severe columns); the table lists every
/// column.
pub const DRIFT_CHART_LIMIT: usize = 20;

#[derive(Debug, Serialize)]
pub(crate) struct View {
    pub title: String,
    pub generated_at: String,
    pub generated_by: String,
    pub summary_keys: Vec<String>,
    pub runs: Vec<RunView>,
    pub params: ParamsView,
    pub charts: Vec<ChartView>,
    pub stats: Option<StatsView>,
    pub drift: Option<DriftView>,
    /// Whether the runs, params and environment sections are shown: always, except in a report
    /// of a drift section alone (no runs).
    pub show_runs: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct RunView {
    pub id: String,
    pub name: String,
    pub project: String,
    pub status: String,
    /// A CSS class for the status badge (`ok`, `bad`, `live`, `other`).
    pub status_class: &'static str,
    pub group: String,
    pub created: String,
    pub duration: String,
    pub host: String,
    pub command: String,
    pub git_commit: String,
    pub git_short: String,
    /// `"yes"`, `"no"` or `""` (unknown).
    pub git_dirty: &'static str,
    pub tags: Vec<String>,
    /// Aligned with [`View::summary_keys`]; `""` where the run has no such value.
    pub summary: Vec<String>,
    /// The environment as `(name, value)` rows (an object's entries; anything else as one row).
    pub env: Vec<(String, String)>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ParamsView {
    pub rows: Vec<ParamRowView>,
    pub equal_count: usize,
    pub equal: Vec<(String, String)>,
    /// Equal keys counted but not listed.
    pub equal_unlisted: usize,
}

#[derive(Debug, Serialize)]
pub(crate) struct ParamRowView {
    pub key: String,
    pub cells: Vec<ParamCell>,
}

/// One param value. `class`: `ref` (the first run's value, the reference), `same` (equal to it),
/// `diff` (differs from it, highlighted), `missing` (the run has no such param).
#[derive(Debug, Serialize)]
pub(crate) struct ParamCell {
    pub text: String,
    pub class: &'static str,
}

#[derive(Debug, Serialize)]
pub(crate) struct ChartView {
    pub metric: String,
    pub anchor: String,
    pub note: String,
    /// HTML: the inline SVG document (ours, so marked safe in the template). Markdown: empty.
    pub svg: String,
    /// Markdown: the image link (`![metric](dir/01-metric.png)`, escaped). HTML: empty.
    pub image: String,
    pub series_count: usize,
}

#[derive(Debug, Serialize)]
pub(crate) struct StatsView {
    pub metric: String,
    pub direction: String,
    pub tables: Vec<StatsTable>,
    pub verdict: String,
}

/// Consecutive stats rows that share the same columns.
#[derive(Debug, Serialize)]
pub(crate) struct StatsTable {
    pub columns: Vec<String>,
    pub rows: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Serialize)]
pub(crate) struct DriftView {
    pub sides: Vec<DriftSideView>,
    /// The dataset's verdict in words.
    pub verdict: String,
    /// `drift`, `ok` or `none` (nothing tested).
    pub verdict_class: &'static str,
    /// In severity order.
    pub rows: Vec<DriftRowView>,
    pub charts: Vec<DriftChartView>,
    /// Columns with a chart to draw that were left out by [`DRIFT_CHART_LIMIT`].
    pub omitted: usize,
    pub chart_limit: usize,
}

#[derive(Debug, Serialize)]
pub(crate) struct DriftSideView {
    /// `Reference` or `Current`.
    pub role: &'static str,
    pub run: String,
    pub run_name: String,
    pub dataset: String,
    pub step: String,
    pub rows: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct DriftRowView {
    pub column: String,
    pub dtype: String,
    pub test: String,
    pub statistic: String,
    pub p_value: String,
    pub threshold: String,
    /// `DRIFT`, `ok` or `untested`.
    pub verdict: &'static str,
    /// A badge class: `bad`, `ok` or `other`.
    pub verdict_class: &'static str,
    /// `exact`, `± bound`, `sketched` or empty (untested).
    pub bound: String,
    /// Why this test was chosen, then the notes (the empty ones left out).
    pub why: Vec<String>,
    /// The chart's anchor when the column is charted, else empty.
    pub anchor: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct DriftChartView {
    pub column: String,
    pub anchor: String,
    pub note: String,
    /// HTML: the inline SVG (ours, marked safe). Markdown: empty.
    pub svg: String,
    /// Markdown: the image link (escaped). HTML: empty.
    pub image: String,
    /// The column's index in the input (which chart to draw).
    #[serde(skip)]
    pub source: usize,
}

pub(crate) fn build(input: &ReportInput) -> View {
    let mut summary_keys: Vec<String> = Vec::new();
    for r in &input.runs {
        for (k, _) in &r.summary {
            if !summary_keys.contains(k) {
                summary_keys.push(k.clone());
            }
        }
    }
    let runs = input.runs.iter().map(|r| run_view(r, &summary_keys)).collect();
    let chart_anchors = anchors(input.charts.iter().map(|c| c.metric.as_str()));
    View {
        title: input.title.clone(),
        generated_at: input.generated_at.clone(),
        generated_by: input.generated_by.clone(),
        summary_keys,
        runs,
        params: params_view(input),
        charts: input
            .charts
            .iter()
            .zip(chart_anchors)
            .map(|(c, anchor)| ChartView {
                metric: c.metric.clone(),
                anchor,
                note: c.note.clone().unwrap_or_default(),
                svg: String::new(),
                image: String::new(),
                series_count: c.series.len(),
            })
            .collect(),
        stats: input.stats.as_ref().map(stats_view),
        drift: input.drift.as_ref().map(drift_view),
        show_runs: !input.runs.is_empty() || input.drift.is_none(),
    }
}

/// Unique `chart-<slug>` anchors (a number is appended on collisions).
pub(crate) fn anchors<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    prefixed_anchors("chart", names)
}

/// Unique `<prefix>-<slug>` anchors (a number is appended on collisions).
fn prefixed_anchors<'a>(prefix: &str, names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    names
        .map(|n| {
            let base = format!("{prefix}-{}", format::slug(n));
            let mut a = base.clone();
            let mut k = 2;
            while !seen.insert(a.clone()) {
                a = format!("{base}-{k}");
                k += 1;
            }
            a
        })
        .collect()
}

fn run_view(r: &RunRow, summary_keys: &[String]) -> RunView {
    let status_class = match r.status.as_str() {
        "finished" => "ok",
        "failed" | "crashed" | "killed" => "bad",
        "running" => "live",
        _ => "other",
    };
    let summary = summary_keys
        .iter()
        .map(|k| r.summary.iter().find(|(key, _)| key == k).map(|(_, v)| format::format_num(*v)).unwrap_or_default())
        .collect();
    let env = match &r.env {
        serde_json::Value::Null => Vec::new(),
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect(),
        other => vec![("value".to_string(), other.to_string())],
    };
    let git_commit = r.git_commit.clone().unwrap_or_default();
    RunView {
        id: r.id.clone(),
        name: r.name.clone(),
        project: r.project.clone(),
        status: r.status.clone(),
        status_class,
        group: r.group.clone().unwrap_or_default(),
        created: r.created.clone(),
        duration: r.duration_s.map(format::duration).unwrap_or_default(),
        host: r.host.clone().unwrap_or_default(),
        command: r.command.clone().unwrap_or_default(),
        git_short: git_commit.chars().take(10).collect(),
        git_commit,
        git_dirty: match r.git_dirty {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        },
        tags: r.tags.iter().map(|(k, v)| if v.is_empty() { k.clone() } else { format!("{k}={v}") }).collect(),
        summary,
        env,
    }
}

fn params_view(input: &ReportInput) -> ParamsView {
    let n = input.runs.len();
    let rows = input
        .param_diff
        .keys
        .iter()
        .map(|k| {
            let value = |i: usize| k.values.get(i).cloned().flatten();
            let reference = value(0);
            let cells = (0..n)
                .map(|i| match value(i) {
                    None => ParamCell { text: "—".into(), class: "missing" },
                    Some(v) => {
                        let class = if i == 0 {
                            "ref"
                        } else if reference.as_deref() == Some(v.as_str()) {
                            "same"
                        } else {
                            "diff"
                        };
                        ParamCell { text: v, class }
                    }
                })
                .collect();
            ParamRowView { key: k.key.clone(), cells }
        })
        .collect();
    let d = &input.param_diff;
    ParamsView {
        rows,
        equal_count: d.equal_count.max(d.equal.len()),
        equal: d.equal.clone(),
        equal_unlisted: d.equal_count.saturating_sub(d.equal.len()),
    }
}

fn stats_view(s: &StatsSection) -> StatsView {
    let mut tables: Vec<StatsTable> = Vec::new();
    for (label, cells) in &s.rows {
        let columns: Vec<String> = cells.iter().map(|(c, _)| c.clone()).collect();
        let values: Vec<String> = cells.iter().map(|(_, v)| v.clone()).collect();
        match tables.last_mut() {
            Some(t) if t.columns == columns => t.rows.push((label.clone(), values)),
            _ => tables.push(StatsTable { columns, rows: vec![(label.clone(), values)] }),
        }
    }
    StatsView { metric: s.metric.clone(), direction: s.direction.clone(), tables, verdict: s.verdict.clone() }
}

fn side_view(role: &'static str, s: &DriftSide) -> DriftSideView {
    DriftSideView {
        role,
        run: s.run.clone(),
        run_name: s.run_name.clone(),
        dataset: s.dataset.clone(),
        step: s.step.map_or_else(|| "—".into(), |v| v.to_string()),
        rows: s.rows.to_string(),
    }
}

fn percent(share: f64) -> String {
    if share.is_finite() {
        format!("{}%", format::format_num((share * 100.0).round()))
    } else {
        format::format_num(share)
    }
}

/// The dataset's verdict in words, and its class.
fn drift_verdict(d: &DriftSection) -> (String, &'static str) {
    let untested = d.columns.len().saturating_sub(d.tested);
    let untested = match untested {
        0 => String::new(),
        1 => "; 1 column could not be tested".into(),
        n => format!("; {n} columns could not be tested"),
    };
    let Some(share) = d.share else {
        return (format!("No column could be tested, so there is no verdict{untested}."), "none");
    };
    let counts = format!(
        "{} of {} tested column{} drifted ({}; the dataset drifts at {} or more){untested}.",
        d.drifted,
        d.tested,
        if d.tested == 1 { "" } else { "s" },
        percent(share),
        percent(d.drift_share),
    );
    if d.drift { (format!("The dataset drifted: {counts}"), "drift") } else { (format!("No drift: {counts}"), "ok") }
}

fn opt_num(v: Option<f64>) -> String {
    v.map(format::format_num).unwrap_or_default()
}

fn drift_row(c: &DriftColumn, anchor: String) -> DriftRowView {
    let dtype = match (&c.ref_dtype, &c.cur_dtype) {
        (Some(a), Some(b)) if a == b => a.clone(),
        (a, b) => format!("{} / {}", a.as_deref().unwrap_or("—"), b.as_deref().unwrap_or("—")),
    };
    let threshold = match (c.threshold, c.rule) {
        (None, _) => String::new(),
        (Some(t), DriftRule::PValueBelow) => format!("p < {}", format::format_num(t)),
        (Some(t), DriftRule::StatisticAtLeast) => format!("≥ {}", format::format_num(t)),
    };
    let (verdict, verdict_class) = match c.drift {
        Some(true) => ("DRIFT", "bad"),
        Some(false) => ("ok", "ok"),
        None => ("untested", "other"),
    };
    let bound = match (&c.test, c.exact, c.error_bound) {
        (None, _, _) => String::new(),
        (_, true, _) => "exact".into(),
        (_, false, Some(b)) => format!("± {}", format::format_num(b)),
        (_, false, None) => "sketched".into(),
    };
    let mut why: Vec<String> = std::iter::once(&c.reason).chain(&c.notes).filter(|s| !s.is_empty()).cloned().collect();
    if let DriftChart::None { why: no_chart } = &c.chart
        && !no_chart.is_empty()
    {
        why.push(format!("no chart: {no_chart}"));
    }
    DriftRowView {
        column: c.column.clone(),
        dtype,
        test: c.test.clone().unwrap_or_default(),
        statistic: opt_num(c.statistic),
        p_value: opt_num(c.p_value),
        threshold,
        verdict,
        verdict_class,
        bound,
        why,
        anchor,
    }
}

/// What a drift chart's caption says: the test's numbers and how to read the bars.
fn drift_chart_note(c: &DriftColumn) -> String {
    let mut parts = Vec::new();
    if let (Some(test), Some(stat)) = (&c.test, c.statistic) {
        let mut s = format!("{test} {}", format::format_num(stat));
        if let Some(p) = c.p_value {
            s.push_str(&format!(", p = {}", format::format_num(p)));
        }
        let verdict = match c.drift {
            Some(true) => "drift",
            Some(false) => "no drift",
            None => "untested",
        };
        s.push_str(&format!(": {verdict}"));
        parts.push(s);
    }
    let errors = |r: f64, c: f64| {
        let r = (r.is_finite() && r > 0.0).then(|| format!("± {} (reference)", format::format_num(r)));
        let c = (c.is_finite() && c > 0.0).then(|| format!("± {} (current)", format::format_num(c)));
        let both: Vec<String> = r.into_iter().chain(c).collect();
        (!both.is_empty()).then(|| format!("sketched: each share within {}", both.join(", ")))
    };
    match &c.chart {
        DriftChart::Histogram { edges, reference_error, current_error, .. } => {
            let bins = edges.len().saturating_sub(1);
            parts.push(format!(
                "{bins} bin{} over both sides' finite values; each side's share of its values",
                if bins == 1 { "" } else { "s" }
            ));
            parts.extend(errors(*reference_error, *current_error));
        }
        DriftChart::Categories { labels, reference_error, current_error, .. } => {
            parts.push(format!(
                "the {} most frequent categor{} in either side, then the rest as (other); each side's share of its values",
                labels.len(),
                if labels.len() == 1 { "y" } else { "ies" }
            ));
            parts.extend(errors(*reference_error, *current_error));
        }
        DriftChart::None { .. } => {}
    }
    parts.join(" · ")
}

fn drift_view(d: &DriftSection) -> DriftView {
    let order = d.severity_order();
    let charted: Vec<usize> = order.iter().copied().filter(|&i| drawable(&d.columns[i])).collect();
    let omitted = charted.len().saturating_sub(DRIFT_CHART_LIMIT);
    let charted = &charted[..charted.len().min(DRIFT_CHART_LIMIT)];
    let chart_anchors = prefixed_anchors("drift", charted.iter().map(|&i| d.columns[i].column.as_str()));
    let anchor_of = |i: usize| charted.iter().position(|&j| j == i).map(|k| chart_anchors[k].clone());
    let (verdict, verdict_class) = drift_verdict(d);
    DriftView {
        sides: vec![side_view("Reference", &d.reference), side_view("Current", &d.current)],
        verdict,
        verdict_class,
        rows: order.iter().map(|&i| drift_row(&d.columns[i], anchor_of(i).unwrap_or_default())).collect(),
        charts: charted
            .iter()
            .zip(&chart_anchors)
            .map(|(&i, anchor)| DriftChartView {
                column: d.columns[i].column.clone(),
                anchor: anchor.clone(),
                note: drift_chart_note(&d.columns[i]),
                svg: String::new(),
                image: String::new(),
                source: i,
            })
            .collect(),
        omitted,
        chart_limit: DRIFT_CHART_LIMIT,
    }
}
