//! Stopping a replica the way systemd, Docker and Kubernetes do (SIGTERM) is a graceful stop:
//! a batch already being received is stored and answered, then the server exits cleanly.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::util::{Api, Server, TOKEN};

#[test]
fn sigterm_finishes_a_batch_in_flight_then_exits() {
    let mut s = Server::start();
    let id = s.create_run("p", "stopping");
    let steps: Vec<String> = (0..20_000).map(|i| i.to_string()).collect();
    let body = format!(r#"{{"series":[{{"key":"x","steps":[{0}],"wall_ms":[{0}],"values":[{0}]}}]}}"#, steps.join(","));
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut conn = TcpStream::connect(&addr).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "POST /api/v1/runs/{id}/batch HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (first, rest) = body.as_bytes().split_at(body.len() / 2);
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(first).unwrap();
    conn.flush().unwrap();
    // The request is being read: stop the server now, then send the rest.
    std::thread::sleep(Duration::from_millis(300));
    let pid = s.child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    std::thread::sleep(Duration::from_millis(300));
    conn.write_all(rest).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).expect("the answer to the batch in flight");
    assert!(answer.starts_with("HTTP/1.1 200"), "{}", answer.lines().next().unwrap_or_default());
    assert!(answer.contains("\"points\":20000"), "{answer}");

    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "the server did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit after SIGTERM: {status}");

    // Stored: the store holds every point of the batch.
    let store = s.store_dir();
    let out = std::process::Command::new(crate::util::bin())
        .arg("--store")
        .arg(&store)
        .args(["runs", "show", &id, "--json"])
        .output()
        .expect("trackbench runs show");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("20000"), "the run's x series holds every point: {text}");
}
