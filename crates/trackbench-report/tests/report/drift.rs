//! The drift section: snapshots of a drift-only report in HTML (structure) and Markdown, one
//! histogram SVG, the severity order, the chart cap for wide datasets, hostile column, dataset
//! and run names in both documents, CSV/JSON, validation and awkward numbers.

use trackbench_report::{
    DRIFT_CHART_LIMIT, DriftChart, DriftColumn, DriftRule, DriftSection, DriftSide, ReportInput, drift_chart_png,
    drift_chart_svg, render_csv, render_html, render_json, render_markdown,
};

use crate::documents::structure;
use crate::fixture;

fn histogram(reference: &[f64], current: &[f64]) -> DriftChart {
    let edges = (0..=reference.len()).map(|i| 20.0 + 5.0 * i as f64).collect();
    DriftChart::Histogram {
        edges,
        reference: reference.to_vec(),
        current: current.to_vec(),
        reference_error: 0.0,
        current_error: 0.0,
    }
}

fn column(name: &str, test: &str, stat: f64, p: Option<f64>, threshold: f64, drift: bool) -> DriftColumn {
    DriftColumn {
        column: name.into(),
        ref_dtype: Some("float".into()),
        cur_dtype: Some("float".into()),
        test: Some(test.into()),
        reason: "auto: numeric, reference has 400 values (at most 1000), more than 5 distinct".into(),
        statistic: Some(stat),
        p_value: p,
        threshold: Some(threshold),
        rule: if p.is_some() { DriftRule::PValueBelow } else { DriftRule::StatisticAtLeast },
        drift: Some(drift),
        exact: true,
        error_bound: None,
        ref_n: 400,
        cur_n: 400,
        notes: Vec::new(),
        chart: histogram(&[0.25, 0.25, 0.25, 0.25, 0.0], &[0.0, 0.0, 0.25, 0.25, 0.5]),
    }
}

/// Four columns given in an order that is not the severity order: an unchanged `score`, a
/// categorical `city` (drifted, sketched), a shifted `age` (drifted, far past its threshold) and
/// an untested `notes` column.
pub fn section() -> DriftSection {
    let score = column("score", "ks", 0.04, Some(0.91), 0.05, false);
    let mut city = column("city", "js", 0.31, None, 0.1, true);
    city.ref_dtype = Some("string".into());
    city.cur_dtype = Some("string".into());
    city.reason = "auto: categorical, reference has 4000 values (more than 1000)".into();
    city.exact = false;
    city.notes = vec!["sketched: each count within ±12".into()];
    city.chart = DriftChart::Categories {
        labels: vec!["Paris".into(), "Lyon".into(), "Berlin".into()],
        reference: vec![0.33, 0.0, 0.33],
        current: vec![0.0, 0.33, 0.34],
        reference_other: 0.34,
        current_other: 0.33,
        reference_error: 0.003,
        current_error: 0.003,
    };
    let age = column("age", "ks", 0.62, Some(3.2e-40), 0.05, true);
    let notes = DriftColumn {
        column: "notes".into(),
        ref_dtype: Some("string".into()),
        cur_dtype: None,
        reason: String::new(),
        notes: vec!["the current data has no such column".into()],
        chart: DriftChart::None { why: "numbers in one profile, categories in another".into() },
        ..Default::default()
    };
    DriftSection {
        reference: DriftSide {
            run: "0123456789abcdef".into(),
            run_name: "drifty".into(),
            dataset: "train".into(),
            step: None,
            rows: 400,
        },
        current: DriftSide {
            run: "0123456789abcdef".into(),
            run_name: "drifty".into(),
            dataset: "serving".into(),
            step: Some(3),
            rows: 400,
        },
        tested: 3,
        drifted: 2,
        share: Some(2.0 / 3.0),
        drift_share: 0.5,
        drift: true,
        columns: vec![score, city, notes, age],
    }
}

/// A report of the drift section alone.
pub fn drift_only() -> ReportInput {
    ReportInput {
        title: "Drift report".into(),
        generated_at: "2025-01-04T12:00:00Z".into(),
        generated_by: "trackbench report --drift drifty:train drifty:serving@3 -o drift.html".into(),
        drift: Some(section()),
        ..Default::default()
    }
}

