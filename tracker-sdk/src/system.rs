//! System metrics sampled next to a run's own metrics, by the writer thread (no thread of its
//! own): process CPU % and RSS, system CPU % and memory, process disk I/O and host network I/O,
//! stored as `sys/...` series every [`crate::RunOptions::system_metrics`] (10 s by default;
//! `TRACKBENCH_SYSTEM_METRICS=0` turns them off, `=N` samples every N seconds).
//!
//! Linux only (read from `/proc`, a few small files per sample, well under 0.1% of a core at
//! the default interval); elsewhere nothing is sampled. Rates (CPU %, MB/s) need two samples, so
//! the first sample (one interval after the start) records only levels. NVIDIA GPUs add
//! `sys/gpu{i}/…` series through NVML loaded at run time ([`crate::nvml`]); no driver, no GPU
//! series.

use std::time::{Duration, Instant};

/// `sys/...` keys this module writes.
pub const KEYS: [&str; 8] = [
    "sys/cpu_percent",
    "sys/rss_mb",
    "sys/system_cpu_percent",
    "sys/system_memory_percent",
    "sys/disk_read_mb_s",
    "sys/disk_write_mb_s",
    "sys/net_rx_mb_s",
    "sys/net_tx_mb_s",
];

/// Linux's USER_HZ, the unit of `/proc/*/stat` CPU times on every mainstream architecture.
const CLOCK_TICKS: f64 = 100.0;

#[derive(Clone, Copy, Default)]
struct Counters {
    proc_ticks: f64,
    sys_busy: f64,
    sys_total: f64,
    disk_read: f64,
    disk_write: f64,
    net_rx: f64,
    net_tx: f64,
}

/// Samples at a fixed interval; `poll` returns a sample when one is due.
pub(crate) struct Sampler {
    gpus: Option<crate::nvml::Nvml>,
    interval: Duration,
    next: Instant,
    last: Option<(Instant, Counters)>,
    step: i64,
}

/// The interval from `TRACKBENCH_SYSTEM_METRICS` (seconds; 0 or "off" disables), else 10 s.
pub fn interval_from_env() -> Option<Duration> {
    match std::env::var("TRACKBENCH_SYSTEM_METRICS").ok().as_deref().map(str::trim) {
        None | Some("") => Some(Duration::from_secs(10)),
        Some("0") | Some("off") | Some("false") | Some("no") => None,
        Some(v) => match v.parse::<f64>() {
            Ok(s) if s > 0.0 && s.is_finite() => Some(Duration::from_secs_f64(s.max(0.01))),
            _ => Some(Duration::from_secs(10)),
        },
    }
}

impl Sampler {
    pub fn new(interval: Duration) -> Option<Sampler> {
        // The first sample one interval in: a run shorter than that records none.
        cfg!(target_os = "linux").then(|| Sampler {
            gpus: crate::nvml::Nvml::open(),
            interval,
            next: Instant::now() + interval,
            last: None,
            step: 0,
        })
    }

