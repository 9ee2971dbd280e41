//! The HTTP transport against the real `trackbench serve` binary: everything logged arrives,
//! a server restart in the middle of a run loses nothing, and answers lost on the network
//! (the server stored the batch, the SDK never heard) do not store a point twice.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use trackbench_sdk::{Remote, Run, RunOptions, RunStatus};
use trackbench_store::{StepRange, Store, StoreOptions};

mod common;

use common::{TOKEN, serve};

fn remote(url: &str) -> Remote {
    Remote::new(url, Some(TOKEN.into()))
}

fn opts(url: &str) -> RunOptions {
    let mut o = RunOptions::new("remote").remote(remote(url));
    o.flush_interval = std::time::Duration::from_millis(20);
    o
}

fn stored_points(store: &Path, run: &str, key: &str) -> usize {
    let mut s = Store::open(store, StoreOptions::default()).unwrap();
    s.series(run, key, StepRange::ALL).unwrap().len()
}

#[test]
fn a_remote_run_arrives_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (mut server, url) = serve(&store, 0);
    let run = Run::start(opts(&url).name("over-http").tag("via", "http")).unwrap();
    let id = run.id().to_string();
    run.log_params(&[("lr", 0.01.into()), ("opt", "adam".into())]).unwrap();
    for step in 0..20_000 {
        let v = if step == 7 { f64::NAN } else { step as f64 };
        run.log_at(step, &[("loss", v), ("acc", 0.5)]).unwrap();
    }
    let file = dir.path().join("weights.bin");
    std::fs::write(&file, vec![7u8; 300_000]).unwrap();
    run.log_artifact(&file, None).unwrap();
    let folder = common::artifact_folder(dir.path());
    run.log_artifact(&folder, Some("config")).unwrap();
    run.finish().unwrap();

    let mut s = Store::open(&store, StoreOptions::default()).unwrap();
    let info = s.run(&id).unwrap();
    assert_eq!((info.name.as_str(), info.status), ("over-http", RunStatus::Finished));
    let loss = s.series(&id, "loss", StepRange::ALL).unwrap();
    assert_eq!(loss.len(), 20_000);
    assert!(loss.values[7].is_nan() && loss.values[8] == 8.0);
    assert_eq!(s.params(&id).unwrap().len(), 2);
    assert_eq!(s.tags(&id).unwrap(), [("via".to_string(), "http".to_string())]);
    let paths: Vec<String> = s.artifacts(&id).unwrap().into_iter().map(|a| a.path).collect();
    assert_eq!(paths, ["config/a.json", "config/sub/b name.txt", "weights.bin"]);
    server.kill().unwrap();
}

#[test]
fn a_server_restart_mid_run_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (mut server, url) = serve(&store, 0);
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let run = Run::start(opts(&url)).unwrap();
    let id = run.id().to_string();
    for step in 0..1000 {
        run.log_at(step, &[("x", step as f64)]).unwrap();
    }
    run.flush().unwrap();
    server.kill().unwrap();
    // The server is gone: logging goes on (queued, retried in the background).
    for step in 1000..3000 {
        run.log_at(step, &[("x", step as f64)]).unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (mut server, _) = serve(&store, port);
    run.finish().unwrap();
    let mut s = Store::open(&store, StoreOptions::default()).unwrap();
    let x = s.series(&id, "x", StepRange::ALL).unwrap();
    assert_eq!(x.len(), 3000, "every point, once");
    assert!(x.steps.windows(2).all(|w| w[0] < w[1]), "in order");
    assert_eq!(s.run(&id).unwrap().status, RunStatus::Finished);
    server.kill().unwrap();
}

/// A proxy that drops the server's answer to the first `drop` batch requests it relays (after
/// the server has stored them), closing the connection instead.
fn lossy_proxy(upstream: String, drop: usize) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let budget = Arc::new(AtomicUsize::new(drop));
    let dropped = Arc::new(AtomicUsize::new(0));
    let d = dropped.clone();
    let up = upstream.trim_start_matches("http://").to_string();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { break };
            let (budget, dropped, up) = (budget.clone(), d.clone(), up.clone());
            let addr = addr;
            std::thread::spawn(move || {
                let Ok(mut server) = TcpStream::connect(&up) else { return };
                let mut buf = vec![0u8; 1 << 16];
                // One request at a time: read it whole (headers + Content-Length body).
                loop {
                    let Some(mut req) = read_http_message(&mut client, &mut buf) else { return };
                    // Like a reverse proxy, present the upstream's own Host (the server refuses others).
                    let head_end = req.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0);
                    let head = String::from_utf8_lossy(&req[..head_end]).replace(&addr.to_string(), &up);
                    req = [head.as_bytes(), &req[head_end..]].concat();
                    if server.write_all(&req).is_err() {
                        return;
                    }
                    let Some(resp) = read_http_message(&mut server, &mut buf) else { return };
                    let is_batch = String::from_utf8_lossy(&req[..req.len().min(200)]).contains("/batch ");
                    if is_batch && budget.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| b.checked_sub(1)).is_ok()
                    {
                        dropped.fetch_add(1, Ordering::SeqCst);
                        let _ = client.shutdown(std::net::Shutdown::Both);
                        return;
                    }
                    if client.write_all(&resp).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), dropped)
}

