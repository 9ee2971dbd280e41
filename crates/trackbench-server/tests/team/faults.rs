//! Faults: a database or an artifact store that is not there (or refuses us) when a replica
//! starts is a clear error and a non-zero exit; a database lost mid-run answers 503 while the
//! SDK keeps retrying, and once it is back every point logged is stored exactly once.

use std::time::{Duration, Instant};

use trackbench_sdk::{Remote, Run, RunOptions};

use crate::util::{S3, TOKEN, Team, batch_json, refused, report, serve_command, skipped, test_postgres, unique};

/// A replica that cannot start must say so well within this.
const START_LIMIT: Duration = Duration::from_secs(60);

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

#[test]
fn a_database_not_there_at_start_is_a_clear_error() {
    let Some(admin) = test_postgres() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let artifacts = format!("file://{}", dir.path().display());
    let secret = "pw-not-for-logs-7319";
    let port = closed_port();
    // Nothing listens there; and a database that does not exist on the real server.
    let base = admin.rsplit_once('/').map(|(b, _)| b).expect("URL with a database");
    let real_host = base.rsplit_once('@').map(|(_, h)| h).expect("USER@HOST:PORT");
    let missing = unique("missing");
    for (url, names) in [
        (format!("postgres://trackbench:{secret}@127.0.0.1:{port}/teamdb"), format!("127.0.0.1:{port}")),
        (format!("postgres://postgres:{secret}@{real_host}/{missing}"), missing.clone()),
    ] {
        let (status, stderr) = refused(serve_command(&url, &artifacts, &[], &[]), START_LIMIT);
        report(&format!("database not there ({names}): exit {status}, says: {}", stderr.trim()));
        assert!(!status.success(), "exits non-zero: {stderr}");
        assert!(stderr.contains(&names), "the message names the database ({names}): {stderr}");
        assert!(!stderr.contains(secret), "the message shows no password: {stderr}");
    }
}

#[test]
fn an_artifact_store_not_there_at_start_is_a_clear_error() {
    let Some(team) = Team::new("badbucket") else { return };
    let db = &team.db.url;
    // No artifact store named at all (an empty `--artifacts` is none).
    let (status, stderr) = refused(serve_command(db, "", &[], &[]), START_LIMIT);
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("--artifacts") && stderr.contains("TRACKBENCH_ARTIFACTS"), "{stderr}");

    // A folder that cannot be made: its parent is not there.
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("no-such-parent").join("blobs");
    let (status, stderr) = refused(serve_command(db, &format!("file://{}", folder.display()), &[], &[]), START_LIMIT);
    report(&format!("artifact folder without a parent: exit {status}, says: {}", stderr.trim()));
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains(&folder.display().to_string()), "names the folder: {stderr}");

    let Some(s3) = S3::from_env() else {
        skipped("S3 faults at start: TRACKBENCH_TEST_S3 is not set");
        return;
    };
    let bucket = unique("nobucket").replace('_', "-");
    let cases = [
        ("bucket missing", format!("s3://{bucket}/p"), s3.env(&s3.key, &s3.secret), vec![bucket.clone()]),
        (
            "wrong secret",
            format!("s3://{}/p", s3.bucket),
            s3.env(&s3.key, "not-the-secret"),
            vec!["AWS_SECRET_ACCESS_KEY".to_string()],
        ),
        (
            "unknown key",
            format!("s3://{}/p", s3.bucket),
            s3.env("AKIANOSUCHKEY0000000", "whatever"),
            vec!["AWS_ACCESS_KEY_ID".to_string()],
        ),
        (
            "endpoint not there",
            format!("s3://{}/p", s3.bucket),
            {
                let mut env = s3.env(&s3.key, &s3.secret);
                env[0].1 = format!("http://127.0.0.1:{}", closed_port());
                env
            },
            vec!["AWS_ENDPOINT_URL".to_string()],
        ),
    ];
    for (what, url, env, names) in cases {
        let (status, stderr) = refused(serve_command(db, &url, &env, &[]), START_LIMIT);
        report(&format!("{what}: exit {status}, says: {}", stderr.trim()));
        assert!(!status.success(), "{what}: exits non-zero: {stderr}");
        for n in &names {
            assert!(stderr.contains(n.as_str()), "{what}: the message names {n}: {stderr}");
        }
        assert!(
            !stderr.contains(&s3.secret) && !stderr.contains("not-the-secret"),
            "{what}: no secret shown: {stderr}"
        );
    }
}

