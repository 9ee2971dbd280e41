//! Imports stay inside the folder they are given: artifact locations and links pointing out of
//! it are skipped with a warning (copied only when outside artifacts are allowed), links to
//! folders are not followed, and link loops do not make a walk run forever.
//!
//! Every import here runs in a thread joined with a timeout, so a walk that loops fails the
//! test instead of hanging it.

#![cfg(unix)]

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use trackbench_import::mlflow::{self, RunReport};
use trackbench_import::{tensorboard, wandb};
use trackbench_store::{StepRange, Store, StoreOptions};

const SECRET: &str = "-----BEGIN OPENSSH PRIVATE KEY----- not for the store";

/// Runs `f` in a thread; fails (rather than hangs) when it takes longer than a minute.
fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(60)).expect("the import did not finish: a walk loops")
}

/// A folder outside the imported one, holding a secret file.
fn outside(tmp: &Path) -> PathBuf {
    let dir = tmp.join("home/u/.ssh");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("id_ed25519"), SECRET).unwrap();
    dir
}

fn write(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

/// An `mlruns/` folder with experiment `exp` and runs `(id, artifact_uri)`.
fn mlruns(tmp: &Path, runs: &[(&str, &str)]) -> PathBuf {
    let root = tmp.join("mlruns");
    write(&root.join("1/meta.yaml"), "experiment_id: '1'\nlifecycle_stage: active\nname: exp\n");
    for (id, uri) in runs {
        write(
            &root.join(format!("1/{id}/meta.yaml")),
            &format!(
                "artifact_uri: {uri}\nend_time: 1700000200000\nexperiment_id: '1'\nlifecycle_stage: active\n\
                 run_id: {id}\nrun_name: {id}\nstart_time: 1700000000000\nstatus: 3\n"
            ),
        );
        write(&root.join(format!("1/{id}/params/lr")), "0.1");
        write(&root.join(format!("1/{id}/metrics/loss")), "1700000000000 0.5 0\n1700000001000 0.25 1\n");
    }
    root
}

fn import_mlflow(root: &Path, allow: bool) -> (tempfile::TempDir, Vec<RunReport>) {
    let store_dir = tempfile::tempdir().unwrap();
    let (root, path) = (root.to_path_buf(), store_dir.path().to_path_buf());
    let reports = within(move || {
        let mut store = Store::open(&path, StoreOptions::default()).unwrap();
        let opts = mlflow::Options { remap: None, allow_outside_artifacts: allow };
        mlflow::import_opts(&mut store, root.to_str().unwrap(), &opts, &mut |_, _| {}).unwrap()
    });
    (store_dir, reports)
}

fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(dir.path(), StoreOptions::default()).unwrap()
}

fn report<'a>(reports: &'a [RunReport], id: &str) -> &'a RunReport {
    reports.iter().find(|r| r.run_id == id).unwrap_or_else(|| panic!("no report for {id}: {reports:?}"))
}

fn artifact_paths(store: &Store, id: &str) -> Vec<String> {
    store.artifacts(id).unwrap().into_iter().map(|a| a.path).collect()
}

fn stored_text(store: &Store, id: &str, path: &str) -> String {
    std::fs::read_to_string(store.artifact_file(id, path).unwrap().1).unwrap()
}

