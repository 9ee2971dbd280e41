//! The view model: [`ReportInput`] reshaped for the templates (numbers formatted, summary columns
//! aligned, param cells classified, stats rows grouped into tables), so the HTML and Markdown
//! templates only lay text out and make no decisions of their own.

use serde::Serialize;

use crate::format;
use crate::model::{ReportInput, RunRow, StatsSection};

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
    }
}

/// Unique `chart-<slug>` anchors (a number is appended on collisions).
pub(crate) fn anchors<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    names
        .map(|n| {
            let base = format!("chart-{}", format::slug(n));
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
