//! Artifact blobs on an object store, for the team server: [`open_blobs`] turns
//! `s3://BUCKET/PREFIX`, `gs://BUCKET/PREFIX`, `az://CONTAINER/PREFIX` or `file:///PATH` into a
//! [`BlobStore`] (`trackbench_store::blobs`), so a PostgreSQL store keeps its artifacts' bytes
//! where the team already keeps data, and any server replica serves them (clients never need
//! cloud credentials).
//!
//! Layout: blob `HASH` is the object `PREFIX/<2 hex>/HASH`, as in a store folder's `blobs/`.
//! A put spools the input to a local temporary file while hashing it (the key is the hash, so
//! it is known only at the end), then uploads it unless an object of that key is already
//! there: in one request up to [`ObjectOptions::part_size`], as a multipart upload streamed
//! from the file above it. Reads are streamed, whole or a byte range.
//!
//! The store API is synchronous and `object_store` is async: each [`ObjectBlobs`] owns a small
//! private tokio runtime, hands it each operation as a task and waits on a channel, so it works
//! from plain threads (the CLI) and from a server's blocking threads alike, never starting a
//! runtime inside another. Credentials come from the variables the clouds' tools use (`AWS_*`,
//! `GOOGLE_*`, `AZURE_*`); errors name the variable to fix.
//!
//! `file://` gives the store folder's own [`DirBlobs`]; [`ObjectBlobs::local`] runs the object
//! path over a folder (for tests without a cloud).

use std::fs::File;
use std::future::Future;
use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::PathBuf;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::azure::AzureConfigKey;
use object_store::path::Path as ObjectPath;
use object_store::{
    ClientConfigKey, ClientOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
    WriteMultipart,
};
use trackbench_store::blobs::{BlobEntry, BlobInfo, BlobStore, DirBlobs, StagedBlob, check_hash, copy_hashing};
use trackbench_store::{Result, StoreError};

/// How an object store is used.
#[derive(Debug, Clone)]
pub struct ObjectOptions {
    /// Blobs up to this size go up in one request; bigger ones as a multipart upload of parts
    /// of this size (S3 wants at least 5 MiB but for the last part).
    pub part_size: usize,
    /// Parts uploaded at once (memory held: about this many parts plus one).
    pub upload_concurrency: usize,
    /// Where puts spool their input (the system's temporary folder when `None`).
    pub spool_dir: Option<PathBuf>,
    /// How long a failing request is retried (with backoff) before its error is returned.
    pub retry_timeout: Duration,
    /// Connecting to the store gives up after this long.
    pub connect_timeout: Duration,
}

impl Default for ObjectOptions {
    fn default() -> Self {
        ObjectOptions {
            part_size: 8 << 20,
            upload_concurrency: 4,
            spool_dir: None,
            retry_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// The blob store at `url`, configured from the process's environment: `AWS_*` for `s3://`,
/// including `AWS_ENDPOINT_URL` and `AWS_ALLOW_HTTP` for S3-compatible servers; `GOOGLE_*` for
/// `gs://`, including `GOOGLE_BASE_URL` and `GOOGLE_ALLOW_HTTP` for another endpoint (an
/// emulator also wants `GOOGLE_SKIP_SIGNATURE=true`, or a service-account key with
/// `disable_oauth`); `AZURE_*` for `az://`, including `AZURE_STORAGE_ENDPOINT` and
/// `AZURE_ALLOW_HTTP`, or `AZURE_STORAGE_USE_EMULATOR=true` with `AZURITE_BLOB_STORAGE_URL`
/// for Azurite. Nothing is contacted: call [`BlobStore::check`] for that.
pub fn open_blobs(url: &str) -> Result<Arc<dyn BlobStore>> {
    let vars: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| ["AWS_", "GOOGLE_", "AZURE_", "AZURITE_"].iter().any(|p| k.starts_with(p)))
        .collect();
    open_blobs_with(url, &vars, &ObjectOptions::default())
}

/// The blob store at `url`, configured from `vars` alone (the environment's names and values,
/// as [`open_blobs`] reads them) and `opts`.
pub fn open_blobs_with(url: &str, vars: &[(String, String)], opts: &ObjectOptions) -> Result<Arc<dyn BlobStore>> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| bad_url(url, "expected SCHEME://…"))?;
    match scheme {
        "file" => {
            if !rest.starts_with('/') {
                return Err(bad_url(url, "a file URL needs an absolute path: file:///PATH"));
            }
            Ok(Arc::new(DirBlobs::new(rest)))
        }
        "s3" | "s3a" | "gs" | "az" | "azure" | "abfs" | "abfss" => Ok(Arc::new(ObjectBlobs::open(url, vars, opts)?)),
        other => Err(bad_url(url, &format!("unsupported scheme `{other}`; use s3://, gs://, az:// or file://"))),
    }
}

