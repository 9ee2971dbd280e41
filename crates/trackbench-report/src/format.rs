//! Text formatting shared by the renderers: numbers for tables and axis ticks, durations, file
//! name slugs, and the escaping rules of Markdown and CSV (HTML escaping is minijinja's).

/// A number for a table cell: up to 6 significant digits, scientific notation for very large or
/// small magnitudes, `NaN`/`inf`/`-inf` spelled out. The one table format of every renderer,
/// the CLI's tables included.
pub fn format_num(v: f64) -> String {
    significant(v, 6)
}

/// An axis tick: 4 significant digits, `k`/`M` suffixes for large round values (steps).
pub(crate) fn tick(v: f64) -> String {
    let a = v.abs();
    if (1e4..1e10).contains(&a) {
        let (div, suffix) = if a >= 1e9 {
            (1e9, "G")
        } else if a >= 1e6 {
            (1e6, "M")
        } else {
            (1e3, "k")
        };
        return format!("{}{suffix}", significant(v / div, 4));
    }
    significant(v, 4)
}

fn significant(v: f64, digits: i32) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf" } else { "-inf" }.into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    let exp = a.log10().floor() as i32;
    if !(-4..digits).contains(&exp) {
        let s = format!("{:.*e}", (digits - 1).max(0) as usize, v);
        // "1.50000e-5" -> "1.5e-5"
        let (mantissa, e) = s.split_once('e').unwrap_or((&s, "0"));
        return format!("{}e{}", trim_zeros(mantissa), e);
    }
    let decimals = (digits - 1 - exp).max(0) as usize;
    let s = format!("{v:.decimals$}");
    let s = trim_zeros(&s).to_string();
    if s == "-0" { "0".into() } else { s }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { s }
}

/// A duration: `850 ms`, `42.5 s`, `12m 05s`, `3h 02m`, `2d 04h`.
pub(crate) fn duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return format_num(seconds);
    }
    if seconds < 1.0 {
        return format!("{} ms", (seconds * 1000.0).round());
    }
    if seconds < 60.0 {
        return format!("{} s", significant(seconds, 3));
    }
    let s = seconds.round() as u64;
    let (d, h, m, sec) = (s / 86_400, (s / 3600) % 24, (s / 60) % 60, s % 60);
    if d > 0 {
        format!("{d}d {h:02}h")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else {
        format!("{m}m {sec:02}s")
    }
}

/// A lowercase file-name slug of `s` (`val/loss` -> `val-loss`), never empty.
pub(crate) fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out.truncate(60);
    if out.is_empty() { "chart".into() } else { out }
}

/// Escapes text for a Markdown table cell or paragraph: the punctuation that can start
/// emphasis, code, links, headings' closing runs, strikethrough or a cell break gets a backslash
/// (with `[` and `]` escaped no link can form, so parentheses and `!` stay as they are); `<`, `>`
/// and `&` become entities (so HTML in a run name shows as text), and line breaks become spaces
/// (a cell is one line).
pub(crate) fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A Markdown code span holding `text` verbatim (shown as text, HTML included): the backtick
/// fence is longer than any backtick run inside; line breaks become spaces.
pub(crate) fn markdown_code_span(text: &str) -> String {
    let text: String = text.chars().map(|c| if matches!(c, '\r' | '\n') { ' ' } else { c }).collect();
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Escapes text for HTML (inside the few raw HTML tags a Markdown report uses).
pub(crate) fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a relative path for a Markdown link target (keeps `/` and unreserved bytes).
pub(crate) fn url_path(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One CSV field (RFC 4180): quoted when it holds a comma, quote or line break.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// A number in CSV: Rust's shortest round-trip form (`0.1`, `1e-7`, `1e16`), whole numbers
/// without `.0` (`100`), `NaN`, `inf`, `-inf`.
pub fn csv_num(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        let s = format!("{v:?}");
        match s.strip_suffix(".0") {
            Some(whole) => whole.to_string(),
            None => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(f: fn(f64) -> String, cases: &[(f64, &str)]) {
        for &(v, expect) in cases {
            assert_eq!(f(v), expect, "{v}");
        }
    }

    #[test]
    fn numbers() {
        check(
            format_num,
            &[
                (0.0, "0"),
                (-0.0, "0"),
                (1.0, "1"),
                (0.912345678, "0.912346"),
                (123456.7, "123457"),
                (1234567.0, "1.23457e6"),
                (12345.67, "12345.7"),
                (0.0003, "0.0003"),
                (0.00003, "3e-5"),
                (-2.5, "-2.5"),
                (f64::NAN, "NaN"),
                (f64::NEG_INFINITY, "-inf"),
                (0.1 + 0.2, "0.3"),
            ],
        );
    }

    #[test]
    fn ticks() {
        check(
            tick,
            &[
                (0.0, "0"),
                (500.0, "500"),
                (2000.0, "2000"),
                (20000.0, "20k"),
                (1.5e6, "1.5M"),
                (0.30000000000000004, "0.3"),
                (1e-5, "1e-5"),
            ],
        );
    }

    #[test]
    fn durations() {
        assert_eq!(duration(0.25), "250 ms");
        assert_eq!(duration(42.46), "42.5 s");
        assert_eq!(duration(725.0), "12m 05s");
        assert_eq!(duration(3.0 * 3600.0 + 125.0), "3h 02m");
        assert_eq!(duration(2.0 * 86400.0 + 4.0 * 3600.0), "2d 04h");
        assert_eq!(duration(f64::NAN), "NaN");
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("val/loss"), "val-loss");
        assert_eq!(slug("  Train Loss (EMA) "), "train-loss-ema");
        assert_eq!(slug("<>"), "chart");
    }

    #[test]
    fn markdown_escapes_structure_and_html() {
        assert_eq!(markdown("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(markdown("[x](javascript:y) *a* ~~b~~ #"), "\\[x\\](javascript:y) \\*a\\* \\~\\~b\\~\\~ \\#");
        assert_eq!(markdown("a|b `c`\nd"), "a\\|b \\`c\\` d");
        assert_eq!(markdown_code_span("a `b` c"), "``a `b` c``");
        assert_eq!(markdown_code_span("`x"), "`` `x ``");
        assert_eq!(html("<a href='x'>&</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_num(0.1), "0.1");
        assert_eq!(csv_num(100.0), "100");
        assert_eq!(csv_num(-0.0), "-0");
        assert_eq!(csv_num(1e-7), "1e-7");
        assert_eq!(csv_num(2.5e300), "2.5e300");
        for v in [0.1, 1e-7, 2.5e300, -123.456, 100.0, 1.0 / 3.0] {
            assert_eq!(csv_num(v).parse::<f64>().unwrap(), v, "{v} round-trips");
        }
        assert_eq!(csv_num(f64::NAN), "NaN");
    }
}
