//! A throwaway single-node Slurm cluster for the tests of launching runs on Slurm: the system's
//! Slurm and MUNGE (installed with apt-get when missing and we are root), a private `munged`, a
//! `slurmctld` and a `slurmd` for this machine, all under one fresh folder below the target dir
//! (conf, state, spool, logs, pid files, the MUNGE key and socket) on free ports, stopped and
//! removed when dropped. `cargo xtask slurm` keeps one running for hand testing.
//!
//! Nothing outside that folder is touched: the daemons and clients find the private MUNGE socket
//! through `AuthInfo=socket=…` in the private `slurm.conf` (pass `-f CONF` to the daemons,
//! `SLURM_CONF=CONF` to the clients), so the system's `/etc/munge`, `/run/munge` and
//! `/etc/slurm` stay as they are. One partition, `debug` (the default, no time limit), one node
//! that claims 16 CPUs whatever the machine has (`SlurmdParameters=config_overrides`: the test
//! tasks mostly sleep, and tests running side by side each need a few slots at once) and no
//! GPUs; no accounting (`sacct` has nothing: ended jobs stay in `scontrol show job` for 10
//! minutes). `slurmd` starts jobs as their users, so it needs root: others get a skip.
//!
//! The tests get the conf's path in `TRACKBENCH_TEST_SLURM`; without it they skip, saying why.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::{apt_install, is_root, target_dir, which};

/// A running cluster; its jobs cancelled, its daemons stopped and its folder removed on drop.
pub struct Slurm {
    /// The cluster's `slurm.conf` (for `SLURM_CONF`).
    pub conf: PathBuf,
    dir: PathBuf,
}

/// The daemons; each writes `NAME.pid` in the cluster's folder.
const DAEMONS: [&str; 3] = ["slurmd", "slurmctld", "munged"];

/// A program on PATH or in the sbin folders (root's PATH has them, others' often not).
fn find(name: &str) -> Option<PathBuf> {
    which(name).or_else(|| {
        ["/usr/sbin", "/sbin", "/usr/bin", "/usr/local/sbin"]
            .iter()
            .map(|d| Path::new(d).join(name))
            .find(|p| p.is_file())
    })
}

/// The programs the cluster needs, or the names of those missing.
fn programs() -> Result<[PathBuf; 3], Vec<&'static str>> {
    let daemons = ["munged", "slurmctld", "slurmd"].map(|n| (n, find(n)));
    let clients = ["sbatch", "sinfo", "squeue", "scancel", "scontrol"].map(|n| (n, find(n)));
    let missing: Vec<&str> = daemons.iter().chain(&clients).filter(|(_, p)| p.is_none()).map(|(n, _)| *n).collect();
    match daemons {
        [(_, Some(m)), (_, Some(c)), (_, Some(d))] if missing.is_empty() => Ok([m, c, d]),
        _ => Err(missing),
    }
}

/// The folder the clusters' folders go in: below the target dir unless that makes the MUNGE
/// socket's path too long for a Unix socket (108 bytes with the NUL).
fn parent() -> PathBuf {
    let under_target = target_dir().join("slurm-test");
    if under_target.as_os_str().len() + "/4194304/munge.socket".len() < 100 {
        under_target
    } else {
        std::env::temp_dir().join("trackbench-slurm-test")
    }
}