#[test]
fn mlflow_artifact_uris_outside_the_folder_are_skipped_unless_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let secret_dir = outside(tmp.path());
    let root = mlruns(
        tmp.path(),
        &[
            ("abs", &format!("file://{}", secret_dir.display())),
            ("root", "/"),
            ("dotdot", "../home/u/.ssh"),
            ("inside", &format!("file://{}/mlruns/1/inside/artifacts", tmp.path().display())),
        ],
    );
    write(&root.join("1/inside/artifacts/model.txt"), "weights");
    let (dir, reports) = import_mlflow(&root, false);
    let mut store = open(&dir);
    for id in ["abs", "root", "dotdot"] {
        let r = report(&reports, id);
        assert_eq!(r.artifacts, 0, "{r:?}");
        assert!(artifact_paths(&store, id).is_empty(), "{id}: nothing copied");
        assert!(r.problems.iter().any(|p| p.contains("outside the imported folder")), "{r:?}");
        assert!(r.problems.iter().any(|p| p.contains("--allow-outside-artifacts")), "{r:?}");
        assert!(r.skipped.is_none(), "the run itself is imported: {r:?}");
        assert_eq!(store.series(id, "loss", StepRange::ALL).unwrap().len(), 2);
    }
    let inside = report(&reports, "inside");
    assert!(inside.problems.is_empty(), "{inside:?}");
    assert_eq!(artifact_paths(&store, "inside"), ["model.txt"]);
    assert_eq!(stored_text(&store, "inside", "model.txt"), "weights");

    // Allowed: the outside location is copied.
    let tmp2 = tempfile::tempdir().unwrap();
    let secret_dir = outside(tmp2.path());
    let root = mlruns(tmp2.path(), &[("abs", &format!("file://{}", secret_dir.display()))]);
    let (dir, reports) = import_mlflow(&root, true);
    let store = open(&dir);
    assert_eq!(report(&reports, "abs").artifacts, 1, "{reports:?}");
    assert_eq!(stored_text(&store, "abs", "id_ed25519"), SECRET);
}

#[test]
fn mlflow_links_out_of_artifact_params_tags_and_metrics_folders_are_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let secret_dir = outside(tmp.path());
    let secret = secret_dir.join("id_ed25519");
    let root = mlruns(tmp.path(), &[("r1", &format!("file://{}/mlruns/1/r1/artifacts", tmp.path().display()))]);
    let run = root.join("1/r1");
    write(&run.join("artifacts/ok.txt"), "fine");
    symlink(&secret, run.join("artifacts/leak.txt")).unwrap();
    symlink(&secret_dir, run.join("artifacts/ssh")).unwrap();
    symlink("ok.txt", run.join("artifacts/same.txt")).unwrap(); // inside: followed
    symlink(&secret, run.join("params/stolen")).unwrap();
    write(&run.join("tags/team"), "cv");
    symlink(&secret, run.join("tags/stolen")).unwrap();
    write(&secret_dir.join("fake_metric"), "1700000000000 42 0\n");
    symlink(secret_dir.join("fake_metric"), run.join("metrics/stolen")).unwrap();

    let (dir, reports) = import_mlflow(&root, false);
    let mut store = open(&dir);
    let r = report(&reports, "r1");
    assert_eq!(artifact_paths(&store, "r1"), ["ok.txt", "same.txt"], "{r:?}");
    assert_eq!(stored_text(&store, "r1", "same.txt"), "fine");
    let params: Vec<String> = store.params("r1").unwrap().into_iter().map(|p| p.0).collect();
    assert_eq!(params, ["lr"]);
    let tags = store.tags("r1").unwrap();
    assert!(tags.iter().any(|t| t.0 == "team") && !tags.iter().any(|t| t.0 == "stolen"), "{tags:?}");
    assert!(tags.iter().all(|t| !t.1.contains("PRIVATE KEY")), "{tags:?}");
    assert!(store.series("r1", "stolen", StepRange::ALL).map(|s| s.is_empty()).unwrap_or(true));
    for what in ["leak.txt", "params: ", "tags: ", "metrics: ", "ssh: a symbolic link to a folder"] {
        assert!(r.problems.iter().any(|p| p.contains(what)), "{what} reported: {r:?}");
    }

    // Allowing outside artifacts copies the linked artifact file, never params or tags, and
    // still does not follow the link to a folder.
    let (dir, reports) = import_mlflow(&root, true);
    let store = open(&dir);
    assert_eq!(artifact_paths(&store, "r1"), ["leak.txt", "ok.txt", "same.txt"], "{reports:?}");
    let params: Vec<String> = store.params("r1").unwrap().into_iter().map(|p| p.0).collect();
    assert_eq!(params, ["lr"]);
}