fn bad_url(url: &str, why: &str) -> StoreError {
    StoreError::Invalid { what: "artifact store URL", why: format!("{}: {why}", redact(url)) }
}

/// `url` without user info or query (where secrets could hide).
fn redact(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
            let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
            if path.is_empty() { format!("{scheme}://{host}") } else { format!("{scheme}://{host}/{path}") }
        }
        None => url.to_string(),
    }
}

/// Which cloud, for the variables its errors name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cloud {
    S3,
    Gcs,
    Azure,
    Local,
}

impl Cloud {
    fn credentials_hint(self) -> &'static str {
        match self {
            Cloud::S3 => "check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)",
            Cloud::Gcs => {
                "check GOOGLE_SERVICE_ACCOUNT (a key file's path), GOOGLE_SERVICE_ACCOUNT_KEY (the key's JSON) or GOOGLE_APPLICATION_CREDENTIALS"
            }
            Cloud::Azure => "check AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY (or AZURE_STORAGE_SAS_KEY)",
            Cloud::Local => "check the folder's permissions",
        }
    }

    fn endpoint_hint(self) -> &'static str {
        match self {
            Cloud::S3 => "check AWS_ENDPOINT_URL (and AWS_ALLOW_HTTP=true for a plain http:// endpoint)",
            Cloud::Gcs => {
                "check GOOGLE_BASE_URL (and GOOGLE_ALLOW_HTTP=true for a plain http:// endpoint) and the network"
            }
            Cloud::Azure => {
                "check AZURE_STORAGE_ENDPOINT (and AZURE_ALLOW_HTTP=true for a plain http:// endpoint), or AZURITE_BLOB_STORAGE_URL with AZURE_STORAGE_USE_EMULATOR=true, and the network"
            }
            Cloud::Local => "check the folder",
        }
    }
}

/// Whether a switch's value means on, as `object_store` reads it.
fn truthy(v: &str) -> bool {
    ["true", "1", "yes", "on"].iter().any(|t| v.trim().eq_ignore_ascii_case(t))
}

/// Azurite's (and the old Azure Storage Emulator's) account and key, the same for every install
/// and public: <https://learn.microsoft.com/azure/storage/common/storage-use-azurite>.
const EMULATOR_ACCOUNT: &str = "devstoreaccount1";
const EMULATOR_KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
/// Where Azurite's blob service listens unless `AZURITE_BLOB_STORAGE_URL` says otherwise.
const AZURITE_URL: &str = "http://127.0.0.1:10000";

/// Settings for `MicrosoftAzureBuilder::with_config`, in order (a later one wins).
type AzureSettings = Vec<(AzureConfigKey, String)>;