impl Slurm {
    /// Starts a cluster and waits for its node to be idle, or says why it cannot.
    pub fn start() -> Result<Slurm, String> {
        let started = Instant::now();
        if !is_root() {
            // slurmd runs each job as its user, and slurm.conf says SlurmUser=root.
            return Err(match programs() {
                Ok(_) => "slurmd must run as root to start jobs, and this is not root".into(),
                Err(missing) => format!("no {} and not root to install Slurm and MUNGE", missing.join(", ")),
            });
        }
        let [munged, slurmctld, slurmd] = match programs() {
            Ok(p) => p,
            Err(missing) if which("apt-get").is_some() => {
                eprintln!("no {}; installing slurm-wlm and munge with apt-get for the Slurm tests", missing.join(", "));
                // faketime: the clock-skew test runs a launcher and its task with the clock moved.
                if !apt_install(&["slurm-wlm", "munge", "faketime"]) {
                    return Err("apt-get install slurm-wlm munge faketime failed".into());
                }
                programs().map_err(|m| format!("slurm-wlm and munge installed, but {} not found", m.join(", ")))?
            }
            Err(missing) => return Err(format!("no {} and no apt-get to install Slurm and MUNGE", missing.join(", "))),
        };
        let parent = parent();
        stop_leftovers(&parent);
        let dir = parent.join(std::process::id().to_string());
        for sub in ["state", "spool"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        }
        // Dropped on every error below: whatever started is stopped, the folder removed.
        let slurm = Slurm { conf: dir.join("slurm.conf"), dir: dir.clone() };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Every user's jobs reach the MUNGE socket in here; the key inside stays 0600.
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755));
        }
        let host = short_hostname()?;
        let (ctld_port, slurmd_port) = free_ports()?;
        let socket = dir.join("munge.socket");
        write_key(&dir.join("munge.key"))?;
        std::fs::write(&slurm.conf, conf(&dir, &host, ctld_port, slurmd_port))
            .map_err(|e| format!("writing {}: {e}", slurm.conf.display()))?;

        // MUNGE refuses to run as root without --force; it forks and returns once it serves.
        let d = |name: &str| dir.join(name).to_string_lossy().into_owned();
        slurm.daemon(
            &munged,
            &[
                "--force",
                &format!("--socket={}", socket.display()),
                &format!("--key-file={}", d("munge.key")),
                &format!("--pid-file={}", d("munged.pid")),
                &format!("--seed-file={}", d("munged.seed")),
                &format!("--log-file={}", d("munged.log")),
            ],
        )?;
        let conf = slurm.conf.to_string_lossy().into_owned();
        slurm.daemon(&slurmctld, &["-f", &conf])?;
        slurm.daemon(&slurmd, &["-f", &conf, "-N", &host])?;

        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let state = slurm.client("sinfo", &["-h", "-o", "%T"], Duration::from_secs(15));
            if state.as_deref().is_ok_and(|s| s.trim() == "idle") {
                break;
            }
            if let Some(name) = DAEMONS.iter().find(|n| slurm.pid(n).is_none() && dir.join(format!("{n}.pid")).exists())
            {
                return Err(format!("{name} exited: {}", slurm.logs()));
            }
            if Instant::now() > deadline {
                let state = state.unwrap_or_else(|e| e);
                return Err(format!("the node is not idle after 60 s (sinfo: {}): {}", state.trim(), slurm.logs()));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        eprintln!(
            "started a throwaway Slurm cluster in {:.1} s (SLURM_CONF={})",
            started.elapsed().as_secs_f64(),
            slurm.conf.display()
        );
        Ok(slurm)
    }

    /// Starts a daemon that forks into the background (its early output to `start.log`).
    fn daemon(&self, program: &Path, args: &[&str]) -> Result<(), String> {
        let name = program.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let log = self.dir.join("start.log");
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| format!("creating {}: {e}", log.display()))?;
        // A file, not a pipe: the daemon keeps what it inherits open for as long as it runs.
        let status = Command::new(program)
            .args(args)
            .current_dir(&self.dir)
            .env("SLURM_CONF", &self.conf)
            .stdin(Stdio::null())
            .stdout(out.try_clone().map_err(|e| e.to_string())?)
            .stderr(out)
            .status()
            .map_err(|e| format!("starting {name}: {e}"))?;
        if !status.success() {
            return Err(format!("{name} exited ({status}): {}", self.logs()));
        }
        Ok(())
    }

    /// Runs a Slurm client against this cluster, returning its stdout (or why it failed).
    fn client(&self, name: &str, args: &[&str], limit: Duration) -> Result<String, String> {
        let program = find(name).ok_or(format!("no {name}"))?;
        let mut c = Command::new(program);
        c.args(args).env("SLURM_CONF", &self.conf).current_dir(&self.dir);
        run_for(c, limit)
    }

    /// The pid in `NAME.pid` when that process runs and is ours (its command line names our
    /// folder: a pid file from a crashed run may name a pid reused since).
    fn pid(&self, name: &str) -> Option<i32> {
        let pid: i32 = std::fs::read_to_string(self.dir.join(format!("{name}.pid"))).ok()?.trim().parse().ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let ours = String::from_utf8_lossy(&cmdline).contains(&*self.dir.to_string_lossy());
        (ours && alive(pid)).then_some(pid)
    }

    /// The end of each daemon's log, for an error message.
    fn logs(&self) -> String {
        ["start.log", "munged.log", "slurmctld.log", "slurmd.log"]
            .iter()
            .filter_map(|f| {
                let text = std::fs::read_to_string(self.dir.join(f)).ok()?;
                let tail: Vec<&str> = text.lines().rev().take(8).collect();
                (!tail.is_empty()).then(|| format!("{f}: {}", tail.into_iter().rev().collect::<Vec<_>>().join(" | ")))
            })
            .collect::<Vec<_>>()
            .join(" || ")
    }
}