#[test]
fn looping_links_end_every_walk() {
    let tmp = tempfile::tempdir().unwrap();
    let root = mlruns(tmp.path(), &[("r1", &format!("file://{}/mlruns/1/r1/artifacts", tmp.path().display()))]);
    let run = root.join("1/r1");
    write(&run.join("artifacts/x/a.txt"), "a");
    // Two links pointing at each other, a link to itself, and links to parent folders (two in
    // one folder: a walk that followed them would branch without end).
    for dir in [run.join("artifacts"), run.join("params"), run.join("tags"), run.join("metrics")] {
        std::fs::create_dir_all(&dir).unwrap();
        symlink("loop2", dir.join("loop1")).unwrap();
        symlink("loop1", dir.join("loop2")).unwrap();
        symlink("self", dir.join("self")).unwrap();
        symlink("..", dir.join("up1")).unwrap();
        symlink(".", dir.join("here")).unwrap();
    }
    symlink("..", run.join("artifacts/x/up")).unwrap();
    symlink("../..", run.join("artifacts/x/upup")).unwrap();
    symlink("..", root.join("1/up")).unwrap();
    let (dir, reports) = import_mlflow(&root, true);
    let store = open(&dir);
    assert_eq!(artifact_paths(&store, "r1"), ["x/a.txt"], "{reports:?}");
    let r = report(&reports, "r1");
    assert!(r.problems.iter().any(|p| p.contains("loop1")), "{r:?}");

    // TensorBoard: the same loops in a log folder.
    let logs = tmp.path().join("logs");
    let event = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tensorboard/logs/baseline");
    let src = std::fs::read_dir(&event).unwrap().next().unwrap().unwrap().path();
    std::fs::create_dir_all(logs.join("run/sub")).unwrap();
    std::fs::copy(&src, logs.join("run").join(src.file_name().unwrap())).unwrap();
    symlink("b", logs.join("a")).unwrap();
    symlink("a", logs.join("b")).unwrap();
    symlink("..", logs.join("run/sub/up1")).unwrap();
    symlink("../..", logs.join("run/sub/up2")).unwrap();
    symlink("events.out.tfevents.loop", logs.join("run/events.out.tfevents.loop")).unwrap();
    let store_dir = tempfile::tempdir().unwrap();
    let (l, s) = (logs.clone(), store_dir.path().to_path_buf());
    let reports = within(move || {
        let mut store = Store::open(&s, StoreOptions::default()).unwrap();
        tensorboard::import(&mut store, &l, "tb").unwrap()
    });
    let imported: Vec<_> = reports.iter().filter(|r| r.run.is_some()).collect();
    assert_eq!(imported.len(), 1, "{reports:?}");
    assert_eq!(imported[0].scalars, 220);

    // W&B: the same in a wandb folder.
    let wb = tmp.path().join("wandb");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/wandb/wandb"), &wb);
    symlink("b", wb.join("a")).unwrap();
    symlink("a", wb.join("b")).unwrap();
    symlink("..", wb.join("up")).unwrap();
    symlink(".", wb.join("here")).unwrap();
    symlink("run-x.wandb", wb.join("run-x.wandb")).unwrap();
    let store_dir = tempfile::tempdir().unwrap();
    let s = store_dir.path().to_path_buf();
    let reports = within(move || {
        let mut store = Store::open(&s, StoreOptions::default()).unwrap();
        wandb::import(&mut store, &wb, None).unwrap()
    });
    assert_eq!(reports.iter().filter(|r| r.skipped.is_none()).count(), 2, "{reports:?}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn tensorboard_links_out_of_the_log_folder_are_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tensorboard/logs");
    // Outside the imported folder: a run folder and an event file.
    let elsewhere = tmp.path().join("elsewhere");
    copy_dir(&fx.join("baseline"), &elsewhere.join("run"));
    let outside_event = std::fs::read_dir(elsewhere.join("run")).unwrap().next().unwrap().unwrap().path();
    let logs = tmp.path().join("logs");
    copy_dir(&fx.join("tensor"), &logs.join("tensor"));
    symlink(elsewhere.join("run"), logs.join("linked-run")).unwrap();
    std::fs::create_dir_all(logs.join("sneaky")).unwrap();
    symlink(&outside_event, logs.join("sneaky/events.out.tfevents.1.link")).unwrap();
    // Inside: a linked event file that resolves inside is read.
    let inside_event = std::fs::read_dir(logs.join("tensor")).unwrap().next().unwrap().unwrap().path();
    std::fs::create_dir_all(logs.join("alias")).unwrap();
    symlink(&inside_event, logs.join("alias/events.out.tfevents.2.link")).unwrap();

    let store_dir = tempfile::tempdir().unwrap();
    let (l, s) = (logs.clone(), store_dir.path().to_path_buf());
    let reports = within(move || {
        let mut store = Store::open(&s, StoreOptions::default()).unwrap();
        tensorboard::import(&mut store, &l, "tb").unwrap()
    });
    let imported: Vec<&str> =
        reports.iter().filter(|r| r.run.is_some()).map(|r| r.folder.rsplit('/').next().unwrap()).collect();
    assert_eq!(imported, ["alias", "tensor"], "{reports:?}");
    let skipped: Vec<&tensorboard::FolderReport> = reports.iter().filter(|r| r.run.is_none()).collect();
    assert!(skipped.iter().any(|r| r.folder.ends_with("linked-run") && r.skipped.as_ref().unwrap().contains("folder")));
    assert!(
        skipped.iter().any(|r| r.folder.ends_with("events.out.tfevents.1.link")
            && r.skipped.as_ref().unwrap().contains("outside the imported folder")),
        "{reports:?}"
    );
}

