//! A server-sent-events client for the live benchmarks: each `data:` line, with the instant it
//! arrived, on a channel fed by a reader thread (shared by the main benchmark's `server` module
//! and `trackbench-team-bench`).

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::Instant;

/// Opens `url` (an `/api/v1/events` stream) with `token` and returns its events as they come.
pub(crate) fn subscribe(
    agent: &ureq::Agent,
    url: &str,
    token: &str,
) -> anyhow::Result<mpsc::Receiver<(Instant, String)>> {
    let resp = agent.get(url).header("Authorization", format!("Bearer {token}")).call()?;
    let (tx, rx) = mpsc::channel::<(Instant, String)>();
    let reader = resp.into_body().into_reader();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines().map_while(Result::ok) {
            if let Some(d) = line.strip_prefix("data: ")
                && tx.send((Instant::now(), d.to_string())).is_err()
            {
                break;
            }
        }
    });
    Ok(rx)
}
