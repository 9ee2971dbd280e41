//! Orphan detection: runs this host's launchers started whose launcher is gone. A launcher
//! that dies (killed, power loss) stops heartbeating, so the store soon shows its runs as
//! `crashed`; the next launcher on the host ends them for good: it stops the orphaned child's
//! process group if it is still there (checked by the run id in its environment, so a reused
//! pid is never signalled) and marks the run `failed` with the reason.

use trackbench_store::prelude::*;
use trackbench_store::{RunQuery, RunStatus};

use crate::job::host_name;
use crate::process::kill_group;

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}

/// True when process `pid` runs with `TRACKBENCH_RUN_ID=run` in its environment.
fn runs_for(pid: i32, run: &str) -> bool {
    let needle = format!("TRACKBENCH_RUN_ID={run}");
    std::fs::read(format!("/proc/{pid}/environ"))
        .is_ok_and(|env| env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()))
}

/// Ends the runs of dead launchers on this host; returns their ids.
pub fn reap_orphans(store: &mut dyn Backend) -> trackbench_store::Result<Vec<String>> {
    let host = host_name();
    let q = RunQuery { filter: Some("status = 'running' or status = 'crashed'".into()), ..RunQuery::default() };
    let mut reaped = Vec::new();
    for run in store.list_runs(&q)? {
        let tags = store.tags(&run.id)?;
        let tag = |k: &str| tags.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        if tag("launch.host").as_deref() != Some(host.as_str()) {
            continue;
        }
        let Some(launcher) = tag("launch.launcher_pid").and_then(|p| p.parse::<i32>().ok()) else { continue };
        if alive(launcher) {
            continue;
        }
        if let Some(child) = tag("launch.pid").and_then(|p| p.parse::<i32>().ok())
            && runs_for(child, &run.id)
        {
            kill_group(child, libc::SIGKILL);
        }
        let why = format!("its launcher (pid {launcher}) died; the run was left without a supervisor");
        store.finish_run(&run.id, RunStatus::Failed, Some(&why))?;
        reaped.push(run.id);
    }
    Ok(reaped)
}
