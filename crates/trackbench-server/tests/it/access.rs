//! Users, tokens and permissions on a server over a SQLite store: the permission table walked
//! over every route (`common/access.rs`, shared with the team tests on PostgreSQL).

#[path = "../common/access.rs"]
mod walk;

use std::process::Command;

use crate::util::{Server, bin};

#[test]
fn every_route_checks_the_permission_of_the_project_it_touches() {
    let server = Server::start();
    let store = server.store_dir();
    let cli = |args: &[&str]| {
        let out = Command::new(bin())
            .arg("--store")
            .arg(&store)
            .args(args)
            .env_remove("TRACKBENCH_STORE")
            .output()
            .expect("trackbench");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    walk::walk(&walk::Subject { base: server.base.clone(), admin_token: server.token.clone(), cli: &cli });
}