#[test]
fn columns_are_shown_by_severity() {
    let s = section();
    let names = |s: &DriftSection, order: &[usize]| -> Vec<String> {
        order.iter().map(|&i| s.columns[i].column.clone()).collect()
    };
    // age is 1.5e38 times past its p-value threshold, city 3.1 times past its distance one.
    assert_eq!(names(&s, &s.severity_order()), ["age", "city", "score", "notes"]);
    assert!(s.columns[3].margin().unwrap() > 1e30);
    assert!((s.columns[1].margin().unwrap() - 3.1).abs() < 1e-12);
    assert_eq!(s.columns[2].margin(), None, "untested");
    let mut sorted = s.clone();
    sorted.sort_by_severity();
    assert_eq!(sorted.columns.iter().map(|c| c.column.as_str()).collect::<Vec<_>>(), ["age", "city", "score", "notes"]);

    let html = render_html(&drift_only()).unwrap();
    let pos = |needle: &str| html.find(needle).unwrap_or_else(|| panic!("{needle} missing"));
    assert!(pos("#drift-age\">age</a>") < pos("#drift-city\">city</a>"));
    assert!(pos("#drift-city\">city</a>") < pos("#drift-score\">score</a>"));
    assert!(pos("#drift-score\">score</a>") < pos(">notes</th>"), "the untested column last, without a chart");
}

#[test]
fn drift_only_html_snapshot() {
    let html = render_html(&drift_only()).unwrap();
    assert!(!html.contains("id=\"runs\"") && !html.contains("id=\"environment\""), "no empty runs sections");
    assert_eq!(html.matches("<svg ").count(), 3, "age, city, score; not the column with nothing to draw");
    crate::snapshots(|| insta::assert_snapshot!("drift_html_structure", structure(&html)));
}

#[test]
fn drift_only_markdown_snapshot_and_images() {
    let (md, images) = render_markdown(&drift_only(), "drift files").unwrap();
    crate::snapshots(|| insta::assert_snapshot!("drift_markdown", md));
    let names: Vec<&str> = images.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["drift-01-age.png", "drift-02-city.png", "drift-03-score.png"]);
    for (name, png) in &images {
        assert!(md.contains(&format!("(drift%20files/{name})")), "{name} linked");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}

#[test]
fn histogram_svg_snapshot_and_categories() {
    let s = section();
    let svg = drift_chart_svg(&s.columns[3]).unwrap();
    assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
    crate::snapshots(|| insta::assert_snapshot!("drift_svg_age", svg));

    let cats = drift_chart_svg(&s.columns[1]).unwrap();
    for label in ["Paris", "Lyon", "Berlin", "(other)", "reference", "current", "share of values"] {
        assert!(cats.contains(&format!(">{label}\n</text>")) || cats.contains(label), "{label} in the chart");
    }
    // Two bars per category (3 + other), plus the two legend swatches (fill and outline).
    assert!(cats.matches("<rect").count() >= 8 + 4, "{}", cats.matches("<rect").count());

    let png = drift_chart_png(&s.columns[1], 640, 360).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(drift_chart_svg(&s.columns[2]).is_err(), "nothing to draw is an error on its own");
}

#[test]
fn a_drift_section_next_to_runs() {
    let mut input = fixture::input();
    input.drift = Some(section());
    let html = render_html(&input).unwrap();
    assert!(html.contains("id=\"runs\"") && html.contains("id=\"drift\"") && html.contains("id=\"stats\""));
    assert!(html.contains("<a href=\"#drift\">Data drift</a>"));
    assert_eq!(html.matches("<svg ").count(), 2 + 3);
    let (md, images) = render_markdown(&input, "x").unwrap();
    assert!(md.contains("## Runs") && md.contains("## Data drift") && md.contains("## Environment"));
    assert_eq!(images.len(), 2 + 3);
    assert!(md.find("## Statistics").unwrap() < md.find("## Data drift").unwrap());
}

#[test]
fn wide_datasets_chart_the_most_severe_columns_only() {
    let mut s = section();
    s.columns = (0..DRIFT_CHART_LIMIT + 7)
        .map(|i| {
            let stat = 0.01 * (i + 1) as f64;
            column(&format!("c{i:02}"), "wasserstein", stat, None, 0.1, stat >= 0.1)
        })
        .collect();
    let input = ReportInput { drift: Some(s), ..drift_only() };
    let html = render_html(&input).unwrap();
    assert_eq!(html.matches("<svg ").count(), DRIFT_CHART_LIMIT);
    assert!(html.contains("Charts of the 20 most severe columns; 7 more columns not charted"), "omission said");
    // The most severe (largest statistic) is charted, the mildest is not (but is in the table).
    assert!(html.contains("id=\"drift-c26\"") && !html.contains("id=\"drift-c00\""));
    assert!(html.contains(">c00</th>"));
    let (md, images) = render_markdown(&input, "img").unwrap();
    assert_eq!(images.len(), DRIFT_CHART_LIMIT);
    assert_eq!(images[0].0, "drift-01-c26.png");
    assert!(md.contains("7 more columns not charted"));
}

