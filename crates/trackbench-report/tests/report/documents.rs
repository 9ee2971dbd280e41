//! Whole documents: the HTML's structure (fonts and charts redacted; the chart has its own
//! snapshot), that it is self-contained and deterministic, and the Markdown with its images.

use crate::fixture;
use trackbench_report::{render_html, render_markdown};

/// The HTML with the stylesheet and each inline SVG replaced by a summary, so the snapshot
/// shows the document's structure (the chart has its own snapshot).
pub fn structure(html: &str) -> String {
    let (start, end) = (html.find("<style>").unwrap() + 7, html.find("</style>").unwrap());
    let css = &html[start..end];
    let out = format!(
        "{}\n<css: {} @font-face rules, {} rules in all>\n{}",
        &html[..start],
        css.matches("@font-face").count(),
        css.matches('}').count(),
        &html[end..]
    );
    let mut result = String::new();
    let mut rest = out.as_str();
    while let Some(i) = rest.find("<svg ") {
        result.push_str(&rest[..i]);
        let end = rest.find("</svg>").expect("closed svg") + "</svg>".len();
        let svg = &rest[i..end];
        result.push_str(&format!(
            "<svg: {} polylines, {} polygons, {} texts>",
            svg.matches("<polyline").count(),
            svg.matches("<polygon").count(),
            svg.matches("<text").count()
        ));
        rest = &rest[end..];
    }
    result.push_str(rest);
    result
}

#[test]
fn html_structure_snapshot() {
    let html = render_html(&fixture::input()).unwrap();
    crate::snapshots(|| insta::assert_snapshot!("html_structure", structure(&html)));
}

#[test]
fn html_is_self_contained() {
    let html = render_html(&fixture::input()).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.to_lowercase().contains("<script"), "no scripts");
    for needle in ["src=\"http", "href=\"http", "url(http", "@import", "<link", "<img"] {
        assert!(!html.contains(needle), "no external resource: {needle}");
    }
    // The only absolute URL is the SVG namespace.
    assert_eq!(html.matches("http").count(), html.matches("http://www.w3.org/2000/svg").count());
    assert_eq!(html.matches("<svg ").count(), 2);
    assert_eq!(html.matches("@font-face").count(), 3);
    assert!(html.contains("font/woff2;base64,d09GMg"), "WOFF2 magic, base64");
}

#[test]
fn same_input_same_bytes() {
    let input = fixture::input();
    assert_eq!(render_html(&input).unwrap(), render_html(&input).unwrap());
    assert_eq!(render_markdown(&input, "x").unwrap(), render_markdown(&input, "x").unwrap());
}

#[test]
fn markdown_snapshot_and_images() {
    let (md, images) = render_markdown(&fixture::input(), "report files").unwrap();
    crate::snapshots(|| insta::assert_snapshot!("markdown", md));
    let names: Vec<&str> = images.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["01-val-loss.png", "02-grad-norm.png"]);
    for (name, png) in &images {
        assert!(md.contains(&format!("(report%20files/{name})")), "{name} linked");
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}

#[test]
fn empty_report_renders() {
    let input = trackbench_report::ReportInput { title: "Nothing".into(), ..Default::default() };
    let html = render_html(&input).unwrap();
    assert!(html.contains("No param differs"));
    assert!(!html.contains("id=\"charts\""));
    render_markdown(&input, "png").unwrap();
}
