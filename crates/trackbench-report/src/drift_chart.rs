//! One column's drift chart drawn with plotters, as SVG text (HTML) or PNG bytes (Markdown), in
//! the metric charts' look (same fonts, colours, sizes, caption, gridlines and legend column):
//! the reference in the first series colour, the current data in the second.
//!
//! - A numeric column: both histograms overlaid on the bins they share, each a translucent fill
//!   under a solid outline, so where they differ shows at a glance.
//! - A categorical column: horizontal grouped bars, one pair per category (the most frequent,
//!   then every other category together as "(other)"), labels on the left where long names fit.
//!
//! Shares are drawn as percentages. A side whose shares carry an error (sketched profiles) gets
//! a whisker of ± that error on each bar. Non-finite or out-of-range numbers leave their bar out;
//! nothing in the input can make drawing fail or panic. Text goes to plotters unescaped (its SVG
//! backend escapes it); line breaks in names become spaces.

use std::ops::Range;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::chart::{
    LEGEND_ROW, LIMIT, MUTED, PNG_SIZE, SVG_SIZE, TEXT, clamp_size, encode_png, extent, fit, font, house_mesh,
    linear_range,
};
use crate::error::ReportError;
use crate::format;
use crate::model::{DriftChart, DriftColumn};
use crate::palette::series_style;

/// Fill opacity of the overlaid histograms (two fills over each other stay readable).
const FILL_ALPHA: f64 = 0.28;
/// Fill opacity of the grouped category bars.
const BAR_ALPHA: f64 = 0.85;
/// Pixels per category in a categorical chart (a pair of bars and a gap).
const CATEGORY_ROW: u32 = 26;
const LEGEND: [&str; 2] = ["reference", "current"];

/// Renders `column`'s chart as an SVG document [`SVG_SIZE`] wide and as tall as
/// [`drift_height_for`] says. A column with [`DriftChart::None`] is an error.
pub fn drift_chart_svg(column: &DriftColumn) -> Result<String, ReportError> {
    validate(column)?;
    crate::fonts::register();
    let mut svg = String::new();
    {
        let size = clamp_size(SVG_SIZE.0, drift_height_for(column, SVG_SIZE.1));
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw(&root, column).map_err(|e| chart_error(column, e))?;
        root.present().map_err(|e| chart_error(column, format!("{e:?}")))?;
    }
    Ok(svg)
}

/// Renders `column`'s chart as a PNG of `width` x `height` pixels (clamped like
/// [`crate::chart_png`]'s). A column with [`DriftChart::None`] is an error.
pub fn drift_chart_png(column: &DriftColumn, width: u32, height: u32) -> Result<Vec<u8>, ReportError> {
    validate(column)?;
    crate::fonts::register();
    let (w, h) = clamp_size(width, height);
    let mut buf = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        draw(&root, column).map_err(|e| chart_error(column, e))?;
        root.present().map_err(|e| chart_error(column, format!("{e:?}")))?;
    }
    encode_png(&buf, w, h).map_err(|e| chart_error(column, e))
}

/// The PNG a Markdown report gets: [`PNG_SIZE`], taller for many categories.
pub(crate) fn drift_chart_png_default(column: &DriftColumn) -> Result<Vec<u8>, ReportError> {
    drift_chart_png(column, PNG_SIZE.0, drift_height_for(column, PNG_SIZE.1))
}

/// `base` or, for a categorical chart with many categories, tall enough for each pair of bars.
pub fn drift_height_for(column: &DriftColumn, base: u32) -> u32 {
    match &column.chart {
        DriftChart::Categories { labels, .. } => base.max((labels.len().min(300) as u32 + 1) * CATEGORY_ROW + 110),
        _ => base,
    }
}

/// Whether the column has something to draw.
pub(crate) fn drawable(column: &DriftColumn) -> bool {
    !matches!(column.chart, DriftChart::None { .. })
}

