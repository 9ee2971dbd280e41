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

use crate::error::ReportError;
use crate::format::{csv_field, csv_num};
use crate::model::ReportInput;

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
    Ok(out)
}

/// Renders the input as compact JSON (see the module docs).
pub fn render_json(input: &ReportInput) -> Result<String, ReportError> {
    crate::validate(input)?;
    serde_json::to_string(input).map_err(|e| ReportError::Invalid { what: "report".into(), why: e.to_string() })
}
