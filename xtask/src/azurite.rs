//! A throwaway Azure Blob Storage server for the tests of artifacts on object storage: the blob
//! service of Azurite (Microsoft's Azure Storage emulator, npm `azurite`, pinned) installed
//! under the target dir, on a free loopback port with a fresh data folder, killed (and the
//! folder removed) when dropped.
//!
//! It runs with one account of its own (`trackbench`, with a random key; Azurite's well-known
//! development account is not there), checks Shared Key signatures as Azure does, and gets one
//! container (`trackbench-test`) before the tests see it. The tests get
//! `TRACKBENCH_TEST_AZURE=http://ACCOUNT:KEY@127.0.0.1:PORT/CONTAINER` (the key percent-encoded;
//! the account's endpoint is `http://127.0.0.1:PORT/ACCOUNT`, Azurite's path-style URLs); without
//! it they skip, saying why.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{target_dir, ui};

/// The Azurite release the tests run against: the newest whose `engines` take Node.js 20
/// (3.36 wants 21, 3.37 wants 22).
const AZURITE_VERSION: &str = "3.35.0";
/// The account the server knows, and the container the tests use (each test under a prefix).
const ACCOUNT: &str = "trackbench";
const CONTAINER: &str = "trackbench-test";

/// Creates a container with one Shared Key-signed request (the Azure SDK is not needed for
/// one call): `node - ENDPOINT ACCOUNT KEY CONTAINER`, where ENDPOINT is the account's URL.
const CREATE_CONTAINER: &str = r#"
const crypto = require("crypto");
const http = require("http");
const [endpoint, account, key, container] = process.argv.slice(2);
const url = new URL(`${endpoint}/${container}?restype=container`);
const date = new Date().toUTCString();
const version = "2023-11-03";
const headers = `x-ms-date:${date}\nx-ms-version:${version}`;
const resource = `/${account}${url.pathname}\nrestype:container`;
const toSign = ["PUT", "", "", "", "", "", "", "", "", "", "", "", headers, resource].join("\n");
const signature = crypto.createHmac("sha256", Buffer.from(key, "base64")).update(toSign, "utf8").digest("base64");
const auth = `SharedKey ${account}:${signature}`;
const request = http.request(url, {
  method: "PUT",
  headers: { "x-ms-date": date, "x-ms-version": version, "Content-Length": 0, Authorization: auth },
}, (res) => {
  let body = "";
  res.on("data", (c) => (body += c));
  res.on("end", () => {
    if (res.statusCode === 201) process.exit(0);
    console.error(`HTTP ${res.statusCode}: ${body}`);
    process.exit(1);
  });
});
request.on("error", (e) => { console.error(e.message); process.exit(1); });
request.end();
"#;

/// A running Azurite blob service; killed on drop.
pub struct Azurite {
    /// `http://ACCOUNT:KEY@127.0.0.1:PORT/CONTAINER`.
    pub url: String,
    child: Child,
    data: PathBuf,
}

impl Azurite {
    /// Starts a server, or says why it cannot (no Node.js, npm could not install Azurite).
    pub fn start() -> Result<Azurite, String> {
        ui::ensure_node()?;
        let home = target_dir().join("azurite");
        install(&home)?;
        let key = node(&["-e", "process.stdout.write(require('crypto').randomBytes(32).toString('base64'))"], None)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("finding a free port: {e}"))?
            .port();
        let data = target_dir().join(format!("azurite-data-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data).map_err(|e| format!("creating {}: {e}", data.display()))?;
        let log = data.join("azurite.log");
        let log_file = std::fs::File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        let child = Command::new(home.join("node_modules/.bin/azurite-blob"))
            .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string(), "--location"])
            .arg(&data)
            .args(["--silent", "--disableTelemetry"])
            .env("AZURITE_ACCOUNTS", format!("{ACCOUNT}:{key}"))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("starting azurite-blob: {e}"))?;
        let mut azurite = Azurite { url: String::new(), child, data };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = azurite.child.try_wait() {
                return Err(format!("azurite-blob exited ({status}): {}", read(&log)));
            }
            if Instant::now() > deadline {
                return Err(format!("azurite-blob did not answer on port {port} within 60 s: {}", read(&log)));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let endpoint = format!("http://127.0.0.1:{port}/{ACCOUNT}");
        node(&["-", &endpoint, ACCOUNT, &key, CONTAINER], Some(CREATE_CONTAINER))
            .map_err(|e| format!("creating the container {CONTAINER}: {e}"))?;
        azurite.url = format!("http://{ACCOUNT}:{}@127.0.0.1:{port}/{CONTAINER}", crate::s3::encode(&key));
        Ok(azurite)
    }
}

/// Installs the pinned Azurite into `home/node_modules` unless it is there.
fn install(home: &Path) -> Result<(), String> {
    let installed = std::fs::read_to_string(home.join("node_modules/azurite/package.json"))
        .is_ok_and(|p| p.contains(&format!("\"version\": \"{AZURITE_VERSION}\"")));
    if installed && home.join("node_modules/.bin/azurite-blob").exists() {
        return Ok(());
    }
    eprintln!("installing azurite@{AZURITE_VERSION} from npm into {} (once)", home.display());
    std::fs::create_dir_all(home).map_err(|e| format!("creating {}: {e}", home.display()))?;
    let manifest = format!(
        "{{\"name\": \"trackbench-azurite\", \"private\": true, \"dependencies\": {{\"azurite\": \"{AZURITE_VERSION}\"}}}}\n"
    );
    std::fs::write(home.join("package.json"), manifest).map_err(|e| format!("writing package.json: {e}"))?;
    let ok = Command::new("npm")
        .current_dir(home)
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .stdin(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return Err(format!("npm could not install azurite@{AZURITE_VERSION} into {}", home.display()));
    }
    Ok(())
}

/// Runs `node ARGS` (with `script` on its standard input), returning what it printed.
fn node(args: &[&str], script: Option<&str>) -> Result<String, String> {
    use std::io::Write;
    let mut child = Command::new("node")
        .args(args)
        .stdin(if script.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting node: {e}"))?;
    if let (Some(script), Some(mut stdin)) = (script, child.stdin.take()) {
        stdin.write_all(script.as_bytes()).map_err(|e| format!("writing to node: {e}"))?;
    }
    let out = child.wait_with_output().map_err(|e| format!("running node: {e}"))?;
    if !out.status.success() {
        return Err(format!("node exited ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The end of a log, for an error message.
fn read(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let tail: Vec<&str> = text.lines().rev().take(5).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    /// Starts a real server (slow, needs npm once: `cargo test -p xtask -- --ignored`).
    #[test]
    #[ignore]
    fn azurite_starts_with_a_container_and_checks_signatures() {
        let azure = super::Azurite::start().unwrap();
        assert!(
            azure.url.starts_with("http://trackbench:") && azure.url.ends_with("/trackbench-test"),
            "{}",
            azure.url
        );
        let host = azure.url.rsplit_once('@').unwrap().1.split('/').next().unwrap().to_string();
        let mut c = std::net::TcpStream::connect(&host).unwrap();
        write!(c, "GET /trackbench/trackbench-test?restype=container HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).unwrap();
        // Unsigned, so refused.
        let status = answer.split_whitespace().nth(1).unwrap_or("");
        assert!(status == "403" || status == "404", "{answer}");
    }
}
