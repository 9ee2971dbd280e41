//! Blobs on an object store, against a real S3-protocol server (moto, which `cargo xtask test`
//! starts and names in `TRACKBENCH_TEST_S3=http://KEY:SECRET@HOST:PORT/BUCKET`) and against a
//! local folder through the same object code. Without the server the S3 half is skipped, and
//! says so.

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use trackbench_objstore::{ObjectBlobs, ObjectOptions, open_blobs_with};
use trackbench_store::{BlobStore, StoreError};

/// Says loudly, past the test harness's capture, that a test could not run here.
fn skipped(why: &str) {
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: {why} ***");
}

/// The test S3 server: endpoint, key, secret, bucket.
struct S3 {
    endpoint: String,
    key: String,
    secret: String,
    bucket: String,
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

fn test_s3() -> Option<S3> {
    let Some(url) = std::env::var("TRACKBENCH_TEST_S3").ok().filter(|u| !u.is_empty()) else {
        skipped("S3 backend: TRACKBENCH_TEST_S3 is not set (`cargo xtask test` starts a moto server)");
        return None;
    };
    let (scheme, rest) = url.split_once("://").expect("TRACKBENCH_TEST_S3 is a URL");
    let (auth, rest) = rest.rsplit_once('@').expect("TRACKBENCH_TEST_S3 carries KEY:SECRET@");
    let (key, secret) = auth.split_once(':').expect("KEY:SECRET");
    let (host, bucket) = rest.split_once('/').expect("TRACKBENCH_TEST_S3 ends in /BUCKET");
    Some(S3 {
        endpoint: format!("{scheme}://{host}"),
        key: decode(key),
        secret: decode(secret),
        bucket: bucket.trim_matches('/').to_string(),
    })
}

impl S3 {
    fn vars(&self, key: &str, secret: &str) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_ALLOW_HTTP", "true"),
            ("AWS_ACCESS_KEY_ID", key),
            ("AWS_SECRET_ACCESS_KEY", secret),
            ("AWS_REGION", "us-east-1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    /// A fresh prefix of the test bucket.
    fn blobs(&self, name: &str, opts: &ObjectOptions) -> Arc<dyn BlobStore> {
        let url = format!("s3://{}/{}", self.bucket, unique(name));
        open_blobs_with(&url, &self.vars(&self.key, &self.secret), opts).unwrap()
    }
}

fn unique(name: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("t{}-{}-{name}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// 5 MiB parts (S3's least), so a few MiB make a multipart upload.
fn small_parts() -> ObjectOptions {
    ObjectOptions { part_size: 5 << 20, ..ObjectOptions::default() }
}

/// Every backend this machine can run: the object code on a folder, and S3 when there is one.
fn backends(name: &str, opts: &ObjectOptions) -> Vec<(&'static str, Arc<dyn BlobStore>, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let local: Arc<dyn BlobStore> = Arc::new(ObjectBlobs::local(dir.path(), opts).unwrap());
    let mut out = vec![("local", local, Some(dir))];
    if let Some(s3) = test_s3() {
        out.push(("s3", s3.blobs(name, opts), None));
    }
    out
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
fn a_blob_bigger_than_a_part_round_trips_and_is_stored_once() {
    for (name, blobs, _dir) in backends("big", &small_parts()) {
        blobs.check().unwrap();
        let bytes = data(12 << 20, 7);
        let a = blobs.put(&mut &bytes[..], "big.bin").unwrap();
        assert_eq!(a.size, bytes.len() as u64, "{name}");
        assert_eq!(a.hash, blake3::hash(&bytes).to_hex().to_string(), "{name}");
        let b = blobs.put(&mut &bytes[..], "again.bin").unwrap();
        assert_eq!(a, b, "{name}");
        let listed = blobs.list().unwrap();
        assert_eq!(listed.len(), 1, "{name}: one object for one content: {listed:?}");
        assert_eq!(listed[0].size, bytes.len() as u64, "{name}");
        let back = read_all(blobs.open(&a.hash, None).unwrap());
        assert!(back == bytes, "{name}: the bytes read back differ");
    }
}

#[test]
fn ranges_read_only_their_bytes() {
    for (name, blobs, _dir) in backends("ranges", &small_parts()) {
        let bytes = data(6 << 20, 11);
        let a = blobs.put(&mut &bytes[..], "r.bin").unwrap();
        let n = bytes.len() as u64;
        let part = 5u64 << 20;
        for r in [0..1, 0..100, part - 10..part + 10, n - 7..n, 12345..12345, 0..n] {
            let got = read_all(blobs.open(&a.hash, Some(r.clone())).unwrap());
            assert!(got == bytes[r.start as usize..r.end as usize], "{name}: range {r:?}");
        }
        // A reader dropped halfway ends its request and leaves the store usable.
        let mut half = blobs.open(&a.hash, None).unwrap();
        let mut buf = vec![0u8; 1000];
        half.read_exact(&mut buf).unwrap();
        drop(half);
        assert!(blobs.exists(&a.hash).unwrap(), "{name}");
    }
}

#[test]
fn delete_exists_and_listing_by_hash() {
    for (name, blobs, _dir) in backends("list", &ObjectOptions::default()) {
        let mut hashes = Vec::new();
        for i in 0..5u64 {
            let bytes = data(1000 + i as usize, 100 + i);
            hashes.push(blobs.put(&mut &bytes[..], "x").unwrap().hash);
        }
        let empty = blobs.put(&mut &b""[..], "empty").unwrap();
        assert_eq!(empty.size, 0);
        assert_eq!(read_all(blobs.open(&empty.hash, None).unwrap()), b"", "{name}");
        hashes.push(empty.hash.clone());
        hashes.sort();
        let listed: Vec<String> = blobs.list().unwrap().into_iter().map(|e| e.hash).collect();
        assert_eq!(listed, hashes, "{name}: listed by hash");
        assert!(blobs.exists(&hashes[0]).unwrap(), "{name}");
        blobs.delete(&hashes[0]).unwrap();
        blobs.delete(&hashes[0]).unwrap();
        assert!(!blobs.exists(&hashes[0]).unwrap(), "{name}");
        assert_eq!(blobs.list().unwrap().len(), hashes.len() - 1, "{name}");
        let missing = blobs.open(&hashes[0], None).err().expect("a deleted blob cannot be read");
        assert!(
            matches!(&missing, StoreError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
            "{name}: {missing}"
        );
        for bad in ["../../etc/passwd", "abc", &"G".repeat(64)] {
            assert!(matches!(blobs.open(bad, None), Err(StoreError::Invalid { .. })), "{name}: {bad}");
            assert!(matches!(blobs.delete(bad), Err(StoreError::Invalid { .. })), "{name}: {bad}");
        }
    }
}

#[test]
fn a_missing_bucket_is_named() {
    let Some(s3) = test_s3() else { return };
    let url = format!("s3://no-such-bucket-{}/p", std::process::id());
    let blobs = open_blobs_with(&url, &s3.vars(&s3.key, &s3.secret), &ObjectOptions::default()).unwrap();
    let e = blobs.check().unwrap_err().to_string();
    eprintln!("missing bucket: {e}");
    assert!(e.contains("does not exist") && e.contains("no-such-bucket"), "{e}");
    let e = blobs.put(&mut &b"x"[..], "x").unwrap_err().to_string();
    assert!(e.contains("no-such-bucket"), "{e}");
}

#[test]
fn wrong_credentials_name_the_variables() {
    let Some(s3) = test_s3() else { return };
    let url = format!("s3://{}/creds", s3.bucket);
    for (key, secret) in [(s3.key.as_str(), "not-the-secret"), ("AKIAWRONGWRONGWRONG1", s3.secret.as_str())] {
        let blobs = open_blobs_with(&url, &s3.vars(key, secret), &ObjectOptions::default()).unwrap();
        let e = blobs.check().unwrap_err();
        let text = e.to_string();
        eprintln!("wrong credentials: {text}");
        assert!(text.contains("AWS_SECRET_ACCESS_KEY") && text.contains("AWS_ACCESS_KEY_ID"), "{text}");
        assert!(!text.contains("not-the-secret") && !text.contains(&s3.secret), "no secret in messages: {text}");
        assert!(
            matches!(&e, StoreError::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied),
            "{text}"
        );
    }
}

#[test]
fn an_unreachable_endpoint_says_so_quickly() {
    // Nothing listens on port 1.
    let vars: Vec<(String, String)> = [
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "k"),
        ("AWS_SECRET_ACCESS_KEY", "s"),
        ("AWS_REGION", "us-east-1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let opts = ObjectOptions { retry_timeout: Duration::from_secs(1), ..ObjectOptions::default() };
    let blobs = open_blobs_with("s3://bucket/prefix", &vars, &opts).unwrap();
    assert_eq!(blobs.describe(), "s3://bucket/prefix (endpoint http://127.0.0.1:1)");
    let started = std::time::Instant::now();
    let e = blobs.check().unwrap_err().to_string();
    eprintln!("unreachable: {e}");
    assert!(e.contains("AWS_ENDPOINT_URL"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
}

/// The store API is called from a server's blocking threads and from async code that should
/// not block but might: neither may panic with "cannot start a runtime from within a runtime"
/// (or drop one there).
#[test]
fn works_from_inside_another_runtime() {
    for (name, blobs, _dir) in backends("runtime", &ObjectOptions::default()) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let bytes = data(300_000, 3);
        let b2 = blobs.clone();
        let copy = bytes.clone();
        let hash = rt.block_on(async move {
            // On a runtime thread itself.
            let hash = b2.put(&mut &copy[..], "async").unwrap().hash;
            assert_eq!(read_all(b2.open(&hash, Some(5..10)).unwrap()), &copy[5..10]);
            // And on its blocking pool, as the server does it.
            let b3 = b2.clone();
            let h = hash.clone();
            let back = tokio::task::spawn_blocking(move || read_all(b3.open(&h, None).unwrap())).await.unwrap();
            assert!(back == copy);
            hash
        });
        assert_eq!(hash, blake3::hash(&bytes).to_hex().to_string(), "{name}");
        // The last handle dropped inside async code shuts its runtime down without panicking.
        rt.block_on(async move { drop(blobs) });
    }
}
