//! The access part of the contract: users, API tokens kept as hashes (expiry, revocation, a
//! removed user's tokens), per-project grants and the default permission, each scenario run
//! on the SQLite store and on PostgreSQL (a fresh database of its own).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use common::{Database, T0, manual_clock, test_server};
use trackbench_store::backend_access::{token_hash, token_secret};
use trackbench_store::{AccessStore, Permission, Store, StoreError, TokenCheck};
use trackbench_store_pg::PgStore;

struct Backend {
    name: &'static str,
    store: Box<dyn AccessStore + Send>,
    clock: Arc<AtomicI64>,
    _db: Option<Database>,
    _dir: Option<tempfile::TempDir>,
}

fn backends() -> Vec<Backend> {
    let (opts, clock) = manual_clock();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open(dir.path(), opts).unwrap();
    let mut out = vec![Backend { name: "sqlite", store: Box::new(sqlite), clock, _db: None, _dir: Some(dir) }];
    if let Some(admin) = test_server() {
        let db = Database::create(&admin);
        let (opts, clock) = manual_clock();
        let pg = PgStore::connect(&db.url, opts).unwrap();
        out.push(Backend { name: "postgres", store: Box::new(pg), clock, _db: Some(db), _dir: None });
    }
    out
}

#[test]
fn users_are_created_listed_and_removed_alike() {
    for mut b in backends() {
        let s = &mut b.store;
        let ana = s.create_user("ana", false).unwrap();
        assert_eq!((ana.name.as_str(), ana.admin, ana.created_ms), ("ana", false, T0), "{}", b.name);
        assert!(s.create_user("root", true).unwrap().admin, "{}", b.name);
        assert!(
            matches!(s.create_user("ana", true), Err(StoreError::AlreadyExists { what: "user", .. })),
            "{}",
            b.name
        );
        for bad in ["", "a b", "x/y", &"n".repeat(65)] {
            assert!(matches!(s.create_user(bad, false), Err(StoreError::Invalid { .. })), "{}: {bad:?}", b.name);
        }
        let names: Vec<String> = s.list_users().unwrap().into_iter().map(|u| u.name).collect();
        assert_eq!(names, ["ana", "root"], "{}", b.name);
        assert_eq!(s.user("ana").unwrap(), ana, "{}", b.name);
        s.remove_user("ana").unwrap();
        assert!(matches!(s.user("ana"), Err(StoreError::NotFound { what: "user", .. })), "{}", b.name);
        assert!(matches!(s.remove_user("ana"), Err(StoreError::NotFound { .. })), "{}", b.name);
        assert_ne!(s.create_user("ana", false).unwrap().id, ana.id, "{}: ids are not reused", b.name);
    }
}

