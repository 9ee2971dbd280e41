//! Input rules shared by every writer (the SDKs validate with these at the call, the store
//! again at ingest): what a key, a tag or a param value may be.

use crate::error::{Result, StoreError};

/// Longest metric/param/tag/summary key, in bytes (MLflow allows 250).
pub const MAX_KEY_BYTES: usize = 250;
/// Longest tag value, in bytes.
pub const MAX_TAG_VALUE_BYTES: usize = 64 * 1024;
/// Longest param value (as JSON text), in bytes.
pub const MAX_PARAM_VALUE_BYTES: usize = 64 * 1024;
/// Longest project or run name, in bytes.
pub const MAX_NAME_BYTES: usize = 256;
/// Longest captured log line kept whole, in bytes; longer lines are cut at a char boundary.
pub const MAX_LOG_LINE_BYTES: usize = 64 * 1024;

/// A metric, param, tag or summary key: 1..=250 bytes, no control characters, not
/// blank, no leading/trailing whitespace.
pub fn key(what: &'static str, key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(StoreError::invalid(what, "key is empty"));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(StoreError::invalid(
            what,
            format!("key is {} bytes, longer than {MAX_KEY_BYTES}: `{}…`", key.len(), prefix(key, 40)),
        ));
    }
    if let Some(c) = key.chars().find(|c| c.is_control()) {
        return Err(StoreError::invalid(what, format!("key {key:?} contains control character {c:?}")));
    }
    if key.trim() != key {
        return Err(StoreError::invalid(what, format!("key {key:?} has leading or trailing whitespace")));
    }
    Ok(())
}

/// A project or run name.
pub fn name(what: &'static str, name: &str) -> Result<()> {
    if name.trim().is_empty() {
        return Err(StoreError::invalid(what, "name is empty"));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(StoreError::invalid(what, format!("name is longer than {MAX_NAME_BYTES} bytes")));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(StoreError::invalid(what, format!("name {name:?} contains control character {c:?}")));
    }
    Ok(())
}

/// What a new run records: its id (a key), its name and its tags.
pub fn new_run(uid: &str, new: &crate::NewRun) -> Result<()> {
    key("run id", uid)?;
    if let Some(n) = &new.name {
        name("run name", n)?;
    }
    for (k, v) in &new.tags {
        key("tag", k)?;
        tag_value(k, v)?;
    }
    Ok(())
}

/// What a new A/B comparison records: a name, the metric's key, and `maximize`/`minimize`.
pub fn new_ab(new: &crate::NewAb) -> Result<()> {
    name("A/B name", &new.name)?;
    key("metric", &new.metric)?;
    if !matches!(new.direction.as_str(), "maximize" | "minimize") {
        return Err(StoreError::invalid("direction", format!("`{}` is not maximize or minimize", new.direction)));
    }
    Ok(())
}

/// How a run or an A/B (`thing`: "a run", "an A/B") may end: finished, failed or killed.
pub fn end_status(thing: &str, status: crate::RunStatus) -> Result<()> {
    use crate::RunStatus as S;
    if matches!(status, S::Finished | S::Failed | S::Killed) {
        Ok(())
    } else {
        Err(StoreError::invalid("status", format!("{thing} cannot be finished as `{status}`")))
    }
}

/// The refusal of an A/B id prefix that matches `n` comparisons.
pub fn ambiguous_ab(prefix: &str, n: usize) -> StoreError {
    StoreError::invalid("A/B id", format!("prefix `{prefix}` matches {n} comparisons; give more"))
}

/// A tag value: any text without NUL, up to 64 KiB.
pub fn tag_value(key: &str, value: &str) -> Result<()> {
    if value.len() > MAX_TAG_VALUE_BYTES {
        return Err(StoreError::invalid("tag", format!("value of `{key}` is longer than {MAX_TAG_VALUE_BYTES} bytes")));
    }
    if value.contains('\0') {
        return Err(StoreError::invalid("tag", format!("value of `{key}` contains a NUL byte")));
    }
    Ok(())
}

