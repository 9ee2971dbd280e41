//! Logged datasets and drift over the native API (issue 19), for the UI's "Data" tab and drift
//! view:
//!
//! - `GET /api/v1/runs/{id}/datasets`: the run's dataset inputs, one entry per logged profile
//!   (name, digest, context, step, rows, column count), in the order they were logged.
//! - `GET /api/v1/runs/{id}/datasets/{name}?step=N`: one profile (picked as `trackbench drift`
//!   picks it: at STEP, else the one logged without a step, else the latest step): per column
//!   its summary row and its chart (histogram and CDF, or top categories); `bins=` and `top=`
//!   size the charts.
//! - `GET /api/v1/drift?reference=RUN:DATASET[@STEP]&current=RUN:DATASET[@STEP]`, with
//!   `test=`, `threshold=NAME=VALUE` (repeated or comma-separated), `columns=A,B`, `bins=`,
//!   `top=`: both sides, the drift report, and per column a chart of both profiles on shared
//!   bins. The parameters mean what `trackbench drift`'s flags mean.
//!
//! Every number is `trackbench-data`'s: reading the inputs and picking one (`logged`), summaries
//! and charts (`overview`, `chart`), the tests (`drift`). Here are only parameters, errors (400
//! for a malformed parameter, 404 naming what the run has instead) and JSON.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};
use trackbench_data::logged::{LoggedDataset, Spec, find};
use trackbench_data::{DriftOptions, Profile, chart, drift, overview};
use trackbench_store::Backend;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

use super::AppJson;

/// A numeric column's histogram bins and a categorical one's categories, unless asked.
const BINS: usize = 30;
const TOP: usize = 10;
/// The most a client may ask for (a chart is drawn, not a data export).
const MAX_BINS: usize = 200;
const MAX_TOP: usize = 100;

/// The dataset inputs of run `uid` (inputs that are not datasets are left out).
fn logged(st: &dyn Backend, uid: &str) -> ApiResult<Vec<LoggedDataset>> {
    Ok(st.run_inputs(uid)?.iter().filter_map(LoggedDataset::from_input).collect())
}

/// The profile of a found dataset: 404 when it has none (an input logged by an MLflow
/// client), 500 when it does not parse.
fn profile_of(d: &LoggedDataset, run: &str) -> ApiResult<Profile> {
    d.parse_profile().map_err(|e| {
        let message = format!("run {run}: {e}");
        if d.profile.is_none() { ApiError::not_found(message) } else { ApiError::internal(message) }
    })
}

/// An optional integer parameter, 400 when it is not one.
fn int_param<T: std::str::FromStr>(name: &str, v: Option<&str>) -> ApiResult<Option<T>> {
    v.map(|s| s.trim().parse::<T>().map_err(|_| ApiError::invalid(format!("{name}={s:?}: expected an integer"))))
        .transpose()
}

/// Chart sizes from `bins=` and `top=` (defaults, clamped to sane bounds).
fn sizes(bins: Option<&str>, top: Option<&str>) -> ApiResult<(usize, usize)> {
    let bins = int_param::<usize>("bins", bins)?.unwrap_or(BINS).clamp(1, MAX_BINS);
    let top = int_param::<usize>("top", top)?.unwrap_or(TOP).clamp(1, MAX_TOP);
    Ok((bins, top))
}

fn to_json(v: impl serde::Serialize) -> ApiResult<Value> {
    serde_json::to_value(v).map_err(|e| ApiError::internal(e.to_string()))
}