#[test]
fn tokens_are_kept_as_hashes_and_expire_and_revoke_alike() {
    for mut b in backends() {
        let s = &mut b.store;
        s.create_user("ana", false).unwrap();
        let secret = token_secret(&[7; 32]);
        let live = s.add_token("ana", &token_hash(&secret), None).unwrap();
        let short = token_secret(&[8; 32]);
        let expiring = s.add_token("ana", &token_hash(&short), Some(T0 + 1000)).unwrap();
        assert_eq!((live.user.as_str(), live.expires_ms, live.revoked_ms), ("ana", None, None), "{}", b.name);
        assert!(matches!(s.add_token("nobody", "h", None), Err(StoreError::NotFound { .. })), "{}", b.name);
        match s.check_token(&secret).unwrap() {
            TokenCheck::Valid { user, token } => assert_eq!((user.name.as_str(), token), ("ana", live.id)),
            other => panic!("{}: {other:?}", b.name),
        }
        assert!(matches!(s.check_token(&short).unwrap(), TokenCheck::Valid { .. }), "{}", b.name);
        assert_eq!(s.check_token(&token_secret(&[9; 32])).unwrap(), TokenCheck::Unknown, "{}", b.name);
        b.clock.fetch_add(1000, Ordering::SeqCst);
        let s = &mut b.store;
        assert_eq!(s.check_token(&short).unwrap(), TokenCheck::Expired, "{}", b.name);
        s.revoke_token(live.id).unwrap();
        s.revoke_token(live.id).unwrap(); // twice is fine
        assert_eq!(s.check_token(&secret).unwrap(), TokenCheck::Revoked, "{}", b.name);
        assert!(matches!(s.revoke_token(987_654), Err(StoreError::NotFound { what: "token", .. })), "{}", b.name);
        let listed = s.list_tokens(Some("ana")).unwrap();
        assert_eq!(listed.iter().map(|t| t.id).collect::<Vec<_>>(), [live.id, expiring.id], "{}", b.name);
        assert_eq!(listed[0].revoked_ms, Some(T0 + 1000), "{}", b.name);
        // A removed user's tokens are gone with them.
        let other = token_secret(&[10; 32]);
        s.add_token("ana", &token_hash(&other), None).unwrap();
        s.remove_user("ana").unwrap();
        assert_eq!(s.check_token(&other).unwrap(), TokenCheck::Unknown, "{}", b.name);
        assert!(s.list_tokens(None).unwrap().is_empty(), "{}", b.name);
    }
}

#[test]
fn permissions_come_from_grants_then_the_default_alike() {
    for mut b in backends() {
        let s = &mut b.store;
        let ana = s.create_user("ana", false).unwrap();
        let root = s.create_user("root", true).unwrap();
        s.create_user("bob", false).unwrap();
        let vision = s.create_project("vision").unwrap().id;
        let nlp = s.create_project("nlp").unwrap().id;
        assert_eq!(s.default_permission().unwrap(), None, "{}", b.name);
        assert_eq!(s.permission(&ana, vision).unwrap(), None, "{}", b.name);
        assert_eq!(s.permission(&root, vision).unwrap(), Some(Permission::Manage), "{}: admins manage all", b.name);
        s.grant(vision, "ana", Permission::Read).unwrap();
        s.grant(vision, "ana", Permission::Edit).unwrap(); // replaces
        s.grant(vision, "bob", Permission::Manage).unwrap();
        assert_eq!(s.permission(&ana, vision).unwrap(), Some(Permission::Edit), "{}", b.name);
        assert_eq!(s.permission(&ana, nlp).unwrap(), None, "{}", b.name);
        s.set_default_permission(Some(Permission::Read)).unwrap();
        assert_eq!(s.permission(&ana, nlp).unwrap(), Some(Permission::Read), "{}", b.name);
        let all: Vec<(String, String, Permission)> =
            s.grants(None).unwrap().into_iter().map(|g| (g.project, g.user, g.permission)).collect();
        assert_eq!(
            all,
            [("vision".into(), "ana".into(), Permission::Edit), ("vision".into(), "bob".into(), Permission::Manage)],
            "{}",
            b.name
        );
        assert_eq!(s.user_grants("ana").unwrap().len(), 1, "{}", b.name);
        assert!(s.revoke_grant(vision, "ana").unwrap(), "{}", b.name);
        assert!(!s.revoke_grant(vision, "ana").unwrap(), "{}", b.name);
        assert_eq!(s.permission(&ana, vision).unwrap(), Some(Permission::Read), "{}: the default again", b.name);
        s.set_default_permission(None).unwrap();
        assert_eq!(s.permission(&ana, vision).unwrap(), None, "{}", b.name);
        assert!(matches!(s.grant(987_654, "ana", Permission::Read), Err(StoreError::ProjectNotFound(_))), "{}", b.name);
        assert!(matches!(s.grant(vision, "nobody", Permission::Read), Err(StoreError::NotFound { .. })), "{}", b.name);
        s.remove_user("bob").unwrap();
        assert!(s.grants(Some(vision)).unwrap().is_empty(), "{}: grants go with their user", b.name);
    }
}
