//! The models part of the contract: logged models (tags, write-once params, metrics, run
//! outputs, status, deletion) and the registry (registered models, numbered versions, tags,
//! stages, aliases), each scenario run on the SQLite store and on PostgreSQL (a fresh
//! database of its own). A scenario asserts what it expects on each backend and writes a
//! transcript of everything it read and every error it got; the transcripts must be equal.

mod common;

use std::fmt::Debug;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Barrier};

use common::{Database, T0, manual_clock, test_server};
use trackbench_store::{ModelStatus, ModelStore, NewLoggedModel, NewModelVersion, NewRun, Result, Store, StoreError};
use trackbench_store_pg::PgStore;

/// A backend under test: its store, its manual clock, a way to open another store on the same
/// data (for concurrent writers), and what must outlive the store.
struct Backend {
    name: &'static str,
    store: Box<dyn ModelStore + Send>,
    clock: Arc<AtomicI64>,
    open_another: Box<dyn Fn() -> Box<dyn ModelStore + Send>>,
    _db: Option<Database>,
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    fn advance(&self, ms: i64) {
        self.clock.fetch_add(ms, Ordering::SeqCst);
    }
}

/// SQLite, and PostgreSQL when a test server is there.
fn backends() -> Vec<Backend> {
    let (opts, clock) = manual_clock();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::open(dir.path(), opts.clone()).unwrap();
    let root = dir.path().to_path_buf();
    let another = move || -> Box<dyn ModelStore + Send> { Box::new(Store::open(&root, opts.clone()).unwrap()) };
    let mut out = vec![Backend {
        name: "sqlite",
        store: Box::new(sqlite),
        clock,
        open_another: Box::new(another),
        _db: None,
        _dir: Some(dir),
    }];
    if let Some(admin) = test_server() {
        let db = Database::create(&admin);
        let (opts, clock) = manual_clock();
        let pg = PgStore::connect(&db.url, opts.clone()).unwrap();
        let url = db.url.clone();
        let another = move || -> Box<dyn ModelStore + Send> { Box::new(PgStore::connect(&url, opts.clone()).unwrap()) };
        out.push(Backend {
            name: "postgres",
            store: Box::new(pg),
            clock,
            open_another: Box::new(another),
            _db: Some(db),
            _dir: None,
        });
    }
    out
}

/// What a scenario read, one line per observation, with logged model ids (random) replaced
/// by their order of creation.
#[derive(Default)]
struct Transcript {
    lines: Vec<String>,
    ids: Vec<String>,
}

impl Transcript {
    /// Names logged model `id` `<m1>`, `<m2>`… in the lines that follow.
    fn id(&mut self, id: &str) {
        self.ids.push(id.to_string());
    }

    fn note(&mut self, what: &str, value: impl Debug) {
        let mut line = format!("{what}: {value:?}");
        for (i, id) in self.ids.iter().enumerate() {
            line = line.replace(id, &format!("<m{}>", i + 1));
        }
        self.lines.push(line);
    }
}

/// Runs `scenario` on every backend; their transcripts must be equal.
fn same_on_every_backend(scenario: fn(&mut Backend) -> Transcript) {
    let mut first: Option<(&str, Vec<String>)> = None;
    for mut b in backends() {
        let got = scenario(&mut b).lines;
        match &first {
            None => first = Some((b.name, got)),
            Some((name, want)) => {
                for (i, (w, g)) in want.iter().zip(&got).enumerate() {
                    assert_eq!(w, g, "line {i}: {name} (left) and {} (right) differ", b.name);
                }
                assert_eq!(want.len(), got.len(), "{name} and {} wrote transcripts of different lengths", b.name);
            }
        }
    }
}

fn invalid<T>(r: &Result<T>) -> bool {
    matches!(r, Err(StoreError::Invalid { .. }))
}

