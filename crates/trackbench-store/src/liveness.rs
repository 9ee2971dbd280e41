//! Is the process that holds a run open still there? Instant crash detection on this machine.
//!
//! A run records which process holds it: host name, pid, the process's start time (Linux:
//! field 22 of `/proc/PID/stat`, clock ticks since boot) and a boot key (the kernel's boot id
//! plus the pid namespace, so a reboot or a container's own pids are never confused with this
//! machine's). When a `running` run's host and boot key are this machine's, the store asks a
//! [`ProcessProbe`] whether that pid still runs with that start time; if not (gone, a zombie,
//! or the pid reused by another process), the run reads `crashed` at once. Every other run
//! (another host, another boot, an older store without the record) reads `crashed` only when
//! its heartbeat is older than the timeout, as before.
//!
//! The probe is injectable ([`crate::StoreOptions::process_probe`]), so tests can fake
//! processes; [`LocalProcesses`] is the real one. Only running runs of this host whose
//! heartbeat is still fresh are probed (one small `/proc` read each), and nothing is cached:
//! each read asks again.

use std::sync::{Arc, OnceLock};

/// Answers, for this machine, whether a process still runs. See the module docs.
pub trait ProcessProbe: Send + Sync {
    /// This machine's host name, as runs record it; `None`: judge no run by its process.
    fn host(&self) -> Option<&str>;
    /// This machine's boot key (boot id and pid namespace); `None`: judge no run.
    fn boot(&self) -> Option<&str>;
    /// Start time of process `pid` in clock ticks since boot; `None` when no such process
    /// runs (a zombie, already dead but not yet reaped, counts as gone).
    fn start_ticks(&self, pid: i64) -> Option<i64>;
}

/// Which process holds a run open: enough for a [`ProcessProbe`] on the same machine to tell
/// whether it still runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessIdentity {
    pub host: String,
    pub pid: i64,
    pub start_ticks: i64,
    pub boot: String,
}

impl ProcessIdentity {
    /// True when this process runs on the machine `probe` sees now: same host and boot, and
    /// its pid has the recorded start time.
    pub fn runs_under(&self, probe: &dyn ProcessProbe) -> bool {
        probe.host() == Some(self.host.as_str())
            && probe.boot() == Some(self.boot.as_str())
            && probe.start_ticks(self.pid) == Some(self.start_ticks)
    }

    /// The calling process, when the platform can say (Linux); `None` elsewhere.
    pub fn current() -> Option<ProcessIdentity> {
        let local = LocalProcesses::shared();
        let pid = i64::from(std::process::id());
        Some(ProcessIdentity {
            host: local.host()?.to_string(),
            pid,
            start_ticks: local.start_ticks(pid)?,
            boot: local.boot()?.to_string(),
        })
    }
}

/// The real probe: `/proc` on Linux (no run is judged elsewhere).
#[derive(Debug, Clone)]
pub struct LocalProcesses {
    host: Option<String>,
    boot: Option<String>,
}

impl LocalProcesses {
    /// Reads this machine's host name and boot key once per process.
    pub fn shared() -> Arc<LocalProcesses> {
        static LOCAL: OnceLock<Arc<LocalProcesses>> = OnceLock::new();
        LOCAL.get_or_init(|| Arc::new(LocalProcesses { host: local_host(), boot: local_boot() })).clone()
    }
}

impl ProcessProbe for LocalProcesses {
    fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    fn boot(&self) -> Option<&str> {
        self.boot.as_deref()
    }

    fn start_ticks(&self, pid: i64) -> Option<i64> {
        if pid <= 0 || pid > i64::from(i32::MAX) {
            return None;
        }
        let stat = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
        parse_stat(&stat)
    }
}

/// This machine's host name (`/proc/sys/kernel/hostname`, the same as `gethostname`): what the
/// SDK records as a run's host, so the probe's comparison is with the same definition.
pub fn local_host() -> Option<String> {
    let h = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    Some(h.trim().to_string()).filter(|h| !h.is_empty())
}

/// `<boot id>/<pid namespace>`: equal only for processes of one boot that see the same pids.
fn local_boot() -> Option<String> {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let ns = std::fs::read_link("/proc/self/ns/pid").ok()?;
    let boot = boot.trim();
    (!boot.is_empty()).then(|| format!("{boot}/{}", ns.display()))
}

/// Start time (field 22) of a `/proc/PID/stat` line; `None` for zombies and dead processes.
/// The command name (field 2) is in parentheses and may itself hold spaces and parentheses,
/// so fields are counted from the last `)`.
pub(crate) fn parse_stat(stat: &[u8]) -> Option<i64> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    // Field 3, the state: Z (zombie) and X (dead) hold a run open no more.
    let state = fields.next()?;
    if matches!(state, "Z" | "X" | "x") {
        return None;
    }
    // Fields 4..=21 skipped; field 22 is the start time.
    fields.nth(18)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_start_time_is_field_22_even_with_odd_command_names() {
        let line = b"4242 (we (ird) name) S 1 4242 4242 0 -1 4194560 1 0 0 0 3 4 0 0 20 0 1 0 987654 1000 100";
        assert_eq!(parse_stat(line), Some(987654));
        let zombie = b"4242 (x) Z 1 4242 4242 0 -1 4194560 1 0 0 0 3 4 0 0 20 0 1 0 987654 0 0";
        assert_eq!(parse_stat(zombie), None);
        assert_eq!(parse_stat(b"garbage"), None);
        assert_eq!(parse_stat(b"1 (x) S 1 2"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_is_alive_with_its_own_start_time() {
        let me = ProcessIdentity::current().expect("linux has /proc");
        let local = LocalProcesses::shared();
        assert_eq!(local.start_ticks(me.pid), Some(me.start_ticks));
        assert_eq!(local.host(), Some(me.host.as_str()));
        assert_eq!(local.start_ticks(0), None);
        assert_eq!(local.start_ticks(i64::from(i32::MAX)), None, "no such pid");
    }
}