    /// `(step, [(key, value)])` when a sample is due.
    pub fn poll(&mut self) -> Option<(i64, Vec<(String, f64)>)> {
        let now = Instant::now();
        if now < self.next {
            return None;
        }
        self.next = now + self.interval;
        let c = read_counters();
        let mut out: Vec<(&'static str, f64)> = Vec::with_capacity(KEYS.len());
        if let Some(rss) = rss_mb() {
            out.push(("sys/rss_mb", rss));
        }
        if let Some(m) = memory_percent() {
            out.push(("sys/system_memory_percent", m));
        }
        if let Some((then, prev)) = self.last {
            let secs = now.duration_since(then).as_secs_f64().max(1e-3);
            let mb_s = |a: f64, b: f64| ((a - b).max(0.0) / 1e6) / secs;
            out.push(("sys/cpu_percent", (c.proc_ticks - prev.proc_ticks).max(0.0) / CLOCK_TICKS / secs * 100.0));
            let total = c.sys_total - prev.sys_total;
            if total > 0.0 {
                out.push(("sys/system_cpu_percent", (c.sys_busy - prev.sys_busy).max(0.0) / total * 100.0));
            }
            out.push(("sys/disk_read_mb_s", mb_s(c.disk_read, prev.disk_read)));
            out.push(("sys/disk_write_mb_s", mb_s(c.disk_write, prev.disk_write)));
            out.push(("sys/net_rx_mb_s", mb_s(c.net_rx, prev.net_rx)));
            out.push(("sys/net_tx_mb_s", mb_s(c.net_tx, prev.net_tx)));
        }
        self.last = Some((now, c));
        let step = self.step;
        self.step += 1;
        let mut out: Vec<(String, f64)> = out.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        if let Some(g) = &self.gpus {
            g.sample(&mut out);
        }
        Some((step, out))
    }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn read_counters() -> Counters {
    let mut c = Counters::default();
    let stat = read("/proc/self/stat");
    if let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) {
        let f: Vec<&str> = rest.split_whitespace().collect();
        let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        c.proc_ticks = t(11) + t(12); // utime + stime
    }
    if let Some(cpu) = read("/proc/stat").lines().next().filter(|l| l.starts_with("cpu ")) {
        let v: Vec<f64> = cpu.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
        let idle = v.get(3).copied().unwrap_or(0.0) + v.get(4).copied().unwrap_or(0.0);
        c.sys_total = v.iter().take(8).sum();
        c.sys_busy = c.sys_total - idle;
    }
    for line in read("/proc/self/io").lines() {
        if let Some(v) = line.strip_prefix("read_bytes:") {
            c.disk_read = v.trim().parse().unwrap_or(0.0);
        } else if let Some(v) = line.strip_prefix("write_bytes:") {
            c.disk_write = v.trim().parse().unwrap_or(0.0);
        }
    }
    for line in read("/proc/net/dev").lines().skip(2) {
        let Some((iface, rest)) = line.split_once(':') else { continue };
        if iface.trim() == "lo" {
            continue;
        }
        let v: Vec<f64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
        c.net_rx += v.first().copied().unwrap_or(0.0);
        c.net_tx += v.get(8).copied().unwrap_or(0.0);
    }
    c
}

fn kb_field(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn rss_mb() -> Option<f64> {
    kb_field(&read("/proc/self/status"), "VmRSS:").map(|kb| kb / 1024.0)
}

fn memory_percent() -> Option<f64> {
    let m = read("/proc/meminfo");
    let (total, avail) = (kb_field(&m, "MemTotal:")?, kb_field(&m, "MemAvailable:")?);
    (total > 0.0).then(|| (total - avail) / total * 100.0)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn samples_are_plausible() {
        let mut s = Sampler::new(Duration::from_millis(1)).unwrap();
        std::thread::sleep(Duration::from_millis(2));
        let (step0, first) = s.poll().unwrap();
        assert_eq!(step0, 0);
        assert!(
            first
                .iter()
                .all(|(k, _)| k == "sys/rss_mb" || k == "sys/system_memory_percent" || k.starts_with("sys/gpu")),
            "levels only"
        );
        // Burn a little CPU so the rate is not zero.
        let mut x = 0u64;
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(30) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        std::thread::sleep(Duration::from_millis(2));
        let (step1, second) = s.poll().unwrap();
        assert_eq!(step1, 1);
        let get = |k: &str| second.iter().find(|(n, _)| n == k).map(|(_, v)| *v).unwrap();
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        assert!((0.0..=100.0 * cpus + 1.0).contains(&get("sys/cpu_percent")));
        assert!((0.5..1e6).contains(&get("sys/rss_mb")));
        assert!((0.0..=100.0).contains(&get("sys/system_memory_percent")));
        assert!(get("sys/disk_read_mb_s") >= 0.0 && get("sys/net_rx_mb_s") >= 0.0);
        assert!(second.iter().all(|(k, v)| (KEYS.contains(&k.as_str()) || k.starts_with("sys/gpu")) && v.is_finite()));
    }
}

#[cfg(all(test, target_os = "linux"))]
mod cost {
    use super::*;

    /// Prints what one sample costs (recorded in BENCHMARKS.md; not asserted).
    #[test]
    fn one_sample_costs_microseconds() {
        let mut s = Sampler::new(Duration::ZERO).unwrap();
        s.poll();
        let n = 200;
        let t = Instant::now();
        for _ in 0..n {
            s.poll().unwrap();
        }
        let per = t.elapsed() / n;
        eprintln!(
            "system metrics: one sample takes {per:?}; at the default 10 s interval that is {:.4}% of one core",
            per.as_secs_f64() / 10.0 * 100.0
        );
    }
}