fn not_found<T>(r: &Result<T>, kind: &str) -> bool {
    matches!(r, Err(StoreError::NotFound { what, .. }) if *what == kind)
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

const RUN: &str = "r0000000000000000000000000000001";
const OTHER_RUN: &str = "r0000000000000000000000000000002";

fn new_model(project: &str, name: &str) -> NewLoggedModel {
    NewLoggedModel { project: project.into(), name: name.into(), ..NewLoggedModel::default() }
}

fn new_version(name: &str, source: &str) -> NewModelVersion {
    NewModelVersion { name: name.into(), source: source.into(), ..NewModelVersion::default() }
}

fn run_in(s: &mut dyn ModelStore, uid: &str, project: &str) {
    s.create_run_with_id(uid, &NewRun { project: project.into(), ..NewRun::default() }).unwrap();
}

#[test]
fn logged_models_are_created_listed_finalized_and_deleted_alike() {
    same_on_every_backend(|b| {
        let mut t = Transcript::default();
        let n = b.name;
        run_in(&mut *b.store, RUN, "p");
        let a = b
            .store
            .create_logged_model(&NewLoggedModel {
                source_run: Some(RUN.into()),
                model_type: Some("sklearn".into()),
                tags: pairs(&[("k", "v"), ("team", "nlp"), ("k", "v2")]),
                params: pairs(&[("lr", "0.1"), ("depth", "4")]),
                ..new_model("p", "alpha")
            })
            .unwrap();
        t.id(&a.id);
        assert!(a.id.starts_with("m-") && a.id.len() == 34, "{n}: {}", a.id);
        assert_eq!((a.status, a.created_ms, a.updated_ms), (ModelStatus::Pending, T0, T0), "{n}");
        assert_eq!(a.tags.get("k").map(String::as_str), Some("v2"), "{n}: the last value of a key wins");
        assert_eq!((a.source_run.as_deref(), a.project.as_str()), (Some(RUN), "p"), "{n}");
        assert_eq!(b.store.logged_model(&a.id).unwrap(), a, "{n}: read back as created");
        t.note("alpha", &a);

        b.advance(10);
        let beta = b.store.create_logged_model(&new_model("q", "beta")).unwrap();
        t.id(&beta.id);
        // Created at the same millisecond as beta: the later creation lists first.
        let gamma =
            b.store.create_logged_model(&NewLoggedModel { source_run: Some(RUN.into()), ..new_model("p", "gamma") });
        let gamma = gamma.unwrap();
        t.id(&gamma.id);
        t.note("beta", &beta);
        t.note("gamma", &gamma);

        let names = |r: Result<Vec<trackbench_store::LoggedModel>>| -> Vec<String> {
            r.unwrap().into_iter().map(|m| m.name).collect()
        };
        assert_eq!(names(b.store.logged_models(&[])), ["gamma", "beta", "alpha"], "{n}: newest first");
        assert_eq!(names(b.store.logged_models(&["p".into()])), ["gamma", "alpha"], "{n}");
        assert_eq!(names(b.store.logged_models(&["q".into(), "p".into()])), ["gamma", "beta", "alpha"], "{n}");
        assert!(names(b.store.logged_models(&["nope".into()])).is_empty(), "{n}");
        assert!(names(b.store.logged_models(&["no\0pe".into()])).is_empty(), "{n}");
        assert_eq!(names(b.store.logged_models_of_run(RUN)), ["gamma", "alpha"], "{n}");
        assert!(names(b.store.logged_models_of_run("missing")).is_empty(), "{n}");
        t.note("all", b.store.logged_models(&[]));

        for bad in ["a/b", "a.b", "a%b", "it's", "a:b", "say \"hi\"", "", "  ", "a\u{7}"] {
            let r = b.store.create_logged_model(&new_model("p", bad));
            assert!(invalid(&r), "{n}: {bad:?}");
            t.note(&format!("name {bad:?}"), r.map(|m| m.id));
        }
        let bad_inputs = [
            NewLoggedModel { tags: pairs(&[("", "x")]), ..new_model("p", "m") },
            NewLoggedModel { tags: pairs(&[("k", "a\0b")]), ..new_model("p", "m") },
            NewLoggedModel { params: pairs(&[(" lr", "1")]), ..new_model("p", "m") },
            NewLoggedModel { model_type: Some("a\0b".into()), ..new_model("p", "m") },
            NewLoggedModel { model_type: Some("x".repeat(64 * 1024 + 1)), ..new_model("p", "m") },
            new_model("", "m"),
        ];
        for (i, bad) in bad_inputs.iter().enumerate() {
            let r = b.store.create_logged_model(bad);
            assert!(invalid(&r), "{n}: bad input {i}");
            t.note(&format!("bad input {i}"), r.map(|m| m.id));
        }
        let r =
            b.store.create_logged_model(&NewLoggedModel { source_run: Some("missing".into()), ..new_model("g", "m") });
        assert!(matches!(r, Err(StoreError::RunNotFound(_))), "{n}");
        t.note("missing source run", r.map(|m| m.id));
        // The project is made before the run is looked up: both backends keep it.
        t.note("projects", b.store.list_projects(false).unwrap().into_iter().map(|p| p.name).collect::<Vec<_>>());
        for missing in ["m-00000000000000000000000000000000", "", "m-\0"] {
            let r = b.store.logged_model(missing);
            assert!(not_found(&r, "logged model"), "{n}: {missing:?}");
            t.note(&format!("get {missing:?}"), r.map(|m| m.id));
        }

        b.advance(10);
        let ready = b.store.finalize_logged_model(&a.id, ModelStatus::Ready, Some("files in")).unwrap();
        assert_eq!((ready.status, ready.updated_ms, ready.created_ms), (ModelStatus::Ready, T0 + 20, T0), "{n}");
        t.note("ready", &ready);
        let failed = b.store.finalize_logged_model(&gamma.id, ModelStatus::Failed, None).unwrap();
        assert_eq!((failed.status, failed.status_message), (ModelStatus::Failed, None), "{n}");
        t.note("finalize missing", b.store.finalize_logged_model("m-x", ModelStatus::Ready, None).map(|m| m.id));

        b.advance(10);
        b.store.delete_logged_model(&beta.id).unwrap();
        assert!(not_found(&b.store.logged_model(&beta.id), "logged model"), "{n}: deleted is gone");
        assert_eq!(names(b.store.logged_models(&[])), ["gamma", "alpha"], "{n}");
        t.note("delete again", b.store.delete_logged_model(&beta.id));
        t.note("finalize deleted", b.store.finalize_logged_model(&beta.id, ModelStatus::Ready, None).map(|m| m.id));
        t.note("tag deleted", b.store.set_logged_model_tags(&beta.id, &pairs(&[("a", "b")])));
        t.note("after", b.store.logged_models(&[]));
        t
    });
}

#[test]
fn logged_model_tags_params_metrics_and_outputs_alike() {
    same_on_every_backend(|b| {
        let mut t = Transcript::default();
        let n = b.name;
        run_in(&mut *b.store, RUN, "p");
        run_in(&mut *b.store, OTHER_RUN, "p");
        let m = b.store.create_logged_model(&new_model("p", "net")).unwrap().id;
        t.id(&m);
        b.advance(5);
        let second = b.store.create_logged_model(&new_model("p", "net-2")).unwrap().id;
        t.id(&second);

        // Tags: set, replace, delete; a missing tag is NotFound.
        b.advance(5);
        b.store.set_logged_model_tags(&m, &pairs(&[("a", "1"), ("b", "2")])).unwrap();
        b.store.set_logged_model_tags(&m, &pairs(&[("a", "one"), ("c", "3 ✓")])).unwrap();
        b.store.delete_logged_model_tag(&m, "b").unwrap();
        let r = b.store.delete_logged_model_tag(&m, "b");
        assert!(not_found(&r, "logged model tag"), "{n}");
        t.note("delete missing tag", r);
        t.note("delete NUL tag", b.store.delete_logged_model_tag(&m, "b\0"));
        t.note("delete tag of missing model", b.store.delete_logged_model_tag("m-x", "a"));
        t.note("bad tag", b.store.set_logged_model_tags(&m, &pairs(&[("ok", "1"), ("", "x")])));
        let read = b.store.logged_model(&m).unwrap();
        assert_eq!(read.tags, pairs(&[("a", "one"), ("c", "3 ✓")]).into_iter().collect(), "{n}");
        assert_eq!(read.updated_ms, T0 + 10, "{n}: setting tags touches the model");

        // Params: write-once; the same value again is fine; all or none.
        b.store.log_logged_model_params(&m, &pairs(&[("lr", "0.1")])).unwrap();
        b.store.log_logged_model_params(&m, &pairs(&[("lr", "0.1"), ("depth", "4")])).unwrap();
        let r = b.store.log_logged_model_params(&m, &pairs(&[("width", "8"), ("lr", "0.2")]));
        assert!(invalid(&r), "{n}");
        t.note("rewrite", r);
        let r = b.store.log_logged_model_params(&m, &pairs(&[("x", "1"), ("x", "2")]));
        assert!(invalid(&r), "{n}: two values in one call");
        t.note("two values", r);
        t.note("bad param", b.store.log_logged_model_params(&m, &pairs(&[("", "1")])));
        t.note("params of missing", b.store.log_logged_model_params("m-x", &pairs(&[("a", "1")])));
        let params = b.store.logged_model(&m).unwrap().params;
        assert_eq!(params, pairs(&[("depth", "4"), ("lr", "0.1")]).into_iter().collect(), "{n}: all or none");

        // Metrics: by key, step, then logging order; values bit-exact; the run that logged.
        let metrics = [
            ("loss".to_string(), 0.5, 2, T0 + 1),
            ("acc".to_string(), f64::NAN, 1, T0 + 2),
            ("loss".to_string(), 0.7, 1, T0 + 3),
            ("loss".to_string(), f64::NEG_INFINITY, 2, T0 + 4),
        ];
        b.store.log_model_metrics(&m, Some(RUN), &metrics).unwrap();
        b.store.log_model_metrics(&m, None, &[("loss".to_string(), -0.0, 2, T0 + 5)]).unwrap();
        let got = b.store.logged_model(&m).unwrap().metrics;
        let seen: Vec<(&str, u64, i64, Option<&str>)> =
            got.iter().map(|x| (x.key.as_str(), x.value.to_bits(), x.step, x.run.as_deref())).collect();
        assert_eq!(
            seen,
            [
                ("acc", f64::NAN.to_bits(), 1, Some(RUN)),
                ("loss", 0.7f64.to_bits(), 1, Some(RUN)),
                ("loss", 0.5f64.to_bits(), 2, Some(RUN)),
                ("loss", f64::NEG_INFINITY.to_bits(), 2, Some(RUN)),
                ("loss", (-0.0f64).to_bits(), 2, None),
            ],
            "{n}"
        );
        t.note("metrics", &got);
        let r = b.store.log_model_metrics(&m, Some("missing"), &metrics);
        assert!(matches!(r, Err(StoreError::RunNotFound(_))), "{n}");
        t.note("metrics of a missing run", r);
        t.note("bad metric key", b.store.log_model_metrics(&m, None, &[("a\nb".to_string(), 1.0, 0, 0)]));
        t.note("metrics of missing", b.store.log_model_metrics("m-x", None, &[]));
        assert_eq!(b.store.logged_model(&m).unwrap().metrics.len(), 5, "{n}: refused calls wrote nothing");

        // Outputs: a run names the models it produced; a model again moves its step.
        b.store.log_model_outputs(RUN, &[(second.clone(), 7), (m.clone(), 3)]).unwrap();
        b.store.log_model_outputs(RUN, &[(m.clone(), 4)]).unwrap();
        b.store.log_model_outputs(OTHER_RUN, &[(second.clone(), 1)]).unwrap();
        assert_eq!(b.store.model_outputs(RUN).unwrap(), [(m.clone(), 4), (second.clone(), 7)], "{n}: oldest first");
        t.note("outputs", b.store.model_outputs(RUN));
        t.note("outputs of another run", b.store.model_outputs(OTHER_RUN));
        t.note("outputs of a missing run", b.store.model_outputs("missing"));
        let r = b.store.log_model_outputs("missing", &[(m.clone(), 1)]);
        assert!(matches!(r, Err(StoreError::RunNotFound(_))), "{n}");
        let r = b.store.log_model_outputs(RUN, &[(m.clone(), 9), ("m-x".into(), 1)]);
        assert!(not_found(&r, "logged model"), "{n}");
        t.note("output of a missing model", r);
        b.store.delete_logged_model(&second).unwrap();
        assert_eq!(b.store.model_outputs(RUN).unwrap(), [(m.clone(), 4)], "{n}: deleted models are not listed");
        t
    });
}

#[test]
fn registered_models_are_created_renamed_tagged_and_deleted_alike() {
    same_on_every_backend(|b| {
        let mut t = Transcript::default();
        let n = b.name;
        let s = &mut b.store;
        let m = s.create_registered_model("Net", Some("a net"), &pairs(&[("team", "cv"), ("team", "nlp")])).unwrap();
        assert_eq!((m.created_ms, m.updated_ms, m.description.as_deref()), (T0, T0, Some("a net")), "{n}");
        assert_eq!(m.tags.get("team").map(String::as_str), Some("nlp"), "{n}");
        t.note("created", &m);
        let r = s.create_registered_model("Net", None, &[]);
        assert!(matches!(r, Err(StoreError::AlreadyExists { .. })), "{n}");
        t.note("again", r);
        s.create_registered_model("alpha", None, &[]).unwrap();
        s.create_registered_model("émile", None, &[]).unwrap();
        s.create_registered_model("Zed ", None, &[]).unwrap();
        let names: Vec<String> = s.registered_models().unwrap().into_iter().map(|m| m.name).collect();
        assert_eq!(names, ["Net", "Zed ", "alpha", "émile"], "{n}: byte-wise, not by locale");
        for bad in ["", "  ", "a/b", "a:b", ".", "..", "a\u{0}b"] {
            let r = s.create_registered_model(bad, None, &[]);
            assert!(invalid(&r), "{n}: {bad:?}");
            t.note(&format!("name {bad:?}"), r);
        }
        t.note("bad description", s.create_registered_model("d", Some("a\0b"), &[]));
        t.note("bad tag", s.create_registered_model("d", None, &pairs(&[("", "x")])));
        assert!(not_found(&s.registered_model("d"), "registered model"), "{n}: nothing half-made");
        for missing in ["nope", "net", "a\0b"] {
            let r = s.registered_model(missing);
            assert!(not_found(&r, "registered model"), "{n}: {missing:?}");
            t.note(&format!("get {missing:?}"), r);
        }

        // Description and tags.
        b.advance(10);
        let s = &mut b.store;
        let m = s.update_registered_model("Net", Some("a better net")).unwrap();
        assert_eq!((m.description.as_deref(), m.updated_ms), (Some("a better net"), T0 + 10), "{n}");
        let m = s.update_registered_model("Net", None).unwrap();
        assert_eq!(m.description, None, "{n}");
        t.note("update missing", s.update_registered_model("nope", None));
        t.note("update bad", s.update_registered_model("Net", Some("a\0")));
        s.set_registered_model_tag("Net", "owner", "ana").unwrap();
        s.set_registered_model_tag("Net", "owner", "bo").unwrap();
        s.delete_registered_model_tag("Net", "team").unwrap();
        s.delete_registered_model_tag("Net", "team").unwrap(); // a missing tag is fine
        s.delete_registered_model_tag("Net", "te\0am").unwrap();
        t.note("tag missing", s.set_registered_model_tag("nope", "a", "b"));
        t.note("untag missing", s.delete_registered_model_tag("nope", "a"));
        t.note("bad tag", s.set_registered_model_tag("Net", "a\tb", "x"));
        t.note("bad tag value", s.set_registered_model_tag("Net", "a", "\0"));
        let m = s.registered_model("Net").unwrap();
        assert_eq!(m.tags, pairs(&[("owner", "bo")]).into_iter().collect(), "{n}");
        t.note("tagged", &m);

        // Rename: versions and aliases follow; a taken name is refused.
        s.create_model_version(&new_version("Net", "runs:/r/model")).unwrap();
        s.set_model_alias("Net", "champion", 1).unwrap();
        b.advance(10);
        let s = &mut b.store;
        let r = s.rename_registered_model("Net", "alpha");
        assert!(matches!(r, Err(StoreError::AlreadyExists { .. })), "{n}");
        t.note("rename to taken", r);
        t.note("rename missing", s.rename_registered_model("nope", "x"));
        t.note("rename bad", s.rename_registered_model("Net", "a/b"));
        let same = s.rename_registered_model("Net", "Net").unwrap();
        assert_eq!(same.updated_ms, T0 + 20, "{n}: a rename to itself still touches it");
        let renamed = s.rename_registered_model("Net", "Net-2").unwrap();
        t.note("renamed", &renamed);
        assert!(not_found(&s.registered_model("Net"), "registered model"), "{n}");
        let v = s.model_version_by_alias("Net-2", "champion").unwrap();
        assert_eq!((v.name.as_str(), v.version), ("Net-2", 1), "{n}");
        t.note("follows", v);

        // Delete: versions, aliases and tags go; the name is free again and numbering restarts.
        s.delete_registered_model("Net-2").unwrap();
        let r = s.delete_registered_model("Net-2");
        assert!(not_found(&r, "registered model"), "{n}");
        t.note("delete again", r);
        t.note("versions of deleted", s.model_versions(Some("Net-2")));
        s.create_registered_model("Net-2", None, &[]).unwrap();
        let v = s.create_model_version(&new_version("Net-2", "runs:/r/model")).unwrap();
        assert_eq!(v.version, 1, "{n}");
        assert!(v.aliases.is_empty(), "{n}");
        t.note("all", s.registered_models());
        t
    });
}

#[test]
fn model_versions_are_numbered_tagged_updated_and_staged_alike() {
    same_on_every_backend(|b| {
        let mut t = Transcript::default();
        let n = b.name;
        run_in(&mut *b.store, RUN, "p");
        let lm = b.store.create_logged_model(&new_model("p", "net")).unwrap().id;
        t.id(&lm);
        let s = &mut b.store;
        s.create_registered_model("m", None, &[]).unwrap();
        s.create_registered_model("a", None, &[]).unwrap();
        b.advance(10);
        let s = &mut b.store;
        let v1 = s
            .create_model_version(&NewModelVersion {
                run: Some(RUN.into()),
                logged_model: Some(lm.clone()),
                description: Some("first".into()),
                tags: pairs(&[("k", "1"), ("k", "2")]),
                ..new_version("m", &format!("models:/{lm}"))
            })
            .unwrap();
        assert_eq!((v1.version, v1.stage.as_str(), v1.created_ms), (1, "None", T0 + 10), "{n}");
        assert_eq!((v1.run.as_deref(), v1.logged_model.as_deref()), (Some(RUN), Some(lm.as_str())), "{n}");
        assert_eq!(s.registered_model("m").unwrap().updated_ms, T0 + 10, "{n}: registering touches the model");
        t.note("v1", &v1);
        for i in 2..=3 {
            let v = s.create_model_version(&new_version("m", &format!("runs:/{RUN}/v{i}"))).unwrap();
            assert_eq!(v.version, i, "{n}");
        }
        s.create_model_version(&new_version("a", "s3://bucket/a")).unwrap();
        s.delete_model_version("m", 3).unwrap();
        let v4 = s.create_model_version(&new_version("m", "runs:/x/y")).unwrap();
        assert_eq!(v4.version, 4, "{n}: a deleted version's number is not given again");
        let numbers: Vec<(String, i64)> =
            s.model_versions(None).unwrap().into_iter().map(|v| (v.name, v.version)).collect();
        assert_eq!(numbers, [("a".into(), 1), ("m".into(), 1), ("m".into(), 2), ("m".into(), 4)], "{n}");
        t.note("versions of m", s.model_versions(Some("m")));
        t.note("versions of missing", s.model_versions(Some("nope")));

        // Refusals.
        for (what, bad) in [
            ("empty source", new_version("m", " ")),
            ("NUL source", new_version("m", "a\0")),
            ("bad description", NewModelVersion { description: Some("\0".into()), ..new_version("m", "s") }),
            ("bad tag", NewModelVersion { tags: pairs(&[("", "v")]), ..new_version("m", "s") }),
        ] {
            let r = s.create_model_version(&bad);
            assert!(invalid(&r), "{n}: {what}");
            t.note(what, r);
        }
        let r = s.create_model_version(&new_version("nope", "s"));
        assert!(not_found(&r, "registered model"), "{n}");
        t.note("missing model", r);
        t.note("NUL model", s.create_model_version(&new_version("n\0pe", "s")));
        let r = s.create_model_version(&NewModelVersion { run: Some("missing".into()), ..new_version("m", "s") });
        assert!(matches!(r, Err(StoreError::RunNotFound(_))), "{n}");
        let missing_lm = NewModelVersion { logged_model: Some("m-x".into()), ..new_version("m", "s") };
        let r = s.create_model_version(&missing_lm);
        assert!(not_found(&r, "logged model"), "{n}");
        t.note("missing logged model", r);
        for (name, version) in [("m", 3), ("m", 99), ("nope", 1)] {
            t.note(&format!("get {name} {version}"), s.model_version(name, version));
        }
        assert!(not_found(&s.model_version("m", 3), "model version"), "{n}");
        assert_eq!(s.create_model_version(&new_version("m", "s")).unwrap().version, 5, "{n}: refusals used no number");

        // Description and tags.
        b.advance(10);
        let s = &mut b.store;
        let v = s.update_model_version("m", 2, Some("second")).unwrap();
        assert_eq!((v.description.as_deref(), v.updated_ms), (Some("second"), T0 + 20), "{n}");
        s.update_model_version("m", 1, None).unwrap();
        t.note("update missing", s.update_model_version("m", 3, None));
        t.note("update bad", s.update_model_version("m", 2, Some("\0")));
        s.set_model_version_tag("m", 2, "k", "v").unwrap();
        s.set_model_version_tag("m", 2, "k", "w").unwrap();
        s.set_model_version_tag("m", 2, "gone", "x").unwrap();
        s.delete_model_version_tag("m", 2, "gone").unwrap();
        s.delete_model_version_tag("m", 2, "gone").unwrap(); // a missing tag is fine
        s.delete_model_version_tag("m", 2, "g\0ne").unwrap();
        t.note("tag missing version", s.set_model_version_tag("m", 3, "k", "v"));
        t.note("untag missing version", s.delete_model_version_tag("m", 3, "k"));
        t.note("bad tag", s.set_model_version_tag("m", 2, "", "v"));
        assert_eq!(s.model_version("m", 2).unwrap().tags, pairs(&[("k", "w")]).into_iter().collect(), "{n}");

        // Stages: any case in, canonical out; archive_existing archives the others in it.
        b.advance(10);
        let s = &mut b.store;
        let v = s.transition_model_version_stage("m", 1, "production", false).unwrap();
        assert_eq!((v.stage.as_str(), v.updated_ms), ("Production", T0 + 30), "{n}");
        s.transition_model_version_stage("m", 2, "PRODUCTION", false).unwrap();
        s.transition_model_version_stage("m", 4, "Staging", false).unwrap();
        let stages = |s: &dyn ModelStore| -> Vec<String> {
            s.model_versions(Some("m")).unwrap().into_iter().map(|v| v.stage).collect()
        };
        assert_eq!(stages(&**s), ["Production", "Production", "Staging", "None"], "{n}");
        b.advance(10);
        let s = &mut b.store;
        s.transition_model_version_stage("m", 5, "Production", true).unwrap();
        assert_eq!(stages(&**s), ["Archived", "Archived", "Staging", "Production"], "{n}");
        s.transition_model_version_stage("m", 2, "None", true).unwrap(); // nothing else archived
        assert_eq!(stages(&**s), ["Archived", "None", "Staging", "Production"], "{n}");
        s.transition_model_version_stage("m", 1, "archived", true).unwrap();
        assert_eq!(stages(&**s), ["Archived", "None", "Staging", "Production"], "{n}");
        let r = s.transition_model_version_stage("m", 1, "Prod", false);
        assert!(invalid(&r), "{n}");
        t.note("bad stage", r);
        t.note("stage missing", s.transition_model_version_stage("m", 3, "Staging", false));
        t.note("staged", s.model_versions(Some("m")));

        // A version outlives the logged model and the run it came from.
        s.delete_logged_model(&lm).unwrap();
        let v = s.model_version("m", 1).unwrap();
        assert_eq!(v.logged_model.as_deref(), Some(lm.as_str()), "{n}: a deleted model is still named");
        s.purge_run(RUN).unwrap();
        let v = s.model_version("m", 1).unwrap();
        assert_eq!((v.run, v.source), (None, format!("models:/{lm}")), "{n}: a purged run is forgotten");
        s.delete_model_version("m", 1).unwrap();
        t.note("delete again", s.delete_model_version("m", 1));
        t.note("delete of missing model", s.delete_model_version("nope", 1));
        t.note("all", s.model_versions(None));
        t
    });
}

#[test]
fn aliases_are_set_moved_resolved_and_deleted_alike() {
    same_on_every_backend(|b| {
        let mut t = Transcript::default();
        let n = b.name;
        let s = &mut b.store;
        s.create_registered_model("m", None, &[]).unwrap();
        for _ in 0..3 {
            s.create_model_version(&new_version("m", "runs:/r/m")).unwrap();
        }
        s.set_model_alias("m", "champion", 1).unwrap();
        s.set_model_alias("m", "b-side", 1).unwrap();
        s.set_model_alias("m", "Prod_2026", 2).unwrap();
        assert_eq!(s.model_version_by_alias("m", "champion").unwrap().version, 1, "{n}");
        assert_eq!(s.model_version("m", 1).unwrap().aliases, ["b-side", "champion"], "{n}: sorted");
        s.set_model_alias("m", "champion", 3).unwrap(); // moves
        assert_eq!(s.model_version_by_alias("m", "champion").unwrap().version, 3, "{n}");
        assert_eq!(s.model_version("m", 1).unwrap().aliases, ["b-side"], "{n}");
        let m = s.registered_model("m").unwrap();
        let want = [("Prod_2026", 2), ("b-side", 1), ("champion", 3)];
        assert_eq!(m.aliases, want.iter().map(|(a, v)| (a.to_string(), *v)).collect(), "{n}");
        t.note("model", &m);

        for bad in ["", "latest", "LATEST", "v1", "V22", "a b", "a/b", "a.b", &"a".repeat(256)] {
            let r = s.set_model_alias("m", bad, 1);
            assert!(invalid(&r), "{n}: {bad:?}");
            t.note(&format!("alias {bad:?}"), r);
        }
        s.set_model_alias("m", "v", 1).unwrap(); // only v<number> is reserved
        s.set_model_alias("m", "v1a", 1).unwrap();
        let r = s.set_model_alias("m", "champion", 9);
        assert!(not_found(&r, "model version"), "{n}");
        t.note("to a missing version", r);
        t.note("of a missing model", s.set_model_alias("nope", "champion", 1));
        for (name, alias) in [("m", "nope"), ("nope", "champion"), ("m", "a\0")] {
            t.note(&format!("by alias {name}@{alias}"), s.model_version_by_alias(name, alias));
        }
        assert!(not_found(&s.model_version_by_alias("m", "nope"), "model alias"), "{n}");

        s.delete_model_alias("m", "b-side").unwrap();
        s.delete_model_alias("m", "b-side").unwrap(); // a missing alias is fine
        s.delete_model_alias("m", "b\0").unwrap();
        t.note("delete of a missing model", s.delete_model_alias("nope", "x"));
        // A deleted version takes its aliases with it.
        s.delete_model_version("m", 3).unwrap();
        assert!(not_found(&s.model_version_by_alias("m", "champion"), "model alias"), "{n}");
        t.note("after", s.registered_model("m"));
        t.note("versions", s.model_versions(Some("m")));
        t
    });
}

#[test]
fn concurrent_registrations_number_versions_without_gap_or_repeat_alike() {
    const WRITERS: usize = 4;
    const EACH: usize = 8;
    for mut b in backends() {
        b.store.create_registered_model("m", None, &[]).unwrap();
        let barrier = Arc::new(Barrier::new(WRITERS));
        let handles: Vec<_> = (0..WRITERS)
            .map(|_| {
                let mut store = (b.open_another)();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    (0..EACH)
                        .map(|_| store.create_model_version(&new_version("m", "runs:/r/m")).unwrap().version)
                        .collect::<Vec<i64>>()
                })
            })
            .collect();
        let mut all: Vec<i64> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
        all.sort();
        assert_eq!(all, (1..=(WRITERS * EACH) as i64).collect::<Vec<_>>(), "{}", b.name);
        let next = b.store.create_model_version(&new_version("m", "runs:/r/m")).unwrap().version;
        assert_eq!(next, (WRITERS * EACH) as i64 + 1, "{}", b.name);
    }
}

