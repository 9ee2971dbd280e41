//! Report export for the UI: the self-contained HTML (or CSV/JSON numbers) `trackbench report`
//! writes, as a download. The document is built by `trackbench-compare`'s `document` (shared
//! with the CLI) and rendered by `trackbench-report`, on the blocking pool (charts are CPU work).
//!
//! - `GET /api/v1/report?runs=ID,ID…|filter=…|project=…[&metrics=a,b][&title=…][&group_by=…]
//!   [&direction=max|min][&axis=step|relative|wall][&smooth=0.6][&log_y=true][&points=N]
//!   [&format=html|csv|json]`: like `trackbench report RUNS… --metric a,b …`.
//! - `GET /api/v1/ab/{id}/report`: like `trackbench report --ab ID`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use trackbench_compare::{
    AxisKind, CompareError, Direction, DocumentOptions, GroupBy, Selection, ab_selection, document,
};
use trackbench_report::ReportInput;

use crate::error::{ApiError, ApiResult};
use crate::launch::compare_error;
use crate::state::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/api/v1/report", get(runs_report)).route("/api/v1/ab/{id}/report", get(ab_report))
}

#[derive(Deserialize, Default)]
struct ReportQuery {
    /// Comma-separated run ids, unique id prefixes or names.
    runs: Option<String>,
    filter: Option<String>,
    project: Option<String>,
    /// Comma-separated metric keys (`metric` is accepted too).
    metrics: Option<String>,
    metric: Option<String>,
    title: Option<String>,
    group_by: Option<String>,
    direction: Option<String>,
    axis: Option<String>,
    smooth: Option<f64>,
    log_y: Option<bool>,
    points: Option<usize>,
    format: Option<String>,
}

#[derive(Clone, Copy)]
enum Format {
    Html,
    Csv,
    Json,
}

impl ReportQuery {
    fn format(&self) -> ApiResult<Format> {
        match self.format.as_deref().unwrap_or("html") {
            "html" => Ok(Format::Html),
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            f => Err(ApiError::invalid(format!("format `{f}`: expected html, csv or json"))),
        }
    }

    fn options(&self, generated_by: String) -> ApiResult<DocumentOptions> {
        let list = |s: &Option<String>| -> Vec<String> {
            s.as_deref().unwrap_or("").split(',').map(str::trim).filter(|x| !x.is_empty()).map(String::from).collect()
        };
        let mut metrics = list(&self.metrics);
        metrics.extend(list(&self.metric));
        let direction = match self.direction.as_deref() {
            None | Some("") => None,
            Some("max" | "maximize") => Some(Direction::Maximize),
            Some("min" | "minimize") => Some(Direction::Minimize),
            Some(d) => return Err(ApiError::invalid(format!("direction `{d}`: expected max or min"))),
        };
        let axis = match self.axis.as_deref() {
            None => AxisKind::Step,
            Some(a) => AxisKind::parse(a)
                .ok_or_else(|| ApiError::invalid(format!("axis `{a}`: expected step, relative or wall")))?,
        };
        let smooth = self.smooth.unwrap_or(0.0);
        if !(0.0..1.0).contains(&smooth) {
            return Err(ApiError::invalid("smooth: expected 0 (none) to 0.99"));
        }
        Ok(DocumentOptions {
            metrics,
            direction,
            group_by: self
                .group_by
                .as_deref()
                .filter(|g| !g.is_empty())
                .map(GroupBy::parse)
                .transpose()
                .map_err(compare_error)?,
            axis,
            smooth,
            log_y: self.log_y.unwrap_or(false),
            points: self.points.unwrap_or(1000).clamp(2, 10_000),
            title: self.title.clone().filter(|t| !t.is_empty()),
            generated_at_ms: trackbench_store::now_ms(),
            generated_by,
        })
    }
}

async fn runs_report(State(s): State<Arc<AppState>>, Query(q): Query<ReportQuery>) -> ApiResult<Response> {
    let format = q.format()?;
    let opts = q.options("trackbench serve: GET /api/v1/report".into())?;
    let runs: Vec<String> =
        q.runs.as_deref().unwrap_or("").split(',').map(str::trim).filter(|r| !r.is_empty()).map(String::from).collect();
    let selection = if !runs.is_empty() {
        if q.filter.is_some() {
            return Err(ApiError::invalid("give `runs` or `filter`, not both"));
        }
        Selection::Ids(runs)
    } else if q.filter.is_some() || q.project.is_some() {
        Selection::Filter { project: q.project.clone(), filter: q.filter.clone() }
    } else {
        return Err(ApiError::invalid("choose runs: `runs=ID,ID…`, or `filter` and/or `project`"));
    };
    let (input, first) = s
        .read(move |st| {
            let runs = selection.resolve(st).map_err(compare_error)?;
            if runs.is_empty() {
                return Err(compare_error(CompareError::NoRuns(format!("{} matches none", selection.describe()))));
            }
            let first = runs[0].id.clone();
            let input = document(st, &selection, &runs, None, &opts, &mut |_, _| {}).map_err(compare_error)?;
            Ok((input, first))
        })
        .await?;
    let name =
        if input.runs.len() == 1 { first.chars().take(8).collect() } else { format!("{}-runs", input.runs.len()) };
    render(input, format, &name).await
}

async fn ab_report(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    let format = q.format()?;
    let opts = q.options("trackbench serve: GET /api/v1/ab/{id}/report".into())?;
    let (input, ab_id) = s
        .read(move |st| {
            let ab = st.ab(&st.resolve_ab(&id)?)?;
            let (selection, runs) = ab_selection(st, &ab).map_err(compare_error)?;
            if runs.is_empty() {
                return Err(ApiError::invalid(format!("A/B {} has no runs yet", ab.id)));
            }
            let input = document(st, &selection, &runs, Some(&ab), &opts, &mut |_, _| {}).map_err(compare_error)?;
            Ok((input, ab.id))
        })
        .await?;
    render(input, format, &format!("ab-{}", ab_id.chars().take(8).collect::<String>())).await
}

/// Renders on the blocking pool and answers it as a download.
async fn render(input: ReportInput, format: Format, name: &str) -> ApiResult<Response> {
    let (ext, content_type) = match format {
        Format::Html => ("html", "text/html; charset=utf-8"),
        Format::Csv => ("csv", "text/csv; charset=utf-8"),
        Format::Json => ("json", "application/json"),
    };
    let text = crate::state::blocking(move || {
        let out = match format {
            Format::Html => trackbench_report::render_html(&input),
            Format::Csv => trackbench_report::render_csv(&input),
            Format::Json => trackbench_report::render_json(&input),
        };
        out.map_err(|e| ApiError::internal(format!("rendering the report: {e}")))
    })
    .await?;
    let safe: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
    let disposition = format!("attachment; filename=\"trackbench-report-{safe}.{ext}\"");
    let mut resp = text.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
