//! One artifact contract, every backend: the SQLite store (its blob folder), PostgreSQL with
//! a blob folder, and PostgreSQL with its blobs on S3 (moto) or Azure (Azurite) through
//! `trackbench-objstore`. PostgreSQL needs `TRACKBENCH_TEST_POSTGRES`, S3 `TRACKBENCH_TEST_S3`
//! (`http://KEY:SECRET@HOST:PORT/BUCKET`), Azure `TRACKBENCH_TEST_AZURE`
//! (`http://ACCOUNT:KEY@HOST:PORT/CONTAINER`); `cargo xtask test` starts them all. Without them
//! those backends are skipped, and say so. (GCS is not here: the GCS test server refuses
//! `object_store`'s uploads; see trackbench-objstore's tests.)

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use postgres::{Client, NoTls};
use trackbench_objstore::{ObjectOptions, open_blobs_with};
use trackbench_store::{
    ArtifactStore, BlobStore, DirBlobs, GcOptions, GcReport, NewLoggedModel, NewRun, ProjectStore, RunStore, Store,
    StoreError, StoreOptions,
};
use trackbench_store_pg::PgStore;

/// Says loudly, past the test harness's capture, that a test could not run here.
fn skipped(why: &str) {
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: {why} ***");
}

/// A fresh database on the test server, dropped afterwards.
struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Database {
    fn create(admin: &str) -> Database {
        let name = format!("tba_{}_{}", std::process::id(), next());
        let mut c = Client::connect(admin, NoTls).expect("connecting to the test PostgreSQL");
        c.batch_execute(&format!("CREATE DATABASE {name}")).expect("create database");
        let base = admin.rsplit_once('/').map(|(b, _)| b).expect("URL with a database");
        Database { admin: admin.to_string(), url: format!("{base}/{name}"), name }
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Ok(mut c) = Client::connect(&self.admin, NoTls) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

fn next() -> usize {
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

fn decode(s: &str) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let hex = (s.as_bytes()[i] == b'%').then(|| s.get(i + 1..i + 3)).flatten();
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(s.as_bytes()[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// Blobs under a fresh prefix of the test bucket, with 5 MiB parts (so a few MiB make a
/// multipart upload).
fn s3_blobs(url: &str) -> Arc<dyn BlobStore> {
    let (scheme, rest) = url.split_once("://").expect("TRACKBENCH_TEST_S3 is a URL");
    let (auth, rest) = rest.rsplit_once('@').expect("TRACKBENCH_TEST_S3 carries KEY:SECRET@");
    let (key, secret) = auth.split_once(':').expect("KEY:SECRET");
    let (host, bucket) = rest.split_once('/').expect("TRACKBENCH_TEST_S3 ends in /BUCKET");
    let vars: Vec<(String, String)> = [
        ("AWS_ENDPOINT_URL", format!("{scheme}://{host}")),
        ("AWS_ALLOW_HTTP", "true".into()),
        ("AWS_ACCESS_KEY_ID", decode(key)),
        ("AWS_SECRET_ACCESS_KEY", decode(secret)),
        ("AWS_REGION", "us-east-1".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let url = format!("s3://{}/a{}-{}", bucket.trim_matches('/'), std::process::id(), next());
    let opts = ObjectOptions { part_size: 5 << 20, ..ObjectOptions::default() };
    let blobs = open_blobs_with(&url, &vars, &opts).unwrap();
    blobs.check().unwrap();
    blobs
}

/// Blobs under a fresh prefix of the test container on Azurite (whose account endpoint is
/// `http://HOST:PORT/ACCOUNT`), with 5 MiB parts.
fn azure_blobs(url: &str) -> Arc<dyn BlobStore> {
    let (scheme, rest) = url.split_once("://").expect("TRACKBENCH_TEST_AZURE is a URL");
    let (auth, rest) = rest.rsplit_once('@').expect("TRACKBENCH_TEST_AZURE carries ACCOUNT:KEY@");
    let (account, key) = auth.split_once(':').expect("ACCOUNT:KEY");
    let (host, container) = rest.split_once('/').expect("TRACKBENCH_TEST_AZURE ends in /CONTAINER");
    let account = decode(account);
    let vars: Vec<(String, String)> = [
        ("AZURE_STORAGE_ENDPOINT", format!("{scheme}://{host}/{account}")),
        ("AZURE_ALLOW_HTTP", "true".into()),
        ("AZURE_STORAGE_ACCOUNT_NAME", account.clone()),
        ("AZURE_STORAGE_ACCOUNT_KEY", decode(key)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let url = format!("az://{}/a{}-{}", container.trim_matches('/'), std::process::id(), next());
    let opts = ObjectOptions { part_size: 5 << 20, ..ObjectOptions::default() };
    let blobs = open_blobs_with(&url, &vars, &opts).unwrap();
    blobs.check().unwrap();
    blobs
}

/// What the contract needs of a backend beyond the seam: a logged model to attach files to
/// (made with SQL on PostgreSQL, whose model operations are another part of the seam, through
/// `db`: the database's URL) and garbage collection.
trait UnderTest: ArtifactStore + RunStore {
    fn new_model(&mut self, db: Option<&str>) -> String;
    fn collect(&mut self, opts: &GcOptions) -> GcReport;
}

impl UnderTest for Store {
    fn new_model(&mut self, _: Option<&str>) -> String {
        let new = NewLoggedModel { project: "p".into(), name: "m".into(), ..NewLoggedModel::default() };
        self.create_logged_model(&new).unwrap().id
    }
    fn collect(&mut self, opts: &GcOptions) -> GcReport {
        self.gc(opts).unwrap()
    }
}

impl UnderTest for PgStore {
    fn new_model(&mut self, db: Option<&str>) -> String {
        let project = self.ensure_project("p").unwrap();
        let uid = format!("m-{:032x}", next() + 1);
        let mut c = Client::connect(db.expect("the database URL"), NoTls).unwrap();
        c.execute(
            "INSERT INTO logged_models(uid, project_id, name, status, created_ms, updated_ms) \
             VALUES ($1, $2, 'm', 'pending', 0, 0)",
            &[&uid, &project],
        )
        .unwrap();
        uid
    }
    fn collect(&mut self, opts: &GcOptions) -> GcReport {
        self.gc(opts).unwrap()
    }
}

/// A backend under test, and what must outlive it.
struct Backend {
    name: &'static str,
    store: Box<dyn UnderTest>,
    blobs: Arc<dyn BlobStore>,
    _db: Option<Database>,
    _dir: Option<tempfile::TempDir>,
}

fn backends() -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open(dir.path(), StoreOptions::default()).unwrap();
    let blobs: Arc<dyn BlobStore> = Arc::new(DirBlobs::new(dir.path().join("blobs")));
    let mut out = vec![Backend { name: "sqlite", store: Box::new(sqlite), blobs, _db: None, _dir: Some(dir) }];
    let pg = std::env::var("TRACKBENCH_TEST_POSTGRES").ok().filter(|u| !u.is_empty());
    let s3 = std::env::var("TRACKBENCH_TEST_S3").ok().filter(|u| !u.is_empty());
    let azure = std::env::var("TRACKBENCH_TEST_AZURE").ok().filter(|u| !u.is_empty());
    let Some(admin) = pg else {
        skipped(
            "PostgreSQL artifact backends: TRACKBENCH_TEST_POSTGRES is not set (`cargo xtask test` starts a server)",
        );
        return out;
    };
    let mut pg_with = |name: &'static str, blobs: Arc<dyn BlobStore>, dir: Option<tempfile::TempDir>| {
        let db = Database::create(&admin);
        let store = PgStore::connect_with(&db.url, StoreOptions::default(), blobs.clone()).unwrap();
        out.push(Backend { name, store: Box::new(store), blobs, _db: Some(db), _dir: dir });
    };
    let dir = tempfile::tempdir().unwrap();
    pg_with("postgres+folder", Arc::new(DirBlobs::new(dir.path().join("blobs"))), Some(dir));
    match s3 {
        Some(url) => pg_with("postgres+s3", s3_blobs(&url), None),
        None => skipped("PostgreSQL with S3 artifacts: TRACKBENCH_TEST_S3 is not set (`cargo xtask test` starts moto)"),
    }
    match azure {
        Some(url) => pg_with("postgres+azure", azure_blobs(&url), None),
        None => skipped(
            "PostgreSQL with Azure artifacts: TRACKBENCH_TEST_AZURE is not set (`cargo xtask test` starts Azurite)",
        ),
    }
    out
}

fn new_run(s: &mut dyn UnderTest) -> String {
    s.create_run(&NewRun { project: "p".into(), ..NewRun::default() }).unwrap().id
}

/// `n` bytes that do not repeat with any short period.
fn data(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn read_all(mut r: Box<dyn Read + Send>) -> Vec<u8> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

#[test]
fn a_big_artifact_round_trips_and_equal_files_share_one_blob() {
    for mut b in backends() {
        let s = b.store.as_mut();
        let (r1, r2) = (new_run(s), new_run(s));
        let bytes = data(11 << 20, 5);
        let a = s.put_artifact_from(&r1, "weights/model.bin", &mut &bytes[..], "model.bin").unwrap();
        assert_eq!(a.size, bytes.len() as u64, "{}", b.name);
        assert_eq!(a.hash, blake3::hash(&bytes).to_hex().to_string(), "{}", b.name);
        assert_eq!(a.media_type, "application/octet-stream", "{}", b.name);
        let again = s.put_artifact_from(&r2, "copy.bin", &mut &bytes[..], "copy.bin").unwrap();
        assert_eq!(again.hash, a.hash, "{}", b.name);
        assert_eq!(b.blobs.list().unwrap().len(), 1, "{}: one blob for two equal files", b.name);
        let (info, reader) = s.open_artifact(&r1, "weights/model.bin", None).unwrap();
        assert_eq!(info, a, "{}", b.name);
        assert!(read_all(reader) == bytes, "{}: the bytes read back differ", b.name);
        let (_, reader) = s.open_artifact(&r2, "copy.bin", None).unwrap();
        assert!(read_all(reader) == bytes, "{}", b.name);
        assert_eq!(s.artifact(&r2, "copy.bin").unwrap(), again, "{}", b.name);
    }
}

#[test]
fn ranges_are_checked_and_read_only_their_bytes() {
    for mut b in backends() {
        let s = b.store.as_mut();
        let run = new_run(s);
        let bytes = data(200_000, 9);
        s.put_artifact_from(&run, "data.csv", &mut &bytes[..], "data.csv").unwrap();
        let n = bytes.len() as u64;
        for r in [0..1, 10..1000, n - 1..n, 0..n, 500..500] {
            let (info, reader) = s.open_artifact(&run, "data.csv", Some(r.clone())).unwrap();
            assert_eq!(info.media_type, "text/csv", "{}", b.name);
            assert!(read_all(reader) == bytes[r.start as usize..r.end as usize], "{}: {r:?}", b.name);
        }
        for r in [0..n + 1, n + 5..n + 6] {
            let e = s.open_artifact(&run, "data.csv", Some(r.clone())).err().expect("out of range");
            assert!(matches!(e, StoreError::Invalid { what: "byte range", .. }), "{}: {r:?}: {e}", b.name);
        }
    }
}

#[test]
fn listing_replacing_and_deleting() {
    for mut b in backends() {
        let s = b.store.as_mut();
        let run = new_run(s);
        let paths = ["b.txt", "a/z.bin", "a.txt", "A.txt", "a/b/c.json", "ab"];
        for (i, p) in paths.iter().enumerate() {
            s.put_artifact_from(&run, p, &mut &data(100, i as u64)[..], p).unwrap();
        }
        let mut want: Vec<&str> = paths.to_vec();
        want.sort();
        let listed: Vec<String> = s.artifacts(&run).unwrap().into_iter().map(|a| a.path).collect();
        assert_eq!(listed, want, "{}: listed by path, byte-wise", b.name);
        // A second put of a path replaces it.
        let new = s.put_artifact_from(&run, "b.txt", &mut &b"new"[..], "b.txt").unwrap();
        assert_eq!(s.artifacts(&run).unwrap().len(), paths.len(), "{}", b.name);
        let (info, reader) = s.open_artifact(&run, "b.txt", None).unwrap();
        assert_eq!((info, read_all(reader)), (new, b"new".to_vec()), "{}", b.name);
        // A folder goes with everything under it, and only that ("ab" is not under "a").
        assert_eq!(s.delete_artifacts(&run, "a").unwrap(), 2, "{}", b.name);
        assert_eq!(s.delete_artifacts(&run, "a.txt/").unwrap(), 1, "{}: `a.txt/` is `a.txt`", b.name);
        assert_eq!(s.delete_artifacts(&run, "nothing").unwrap(), 0, "{}", b.name);
        let listed: Vec<String> = s.artifacts(&run).unwrap().into_iter().map(|a| a.path).collect();
        assert_eq!(listed, ["A.txt", "ab", "b.txt"], "{}", b.name);
        let e = s.open_artifact(&run, "a.txt", None).err().expect("deleted");
        assert!(matches!(e, StoreError::ArtifactNotFound(_)), "{}: {e}", b.name);
        let e = s.artifact("no-such-run", "a.txt").unwrap_err();
        assert!(matches!(e, StoreError::ArtifactNotFound(_)), "{}: {e}", b.name);
        assert!(matches!(s.artifacts("no-such-run"), Err(StoreError::RunNotFound(_))), "{}", b.name);
        let e = s.put_artifact_from("no-such-run", "x", &mut &b"x"[..], "x").unwrap_err();
        assert!(matches!(e, StoreError::RunNotFound(_)), "{}: {e}", b.name);
    }
}

#[test]
fn bad_paths_are_refused_and_store_nothing() {
    for mut b in backends() {
        let s = b.store.as_mut();
        let run = new_run(s);
        for bad in ["", "/etc/passwd", "../up", "a/../../b", "a/./b", "a\\b", "c:/x", "a\nb", "/"] {
            let e = s.put_artifact_from(&run, bad, &mut &b"x"[..], "x").unwrap_err();
            assert!(matches!(e, StoreError::Invalid { what: "artifact path", .. }), "{}: {bad:?}: {e}", b.name);
            assert!(s.open_artifact(&run, bad, None).is_err(), "{}: {bad:?}", b.name);
            assert!(matches!(s.delete_artifacts(&run, bad), Err(StoreError::Invalid { .. })), "{}: {bad:?}", b.name);
        }
        assert!(s.artifacts(&run).unwrap().is_empty(), "{}", b.name);
        assert!(b.blobs.list().unwrap().is_empty(), "{}: no blob for a refused path", b.name);
        // Duplicate slashes are one separator.
        let a = s.put_artifact_from(&run, "a//b/", &mut &b"x"[..], "x").unwrap();
        assert_eq!(a.path, "a/b", "{}", b.name);
    }
}

#[test]
fn a_failing_input_stores_nothing() {
    struct Broken(usize);
    impl Read for Broken {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("connection reset"));
            }
            let n = buf.len().min(self.0);
            buf[..n].fill(7);
            self.0 -= n;
            Ok(n)
        }
    }
    for mut b in backends() {
        let s = b.store.as_mut();
        let run = new_run(s);
        let e = s.put_artifact_from(&run, "x.bin", &mut Broken(100_000), "upload").unwrap_err();
        assert!(e.to_string().contains("upload") && e.to_string().contains("connection reset"), "{}: {e}", b.name);
        assert!(s.artifacts(&run).unwrap().is_empty(), "{}", b.name);
        assert!(b.blobs.list().unwrap().is_empty(), "{}", b.name);
    }
}

#[test]
fn model_artifacts_are_their_own_files() {
    for mut b in backends() {
        let s = b.store.as_mut();
        let model = s.new_model(b._db.as_ref().map(|d| d.url.as_str()));
        let bytes = data(50_000, 3);
        let a = s.put_model_artifact_from(&model, "MLmodel", &mut &bytes[..], "MLmodel").unwrap();
        s.put_model_artifact_from(&model, "data/model.pkl", &mut &b"pkl"[..], "pkl").unwrap();
        let listed: Vec<String> = s.model_artifacts(&model).unwrap().into_iter().map(|a| a.path).collect();
        assert_eq!(listed, ["MLmodel", "data/model.pkl"], "{}", b.name);
        let (info, reader) = s.open_model_artifact(&model, "MLmodel", Some(100..200)).unwrap();
        assert_eq!(info, a, "{}", b.name);
        assert!(read_all(reader) == bytes[100..200], "{}", b.name);
        let e = s.open_model_artifact(&model, "nope", None).err().expect("missing");
        assert!(matches!(e, StoreError::ArtifactNotFound(_)), "{}: {e}", b.name);
        let e = s.model_artifacts("m-00000000000000000000000000000000").unwrap_err();
        assert!(matches!(e, StoreError::NotFound { what: "logged model", .. }), "{}: {e}", b.name);
        let e = s.put_model_artifact_from(&model, "../x", &mut &b""[..], "x").unwrap_err();
        assert!(matches!(e, StoreError::Invalid { .. }), "{}: {e}", b.name);
    }
}

#[test]
fn gc_removes_only_blobs_nothing_names_and_a_later_put_restores_one() {
    for mut b in backends() {
        let s = b.store.as_mut();
        let (r1, r2) = (new_run(s), new_run(s));
        let shared = data(10_000, 1);
        let only = data(10_000, 2);
        let kept = s.put_artifact_from(&r1, "shared.bin", &mut &shared[..], "x").unwrap();
        s.put_artifact_from(&r2, "shared.bin", &mut &shared[..], "x").unwrap();
        let gone = s.put_artifact_from(&r1, "only.bin", &mut &only[..], "x").unwrap();
        let model = s.new_model(b._db.as_ref().map(|d| d.url.as_str()));
        s.put_model_artifact_from(&model, "m.bin", &mut &data(100, 3)[..], "x").unwrap();
        s.delete_artifacts(&r1, "shared.bin").unwrap();
        s.delete_artifacts(&r1, "only.bin").unwrap();
        assert_eq!(b.blobs.list().unwrap().len(), 3, "{}: deleting rows leaves blobs", b.name);
        let opts = GcOptions { deleted_older_than_ms: None, grace_ms: 0, dry_run: true };
        let dry = s.collect(&opts);
        assert_eq!((dry.blobs_removed, dry.blob_bytes_freed), (1, 10_000), "{}: {dry:?}", b.name);
        assert_eq!(b.blobs.list().unwrap().len(), 3, "{}: a dry run removes nothing", b.name);
        // Young blobs stay.
        let young = s.collect(&GcOptions { grace_ms: 3_600_000, dry_run: false, ..opts.clone() });
        assert_eq!(young.blobs_removed, 0, "{}: {young:?}", b.name);
        let report = s.collect(&GcOptions { dry_run: false, ..opts.clone() });
        assert_eq!(report.blobs_removed, 1, "{}: {report:?}", b.name);
        let left: Vec<String> = b.blobs.list().unwrap().into_iter().map(|e| e.hash).collect();
        assert!(left.contains(&kept.hash) && !left.contains(&gone.hash), "{}", b.name);
        let (_, reader) = s.open_artifact(&r2, "shared.bin", None).unwrap();
        assert!(read_all(reader) == shared, "{}", b.name);
        // The same bytes put again after their blob went are stored again.
        s.put_artifact_from(&r2, "only-again.bin", &mut &only[..], "x").unwrap();
        let (_, reader) = s.open_artifact(&r2, "only-again.bin", None).unwrap();
        assert!(read_all(reader) == only, "{}", b.name);
        // Purging a deleted run frees what only it named.
        s.delete_run(&r2).unwrap();
        let purge = GcOptions { deleted_older_than_ms: Some(-60_000), grace_ms: 0, dry_run: false };
        let report = s.collect(&purge);
        assert_eq!(report.runs_purged, vec![r2], "{}", b.name);
        assert_eq!(report.blobs_removed, 2, "{}: {report:?}", b.name);
        assert_eq!(b.blobs.list().unwrap().len(), 1, "{}: the model's file stays", b.name);
    }
}