/// Reads one HTTP/1.1 message with a Content-Length body (what ureq and axum send here).
fn read_http_message(s: &mut TcpStream, buf: &mut [u8]) -> Option<Vec<u8>> {
    let mut msg = Vec::new();
    loop {
        if let Some(end) = msg.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&msg[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                .unwrap_or(0);
            while msg.len() < end + 4 + len {
                let n = s.read(buf).ok().filter(|n| *n > 0)?;
                msg.extend_from_slice(&buf[..n]);
            }
            return Some(msg);
        }
        let n = s.read(buf).ok().filter(|n| *n > 0)?;
        msg.extend_from_slice(&buf[..n]);
    }
}

#[test]
fn lost_answers_never_store_a_batch_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (mut server, url) = serve(&store, 0);
    let (proxy, dropped) = lossy_proxy(url, 3);
    let run = Run::start(opts(&proxy)).unwrap();
    let id = run.id().to_string();
    for step in 0..5000 {
        run.log_at(step, &[("x", step as f64)]).unwrap();
        if step % 1000 == 999 {
            let _ = run.flush();
        }
    }
    run.finish().unwrap();
    assert_eq!(dropped.load(Ordering::SeqCst), 3, "the proxy lost three answers");
    assert_eq!(stored_points(&store, &id, "x"), 5000, "each point stored exactly once");
    server.kill().unwrap();
}

/// A server from before the binary batch: a proxy that answers a binary batch with the 415 an
/// older server gives any body that is not JSON, and relays everything else.
fn older_server(upstream: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let refused = Arc::new(AtomicUsize::new(0));
    let r = refused.clone();
    let up = upstream.trim_start_matches("http://").to_string();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { break };
            let (refused, up) = (r.clone(), up.clone());
            std::thread::spawn(move || {
                let Ok(mut server) = TcpStream::connect(&up) else { return };
                let mut buf = vec![0u8; 1 << 16];
                loop {
                    let Some(mut req) = read_http_message(&mut client, &mut buf) else { return };
                    let head_end = req.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0);
                    let head = String::from_utf8_lossy(&req[..head_end]).replace(&addr.to_string(), &up);
                    if head.to_ascii_lowercase().contains("application/x-trackbench-batch") {
                        refused.fetch_add(1, Ordering::SeqCst);
                        let body =
                            r#"{"error_code":"INVALID_PARAMETER_VALUE","message":"this endpoint takes a JSON body"}"#;
                        let resp = format!(
                            "HTTP/1.1 415 Unsupported Media Type\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if client.write_all(resp.as_bytes()).is_err() {
                            return;
                        }
                        continue;
                    }
                    req = [head.as_bytes(), &req[head_end..]].concat();
                    if server.write_all(&req).is_err() {
                        return;
                    }
                    let Some(resp) = read_http_message(&mut server, &mut buf) else { return };
                    if client.write_all(&resp).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), refused)
}

#[test]
fn an_older_server_gets_json_from_its_first_refusal_on() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (mut server, url) = serve(&store, 0);
    let (old, refused) = older_server(url);
    let run = Run::start(opts(&old)).unwrap();
    let id = run.id().to_string();
    for step in 0..3000 {
        run.log_at(step, &[("x", if step == 5 { f64::NAN } else { step as f64 })]).unwrap();
        if step % 1000 == 999 {
            run.flush().unwrap();
        }
    }
    run.finish().unwrap();
    assert_eq!(refused.load(Ordering::SeqCst), 1, "one binary batch refused, JSON from then on");
    let mut s = Store::open(&store, StoreOptions::default()).unwrap();
    let x = s.series(&id, "x", StepRange::ALL).unwrap();
    assert_eq!(x.len(), 3000, "every point, once");
    assert!(x.values[5].is_nan() && x.values[6] == 6.0);
    server.kill().unwrap();
}
