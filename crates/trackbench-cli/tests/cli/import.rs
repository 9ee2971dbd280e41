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