/// The shape rules of a drift chart: each side's shares aligned with the bins or labels.
pub(crate) fn validate(column: &DriftColumn) -> Result<(), ReportError> {
    let invalid =
        |why: String| ReportError::Invalid { what: format!("drift chart of column {:?}", column.column), why };
    match &column.chart {
        DriftChart::Histogram { edges, reference, current, .. } => {
            for (side, shares) in [("reference", reference), ("current", current)] {
                if shares.len() + 1 != edges.len() && !(shares.is_empty() && edges.is_empty()) {
                    return Err(invalid(format!("{} {side} shares for {} edges", shares.len(), edges.len())));
                }
            }
        }
        DriftChart::Categories { labels, reference, current, .. } => {
            for (side, shares) in [("reference", reference), ("current", current)] {
                if shares.len() != labels.len() {
                    return Err(invalid(format!("{} {side} shares for {} labels", shares.len(), labels.len())));
                }
            }
        }
        DriftChart::None { .. } => {}
    }
    Ok(())
}

fn chart_error(column: &DriftColumn, message: impl Into<String>) -> ReportError {
    ReportError::Chart { metric: column.column.clone(), message: message.into() }
}

/// `text` on one line (a chart title or label is one line of SVG text).
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// A share as an axis tick: `25%`.
fn percent(v: f64) -> String {
    format!("{}%", format::tick(v * 100.0))
}

/// A number a bar can be drawn at.
fn finite(v: f64) -> Option<f64> {
    (v.abs() <= LIMIT).then_some(v)
}

/// A side's error as a whisker half-length, when there is one to draw.
fn whisker(error: f64) -> Option<f64> {
    finite(error).filter(|e| *e > 0.0)
}

/// The share axis: from 0 (or the lowest value) to a little above the highest value + error.
fn share_range(values: impl Iterator<Item = f64>) -> Range<f64> {
    let Some((lo, hi)) = extent(values.chain([0.0])) else { return 0.0..1.0 };
    if hi - lo <= 0.0 {
        return linear_range(Some((lo, hi)), 0.05);
    }
    let pad = (hi - lo) * 0.08;
    (if lo < 0.0 { lo - pad } else { lo })..hi + pad
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, column: &DriftColumn) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
    root.fill(&WHITE).map_err(err)?;
    let (w, _) = root.dim_in_pixel();
    let legend_font = font(14.0, &TEXT);
    let longest =
        LEGEND.iter().map(|l| root.estimate_text_size(l, &legend_font).map(|(w, _)| w).unwrap_or(0)).max().unwrap_or(0);
    let legend_w = (longest + 44).max(120).min((w * 32 / 100).max(40));
    let (plot_area, legend_area) = root.split_horizontally(w - legend_w);
    let caption_font = font(18.0, &TEXT);
    let title = fit(root, &one_line(&column.column), &caption_font, (w - legend_w).saturating_sub(30));
    let rows = match &column.chart {
        DriftChart::Histogram { edges, reference, current, reference_error, current_error } => {
            let sides = [(reference.as_slice(), *reference_error), (current.as_slice(), *current_error)];
            histogram(&plot_area, title, &one_line(&column.column), edges, sides).map_err(err)?
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
            let mut slots: Vec<(String, [f64; 2])> =
                labels.iter().zip(reference.iter().zip(current)).map(|(l, (&r, &c))| (one_line(l), [r, c])).collect();
            let other = [*reference_other, *current_other];
            let has_other = other.iter().any(|v| finite(*v).is_some_and(|v| v > 0.0));
            if has_other {
                slots.push((String::new(), other));
            }
            categories(&plot_area, title, &slots, has_other, [*reference_error, *current_error]).map_err(err)?
        }
        DriftChart::None { why } => return Err(format!("nothing to draw: {why}")),
    };
    draw_legend(&legend_area, rows).map_err(err)
}