/// The Azure settings in `vars` (`AZURE_*`, and `AZURITE_BLOB_STORAGE_URL`), and the account
/// endpoint when one is given.
///
/// `AZURE_STORAGE_USE_EMULATOR=true` is done here, not by `object_store`, whose emulator mode
/// reads `AZURITE_BLOB_STORAGE_URL` from the process's environment instead of `vars`: the account
/// endpoint becomes `AZURITE_BLOB_STORAGE_URL/ACCOUNT` (Azurite's path-style URLs, which is all
/// that mode does) over plain HTTP, with Azurite's well-known account and key unless others are
/// given. Outside it, a missing account is an error naming the variable.
fn azure_config(url: &str, vars: &[(String, String)]) -> Result<(AzureSettings, Option<String>)> {
    let mut config: AzureSettings = vars
        .iter()
        .filter(|(k, _)| k.starts_with("AZURE_"))
        .filter_map(|(k, v)| Some((k.to_ascii_lowercase().parse().ok()?, v.clone())))
        .collect();
    let last =
        |config: &[(AzureConfigKey, String)], key| config.iter().rev().find(|(k, _)| *k == key).map(|(_, v)| v.clone());
    let emulator = last(&config, AzureConfigKey::UseEmulator).is_some_and(|v| truthy(&v));
    config.retain(|(k, _)| *k != AzureConfigKey::UseEmulator);
    if emulator {
        let account = last(&config, AzureConfigKey::AccountName).unwrap_or_else(|| EMULATOR_ACCOUNT.into());
        let base = vars.iter().rev().find(|(k, _)| k == "AZURITE_BLOB_STORAGE_URL").map_or(AZURITE_URL, |(_, v)| v);
        let credentials = [AzureConfigKey::AccessKey, AzureConfigKey::SasKey, AzureConfigKey::Token];
        if !credentials.iter().any(|&k| last(&config, k).is_some()) {
            config.push((AzureConfigKey::AccessKey, EMULATOR_KEY.into()));
        }
        config.retain(|(k, _)| *k != AzureConfigKey::Endpoint);
        config.push((AzureConfigKey::Endpoint, format!("{}/{account}", base.trim_end_matches('/'))));
        config.push((AzureConfigKey::AccountName, account));
        config.push((AzureConfigKey::Client(ClientConfigKey::AllowHttp), "true".into()));
    } else if last(&config, AzureConfigKey::AccountName).is_none() {
        let why = "no storage account: set AZURE_STORAGE_ACCOUNT_NAME (with AZURE_STORAGE_ACCOUNT_KEY or \
                   AZURE_STORAGE_SAS_KEY), or AZURE_STORAGE_USE_EMULATOR=true for Azurite";
        return Err(bad_url(url, why));
    }
    // The blob paths are appended to it: `…/account/` would give `…/account//container`.
    for (k, v) in config.iter_mut() {
        if *k == AzureConfigKey::Endpoint {
            *v = v.trim_end_matches('/').to_string();
        }
    }
    let endpoint = last(&config, AzureConfigKey::Endpoint);
    Ok((config, endpoint))
}

/// What an error message says about the store (no secrets) and what to fix.
struct Target {
    /// The URL, redacted, with the endpoint when it is not the cloud's own.
    describe: String,
    bucket: String,
    cloud: Cloud,
}

impl Target {
    /// `e`, from doing `op`, as the store's error: what is wrong, and which variable to fix.
    fn error(&self, op: &str, e: object_store::Error) -> StoreError {
        use std::io::ErrorKind;
        let text = tidy_xml(&error_chain(&e));
        let (kind, why) = match &e {
            _ if text.contains("NoSuchBucket") || text.contains("ContainerNotFound") => (
                ErrorKind::NotFound,
                format!("bucket `{}` does not exist (create it, or fix the URL): {text}", self.bucket),
            ),
            object_store::Error::NotFound { .. } => (ErrorKind::NotFound, text),
            // No credentials were given, so the client asked the machine's identity service
            // (Azure's managed identity, GCP's metadata server), and that failed.
            _ if text.contains("Error performing token request") || text.contains("Error getting token response") => (
                ErrorKind::PermissionDenied,
                format!("no credentials could be had ({}): {text}", self.cloud.credentials_hint()),
            ),
            object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. } => (
                ErrorKind::PermissionDenied,
                format!("the object store refused the credentials ({}): {text}", self.cloud.credentials_hint()),
            ),
            _ if ["InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken", "403 Forbidden"]
                .iter()
                .any(|c| text.contains(c)) =>
            {
                (
                    ErrorKind::PermissionDenied,
                    format!("the object store refused the credentials ({}): {text}", self.cloud.credentials_hint()),
                )
            }
            _ if text.contains("Missing bucket") || text.contains("Missing region") => {
                (ErrorKind::InvalidInput, format!("{text} (check the URL and AWS_REGION)"))
            }
            _ if ["error sending request", "connect", "timed out", "dns error", "Connection refused"]
                .iter()
                .any(|c| text.contains(c)) =>
            {
                (
                    ErrorKind::NotConnected,
                    format!("cannot reach the object store ({}): {text}", self.cloud.endpoint_hint()),
                )
            }
            _ => (ErrorKind::Other, text),
        };
        StoreError::Io { context: format!("{op} in {}", self.describe), source: std::io::Error::new(kind, why) }
    }

    fn io(&self, op: &str, e: std::io::Error) -> StoreError {
        StoreError::Io { context: format!("{op} for {}", self.describe), source: e }
    }
}

