//! One metric chart drawn with plotters, as SVG text (for the HTML report) or PNG bytes (for
//! Markdown): every series overlaid, bands under the lines, a legend column on the right, axis
//! labels and light gridlines.
//!
//! Series are downsampled to about one point per pixel column (see [`crate::downsample`]), then
//! points falling on the same pixel as the previous one are dropped, so a chart's size depends
//! on its width, not on the number of points logged. Text is DejaVu Sans (shipped, registered
//! with plotters by [`crate::fonts::register`]); plotters' SVG backend escapes text itself
//! (`<`, `>`, `&`, quotes), so labels are passed to it unescaped.

use std::ops::Range;

use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::downsample::{Grid, Keep, reduce, segments};
use crate::error::ReportError;
use crate::model::Chart;
use crate::palette::{apply_svg_dashes, series_style, svg_draw_color};
use crate::{fonts, format};

/// Size of the SVG charts embedded in the HTML report (scaled to the page width by CSS).
pub const SVG_SIZE: (u32, u32) = (560, 340);
/// Size of the PNG charts written next to a Markdown report.
pub const PNG_SIZE: (u32, u32) = (900, 450);

pub(crate) const TEXT: RGBColor = RGBColor(0x34, 0x3a, 0x40);
pub(crate) const MUTED: RGBColor = RGBColor(0x6c, 0x75, 0x7d);
pub(crate) const GRID: RGBColor = RGBColor(0xe4, 0xe7, 0xeb);
pub(crate) const AXIS: RGBColor = RGBColor(0x9a, 0xa1, 0xa9);
const BAND_ALPHA: f64 = 0.16;
pub(crate) const LEGEND_ROW: i32 = 20;

/// Chart sizes are clamped to [200, 8192] x [120, 8192] pixels.
pub(crate) fn clamp_size(width: u32, height: u32) -> (u32, u32) {
    (width.clamp(200, 8192), height.clamp(120, 8192))
}

/// Renders `chart` as a standalone SVG document [`SVG_SIZE`] wide and as tall as
/// [`height_for`] says.
pub fn chart_svg(chart: &Chart) -> Result<String, ReportError> {
    chart_svg_sized(chart, SVG_SIZE.0, height_for(chart, SVG_SIZE.1))
}

/// `base` or, for charts with many series, taller: enough for a legend entry per series (up to
/// 40; beyond that the legend ends with "+N more").
pub fn height_for(chart: &Chart, base: u32) -> u32 {
    let entries = chart.series.len().min(40) as u32;
    base.max(entries * LEGEND_ROW as u32 + 96)
}

/// Renders `chart` as an SVG document of the given size in pixels (clamped to 200–8192 wide,
/// 120–8192 tall).
pub fn chart_svg_sized(chart: &Chart, width: u32, height: u32) -> Result<String, ReportError> {
    crate::validate_chart(chart)?;
    fonts::register();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, clamp_size(width, height)).into_drawing_area();
        draw(&root, chart, Mode::Svg).map_err(|e| chart_error(chart, e))?;
        root.present().map_err(|e| chart_error(chart, format!("{e:?}")))?;
    }
    Ok(apply_svg_dashes(&svg))
}

/// Renders `chart` as a PNG image of `width` x `height` pixels (clamped to 200–8192 wide,
/// 120–8192 tall).
pub fn chart_png(chart: &Chart, width: u32, height: u32) -> Result<Vec<u8>, ReportError> {
    let (w, h) = clamp_size(width, height);
    let rgb = chart_rgb(chart, w, h)?;
    encode_png(&rgb, w, h).map_err(|e| chart_error(chart, e))
}

/// Renders `chart` into an RGB8 pixel buffer (`width * height * 3` bytes, rows top to bottom,
/// sizes clamped like [`chart_png`]'s); what [`chart_png`] encodes.
pub fn chart_rgb(chart: &Chart, width: u32, height: u32) -> Result<Vec<u8>, ReportError> {
    crate::validate_chart(chart)?;
    fonts::register();
    let (w, h) = clamp_size(width, height);
    let mut buf = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        draw(&root, chart, Mode::Png).map_err(|e| chart_error(chart, e))?;
        root.present().map_err(|e| chart_error(chart, format!("{e:?}")))?;
    }
    Ok(buf)
}

