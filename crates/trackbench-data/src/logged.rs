//! Datasets as run inputs: a table's profile (from `trackbench-data`) stored as one of the run's
//! inputs in MLflow's `DatasetInput` form, so MLflow's `get-run` shows it as MLflow shows
//! datasets, and read back for drift tests.
//!
//! One input is
//!
//! ```json
//! { "tags": [ {"key": "mlflow.data.context", "value": "training"},
//!             {"key": "trackbench.data.step", "value": "3"} ],
//!   "dataset": { "name": "train", "digest": "<16 hex>", "source_type": "code",
//!                "source": "{\"tags\": {\"trackbench.source\": \"sdk\"}}",
//!                "schema": "{\"mlflow_colspec\": [{\"type\": \"double\", \"name\": \"x\", \"required\": true}]}",
//!                "profile": "<the Trackbench profile as JSON>" } }
//! ```
//!
//! `context` is MLflow's own input tag (`mlflow.data.context`); the step is ours
//! (`trackbench.data.step`). The digest hashes the name, the step and the profile, so logging the
//! same table again under the same name and step stores nothing new (the store keeps one input
//! per digest), while a new batch at a new step is a new input.

use crate::{DType, Profile};
use serde_json::{Value, json};

/// MLflow's input tag for what a dataset was used for.
pub const CONTEXT_TAG: &str = "mlflow.data.context";
/// Our input tag for the step a profile was logged at.
pub const STEP_TAG: &str = "trackbench.data.step";

/// A dataset input as logged: where it sits among the run's inputs and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedDataset {
    pub name: String,
    pub digest: String,
    pub context: Option<String>,
    pub step: Option<i64>,
    /// The profile's JSON text (`None`: an input logged without a Trackbench profile, such as
    /// one logged by an MLflow client).
    pub profile: Option<String>,
}

impl LoggedDataset {
    /// Reads one of a run's stored inputs; `None` when it is not a dataset input at all.
    pub fn from_input(input: &Value) -> Option<LoggedDataset> {
        let ds = input.get("dataset")?;
        let name = ds.get("name")?.as_str()?.to_string();
        let digest = ds.get("digest").and_then(Value::as_str).unwrap_or_default().to_string();
        let tag = |key: &str| {
            input.get("tags")?.as_array()?.iter().find(|t| t["key"] == key).and_then(|t| t["value"].as_str())
        };
        let profile = ds.get("profile").and_then(Value::as_str).filter(|p| p.contains("\"columns\""));
        Some(LoggedDataset {
            name,
            digest,
            context: tag(CONTEXT_TAG).map(str::to_string),
            step: tag(STEP_TAG).and_then(|s| s.parse().ok()),
            profile: profile.map(str::to_string),
        })
    }

    /// The parsed profile.
    pub fn parse_profile(&self) -> Result<Profile, String> {
        let text = self.profile.as_deref().ok_or_else(|| {
            format!("dataset {:?} has no Trackbench profile (logged by another client, such as MLflow)", self.name)
        })?;
        Profile::from_json(text).map_err(|e| format!("dataset {:?}: its profile does not parse: {e}", self.name))
    }
}

/// MLflow's column type for a profiled column.
fn mlflow_type(t: DType) -> &'static str {
    match t {
        DType::Float => "double",
        DType::Int => "long",
        DType::Bool => "boolean",
        DType::String | DType::Null => "string",
    }
}

/// The digest of a dataset: the name, the step and the profile, hashed (16 hex digits; MLflow
/// allows 36).
pub fn digest(name: &str, step: Option<i64>, profile_json: &str) -> String {
    let mut h = blake3::Hasher::new();
    h.update(name.as_bytes());
    h.update(b"\0");
    h.update(step.map(|s| s.to_string()).unwrap_or_default().as_bytes());
    h.update(b"\0");
    h.update(profile_json.as_bytes());
    h.finalize().to_hex()[..16].to_string()
}

/// The key the store deduplicates an input by: the same the server's MLflow `log-inputs` uses,
/// so an input logged locally and one logged over HTTP are the same input.
pub fn store_key(name: &str, digest: &str) -> String {
    blake3::hash(format!("{name}\0{digest}").as_bytes()).to_hex().to_string()
}

/// The `DatasetInput` for `profile` logged as `name`; with its store key.
pub fn input_json(name: &str, context: Option<&str>, step: Option<i64>, profile: &Profile) -> (String, Value) {
    let profile_json = profile.to_json();
    let digest = digest(name, step, &profile_json);
    let colspec: Vec<Value> = profile
        .columns
        .iter()
        .map(|c| json!({ "type": mlflow_type(c.dtype), "name": c.name, "required": c.nulls == 0 }))
        .collect();
    let schema = json!({ "mlflow_colspec": colspec }).to_string();
    let source = json!({ "tags": { "trackbench.source": "sdk" } }).to_string();
    let mut tags = Vec::new();
    if let Some(c) = context {
        tags.push(json!({ "key": CONTEXT_TAG, "value": c }));
    }
    if let Some(s) = step {
        tags.push(json!({ "key": STEP_TAG, "value": s.to_string() }));
    }
    let input = json!({
        "tags": tags,
        "dataset": {
            "name": name,
            "digest": digest,
            "source_type": "code",
            "source": source,
            "schema": schema,
            "profile": profile_json,
        }
    });
    (store_key(name, &digest), input)
}

