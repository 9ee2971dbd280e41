//! Blobs on an object store, against real servers of each cloud's protocol that `cargo xtask
//! test` starts and names, and against a local folder through the same object code:
//!
//! - S3: moto, `TRACKBENCH_TEST_S3=http://KEY:SECRET@HOST:PORT/BUCKET`;
//! - Azure: Azurite's blob service, `TRACKBENCH_TEST_AZURE=http://ACCOUNT:KEY@HOST:PORT/CONTAINER`
//!   (the account's endpoint is `http://HOST:PORT/ACCOUNT`, Azurite's path-style URLs);
//! - GCS: fake-gcs-server, `TRACKBENCH_TEST_GCS=http://HOST:PORT/BUCKET` (it checks no
//!   credentials, so requests go unsigned).
//!
//! Keys and secrets are percent-encoded. A server that is not named is skipped, saying so.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use trackbench_objstore::{ObjectBlobs, ObjectOptions, open_blobs_with};
use trackbench_store::{BlobStore, StoreError};

/// Says loudly, past the test harness's capture, that a test could not run here.
fn skipped(why: &str) {
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED: {why} ***");
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cloud {
    S3,
    Azure,
    Gcs,
}

impl Cloud {
    const ALL: [Cloud; 3] = [Cloud::S3, Cloud::Azure, Cloud::Gcs];

    fn name(self) -> &'static str {
        match self {
            Cloud::S3 => "s3",
            Cloud::Azure => "azure",
            Cloud::Gcs => "gcs",
        }
    }

    fn scheme(self) -> &'static str {
        match self {
            Cloud::S3 => "s3",
            Cloud::Azure => "az",
            Cloud::Gcs => "gs",
        }
    }

    /// The variable naming the test server, and what runs there.
    fn server(self) -> (&'static str, &'static str) {
        match self {
            Cloud::S3 => ("TRACKBENCH_TEST_S3", "a moto server"),
            Cloud::Azure => ("TRACKBENCH_TEST_AZURE", "Azurite"),
            Cloud::Gcs => ("TRACKBENCH_TEST_GCS", "fake-gcs-server"),
        }
    }
}

/// A test server: its cloud, endpoint, key, secret and bucket (container).
struct Server {
    cloud: Cloud,
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

/// The test server of `cloud`, when `cargo xtask test` (or a person) named one.
fn server(cloud: Cloud) -> Option<Server> {
    let (var, what) = cloud.server();
    let Some(url) = std::env::var(var).ok().filter(|u| !u.is_empty()) else {
        skipped(&format!("{} backend: {var} is not set (`cargo xtask test` starts {what})", cloud.name()));
        return None;
    };
    let (scheme, rest) = url.split_once("://").unwrap_or_else(|| panic!("{var} is a URL"));
    let (auth, rest) = rest.rsplit_once('@').unwrap_or(("", rest));
    let (key, secret) = auth.split_once(':').unwrap_or((auth, ""));
    if cloud != Cloud::Gcs {
        assert!(!key.is_empty() && !secret.is_empty(), "{var} carries KEY:SECRET@");
    }
    let (host, bucket) = rest.split_once('/').unwrap_or_else(|| panic!("{var} ends in /BUCKET"));
    Some(Server {
        cloud,
        endpoint: format!("{scheme}://{host}"),
        key: decode(key),
        secret: decode(secret),
        bucket: bucket.trim_matches('/').to_string(),
    })
}

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

impl Server {
    /// The variables a user would set for this server, with `key` and `secret` as credentials.
    fn vars(&self, key: &str, secret: &str) -> Vec<(String, String)> {
        match self.cloud {
            Cloud::S3 => vars(&[
                ("AWS_ENDPOINT_URL", &self.endpoint),
                ("AWS_ALLOW_HTTP", "true"),
                ("AWS_ACCESS_KEY_ID", key),
                ("AWS_SECRET_ACCESS_KEY", secret),
                ("AWS_REGION", "us-east-1"),
            ]),
            // The endpoint is the server's account (Azurite's path-style URL) whatever `key` says.
            Cloud::Azure => vars(&[
                ("AZURE_STORAGE_ENDPOINT", &format!("{}/{}", self.endpoint, self.key)),
                ("AZURE_ALLOW_HTTP", "true"),
                ("AZURE_STORAGE_ACCOUNT_NAME", key),
                ("AZURE_STORAGE_ACCOUNT_KEY", secret),
            ]),
            Cloud::Gcs => vars(&[
                ("GOOGLE_BASE_URL", &self.endpoint),
                ("GOOGLE_ALLOW_HTTP", "true"),
                ("GOOGLE_SKIP_SIGNATURE", "true"),
            ]),
        }
    }