pub(crate) fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Default);
    let mut writer = enc.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

fn chart_error(chart: &Chart, message: impl Into<String>) -> ReportError {
    ReportError::Chart { metric: chart.metric.clone(), message: message.into() }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Svg,
    Png,
}

/// Points in data coordinates.
type Points = Vec<(f64, f64)>;

/// A series' drawable pieces before downsampling.
struct Pieces {
    lines: Vec<Points>,
    /// `(upper edge, lower edge)` per band segment.
    bands: Vec<(Points, Points)>,
}

fn pieces(chart: &Chart) -> Vec<Pieces> {
    // Values beyond the axis limits are left out like non-finite ones (plotters maps them to
    // pixel positions that overflow).
    let log = chart.log_y;
    let valid = move |v: f64| if log { (LOG_MIN..=LOG_MAX).contains(&v) } else { v.abs() <= LIMIT };
    chart
        .series
        .iter()
        .map(|s| {
            let lines = segments(&s.x, &s.y, LIMIT, valid);
            let mut bands = Vec::new();
            if let Some(b) = &s.band {
                // A band point is drawable when x, low and high all are.
                let keep: Vec<bool> = (0..s.x.len())
                    .map(|i| {
                        let (x, lo, hi) = (s.x[i], b.low[i], b.high[i]);
                        x.abs() <= LIMIT && valid(lo) && valid(hi)
                    })
                    .collect();
                let mut start = None;
                for i in 0..=keep.len() {
                    let ok = i < keep.len() && keep[i];
                    match (ok, start) {
                        (true, None) => start = Some(i),
                        (false, Some(a)) => {
                            let upper = (a..i).map(|j| (s.x[j], b.high[j])).collect();
                            let lower = (a..i).map(|j| (s.x[j], b.low[j])).collect();
                            bands.push((upper, lower));
                            start = None;
                        }
                        _ => {}
                    }
                }
            }
            Pieces { lines, bands }
        })
        .collect()
}

/// `(min, max)` over the finite values, or `None`.
pub(crate) fn extent(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// Linear axes are kept within ±LIMIT and at least MIN_SPAN wide (relative to their magnitude)
/// so plotters' tick computation stays finite; log axes within [LOG_MIN, LOG_MAX].
pub(crate) const LIMIT: f64 = 1e300;
const LOG_MIN: f64 = 1e-150;
const LOG_MAX: f64 = 1e150;

pub(crate) fn linear_range(extent: Option<(f64, f64)>, pad_fraction: f64) -> Range<f64> {
    let Some((lo, hi)) = extent else { return 0.0..1.0 };
    let (lo, hi) = (lo.clamp(-LIMIT, LIMIT), hi.clamp(-LIMIT, LIMIT));
    let magnitude = lo.abs().max(hi.abs());
    // A span too small to tell apart from rounding (or zero): widen it around the middle.
    let min_span = (magnitude * 1e-9).max(1e-12);
    let (lo, hi) = if hi - lo < min_span {
        let mid = lo / 2.0 + hi / 2.0;
        let half = if magnitude == 0.0 || magnitude < 1e-12 { 0.5 } else { magnitude * 0.1 };
        (mid - half, mid + half)
    } else {
        (lo, hi)
    };
    let pad = (hi / 2.0 - lo / 2.0) * 2.0 * pad_fraction;
    (lo - pad).max(-LIMIT * 1.2)..(hi + pad).min(LIMIT * 1.2)
}

fn log_range(extent: Option<(f64, f64)>) -> Range<f64> {
    let Some((lo, hi)) = extent else { return 0.1..10.0 };
    let (lo, hi) = (lo.clamp(LOG_MIN, LOG_MAX), hi.clamp(LOG_MIN, LOG_MAX));
    let (lo, hi) = if hi / lo < 1.01 { (lo / 2.0, hi * 2.0) } else { (lo, hi) };
    lo / 1.15..hi * 1.15
}

fn ranges(all: &[Pieces], log_y: bool) -> (Range<f64>, Range<f64>) {
    let points = || {
        all.iter()
            .flat_map(|p| p.lines.iter().flatten().chain(p.bands.iter().flat_map(|(u, l)| u.iter().chain(l.iter()))))
    };
    let x = linear_range(extent(points().map(|p| p.0)), 0.0);
    let y_extent = extent(points().map(|p| p.1));
    let y = if log_y { log_range(y_extent) } else { linear_range(y_extent, 0.05) };
    (x, y)
}

/// Cuts `text` (with an ellipsis) until it fits `max_px` in `font`.
pub(crate) fn fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    font: &TextStyle,
    max_px: u32,
) -> String {
    let width = |s: &str| area.estimate_text_size(s, font).map(|(w, _)| w).unwrap_or(0);
    if width(text) <= max_px {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let (mut lo, mut hi) = (0, chars.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let candidate: String = chars[..mid].iter().collect::<String>() + "…";
        if width(&candidate) <= max_px { lo = mid } else { hi = mid - 1 }
    }
    chars[..lo].iter().collect::<String>() + "…"
}

/// The axes every chart shares: description and label fonts, 7 x labels, grid and axis lines
/// (descriptions, formatters and the y labels are the caller's).
pub(crate) fn house_mesh<'m, 'a, 'b, X, Y, DB>(
    m: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged,
    Y: Ranged,
    DB: DrawingBackend,
{
    m.axis_desc_style(font(15.0, &TEXT))
        .label_style(font(13.5, &MUTED))
        .x_labels(7)
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS.stroke_width(1))
}

