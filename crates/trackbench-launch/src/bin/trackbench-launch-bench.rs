//! `trackbench-launch-bench`: the launcher's overhead per job (launch -> child running, child
//! exit -> status committed) over sequential tiny jobs, and 100 queued tiny jobs under a CPU
//! limit: all finish, the limit holds, no log line is lost. Run by `cargo xtask bench`.

use std::time::Instant;

use trackbench_launch::{CancelToken, Job, LaunchOptions, Limits, Queue, launch};
use trackbench_store::{RunQuery, RunStatus, Store, StoreOptions};

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = LaunchOptions::new(dir.path());
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(50);

    // 1. Overhead of one job at a time (`true`: the child does nothing).
    let (mut start, mut end) = (Vec::new(), Vec::new());
    for i in 0..n {
        let job = Job::new("bench", "true", Vec::new());
        let r = launch(&job, &opts, &CancelToken::new()).expect("launch");
        assert_eq!(r.status, RunStatus::Finished);
        if i > 0 {
            // The first job also pays for `git` (cached per folder afterwards) and store creation.
            start.push(r.timings.launch_to_start.as_secs_f64() * 1e3);
            end.push(r.timings.exit_to_recorded.as_secs_f64() * 1e3);
        }
    }
    start.sort_by(f64::total_cmp);
    end.sort_by(f64::total_cmp);
    println!("launcher overhead over {} sequential jobs (`true`), ms:", n - 1);
    println!(
        "  launch -> child running:   median {:.2}  p95 {:.2}  max {:.2}",
        pct(&start, 0.5),
        pct(&start, 0.95),
        pct(&start, 1.0)
    );
    println!(
        "  exit -> status recorded:   median {:.2}  p95 {:.2}  max {:.2}",
        pct(&end, 0.5),
        pct(&end, 0.95),
        pct(&end, 1.0)
    );

    // 2. 100 queued jobs of 100 lines each, 4 at a time on the CPU.
    let limit = 4;
    let mut queue = Queue::new(Limits { cpu: limit, per_gpu: 1 });
    for i in 0..100 {
        let script = format!("i=0; while [ $i -lt 100 ]; do i=$((i+1)); echo job {i} line $i; done");
        let mut job = Job::new("queue", "sh", vec!["-c".into(), script]);
        job.group = Some("q".into());
        queue.push(job);
    }
    let t = Instant::now();
    let (mut running, mut max_running) = (0usize, 0usize);
    let results = queue.run(&opts, |_, ev| match ev {
        trackbench_launch::Event::Started { .. } => {
            running += 1;
            max_running = max_running.max(running);
        }
        trackbench_launch::Event::Done { .. } => running -= 1,
    });
    let wall = t.elapsed();
    let store = Store::open(dir.path(), StoreOptions::default()).expect("open");
    let runs = store.list_runs(&RunQuery { project: Some("queue".into()), ..RunQuery::default() }).expect("runs");
    let mut stored_lines = 0usize;
    for r in &runs {
        stored_lines += store.log_lines(&r.id, 0, 1_000_000).expect("lines").len();
    }
    let finished = results.iter().filter(|r| r.status == RunStatus::Finished).count();
    // Overlap from the store's own times: at each run's start, how many runs were alive.
    let max_overlap = runs
        .iter()
        .map(|r| {
            runs.iter()
                .filter(|o| o.started_ms <= r.started_ms && o.ended_ms.unwrap_or(i64::MAX) > r.started_ms)
                .count()
        })
        .max()
        .unwrap_or(0);
    println!("100 queued jobs x 100 lines, limit {limit} on cpu:");
    println!(
        "  finished {finished}/100 in {:.2}s ({:.1} jobs/s)",
        wall.as_secs_f64(),
        100.0 / wall.as_secs_f64().max(1e-9)
    );
    println!("  most running at once: {max_running} (scheduler), {max_overlap} (store times)");
    println!("  log lines stored: {stored_lines}/10000");
    let ok = finished == 100 && max_running <= limit && stored_lines == 10_000;
    println!("  {}", if ok { "OK: limit respected, no line lost" } else { "FAILED" });
    if !ok {
        std::process::exit(1);
    }
}
