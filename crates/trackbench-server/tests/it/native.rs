//! The native API: runs, batches, series (whole, incremental, downsampled on every axis), edits,
//! artifacts with Range, log lines, paging and columns. What the API does is tested on the
//! router in this process ([`App`]); what goes over the wire (a batch as a client sends it,
//! gzip, retries, ranged downloads) against the real binary ([`Server`]).

use std::io::Write;

use serde_json::{Value, json};

use crate::util::{Api, App, Server};

fn batch_json(key: &str, steps: std::ops::Range<i64>, f: impl Fn(i64) -> f64) -> String {
    let steps: Vec<i64> = steps.collect();
    let walls: Vec<i64> = steps.iter().map(|s| 1_000_000 + s * 10).collect();
    let values: Vec<Value> = steps
        .iter()
        .map(|&s| f(s))
        .map(|v| if v.is_finite() { json!(v) } else { json!(trackbench_store::json_f64::text(v)) })
        .collect();
    json!({ "series": [{ "key": key, "steps": steps, "wall_ms": walls, "values": values }] }).to_string()
}

#[test]
fn a_run_logged_over_http_reads_back_exactly() {
    let s = Server::start();
    let id = s.create_run("vision", "baseline");
    // Python's json writes bare NaN/Infinity; both spellings are accepted.
    let body = r#"{"series":[{"key":"loss","steps":[0,1,2,3],"wall_ms":[10,20,30,40],"values":[1.5,NaN,-Infinity,"Infinity"]}],
                  "params":[["lr",0.01],["opt","adam"]],"tags":[["team","cv"]],"summary":[["best",0.9]]}"#;
    let (st, report) = s.post(&format!("/api/v1/runs/{id}/batch"), body);
    assert_eq!(st, 200, "{report}");
    assert_eq!(report["points"], 4);
    let (_, series) = s.get(&format!("/api/v1/runs/{id}/series?key=loss"));
    assert_eq!(series["points"]["steps"], json!([0, 1, 2, 3]));
    assert_eq!(series["points"]["values"], json!([1.5, "NaN", "-Infinity", "Infinity"]));
    assert_eq!(series["points"]["wall_ms"], json!([10, 20, 30, 40]));
    let (_, detail) = s.get(&format!("/api/v1/runs/{id}"));
    assert_eq!(detail["params"], json!({"lr": 0.01, "opt": "adam"}));
    assert_eq!(detail["tags"], json!({"team": "cv"}));
    assert_eq!(detail["summary"], json!({"best": 0.9}));
    assert_eq!(detail["metrics"][0]["nan_count"], 1);
    assert_eq!(detail["run"]["status"], "running");

    // A param is write-once: a different value is refused in the report, the first kept.
    let (_, report) = s.post(&format!("/api/v1/runs/{id}/batch"), r#"{"params":[["lr",0.5]]}"#);
    assert_eq!(report["rejected"][0]["key"], "lr", "{report}");
    assert_eq!(s.get(&format!("/api/v1/runs/{id}/params")).1["params"]["lr"], 0.01);

    let (st, run) = s.post(&format!("/api/v1/runs/{id}/finish"), r#"{"status":"finished"}"#);
    assert_eq!((st, run["status"].as_str()), (200, Some("finished")));
    let (st, _) = s.post(&format!("/api/v1/runs/{id}/finish"), r#"{"status":"exploded"}"#);
    assert_eq!(st, 400);
}

#[test]
fn retried_and_gzipped_batches() {
    let s = Server::start();
    let id = s.create_run("p", "r");
    let body = r#"{"series":[{"key":"x","steps":[1],"wall_ms":[1],"values":[1]}],"writer":"w1","seq":7}"#;
    assert_eq!(s.post(&format!("/api/v1/runs/{id}/batch"), body).1["points"], 1);
    let (st, again) = s.post(&format!("/api/v1/runs/{id}/batch"), body);
    assert_eq!((st, again["duplicate"].as_bool()), (200, Some(true)), "a retry is acknowledged, not stored");
    // gzip, as the remote SDK sends.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(batch_json("x", 2..1002, |s| s as f64).as_bytes()).unwrap();
    let gz = enc.finish().unwrap();
    let resp = s
        .agent
        .post(s.url(&format!("/api/v1/runs/{id}/batch")))
        .header("Authorization", format!("Bearer {}", s.token))
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .send(&gz[..])
        .unwrap();
    let (st, report) = crate::util::read(resp);
    assert_eq!((st, report["points"].as_u64()), (200, Some(1000)), "{report}");
    assert_eq!(s.get(&format!("/api/v1/runs/{id}/metrics")).1["metrics"][0]["count"], 1001);
    // Mismatched columns are a clear 400.
    let (st, e) = s.post(
        &format!("/api/v1/runs/{id}/batch"),
        r#"{"series":[{"key":"x","steps":[1,2],"wall_ms":[1],"values":[1]}]}"#,
    );
    assert_eq!(st, 400);
    assert!(e["message"].as_str().unwrap().contains("same length"), "{e}");
}

#[test]
fn series_downsampled_incremental_and_on_time_axes() {
    let s = App::new();
    let id = s.create_run("p", "long");
    for chunk in 0..10 {
        let body = batch_json("y", chunk * 10_000..(chunk + 1) * 10_000, |st| {
            if st == 54_321 { 1e9 } else { (st as f64 / 1000.0).sin() }
        });
        assert_eq!(s.post(&format!("/api/v1/runs/{id}/batch"), &body).0, 200);
    }
    let (_, d) = s.get(&format!("/api/v1/runs/{id}/series?key=y&max_points=200"));
    assert_eq!(d["downsampled"], true);
    let b = &d["buckets"];
    let n = b["count"].as_array().unwrap().len();
    assert!(n <= 200 && n > 150, "{n} buckets");
    let total: u64 = b["count"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).sum();
    assert_eq!(total, 100_000, "every point is in a bucket");
    let max = b["max"].as_array().unwrap().iter().filter_map(Value::as_f64).fold(f64::MIN, f64::max);
    assert_eq!(max, 1e9, "the spike survives downsampling");

    for x in ["relative", "wall"] {
        let (st, d) = s.get(&format!("/api/v1/runs/{id}/series?key=y&max_points=100&x={x}"));
        assert_eq!(st, 200, "{d}");
        let counts = d["buckets"]["count"].as_array().unwrap();
        assert!(counts.len() <= 100);
        assert_eq!(counts.iter().map(|c| c.as_u64().unwrap()).sum::<u64>(), 100_000);
        let xs: Vec<f64> = d["buckets"]["x"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert!(xs.windows(2).all(|w| w[0] <= w[1]), "x ascending");
    }
    let (_, l) = s.get(&format!("/api/v1/runs/{id}/series?key=y&max_points=500&method=lttb"));
    assert_eq!(l["points"]["steps"].as_array().unwrap().len(), 500);
    assert!(l["points"]["values"].as_array().unwrap().contains(&json!(1e9)));

    let (_, inc) = s.get(&format!("/api/v1/runs/{id}/series?key=y&since=99990"));
    assert_eq!(inc["points"]["steps"], json!([99_991, 99_992, 99_993, 99_994, 99_995, 99_996, 99_997, 99_998, 99_999]));
    let (st, _) = s.get(&format!("/api/v1/runs/{id}/series?key=y&max_points=0"));
    assert_eq!(st, 400);
    let (st, _) = s.get(&format!("/api/v1/runs/{id}/series?key=y&x=sideways"));
    assert_eq!(st, 400);
    let (st, missing) = s.get(&format!("/api/v1/runs/{id}/series?key=nope"));
    assert_eq!((st, missing["total"].as_i64()), (200, Some(0)));
}

#[test]
fn listing_filters_orders_pages_and_picks_columns() {
    let s = App::new();
    for i in 0..5 {
        let id = s.create_run("grid", &format!("r{i}"));
        let body = format!(
            r#"{{"params":[["lr",{}]],"series":[{{"key":"acc","steps":[0],"wall_ms":[1],"values":[{}]}}]}}"#,
            i as f64 / 10.0,
            i as f64 / 5.0
        );
        s.post(&format!("/api/v1/runs/{id}/batch"), &body);
    }
    s.create_run("other", "x");
    let (_, page) = s.get("/api/v1/runs?project=grid&filter=metrics.acc%20%3E%200.3&order_by=metrics.acc%20desc&limit=2&columns=params.lr,metrics.acc");
    let names: Vec<&str> = page["runs"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["r4", "r3"]);
    assert_eq!(page["next_offset"], 2);
    assert_eq!(page["runs"][0]["columns"]["params.lr"], 0.4);
    assert_eq!(page["runs"][0]["columns"]["metrics.acc"]["last"], 0.8);
    let (_, rest) =
        s.get("/api/v1/runs?project=grid&filter=metrics.acc%20%3E%200.3&order_by=metrics.acc%20desc&limit=2&offset=2");
    assert_eq!(rest["runs"].as_array().unwrap().len(), 1);
    assert_eq!(rest["next_offset"], Value::Null);
    let (st, e) = s.get("/api/v1/runs?filter=metrics.acc%20%3E%3E%201");
    assert_eq!(st, 400, "{e}");
    assert!(e["message"].as_str().unwrap().contains("filter"), "{e}");
    let (_, p) = s.get("/api/v1/projects");
    let names: Vec<&str> = p["projects"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["grid", "other"]);
}

#[test]
fn edits_delete_and_restore() {
    let s = App::new();
    let id = s.create_run("p", "before");
    let (st, run) =
        s.send("PATCH", &format!("/api/v1/runs/{id}"), br#"{"name":"after","notes":"n1","tags":{"a":"1","b":"2"}}"#);
    assert_eq!((st, run["name"].as_str(), run["notes"].as_str()), (200, Some("after"), Some("n1")));
    s.send("PATCH", &format!("/api/v1/runs/{id}"), br#"{"notes":null,"tags":{"a":null}}"#);
    let (_, d) = s.get(&format!("/api/v1/runs/{id}"));
    assert_eq!((d["run"]["notes"].clone(), d["tags"].clone()), (Value::Null, json!({"b": "2"})));
    assert_eq!(s.delete(&format!("/api/v1/runs/{id}")).0, 204);
    assert!(s.get("/api/v1/runs").1["runs"].as_array().unwrap().is_empty());
    assert_eq!(s.get("/api/v1/runs?include_deleted=true").1["runs"][0]["deleted"], true);
    assert_eq!(s.post(&format!("/api/v1/runs/{id}/restore"), "").0, 204);
    assert_eq!(s.get("/api/v1/runs").1["runs"].as_array().unwrap().len(), 1);
}

#[test]
fn artifacts_upload_list_and_ranged_download() {
    let s = Server::start();
    let id = s.create_run("p", "a");
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let (st, info) = s.send("PUT", &format!("/api/v1/runs/{id}/artifacts/model/weights.bin"), &data);
    assert_eq!(st, 201, "{info}");
    assert_eq!(info["size"], 100_000);
    s.send("PUT", &format!("/api/v1/runs/{id}/artifacts/notes.json"), br#"{"a":1}"#);
    let (_, list) = s.get(&format!("/api/v1/runs/{id}/artifacts"));
    let paths: Vec<&str> = list["artifacts"].as_array().unwrap().iter().map(|a| a["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["model/weights.bin", "notes.json"]);

    let auth = format!("Bearer {}", s.token);
    let mut whole = s
        .agent
        .get(s.url(&format!("/api/v1/runs/{id}/artifacts/model/weights.bin")))
        .header("Authorization", &auth)
        .call()
        .unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-security-policy"], "sandbox");
    assert_eq!(whole.body_mut().with_config().limit(1 << 20).read_to_vec().unwrap(), data);
    let mut part = s
        .agent
        .get(s.url(&format!("/api/v1/runs/{id}/artifacts/model/weights.bin")))
        .header("Authorization", &auth)
        .header("Range", "bytes=1000-1999")
        .call()
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], "bytes 1000-1999/100000");
    assert_eq!(part.body_mut().read_to_vec().unwrap(), &data[1000..2000]);
    let json_resp = s
        .agent
        .get(s.url(&format!("/api/v1/runs/{id}/artifacts/notes.json")))
        .header("Authorization", &auth)
        .call()
        .unwrap();
    assert_eq!(json_resp.headers()["content-type"], "application/json");
    let bad = s
        .agent
        .get(s.url(&format!("/api/v1/runs/{id}/artifacts/notes.json")))
        .header("Authorization", &auth)
        .header("Range", "bytes=500-")
        .call()
        .unwrap();
    assert_eq!(bad.status(), 416);
    assert_eq!(s.get(&format!("/api/v1/runs/{id}/artifacts/missing.txt")).0, 404);
}

#[test]
fn log_lines_page_by_sequence() {
    let s = App::new();
    let id = s.create_run("p", "logs");
    let lines: Vec<Value> =
        (0..5).map(|i| json!({"stream": "stdout", "ts_ms": i, "line": format!("line {i}")})).collect();
    s.post(&format!("/api/v1/runs/{id}/batch"), &json!({ "log_lines": lines }).to_string());
    let (_, l) = s.get(&format!("/api/v1/runs/{id}/logs?after=2&limit=2"));
    let got: Vec<&str> = l["lines"].as_array().unwrap().iter().map(|l| l["line"].as_str().unwrap()).collect();
    assert_eq!(got, ["line 2", "line 3"]);
    assert_eq!(l["lines"][0]["seq"], 3);
}

#[test]
fn a_whole_series_reads_back_in_binary_bit_exact() {
    let s = Server::start();
    let id = s.create_run("p", "binary");
    let body = r#"{"series":[{"key":"loss","steps":[0,1,2,3,7],"wall_ms":[10,20,30,40,-5],"values":[1.5,NaN,-Infinity,-0.0,1e-310]}]}"#;
    assert_eq!(s.post(&format!("/api/v1/runs/{id}/batch"), body).0, 200);
    let url = s.url(&format!("/api/v1/runs/{id}/series?key=loss&format=binary"));
    let resp = s.agent.get(&url).header("Authorization", format!("Bearer {}", s.token)).call().unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/vnd.trackbench.series");
    let bytes = resp.into_body().read_to_vec().unwrap();
    assert_eq!(&bytes[..8], b"TBSERIES");
    let word = |i: usize| u64::from_le_bytes(bytes[8 + 8 * i..16 + 8 * i].try_into().unwrap());
    let n = word(0) as usize;
    assert_eq!((n, bytes.len()), (5, 16 + 24 * 5));
    let steps: Vec<i64> = (0..n).map(|i| word(1 + i) as i64).collect();
    let walls: Vec<i64> = (0..n).map(|i| word(1 + n + i) as i64).collect();
    let bits: Vec<u64> = (0..n).map(|i| word(1 + 2 * n + i)).collect();
    assert_eq!(steps, [0, 1, 2, 3, 7]);
    assert_eq!(walls, [10, 20, 30, 40, -5]);
    let want = [1.5f64, f64::NAN, f64::NEG_INFINITY, -0.0, 1e-310];
    assert_eq!(bits[0], want[0].to_bits());
    assert!(f64::from_bits(bits[1]).is_nan());
    assert_eq!(bits[2..], want[2..].iter().map(|v| v.to_bits()).collect::<Vec<_>>()[..], "-0.0 and subnormals kept");
    // Binary is for whole series on the step axis; anything else is a clear 400.
    for q in ["&format=binary&max_points=2", "&format=binary&x=wall", "&format=xml"] {
        let (st, e) = s.get(&format!("/api/v1/runs/{id}/series?key=loss{q}"));
        assert_eq!((st, e["error_code"].as_str()), (400, Some("INVALID_PARAMETER_VALUE")), "{q}: {e}");
    }
}
