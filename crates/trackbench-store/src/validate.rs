//! Input rules shared by every writer (the SDKs validate with these at the call, the store
//! again at ingest): what a key, a tag or a param value may be, and what a model, a
//! registered model or a version may be (every backend checks with these, and refuses
//! alike with the error constructors here).

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

/// Longest model description, model type or version source we keep, in bytes.
pub const MAX_MODEL_TEXT_BYTES: usize = 64 * 1024;

/// A model's free text (a description, a model type, a version's source): up to 64 KiB, no
/// NUL.
pub fn model_text(what: &'static str, text: &str) -> Result<()> {
    if text.len() > MAX_MODEL_TEXT_BYTES {
        return Err(StoreError::invalid(what, format!("longer than {MAX_MODEL_TEXT_BYTES} bytes")));
    }
    if text.contains('\0') {
        return Err(StoreError::invalid(what, "contains a NUL byte"));
    }
    Ok(())
}

/// Tags of a model, a registered model or a version: keys, and values as run tags' are.
pub fn tags(tags: &[(String, String)]) -> Result<()> {
    for (k, v) in tags {
        key("tag", k)?;
        tag_value(k, v)?;
    }
    Ok(())
}

/// Params of a logged model: keys, and text values as tag values are.
pub fn model_params(params: &[(String, String)]) -> Result<()> {
    for (k, v) in params {
        key("param", k)?;
        tag_value(k, v)?;
    }
    Ok(())
}

/// What a new logged model records: its name (no `/ : . % " '`, MLflow's rule, as it
/// appears in paths and filters), tags, params and model type.
pub fn new_logged_model(new: &crate::NewLoggedModel) -> Result<()> {
    name("model name", &new.name)?;
    if let Some(c) = new.name.chars().find(|c| "/:.%\"'".contains(*c)) {
        return Err(StoreError::invalid(
            "model name",
            format!("`{}` contains {c:?}; a logged model's name cannot contain / : . % \" or '", new.name),
        ));
    }
    tags(&new.tags)?;
    model_params(&new.params)?;
    if let Some(t) = &new.model_type {
        model_text("model type", t)?;
    }
    Ok(())
}

/// A registered model name, as MLflow allows them: not blank, no `/` or `:`, and nothing a
/// path would read as another name (`.`, `..`; trailing spaces are fine).
pub fn registered_model_name(name: &str) -> Result<()> {
    self::name("registered model name", name)?;
    if name.contains(['/', ':']) {
        return Err(StoreError::invalid("registered model name", format!("`{name}`: names cannot contain '/' or ':'")));
    }
    if name == "." || name == ".." {
        return Err(StoreError::invalid("registered model name", format!("`{name}` would resolve to another name")));
    }
    Ok(())
}

/// What a new model version records: a source (not blank), a description and tags.
pub fn new_model_version(new: &crate::NewModelVersion) -> Result<()> {
    model_text("source", &new.source)?;
    if new.source.trim().is_empty() {
        return Err(StoreError::invalid("source", "empty"));
    }
    if let Some(d) = &new.description {
        model_text("description", d)?;
    }
    tags(&new.tags)
}

/// A legacy stage in any case, as its canonical spelling (one of [`crate::STAGES`]).
pub fn stage(stage: &str) -> Result<&'static str> {
    crate::STAGES
        .iter()
        .find(|s| s.eq_ignore_ascii_case(stage))
        .copied()
        .ok_or_else(|| StoreError::invalid("stage", format!("`{stage}`; expected one of {}", crate::STAGES.join(", "))))
}

/// The refusal of a logged model's param logged again with another value.
pub fn model_param_rewrite(model: &str, key: &str, old: &str) -> StoreError {
    StoreError::invalid("param", format!("`{key}` of model {model} is already `{old}`; params are write-once"))
}

/// Logged model `uid` does not exist (or was deleted).
pub fn logged_model_not_found(uid: &str) -> StoreError {
    StoreError::NotFound { what: "logged model", name: uid.to_string() }
}

/// Tag `key` of logged model `uid` is not set.
pub fn logged_model_tag_not_found(uid: &str, key: &str) -> StoreError {
    StoreError::NotFound { what: "logged model tag", name: format!("{uid}: {key}") }
}

/// Registered model `name` does not exist.
pub fn registered_model_not_found(name: &str) -> StoreError {
    StoreError::NotFound { what: "registered model", name: name.to_string() }
}

/// Registered model `name` already exists.
pub fn registered_model_exists(name: &str) -> StoreError {
    StoreError::AlreadyExists { what: "registered model", name: name.to_string() }
}

/// Version `version` of registered model `name` does not exist.
pub fn model_version_not_found(name: &str, version: i64) -> StoreError {
    StoreError::NotFound { what: "model version", name: format!("{name} version {version}") }
}

/// Registered model `name` has no alias `alias`.
pub fn model_alias_not_found(name: &str, alias: &str) -> StoreError {
    StoreError::NotFound { what: "model alias", name: format!("{name}@{alias}") }
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
