//! Terminal output helpers: aligned tables, times, numbers.

use std::cell::RefCell;

thread_local! {
    /// The filter text of the current command, so a parse error can be shown with a caret.
    pub static LAST_FILTER: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Prints rows as a left-aligned table with a header (widths by character count).
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
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
    for r in rows {
        out.push_str(&line(&mut r.iter().map(String::as_str)));
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
        assert_eq!(super::num(1e-7), "1.0000e-7");
        assert_eq!(super::table(&["a", "bb"], &[vec!["xyz".into(), "1".into()]]), "a    bb\nxyz  1\n");
    }
}