/// `text` with an S3-style XML error body shortened to its code and message.
fn tidy_xml(text: &str) -> String {
    let Some(at) = text.find("<?xml") else { return text.to_string() };
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = text[at..].find(&open)? + at + open.len();
        let end = text[start..].find('<')? + start;
        Some(text[start..end].trim().to_string())
    };
    let body = match (tag("Code"), tag("Message")) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c,
        _ => return text.to_string(),
    };
    format!("{}{body}", &text[..at])
}

/// An error's message with its sources (the HTTP status and the server's answer are there).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// What every operation needs, shared with the tasks that run it.
struct Shared {
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    target: Target,
    opts: ObjectOptions,
}

impl Shared {
    fn key(&self, hash: &str) -> ObjectPath {
        self.prefix.clone().join(&hash[..2]).join(hash)
    }
}

/// Blobs in an object store; see the crate docs.
pub struct ObjectBlobs {
    shared: Arc<Shared>,
    runtime: Arc<Runtime>,
}

/// The private runtime, shut down without waiting when the last user goes (allowed anywhere,
/// even inside another runtime, where dropping a runtime is not).
struct Runtime(Option<tokio::runtime::Runtime>);

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl ObjectBlobs {
    /// An object store at `url` (`s3://`, `gs://`, `az://`) configured from `vars` and `opts`.
    pub fn open(url: &str, vars: &[(String, String)], opts: &ObjectOptions) -> Result<ObjectBlobs> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad_url(url, "expected SCHEME://…"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() || bucket.contains('@') || url.contains('?') {
            return Err(bad_url(url, "expected SCHEME://BUCKET/PREFIX"));
        }
        let prefix = ObjectPath::parse(prefix.trim_matches('/')).map_err(|e| bad_url(url, &e.to_string()))?;
        let retry = RetryConfig { retry_timeout: opts.retry_timeout, max_retries: 5, ..RetryConfig::default() };
        let client = ClientOptions::new().with_connect_timeout(opts.connect_timeout);
        let matching = |p: &'static str| -> Vec<(String, String)> {
            vars.iter().filter(|(k, _)| k.starts_with(p)).map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect()
        };
        let bucket_url = format!("{scheme}://{bucket}");
        let build_error = |e: object_store::Error| bad_url(url, &error_chain(&e));
        let (store, cloud, endpoint): (Arc<dyn ObjectStore>, Cloud, Option<String>) = match scheme {
            "s3" | "s3a" => {
                use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
                let mut b = AmazonS3Builder::new().with_client_options(client).with_retry(retry);
                let mut endpoint = None;
                for (k, v) in matching("AWS_") {
                    if let Ok(key) = k.parse::<AmazonS3ConfigKey>() {
                        if key == AmazonS3ConfigKey::Endpoint {
                            endpoint = Some(v.clone());
                        }
                        b = b.with_config(key, v);
                    }
                }
                (Arc::new(b.with_url(bucket_url).build().map_err(build_error)?), Cloud::S3, endpoint)
            }
            "gs" => {
                use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
                let mut b = GoogleCloudStorageBuilder::new().with_client_options(client).with_retry(retry);
                let (mut endpoint, mut unsigned, mut token) = (None, false, false);
                for (k, v) in matching("GOOGLE_") {
                    if let Ok(key) = k.parse::<GoogleConfigKey>() {
                        let v = match key {
                            GoogleConfigKey::BaseUrl => {
                                let v = v.trim_end_matches('/').to_string();
                                endpoint = Some(v.clone());
                                v
                            }
                            GoogleConfigKey::SkipSignature => {
                                unsigned = truthy(&v);
                                v
                            }
                            GoogleConfigKey::BearerToken => {
                                token = true;
                                v
                            }
                            _ => v,
                        };
                        b = b.with_config(key, v);
                    }
                }
                if unsigned && !token {
                    // object_store 0.14 skips the signature on reads, lists and deletes but still
                    // fetches a token for uploads (`gcp::client::Request::send`), from a metadata
                    // service that an emulator's machine does not have: an empty static token
                    // stands in, as a service-account key's `disable_oauth` does.
                    b = b.with_bearer_token("");
                }
                let built = b.with_url(bucket_url).build().map_err(|e| {
                    // A key file that cannot be read or parsed: say which variables give it.
                    let text = error_chain(&e);
                    let hint = if text.contains("credential") {
                        format!(" ({})", Cloud::Gcs.credentials_hint())
                    } else {
                        String::new()
                    };
                    bad_url(url, &format!("{text}{hint}"))
                })?;
                (Arc::new(built), Cloud::Gcs, endpoint)
            }
            "az" | "azure" | "abfs" | "abfss" => {
                use object_store::azure::MicrosoftAzureBuilder;
                let mut b = MicrosoftAzureBuilder::new().with_client_options(client).with_retry(retry);
                let (config, endpoint) = azure_config(url, vars)?;
                for (key, v) in config {
                    b = b.with_config(key, v);
                }
                (Arc::new(b.with_url(bucket_url).build().map_err(build_error)?), Cloud::Azure, endpoint)
            }
            other => return Err(bad_url(url, &format!("unsupported scheme `{other}`; use s3://, gs:// or az://"))),
        };
        let mut describe = redact(url);
        if let Some(e) = endpoint {
            describe = format!("{describe} (endpoint {})", redact(&e));
        }
        let target = Target { describe, bucket: bucket.to_string(), cloud };
        ObjectBlobs::with_store(store, prefix, target, opts)
    }

    /// The object path over folder `dir` (which must exist): `object_store`'s local files, for
    /// tests that need no cloud.
    pub fn local(dir: &std::path::Path, opts: &ObjectOptions) -> Result<ObjectBlobs> {
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir).map_err(|e| StoreError::Io {
            context: format!("opening {}", dir.display()),
            source: std::io::Error::other(error_chain(&e)),
        })?;
        let target = Target {
            describe: format!("object store on {}", dir.display()),
            bucket: dir.display().to_string(),
            cloud: Cloud::Local,
        };
        ObjectBlobs::with_store(Arc::new(store), ObjectPath::default(), target, opts)
    }

    fn with_store(
        store: Arc<dyn ObjectStore>,
        prefix: ObjectPath,
        target: Target,
        opts: &ObjectOptions,
    ) -> Result<ObjectBlobs> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("trackbench-blobs")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Io { context: "starting the object store's runtime".into(), source: e })?;
        let shared = Arc::new(Shared { store, prefix, target, opts: opts.clone() });
        Ok(ObjectBlobs { shared, runtime: Arc::new(Runtime(Some(rt))) })
    }

    /// Runs `fut` on the private runtime and waits for it (from any thread: the wait is a
    /// plain channel, not the runtime).
    fn run<T: Send + 'static>(&self, fut: impl Future<Output = Result<T>> + Send + 'static) -> Result<T> {
        run_on(&self.runtime, &self.shared.target, fut)
    }
}

