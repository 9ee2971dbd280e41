//! Arbitrary requests to the router (built in this process, driven with `oneshot`): paths
//! from the real routes with odd segments, query strings with huge, negative, multibyte or
//! malformed values, any method, and bodies of arbitrary bytes (invalid UTF-8 included) or
//! JSON with extreme numbers. Every request must be answered (no panic), in bounded time,
//! and never with a 500: the store here is a healthy temp folder, so a 500 would be a bug.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request};
use proptest::prelude::*;
use tower::ServiceExt;
use trackbench_server::AppState;

const TOKEN: &str = "fuzz-token";
const RUN: &str = "fuzzrun000000001";
/// A run id whose 8th byte falls inside a character.
const WIDE_RUN: &str = "aéééééé";

/// One runtime and router for every case.
fn shared() -> &'static (tokio::runtime::Runtime, axum::Router, tempfile::TempDir) {
    static SHARED: OnceLock<(tokio::runtime::Runtime, axum::Router, tempfile::TempDir)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let (app, dir) = app();
        (rt, app, dir)
    })
}

/// The router over a store with one run (a series, params, an artifact) to reach into.
fn app() -> (axum::Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let mut st = trackbench_store::Store::open(&root, Default::default()).unwrap();
    let new = trackbench_store::NewRun { project: "p".into(), ..Default::default() };
    st.create_run_with_id(RUN, &new).unwrap();
    st.create_run_with_id(WIDE_RUN, &new).unwrap();
    let mut batch = trackbench_store::Batch::default();
    let mut points = trackbench_store::Points::default();
    for i in 0..50 {
        points.push(i, 1000 + i, i as f64 * 0.5);
    }
    batch.series.push(trackbench_store::SeriesBatch { key: "loss".into(), points });
    batch.params.push(("lr".into(), serde_json::json!(0.1)));
    st.log_batch(RUN, &batch).unwrap();
    st.put_artifact_from(RUN, "a/b.txt", &b"hello"[..], "test").unwrap();
    drop(st);
    let state = Arc::new(AppState::new(
        root,
        Default::default(),
        TOKEN.into(),
        Vec::new(),
        1 << 20,
        1 << 20,
        Default::default(),
    ));
    (trackbench_server::router(state), dir)
}

/// Routes with the methods they answer: G GET, P POST, U PUT, A PATCH, D DELETE.
const ROUTES: &[(&str, &str)] = &[
    ("/api/v1/health", "G"),
    ("/api/v1/projects", "G"),
    ("/api/v1/runs", "GP"),
    ("/api/v1/runs/{id}", "GAD"),
    ("/api/v1/runs/{id}/restore", "P"),
    ("/api/v1/runs/{id}/finish", "P"),
    ("/api/v1/runs/{id}/resume", "P"),
    ("/api/v1/runs/{id}/batch", "P"),
    ("/api/v1/runs/{id}/params", "G"),
    ("/api/v1/runs/{id}/metrics", "G"),
    ("/api/v1/runs/{id}/series", "G"),
    ("/api/v1/runs/{id}/logs", "G"),
    ("/api/v1/runs/{id}/artifacts", "G"),
    ("/api/v1/runs/{id}/artifacts/{x}", "GU"),
    ("/api/v1/report", "G"),
    ("/api/v1/ab/{id}/report", "G"),
    ("/api/v1/ab", "GP"),
    ("/api/v1/ab/{id}", "G"),
    ("/api/v1/jobs", "GP"),
    ("/api/v1/jobs/{id}/cancel", "P"),
    ("/api/v1/sweeps", "P"),
    ("/api/2.0/mlflow/experiments/create", "P"),
    ("/api/2.0/mlflow/experiments/get", "G"),
    ("/api/2.0/mlflow/experiments/get-by-name", "G"),
    ("/api/2.0/mlflow/experiments/search", "GP"),
    ("/api/2.0/mlflow/experiments/update", "P"),
    ("/api/2.0/mlflow/experiments/delete", "P"),
    ("/api/2.0/mlflow/runs/create", "P"),
    ("/api/2.0/mlflow/runs/update", "P"),
    ("/api/2.0/mlflow/runs/get", "G"),
    ("/api/2.0/mlflow/runs/search", "P"),
    ("/api/2.0/mlflow/runs/log-metric", "P"),
    ("/api/2.0/mlflow/runs/log-parameter", "P"),
    ("/api/2.0/mlflow/runs/log-batch", "P"),
    ("/api/2.0/mlflow/runs/log-inputs", "P"),
    ("/api/2.0/mlflow/runs/set-tag", "P"),
    ("/api/2.0/mlflow/runs/delete-tag", "P"),
    ("/api/2.0/mlflow/metrics/get-history", "G"),
    ("/api/2.0/mlflow/metrics/get-history-bulk-interval", "G"),
    ("/api/2.0/mlflow/artifacts/list", "G"),
    ("/api/2.0/mlflow-artifacts/artifacts", "G"),
    ("/api/2.0/mlflow-artifacts/artifacts/0/{id}/artifacts/{x}", "GUD"),
    ("/api/2.0/mlflow/{x}", "GP"),
    ("/{x}", "G"),
];

