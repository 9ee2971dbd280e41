//! Terminal output helpers: aligned tables, times, numbers, and [`escape`], which every
//! human-readable printer passes stored text through so that a tag value, name, param or log
//! line cannot send escape sequences to the terminal (`--json` output stays exact JSON).

use std::borrow::Cow;
use std::cell::RefCell;

thread_local! {
    /// The filter text of the current command, so a parse error can be shown with a caret.
    pub static LAST_FILTER: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// True for characters a terminal may act on instead of showing: C0 controls (tab and newline
/// included, which would break a table's layout), DEL, C1 controls (ESC's 8-bit forms) and the
/// bidirectional overrides that reorder what is shown.
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every control character written as a visible escape: `\n`, `\t`, `\r`,
/// `\x1b` for the other C0 controls and DEL, `\u{9b}` for C1 and bidi controls. Text
/// without any comes back borrowed.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_unsafe(c) && (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Prints rows as a left-aligned table with a header (widths by character count). Every cell
/// goes through [`escape`].
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let header: Vec<Cow<str>> = header.iter().map(|h| escape(h)).collect();
    let header: Vec<&str> = header.iter().map(|h| h.as_ref()).collect();
    let rows: Vec<Vec<Cow<str>>> = rows.iter().map(|r| r.iter().map(|c| escape(c)).collect()).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| -> String {
        let mut s = String::new();
        for (i, c) in cells.enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(c);
            if i + 1 < widths.len() {
                s.push_str(&" ".repeat(widths[i].saturating_sub(c.chars().count())));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = line(&mut header.iter().copied());
    out.push('\n');
    for r in &rows {
        out.push_str(&line(&mut r.iter().map(|c| c.as_ref())));
        out.push('\n');
    }
    out
}

/// `2026-11-29 06:03:37` (UTC) from epoch milliseconds.
pub fn time(ms: i64) -> String {
    trackbench_store::format_utc(ms)
}

/// `1h02m`, `3m05s`, `12.5s`.
pub fn duration(ms: i64) -> String {
    let s = ms.max(0) as f64 / 1000.0;
    if s < 60.0 {
        format!("{s:.1}s")
    } else if s < 3600.0 {
        format!("{}m{:02}s", (s / 60.0) as i64, (s % 60.0) as i64)
    } else {
        format!("{}h{:02}m", (s / 3600.0) as i64, (s % 3600.0 / 60.0) as i64)
    }
}

pub use trackbench_compare::{format_num as num, json_cell};

#[cfg(test)]
mod tests {
    #[test]
    fn formats() {
        assert_eq!(super::time(0), "1970-01-01 00:00:00");
        assert_eq!(super::time(1_764_396_217_000), "2025-11-29 06:03:37");
        assert_eq!(super::duration(3_723_000), "1h02m");
        assert_eq!(super::num(0.5), "0.5");
        assert_eq!(super::num(f64::NAN), "NaN");
        assert_eq!(super::num(1e-7), "1e-7");
        assert_eq!(super::num(123.456789), "123.457", "6 significant digits, as in reports");
        assert_eq!(super::table(&["a", "bb"], &[vec!["xyz".into(), "1".into()]]), "a    bb\nxyz  1\n");
    }

    #[test]
    fn control_characters_are_shown_not_sent() {
        use super::escape;
        assert_eq!(escape("plain café ✓"), "plain café ✓");
        assert!(matches!(escape("plain"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(escape("\x1b[31mred\x1b]0;title\x07"), "\\x1b[31mred\\x1b]0;title\\x07");
        assert_eq!(escape("a\tb\nc\rd\0e\x7f"), "a\\tb\\nc\\rd\\x00e\\x7f");
        assert_eq!(escape("\u{9b}31m \u{202e}txt"), "\\u{9b}31m \\u{202e}txt");
        let t = super::table(&["K", "V"], &[vec!["k".into(), "\x1b[2J".into()]]);
        assert_eq!(t, "K  V\nk  \\x1b[2J\n", "escaped, and aligned by what is shown");
    }
}
