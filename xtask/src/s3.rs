//! A throwaway S3-protocol server for the tests of artifacts on object storage: moto's server
//! mode (`moto[server]`, pinned; MinIO is not installable here, moto is one `pip install`) in
//! a virtualenv under the target dir, on a free loopback port, killed when dropped.
//!
//! Before the tests see it, it gets one bucket (`trackbench-test`) and one user with every
//! right, and then authentication is switched on, so a wrong secret is refused as a real S3
//! refuses it. The tests get `TRACKBENCH_TEST_S3=http://KEY:SECRET@127.0.0.1:PORT/BUCKET`
//! (key and secret percent-encoded); without it they skip, saying why.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{new_venv, target_dir};

/// The moto release the tests run against.
const MOTO: &str = "moto[server]==5.2.5";
const MOTO_VERSION: &str = "5.2.5";
/// The bucket the tests use (each test under a prefix of its own).
const BUCKET: &str = "trackbench-test";

/// Creates the bucket and a user allowed everything, prints its key and secret, then turns
/// authentication on (every request from now on must be signed by a known key).
const SETUP: &str = r#"
import json, sys, urllib.request
import boto3
url = sys.argv[1]
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="setup", aws_secret_access_key="setup")
boto3.client("s3", **kw).create_bucket(Bucket=sys.argv[2])
iam = boto3.client("iam", **kw)
iam.create_user(UserName="trackbench")
policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
iam.put_user_policy(UserName="trackbench", PolicyName="all", PolicyDocument=json.dumps(policy))
key = iam.create_access_key(UserName="trackbench")["AccessKey"]
auth_on = urllib.request.Request(url + "/moto-api/reset-auth", data=b"0", headers={"Content-Type": "text/plain"})
urllib.request.urlopen(auth_on).read()
print(key["AccessKeyId"], key["SecretAccessKey"])
"#;

/// A running moto server; killed on drop.
pub struct S3 {
    /// `http://KEY:SECRET@127.0.0.1:PORT/BUCKET`.
    pub url: String,
    child: Child,
}

impl S3 {
    /// Starts a server, or says why it cannot (no python venv, pip could not install moto).
    pub fn start() -> Result<S3, String> {
        let venv = target_dir().join("moto-venv");
        let vpy = new_venv(&venv)?;
        let check = format!("import moto, sys; sys.exit(moto.__version__ != {MOTO_VERSION:?})");
        let have = Command::new(&vpy).args(["-c", &check]).stderr(Stdio::null()).status().is_ok_and(|s| s.success());
        if !have {
            let ok = Command::new(&vpy)
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", MOTO])
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return Err(format!("pip could not install {MOTO} into {}", venv.display()));
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("finding a free port: {e}"))?
            .port();
        let log: PathBuf = target_dir().join(format!("moto-{}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        let child = Command::new(venv.join("bin").join("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("starting moto_server: {e}"))?;
        let mut s3 = S3 { url: String::new(), child };
        let endpoint = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = s3.child.try_wait() {
                return Err(format!("moto_server exited ({status}); see {}", log.display()));
            }
            if Instant::now() > deadline {
                return Err(format!("moto_server did not answer on port {port} within 60 s; see {}", log.display()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let out = Command::new(&vpy)
            .args(["-c", SETUP, &endpoint, BUCKET])
            .output()
            .map_err(|e| format!("setting up moto: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let mut words = text.split_whitespace();
        match (out.status.success(), words.next(), words.next()) {
            (true, Some(key), Some(secret)) => {
                s3.url = format!("http://{}:{}@127.0.0.1:{port}/{BUCKET}", encode(key), encode(secret));
                Ok(s3)
            }
            _ => Err(format!("setting up moto failed: {}", String::from_utf8_lossy(&out.stderr).trim())),
        }
    }
}

/// Percent-encodes everything but unreserved characters (for URL user info).
pub(crate) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    /// Starts a real server (slow, needs PyPI once: `cargo test -p xtask -- --ignored`).
    #[test]
    #[ignore]
    fn moto_starts_with_a_bucket_and_authentication_on() {
        let s3 = super::S3::start().unwrap();
        assert!(s3.url.starts_with("http://") && s3.url.ends_with("/trackbench-test"), "{}", s3.url);
        let host = s3.url.rsplit_once('@').unwrap().1.split('/').next().unwrap().to_string();
        let mut c = std::net::TcpStream::connect(&host).unwrap();
        write!(c, "GET /trackbench-test HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).unwrap();
        // Unsigned, so refused (moto 5.2 answers 500 rather than 403 when there is no signature).
        let status = answer.split_whitespace().nth(1).unwrap_or("");
        assert!(status.starts_with('4') || status.starts_with('5'), "{answer}");
    }
}
