//! Instant crash detection: a running run whose process on this host is gone (or whose pid
//! now names another process) reads `crashed` in every status read at once; runs of other
//! hosts and boots wait for the heartbeat timeout.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use trackbench_store::{
    Change, DEFAULT_HEARTBEAT_TIMEOUT_MS, NewRun, ProcessIdentity, ProcessProbe, RunQuery, RunStatus, Store,
    StoreOptions,
};

use crate::util::T0;

/// A machine named `here` whose processes the test decides.
#[derive(Default)]
struct FakeProcesses {
    procs: Mutex<HashMap<i64, i64>>,
    probes: AtomicI64,
}

impl FakeProcesses {
    fn start(&self, pid: i64, ticks: i64) {
        self.procs.lock().unwrap().insert(pid, ticks);
    }
    fn kill(&self, pid: i64) {
        self.procs.lock().unwrap().remove(&pid);
    }
}

impl ProcessProbe for FakeProcesses {
    fn host(&self) -> Option<&str> {
        Some("here")
    }
    fn boot(&self) -> Option<&str> {
        Some("boot-1")
    }
    fn start_ticks(&self, pid: i64) -> Option<i64> {
        self.probes.fetch_add(1, Ordering::SeqCst);
        self.procs.lock().unwrap().get(&pid).copied()
    }
}

struct T {
    store: Store,
    procs: Arc<FakeProcesses>,
    clock: Arc<AtomicI64>,
    _dir: tempfile::TempDir,
}

fn store() -> T {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(AtomicI64::new(T0));
    let procs = Arc::new(FakeProcesses::default());
    let c = clock.clone();
    let opts = StoreOptions {
        clock: Arc::new(move || c.load(Ordering::SeqCst)),
        process_probe: Some(procs.clone()),
        ..StoreOptions::default()
    };
    T { store: Store::open(dir.path(), opts).unwrap(), procs, clock, _dir: dir }
}

fn held(host: &str, pid: i64, ticks: i64, boot: &str) -> NewRun {
    let mut new = NewRun { project: "p".into(), ..NewRun::default() };
    new.held_by(&ProcessIdentity { host: host.into(), pid, start_ticks: ticks, boot: boot.into() });
    new
}

fn status(s: &Store, id: &str) -> RunStatus {
    s.run(id).unwrap().status
}

fn listed(s: &Store, filter: Option<&str>) -> Vec<(String, RunStatus)> {
    let q = RunQuery { filter: filter.map(String::from), ..RunQuery::default() };
    s.list_runs(&q).unwrap().into_iter().map(|r| (r.id, r.status)).collect()
}

#[test]
fn a_killed_local_process_reads_crashed_at_once_everywhere() {
    let mut t = store();
    t.procs.start(100, 5000);
    let id = t.store.create_run(&held("here", 100, 5000, "boot-1")).unwrap().id;
    let mut cursor = t.store.change_cursor().unwrap();
    assert_eq!(status(&t.store, &id), RunStatus::Running);
    assert_eq!(listed(&t.store, Some("status = 'running'")), vec![(id.clone(), RunStatus::Running)]);

    t.procs.kill(100);
    assert_eq!(status(&t.store, &id), RunStatus::Crashed, "no heartbeat timeout needed");
    assert_eq!(listed(&t.store, None), vec![(id.clone(), RunStatus::Crashed)]);
    assert_eq!(listed(&t.store, Some("status = 'crashed'")), vec![(id.clone(), RunStatus::Crashed)]);
    assert!(listed(&t.store, Some("status = 'running'")).is_empty());
    assert_eq!(
        t.store.poll_changes(&mut cursor).unwrap(),
        vec![Change::RunStatus { run: id.clone(), project: "p".into(), status: RunStatus::Crashed }]
    );
    // The stored status is untouched: a resume by a live process makes it running again.
    t.procs.start(200, 7000);
    let me = ProcessIdentity { host: "here".into(), pid: 200, start_ticks: 7000, boot: "boot-1".into() };
    t.store.resume_run_as(&id, Some(&me)).unwrap();
    assert_eq!(status(&t.store, &id), RunStatus::Running);
    assert_eq!(t.store.run(&id).unwrap().pid, Some(200));
    t.store.finish_run(&id, RunStatus::Finished, None).unwrap();
    t.procs.kill(200);
    assert_eq!(status(&t.store, &id), RunStatus::Finished, "ended runs are never probed");
}