fn run_on<T: Send + 'static>(
    runtime: &Runtime,
    target: &Target,
    fut: impl Future<Output = Result<T>> + Send + 'static,
) -> Result<T> {
    let stopped = || target.io("waiting", std::io::Error::other("the object store's runtime stopped"));
    let rt = runtime.0.as_ref().ok_or_else(stopped)?;
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    rt.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv().map_err(|_| stopped())?
}

/// A put's spooled input: uploaded by `commit` (unless already there), removed when dropped.
struct StagedObject {
    shared: Arc<Shared>,
    runtime: Arc<Runtime>,
    file: File,
    info: BlobInfo,
}

impl StagedBlob for StagedObject {
    fn hash(&self) -> &str {
        &self.info.hash
    }

    fn size(&self) -> u64 {
        self.info.size
    }

    fn commit(self: Box<Self>) -> Result<BlobInfo> {
        let StagedObject { shared, runtime, file, info } = *self;
        let size = info.size;
        let hash = info.hash.clone();
        let s = shared.clone();
        run_on(&runtime, &shared.target, async move { upload(&s, &hash, file, size).await })?;
        Ok(info)
    }
}

/// Uploads the spooled `file` as blob `hash`, unless it is already there.
async fn upload(s: &Shared, hash: &str, mut file: File, size: u64) -> Result<()> {
    let key = s.key(hash);
    match s.store.head(&key).await {
        Ok(_) => return Ok(()),
        Err(object_store::Error::NotFound { .. }) => {}
        Err(e) => return Err(s.target.error("looking for a blob", e)),
    }
    let part = s.opts.part_size.max(1);
    file.seek(SeekFrom::Start(0)).map_err(|e| s.target.io("rewinding a spooled upload", e))?;
    if size <= part as u64 {
        // One request; the part size bounds what is held.
        let mut buf = Vec::with_capacity(size as usize);
        file.read_to_end(&mut buf).map_err(|e| s.target.io("reading a spooled upload", e))?;
        s.store.put(&key, PutPayload::from(buf)).await.map_err(|e| s.target.error("uploading a blob", e))?;
        return Ok(());
    }
    let upload = s.store.put_multipart(&key).await.map_err(|e| s.target.error("starting a multipart upload", e))?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, part);
    let mut sent = 0u64;
    while sent < size {
        if let Err(e) = writer.wait_for_capacity(s.opts.upload_concurrency.max(1)).await {
            let _ = writer.abort().await;
            return Err(s.target.error("uploading a part", e));
        }
        let mut buf = vec![0u8; part.min((size - sent) as usize)];
        if let Err(e) = file.read_exact(&mut buf) {
            let _ = writer.abort().await;
            return Err(s.target.io("reading a spooled upload", e));
        }
        sent += buf.len() as u64;
        writer.put(Bytes::from(buf));
    }
    writer.finish().await.map_err(|e| s.target.error("finishing a multipart upload", e))?;
    Ok(())
}

