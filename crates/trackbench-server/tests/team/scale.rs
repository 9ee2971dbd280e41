//! The scale test (bounded, loopback): 16 writers spread over two replicas send numbered
//! batches for a fixed time (`TRACKBENCH_TEAM_SCALE_SECS`, default 30), retrying a failed
//! batch through the other replica with the same writer id and number; midway one replica is
//! killed with SIGKILL. Then every series is read back and compared step by step: every
//! acknowledged point is stored exactly once, and a batch never acknowledged is stored whole
//! once or not at all.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::util::{Replica, Team, batch_json, report};

const WRITERS: usize = 16;
const POINTS_PER_BATCH: i64 = 200;
/// How long a writer keeps retrying one batch (over both replicas) before giving it up.
const RETRY_FOR: Duration = Duration::from_secs(60);
/// Every this many batches, a writer sends an acknowledged batch again through the other
/// replica, as a client whose answer was lost does: so every run checks the retry path, not
/// only the batches the kill happens to cut.
const RESEND_EVERY: i64 = 25;

/// The value writer `w` logs at `step`: exact in binary, distinct per writer and step.
fn value(w: usize, step: i64) -> f64 {
    w as f64 * 1e7 + step as f64 * 0.5
}

fn steps_of(seq: i64) -> std::ops::Range<i64> {
    seq * POINTS_PER_BATCH..(seq + 1) * POINTS_PER_BATCH
}

/// What one writer did.
#[derive(Default)]
struct Outcome {
    acked: Vec<i64>,
    given_up: Vec<i64>,
    /// Batches acknowledged as already stored (an earlier attempt committed, its answer lost).
    duplicates: usize,
    /// Failed attempts (a refused or cut connection, a 5xx).
    failures: usize,
    /// Batches acknowledged by the replica that was not this writer's own.
    failed_over: usize,
    /// Acknowledged batches sent again through the other replica (each answered as a duplicate).
    resent: usize,
}