/// `GET /api/v1/runs/{id}/datasets`.
pub(super) async fn list(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult<AppJson> {
    let out = s
        .read(move |st| {
            let run = st.run(&id)?;
            let mut datasets = Vec::new();
            for d in logged(st, &run.id)? {
                let (rows, columns, note) = match d.parse_profile() {
                    Ok(p) => (Some(p.rows), Some(p.columns.len()), None),
                    Err(e) => (None, None, Some(e)),
                };
                datasets.push(json!({
                    "name": d.name,
                    "digest": d.digest,
                    "context": d.context,
                    "step": d.step,
                    "rows": rows,
                    "columns": columns,
                    "profiled": note.is_none(),
                    "note": note,
                }));
            }
            Ok(json!({ "run": run.id, "datasets": datasets }))
        })
        .await?;
    Ok(axum::Json(out))
}

#[derive(Deserialize)]
pub(super) struct DatasetQuery {
    step: Option<String>,
    bins: Option<String>,
    top: Option<String>,
}

/// `GET /api/v1/runs/{id}/datasets/{name}`.
pub(super) async fn detail(
    State(s): State<Arc<AppState>>,
    Path((id, name)): Path<(String, String)>,
    Query(q): Query<DatasetQuery>,
) -> ApiResult<AppJson> {
    let step = int_param::<i64>("step", q.step.as_deref())?;
    let (bins, top) = sizes(q.bins.as_deref(), q.top.as_deref())?;
    let out = s
        .read(move |st| {
            let run = st.run(&id)?.id;
            let inputs = logged(st, &run)?;
            let d = find(&inputs, &name, step).map_err(|e| ApiError::not_found(format!("run {run}: {e}")))?;
            let p = profile_of(d, &run)?;
            let mut steps: Vec<i64> = inputs.iter().filter(|x| x.name == name).filter_map(|x| x.step).collect();
            steps.sort_unstable();
            steps.dedup();
            let mut columns = Vec::with_capacity(p.columns.len());
            for c in &p.columns {
                let mut v = to_json(overview(c))?;
                v["chart"] = to_json(chart(&[Some(c)], bins, top))?;
                columns.push(v);
            }
            Ok(json!({
                "run": run,
                "name": d.name,
                "digest": d.digest,
                "context": d.context,
                "step": d.step,
                "steps": steps,
                "rows": p.rows,
                "columns": columns,
            }))
        })
        .await?;
    Ok(axum::Json(out))
}

/// What `GET /api/v1/drift` was asked.
#[derive(Debug)]
struct DriftQuery {
    reference: Spec,
    current: Spec,
    options: DriftOptions,
    bins: usize,
    top: usize,
}

/// Applies one `NAME=VALUE` threshold, as `trackbench drift --threshold` does.
fn threshold(o: &mut DriftOptions, t: &str) -> ApiResult<()> {
    o.set_threshold(t).map_err(|e| ApiError::invalid(format!("threshold {e}")))
}

impl DriftQuery {
    /// Reads the query's pairs (repeated `threshold` and `columns` add up).
    fn parse(pairs: &[(String, String)]) -> ApiResult<DriftQuery> {
        let (mut reference, mut current, mut bins, mut top) = (None, None, None, None);
        let mut options = DriftOptions::default();
        let mut columns: Vec<String> = Vec::new();
        let spec = |v: &str, what: &str| -> ApiResult<Spec> {
            v.parse::<Spec>().map_err(|e| ApiError::invalid(format!("{what}: {e}")))
        };
        for (k, v) in pairs {
            match k.as_str() {
                "reference" => reference = Some(spec(v, "reference")?),
                "current" => current = Some(spec(v, "current")?),
                "test" => {
                    options.test = v.trim().parse().map_err(|e: String| ApiError::invalid(format!("test: {e}")))?
                }
                "threshold" => {
                    for t in v.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                        threshold(&mut options, t)?;
                    }
                }
                "columns" => columns.extend(v.split(',').map(str::trim).filter(|c| !c.is_empty()).map(String::from)),
                "bins" => bins = Some(v.as_str()),
                "top" => top = Some(v.as_str()),
                other => {
                    return Err(ApiError::invalid(format!(
                        "unknown parameter {other:?} (reference, current, test, threshold, columns, bins, top)"
                    )));
                }
            }
        }
        let need = |s: Option<Spec>, what: &str| {
            s.ok_or_else(|| ApiError::invalid(format!("`{what}` is required: RUN:DATASET[@STEP]")))
        };
        let (reference, current) = (need(reference, "reference")?, need(current, "current")?);
        if !columns.is_empty() {
            options.columns = Some(columns);
        }
        let (bins, top) = sizes(bins, top)?;
        Ok(DriftQuery { reference, current, options, bins, top })
    }
}

/// One side of a drift comparison: the run's id, the found dataset and its profile.
struct Side {
    run: trackbench_store::RunInfo,
    dataset: LoggedDataset,
    profile: Profile,
}

impl Side {
    /// Finds `spec` (a run id, id prefix or name; a dataset; a step) as `trackbench drift` does;
    /// errors name the side (`what`).
    fn find(st: &dyn Backend, spec: &Spec, what: &str) -> ApiResult<Side> {
        let named = |e: ApiError| ApiError { message: format!("the {what}: {}", e.message), ..e };
        let uid = st.resolve_run(&spec.run).map_err(|e| named(e.into()))?;
        let run = st.run(&uid).map_err(|e| named(e.into()))?;
        let inputs = logged(st, &uid).map_err(named)?;
        let found = find(&inputs, &spec.dataset, spec.step)
            .map_err(|e| named(ApiError::not_found(format!("run {uid}: {e}"))))?;
        let profile = profile_of(found, &uid).map_err(named)?;
        Ok(Side { run, dataset: found.clone(), profile })
    }