impl BlobStore for ObjectBlobs {
    fn describe(&self) -> String {
        self.shared.target.describe.clone()
    }

    fn check(&self) -> Result<()> {
        let s = self.shared.clone();
        self.run(async move {
            // Listing needs the bucket and the right to read it, as every later use does.
            s.store.list_with_delimiter(Some(&s.prefix)).await.map_err(|e| s.target.error("checking", e))?;
            Ok(())
        })
    }

    fn stage(&self, input: &mut dyn Read, what: &str) -> Result<Box<dyn StagedBlob>> {
        let spool = match &self.shared.opts.spool_dir {
            Some(dir) => tempfile::tempfile_in(dir),
            None => tempfile::tempfile(),
        };
        let mut file = spool.map_err(|e| self.shared.target.io("creating a spool file", e))?;
        let info = copy_hashing(input, &mut file, what, "a spool file")?;
        file.flush().map_err(|e| self.shared.target.io("writing a spool file", e))?;
        Ok(Box::new(StagedObject { shared: self.shared.clone(), runtime: self.runtime.clone(), file, info }))
    }

    fn open(&self, hash: &str, range: Option<Range<u64>>) -> Result<Box<dyn Read + Send>> {
        check_hash(hash)?;
        if range.as_ref().is_some_and(|r| r.start >= r.end) {
            return Ok(Box::new(std::io::empty()));
        }
        let s = self.shared.clone();
        let key = s.key(hash);
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes>>(8);
        let first = self.run(async move {
            let opts = GetOptions { range: range.map(GetRange::Bounded), ..GetOptions::default() };
            let got = s.store.get_opts(&key, opts).await.map_err(|e| s.target.error("reading a blob", e))?;
            Ok((got.into_stream(), s))
        });
        let (mut stream, s) = first?;
        // The body is forwarded by a task of its own, a few chunks ahead of the reader; a
        // dropped reader ends it (and the request).
        if let Some(rt) = self.runtime.0.as_ref() {
            rt.spawn(async move {
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk.map_err(|e| s.target.error("reading a blob", e));
                    let failed = chunk.is_err();
                    if tx.send(chunk).await.is_err() || failed {
                        break;
                    }
                }
            });
        }
        Ok(Box::new(ChannelReader { rx, current: Bytes::new(), _runtime: self.runtime.clone() }))
    }

    fn exists(&self, hash: &str) -> Result<bool> {
        check_hash(hash)?;
        let s = self.shared.clone();
        let key = s.key(hash);
        self.run(async move {
            match s.store.head(&key).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(s.target.error("looking for a blob", e)),
            }
        })
    }

    fn delete(&self, hash: &str) -> Result<()> {
        check_hash(hash)?;
        let s = self.shared.clone();
        let key = s.key(hash);
        self.run(async move {
            match s.store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(s.target.error("removing a blob", e)),
            }
        })
    }

    fn list(&self) -> Result<Vec<BlobEntry>> {
        let s = self.shared.clone();
        let mut out = self.run(async move {
            let metas: Vec<object_store::ObjectMeta> =
                s.store.list(Some(&s.prefix)).try_collect().await.map_err(|e| s.target.error("listing blobs", e))?;
            let mut out = Vec::new();
            for m in metas {
                let Some(parts) = m.location.prefix_match(&s.prefix) else { continue };
                let parts: Vec<String> = parts.map(|p| p.as_ref().to_string()).collect();
                if let [dir, hash] = &parts[..]
                    && check_hash(hash).is_ok()
                    && hash.starts_with(dir.as_str())
                    && dir.len() == 2
                {
                    out.push(BlobEntry {
                        hash: hash.clone(),
                        size: m.size,
                        modified: SystemTime::from(m.last_modified),
                    });
                }
            }
            Ok(out)
        })?;
        out.sort_by(|a, b| a.hash.cmp(&b.hash));
        Ok(out)
    }
}