    fn url(&self, name: &str) -> String {
        format!("{}://{}/{}", self.cloud.scheme(), self.bucket, unique(name))
    }

    /// A fresh prefix of the test bucket.
    fn blobs(&self, name: &str, opts: &ObjectOptions) -> Arc<dyn BlobStore> {
        open_blobs_with(&self.url(name), &self.vars(&self.key, &self.secret), opts).unwrap()
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

/// Every backend this machine can run: the object code on a folder, and each cloud's test
/// server that is there.
fn backends(name: &str, opts: &ObjectOptions) -> Vec<(&'static str, Arc<dyn BlobStore>, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let local: Arc<dyn BlobStore> = Arc::new(ObjectBlobs::local(dir.path(), opts).unwrap());
    let mut out = vec![("local", local, Some(dir))];
    for cloud in Cloud::ALL {
        if let Some(server) = server(cloud) {
            if cloud == Cloud::Gcs && !gcs_takes_uploads(&server) {
                continue;
            }
            out.push((cloud.name(), server.blobs(name, opts), None));
        }
    }
    out
}

/// Whether the GCS test server takes `object_store`'s uploads. fake-gcs-server serves the XML
/// API's reads, ranged reads, listings and deletes that `object_store`'s GCS client sends, but
/// answers its upload (`PUT /BUCKET/OBJECT`) and its multipart start (`POST
/// /BUCKET/OBJECT?uploads`) with `400 invalid uploadType`: it takes uploads through the JSON
/// API only. That refusal, and only that, skips the write half of the contract on GCS (saying
/// so; `gcs_reads_objects_the_server_holds` runs the read half); any other failure fails.
fn gcs_takes_uploads(server: &Server) -> bool {
    let refused = |e: &str| e.contains("400 Bad Request") && e.contains("invalid uploadType");
    static ANSWER: OnceLock<Result<(), String>> = OnceLock::new();
    let answer = ANSWER.get_or_init(|| {
        let blobs = server.blobs("probe", &ObjectOptions::default());
        let answer = blobs.put(&mut &b"probe"[..], "probe").map(|_| ()).map_err(|e| e.to_string());
        if answer.as_ref().is_err_and(|e| refused(e)) {
            // Said once: every test that asks leaves GCS out for this same reason.
            skipped(
                "gcs backend of the blob contract's writes: the server answers object_store's XML-API upload \
                 `PUT /BUCKET/OBJECT` with 400 invalid uploadType (fake-gcs-server takes uploads through its JSON \
                 API only; its multipart start `POST /BUCKET/OBJECT?uploads` likewise)",
            );
        }
        answer
    });
    match answer {
        Ok(()) => true,
        Err(e) if refused(e) => false,
        Err(e) => panic!("gcs: a one-request upload failed: {e}"),
    }
}

/// Puts `bytes` as object `name` through the GCS server's JSON upload API (a plain HTTP/1.1
/// request: `object_store` has no JSON-API upload).
fn json_upload(server: &Server, name: &str, bytes: &[u8]) {
    assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-/._".contains(&b)), "{name}");
    let host = server.endpoint.strip_prefix("http://").expect("an http:// endpoint");
    let mut c = std::net::TcpStream::connect(host).unwrap();
    write!(
        c,
        "POST /upload/storage/v1/b/{}/o?uploadType=media&name={name} HTTP/1.1\r\nHost: {host}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        server.bucket,
        bytes.len()
    )
    .unwrap();
    c.write_all(bytes).unwrap();
    let mut answer = String::new();
    c.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "uploading {name}: {answer}");
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
    if server(Cloud::Gcs).is_some() {
        skipped(
            "gcs: a missing bucket: fake-gcs-server answers its listing `500 no bucket named …` where GCS answers \
             404 NoSuchBucket (and object_store retries a 500 until the retry timeout)",
        );
    }
    for server in [Cloud::S3, Cloud::Azure].into_iter().filter_map(server) {
        let name = server.cloud.name();
        let url = format!("{}://no-such-bucket-{}/p", server.cloud.scheme(), std::process::id());
        let blobs =
            open_blobs_with(&url, &server.vars(&server.key, &server.secret), &ObjectOptions::default()).unwrap();
        let e = blobs.check().unwrap_err().to_string();
        eprintln!("{name}: missing bucket: {e}");
        assert!(e.contains("does not exist") && e.contains("no-such-bucket"), "{name}: {e}");
        let e = blobs.put(&mut &b"x"[..], "x").unwrap_err().to_string();
        assert!(e.contains("no-such-bucket"), "{name}: {e}");
    }
}

/// A refused key or secret is a permission error naming the variables to fix, never showing
/// the secret. fake-gcs-server checks no credentials, so GCS is not here (see
/// `missing_credentials_name_the_variables` for what it can show).
#[test]
fn wrong_credentials_name_the_variables() {
    if server(Cloud::Gcs).is_some() {
        skipped("gcs: wrong credentials: fake-gcs-server accepts any (or no) credentials, so a refusal cannot be had");
    }
    for server in [Cloud::S3, Cloud::Azure].into_iter().filter_map(server) {
        let name = server.cloud.name();
        let url = format!("{}://{}/creds", server.cloud.scheme(), server.bucket);
        let (wrong_key, wrong_secret, named): (&str, &str, &[&str]) = match server.cloud {
            Cloud::S3 => ("AKIAWRONGWRONGWRONG1", "not-the-secret", &["AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"]),
            // A well-formed (base64) key that is not the account's.
            _ => (
                "nosuchaccount",
                "bm90LXRoZS1zZWNyZXQtbm90LXRoZS1zZWNyZXQ=",
                &["AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_ACCOUNT_KEY"],
            ),
        };
        for (key, secret) in [(server.key.as_str(), wrong_secret), (wrong_key, server.secret.as_str())] {
            let blobs = open_blobs_with(&url, &server.vars(key, secret), &ObjectOptions::default()).unwrap();
            let e = blobs.check().unwrap_err();
            let text = e.to_string();
            eprintln!("{name}: wrong credentials: {text}");
            assert!(named.iter().all(|v| text.contains(v)), "{name}: {text}");
            assert!(
                !text.contains(wrong_secret) && !text.contains(&server.secret),
                "{name}: no secret in messages: {text}"
            );
            assert!(
                matches!(&e, StoreError::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied),
                "{name}: {text}"
            );
        }
    }
}

/// No credentials at all: the clients fall back to the cloud's machine identity (a metadata
/// service that is not there), and the error names the variables that give credentials.
#[test]
fn missing_credentials_name_the_variables() {
    let opts = ObjectOptions { retry_timeout: Duration::from_secs(1), ..ObjectOptions::default() };
    for server in [Cloud::Azure, Cloud::Gcs].into_iter().filter_map(server) {
        let name = server.cloud.name();
        let (settings, named): (Vec<(String, String)>, &[&str]) = match server.cloud {
            Cloud::Azure => (
                vars(&[
                    ("AZURE_STORAGE_ENDPOINT", &format!("{}/{}", server.endpoint, server.key)),
                    ("AZURE_ALLOW_HTTP", "true"),
                    ("AZURE_STORAGE_ACCOUNT_NAME", &server.key),
                ]),
                &["AZURE_STORAGE_ACCOUNT_KEY"],
            ),
            _ => (
                vars(&[("GOOGLE_BASE_URL", &server.endpoint), ("GOOGLE_ALLOW_HTTP", "true")]),
                &["GOOGLE_SERVICE_ACCOUNT"],
            ),
        };
        let blobs = open_blobs_with(&server.url("nocreds"), &settings, &opts).unwrap();
        let started = std::time::Instant::now();
        let e = blobs.check().unwrap_err();
        let text = e.to_string();
        eprintln!("{name}: no credentials ({:.1} s): {text}", started.elapsed().as_secs_f64());
        assert!(named.iter().all(|v| text.contains(v)), "{name}: {text}");
    }
}

#[test]
fn an_azure_account_is_required_and_named() {
    let e =
        open_blobs_with("az://container/p", &vars(&[("AZURE_STORAGE_ACCOUNT_KEY", "a2V5")]), &ObjectOptions::default())
            .err()
            .expect("no account, no store");
    assert!(matches!(e, StoreError::Invalid { .. }), "{e}");
    assert!(e.to_string().contains("AZURE_STORAGE_ACCOUNT_NAME"), "{e}");
    assert!(!e.to_string().contains("a2V5"), "{e}");
}

/// Azurite as its users start it: `AZURE_STORAGE_USE_EMULATOR=true` and where it listens, read
/// from the variables given (`object_store`'s own emulator mode reads the process's).
#[test]
fn azurite_through_the_emulator_switch() {
    let Some(server) = server(Cloud::Azure) else { return };
    let settings = vars(&[
        ("AZURE_STORAGE_USE_EMULATOR", "true"),
        ("AZURITE_BLOB_STORAGE_URL", &format!("{}/", server.endpoint)),
        ("AZURE_STORAGE_ACCOUNT_NAME", &server.key),
        ("AZURE_STORAGE_ACCOUNT_KEY", &server.secret),
    ]);
    let url = server.url("emulator");
    let blobs = open_blobs_with(&url, &settings, &ObjectOptions::default()).unwrap();
    assert_eq!(blobs.describe(), format!("{url} (endpoint {}/{})", server.endpoint, server.key));
    blobs.check().unwrap();
    let bytes = data(70_000, 5);
    let a = blobs.put(&mut &bytes[..], "e.bin").unwrap();
    assert!(read_all(blobs.open(&a.hash, Some(10..20)).unwrap()) == bytes[10..20]);
    // The same objects through the plain endpoint settings.
    let plain = open_blobs_with(&url, &server.vars(&server.key, &server.secret), &ObjectOptions::default()).unwrap();
    assert!(read_all(plain.open(&a.hash, None).unwrap()) == bytes);
    // Without the account and key, Azurite's well-known ones are used: not this server's.
    let defaults = vars(&[("AZURE_STORAGE_USE_EMULATOR", "1"), ("AZURITE_BLOB_STORAGE_URL", &server.endpoint)]);
    let blobs = open_blobs_with(&url, &defaults, &ObjectOptions::default()).unwrap();
    assert!(
        blobs.describe().ends_with(&format!("(endpoint {}/devstoreaccount1)", server.endpoint)),
        "{}",
        blobs.describe()
    );
}

/// The read half of the contract on GCS, for objects the server took through its JSON upload
/// API (see `gcs_takes_uploads`): existence, whole and ranged reads, listing by hash (other
/// objects under the prefix left out), deletes, a missing object.
#[test]
fn gcs_reads_objects_the_server_holds() {
    let Some(server) = server(Cloud::Gcs) else { return };
    let prefix = unique("reads");
    let url = format!("gs://{}/{prefix}", server.bucket);
    let blobs = open_blobs_with(&url, &server.vars("", ""), &ObjectOptions::default()).unwrap();
    blobs.check().unwrap();
    assert!(blobs.list().unwrap().is_empty());
    let mut hashes = Vec::new();
    for (i, n) in [0usize, 1000, 3 << 20].into_iter().enumerate() {
        let bytes = data(n, 40 + i as u64);
        let hash = blake3::hash(&bytes).to_hex().to_string();
        assert!(!blobs.exists(&hash).unwrap(), "{n} bytes");
        json_upload(&server, &format!("{prefix}/{}/{hash}", &hash[..2]), &bytes);
        assert!(blobs.exists(&hash).unwrap(), "{n} bytes");
        assert!(read_all(blobs.open(&hash, None).unwrap()) == bytes, "{n} bytes");
        let n = n as u64;
        if n > 0 {
            for r in [0..1, n / 2..n / 2 + 100, n - 7..n, 5..5, 0..n] {
                let got = read_all(blobs.open(&hash, Some(r.clone())).unwrap());
                assert!(got == bytes[r.start as usize..r.end as usize], "{n} bytes, range {r:?}");
            }
        }
        hashes.push(hash);
    }
    json_upload(&server, &format!("{prefix}/not-a-blob.txt"), b"x");
    hashes.sort();
    let listed = blobs.list().unwrap();
    assert_eq!(listed.iter().map(|e| e.hash.clone()).collect::<Vec<_>>(), hashes, "listed by hash");
    assert_eq!(listed.iter().map(|e| e.size).max(), Some(3 << 20));
    // A reader dropped halfway ends its request and leaves the store usable.
    let big = listed.iter().find(|e| e.size == 3 << 20).unwrap().hash.clone();
    let mut half = blobs.open(&big, None).unwrap();
    half.read_exact(&mut [0u8; 1000]).unwrap();
    drop(half);
    blobs.delete(&hashes[0]).unwrap();
    blobs.delete(&hashes[0]).unwrap();
    assert!(!blobs.exists(&hashes[0]).unwrap());
    assert_eq!(blobs.list().unwrap().len(), hashes.len() - 1);
    let missing = blobs.open(&hashes[0], None).err().expect("a deleted blob cannot be read");
    assert!(
        matches!(&missing, StoreError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
        "{missing}"
    );
}

/// GCS emulators as `object_store` documents them: a service-account key whose JSON carries
/// `gcs_base_url` and `disable_oauth` (reads only: see `gcs_takes_uploads`).
#[test]
fn gcs_through_a_service_account_key_for_an_emulator() {
    let Some(server) = server(Cloud::Gcs) else { return };
    let key = format!(
        r#"{{"gcs_base_url": "{}", "disable_oauth": true, "client_email": "", "private_key": "", "private_key_id": ""}}"#,
        server.endpoint
    );
    let settings = vars(&[("GOOGLE_SERVICE_ACCOUNT_KEY", &key), ("GOOGLE_ALLOW_HTTP", "true")]);
    let prefix = unique("sa-key");
    let blobs =
        open_blobs_with(&format!("gs://{}/{prefix}", server.bucket), &settings, &ObjectOptions::default()).unwrap();
    blobs.check().unwrap();
    let bytes = data(70_000, 9);
    let hash = blake3::hash(&bytes).to_hex().to_string();
    json_upload(&server, &format!("{prefix}/{}/{hash}", &hash[..2]), &bytes);
    assert!(read_all(blobs.open(&hash, Some(100..200)).unwrap()) == bytes[100..200]);
    // A key that is not JSON names the variables that give one.
    let bad = vars(&[("GOOGLE_SERVICE_ACCOUNT_KEY", "not json")]);
    let e = open_blobs_with(&server.url("bad-key"), &bad, &ObjectOptions::default()).err().expect("a bad key");
    assert!(e.to_string().contains("GOOGLE_SERVICE_ACCOUNT_KEY"), "{e}");
}

#[test]
fn an_unreachable_endpoint_says_so_quickly() {
    // Nothing listens on port 1.
    let cases = [
        (
            "s3://bucket/prefix",
            vars(&[
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
                ("AWS_ALLOW_HTTP", "true"),
                ("AWS_ACCESS_KEY_ID", "k"),
                ("AWS_SECRET_ACCESS_KEY", "s"),
                ("AWS_REGION", "us-east-1"),
            ]),
            "http://127.0.0.1:1",
            "AWS_ENDPOINT_URL",
        ),
        (
            "az://container/prefix",
            vars(&[
                ("AZURE_STORAGE_ENDPOINT", "http://127.0.0.1:1/acct/"),
                ("AZURE_ALLOW_HTTP", "true"),
                ("AZURE_STORAGE_ACCOUNT_NAME", "acct"),
                ("AZURE_STORAGE_ACCOUNT_KEY", "a2V5"),
            ]),
            "http://127.0.0.1:1/acct",
            "AZURE_STORAGE_ENDPOINT",
        ),
        (
            "gs://bucket/prefix",
            vars(&[
                ("GOOGLE_BASE_URL", "http://127.0.0.1:1"),
                ("GOOGLE_ALLOW_HTTP", "true"),
                ("GOOGLE_SKIP_SIGNATURE", "true"),
            ]),
            "http://127.0.0.1:1",
            "GOOGLE_BASE_URL",
        ),
    ];
    let opts = ObjectOptions { retry_timeout: Duration::from_secs(1), ..ObjectOptions::default() };
    for (url, settings, endpoint, named) in cases {
        let blobs = open_blobs_with(url, &settings, &opts).unwrap();
        assert_eq!(blobs.describe(), format!("{url} (endpoint {endpoint})"));
        let started = std::time::Instant::now();
        let e = blobs.check().unwrap_err().to_string();
        eprintln!("unreachable: {e}");
        assert!(e.contains(named), "{e}");
        assert!(started.elapsed() < Duration::from_secs(30), "{url}: {:?}", started.elapsed());
    }
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