/// Overlaid histograms; returns the plot's top and bottom pixel rows (for the legend).
fn histogram<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: String,
    x_label: &str,
    edges: &[f64],
    sides: [(&[f64], f64); 2],
) -> Result<(i32, i32), DrawingAreaErrorKind<DB::ErrorType>> {
    // The bins that can be drawn: finite, ordered edges.
    let bins: Vec<(usize, f64, f64)> = edges
        .windows(2)
        .enumerate()
        .filter_map(|(i, e)| Some((i, finite(e[0])?, finite(e[1])?)).filter(|(_, lo, hi)| lo <= hi))
        .collect();
    let x_range = linear_range(extent(bins.iter().flat_map(|&(_, lo, hi)| [lo, hi])), 0.0);
    let bar = |shares: &[f64], i: usize| shares.get(i).copied().and_then(finite);
    let y_range = share_range(sides.iter().flat_map(|&(shares, error)| {
        let e = whisker(error).unwrap_or(0.0);
        bins.iter().filter_map(move |&(i, ..)| bar(shares, i)).map(move |s| s + e)
    }));

    let mut ctx = ChartBuilder::on(area)
        .caption(title, font(18.0, &TEXT))
        .margin_top(6)
        .margin_left(8)
        .margin_right(22)
        .margin_bottom(6)
        .x_label_area_size(40)
        .y_label_area_size(66)
        .build_cartesian_2d(x_range.clone(), y_range)?;
    let (plot_w, plot_h) = ctx.plotting_area().dim_in_pixel();
    let strip = ctx.plotting_area().strip_coord_spec();
    let x_desc = fit(&strip, x_label, &font(15.0, &TEXT), plot_w.max(40));
    let y_desc = fit(&strip, "share of values", &font(15.0, &TEXT), plot_h.max(40));
    let tick_fmt = |v: &f64| format::tick(*v);
    let pct_fmt = |v: &f64| percent(*v);
    house_mesh(&mut ctx.configure_mesh())
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&tick_fmt)
        .y_label_formatter(&pct_fmt)
        .y_labels(8)
        .draw()?;

    for (k, &(shares, _)) in sides.iter().enumerate() {
        let (color, _) = series_style(k);
        let fills = bins.iter().filter_map(|&(i, lo, hi)| {
            let s = bar(shares, i)?;
            Some(Rectangle::new([(lo, 0.0), (hi, s)], color.mix(FILL_ALPHA).filled()))
        });
        ctx.draw_series(fills)?;
    }
    for (k, &(shares, error)) in sides.iter().enumerate() {
        let (color, _) = series_style(k);
        // The outline: a step line over consecutive drawable bins, broken where one is not.
        let mut outlines: Vec<Vec<(f64, f64)>> = Vec::new();
        let mut line: Vec<(f64, f64)> = Vec::new();
        let mut last: Option<usize> = None;
        for &(i, lo, hi) in &bins {
            let Some(s) = bar(shares, i) else { continue };
            if last.is_none_or(|l| l + 1 != i) {
                if let Some(&(x, _)) = line.last() {
                    line.push((x, 0.0));
                    outlines.push(std::mem::take(&mut line));
                }
                line.push((lo, 0.0));
            }
            line.extend([(lo, s), (hi, s)]);
            last = Some(i);
        }
        if let Some(&(x, _)) = line.last() {
            line.push((x, 0.0));
            outlines.push(line);
        }
        ctx.draw_series(outlines.into_iter().map(|pts| PathElement::new(pts, color.stroke_width(2))))?;
        if let Some(e) = whisker(error) {
            let at = if k == 0 { 0.4 } else { 0.6 };
            let whiskers = bins.iter().filter_map(|&(i, lo, hi)| {
                let s = bar(shares, i)?;
                let x = lo + (hi - lo) * at;
                Some(PathElement::new(vec![(x, (s - e).max(0.0)), (x, s + e)], color.stroke_width(1)))
            });
            ctx.draw_series(whiskers)?;
        }
    }
    let (_, ys) = ctx.plotting_area().get_pixel_range();
    Ok((ys.start, ys.end))
}

