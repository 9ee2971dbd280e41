//! The binary wire form of a batch (issue 16 part 4) against the real server, on a SQLite
//! store and on the team store: the SDK's binary batches and its JSON ones read back
//! bit-exact and equal; garbage, truncated and oversized bodies are a 400 that stores nothing;
//! a resent binary batch is stored once.

use std::process::Command;

use trackbench_sdk::{Remote, Run, RunOptions, Wire};
use trackbench_store::Batch;
use trackbench_store::wire::{BINARY_CONTENT_TYPE, encode_binary};

use crate::util::{Replica, TOKEN, Team, bin};

/// `trackbench --store DIR serve` on a SQLite store, hermetic like the team replicas.
fn sqlite_replica(dir: &std::path::Path) -> Replica {
    let mut cmd = Command::new(bin());
    cmd.arg("--store").arg(dir).args(["serve", "--port", "0"]);
    for (k, _) in std::env::vars() {
        if k.starts_with("TRACKBENCH_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("TRACKBENCH_TOKEN", TOKEN);
    Replica::start(cmd)
}

/// Step `i`'s value of key `k`: smooth, with NaN (two payloads), ±inf and -0.0 among them.
fn value(i: i64, k: usize) -> f64 {
    match (i + k as i64) % 97 {
        0 => f64::NAN,
        1 => f64::from_bits(0x7ff8_0000_dead_beef),
        2 => f64::INFINITY,
        3 => f64::NEG_INFINITY,
        4 => -0.0,
        _ => (i as f64 * 0.001 + k as f64).sin() * 1e3,
    }
}

const KEYS: [&str; 3] = ["loss", "gpu/0/util", "lr é"];
const STEPS: i64 = 30_000;

/// Logs the workload through the SDK with `wire`, finishes, returns the run id.
fn log_run(base: &str, wire: Wire) -> String {
    let mut o = RunOptions::new("wire").remote(Remote::new(base, Some(TOKEN.into())).with_wire(wire));
    o.flush_interval = std::time::Duration::from_millis(30);
    let run = Run::start(o).expect("start");
    run.log_params(&[("lr", 0.01.into()), ("layers", serde_json::json!([64, 32]))]).expect("params");
    for i in 0..STEPS {
        let rec: Vec<(&str, f64)> = KEYS.iter().enumerate().map(|(k, key)| (*key, value(i, k))).collect();
        run.log_at(i, &rec).expect("log");
    }
    let id = run.id().to_string();
    run.finish().expect("finish");
    id
}

/// A whole series read back as the server's binary columns: (step, wall, value bits).
fn series_bits(r: &Replica, run: &str, key: &str) -> Vec<(i64, i64, u64)> {
    let key: String = key.bytes().map(|b| format!("%{b:02X}")).collect();
    let a = r.send("GET", &format!("/api/v1/runs/{run}/series?key={key}&format=binary"), b"", &[]);
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
    let b = &a.body;
    assert_eq!(&b[..8], b"TBSERIES");
    let n = u64::from_le_bytes(b[8..16].try_into().unwrap()) as usize;
    let word = |i: usize| u64::from_le_bytes(b[16 + 8 * i..24 + 8 * i].try_into().unwrap());
    (0..n).map(|i| (word(i) as i64, word(n + i) as i64, word(2 * n + i))).collect()
}

fn check_transports(r: &Replica, what: &str) {
    let binary = log_run(&r.base, Wire::Binary);
    let json = log_run(&r.base, Wire::Json);
    for (k, key) in KEYS.iter().enumerate() {
        let got = series_bits(r, &binary, key);
        assert_eq!(got.len(), STEPS as usize, "{what}: `{key}`");
        for (i, p) in got.iter().enumerate() {
            assert_eq!((p.0, p.2), (i as i64, value(i as i64, k).to_bits()), "{what}: `{key}` step {i} bit-exact");
        }
        // JSON has one NaN ("NaN"): its payload is not kept, every other bit is.
        let canon = |v: &[(i64, i64, u64)]| -> Vec<(i64, u64)> {
            v.iter().map(|p| (p.0, if f64::from_bits(p.2).is_nan() { f64::NAN.to_bits() } else { p.2 })).collect()
        };
        let same = canon(&got) == canon(&series_bits(r, &json, key));
        assert!(same, "{what}: `{key}` equal over binary and JSON");
    }
    let summaries = |run: &str| {
        let (_, mut v) = r.get(&format!("/api/v1/runs/{run}/metrics"));
        for m in v["metrics"].as_array_mut().expect("metrics") {
            m.as_object_mut().expect("a summary").remove("last_wall_ms"); // two runs, two clocks
        }
        v
    };
    assert_eq!(summaries(&binary), summaries(&json), "{what}: summaries alike");
    let (_, p) = r.get(&format!("/api/v1/runs/{binary}/params"));
    assert_eq!(p["params"]["layers"], serde_json::json!([64, 32]), "{what}: {p}");
}

fn check_bad_input(r: &Replica, what: &str) {
    let run = r.create_run("wire", "bad-input");
    let path = format!("/api/v1/runs/{run}/batch");
    let post = |body: &[u8]| r.send("POST", &path, body, &[("Content-Type", BINARY_CONTENT_TYPE)]);
    let mut b = Batch { mark: Some(("w".into(), 1)), ..Batch::default() };
    for i in 0..5000 {
        b.push_metric("x", i, i, i as f64);
    }
    b.params.push(("p".into(), 1.into()));
    let good = encode_binary(&b);
    for (name, body) in [
        ("garbage", b"\x00\x01garbage".to_vec()),
        ("JSON sent as binary", br#"{"series":[]}"#.to_vec()),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("one byte short", good[..good.len() - 1].to_vec()),
        ("empty", Vec::new()),
    ] {
        let a = post(&body);
        assert_eq!(a.status, 400, "{what}: {name}: {}", String::from_utf8_lossy(&a.body));
        let msg = a.json()["message"].as_str().unwrap_or_default().to_string();
        assert!(msg.contains("binary batch"), "{what}: {name}: {msg}");
    }
    let huge = vec![0u8; 40 << 20];
    assert_eq!(post(&huge).status, 413, "{what}: over the body limit");
    let (_, m) = r.get(&format!("/api/v1/runs/{run}/metrics"));
    assert_eq!(m["metrics"], serde_json::json!([]), "{what}: nothing stored: {m}");

    // The good batch, twice (a retry after a lost answer): stored once.
    let first = post(&good);
    assert_eq!((first.status, &first.json()["points"]), (200, &5000.into()), "{what}");
    let again = post(&good);
    assert_eq!((again.status, &again.json()["duplicate"]), (200, &true.into()), "{what}");
    assert_eq!(series_bits(r, &run, "x").len(), 5000, "{what}: once");

    // The rules of the JSON path: a bad key is refused in the report, the rest stored.
    let mut bad = Batch { mark: Some(("w".into(), 2)), ..Batch::default() };
    bad.push_metric("", 1, 1, 1.0);
    bad.push_metric("y", 1, 1, f64::NAN);
    bad.params.push(("p".into(), 2.into()));
    let a = post(&encode_binary(&bad));
    let v = a.json();
    assert_eq!((a.status, &v["points"]), (200, &1.into()), "{what}: {v}");
    let refused: Vec<&str> = v["rejected"].as_array().unwrap().iter().map(|x| x["what"].as_str().unwrap()).collect();
    assert_eq!(refused, ["metric", "param"], "{what}: {v}");
    // JSON stays accepted.
    let (status, v) = r.post(&path, r#"{"series":[{"key":"z","steps":[1],"wall_ms":[1],"values":["NaN"]}]}"#);
    assert_eq!((status, &v["points"]), (200, &1.into()), "{what}: {v}");
}

#[test]
fn binary_batches_on_sqlite_read_back_bit_exact_and_bad_ones_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = sqlite_replica(dir.path());
    check_transports(&r, "sqlite");
    check_bad_input(&r, "sqlite");
}

#[test]
fn binary_batches_on_the_team_store_read_back_bit_exact_and_bad_ones_are_refused() {
    let Some(team) = Team::new("wire") else { return };
    let r = team.replica(&[]);
    check_transports(&r, "postgres");
    check_bad_input(&r, "postgres");
}
