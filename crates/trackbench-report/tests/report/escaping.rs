//! Hostile strings: `<script>alert(1)</script>` as a run name, a param value, a tag, a metric,
//! a series label, an environment value and in the stats shows up only as escaped text.

use crate::fixture;
use trackbench_report::{chart_svg, render_html, render_markdown};

const XSS: &str = "<script>alert(1)</script>";

fn hostile() -> trackbench_report::ReportInput {
    let mut input = fixture::input();
    input.title = format!("Title {XSS}");
    input.generated_by = format!("trackbench report `{XSS}`");
    input.runs[0].name = XSS.into();
    input.runs[1].tags.push(("note".into(), XSS.into()));
    input.runs[2].env = serde_json::json!({ "EVIL": XSS, XSS: "key" });
    input.runs[2].command = Some(format!("run \"{XSS}\" | tee"));
    input.param_diff.keys[0].values[2] = Some(XSS.into());
    input.param_diff.equal.push(("quote".into(), "\" onmouseover=\"alert(1)".into()));
    input.charts[0].metric = format!("loss {XSS}");
    input.charts[0].series[1].label = XSS.into();
    input.charts[0].note = Some(XSS.into());
    let stats = input.stats.as_mut().unwrap();
    stats.verdict = XSS.into();
    stats.rows[0].0 = XSS.into();
    input
}

#[test]
fn html_shows_hostile_strings_as_text() {
    let html = render_html(&hostile()).unwrap();
    assert!(!html.to_lowercase().contains("<script"), "an unescaped script tag got through");
    assert!(!html.contains("onmouseover=\"alert"), "attribute injection");
    // minijinja escapes `/` too; plotters' SVG text does not (both are fine).
    let escaped = html.matches("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;").count()
        + html.matches("&lt;script&gt;alert(1)&lt;/script&gt;").count();
    assert!(escaped >= 10, "expected the string, escaped, in many places; found {escaped}");
}

#[test]
fn svg_text_is_escaped() {
    let svg = chart_svg(&hostile().charts[0]).unwrap();
    assert!(!svg.contains("<script"));
    assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "series label in the legend");
    assert!(svg.contains("loss &lt;script&gt;"), "metric in the title");
}

#[test]
fn markdown_shows_hostile_strings_as_text() {
    let (md, _) = render_markdown(&hostile(), "img").unwrap();
    // Outside code spans no raw `<` may remain; inside one (generated_by) it is shown literally.
    let outside_code: String = md.split('`').step_by(2).collect();
    assert!(!outside_code.contains("<script"), "{md}");
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // Table structure survives a `|` inside a value.
    let env_row = md.lines().find(|l| l.contains("run \"")).unwrap();
    assert!(env_row.contains("\\| tee"), "{env_row}");
}
