//! Artifacts: stored once by content, paths validated.

use crate::util::store;

#[test]
fn identical_files_share_one_blob() {
    let mut t = store();
    let a = t.run("p", "a");
    let b = t.run("p", "b");
    let src = t.dir.path().join("model.bin");
    std::fs::write(&src, vec![7u8; 100_000]).unwrap();
    let i1 = t.store.put_artifact(&a, "model.bin", &src).unwrap();
    let i2 = t.store.put_artifact(&b, "ckpt/final.bin", &src).unwrap();
    assert_eq!(i1.hash, i2.hash);
    assert_eq!(i1.size, 100_000);
    let blobs: Vec<_> = walk(&t.dir.path().join("blobs")).into_iter().filter(|p| !p.contains("/blobs/tmp/")).collect();
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    let (info, file) = t.store.artifact_file(&b, "ckpt/final.bin").unwrap();
    assert_eq!(std::fs::read(file).unwrap().len(), 100_000);
    assert_eq!(info.media_type, "application/octet-stream");
    std::fs::write(t.dir.path().join("notes.json"), "{}").unwrap();
    let j = t.store.put_artifact(&a, "notes.json", &t.dir.path().join("notes.json")).unwrap();
    assert_eq!(j.media_type, "application/json");
}

#[test]
fn traversal_and_absolute_paths_are_refused() {
    let mut t = store();
    let a = t.run("p", "a");
    let src = t.dir.path().join("f.txt");
    std::fs::write(&src, "x").unwrap();
    for bad in ["../escape.txt", "/etc/passwd", "a/../../b", "", "a\\b"] {
        let err = t.store.put_artifact(&a, bad, &src).expect_err(bad);
        assert!(err.to_string().contains("artifact path"), "{err}");
    }
    assert!(t.store.artifacts(&a).unwrap().is_empty());
}

#[test]
fn folders_are_stored_recursively() {
    let mut t = store();
    let a = t.run("p", "a");
    let d = t.dir.path().join("out");
    std::fs::create_dir_all(d.join("sub")).unwrap();
    std::fs::write(d.join("x.txt"), "x").unwrap();
    std::fs::write(d.join("sub/y.txt"), "y").unwrap();
    t.store.put_artifact_dir(&a, "out", &d).unwrap();
    let paths: Vec<_> = t.store.artifacts(&a).unwrap().into_iter().map(|a| a.path).collect();
    assert_eq!(paths, vec!["out/sub/y.txt", "out/x.txt"]);
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path().display().to_string());
        }
    }
    out
}
