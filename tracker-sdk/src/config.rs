//! Nested config (a JSON object) flattened to dotted param keys, keeping each value's type.

use serde_json::Value;

/// Flattens `{"model": {"depth": 4}, "lr": 0.1}` into `[("lr", 0.1), ("model.depth", 4)]`.
/// Arrays and scalars are leaves; an empty object becomes no keys. Keys come out sorted.
pub fn flatten_config(config: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    walk(config, String::new(), &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn walk(v: &Value, prefix: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                walk(child, key, out);
            }
        }
        leaf if !prefix.is_empty() => out.push((prefix, leaf.clone())),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn flattens_nested_objects_keeping_types() {
        let flat =
            super::flatten_config(&json!({"lr": 0.1, "model": {"depth": 4, "act": "relu", "dims": [1, 2]}, "e": {}}));
        assert_eq!(
            flat,
            vec![
                ("lr".to_string(), json!(0.1)),
                ("model.act".to_string(), json!("relu")),
                ("model.depth".to_string(), json!(4)),
                ("model.dims".to_string(), json!([1, 2])),
            ]
        );
    }
}