/// A param value: a JSON scalar or array (nested objects must be flattened to dotted keys
/// first), finite numbers only, up to 64 KiB of JSON.
pub fn param_value(key: &str, value: &serde_json::Value) -> Result<()> {
    if value.is_object() {
        return Err(StoreError::invalid("param", format!("value of `{key}` is an object; flatten it to dotted keys")));
    }
    let len = serde_json::to_string(value).map(|s| s.len()).unwrap_or(usize::MAX);
    if len > MAX_PARAM_VALUE_BYTES {
        return Err(StoreError::invalid(
            "param",
            format!("value of `{key}` is longer than {MAX_PARAM_VALUE_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// A captured line as stored: NUL bytes shown as U+FFFD, cut (on a character boundary) at
/// [`MAX_LOG_LINE_BYTES`].
pub fn log_line(line: &str) -> String {
    let mut clean = line.replace('\0', "\u{FFFD}");
    if clean.len() > MAX_LOG_LINE_BYTES {
        let mut end = MAX_LOG_LINE_BYTES;
        while !clean.is_char_boundary(end) {
            end -= 1;
        }
        clean.truncate(end);
    }
    clean
}

/// The refusal of a param logged again with another value (params are write-once).
pub fn param_rewrite(key: &str, old_json: &str, new_json: &str) -> StoreError {
    StoreError::invalid(
        "param",
        format!(
            "`{key}` was already logged as {old_json}; params are write-once (log {new_json} under a new key or in a new run)"
        ),
    )
}

/// The text form of a param (strings raw, everything else as JSON) and its numeric value
/// when it is a number or a string holding one (MLflow logs every param as a string).
pub fn param_text_num(value: &serde_json::Value) -> (String, Option<f64>) {
    match value {
        serde_json::Value::String(s) => (s.clone(), s.trim().parse::<f64>().ok().filter(|f| f.is_finite())),
        serde_json::Value::Number(n) => (n.to_string(), n.as_f64()),
        other => (other.to_string(), None),
    }
}

/// An artifact path inside a run: relative, `/`-separated, no `.`/`..`/empty segments, no
/// control characters or backslashes. Returns the normalised path.
pub fn artifact_path(path: &str) -> Result<String> {
    let bad = |why: &str| Err(StoreError::invalid("artifact path", format!("{path:?}: {why}")));
    if path.is_empty() {
        return bad("empty");
    }
    if path.len() > 1024 {
        return bad("longer than 1024 bytes");
    }
    if path.starts_with('/') || path.contains('\\') || path.get(1..2) == Some(":") {
        return bad("must be relative, with `/` separators");
    }
    if path.chars().any(|c| c.is_control()) {
        return bad("contains a control character");
    }
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.is_empty() {
        return bad("empty");
    }
    if segments.iter().any(|s| *s == "." || *s == "..") {
        return bad("`.` and `..` segments are not allowed");
    }
    Ok(segments.join("/"))
}

fn prefix(s: &str, chars: usize) -> &str {
    s.char_indices().nth(chars).map_or(s, |(i, _)| &s[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        for ok in ["loss", "train/loss", "val.acc@1", "損失", "a b", &"k".repeat(250)] {
            key("metric", ok).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
        }
        for (bad, why) in [
            ("", "empty"),
            (&"k".repeat(251) as &str, "longer than 250"),
            ("a\nb", "control"),
            ("a\0b", "control"),
            (" lead", "whitespace"),
            ("trail\u{3000}", "whitespace"),
        ] {
            let err = key("metric", bad).expect_err(bad).to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
    }

    #[test]
    fn artifact_paths() {
        assert_eq!(artifact_path("a//b/c.txt").unwrap(), "a/b/c.txt");
        assert_eq!(artifact_path("model.pt").unwrap(), "model.pt");
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "a/./b", "C:\\x", "a\\b", "c:x", "a\nb", "//"] {
            assert!(artifact_path(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn values() {
        assert!(param_value("k", &serde_json::json!({"a": 1})).is_err());
        assert!(param_value("k", &serde_json::json!("x".repeat(70_000))).is_err());
        assert!(param_value("k", &serde_json::json!([1, 2])).is_ok());
        assert!(tag_value("k", "a\0").is_err());
        assert!(name("project", "  ").is_err());
    }
}
