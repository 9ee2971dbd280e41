//! Series colours and line patterns. Ten hues, each at least 4.3:1 contrast against the white
//! chart background (WCAG AA for text, so thin lines stay visible); series 11–20 repeat the hues
//! dashed, 21–30 dotted, then the cycle starts over.
//!
//! plotters draws every line solid in SVG, so dashed and dotted series are drawn in a "code"
//! colour (the hue with the low bits of blue set to the pattern) that [`apply_svg_dashes`]
//! rewrites afterwards into the real colour plus a `stroke-dasharray`. PNGs draw the patterns
//! directly.

use plotters::style::RGBColor;

/// The ten hues (blue channel's two low bits are zero, which the SVG code colours rely on).
const HUES: [(u8, u8, u8); 10] = [
    (0x1f, 0x77, 0xb4), // blue
    (0xd9, 0x48, 0x0c), // orange
    (0x2b, 0x8a, 0x3c), // green
    (0xc9, 0x2a, 0x28), // red
    (0x70, 0x48, 0xe8), // violet
    (0x8c, 0x56, 0x48), // brown
    (0xc2, 0x25, 0x5c), // pink
    (0x49, 0x50, 0x54), // grey
    (0x7a, 0x7a, 0x00), // olive
    (0x0b, 0x72, 0x84), // teal
];

/// How a series' line is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dash {
    Solid,
    Dashed,
    Dotted,
}

impl Dash {
    /// `(dash, gap)` in pixels.
    pub fn pattern(self) -> Option<(u32, u32)> {
        match self {
            Dash::Solid => None,
            Dash::Dashed => Some((7, 4)),
            Dash::Dotted => Some((2, 3)),
        }
    }
}

/// The colour and pattern of series `index`.
pub(crate) fn series_style(index: usize) -> (RGBColor, Dash) {
    let (r, g, b) = HUES[index % HUES.len()];
    let dash = match (index / HUES.len()) % 3 {
        0 => Dash::Solid,
        1 => Dash::Dashed,
        _ => Dash::Dotted,
    };
    (RGBColor(r, g, b), dash)
}

/// The colour series `index` is drawn with in SVG: the real colour when solid, otherwise a code
/// colour for [`apply_svg_dashes`].
pub(crate) fn svg_draw_color(index: usize) -> RGBColor {
    let (RGBColor(r, g, b), dash) = series_style(index);
    let code = match dash {
        Dash::Solid => 0,
        Dash::Dashed => 1,
        Dash::Dotted => 2,
    };
    RGBColor(r, g, b | code)
}

/// Rewrites the code colours of dashed/dotted series in an SVG made by plotters into the real
/// colour with a `stroke-dasharray`.
pub(crate) fn apply_svg_dashes(svg: &str) -> String {
    let mut out = svg.to_string();
    for (r, g, b) in HUES {
        for (code, dash) in [(1u8, Dash::Dashed), (2, Dash::Dotted)] {
            let from = format!("stroke=\"#{:02X}{:02X}{:02X}\"", r, g, b | code);
            if !out.contains(&from) {
                continue;
            }
            let (on, off) = dash.pattern().unwrap_or((1, 0));
            let to = format!("stroke=\"#{r:02X}{g:02X}{b:02X}\" stroke-dasharray=\"{on} {off}\"");
            out = out.replace(&from, &to);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luminance(r: u8, g: u8, b: u8) -> f64 {
        let f = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.03928 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b)
    }

    #[test]
    fn every_hue_contrasts_with_white() {
        for (r, g, b) in HUES {
            let ratio = 1.05 / (luminance(r, g, b) + 0.05);
            assert!(ratio >= 4.3, "#{r:02x}{g:02x}{b:02x}: {ratio:.2}");
        }
    }

    #[test]
    fn code_colours_are_unique_and_rewritten() {
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..30 {
            let RGBColor(r, g, b) = svg_draw_color(i);
            assert!(seen.insert((r, g, b)), "series {i} shares a draw colour");
        }
        let svg = "<polyline stroke=\"#1F77B5\"/><polyline stroke=\"#1F77B6\"/><polyline stroke=\"#1F77B4\"/>";
        assert_eq!(
            apply_svg_dashes(svg),
            "<polyline stroke=\"#1F77B4\" stroke-dasharray=\"7 4\"/><polyline stroke=\"#1F77B4\" \
             stroke-dasharray=\"2 3\"/><polyline stroke=\"#1F77B4\"/>"
        );
    }

    #[test]
    fn cycle_repeats_after_thirty() {
        assert_eq!(series_style(0), series_style(30));
        assert_eq!(series_style(13).1, Dash::Dashed);
        assert_eq!(series_style(25).1, Dash::Dotted);
    }
}
