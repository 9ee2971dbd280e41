//! Report rendering for Trackbench: a [`ReportInput`] (runs, param diff, charts, statistics —
//! already computed by the caller) in, document bytes out. Pure: same input, same bytes; no
//! clock, no randomness, no file system (Markdown's PNGs come back as bytes for the caller to
//! write).
//!
//! - [`render_html`]: one self-contained page (inline CSS, inline SVG charts, the DejaVu fonts
//!   embedded as base64 WOFF2; no scripts, no network). Every user string goes through
//!   minijinja's HTML auto-escaping; chart text is escaped by plotters' SVG backend.
//! - [`render_markdown`]: the same content as Markdown for a pull request, with one PNG per chart
//!   (returned as `(file name, bytes)`, linked as `<png_dir>/<file name>`).
//! - [`render_csv`] and [`render_json`]: the numbers behind every table and chart (chart points
//!   as given, not downsampled).
//! - [`chart_svg`], [`chart_png`]: one chart on its own; [`drift_chart_svg`],
//!   [`drift_chart_png`]: one column's drift chart on its own.
//!
//! A report may carry a [`DriftSection`] (two logged dataset profiles tested for drift): its
//! verdict, a table of every column by severity, and a chart per column for the
//! [`DRIFT_CHART_LIMIT`] most severe (overlaid histograms, or grouped bars of categories). A
//! report with a drift section and no runs is that section alone.
//!
//! Modules: `model` (the input), `view` (the input reshaped for templates), `chart` (plotters),
//! `drift_chart` (plotters, for drift), `downsample` (min/max buckets for drawing), `palette`,
//! `fonts`, `format` (numbers and escaping), `data` (CSV/JSON). Templates live in
//! `templates/`, compiled in.

mod chart;
mod data;
mod downsample;
mod drift_chart;
mod error;
mod fonts;
mod format;
pub mod model;
mod palette;
mod view;

use minijinja::{AutoEscape, Environment, Value, context};

pub use chart::{PNG_SIZE, SVG_SIZE, chart_png, chart_rgb, chart_svg, chart_svg_sized, height_for};
pub use data::{render_csv, render_json};
pub use drift_chart::{drift_chart_png, drift_chart_svg, drift_height_for};
pub use error::ReportError;
pub use format::{csv_field, csv_num, format_num};
pub use model::{
    Band, Chart, ChartSeries, DriftChart, DriftColumn, DriftRule, DriftSection, DriftSide, ParamDiff, ParamKeyDiff,
    ReportInput, RunRow, StatsSection,
};
pub use view::DRIFT_CHART_LIMIT;

/// A chart image for a Markdown report: `(file name, PNG bytes)`.
pub type NamedPng = (String, Vec<u8>);

const HTML_TEMPLATE: &str = include_str!("../templates/report.html");
const CSS_TEMPLATE: &str = include_str!("../templates/style.css");
const MD_TEMPLATE: &str = include_str!("../templates/report.md");

/// Renders the self-contained HTML report.
pub fn render_html(input: &ReportInput) -> Result<String, ReportError> {
    validate(input)?;
    let mut view = view::build(input);
    for (v, c) in view.charts.iter_mut().zip(&input.charts) {
        v.svg = chart_svg(c)?;
    }
    if let (Some(v), Some(d)) = (view.drift.as_mut(), &input.drift) {
        for c in &mut v.charts {
            c.svg = drift_chart_svg(&d.columns[c.source])?;
        }
    }
    let mut env = Environment::new();
    env.add_template("report.html", HTML_TEMPLATE).map_err(template_error("report.html"))?;
    env.add_template("style.css", CSS_TEMPLATE).map_err(template_error("style.css"))?;
    let ctx = context! { font_css => fonts::font_face_css(), ..Value::from_serialize(&view) };
    env.get_template("report.html").and_then(|t| t.render(ctx)).map_err(template_error("report.html"))
}