fn write_for(replicas: &[Replica; 2], w: usize, run: &str, until: Instant) -> Outcome {
    let writer = format!("scale-writer-{w}");
    let home = w % 2;
    let mut target = home;
    let mut out = Outcome::default();
    let mut seq = 0;
    while Instant::now() < until {
        seq += 1;
        let steps: Vec<i64> = steps_of(seq).collect();
        let values: Vec<f64> = steps.iter().map(|&s| value(w, s)).collect();
        let body = batch_json(&writer, seq, "m", &steps, &values);
        let started = Instant::now();
        loop {
            match replicas[target].try_batch(run, &body) {
                Ok((200, v)) => {
                    out.acked.push(seq);
                    out.duplicates += usize::from(v["duplicate"] == true);
                    out.failed_over += usize::from(target != home);
                    if seq % RESEND_EVERY == 0 && resend(replicas, 1 - target, run, &body, w, seq) {
                        out.resent += 1;
                    }
                    break;
                }
                Ok((status, v)) if status < 500 && status != 429 => {
                    panic!("writer {w}: batch {seq} refused: {status} {v}")
                }
                Ok(_) | Err(_) => {
                    out.failures += 1;
                    if started.elapsed() > RETRY_FOR {
                        out.given_up.push(seq);
                        break;
                    }
                    target = 1 - target;
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
    }
    out
}

/// Sends an acknowledged batch again through `replicas[via]`: it must be answered as already
/// stored. `false` when that replica is gone.
fn resend(replicas: &[Replica; 2], via: usize, run: &str, body: &str, w: usize, seq: i64) -> bool {
    match replicas[via].try_batch(run, body) {
        Ok((200, v)) => {
            assert_eq!(v["duplicate"], true, "writer {w}: batch {seq} sent again is recognised: {v}");
            true
        }
        _ => false,
    }
}

#[test]
fn sixteen_writers_over_two_replicas_one_killed_store_every_point_once() {
    let Some(team) = Team::new("scale") else { return };
    let secs: u64 =
        std::env::var("TRACKBENCH_TEAM_SCALE_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(30).clamp(2, 600);
    let replicas = [team.replica(&[]), team.replica(&[])];
    let runs: Vec<String> = (0..WRITERS).map(|w| replicas[w % 2].create_run("scale", &format!("writer-{w}"))).collect();

    let start = Instant::now();
    let until = start + Duration::from_secs(secs);
    let (outcomes, killed_at) = std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .iter()
            .enumerate()
            .map(|(w, run)| {
                let replicas = &replicas;
                scope.spawn(move || write_for(replicas, w, run, until))
            })
            .collect();
        std::thread::sleep(Duration::from_secs(secs) / 2);
        replicas[1].kill();
        let killed_at = start.elapsed();
        let outcomes: Vec<Outcome> = handles.into_iter().map(|h| h.join().expect("writer")).collect();
        (outcomes, killed_at)
    });
    let elapsed = start.elapsed();

    // Read every series back through the replica left, and compare step by step.
    let survivor = &replicas[0];
    let mut stored_total = 0usize;
    for (w, (run, out)) in runs.iter().zip(&outcomes).enumerate() {
        let (steps, values) = survivor.series(run, "m");
        let mut seen: BTreeMap<i64, usize> = BTreeMap::new();
        for (s, v) in steps.iter().zip(&values) {
            assert_eq!(*v, value(w, *s), "writer {w}: step {s} holds another value");
            *seen.entry(*s).or_default() += 1;
        }
        for &seq in &out.acked {
            for s in steps_of(seq) {
                assert_eq!(seen.remove(&s), Some(1), "writer {w}: acknowledged batch {seq}, step {s}: stored once");
            }
        }
        for &seq in &out.given_up {
            let counts: Vec<usize> = steps_of(seq).map(|s| seen.remove(&s).unwrap_or(0)).collect();
            assert!(
                counts.iter().all(|&c| c == 0) || counts.iter().all(|&c| c == 1),
                "writer {w}: unacknowledged batch {seq} stored partly or twice: {counts:?}"
            );
        }
        assert!(
            seen.is_empty(),
            "writer {w}: steps stored that no batch sent: {:?}",
            seen.keys().take(10).collect::<Vec<_>>()
        );
        let (_, m) = survivor.get(&format!("/api/v1/runs/{run}/metrics"));
        assert_eq!(m["metrics"][0]["count"], steps.len(), "writer {w}: the summary counts what is stored: {m}");
        stored_total += steps.len();
    }

    let acked: usize = outcomes.iter().map(|o| o.acked.len()).sum();
    let given_up: usize = outcomes.iter().map(|o| o.given_up.len()).sum();
    let points = acked as i64 * POINTS_PER_BATCH;
    report(&format!(
        "scale: {WRITERS} writers, 2 replicas, {secs} s (replica 2 killed at {:.1} s): {acked} batches acknowledged \
         ({points} points, {:.0} points/s, {:.0} batches/s), {} acknowledged as duplicates, {} failed over, \
         {} failed attempts, {} sent again on purpose, {given_up} given up; {stored_total} points stored",
        killed_at.as_secs_f64(),
        points as f64 / elapsed.as_secs_f64(),
        acked as f64 / elapsed.as_secs_f64(),
        outcomes.iter().map(|o| o.duplicates).sum::<usize>(),
        outcomes.iter().map(|o| o.failed_over).sum::<usize>(),
        outcomes.iter().map(|o| o.failures).sum::<usize>(),
        outcomes.iter().map(|o| o.resent).sum::<usize>(),
    ));
    assert!(acked > WRITERS, "the writers got batches through");
    for (w, o) in outcomes.iter().enumerate().filter(|(w, _)| w % 2 == 1) {
        assert!(o.failed_over > 0, "writer {w}, whose replica was killed, carried on through the other");
    }
}