/// Horizontal grouped bars, one pair per slot (the last is "(other)" when `has_other`); returns
/// the plot's top and bottom pixel rows (for the legend).
fn categories<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: String,
    slots: &[(String, [f64; 2])],
    has_other: bool,
    errors: [f64; 2],
) -> Result<(i32, i32), DrawingAreaErrorKind<DB::ErrorType>> {
    let n = slots.len();
    let label_font = font(13.5, &TEXT).pos(Pos::new(HPos::Right, VPos::Center));
    let other_font = font(13.5, &MUTED).pos(Pos::new(HPos::Right, VPos::Center));
    let (area_w, _) = area.dim_in_pixel();
    let max_label = (area_w * 35 / 100).max(40);
    let widest = slots
        .iter()
        .map(|(l, _)| area.estimate_text_size(if l.is_empty() { "(other)" } else { l }, &label_font).map_or(0, |s| s.0))
        .max()
        .unwrap_or(0);
    let label_w = (widest + 14).clamp(60, max_label + 14);
    let x_range =
        share_range(slots.iter().flat_map(|(_, s)| {
            s.iter().zip(errors).filter_map(|(&v, e)| Some(finite(v)? + whisker(e).unwrap_or(0.0)))
        }));
    let y_range = -0.5..(n.max(1) as f64 - 0.5);

    let mut ctx = ChartBuilder::on(area)
        .caption(title, font(18.0, &TEXT))
        .margin_top(6)
        .margin_left(8)
        .margin_right(22)
        .margin_bottom(6)
        .x_label_area_size(40)
        .y_label_area_size(label_w)
        .build_cartesian_2d(x_range.clone(), y_range)?;
    let (plot_w, _) = ctx.plotting_area().dim_in_pixel();
    let x_desc = fit(&ctx.plotting_area().strip_coord_spec(), "share of values", &font(15.0, &TEXT), plot_w.max(40));
    let pct_fmt = |v: &f64| percent(*v);
    house_mesh(&mut ctx.configure_mesh())
        .x_desc(x_desc)
        .x_label_formatter(&pct_fmt)
        .y_labels(0)
        .disable_y_mesh()
        .draw()?;

    // Slot k sits at y = n - 1 - k (the first on top); the reference's bar above the middle.
    let y_of = |k: usize| (n - 1 - k) as f64;
    for k in 0..2 {
        let (color, _) = series_style(k);
        let (from, to) = if k == 0 { (0.03, 0.38) } else { (-0.38, -0.03) };
        let bars = slots.iter().enumerate().filter_map(|(j, (_, s))| {
            let v = finite(s[k])?;
            let y = y_of(j);
            Some(Rectangle::new([(0.0, y + from), (v, y + to)], color.mix(BAR_ALPHA).filled()))
        });
        ctx.draw_series(bars)?;
        if let Some(e) = whisker(errors[k]) {
            let mid = (from + to) / 2.0;
            let whiskers = slots.iter().enumerate().filter_map(|(j, (_, s))| {
                let v = finite(s[k])?;
                let y = y_of(j) + mid;
                Some(PathElement::new(vec![((v - e).max(0.0), y), (v + e, y)], TEXT.stroke_width(1)))
            });
            ctx.draw_series(whiskers)?;
        }
    }
    let left = x_range.start;
    let positions: Vec<(i32, i32)> = (0..n).map(|j| ctx.backend_coord(&(left, y_of(j)))).collect();
    for (j, ((label, _), (px, py))) in slots.iter().zip(positions).enumerate() {
        let is_other = has_other && j == n - 1;
        let (text, style) = match (is_other, label.is_empty()) {
            (true, _) => ("(other)".to_string(), &other_font),
            (false, true) => ("\"\"".to_string(), &label_font),
            (false, false) => (label.clone(), &label_font),
        };
        let text = fit(area, &text, style, label_w.saturating_sub(14));
        area.draw_text(&text, style, (px - 8, py))?;
    }
    let (_, ys) = ctx.plotting_area().get_pixel_range();
    Ok((ys.start, ys.end))
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (top, _bottom): (i32, i32),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let text = font(14.0, &TEXT).pos(Pos::new(HPos::Left, VPos::Center));
    let x0 = 6;
    for (k, label) in LEGEND.iter().enumerate() {
        let y = top + 8 + k as i32 * LEGEND_ROW;
        let (color, _) = series_style(k);
        area.draw(&Rectangle::new([(x0, y - 6), (x0 + 24, y + 6)], color.mix(FILL_ALPHA * 2.0).filled()))?;
        area.draw(&Rectangle::new([(x0, y - 6), (x0 + 24, y + 6)], color.stroke_width(2)))?;
        area.draw_text(label, &text, (x0 + 30, y))?;
    }
    Ok(())
}