#[test]
fn a_reused_pid_reads_crashed() {
    let mut t = store();
    t.procs.start(100, 5000);
    let id = t.store.create_run(&held("here", 100, 5000, "boot-1")).unwrap().id;
    assert_eq!(status(&t.store, &id), RunStatus::Running);
    // The process died and another one got its pid.
    t.procs.start(100, 9000);
    assert_eq!(status(&t.store, &id), RunStatus::Crashed);
    assert_eq!(listed(&t.store, Some("status = 'crashed'")).len(), 1);
}

#[test]
fn runs_of_other_hosts_and_boots_wait_for_the_heartbeat_timeout() {
    let mut t = store();
    // Pid 100 does not run here, but these runs are not this machine's (or this boot's).
    let remote = t.store.create_run(&held("elsewhere", 100, 5000, "boot-1")).unwrap().id;
    let rebooted = t.store.create_run(&held("here", 100, 5000, "boot-0")).unwrap().id;
    let unrecorded = t.store.create_run(&NewRun {
        project: "p".into(),
        host: Some("here".into()),
        pid: Some(100),
        ..NewRun::default()
    });
    let unrecorded = unrecorded.unwrap().id;
    for id in [&remote, &rebooted, &unrecorded] {
        assert_eq!(status(&t.store, id), RunStatus::Running, "{id}");
    }
    assert_eq!(listed(&t.store, Some("status = 'running'")).len(), 3);
    t.clock.fetch_add(DEFAULT_HEARTBEAT_TIMEOUT_MS - 1, Ordering::SeqCst);
    assert_eq!(listed(&t.store, Some("status = 'running'")).len(), 3);
    t.clock.fetch_add(2, Ordering::SeqCst);
    for id in [&remote, &rebooted, &unrecorded] {
        assert_eq!(status(&t.store, id), RunStatus::Crashed, "{id}");
    }
}

#[test]
fn only_fresh_running_runs_of_this_host_are_probed() {
    let mut t = store();
    t.procs.start(100, 5000);
    let live = t.store.create_run(&held("here", 100, 5000, "boot-1")).unwrap().id;
    for i in 0..50 {
        let id = t.store.create_run(&held("here", 1000 + i, 1, "boot-1")).unwrap().id;
        t.store.finish_run(&id, RunStatus::Finished, None).unwrap();
        t.store.create_run(&held("elsewhere", 1000 + i, 1, "boot-1")).unwrap();
    }
    t.procs.probes.store(0, Ordering::SeqCst);
    assert_eq!(listed(&t.store, None).len(), 101);
    assert_eq!(t.procs.probes.load(Ordering::SeqCst), 1, "one probe: the one live run of this host");
    t.procs.probes.store(0, Ordering::SeqCst);
    assert_eq!(status(&t.store, &live), RunStatus::Running);
    assert_eq!(t.procs.probes.load(Ordering::SeqCst), 1);
    // Nothing is remembered: the next read asks again.
    t.procs.kill(100);
    assert_eq!(status(&t.store, &live), RunStatus::Crashed);
}

#[test]
fn a_resume_keeps_a_live_holder_and_replaces_a_dead_one() {
    let mut t = store();
    // A launcher (pid 100) holds the run; its child (pid 101) attaches through the SDK.
    t.procs.start(100, 5000);
    t.procs.start(101, 5001);
    let id = t.store.create_run(&held("here", 100, 5000, "boot-1")).unwrap().id;
    let child = ProcessIdentity { host: "here".into(), pid: 101, start_ticks: 5001, boot: "boot-1".into() };
    t.store.resume_run_as(&id, Some(&child)).unwrap();
    assert_eq!(t.store.run(&id).unwrap().pid, Some(100), "the live launcher stays the holder");
    t.procs.kill(101);
    assert_eq!(status(&t.store, &id), RunStatus::Running, "the child ending does not crash the run");
    // A resume with no process to record (a remote client) drops a dead holder's record.
    t.procs.kill(100);
    assert_eq!(status(&t.store, &id), RunStatus::Crashed);
    t.store.resume_run(&id).unwrap();
    assert_eq!(status(&t.store, &id), RunStatus::Running);
}
