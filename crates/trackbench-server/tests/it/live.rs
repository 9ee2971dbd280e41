//! Live updates: another process writes straight into the SQLite file; an SSE client of the
//! server sees the new run and its points.

use std::io::{BufRead, BufReader, Read, Write};
use std::time::{Duration, Instant};

use trackbench_store::{Batch, NewRun, Store, StoreOptions};

use crate::util::Server;

#[test]
fn writes_by_another_process_reach_sse_clients() {
    let s = Server::start();
    let resp = s
        .agent
        .get(s.url("/api/v1/events?project=live"))
        .header("Authorization", format!("Bearer {}", s.token))
        .call()
        .expect("events");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let (tx, rx) = std::sync::mpsc::channel::<(Instant, String, String)>();
    let reader = resp.into_body().into_reader();
    std::thread::spawn(move || {
        let mut event = String::new();
        for line in BufReader::new(reader).lines() {
            let Ok(line) = line else { break };
            if let Some(e) = line.strip_prefix("event: ") {
                event = e.to_string();
            } else if let Some(d) = line.strip_prefix("data: ")
                && tx.send((Instant::now(), event.clone(), d.to_string())).is_err()
            {
                break;
            }
        }
    });
    let next = |what: &str| rx.recv_timeout(Duration::from_secs(20)).unwrap_or_else(|_| panic!("no SSE event: {what}"));
    let (_, hello, _) = next("hello");
    assert_eq!(hello, "hello");

    // This test process is the "other process": it opens the store file itself.
    let mut store = Store::open(s.store_dir(), StoreOptions::default()).unwrap();
    store.create_run(&NewRun { project: "elsewhere".into(), ..NewRun::default() }).unwrap();
    let written = Instant::now();
    let run =
        store.create_run(&NewRun { project: "live".into(), name: Some("direct".into()), ..NewRun::default() }).unwrap();
    let (seen, kind, data) = next("run_created");
    assert_eq!(kind, "run_created", "{data}");
    assert!(data.contains(&run.id) && !data.contains("elsewhere"), "filtered to the project: {data}");
    eprintln!("live: new run seen {} ms after the write", seen.duration_since(written).as_millis());

    let mut b = Batch::default();
    for step in 0..10 {
        b.push_metric("loss", step, step, 1.0 / (step + 1) as f64);
    }
    let written = Instant::now();
    store.log_batch(&run.id, &b).unwrap();
    let (seen, kind, data) = next("points");
    assert_eq!(kind, "points", "{data}");
    let v: serde_json::Value = serde_json::from_str(&data).unwrap();
    assert_eq!(
        (v["run"].as_str(), v["key"].as_str(), v["count"].as_i64()),
        (Some(run.id.as_str()), Some("loss"), Some(10))
    );
    eprintln!("live: new points seen {} ms after the commit", seen.duration_since(written).as_millis());

    store.finish_run(&run.id, trackbench_store::RunStatus::Finished, None).unwrap();
    let (_, kind, data) = next("run_status");
    assert_eq!(kind, "run_status", "{data}");
    assert!(data.contains("finished"), "{data}");
}

#[test]
fn ctrl_c_stops_the_server_while_a_live_stream_is_open() {
    // A browser tab keeps /api/v1/events open for ever: a graceful stop must end that stream
    // instead of waiting on it.
    let mut server = Server::start();
    let authority = server.base.trim_start_matches("http://").to_string();
    let mut conn = std::net::TcpStream::connect(&authority).expect("connect");
    write!(conn, "GET /api/v1/events HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {}\r\n\r\n", server.token)
        .unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !seen.contains("event: hello") {
        let n = conn.read(&mut buf).expect("reading the event stream");
        assert!(n > 0, "the stream ended before its hello: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    // SIGINT, as Ctrl-C in the terminal.
    let status = std::process::Command::new("kill").args(["-INT", &server.child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let t = std::time::Instant::now();
    let exit = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "trackbench serve still runs 30 s after Ctrl-C with a live stream open"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "serve exited with {exit}");
    // The stream ended cleanly (the chunked body's last chunk), not by a reset.
    let mut rest = Vec::new();
    let _ = conn.read_to_end(&mut rest);
    seen.push_str(&String::from_utf8_lossy(&rest));
    assert!(
        seen.ends_with("0\r\n\r\n"),
        "the event stream ends with its last chunk: {:?}",
        &seen[seen.len().saturating_sub(80)..]
    );
}