impl Drop for Slurm {
    fn drop(&mut self) {
        // Jobs first: a job's slurmstepd (and so the job) outlives a stopped slurmd.
        if self.pid("slurmctld").is_some() {
            let _ = self.client("scancel", &["--partition=debug"], Duration::from_secs(15));
            let deadline = Instant::now() + Duration::from_secs(20);
            while !steps_of(&self.conf).is_empty() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        // Then slurmd (and any step still there) while slurmctld and munged still answer it: it
        // tells slurmctld it is going, and without an answer waits MessageTimeout (10 s) first.
        stop(&self.pid("slurmd").into_iter().chain(steps_of(&self.conf)).collect::<Vec<_>>());
        stop(&["slurmctld", "munged"].iter().filter_map(|n| self.pid(n)).collect::<Vec<_>>());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `slurm.conf` for one node, this machine, in `dir`.
fn conf(dir: &Path, host: &str, ctld_port: u16, slurmd_port: u16) -> String {
    let d = dir.display();
    // More than the cores: test tasks mostly sleep, and several tests share the node at once.
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).max(16);
    // A bit below what is free: slurmd drains a node that has less memory than it claims.
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kib = |key: &str| -> Option<u64> {
        meminfo.lines().find(|l| l.starts_with(key))?.split_whitespace().nth(1)?.parse().ok()
    };
    let free_mib = kib("MemAvailable:").or(kib("MemTotal:")).unwrap_or(1 << 20) / 1024;
    let memory = (free_mib * 9 / 10).max(1);
    format!(
        "# A throwaway single-node cluster made by `cargo xtask` (xtask/src/slurm.rs); removed when it stops.
ClusterName=trackbench-test
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={d}/munge.socket
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
# Quick for tests: a cancelled job's processes get 2 s between SIGTERM and SIGKILL, ended
# jobs stay visible to `scontrol show job` for 10 minutes, the scheduler looks every second.
KillWait=2
MinJobAge=600
MaxArraySize=1001
MaxJobCount=100000
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
SchedulerParameters=sched_interval=1,bf_interval=1
# The node may claim more CPUs than the machine has (see `cpus`).
SlurmdParameters=config_overrides
NodeName={host} NodeHostname={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"
    )
}

/// This machine's name up to the first dot (slurmctld checks SlurmctldHost against it).
fn short_hostname() -> Result<String, String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| Command::new("hostname").output().ok().map(|o| String::from_utf8_lossy(&o.stdout).into_owned()))
        .unwrap_or_default();
    let short = name.trim().split('.').next().unwrap_or("").to_string();
    if short.is_empty() { Err("this machine has no hostname".into()) } else { Ok(short) }
}

/// Two distinct free TCP ports (slurmctld and slurmd listen on every address).
fn free_ports() -> Result<(u16, u16), String> {
    let bind = || std::net::TcpListener::bind("0.0.0.0:0").map_err(|e| format!("finding a free port: {e}"));
    // Both held at once, so they differ.
    let (a, b) = (bind()?, bind()?);
    let port = |l: &std::net::TcpListener| l.local_addr().map(|a| a.port()).map_err(|e| e.to_string());
    Ok((port(&a)?, port(&b)?))
}

/// A fresh MUNGE key: 1024 random bytes, readable by its owner only (munged checks).
fn write_key(path: &Path) -> Result<(), String> {
    use std::io::Read;
    let mut key = vec![0u8; 1024];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .map_err(|e| format!("reading /dev/urandom: {e}"))?;
    std::fs::write(path, &key).map_err(|e| format!("writing {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("chmod {}: {e}", path.display()))?;
    }
    Ok(())
}

/// Runs `c` for at most `limit`, returning its stdout, or why it failed (with its stderr).
fn run_for(mut c: Command, limit: Duration) -> Result<String, String> {
    use std::io::Read;
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting {c:?}: {e}"))?;
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{c:?} did not finish within {} s", limit.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut out, mut err) = (String::new(), String::new());
    let _ = child.stdout.take().map(|mut s| s.read_to_string(&mut out));
    let _ = child.stderr.take().map(|mut s| s.read_to_string(&mut err));
    if status.success() { Ok(out) } else { Err(format!("{status}: {}", err.trim())) }
}

/// Whether process `pid` runs (a zombie whose parent does not reap it counts as gone).
fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')))
}

unsafe extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
}
const SIGHUP: i32 = 1;
const SIGINT: i32 = 2;
const SIGKILL: i32 = 9;
const SIGTERM: i32 = 15;