#[test]
fn concurrent_model_params_and_metrics_stay_consistent_alike() {
    const WRITERS: usize = 4;
    for mut b in backends() {
        let m = b.store.create_logged_model(&new_model("p", "net")).unwrap().id;
        let barrier = Arc::new(Barrier::new(WRITERS));
        let handles: Vec<_> = (0..WRITERS)
            .map(|i| {
                let mut store = (b.open_another)();
                let (barrier, m) = (barrier.clone(), m.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    // Every writer logs the same step of one key, and claims one param.
                    let metrics: Vec<(String, f64, i64, i64)> =
                        (0..5).map(|j| ("loss".to_string(), (i * 10 + j) as f64, 0, 0)).collect();
                    store.log_model_metrics(&m, None, &metrics).unwrap();
                    store.log_logged_model_params(&m, &[("winner".to_string(), i.to_string())]).is_ok()
                })
            })
            .collect();
        let won = handles.into_iter().map(|h| h.join().unwrap()).filter(|ok| *ok).count();
        assert_eq!(won, 1, "{}: a write-once param has one writer", b.name);
        let model = b.store.logged_model(&m).unwrap();
        assert_eq!(model.metrics.len(), WRITERS * 5, "{}: no value lost", b.name);
        // Each writer's values keep their order among the same key and step.
        for i in 0..WRITERS {
            let mine: Vec<f64> = model.metrics.iter().map(|x| x.value).filter(|v| (*v as usize) / 10 == i).collect();
            assert_eq!(mine, (0..5).map(|j| (i * 10 + j) as f64).collect::<Vec<_>>(), "{}", b.name);
        }
    }
}
