//! Contract scenarios for differences the MLflow client suite found between the backends when
//! it ran against `trackbench serve` on PostgreSQL + S3 (`conftest.py`'s team mode). Each
//! scenario runs on the SQLite store and on PostgreSQL (a fresh database of its own) and must
//! read the same on both.

mod common;

use common::{Database, manual_clock, test_server};
use trackbench_store::{Batch, MetricStore, NewRun, RunQuery, Store, StoreError};
use trackbench_store_pg::PgStore;

/// A backend under test and what must outlive it.
struct Backend {
    name: &'static str,
    store: Box<dyn MetricStore>,
    _db: Option<Database>,
    _dir: Option<tempfile::TempDir>,
}

/// SQLite, and PostgreSQL when a test server is there.
fn backends() -> Vec<Backend> {
    let (opts, _clock) = manual_clock();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open(dir.path(), opts).unwrap();
    let mut out = vec![Backend { name: "sqlite", store: Box::new(sqlite), _db: None, _dir: Some(dir) }];
    if let Some(admin) = test_server() {
        let db = Database::create(&admin);
        let (opts, _clock) = manual_clock();
        let pg = PgStore::connect(&db.url, opts).unwrap();
        out.push(Backend { name: "postgres", store: Box::new(pg), _db: Some(db), _dir: None });
    }
    out
}

/// The names of the runs of `proj` a filter selects, sorted.
fn names(b: &Backend, filter: &str) -> Vec<String> {
    let q = RunQuery { project: Some("proj".into()), filter: Some(filter.into()), ..RunQuery::default() };
    let runs = b.store.list_runs(&q).unwrap_or_else(|e| panic!("{}: {filter}: {e}", b.name));
    let mut n: Vec<String> = runs.into_iter().map(|r| r.name).collect();
    n.sort();
    n
}

/// MLflow sends every param as a string, and its users write `params.lr > '0.2'`. A numeric
/// string compared by order compares the number only; the compiler still binds the text (used
/// by `=` and `!=`), and PostgreSQL refused the query with a bound parameter the SQL did not
/// use ("could not determine data type of parameter"): a 500 from `runs/search`.
#[test]
fn a_param_ordered_against_a_numeric_string_compares_the_number() {
    for mut b in backends() {
        for (name, lr) in [("a", "0.1"), ("b", "0.2"), ("c", "0.3"), ("d", "x")] {
            let id =
                b.store.create_run(&NewRun { project: "proj".into(), name: Some(name.into()), ..NewRun::default() });
            let batch = Batch { params: vec![("lr".into(), serde_json::json!(lr))], ..Batch::default() };
            b.store.log_batch(&id.unwrap().id, &batch).unwrap();
        }
        let n = b.name;
        let check = |filter: &str, expect: &[&str]| assert_eq!(names(&b, filter), expect, "{n}: {filter}");
        check("params.lr > '0.2'", &["c"]);
        check("params.lr >= '0.2'", &["b", "c"]);
        check("params.lr < '0.2'", &["a"]);
        check("params.lr <= '0.2'", &["a", "b"]);
        check("params.lr > '0.2' or params.lr = 'x'", &["c", "d"]);
        check("params.lr = '0.2'", &["b"]);
    }
}

/// A project's id is MLflow's experiment id. On PostgreSQL every run created in a project took
/// a value from the projects' id sequence (an `INSERT … ON CONFLICT DO NOTHING` that met the
/// name), so the next experiment was numbered 16 where SQLite numbers it 4. Ids are opaque, but
/// both backends number the same history alike.
#[test]
fn project_ids_do_not_grow_with_the_runs_created_in_them() {
    for mut b in backends() {
        let n = b.name;
        let first = b.store.create_project("first").unwrap().id;
        for _ in 0..3 {
            b.store.create_run(&NewRun { project: "first".into(), ..NewRun::default() }).unwrap();
        }
        b.store.create_run(&NewRun { project: "second".into(), ..NewRun::default() }).unwrap();
        b.store.create_run(&NewRun { project: "second".into(), ..NewRun::default() }).unwrap();
        assert_eq!(b.store.project("second").unwrap().id, first + 1, "{n}: made by its first run");
        assert_eq!(b.store.ensure_project("first").unwrap(), first, "{n}");
        assert!(matches!(b.store.create_project("second"), Err(StoreError::ProjectExists(_))), "{n}");
        assert_eq!(b.store.create_project("third").unwrap().id, first + 2, "{n}");
    }
}