/// SIGTERM to each, up to 15 s for all to exit, then SIGKILL to those left.
fn stop(pids: &[i32]) {
    for &pid in pids {
        // SAFETY: kill(2) with a pid that `Slurm::pid` or `steps_of` checked is one of ours.
        unsafe { kill(pid, SIGTERM) };
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while pids.iter().any(|&p| alive(p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    for &pid in pids.iter().filter(|&&p| alive(p)) {
        // SAFETY: as above.
        unsafe { kill(pid, SIGKILL) };
    }
}

/// The `slurmstepd` processes of the cluster whose conf is `conf`.
fn steps_of(conf: &Path) -> Vec<i32> {
    let want = format!("SLURM_CONF={}", conf.display());
    let Ok(procs) = std::fs::read_dir("/proc") else { return Vec::new() };
    procs
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "slurmstepd"))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == want.as_bytes()))
        })
        .collect()
}

/// Stops and removes clusters that earlier runs left behind when they were killed before
/// stopping theirs (each folder is named by the pid of the xtask that made it; our own pid's
/// folder is one too, from a run whose pid was reused).
fn stop_leftovers(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for e in entries.flatten() {
        let pid = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok());
        let ours = pid == Some(std::process::id() as i32);
        if pid.is_some_and(|pid| alive(pid) && !ours) {
            continue;
        }
        eprintln!("stopping a test Slurm cluster left behind in {}", e.path().display());
        drop(Slurm { conf: e.path().join("slurm.conf"), dir: e.path() });
    }
}

static STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_signal(_: i32) {
    STOP.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// `cargo xtask slurm`: a cluster for hand testing, until stdin closes (Ctrl-D) or SIGINT,
/// SIGTERM or SIGHUP; prints the `export` lines that point clients and tests at it.
pub fn dev() -> ExitCode {
    let slurm = match Slurm::start() {
        Ok(s) => s,
        Err(why) => {
            eprintln!("could not start a Slurm cluster: {why}");
            return ExitCode::FAILURE;
        }
    };
    for sig in [SIGHUP, SIGINT, SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe { signal(sig, on_signal) };
    }
    println!("export SLURM_CONF={}", slurm.conf.display());
    println!("export TRACKBENCH_TEST_SLURM={}", slurm.conf.display());
    eprintln!("the cluster runs until stdin closes (Ctrl-D) or Ctrl-C; then it is stopped and removed");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = tx.send(());
    });
    while !STOP.load(std::sync::atomic::Ordering::SeqCst) {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            _ => break,
        }
    }
    eprintln!("stopping the Slurm cluster");
    drop(slurm);
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    /// Starts a real cluster and runs a job on it (slow, needs root and Slurm:
    /// `cargo test -p xtask -- --ignored`).
    #[test]
    #[ignore]
    fn slurm_starts_and_runs_a_job() {
        let slurm = super::Slurm::start().unwrap();
        let id = slurm.client("sbatch", &["--parsable", "--wrap", "echo hi"], Duration::from_secs(15)).unwrap();
        let id = id.trim().to_string();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let job = slurm.client("scontrol", &["-o", "show", "job", &id], Duration::from_secs(15)).unwrap();
            if job.contains("JobState=COMPLETED") {
                break;
            }
            assert!(Instant::now() < deadline, "{job}");
            std::thread::sleep(Duration::from_millis(200));
        }
        let out = std::fs::read_to_string(slurm.dir.join(format!("slurm-{id}.out"))).unwrap();
        assert_eq!(out.trim(), "hi");
        let conf = slurm.conf.clone();
        drop(slurm);
        assert!(!conf.exists());
    }
}
