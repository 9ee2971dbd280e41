//! The machine a run measured on (CPU, memory, kernel, load, date), for `BENCHMARKS.md`.

use std::process::{Command, Stdio};

pub(crate) fn utc_now() -> String {
    // `2026-11-29 06:03:37` -> `2026-11-29 06:03 UTC`
    let t = trackbench_store::format_utc(trackbench_store::now_ms());
    format!("{} UTC", &t[..16])
}

fn command_line(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).stderr(Stdio::null()).output().ok()?;
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !s.is_empty()).then_some(s)
}

fn proc_field(file: &str, field: &str) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == field).then(|| v.trim().to_string())
    })
}

pub(crate) fn machine_info() -> Vec<(&'static str, String)> {
    let unknown = || "unknown".to_string();
    let mem = proc_field("/proc/meminfo", "MemTotal")
        .and_then(|v| v.trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_else(unknown);
    let nproc = command_line("nproc", &[])
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.to_string()))
        .unwrap_or_else(unknown);
    vec![
        ("date", utc_now()),
        ("cpu", proc_field("/proc/cpuinfo", "model name").unwrap_or_else(unknown)),
        ("nproc", nproc),
        ("memory", mem),
        ("rustc", command_line("rustc", &["--version"]).unwrap_or_else(|| "rustc not found on PATH".into())),
        (
            "kernel",
            std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| unknown()),
        ),
        ("load average", loadavg()),
        ("build", if cfg!(debug_assertions) { "debug (numbers are meaningless)".into() } else { "release".into() }),
    ]
}

pub(crate) fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