pub(crate) fn font(size: f64, color: &'static RGBColor) -> TextStyle<'static> {
    TextStyle::from((FontFamily::SansSerif, size).into_font()).color(color)
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart, mode: Mode) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
    root.fill(&WHITE).map_err(err)?;
    let (w, _h) = root.dim_in_pixel();
    let all = pieces(chart);
    let (x_range, y_range) = ranges(&all, chart.log_y);

    // Legend column: as wide as the longest label needs, within [120, 32% of the width].
    let legend_font = font(14.0, &TEXT);
    let longest = chart
        .series
        .iter()
        .map(|s| root.estimate_text_size(&s.label, &legend_font).map(|(w, _)| w).unwrap_or(0))
        .max()
        .unwrap_or(0);
    let legend_w = (longest + 44).max(120).min((w * 32 / 100).max(40));
    let (plot_area, legend_area) = root.split_horizontally(w - legend_w);

    let caption_font = font(18.0, &TEXT);
    let title = fit(root, &chart.metric, &caption_font, (w - legend_w).saturating_sub(30));
    let mut builder = ChartBuilder::on(&plot_area);
    builder
        .caption(title, caption_font)
        .margin_top(6)
        .margin_left(8)
        .margin_right(22)
        .margin_bottom(6)
        .x_label_area_size(40)
        .y_label_area_size(66);

    let plot_top = if chart.log_y {
        let mut ctx = builder.build_cartesian_2d(x_range.clone(), y_range.clone().log_scale()).map_err(err)?;
        draw_plot(&mut ctx, chart, &all, x_range.clone(), mode).map_err(err)?
    } else {
        let mut ctx: ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>> =
            builder.build_cartesian_2d(x_range.clone(), y_range).map_err(err)?;
        draw_plot(&mut ctx, chart, &all, x_range, mode).map_err(err)?
    };
    draw_legend(&legend_area, chart, plot_top, mode).map_err(err)
}