/// Renders the Markdown report and its charts as PNGs of [`PNG_SIZE`] (taller for many series,
/// see [`height_for`]). `png_dir` is the folder
/// (relative to the Markdown file) the caller writes the images into; the returned file names
/// are relative to it (`01-train-loss.png`).
pub fn render_markdown(input: &ReportInput, png_dir: &str) -> Result<(String, Vec<NamedPng>), ReportError> {
    validate(input)?;
    let mut view = view::build(input);
    let dir = png_dir.trim_end_matches('/');
    let mut images = Vec::with_capacity(input.charts.len());
    for (i, (v, c)) in view.charts.iter_mut().zip(&input.charts).enumerate() {
        let file = format!("{:02}-{}.png", i + 1, format::slug(&c.metric));
        let path = if dir.is_empty() { file.clone() } else { format!("{dir}/{file}") };
        v.image = format!("![{}]({})", format::markdown(&c.metric), format::url_path(&path));
        images.push((file, chart_png(c, PNG_SIZE.0, chart::height_for(c, PNG_SIZE.1))?));
    }
    if let (Some(v), Some(d)) = (view.drift.as_mut(), &input.drift) {
        for (i, c) in v.charts.iter_mut().enumerate() {
            // `drift-` keeps these apart from the metric charts' `NN-…` names.
            let file = format!("drift-{:02}-{}.png", i + 1, format::slug(&c.column));
            let path = if dir.is_empty() { file.clone() } else { format!("{dir}/{file}") };
            c.image = format!("![{}]({})", format::markdown(&c.column), format::url_path(&path));
            images.push((file, drift_chart::drift_chart_png_default(&d.columns[c.source])?));
        }
    }
    let mut env = Environment::new();
    env.set_auto_escape_callback(
        |name| if name.ends_with(".md") { AutoEscape::Custom("markdown") } else { AutoEscape::None },
    );
    env.set_formatter(|out, state, value| {
        if state.auto_escape() == AutoEscape::Custom("markdown") && !value.is_safe() {
            let text = if value.is_none() || value.is_undefined() { String::new() } else { value.to_string() };
            out.write_str(&format::markdown(&text)).map_err(minijinja::Error::from)
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    env.add_filter("html", |s: String| Value::from_safe_string(format::html(&s)));
    env.add_template("report.md", MD_TEMPLATE).map_err(template_error("report.md"))?;
    let ctx = context! {
        generated_by_code => Value::from_safe_string(format::markdown_code_span(&input.generated_by)),
        ..Value::from_serialize(&view)
    };
    let text = env.get_template("report.md").and_then(|t| t.render(ctx)).map_err(template_error("report.md"))?;
    Ok((text, images))
}

fn template_error(template: &'static str) -> impl Fn(minijinja::Error) -> ReportError {
    move |e| ReportError::Template { template: template.into(), message: format!("{e:#}") }
}

fn invalid(what: String, why: impl Into<String>) -> ReportError {
    ReportError::Invalid { what, why: why.into() }
}

/// Checks the shape rules the renderers rely on (see [`model`]).
pub fn validate(input: &ReportInput) -> Result<(), ReportError> {
    for k in &input.param_diff.keys {
        if k.values.len() > input.runs.len() {
            return Err(invalid(
                format!("param_diff key {:?}", k.key),
                format!("{} values for {} runs", k.values.len(), input.runs.len()),
            ));
        }
    }
    input.charts.iter().try_for_each(validate_chart)?;
    match &input.drift {
        Some(d) => d.columns.iter().try_for_each(drift_chart::validate),
        None => Ok(()),
    }
}

pub(crate) fn validate_chart(chart: &Chart) -> Result<(), ReportError> {
    for s in &chart.series {
        let what = || format!("chart {:?}, series {:?}", chart.metric, s.label);
        if s.x.len() != s.y.len() {
            return Err(invalid(what(), format!("{} x values but {} y values", s.x.len(), s.y.len())));
        }
        let band_len = s.band.as_ref().map(|b| (b.low.len(), b.high.len()));
        if let Some((low, high)) = band_len.filter(|&(l, h)| l != s.x.len() || h != s.x.len()) {
            return Err(invalid(what(), format!("band of {low}/{high} values for {} points", s.x.len())));
        }
    }
    Ok(())
}