/// A blob's body as `Read`: chunks from the task that reads the response.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<Result<Bytes>>,
    current: Bytes,
    /// Keeps the runtime the forwarding task runs on.
    _runtime: Arc<Runtime>,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match block_on(self.rx.recv()) {
                None => return Ok(0),
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(std::io::Error::other(e)),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

/// Waits for `fut` on this thread (a channel receive needs no runtime; tokio's own
/// `blocking_recv` would refuse to run on a runtime's thread, where a caller might be).
fn block_on<F: Future>(fut: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_secrets_in_messages() {
        assert_eq!(redact("s3://bucket/a/b"), "s3://bucket/a/b");
        assert_eq!(redact("http://key:secret@127.0.0.1:9000"), "http://127.0.0.1:9000");
        assert_eq!(redact("s3://bucket/p?secret=1"), "s3://bucket/p");
    }

    #[test]
    fn xml_error_bodies_shrink_to_code_and_message() {
        let text = "404 Not Found: <?xml version=\"1.0\"?>\n<Error><Code>NoSuchBucket</Code>\
                    <Message>The specified bucket does not exist</Message><BucketName>b</BucketName></Error>";
        assert_eq!(tidy_xml(text), "404 Not Found: NoSuchBucket: The specified bucket does not exist");
        assert_eq!(tidy_xml("plain"), "plain");
    }

    #[test]
    fn unknown_schemes_and_relative_files_are_refused() {
        for url in ["ftp://x/y", "bucket/prefix", "file://relative/path", "s3:///prefix"] {
            let e = open_blobs_with(url, &[], &ObjectOptions::default()).err().unwrap();
            assert!(matches!(e, StoreError::Invalid { .. }), "{url}: {e}");
        }
        let dir = open_blobs_with("file:///tmp/tb-blobs", &[], &ObjectOptions::default()).unwrap();
        assert_eq!(dir.describe(), "file:///tmp/tb-blobs");
    }
}
