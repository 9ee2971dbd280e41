//! The numbers behind the report: CSV in one long (tidy) table, and JSON that is the input
//! itself (it parses back into an equal [`ReportInput`]; NaN and ±inf as `"NaN"`, `"inf"`,
//! `"-inf"`). Chart points are the input's, not the downsampled ones drawn.
//!
//! CSV columns: `section,metric,series,key,x,value`, one value per row:
//!
//! | section | metric | series | key | x | value |
//! |---|---|---|---|---|---|
//! | `report` | | | `title` / `generated_at` / `generated_by` | | text |
//! | `run` | | run id | `name`, `project`, `status`, `group`, `created`, `duration_s`, `host`, `command`, `git_commit`, `git_dirty`, `tag.<k>`, `summary.<k>`, `env.<k>` | | value |
//! | `param` | | run id | param key (differing keys; a run without the key has no row) | | value |
//! | `param_equal` | | | param key | | value |
//! | `stats` | metric | row label (empty for `direction`, `verdict`) | column | | value |
//! | `chart` | metric | series label | `y`, `band_low`, `band_high` | x | value |
//! | `drift` | | `reference` / `current` | `run`, `run_name`, `dataset`, `step`, `rows` | | value |
//! | `drift` | | | `tested`, `drifted`, `share`, `drift_share`, `drift` | | value |
//! | `drift_column` | column | | `ref_dtype`, `cur_dtype`, `test`, `reason`, `statistic`, `p_value`, `threshold`, `rule`, `drift`, `exact`, `error_bound`, `ref_n`, `cur_n`, `note` (one row per note), `chart` (`histogram` / `categories` / `none: why`) | | value |
//! | `drift_chart` | column | `reference` / `current` | `share` (x: a bin's lower edge, or a category), `other`, `error` | x | value |
//! | `drift_chart` | column | | `top_edge` (the last bin's upper edge) | | value |
//!
//! Drift rows keep the input's column order (the documents show them by severity); an absent
//! value (an untested column's statistic) has no row.

use crate::error::ReportError;
use crate::format::{csv_field, csv_num};
use crate::model::{DriftChart, DriftRule, ReportInput};