const XSS: &str = "<script>alert(1)</script>";

/// Hostile names everywhere a user string goes: markup, table pipes, backticks, newlines.
fn hostile() -> ReportInput {
    let mut input = drift_only();
    input.title = format!("Drift {XSS}");
    let d = input.drift.as_mut().unwrap();
    d.reference.dataset = format!("train|{XSS}`x`");
    d.reference.run_name = format!("run\n# {XSS}");
    d.current.dataset = "a|b\n| c | d |".into();
    d.columns[3].column = format!("age {XSS} | `tick` \n## heading");
    d.columns[3].notes = vec![format!("note {XSS}")];
    d.columns[1].column = format!("city\n{XSS}");
    if let DriftChart::Categories { labels, .. } = &mut d.columns[1].chart {
        labels[0] = XSS.into();
        labels[1] = "Ly|on\n`x`".into();
    }
    d.columns[0].reason = format!("chosen {XSS}");
    input
}

#[test]
fn html_escapes_hostile_names() {
    let html = render_html(&hostile()).unwrap();
    assert!(!html.to_lowercase().contains("<script"), "an unescaped script tag got through");
    let escaped = html.matches("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;").count()
        + html.matches("&lt;script&gt;alert(1)&lt;/script&gt;").count();
    // title ×2, dataset, run name, two columns in the table, note, reason, two chart titles,
    // a category label.
    assert!(escaped >= 10, "expected the string, escaped, in many places; found {escaped}");
}

#[test]
fn markdown_escapes_hostile_names() {
    let (md, images) = render_markdown(&hostile(), "img").unwrap();
    let outside_code: String = md.split('`').step_by(2).collect();
    assert!(!outside_code.contains("<script"), "{md}");
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // No user string can end a table row, start a heading or open a code span.
    assert!(!md.lines().any(|l| l.starts_with("## heading") || l.starts_with("# &lt;")), "{md}");
    assert!(!md.contains(" `tick` ") && md.contains("\\`tick\\`"), "{md}");
    let row = md.lines().find(|l| l.starts_with("| age ")).expect("the age row");
    assert!(row.contains("age &lt;script&gt;alert(1)&lt;/script&gt; \\| \\`tick\\`  \\#\\# heading |"), "{row}");
    // Every table row of the columns table has the header's 9 cells (unescaped pipes would add some).
    let cells = |l: &str| l.replace("\\|", "").matches('|').count();
    let header = md.lines().find(|l| l.starts_with("| Column |")).unwrap();
    let table: Vec<&str> =
        md.lines().skip_while(|l| !l.starts_with("| Column |")).take_while(|l| l.starts_with('|')).collect();
    assert_eq!(table.len(), 2 + 4);
    assert!(table.iter().all(|l| cells(l) == cells(header)), "{table:#?}");
    let sides: Vec<&str> = md.lines().filter(|l| l.starts_with("| Reference") || l.starts_with("| Current")).collect();
    assert!(sides.iter().all(|l| cells(l) == 7), "{sides:#?}");
    // Image alt text escaped; the file name is a slug.
    assert!(md.contains("![age &lt;script&gt;alert(1)&lt;/script&gt; \\| \\`tick\\`  \\#\\# heading](img/drift-01-age-script-alert-1-script-tick-heading.png)"), "{md}");
    assert!(images.iter().all(|(n, _)| n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')));
}

#[test]
fn svg_escapes_hostile_labels() {
    let d = hostile().drift.unwrap();
    let svg = drift_chart_svg(&d.columns[1]).unwrap();
    assert!(!svg.contains("<script"));
    assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "a category label, escaped");
    assert!(svg.contains("city &lt;script&gt;"), "the title, on one line");
}

#[test]
fn csv_and_json_carry_the_drift_section() {
    let input = drift_only();
    let json = render_json(&input).unwrap();
    let back: ReportInput = serde_json::from_str(&json).unwrap();
    assert_eq!(back, input);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["drift"]["columns"][3]["chart"]["kind"], "histogram");
    assert_eq!(v["drift"]["columns"][1]["chart"]["kind"], "categories");
    assert_eq!(v["drift"]["columns"][0]["rule"], "p_value_below");

    let mut nan = input.clone();
    nan.drift.as_mut().unwrap().columns[0].statistic = Some(f64::NAN);
    let json = render_json(&nan).unwrap();
    let back: ReportInput = serde_json::from_str(&json).unwrap();
    assert!(back.drift.unwrap().columns[0].statistic.unwrap().is_nan());

    let csv = render_csv(&input).unwrap();
    for line in [
        "drift,,reference,dataset,,train",
        "drift,,current,step,,3",
        "drift,,,drifted,,2",
        "drift,,,drift,,true",
        "drift_column,age,,p_value,,3.2e-40",
        "drift_column,age,,drift,,true",
        "drift_column,notes,,note,,the current data has no such column",
        "drift_chart,age,current,share,40,0.5",
        "drift_chart,age,,top_edge,,45",
        "drift_chart,city,reference,share,Paris,0.33",
        "drift_chart,city,current,other,,0.33",
        "drift_chart,city,reference,error,,0.003",
    ] {
        assert!(csv.lines().any(|l| l == line), "{line} missing from\n{csv}");
    }
    assert!(!csv.lines().any(|l| l.starts_with("drift_column,notes,,statistic")), "absent values have no row");
}

