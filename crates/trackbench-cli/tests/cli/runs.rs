//! `runs`, `projects`, `export` and `doctor` through the real binary.

use crate::util::Env;

#[test]
fn runs_ls_filters_orders_and_prints_json() {
    let env = Env::new();
    env.log_run("vision", "a", 0.01, &[0.2, 0.6]);
    env.log_run("vision", "b", 0.1, &[0.9]);
    env.log_run("vision", "c", 0.01, &[0.95]);
    env.log_run("nlp", "d", 0.01, &[0.99]);

    let out = env.ok(&[
        "runs",
        "ls",
        "--project",
        "vision",
        "--filter",
        "metrics.acc > 0.5 and params.lr = 0.01",
        "--order-by",
        "metrics.acc desc",
        "--json",
    ]);
    let names: Vec<String> =
        out.json().as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["c", "a"]);
    let first = &out.json()[0];
    assert_eq!(first["params"]["lr"], 0.01);
    assert_eq!(first["metrics"]["acc"]["last"], 0.95);
    assert_eq!(first["status"], "finished");

    let table = env.ok(&["runs", "ls", "--columns", "params.lr,metrics.acc"]).stdout;
    assert!(table.starts_with("ID"), "{table}");
    assert_eq!(table.lines().count(), 5, "{table}");
    assert!(table.lines().any(|l| l.contains(" d ") && l.contains("0.99")), "{table}");

    let projects = env.ok(&["projects", "ls", "--json"]).json();
    assert_eq!(projects[0]["name"], "nlp");
    assert_eq!(projects[1]["runs"], 3);
}

#[test]
fn filter_errors_point_at_the_position_and_exit_2() {
    let env = Env::new();
    env.log_run("p", "a", 0.01, &[0.5]);
    let out = env.cmd(&["runs", "ls", "--filter", "metrics.acc >> 0.5"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("position 14"), "{}", out.stderr);
    assert!(out.stderr.contains("             ^"), "caret under the token:\n{}", out.stderr);
    let out = env.cmd(&["runs", "ls", "--order-by", "metrics.acc sideways"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
}

#[test]
fn show_tag_rm_restore_and_not_found() {
    let env = Env::new();
    let id = env.log_run("p", "alpha", 0.01, &[0.5]);
    let out = env.ok(&["runs", "show", "alpha"]);
    assert!(out.stdout.contains(&id) && out.stdout.contains("acc") && out.stdout.contains("lr"), "{}", out.stdout);
    env.ok(&["runs", "tag", &id[..6], "team=vision", "note=a=b"]);
    let shown = env.ok(&["runs", "show", &id, "--json"]).json();
    assert_eq!(shown["tags"]["team"], "vision");
    assert_eq!(shown["tags"]["note"], "a=b");
    env.ok(&["runs", "tag", &id, "--remove", "team"]);
    assert!(env.ok(&["runs", "show", &id, "--json"]).json()["tags"].get("team").is_none());
    assert_eq!(env.cmd(&["runs", "tag", &id, "novalue"]).code, 1);
    assert_eq!(env.cmd(&["runs", "tag", &id, "bad\nkey=v"]).code, 2);

    env.ok(&["runs", "rm", &id]);
    assert_eq!(env.ok(&["runs", "ls", "--json"]).json().as_array().unwrap().len(), 0);
    assert_eq!(env.ok(&["runs", "ls", "--deleted", "--json"]).json()[0]["deleted"], true);
    env.ok(&["runs", "restore", &id]);
    assert_eq!(env.ok(&["runs", "ls", "--json"]).json().as_array().unwrap().len(), 1);
    env.ok(&["runs", "rm", "--purge", &id]);
    let gone = env.cmd(&["runs", "show", &id]);
    assert_eq!(gone.code, 4, "{}", gone.stderr);
    assert!(gone.stderr.contains("run not found"), "{}", gone.stderr);
}

#[test]
fn export_round_trips_every_point_including_nan_and_duplicates() {
    let env = Env::new();
    let values = [0.1, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1.0 / 3.0];
    let id = env.log_run("p", "a", 0.01, &values);
    {
        // A duplicate step from a second writer attached to the run.
        let run = trackbench_sdk::Run::start(trackbench_sdk::RunOptions::new("p").store_dir(env.store()).resume(&id))
            .unwrap();
        run.log_at(0, &[("acc", 0.7)]).unwrap();
        run.finish().unwrap();
    }
    let csv = env.ok(&["export", &id, "--format", "csv"]).stdout;
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("run_id,kind,key,step,wall_ms,value"));
    let points: Vec<(i64, f64)> = lines
        .filter(|l| l.contains(",metric,acc,"))
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[3].parse().unwrap(), f[5].parse().unwrap())
        })
        .collect();
    assert_eq!(points.len(), 6);
    assert_eq!(points[0], (0, 0.1));
    assert_eq!(points[1], (0, 0.7), "duplicate step kept, in logging order");
    assert!(points[2].1.is_nan());
    assert_eq!(points[3].1, f64::INFINITY);
    assert_eq!(points[5].1, 1.0 / 3.0, "exact f64 round trip");
    assert!(csv.contains(",param,lr,,,0.01"), "{csv}");

    let out = env.dir.path().join("out.json");
    env.ok(&["export", &id, "--format", "json", "-o", out.to_str().unwrap()]);
    let j: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    let acc = &j["runs"][0]["metrics"]["acc"];
    assert_eq!(acc["steps"], serde_json::json!([0, 0, 1, 2, 3, 4]));
    assert_eq!(acc["values"][2], "NaN");
    assert_eq!(acc["values"][4], "-Infinity");
    assert_eq!(j["runs"][0]["params"]["opt"], "adam");
}

