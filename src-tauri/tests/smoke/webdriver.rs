//! A minimal W3C WebDriver client (JSON over `ureq`) for tauri-driver: sessions, elements,
//! script execution, screenshots.

use std::path::Path;

use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// A WebDriver session over one keep-alive HTTP agent (tauri-driver resets connections that
/// are opened and closed per request).
pub struct Driver {
    pub agent: ureq::Agent,
    pub base: String,
}

impl Driver {
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let resp = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, b) => self.agent.post(&url).send_json(b.unwrap_or(json!({}))),
        };
        let mut resp = resp.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = resp.status();
        let v: Value = resp.body_mut().read_json().map_err(|e| format!("{method} {path}: bad JSON: {e}"))?;
        if !status.is_success() {
            return Err(format!("{method} {path}: {status}: {}", v["value"]));
        }
        Ok(v)
    }
}

pub struct Session<'a> {
    pub d: &'a Driver,
    pub id: String,
}

impl Session<'_> {
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        self.d.call(method, &format!("/session/{}{path}", self.id), body).map(|v| v["value"].clone())
    }

    pub fn url(&self) -> String {
        self.call("GET", "/url", None).unwrap().as_str().unwrap_or_default().to_string()
    }

    pub fn go(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url }))).unwrap();
    }

    pub fn find_all(&self, css: &str) -> Vec<String> {
        let v =
            self.call("POST", "/elements", Some(json!({"using": "css selector", "value": css}))).unwrap_or_default();
        v.as_array()
            .map(|a| a.iter().filter_map(|e| e.as_object()?.values().next()?.as_str().map(String::from)).collect())
            .unwrap_or_default()
    }

    pub fn wait_for(&self, css: &str, at_least: usize, timeout: Duration) -> Vec<String> {
        let t = Instant::now();
        loop {
            let found = self.find_all(css);
            if found.len() >= at_least {
                return found;
            }
            if t.elapsed() > timeout {
                let body = self.script("return document.body ? document.body.innerText.slice(0, 500) : ''", json!([]));
                panic!(
                    "`{css}`: found {} of {at_least} after {timeout:?}; page at {} shows: {body}",
                    found.len(),
                    self.url()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn text(&self, el: &str) -> String {
        self.call("GET", &format!("/element/{el}/text"), None).unwrap().as_str().unwrap_or_default().to_string()
    }

    pub fn attr(&self, el: &str, name: &str) -> String {
        self.call("GET", &format!("/element/{el}/attribute/{name}"), None)
            .unwrap()
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn script(&self, body: &str, args: Value) -> Value {
        self.call("POST", "/execute/sync", Some(json!({ "script": body, "args": args })))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn script_async(&self, body: &str, args: Value) -> Value {
        self.call("POST", "/execute/async", Some(json!({ "script": body, "args": args })))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn screenshot(&self, dir: &Path, name: &str) {
        std::thread::sleep(Duration::from_secs(1)); // let the frame land
        let b64 = self.call("GET", "/screenshot", None).unwrap();
        let png = base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap_or_default()).unwrap();
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(name), png).unwrap();
        println!("screenshot: {}", dir.join(name).display());
    }
}
