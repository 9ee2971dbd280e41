//! CSV and JSON: the numbers behind the report, and that they read back.

use crate::fixture;
use trackbench_report::{ReportInput, render_csv, render_json};

/// A small RFC 4180 reader (quoted fields, doubled quotes, commas and newlines inside quotes).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', true) => quoted = false,
            ('"', false) => quoted = true,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => field.push(c),
        }
    }
    rows
}

#[test]
fn csv_is_long_format_and_parses_back() {
    let mut input = fixture::input();
    input.runs[0].name = "comma, \"quote\"\nnewline".into();
    let csv = render_csv(&input).unwrap();
    let rows = parse_csv(&csv);
    assert_eq!(rows[0], ["section", "metric", "series", "key", "x", "value"]);
    assert!(rows.iter().all(|r| r.len() == 6), "every row has 6 fields");
    let find = |section: &str, series: &str, key: &str| {
        rows.iter().find(|r| r[0] == section && r[2] == series && r[3] == key).map(|r| r[5].clone())
    };
    assert_eq!(find("run", "run0000", "name").as_deref(), Some("comma, \"quote\"\nnewline"));
    assert_eq!(find("run", "run0002", "summary.acc").as_deref(), Some("0.92"));
    assert_eq!(find("param", "run0002", "width").as_deref(), Some("256"));
    assert_eq!(find("param", "run0000", "dropout"), None, "a missing param has no row");
    assert_eq!(find("stats", "wide − base", "difference").as_deref(), Some("+0.015"));

    // Every chart point, not downsampled, with full precision; NaN spelled out.
    let points: Vec<&Vec<String>> =
        rows.iter().filter(|r| r[0] == "chart" && r[1] == "val/loss" && r[3] == "y").collect();
    assert_eq!(points.len(), 80);
    let wide: Vec<f64> = points.iter().filter(|r| r[2] == "wide").map(|r| r[5].parse().unwrap()).collect();
    let expect = &input.charts[0].series[1].y;
    assert_eq!(wide.len(), expect.len());
    for (a, b) in wide.iter().zip(expect) {
        assert_eq!(a.to_bits(), b.to_bits(), "{a} vs {b}");
    }
    let bands = rows.iter().filter(|r| r[0] == "chart" && r[3].starts_with("band_")).count();
    assert_eq!(bands, 80);
}

#[test]
fn json_round_trips_including_non_finite_values() {
    let mut input = fixture::input();
    input.runs[0].summary.push(("inf".into(), f64::INFINITY));
    input.runs[0].summary.push(("ninf".into(), f64::NEG_INFINITY));
    let json = render_json(&input).unwrap();
    assert!(json.contains("\"NaN\"") && json.contains("\"inf\"") && json.contains("\"-inf\""));
    let back: ReportInput = serde_json::from_str(&json).unwrap();
    // NaN != NaN, so compare the re-serialized form and the NaN's position separately.
    assert_eq!(render_json(&back).unwrap(), json);
    assert!(back.charts[0].series[1].y[20].is_nan());
    assert_eq!(back.charts[0].series[1].y[21], input.charts[0].series[1].y[21]);
    let mut a = input.clone();
    let mut b = back.clone();
    a.charts[0].series[1].y[20] = 0.0;
    b.charts[0].series[1].y[20] = 0.0;
    assert_eq!(a, b);
}

#[test]
fn json_rejects_unknown_number_words() {
    let json = render_json(&fixture::input()).unwrap().replacen("\"NaN\"", "\"lots\"", 1);
    let err = serde_json::from_str::<ReportInput>(&json).unwrap_err().to_string();
    assert!(err.contains("lots"), "{err}");
}
