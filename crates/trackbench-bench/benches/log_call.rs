//! Criterion micro benchmark: what `Run::log_at(step, &record)` costs the calling thread for a
//! 10-key record, with a real run whose writer thread stores into a temporary store.
//!
//! Target: <= 250 ns per call (median). Before each sample (untimed: criterion calls the
//! outer closure once per sample) the run is flushed, so every sample measures the caller's
//! cost while the queue has room — the steady state of a training loop — rather than the
//! back-pressure of a queue that criterion's millions of calls would otherwise fill. The
//! writer still wakes during a sample (every 256k points and every 250 ms), as it would in
//! training. At the end every logged point is checked to be stored.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use trackbench_sdk::{Run, RunOptions};
use trackbench_store::{Store, StoreOptions};

const KEYS: [&str; 10] = ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"];

fn log_call(c: &mut Criterion) {
    let dir = tempfile::Builder::new().prefix("trackbench-bench-log-call-").tempdir().expect("temporary folder");
    let mut opts = RunOptions::new("bench").name("log-call").store_dir(dir.path());
    // Room for the largest sample, so no sample waits for the writer.
    opts.max_queued_points = 32 << 20;
    let run = Run::start(opts).expect("start a run");
    let id = run.id().to_string();
    let mut step: i64 = -1;

    let mut group = c.benchmark_group("sdk");
    group.warm_up_time(Duration::from_millis(300));
    group.measurement_time(Duration::from_secs(2));
    group.bench_function("log_at_10_keys", |b| {
        run.flush().expect("flush between samples");
        b.iter(|| {
            step += 1;
            let v = step as f64 * 1e-6;
            let record = [
                (KEYS[0], v),
                (KEYS[1], v + 1.0),
                (KEYS[2], v + 2.0),
                (KEYS[3], v + 3.0),
                (KEYS[4], v + 4.0),
                (KEYS[5], v + 5.0),
                (KEYS[6], v + 6.0),
                (KEYS[7], v + 7.0),
                (KEYS[8], v + 8.0),
                (KEYS[9], v + 9.0),
            ];
            run.log_at(black_box(step), black_box(&record)).expect("log_at")
        })
    });
    group.finish();

    run.finish().expect("finish the run");
    let logged = step + 1;
    let store = Store::open(dir.path(), StoreOptions { read_only: true, ..StoreOptions::default() }).expect("open");
    let summaries = store.metric_summaries(&id).expect("summaries");
    assert_eq!(summaries.len(), KEYS.len());
    for s in &summaries {
        assert_eq!(s.count, logged, "key {}: {} points stored, {logged} logged", s.key, s.count);
    }
    println!("log_call: {logged} calls x {} keys logged, every point stored", KEYS.len());
}

criterion_group!(benches, log_call);
criterion_main!(benches);