const KEYS: &[&str] = &[
    "limit",
    "offset",
    "since",
    "min_step",
    "max_step",
    "max_points",
    "x",
    "method",
    "key",
    "after",
    "page_token",
    "max_results",
    "run_id",
    "run_uuid",
    "metric_key",
    "run_ids",
    "start_step",
    "end_step",
    "runs",
    "filter",
    "project",
    "order_by",
    "columns",
    "format",
    "points",
    "smooth",
    "direction",
    "axis",
    "group_by",
    "metrics",
    "path",
    "experiment_id",
    "experiment_name",
    "view_type",
    "include_deleted",
    "log_y",
];

/// Values worth trying in queries and path segments (raw text, percent-encoded later).
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(RUN.to_string()),
        Just(WIDE_RUN.to_string()),
        Just("loss".to_string()),
        Just("0".to_string()),
        Just("-1".to_string()),
        Just(i64::MAX.to_string()),
        Just(i64::MIN.to_string()),
        Just(u64::MAX.to_string()),
        Just("99999999999999999999999999".to_string()),
        Just("1e309".to_string()),
        Just("NaN".to_string()),
        Just("ééééééééé".to_string()),
        Just("step".to_string()),
        Just("relative".to_string()),
        Just("lttb".to_string()),
        Just("html".to_string()),
        Just("metrics.loss > 1".to_string()),
        Just("../../etc/passwd".to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        "\\PC{0,12}",
        prop::collection::vec(any::<u8>(), 0..12).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

/// Percent-encodes everything but unreserved ASCII, so any text makes a valid URI.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn json_number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| if f.is_finite() { f.to_string() } else { "NaN".into() }),
        Just("18446744073709551615".to_string()),
        Just("1e400".to_string()),
        Just("-Infinity".to_string()),
        Just("\"9223372036854775807\"".to_string()),
    ]
}

/// JSON bodies shaped like the real ones, with extreme values.
fn json_body() -> impl Strategy<Value = Vec<u8>> {
    (json_number(), json_number(), value(), value()).prop_map(|(a, b, s, t)| {
        let s = serde_json::to_string(&s).unwrap();
        let t = serde_json::to_string(&t).unwrap();
        format!(
            r#"{{"run_id":"{RUN}","experiment_id":{s},"experiment_ids":[{s},"0"],"project":{t},"name":{s},
               "key":{t},"value":{a},"step":{b},"timestamp":{a},"max_results":{a},"page_token":{s},
               "metrics":[{{"key":{t},"value":{a},"step":{b},"timestamp":{b}}}],"params":[{{"key":{t},"value":{s}}}],
               "series":[{{"key":{t},"steps":[{b}],"wall_ms":[{a}],"values":[{a}]}}],"status":{s},
               "start_time":{a},"end_time":{b},"filter":{s},"tags":{{}}}}"#
        )
        .into_bytes()
    })
}

#[derive(Debug)]
struct Case {
    method: Method,
    uri: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
}

fn case() -> impl Strategy<Value = Case> {
    // Mostly a method the route answers, sometimes any (HEAD included).
    let method = prop_oneof![9 => Just(None), 1 => prop::sample::select(&b"GPUADH"[..]).prop_map(Some)];
    let route = (prop::sample::select(ROUTES), any::<prop::sample::Index>())
        .prop_map(|((path, methods), i)| (path, methods.as_bytes()[i.index(methods.len())]));
    let id = prop_oneof![2 => Just(RUN.to_string()), 1 => Just(WIDE_RUN.to_string()), 1 => value()];
    let query = prop::collection::vec((prop::sample::select(KEYS), value()), 0..5);
    let body = prop_oneof![json_body(), prop::collection::vec(any::<u8>(), 0..64)];
    let content_type = prop_oneof![
        4 => Just(Some("application/json")),
        1 => Just(None),
        1 => Just(Some("text/plain")),
    ];
    (method, route, id, value(), query, content_type, body).prop_map(
        |(any_method, (route, answered), id, x, query, content_type, body)| {
            let method = match any_method.unwrap_or(answered) {
                b'G' => Method::GET,
                b'P' => Method::POST,
                b'U' => Method::PUT,
                b'A' => Method::PATCH,
                b'D' => Method::DELETE,
                _ => Method::HEAD,
            };
            let path = route.replace("{id}", &enc(&id)).replace("{x}", &enc(&x));
            let query: Vec<String> = query.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect();
            let uri = if query.is_empty() { path } else { format!("{path}?{}", query.join("&")) };
            Case { method, uri, content_type, body }
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_requests_are_answered_without_a_500(c in case()) {
        let (rt, app, _) = shared();
        let app = app.clone();
        let mut req = Request::builder()
            .method(c.method.clone())
            .uri(&c.uri)
            .header("host", "127.0.0.1:5005")
            .header("authorization", format!("Bearer {TOKEN}"));
        if let Some(ct) = c.content_type {
            req = req.header("content-type", ct);
        }
        let req = req.body(Body::from(c.body.clone())).unwrap();
        let (status, text) = rt.block_on(async move {
            tokio::time::timeout(Duration::from_secs(20), async move {
                let resp = app.oneshot(req).await.unwrap();
                let status = resp.status();
                let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap_or_default();
                (status, String::from_utf8_lossy(&body).into_owned())
            })
            .await
            .expect("answered in bounded time")
        });
        prop_assert_ne!(status.as_u16(), 500, "{} {}: {}", c.method, c.uri, text);
    }
}
