//! Slow and silent clients against a real bound port (the server runs in this process, so the
//! tests can set short limits): a half-sent request head is cut off after the header timeout,
//! a stalled body after the idle timeout, others are served meanwhile, connections past the
//! cap wait their turn instead of stopping the server, and live event streams outlast both
//! timeouts. Each test ends with a graceful stop that must finish.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use trackbench_server::ServerConfig;
use trackbench_server::conn::ConnLimits;

const TOKEN: &str = "slow-client-test-token";

/// A server on a runtime of its own thread; stopped gracefully by [`InProcess::stop`].
struct InProcess {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: std::sync::mpsc::Receiver<()>,
    _dir: tempfile::TempDir,
}

impl InProcess {
    fn start(limits: ConnLimits) -> InProcess {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = ServerConfig::new(dir.path().join("store"));
        cfg.port = 0;
        cfg.token = Some(TOKEN.into());
        cfg.conn = limits;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (done_tx, done) = std::sync::mpsc::channel();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let server = trackbench_server::bind(cfg).await.expect("bind");
                ready_tx.send(server.addr).unwrap();
                server
                    .serve(async {
                        let _ = stop_rx.await;
                    })
                    .await
                    .expect("serve");
            });
            let _ = done_tx.send(());
        });
        let addr = ready_rx.recv_timeout(Duration::from_secs(60)).expect("server started");
        InProcess { addr, stop: Some(stop), done, _dir: dir }
    }

    fn connect(&self) -> TcpStream {
        let c = TcpStream::connect(self.addr).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        c
    }

    /// One whole request on a fresh connection: the raw answer.
    fn request(&self, method: &str, path: &str, headers: &str, body: &str) -> String {
        let mut c = self.connect();
        write!(
            c,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).expect("an answer");
        answer
    }

    fn health_ok(&self) -> bool {
        self.request("GET", "/api/v1/health", "", "").starts_with("HTTP/1.1 200")
    }

    /// Stops gracefully; panics when the stop does not finish.
    fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.done.recv_timeout(Duration::from_secs(30)).expect("a graceful stop finishes");
    }
}

fn short(max_connections: usize) -> ConnLimits {
    ConnLimits { header_read_timeout: Duration::from_secs(1), idle_timeout: Duration::from_secs(1), max_connections }
}

/// Reads until the server closes the connection (or resets it): how long that took.
fn closed_after(mut c: TcpStream) -> Duration {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match c.read(&mut buf) {
            Ok(0) => return start.elapsed(),
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                panic!("the connection was not closed within the read timeout")
            }
            // Reset by the server: closed too.
            Err(_) => return start.elapsed(),
        }
    }
}

#[test]
fn a_half_sent_request_is_cut_off_while_others_are_served() {
    let s = InProcess::start(short(512));
    let mut slow = s.connect();
    write!(slow, "GET /api/v1/health HTTP/1.1\r\nHost: {}\r\nX-Never: ", s.addr).unwrap();
    // Others are served while it hangs.
    assert!(s.health_ok());
    let waited = closed_after(slow);
    assert!(waited >= Duration::from_millis(500), "cut off only after the header timeout: {waited:?}");
    assert!(s.health_ok());

    // A kept-alive connection that goes quiet after its answer is closed the same way.
    let mut idle = s.connect();
    write!(idle, "GET /api/v1/health HTTP/1.1\r\nHost: {}\r\n\r\n", s.addr).unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    closed_after(idle);
    s.stop();
}

#[test]
fn a_stalled_body_is_refused_and_stores_nothing() {
    let s = InProcess::start(short(512));
    let mut c = s.connect();
    write!(
        c,
        "POST /api/v1/runs HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"project\":",
        s.addr
    )
    .unwrap();
    let mut answer = String::new();
    let _ = c.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 400") && answer.contains("could not read the request body"), "{answer}");
    let runs = s.request("GET", "/api/v1/runs", "", "");
    assert!(runs.starts_with("HTTP/1.1 200") && runs.contains(r#""runs":[]"#), "{runs}");
    s.stop();
}

#[test]
fn connections_past_the_cap_wait_until_slow_ones_are_cut() {
    // Cap 4: the first four half-open connections take every slot, so further connections
    // (six more slow ones, then a real request) wait in the accept queue. Each slow one is
    // cut a header timeout after it is accepted, and the real request is then served.
    let s = InProcess::start(short(4));
    let slow: Vec<TcpStream> = (0..10)
        .map(|_| {
            let mut c = s.connect();
            write!(c, "GET /api/v1/health HTTP/1.1\r\nHost: {}\r\n", s.addr).unwrap();
            c
        })
        .collect();
    let start = Instant::now();
    assert!(s.health_ok(), "served once the slow connections are cut");
    assert!(start.elapsed() >= Duration::from_millis(500), "it had to wait for a slot: {:?}", start.elapsed());
    for c in slow {
        closed_after(c);
    }
    assert!(s.health_ok());
    s.stop();
}

#[test]
fn live_event_streams_outlast_the_timeouts_and_end_on_stop() {
    let s = InProcess::start(short(512));
    let mut events = s.connect();
    write!(
        events,
        "GET /api/v1/events HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {TOKEN}\r\nAccept: text/event-stream\r\n\r\n",
        s.addr
    )
    .unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    let mut read_until = |seen: &mut String, what: &str| {
        while !seen.contains(what) {
            let n = events.read(&mut buf).expect("the stream stays open");
            assert!(n > 0, "the stream ended early: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    };
    read_until(&mut seen, "event: hello");
    // Quiet for longer than both timeouts, then a change still arrives.
    std::thread::sleep(Duration::from_millis(2500));
    let body = r#"{"project":"live","name":"after-the-quiet"}"#;
    let created = s.request("POST", "/api/v1/runs", "Content-Type: application/json\r\n", body);
    assert!(created.starts_with("HTTP/1.1 201"), "{created}");
    read_until(&mut seen, "event: run_created");
    // A half-open connection does not hold up the stop either.
    let mut slow = s.connect();
    write!(slow, "GET / HTTP/1.1\r\n").unwrap();
    s.stop();
}

#[cfg(unix)]
#[test]
fn running_out_of_files_does_not_stop_the_server() {
    // The real binary under an open-file limit of 64, with more half-sent requests than
    // that: accepting fails with EMFILE for a while, and once the header timeout cuts the
    // slow connections, the server accepts and answers again.
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 64 && exec \"$0\" \"$@\"")
        .arg(crate::util::bin())
        .arg("--store")
        .arg(dir.path().join("store"))
        .args(["serve", "--port", "0", "--header-timeout", "1"])
        .env("TRACKBENCH_TOKEN", TOKEN)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawning trackbench serve");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.trim().strip_prefix("open:").map(|u| u.trim().split("/?token=").next().unwrap().to_string()))
        .expect("the server printed its URL");
    std::thread::spawn(move || for _ in lines {});
    let authority = base.trim_start_matches("http://").to_string();
    let slow: Vec<TcpStream> = (0..100)
        .filter_map(|_| {
            let mut c = TcpStream::connect(&authority).ok()?;
            let _ = write!(c, "GET /api/v1/health HTTP/1.1\r\nHost: {authority}\r\n");
            Some(c)
        })
        .collect();
    assert!(slow.len() > 64, "more connections than files: {}", slow.len());
    let mut c = TcpStream::connect(&authority).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(c, "GET /api/v1/health HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = c.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "still serving: {answer:?}");
    drop(slow);
    let _ = child.kill();
    let _ = child.wait();
}