/// Picks dataset `name` among a run's inputs: the one logged at `step`, or without a step the
/// one logged without one (the latest such), else the one at the greatest step. Errors say what
/// the run has instead.
pub fn find<'a>(inputs: &'a [LoggedDataset], name: &str, step: Option<i64>) -> Result<&'a LoggedDataset, String> {
    let named: Vec<&LoggedDataset> = inputs.iter().filter(|d| d.name == name).collect();
    if named.is_empty() {
        let mut names: Vec<&str> = inputs.iter().map(|d| d.name.as_str()).collect();
        names.dedup();
        return Err(if names.is_empty() {
            format!("no dataset {name:?}: the run has no datasets")
        } else {
            format!("no dataset {name:?}: the run has {}", names.join(", "))
        });
    }
    let found = match step {
        Some(s) => named.iter().rev().find(|d| d.step == Some(s)).copied(),
        None => named
            .iter()
            .rev()
            .find(|d| d.step.is_none())
            .or_else(|| named.iter().filter(|d| d.step.is_some()).max_by_key(|d| d.step))
            .copied(),
    };
    found.ok_or_else(|| {
        let steps: Vec<String> = named.iter().filter_map(|d| d.step).map(|s| s.to_string()).collect();
        format!("dataset {name:?} was not logged at step {}; it was at steps {}", step.unwrap_or(0), steps.join(", "))
    })
}

/// `RUN:DATASET[@STEP]`: one logged profile, as the CLI's `drift`, the server's drift route and
/// reports name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub run: String,
    pub dataset: String,
    pub step: Option<i64>,
}

impl std::str::FromStr for Spec {
    type Err = String;
    fn from_str(s: &str) -> Result<Spec, String> {
        let Some((run, rest)) = s.split_once(':') else {
            return Err(format!("{s:?}: expected RUN:DATASET[@STEP] (e.g. 3f9a:train or baseline:serving@7)"));
        };
        // `@` followed by anything but an integer is part of the dataset's name.
        let (dataset, step) = match rest.rsplit_once('@').and_then(|(d, st)| Some((d, st.parse::<i64>().ok()?))) {
            Some((d, n)) => (d, Some(n)),
            None => (rest, None),
        };
        if run.is_empty() || dataset.is_empty() {
            return Err(format!("{s:?}: expected RUN:DATASET[@STEP], with a run and a dataset name"));
        }
        Ok(Spec { run: run.to_string(), dataset: dataset.to_string(), step })
    }
}

impl std::fmt::Display for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.run, self.dataset)?;
        if let Some(s) = self.step {
            write!(f, "@{s}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{Column, ColumnValues, ProfileOptions};

    use super::*;

    #[test]
    fn inputs_round_trip_and_digest_by_name_step_and_data() {
        let xs = [1.0, 2.0, 3.0];
        let p = Profile::from_columns(&[Column::new("x", ColumnValues::F64(&xs))], &ProfileOptions::default()).unwrap();
        let (key, v) = input_json("train", Some("training"), Some(3), &p);
        let d = LoggedDataset::from_input(&v).unwrap();
        assert_eq!((d.name.as_str(), d.context.as_deref(), d.step), ("train", Some("training"), Some(3)));
        assert_eq!(d.parse_profile().unwrap(), p);
        assert_eq!(key, store_key("train", &d.digest));
        assert_eq!(v["dataset"]["schema"], r#"{"mlflow_colspec":[{"name":"x","required":true,"type":"double"}]}"#);
        assert_eq!(input_json("train", Some("training"), Some(3), &p).0, key, "same input, same key");
        assert_ne!(input_json("train", None, Some(4), &p).0, key);
        assert_ne!(input_json("val", None, Some(3), &p).0, key);
        let logged = vec![d.clone(), LoggedDataset { step: Some(7), ..d.clone() }];
        assert_eq!(find(&logged, "train", None).unwrap().step, Some(7));
        assert_eq!(find(&logged, "train", Some(3)).unwrap().step, Some(3));
        assert!(find(&logged, "train", Some(5)).unwrap_err().contains("steps 3, 7"));
        assert!(find(&logged, "test", None).unwrap_err().contains("the run has train"));
    }

    #[test]
    fn specs_parse() {
        let p = |s: &str| s.parse::<Spec>();
        assert_eq!(p("abc:train").unwrap(), Spec { run: "abc".into(), dataset: "train".into(), step: None });
        assert_eq!(p("abc:serving@7").unwrap().step, Some(7));
        assert_eq!(p("abc:a:b@-1").unwrap(), Spec { run: "abc".into(), dataset: "a:b".into(), step: Some(-1) });
        assert_eq!(p("abc:a@b").unwrap().dataset, "a@b");
        for bad in ["abc", ":train", "abc:", "abc:@3"] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }
}
