//! Users, tokens and permissions on the team store: the permission table walked over every
//! route of a replica on PostgreSQL (`common/access.rs`, shared with the SQLite tests), and a
//! token revoked through the store refused at once by every replica.

#[path = "../common/access.rs"]
mod walk;

use std::process::Command;

use crate::util::{TOKEN, Team, bin};

/// `trackbench --store DB --artifacts URL ARGS`, hermetic as the replicas are.
fn cli(team: &Team, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new(bin());
    cmd.arg("--store").arg(&team.db.url).arg("--artifacts").arg(&team.artifacts.url).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("TRACKBENCH_") || k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(team.artifacts.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let out = cmd.output().expect("trackbench");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_route_checks_the_permission_of_the_project_it_touches() {
    let Some(team) = Team::new("access") else { return };
    let replica = team.replica(&[]);
    let run = |args: &[&str]| cli(&team, args);
    walk::walk(&walk::Subject { base: replica.base.clone(), admin_token: TOKEN.to_string(), cli: &run });
}

#[test]
fn a_revoked_token_is_refused_at_once_by_every_replica() {
    let Some(team) = Team::new("revoke") else { return };
    let (a, b) = (team.replica(&[]), team.replica(&[]));
    assert!(cli(&team, &["users", "add", "ana"]).0);
    let (ok, token, err) = cli(&team, &["tokens", "create", "ana"]);
    assert!(ok, "{err}");
    let auth = walk::Auth::Bearer(token.trim().to_string());
    let h = walk::Http::new();
    for r in [&a, &b] {
        let (st, who) = h.send(&r.base, &auth, "GET", "/api/v1/whoami", b"", false);
        assert_eq!((st, who["user"].as_str()), (200, Some("ana")));
    }
    assert!(cli(&team, &["tokens", "revoke", "1"]).0);
    for r in [&a, &b] {
        let (st, e) = h.send(&r.base, &auth, "GET", "/api/v1/whoami", b"", false);
        assert_eq!(st, 401, "{e}");
        assert!(e["message"].as_str().unwrap_or("").contains("revoked"), "{e}");
    }
}
