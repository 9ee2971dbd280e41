//! `trackbench train` through the real binary, read back from the real store it wrote.

use std::process::Command;

use trackbench_store::{NewRun, RunStatus, StepRange, Store, StoreOptions};

use crate::util::Env;

fn open(env: &Env) -> Store {
    Store::open(env.store(), StoreOptions::default()).expect("open store")
}

#[test]
fn train_logs_params_metrics_and_weights_to_a_new_run() {
    let env = Env::new();
    let out = env.ok(&["train", "--backend", "cpu", "--epochs", "3", "--project", "ref", "--name", "mlp", "--json"]);
    assert!(out.stderr.contains("backend: cpu on cpu ("), "{}", out.stderr);
    assert!(out.stderr.contains("asked for (--backend cpu)"), "{}", out.stderr);
    let result = out.json();
    let id = result["run_id"].as_str().unwrap().to_string();
    assert_eq!(result["backend"], "cpu");
    assert_eq!(result["steps"], 3 * 23);
    assert!(result["val_acc"].as_f64().unwrap() > 0.8, "{result}");

    let mut store = open(&env);
    let run = store.run(&id).unwrap();
    assert_eq!((run.project.as_str(), run.name.as_str(), run.status), ("ref", "mlp", RunStatus::Finished));
    let params: std::collections::BTreeMap<String, serde_json::Value> =
        store.params(&id).unwrap().into_iter().collect();
    assert_eq!(params["hidden"], "128,128");
    assert_eq!(params["lr"], 0.01);
    assert_eq!(params["optimizer"], "sgd");
    assert_eq!(params["batch_size"], 64);
    assert_eq!(params["dataset"], "digits");
    assert_eq!(params["device.backend"], "cpu");
    assert!(params["device.name"].as_str().unwrap().starts_with("cpu ("));
    let loss = store.series(&id, "train/loss", StepRange::default()).unwrap();
    assert_eq!(loss.steps, (0..69).collect::<Vec<i64>>(), "one point per step");
    let acc = store.series(&id, "val/acc", StepRange::default()).unwrap();
    assert_eq!(acc.steps, [22, 45, 68]);
    assert!((acc.values[2] - result["val_acc"].as_f64().unwrap()).abs() < 1e-12);
    for key in ["train/acc", "train/epoch_loss", "val/loss", "perf/samples_per_sec", "epoch"] {
        assert_eq!(store.series(&id, key, StepRange::default()).unwrap().values.len(), 3, "{key}");
    }
    let artifacts = store.artifacts(&id).unwrap();
    assert_eq!(artifacts.len(), 1);
    assert_eq!(artifacts[0].path, "model.safetensors");
    let (_, file) = store.artifact_file(&id, "model.safetensors").unwrap();
    let (spec, _) = trackbench_train::weights::from_bytes(&std::fs::read(file).unwrap()).unwrap();
    assert_eq!(spec.sizes, [64, 128, 128, 10]);
}

#[test]
fn train_attaches_to_the_run_in_trackbench_run_id() {
    let env = Env::new();
    let id = open(&env)
        .create_run(&NewRun { project: "launched".into(), name: Some("job".into()), ..NewRun::default() })
        .unwrap()
        .id;
    let out = Command::new(env!("CARGO_BIN_EXE_trackbench"))
        .args([
            "train",
            "--backend",
            "cpu",
            "--dataset",
            "spirals",
            "--samples",
            "500",
            "--epochs",
            "2",
            "--hidden",
            "16",
        ])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TRACKBENCH_DIR", env.store())
        .env("HOME", env.store())
        .env("TRACKBENCH_RUN_ID", &id)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let store = open(&env);
    assert_eq!(store.list_runs(&Default::default()).unwrap().len(), 1, "no second run was created");
    assert_eq!(store.run(&id).unwrap().status, RunStatus::Finished);
    let params: std::collections::BTreeMap<String, serde_json::Value> =
        store.params(&id).unwrap().into_iter().collect();
    assert_eq!(params["dataset"], "spirals");
    assert_eq!(params["dataset.samples"], 500);
    assert_eq!(params["hidden"], "16");
}

#[test]
fn train_on_a_missing_backend_is_a_clear_error_and_a_failed_run() {
    let env = Env::new();
    let out = env.cmd(&["train", "--backend", "wgpu", "--device", "99", "--name", "nope"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("no wgpu adapter"), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    let runs = open(&env).list_runs(&Default::default()).unwrap();
    assert_eq!(runs[0].status, RunStatus::Failed);
    assert!(runs[0].error.as_deref().unwrap_or_default().contains("adapter"));

    let bad = env.cmd(&["train", "--backend", "tpu"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

#[test]
fn doctor_lists_wgpu_adapters_and_cuda_devices() {
    let env = Env::new();
    let h = env.ok(&["doctor", "--json"]).json();
    let devices = &h["devices"];
    assert!(devices["wgpu"].is_array() && devices["cuda"].is_array(), "{devices}");
    if devices["cuda"].as_array().unwrap().is_empty() {
        assert!(devices["cuda_missing"].is_string(), "says why there is no CUDA device: {devices}");
    }
    let table = env.ok(&["doctor"]).stdout;
    assert!(table.contains("cuda device") || table.contains("cuda devices"), "{table}");
    assert!(table.contains("wgpu adapter"), "{table}");
}