/// Draws mesh, bands and lines; returns the plot's top and bottom pixel rows (for the legend).
fn draw_plot<DB: DrawingBackend, Y>(
    ctx: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    chart: &Chart,
    all: &[Pieces],
    x_range: Range<f64>,
    mode: Mode,
) -> Result<(i32, i32), DrawingAreaErrorKind<DB::ErrorType>>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let tick_fmt = |v: &f64| format::tick(*v);
    let y_desc = if chart.log_y { format!("{} (log scale)", chart.metric) } else { chart.metric.clone() };
    let (_, plot_h) = ctx.plotting_area().dim_in_pixel();
    let y_desc = fit(&ctx.plotting_area().strip_coord_spec(), &y_desc, &font(15.0, &TEXT), plot_h.max(40));
    let x_desc = fit(
        &ctx.plotting_area().strip_coord_spec(),
        &chart.x_label,
        &font(15.0, &TEXT),
        ctx.plotting_area().dim_in_pixel().0.max(40),
    );
    house_mesh(&mut ctx.configure_mesh())
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&tick_fmt)
        .y_label_formatter(&tick_fmt)
        .y_labels(8)
        .draw()?;

    let (plot_w, _) = ctx.plotting_area().dim_in_pixel();
    let grid = Grid { x_min: x_range.start, x_max: x_range.end, buckets: (plot_w as usize / 2).max(16) };
    // Downsample, then drop points on the same pixel as the previous one (computed before
    // drawing: the coordinate spec borrows the chart).
    let (polys, lines) = {
        let area = ctx.plotting_area();
        let dedupe = |pts: Vec<(f64, f64)>| {
            let mut out: Vec<(f64, f64)> = Vec::with_capacity(pts.len());
            let mut last = None;
            for p in pts {
                let px = area.map_coordinate(&p);
                if last != Some(px) {
                    out.push(p);
                    last = Some(px);
                }
            }
            out
        };
        let mut polys = Vec::new();
        let mut lines = Vec::new();
        for (i, p) in all.iter().enumerate() {
            for (upper, lower) in &p.bands {
                let mut poly = dedupe(reduce(upper, grid, Keep::Max));
                poly.extend(dedupe(reduce(lower, grid, Keep::Min)).into_iter().rev());
                polys.push((i, poly));
            }
            for seg in &p.lines {
                lines.push((i, dedupe(reduce(seg, grid, Keep::MinMax))));
            }
        }
        (polys, lines)
    };

    // Bands first, so every line stays on top of every band.
    for (i, poly) in polys {
        let (color, _) = series_style(i);
        if poly.len() >= 3 {
            ctx.draw_series(std::iter::once(Polygon::new(poly, color.mix(BAND_ALPHA).filled())))?;
        }
    }
    for (i, pts) in lines {
        let (color, dash) = series_style(i);
        if pts.len() == 1 {
            ctx.draw_series(std::iter::once(Circle::new(pts[0], 2, color.filled())))?;
            continue;
        }
        match (mode, dash.pattern()) {
            (Mode::Svg, _) | (Mode::Png, None) => {
                let c = if mode == Mode::Svg { svg_draw_color(i) } else { color };
                ctx.draw_series(std::iter::once(PathElement::new(pts, c.stroke_width(2))))?;
            }
            (Mode::Png, Some((on, off))) => {
                ctx.draw_series(DashedLineSeries::new(pts, on, off, color.stroke_width(2)))?;
            }
        }
    }
    let (_, ys) = ctx.plotting_area().get_pixel_range();
    Ok((ys.start, ys.end))
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &Chart,
    (top, bottom): (i32, i32),
    mode: Mode,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, _) = area.dim_in_pixel();
    let text = font(14.0, &TEXT).pos(Pos::new(HPos::Left, VPos::Center));
    let rows = ((bottom - top) / LEGEND_ROW).max(1) as usize;
    let n = chart.series.len();
    let shown = if n > rows { rows - 1 } else { n };
    let x0 = 6;
    for (i, s) in chart.series.iter().enumerate().take(shown) {
        let y = top + 8 + i as i32 * LEGEND_ROW;
        let (color, dash) = series_style(i);
        if s.band.is_some() {
            area.draw(&Rectangle::new([(x0, y - 6), (x0 + 24, y + 6)], color.mix(BAND_ALPHA).filled()))?;
        }
        match (mode, dash.pattern()) {
            (Mode::Svg, _) | (Mode::Png, None) => {
                let c = if mode == Mode::Svg { svg_draw_color(i) } else { color };
                area.draw(&PathElement::new(vec![(x0, y), (x0 + 24, y)], c.stroke_width(2)))?;
            }
            (Mode::Png, Some((on, off))) => {
                let mut x = x0;
                while x < x0 + 24 {
                    let end = (x + on as i32).min(x0 + 24);
                    area.draw(&PathElement::new(vec![(x, y), (end, y)], color.stroke_width(2)))?;
                    x = end + off as i32;
                }
            }
        }
        let label = fit(area, &s.label, &text, w.saturating_sub(40));
        area.draw_text(&label, &text, (x0 + 30, y))?;
    }
    if shown < n {
        let y = top + 8 + shown as i32 * LEGEND_ROW;
        let more = font(14.0, &MUTED).pos(Pos::new(HPos::Left, VPos::Center));
        area.draw_text(&format!("+{} more", n - shown), &more, (x0 + 30, y))?;
    }
    Ok(())
}