/// A W&B offline run copied from the fixtures, its saved `notes.txt` replaced by a link to a
/// secret outside the run.
fn wandb_run_with_linked_notes(tmp: &Path) -> PathBuf {
    let secret = outside(tmp).join("id_ed25519");
    let wb = tmp.join("wandb");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/wandb/wandb"), &wb);
    for e in std::fs::read_dir(&wb).unwrap() {
        let notes = e.unwrap().path().join("files/notes.txt");
        std::fs::remove_file(&notes).unwrap();
        symlink(&secret, &notes).unwrap();
    }
    wb
}

#[test]
fn wandb_saved_files_linking_out_of_the_run_are_not_copied_unless_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let wb = wandb_run_with_linked_notes(tmp.path());
    for allow in [false, true] {
        let store_dir = tempfile::tempdir().unwrap();
        let (w, s) = (wb.clone(), store_dir.path().to_path_buf());
        let reports = within(move || {
            let mut store = Store::open(&s, StoreOptions::default()).unwrap();
            let opts = wandb::Options { project: None, allow_outside_artifacts: allow };
            wandb::import_opts(&mut store, &w, &opts, &mut |_, _| {}).unwrap()
        });
        let store = open(&store_dir);
        assert_eq!(reports.len(), 2, "{reports:?}");
        for r in &reports {
            let paths = artifact_paths(&store, &r.run_id);
            if allow {
                assert!(paths.contains(&"notes.txt".to_string()), "{r:?}");
                assert_eq!(stored_text(&store, &r.run_id, "notes.txt"), SECRET);
            } else {
                assert!(!paths.contains(&"notes.txt".to_string()), "{paths:?}");
                assert!(
                    r.problems.iter().any(|p| p.contains("notes.txt") && p.contains("outside the imported folder")),
                    "{r:?}"
                );
                assert!(paths.contains(&"requirements.txt".to_string()), "the other saved file still is: {paths:?}");
            }
        }
    }
}