#[test]
fn mismatched_drift_charts_are_refused() {
    let mut input = drift_only();
    input.drift.as_mut().unwrap().columns[0].chart = histogram(&[0.5, 0.5], &[1.0]);
    let err = render_html(&input).unwrap_err().to_string();
    assert!(err.contains("drift chart of column \"score\"") && err.contains("1 current shares for 3 edges"), "{err}");
    assert!(render_csv(&input).is_err() && render_markdown(&input, "x").is_err());
}

/// Awkward numbers in drift charts (NaN, ±inf, huge, negative, reversed or empty bins, empty
/// categories) draw what they can and never fail or panic.
#[test]
fn awkward_drift_charts_render() {
    let odd = [f64::NAN, f64::INFINITY, -1.0, 1e308, 0.0];
    let charts = vec![
        DriftChart::Histogram {
            edges: vec![],
            reference: vec![],
            current: vec![],
            reference_error: 0.0,
            current_error: 0.0,
        },
        DriftChart::Histogram {
            edges: vec![0.0, f64::NAN, 2.0, 1.0, f64::INFINITY, 5.0],
            reference: odd.to_vec(),
            current: vec![0.2; 5],
            reference_error: f64::NAN,
            current_error: 0.05,
        },
        DriftChart::Histogram {
            edges: vec![3.0, 3.0],
            reference: vec![1.0],
            current: vec![0.0],
            reference_error: 0.0,
            current_error: 0.0,
        },
        DriftChart::Histogram {
            edges: vec![-1e308, 0.0, 1e308],
            reference: vec![0.5, 0.5],
            current: vec![1.0, 0.0],
            reference_error: f64::INFINITY,
            current_error: 0.0,
        },
        DriftChart::Categories {
            labels: vec![],
            reference: vec![],
            current: vec![],
            reference_other: 0.0,
            current_other: 0.0,
            reference_error: 0.0,
            current_error: 0.0,
        },
        DriftChart::Categories {
            labels: vec![String::new(), "x".repeat(300), "y".into(), "z".into(), "w".into()],
            reference: odd.to_vec(),
            current: vec![0.0; 5],
            reference_other: f64::NAN,
            current_other: 1.0,
            reference_error: 0.01,
            current_error: -1.0,
        },
    ];
    for chart in charts {
        let c = DriftColumn { column: "x".repeat(200), chart: chart.clone(), ..Default::default() };
        drift_chart_svg(&c).unwrap_or_else(|e| panic!("{chart:?}: {e}"));
        drift_chart_png(&c, 300, 200).unwrap_or_else(|e| panic!("{chart:?}: {e}"));
    }
    // Many categories make the chart taller instead of squeezing the bars.
    let many = DriftColumn {
        column: "many".into(),
        chart: DriftChart::Categories {
            labels: (0..40).map(|i| format!("cat{i}")).collect(),
            reference: vec![0.025; 40],
            current: vec![0.025; 40],
            reference_other: 0.0,
            current_other: 0.0,
            reference_error: 0.0,
            current_error: 0.0,
        },
        ..Default::default()
    };
    assert!(drift_chart_svg(&many).unwrap().starts_with("<svg width=\"560\" height=\"1176\""));
}