/// Renders the CSV described in the module docs.
pub fn render_csv(input: &ReportInput) -> Result<String, ReportError> {
    crate::validate(input)?;
    let mut out = String::from("section,metric,series,key,x,value\n");
    let mut row = |section: &str, metric: &str, series: &str, key: &str, x: &str, value: &str| {
        for (i, f) in [section, metric, series, key, x, value].into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&csv_field(f));
        }
        out.push('\n');
    };
    row("report", "", "", "title", "", &input.title);
    row("report", "", "", "generated_at", "", &input.generated_at);
    row("report", "", "", "generated_by", "", &input.generated_by);
    for r in &input.runs {
        let id = r.id.as_str();
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        for (k, v) in [
            ("name", r.name.clone()),
            ("project", r.project.clone()),
            ("status", r.status.clone()),
            ("group", opt(&r.group)),
            ("created", r.created.clone()),
            ("duration_s", r.duration_s.map(csv_num).unwrap_or_default()),
            ("host", opt(&r.host)),
            ("command", opt(&r.command)),
            ("git_commit", opt(&r.git_commit)),
            ("git_dirty", r.git_dirty.map(|d| d.to_string()).unwrap_or_default()),
        ] {
            row("run", "", id, k, "", &v);
        }
        for (k, v) in &r.tags {
            row("run", "", id, &format!("tag.{k}"), "", v);
        }
        for (k, v) in &r.summary {
            row("run", "", id, &format!("summary.{k}"), "", &csv_num(*v));
        }
        if let serde_json::Value::Object(m) = &r.env {
            for (k, v) in m {
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                row("run", "", id, &format!("env.{k}"), "", &text);
            }
        } else if !r.env.is_null() {
            row("run", "", id, "env", "", &r.env.to_string());
        }
    }
    for k in &input.param_diff.keys {
        for (r, v) in input.runs.iter().zip(&k.values) {
            if let Some(v) = v {
                row("param", "", &r.id, &k.key, "", v);
            }
        }
    }
    for (k, v) in &input.param_diff.equal {
        row("param_equal", "", "", k, "", v);
    }
    if let Some(s) = &input.stats {
        row("stats", &s.metric, "", "direction", "", &s.direction);
        for (label, cells) in &s.rows {
            for (c, v) in cells {
                row("stats", &s.metric, label, c, "", v);
            }
        }
        row("stats", &s.metric, "", "verdict", "", &s.verdict);
    }
    for c in &input.charts {
        for s in &c.series {
            for (i, (x, y)) in s.x.iter().zip(&s.y).enumerate() {
                let x = csv_num(*x);
                row("chart", &c.metric, &s.label, "y", &x, &csv_num(*y));
                if let Some(b) = &s.band {
                    row("chart", &c.metric, &s.label, "band_low", &x, &csv_num(b.low[i]));
                    row("chart", &c.metric, &s.label, "band_high", &x, &csv_num(b.high[i]));
                }
            }
        }
    }
    if let Some(d) = &input.drift {
        for (name, side) in [("reference", &d.reference), ("current", &d.current)] {
            row("drift", "", name, "run", "", &side.run);
            row("drift", "", name, "run_name", "", &side.run_name);
            row("drift", "", name, "dataset", "", &side.dataset);
            if let Some(step) = side.step {
                row("drift", "", name, "step", "", &step.to_string());
            }
            row("drift", "", name, "rows", "", &side.rows.to_string());
        }
        row("drift", "", "", "tested", "", &d.tested.to_string());
        row("drift", "", "", "drifted", "", &d.drifted.to_string());
        if let Some(share) = d.share {
            row("drift", "", "", "share", "", &csv_num(share));
        }
        row("drift", "", "", "drift_share", "", &csv_num(d.drift_share));
        row("drift", "", "", "drift", "", &d.drift.to_string());
        for c in &d.columns {
            let col = c.column.as_str();
            let mut cell = |key: &str, value: Option<String>| {
                if let Some(v) = value {
                    row("drift_column", col, "", key, "", &v);
                }
            };
            cell("ref_dtype", c.ref_dtype.clone());
            cell("cur_dtype", c.cur_dtype.clone());
            cell("test", c.test.clone());
            cell("reason", Some(c.reason.clone()));
            cell("statistic", c.statistic.map(csv_num));
            cell("p_value", c.p_value.map(csv_num));
            cell("threshold", c.threshold.map(csv_num));
            let rule = match c.rule {
                DriftRule::PValueBelow => "p_value_below",
                DriftRule::StatisticAtLeast => "statistic_at_least",
            };
            cell("rule", Some(rule.into()));
            cell("drift", c.drift.map(|d| d.to_string()));
            cell("exact", Some(c.exact.to_string()));
            cell("error_bound", c.error_bound.map(csv_num));
            cell("ref_n", Some(c.ref_n.to_string()));
            cell("cur_n", Some(c.cur_n.to_string()));
            for n in &c.notes {
                cell("note", Some(n.clone()));
            }
            let kind = match &c.chart {
                DriftChart::Histogram { .. } => "histogram".to_string(),
                DriftChart::Categories { .. } => "categories".to_string(),
                DriftChart::None { why } => format!("none: {why}"),
            };
            cell("chart", Some(kind));
            let sides =
                |r: &[f64], c: &[f64], re: f64, ce: f64| [("reference", r.to_vec(), re), ("current", c.to_vec(), ce)];
            match &c.chart {
                DriftChart::Histogram { edges, reference, current, reference_error, current_error } => {
                    for (side, shares, error) in sides(reference, current, *reference_error, *current_error) {
                        for (edge, share) in edges.iter().zip(&shares) {
                            row("drift_chart", col, side, "share", &csv_num(*edge), &csv_num(*share));
                        }
                        row("drift_chart", col, side, "error", "", &csv_num(error));
                    }
                    if let Some(top) = edges.last() {
                        row("drift_chart", col, "", "top_edge", "", &csv_num(*top));
                    }
                }
                DriftChart::Categories {
                    labels,
                    reference,
                    current,
                    reference_other,
                    current_other,
                    reference_error,
                    current_error,
                } => {
                    let others = [*reference_other, *current_other];
                    for ((side, shares, error), other) in
                        sides(reference, current, *reference_error, *current_error).into_iter().zip(others)
                    {
                        for (label, share) in labels.iter().zip(&shares) {
                            row("drift_chart", col, side, "share", label, &csv_num(*share));
                        }
                        row("drift_chart", col, side, "other", "", &csv_num(other));
                        row("drift_chart", col, side, "error", "", &csv_num(error));
                    }
                }
                DriftChart::None { .. } => {}
            }
        }
    }
    Ok(out)
}

/// Renders the input as compact JSON (see the module docs).
pub fn render_json(input: &ReportInput) -> Result<String, ReportError> {
    crate::validate(input)?;
    serde_json::to_string(input).map_err(|e| ReportError::Invalid { what: "report".into(), why: e.to_string() })
}