/// Lets the database's connections in again when dropped.
struct Restore<'a>(&'a crate::util::Database);

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        let _ = self.0.restore();
    }
}

#[test]
fn a_database_lost_mid_run_answers_503_and_the_sdk_stores_every_point_once() {
    let Some(team) = Team::new("lost") else { return };
    let a = team.replica(&[]);
    let live = a.events("project=lost");
    let mut opts = RunOptions::new("lost").name("through-an-outage");
    let mut remote = Remote::new(a.base.clone(), Some(TOKEN.into()));
    // Bounds how long a failing test takes to end (the run's drop flushes, retrying).
    remote.retry_for = Duration::from_secs(60);
    opts.remote = Some(remote);
    opts.system_metrics = None;
    opts.capture_context = false;
    opts.flush_interval = Duration::from_millis(50);
    let run = Run::start(opts).expect("run on the team server");
    let id = run.id().to_string();
    let value = |step: i64| (step as f64).sqrt();
    for step in 0..200 {
        run.log_at(step, &[("x", value(step))]).expect("log");
        if step % 50 == 49 {
            run.flush().expect("flush before the outage");
        }
    }

    team.db.cut_off();
    let lost = Instant::now();
    // Dropped before the run: a failing assertion lets the database back in first, so the
    // run's drop (a flush) does not retry against a database that never returns.
    let _back = Restore(&team.db);
    // Writes (and reads) answer 503 while the database is gone.
    let probe = batch_json("probe", 1, "probe", &[0], &[1.0]);
    let (status, v) = loop {
        let (status, v) = a.try_batch(&id, &probe).expect("the replica answers without its database");
        if status == 503 || lost.elapsed() > Duration::from_secs(20) {
            break (status, v);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status, 503, "a write without the database: {v}");
    assert_eq!(v["error_code"], "TEMPORARILY_UNAVAILABLE", "{v}");
    assert_eq!(a.get(&format!("/api/v1/runs/{id}")).0, 503, "a read without the database");

    // The SDK logs on; its flush waits, retrying, until the database is back.
    for step in 200..400 {
        run.log_at(step, &[("x", value(step))]).expect("log during the outage");
    }
    let outage = Duration::from_secs(3);
    let flushed_at = std::thread::scope(|scope| {
        let flushing = scope.spawn(|| {
            run.flush().expect("the flush succeeds once the database is back");
            Instant::now()
        });
        std::thread::sleep(outage);
        assert!(!flushing.is_finished(), "the flush cannot finish while the database is gone");
        assert!(team.db.restore(), "letting the database back in");
        flushing.join().expect("flush")
    });
    report(&format!(
        "database lost for {:.1} s; the SDK's flush finished {} ms after it was back",
        lost.elapsed().as_secs_f64() - flushed_at.elapsed().as_secs_f64(),
        flushed_at.duration_since(lost + outage).as_millis()
    ));
    for step in 400..410 {
        run.log_at(step, &[("x", value(step))]).expect("log after the outage");
    }
    run.finish().expect("finish");

    let (steps, values) = a.series(&id, "x");
    assert_eq!(steps, (0..410).collect::<Vec<_>>(), "every step logged, each stored once");
    assert_eq!(values, (0..410).map(value).collect::<Vec<_>>());
    let (_, m) = a.get(&format!("/api/v1/runs/{id}/metrics"));
    let x = m["metrics"].as_array().expect("metrics").iter().find(|m| m["key"] == "x").expect("x").clone();
    assert_eq!(x["count"], 410, "{m}");
    // The replica's watcher found the database again: live events flow.
    live.wait_for("points", Duration::from_secs(20), |d| d["run"] == id.as_str() && d["last_step"] == 409)
        .expect("live events after the database came back");
}