#[test]
fn doctor_reports_health_and_crashed_runs_show_up() {
    let env = Env::new();
    env.log_run("p", "a", 0.01, &[0.5, 0.6]);
    let h = env.ok(&["doctor", "--json"]).json();
    assert_eq!(h["integrity"], "ok");
    assert_eq!(h["runs"], 1);
    assert_eq!(h["metric_points"], 2);
    assert_eq!(h["schema_version"], trackbench_store::migrate::LATEST);
    // A run left open (its process "died") reads as crashed once its heartbeat is stale.
    let run =
        trackbench_sdk::Run::start(trackbench_sdk::RunOptions::new("p").name("zombie").store_dir(env.store())).unwrap();
    run.flush().unwrap();
    std::mem::forget(run);
    std::thread::sleep(std::time::Duration::from_millis(1200));
    let out = env
        .ok(&["--heartbeat-timeout", "1", "runs", "ls", "--filter", "attributes.status = 'crashed'", "--json"])
        .json();
    assert_eq!(out[0]["name"], "zombie");
    let out = env.ok(&["runs", "ls", "--filter", "attributes.status = 'running'", "--json"]).json();
    assert_eq!(out[0]["name"], "zombie", "default timeout: still running");
}

#[test]
fn bad_store_and_bad_usage_fail_clearly() {
    let env = Env::new();
    let file = env.dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let out = env.cmd(&["--store", file.to_str().unwrap(), "runs", "ls"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("opening store at"), "{}", out.stderr);
    let garbage = env.dir.path().join("garbage");
    std::fs::create_dir_all(&garbage).unwrap();
    std::fs::write(garbage.join("trackbench.db"), vec![0x42u8; 8192]).unwrap();
    let out = env.cmd(&["--store", garbage.to_str().unwrap(), "doctor"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("not a database") || out.stderr.contains("opening store"), "{}", out.stderr);
    assert_eq!(env.cmd(&["runs", "frobnicate"]).code, 2);
}

#[test]
fn demo_logs_runs_and_lists_them() {
    let env = Env::new();
    let out = env.ok(&["demo", "--steps", "300", "--seeds", "2"]);
    assert!(out.stdout.contains("Logged 4 runs"), "{}", out.stdout);
    let runs = env.ok(&["runs", "ls", "--project", "demo", "--json"]).json();
    assert_eq!(runs.as_array().unwrap().len(), 4);
    assert!(runs.as_array().unwrap().iter().all(|r| r["status"] == "finished"));
    let report = std::fs::read_to_string(env.store().join("demo-report.html")).unwrap();
    assert!(
        report.contains("is better than") || report.contains("no detectable difference"),
        "the demo's report has a verdict"
    );
}

#[test]
fn invalid_utf8_arguments_are_refused_cleanly() {
    use std::os::unix::ffi::OsStrExt;
    let env = Env::new();
    env.log_run("p", "a", 0.01, &[0.5]);
    let bad = std::ffi::OsStr::from_bytes(b"metrics.acc > \xff\xfe");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_trackbench"))
        .env("TRACKBENCH_DIR", env.store())
        .args(["runs", "ls", "--filter"])
        .arg(bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid UTF-8"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(env.ok(&["doctor", "--json"]).json()["runs"], 1, "nothing was harmed");
}

#[test]
fn gc_is_a_dry_run_unless_applied() {
    let env = Env::new();
    let gone = env.log_run("p", "gone", 0.1, &[0.5]);
    let kept = env.log_run("p", "kept", 0.1, &[0.6]);
    env.ok(&["runs", "rm", &gone]);
    let dry = env.ok(&["gc", "--older-than", "0", "--json"]).json();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["runs_purged"], serde_json::json!([gone]));
    assert_eq!(env.ok(&["runs", "ls", "--deleted", "--json"]).json().as_array().unwrap().len(), 2, "nothing removed");
    let text = env.ok(&["gc", "--older-than", "0", "--apply"]).stdout;
    assert!(text.starts_with("removed: 1 run(s)"), "{text}");
    let left: Vec<String> = env
        .ok(&["runs", "ls", "--deleted", "--json"])
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(left, [kept]);
    let bad = env.cmd(&["gc", "--older-than", "NaN"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

#[test]
fn export_parquet_holds_every_point_and_the_params() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::RowAccessor;
    let env = Env::new();
    let a = env.log_run("p", "a", 0.01, &[0.5, f64::NAN, f64::INFINITY, 0.25]);
    let b = env.log_run("p", "b", 0.1, &[0.75]);
    let path = env.dir.path().join("out.parquet");
    env.ok(&["export", &a, &b, "--format", "parquet", "-o", path.to_str().unwrap()]);
    let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let meta = reader.metadata().file_metadata();
    let kv = meta.key_value_metadata().unwrap();
    let runs: serde_json::Value =
        serde_json::from_str(kv.iter().find(|k| k.key == "trackbench.runs").unwrap().value.as_ref().unwrap()).unwrap();
    assert_eq!(runs[0]["params"]["lr"], 0.01);
    assert_eq!(runs[1]["name"], "b");
    assert_eq!(meta.num_rows(), 5);
    let rows: Vec<(String, String, i64, f64)> = reader
        .get_row_iter(None)
        .unwrap()
        .map(|r| {
            let r = r.unwrap();
            (
                r.get_string(0).unwrap().clone(),
                r.get_string(2).unwrap().clone(),
                r.get_long(3).unwrap(),
                r.get_double(5).unwrap(),
            )
        })
        .collect();
    assert_eq!(rows[0], (a.clone(), "acc".to_string(), 0, 0.5));
    assert!(rows[1].3.is_nan() && rows[2].3 == f64::INFINITY, "NaN and inf kept: {rows:?}");
    assert_eq!(rows[4], (b, "acc".to_string(), 0, 0.75));
    let no_file = env.cmd(&["export", &a, "--format", "parquet"]);
    assert_eq!(no_file.code, 2, "{}", no_file.stderr);
}

#[test]
fn a_reader_that_leaves_early_is_not_an_error() {
    // `trackbench runs ls | head -1`: the pipe's read end is gone before anything is written,
    // so the first write fails with EPIPE, every time.
    let env = Env::new();
    env.log_run("p", "a", 0.1, &[0.5]);
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    for args in
        [&["runs", "ls", "--project", "p", "--json"][..], &["runs", "ls", "--project", "p"], &["projects", "ls"]]
    {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_trackbench"))
            .args(args)
            .env_clear()
            .env("TRACKBENCH_DIR", env.store())
            .env("HOME", env.store())
            .stdout(writer.try_clone().unwrap())
            .output()
            .expect("spawn trackbench");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}
