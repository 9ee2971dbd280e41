//! `trackbench import tensorboard` through the real binary, on the tensorboardX fixtures.

use std::path::Path;

use crate::util::Env;

#[test]
fn import_tensorboard_then_again_adds_nothing() {
    let env = Env::new();
    let logs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tensorboard/logs");
    let logs = logs.to_str().unwrap();
    let first = env.ok(&["import", "tensorboard", logs, "--project", "tb", "--json"]).json();
    let imported: Vec<&serde_json::Value> =
        first.as_array().unwrap().iter().filter(|r| r["skipped"].is_null()).collect();
    assert_eq!(imported.len(), 4, "{first}");
    let runs = env.ok(&["runs", "ls", "--project", "tb", "--json"]).json();
    assert_eq!(runs.as_array().unwrap().len(), 4);
    let shown = env.ok(&["runs", "ls", "--project", "tb", "--filter", "params.optimizer = 'adam'", "--json"]).json();
    assert_eq!(shown.as_array().unwrap().len(), 1, "hparams became params: {shown}");
    let out = env.ok(&["import", "tensorboard", logs, "--project", "tb"]);
    assert!(out.stderr.contains("0 run(s) imported"), "{}", out.stderr);
    assert_eq!(env.ok(&["runs", "ls", "--project", "tb", "--json"]).json().as_array().unwrap().len(), 4);
    let missing = env.cmd(&["import", "tensorboard", "/nonexistent/folder"]);
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    assert!(missing.stderr.contains("/nonexistent/folder"), "{}", missing.stderr);
}

#[test]
fn import_mlflow_sqlite_and_mlruns() {
    let env = Env::new();
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/mlflow").canonicalize().unwrap();
    let remap = format!("/work/main/fixtures/mlflow={}", fx.display());
    let db = format!("sqlite:///{}", fx.join("mlflow.db").display());
    let out = env.ok(&["import", "mlflow", &db, "--remap-artifacts", &remap, "--json"]).json();
    assert_eq!(out.as_array().unwrap().len(), 3, "{out}");
    let mlruns = fx.join("mlruns");
    env.ok(&["import", "mlflow", mlruns.to_str().unwrap(), "--remap-artifacts", &remap]);
    let runs = env.ok(&["runs", "ls", "--project", "vision", "--json"]).json();
    assert_eq!(runs.as_array().unwrap().len(), 4, "two live runs from each source: {runs}");
    let failed = env.ok(&["runs", "ls", "--filter", "attributes.status = 'failed'", "--json"]).json();
    assert_eq!(failed.as_array().unwrap().len(), 2, "{failed}");
    let bad = env.cmd(&["import", "mlflow", &db, "--remap-artifacts", "no-equals-sign"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

#[test]
fn import_trackio_project() {
    let env = Env::new();
    let db = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/trackio/trackio/fixture.db");
    let out = env.ok(&["import", "trackio", db.to_str().unwrap(), "--json"]).json();
    assert_eq!(out.as_array().unwrap().len(), 2, "{out}");
    let runs = env.ok(&["runs", "ls", "--project", "fixture", "--filter", "params.lr = 0.1", "--json"]).json();
    assert_eq!(runs.as_array().unwrap().len(), 1, "{runs}");
    let again = env.ok(&["import", "trackio", db.to_str().unwrap()]);
    assert!(again.stderr.contains("0 run(s) imported, 2 skipped"), "{}", again.stderr);
}

#[test]
fn import_wandb_offline_runs() {
    let env = Env::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/wandb/wandb");
    let out = env.ok(&["import", "wandb", dir.to_str().unwrap(), "--json"]).json();
    assert_eq!(out.as_array().unwrap().len(), 2, "{out}");
    let runs = env.ok(&["runs", "ls", "--project", "fixture", "--filter", "params.lr = 0.01", "--json"]).json();
    assert_eq!(runs.as_array().unwrap().len(), 1, "{runs}");
    assert_eq!(runs[0]["group"], "sweep");
    let again = env.ok(&["import", "wandb", dir.to_str().unwrap()]);
    assert!(again.stderr.contains("0 run(s) imported, 2 skipped"), "{}", again.stderr);
}

#[test]
fn import_tensorboard_watch_follows_a_growing_file_until_ctrl_c() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let env = Env::new();
    let src_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tensorboard/logs/baseline");
    let src = std::fs::read_dir(&src_dir).unwrap().next().unwrap().unwrap().path();
    let data = std::fs::read(&src).unwrap();
    let logs = env.dir.path().join("live-logs/job");
    std::fs::create_dir_all(&logs).unwrap();
    let file = logs.join(src.file_name().unwrap());
    std::fs::write(&file, &data[..data.len() / 2]).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trackbench"))
        .arg("--store")
        .arg(env.store())
        .args(["import", "tensorboard", env.dir.path().join("live-logs").to_str().unwrap(), "--watch"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let count = || -> u64 {
        let out = env.cmd(&["runs", "ls", "--project", "tensorboard", "--json"]);
        if out.code != 0 {
            return 0;
        }
        out.json()
            .as_array()
            .map_or(0, |runs| runs.iter().map(|r| r["metrics"]["train/loss"]["count"].as_u64().unwrap_or(0)).sum())
    };
    let wait_for = |pred: &dyn Fn(u64) -> bool| {
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(30) {
            let n = count();
            if pred(n) {
                return n;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the follower did not catch up (last count {})", count());
    };
    let first = wait_for(&|n| n > 0);
    assert!(first < 200);
    std::fs::write(&file, &data).unwrap();
    assert_eq!(wait_for(&|n| n == 200), 200, "the rest of the file, each point once");
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "Ctrl-C ends the follower cleanly: {status}");
    let runs = env.ok(&["runs", "ls", "--project", "tensorboard", "--json"]).json();
    assert_eq!(runs[0]["status"], "finished");
}

/// An `mlruns/` folder whose one run names a folder outside it as its artifact location.
#[cfg(unix)]
fn mlruns_pointing_outside(tmp: &Path) -> std::path::PathBuf {
    let secret = tmp.join("home/u/.ssh");
    std::fs::create_dir_all(&secret).unwrap();
    std::fs::write(secret.join("id_ed25519"), "PRIVATE KEY").unwrap();
    let run = tmp.join("mlruns/1/r1");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::write(tmp.join("mlruns/1/meta.yaml"), "experiment_id: '1'\nname: exp\n").unwrap();
    std::fs::write(
        run.join("meta.yaml"),
        format!("artifact_uri: file://{}\nrun_id: r1\nstatus: 3\nstart_time: 1700000000000\n", secret.display()),
    )
    .unwrap();
    tmp.join("mlruns")
}

#[cfg(unix)]
#[test]
fn import_mlflow_skips_artifacts_outside_the_folder_unless_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let mlruns = mlruns_pointing_outside(tmp.path());
    let env = Env::new();
    let out = env.ok(&["import", "mlflow", mlruns.to_str().unwrap()]);
    assert!(out.stderr.contains("outside the imported folder"), "{}", out.stderr);
    assert!(out.stderr.contains("--allow-outside-artifacts"), "{}", out.stderr);
    let shown = env.ok(&["runs", "show", "r1", "--json"]).json();
    assert!(!shown.to_string().contains("id_ed25519"), "nothing copied: {shown}");

    let env = Env::new();
    let out = env.ok(&["import", "mlflow", mlruns.to_str().unwrap(), "--allow-outside-artifacts", "--json"]).json();
    assert_eq!(out[0]["artifacts"], 1, "{out}");
    assert!(out[0]["problems"].as_array().unwrap().is_empty(), "{out}");
}