    fn json(&self, spec: &Spec) -> Value {
        json!({
            "spec": spec.to_string(),
            "run": self.run.id,
            "run_name": self.run.name,
            "project": self.run.project,
            "dataset": self.dataset.name,
            "digest": self.dataset.digest,
            "context": self.dataset.context,
            "step": self.dataset.step,
            "rows": self.profile.rows,
        })
    }
}

/// `GET /api/v1/drift`.
pub(super) async fn drift_report(
    State(s): State<Arc<AppState>>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<AppJson> {
    let q = DriftQuery::parse(&pairs)?;
    let out = s
        .read(move |st| {
            let r = Side::find(st, &q.reference, "reference")?;
            let c = Side::find(st, &q.current, "current data")?;
            if let Some(cols) = &q.options.columns {
                let missing: Vec<&str> = cols
                    .iter()
                    .filter(|n| r.profile.column(n).is_none() && c.profile.column(n).is_none())
                    .map(String::as_str)
                    .collect();
                if !missing.is_empty() {
                    return Err(ApiError::invalid(format!("columns: neither profile has {}", missing.join(", "))));
                }
            }
            let report = drift(&r.profile, &c.profile, &q.options);
            let mut charts = serde_json::Map::new();
            for col in &report.columns {
                let both = [r.profile.column(&col.column), c.profile.column(&col.column)];
                charts.insert(col.column.clone(), to_json(chart(&both, q.bins, q.top))?);
            }
            let thresholds: BTreeMap<&str, f64> = q.options.thresholds.iter().map(|(t, v)| (t.name(), *v)).collect();
            Ok(json!({
                "reference": r.json(&q.reference),
                "current": c.json(&q.current),
                "options": {
                    "test": q.options.test.name(),
                    "thresholds": thresholds,
                    "drift_share": q.options.drift_share,
                    "columns": q.options.columns,
                },
                "report": to_json(&report)?,
                "charts": charts,
            }))
        })
        .await?;
    Ok(axum::Json(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use trackbench_data::Test;

    /// `k=v&k=v` (values may hold `=` and `,`; no percent-decoding: axum's `Query` does that).
    fn parse(q: &str) -> ApiResult<DriftQuery> {
        let pairs: Vec<(String, String)> = q
            .split('&')
            .map(|kv| kv.split_once('=').expect("k=v"))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        DriftQuery::parse(&pairs)
    }

    #[test]
    fn drift_parameters_mean_what_the_cli_flags_mean() {
        let q = parse("reference=abc:train&current=def:serving@2&test=psi&threshold=psi=0.2,share=0.3&threshold=ks=0.01&columns=a, b&columns=c").unwrap();
        assert_eq!((q.reference.run.as_str(), q.reference.dataset.as_str(), q.reference.step), ("abc", "train", None));
        assert_eq!((q.current.dataset.as_str(), q.current.step), ("serving", Some(2)));
        assert_eq!(q.options.test, Test::Psi);
        assert_eq!(q.options.thresholds.get(&Test::Psi), Some(&0.2));
        assert_eq!(q.options.thresholds.get(&Test::Ks), Some(&0.01));
        assert_eq!(q.options.drift_share, 0.3);
        assert_eq!(q.options.columns, Some(vec!["a".to_string(), "b".to_string(), "c".to_string()]));
        assert_eq!((q.bins, q.top), (BINS, TOP));
        let q = parse("reference=a:x&current=b:y&bins=100000&top=0").unwrap();
        assert_eq!((q.bins, q.top), (MAX_BINS, 1));
        assert_eq!(q.options, DriftOptions::default());
        for (bad, says) in [
            ("current=b:y", "`reference` is required"),
            ("reference=a:x", "`current` is required"),
            ("reference=ax&current=b:y", "expected RUN:DATASET"),
            ("reference=a:x&current=b:y&test=t", "unknown test"),
            ("reference=a:x&current=b:y&threshold=ks", "expected NAME=VALUE"),
            ("reference=a:x&current=b:y&threshold=ks=-1", "a number >= 0"),
            ("reference=a:x&current=b:y&threshold=ks=NaN", "a number >= 0"),
            ("reference=a:x&current=b:y&threshold=auto=0.1", "not auto"),
            ("reference=a:x&current=b:y&threshold=nope=0.1", "unknown test"),
            ("reference=a:x&current=b:y&bins=many", "expected an integer"),
            ("reference=a:x&current=b:y&treshold=ks=0.1", "unknown parameter"),
        ] {
            let e = parse(bad).expect_err(bad);
            assert_eq!(e.status, 400, "{bad}");
            assert!(e.message.contains(says), "{bad}: {}", e.message);
        }
    }
}
