//! Charts on their own: the SVG golden, PNG header/size/non-blankness, downsampling bounds the
//! output for long series, degenerate inputs, and the palette cycle for many runs.

use crate::fixture;
use trackbench_report::{Chart, ChartSeries, chart_png, chart_rgb, chart_svg};

#[test]
fn svg_snapshot() {
    let svg = chart_svg(&fixture::input().charts[0]).unwrap();
    assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
    crate::snapshots(|| insta::assert_snapshot!("svg_val_loss", svg));
}

/// PNG signature and IHDR width/height (big-endian, bytes 16..24).
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&png[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&png[16..20]), be(&png[20..24]))
}

#[test]
fn png_has_requested_size_and_is_not_blank() {
    let chart = &fixture::input().charts[0];
    let png = chart_png(chart, 640, 360).unwrap();
    assert_eq!(png_size(&png), (640, 360));

    let rgb = chart_rgb(chart, 640, 360).unwrap();
    assert_eq!(rgb.len(), 640 * 360 * 3);
    let colours: std::collections::BTreeSet<&[u8]> = rgb.chunks(3).collect();
    assert!(colours.len() > 3, "only {} distinct colours", colours.len());
    // Most of the image is background, but a fair share is ink (lines, text, grid).
    let ink = rgb.chunks(3).filter(|p| *p != [255, 255, 255]).count();
    assert!(ink > 640 * 360 / 100, "only {ink} non-white pixels");

    // The PNG decodes to exactly those pixels.
    let decoder = png::Decoder::new(std::io::Cursor::new(&png));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height, info.color_type), (640, 360, png::ColorType::Rgb));
    assert_eq!(&buf[..info.buffer_size()], &rgb[..]);
}

#[test]
fn tiny_sizes_are_clamped_not_fatal() {
    let png = chart_png(&fixture::input().charts[1], 1, 1).unwrap();
    assert_eq!(png_size(&png), (200, 120));
}

fn long_series(n: usize, label: &str, phase: f64) -> ChartSeries {
    let x: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let y = x.iter().map(|&t| (t / 900.0 + phase).sin() + 0.3 * ((t * 7.3).sin())).collect();
    ChartSeries { label: label.into(), x, y, band: None }
}

#[test]
fn long_series_are_downsampled_for_drawing() {
    let chart = Chart {
        metric: "loss".into(),
        x_label: "step".into(),
        series: (0..3).map(|i| long_series(100_000, &format!("run {i}"), i as f64)).collect(),
        ..Default::default()
    };
    let svg = chart_svg(&chart).unwrap();
    // Three 100k-point series, but at most ~one point per pixel column each.
    assert!(svg.len() < 40_000, "{} bytes", svg.len());
    for line in svg.lines().filter(|l| l.starts_with("<polyline") && l.contains("stroke-width=\"2\"")) {
        let points = line.split("points=\"").nth(1).unwrap().split('"').next().unwrap().split_whitespace().count();
        assert!(points <= 600, "{points} points in one polyline");
    }
}

#[test]
fn degenerate_charts_render() {
    let nan = ChartSeries { label: "nan".into(), x: vec![0.0, 1.0], y: vec![f64::NAN, f64::INFINITY], band: None };
    let one = ChartSeries { label: "one".into(), x: vec![5.0], y: vec![2.0], band: None };
    let neg = ChartSeries { label: "neg".into(), x: vec![0.0, 1.0, 2.0], y: vec![-1.0, 0.0, 3.0], band: None };
    let huge =
        ChartSeries { label: "huge".into(), x: vec![-1e308, 0.0, 1e308], y: vec![1e308, -1e308, 5.0], band: None };
    let tiny = ChartSeries { label: "tiny".into(), x: vec![0.0, 1e-300], y: vec![1e-310, 2e-310], band: None };
    for log_y in [false, true] {
        for series in [
            vec![],
            vec![nan.clone()],
            vec![one.clone()],
            vec![neg.clone(), one.clone()],
            vec![huge.clone()],
            vec![tiny.clone()],
        ] {
            let chart = Chart { metric: "m".into(), x_label: "step".into(), log_y, series, ..Default::default() };
            chart_svg(&chart).unwrap();
            chart_png(&chart, 300, 200).unwrap();
        }
    }
}

#[test]
fn many_runs_cycle_through_dashes_and_fold_the_legend() {
    let chart = Chart {
        metric: "loss".into(),
        x_label: "step".into(),
        series: (0..25).map(|i| long_series(50, &format!("run-{i:02}"), i as f64 / 5.0)).collect(),
        ..Default::default()
    };
    let svg = chart_svg(&chart).unwrap();
    assert!(svg.contains("stroke-dasharray=\"7 4\""), "runs 11-20 dashed");
    assert!(svg.contains("stroke-dasharray=\"2 3\""), "runs 21-25 dotted");
    assert!(svg.starts_with("<svg width=\"560\" height=\"596\""), "grown to fit 25 legend entries");
    assert!(svg.contains("run-24\n</text>") && !svg.contains("more\n</text>"));
    chart_png(&chart, 900, 450).unwrap();

    // Beyond 40 series the legend ends with a count instead.
    let mut many = chart.clone();
    many.series = (0..45).map(|i| long_series(20, &format!("run-{i:02}"), 0.0)).collect();
    let svg = chart_svg(&many).unwrap();
    assert!(svg.contains("+") && svg.contains("more\n</text>"), "legend folds what does not fit");
}

#[test]
fn mismatched_lengths_are_refused() {
    let bad = Chart {
        metric: "m".into(),
        series: vec![ChartSeries { label: "s".into(), x: vec![1.0, 2.0], y: vec![1.0], band: None }],
        ..Default::default()
    };
    let err = chart_svg(&bad).unwrap_err().to_string();
    assert!(err.contains("2 x values but 1 y values"), "{err}");
    let mut input = fixture::input();
    input.charts.push(bad);
    assert!(trackbench_report::render_html(&input).is_err());
    assert!(trackbench_report::render_csv(&input).is_err());
}

/// Random small charts over awkward values (extremes, subnormals, NaN, ±inf, repeats) never
/// panic or hang. Deterministic: a fixed splitmix64 stream.
#[test]
fn awkward_values_never_panic() {
    const VALUES: [f64; 16] = [
        0.0,
        -0.0,
        1e-310,
        1e-300,
        1e-150,
        1e-9,
        1.0,
        -1.0,
        1e150,
        1e300,
        1e308,
        -1e308,
        f64::NAN,
        f64::INFINITY,
        3.5,
        3.5,
    ];
    let mut state = 0x1234_5678_u64;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as usize
    };
    for case in 0..400 {
        let n = next() % 6;
        let mut pick = || (0..n).map(|_| VALUES[next() % VALUES.len()]).collect::<Vec<f64>>();
        let (x, y, low, high) = (pick(), pick(), pick(), pick());
        let band = (case % 2 == 0).then_some(trackbench_report::Band { low, high });
        let chart = Chart {
            metric: "m".into(),
            log_y: case % 3 == 0,
            series: vec![ChartSeries { label: "s".into(), x, y, band }],
            ..Default::default()
        };
        chart_svg(&chart).unwrap_or_else(|e| panic!("case {case}: {e}"));
        if case % 10 == 0 {
            chart_png(&chart, 300, 200).unwrap();
        }
    }
}
