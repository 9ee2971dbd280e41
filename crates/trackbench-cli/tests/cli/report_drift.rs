//! `trackbench report --drift REF CUR` through the real binary, over datasets logged with the
//! Rust SDK's `Run::log_dataset`: the shifted column reported drifted and ranked first, the
//! unchanged one not, charts in every format, hostile names escaped, and the error paths.

use trackbench_sdk::data::{Column, ColumnValues};
use trackbench_sdk::{Run, RunOptions};

use crate::util::Env;

const XSS: &str = "<script>alert(1)</script>";
/// A dataset name that is markup, a table pipe and a code span at once.
const HOSTILE_DATASET: &str = "serve|<b>`x`";
/// A column name with markup, a pipe, backticks and a line break.
const HOSTILE_COLUMN: &str = "<img src=x>|`c`\nnext";

/// 300 rows: `shifted` (moved by `shift`), `same` (reversed when `permute`: the same values),
/// `city` and the hostile column (both unchanged).
fn log(run: &Run, name: &str, shift: f64, permute: bool) {
    let n = 300;
    // A deterministic spread of values: i * golden ratio mod 1.
    let u = |i: usize, k: f64| ((i as f64 + 1.0) * 0.618_033_988_75 * k).fract();
    let shifted: Vec<f64> = (0..n).map(|i| 20.0 + 40.0 * u(i, 1.0) + shift).collect();
    let mut same: Vec<f64> = (0..n).map(|i| u(i, 7.0)).collect();
    let mut hostile: Vec<f64> = (0..n).map(|i| u(i, 3.0)).collect();
    if permute {
        same.reverse();
        hostile.reverse();
    }
    let city: Vec<Option<&str>> = (0..n).map(|i| Some(["Paris", "Berlin", "Rome"][i % 3])).collect();
    let cols = [
        Column::new("same", ColumnValues::F64(&same)),
        Column::new("city", ColumnValues::Str(&city)),
        Column::new(HOSTILE_COLUMN, ColumnValues::F64(&hostile)),
        Column::new("shifted", ColumnValues::F64(&shifted)),
    ];
    run.log_dataset(name, &cols, Some("training"), None).unwrap();
}

/// A reference run (`ref-run`, dataset `train`) and a current run with a hostile name whose
/// dataset (hostile too) has `shifted` moved by 15; returns the current run's id.
fn seeded(env: &Env) -> String {
    let r = Run::start(RunOptions::new("data").name("ref-run").store_dir(env.store())).unwrap();
    log(&r, "train", 0.0, false);
    r.log_at(0, &[("acc", 0.5)]).unwrap();
    r.finish().unwrap();
    let c = Run::start(RunOptions::new("data").name(XSS).store_dir(env.store())).unwrap();
    log(&c, HOSTILE_DATASET, 15.0, true);
    c.log_at(0, &[("acc", 0.6)]).unwrap();
    let id = c.id().to_string();
    c.finish().unwrap();
    id
}

/// The drift table's rows in the HTML, as `(column cell, verdict)`.
fn html_rows(html: &str) -> Vec<(String, String)> {
    let table = html.split("<table class=\"drift\">").nth(1).unwrap().split("</table>").next().unwrap();
    table
        .split("<tr><th scope=\"row\"")
        .skip(1)
        .map(|row| {
            let cell = row.split("</th>").next().unwrap().to_string();
            let verdict = row.split("<span class=\"badge ").nth(1).unwrap().split("</span>").next().unwrap();
            (cell, verdict.split('>').nth(1).unwrap().to_string())
        })
        .collect()
}

#[test]
fn drift_only_report_in_every_format() {
    let env = Env::new();
    let cur = seeded(&env);
    let current = format!("{cur}:{HOSTILE_DATASET}");
    let dir = env.dir.path().join("out");
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();

    // HTML: the section alone, the shifted column first and drifted, the unchanged one not.
    env.ok(&["report", "--drift", "ref-run:train", &current, "-o", &path("d.html")]);
    let html = std::fs::read_to_string(dir.join("d.html")).unwrap();
    assert!(html.contains("id=\"drift\"") && !html.contains("id=\"runs\""), "a drift-only report");
    let rows = html_rows(&html);
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows[0].0.contains(">shifted</a>") && rows[0].1 == "DRIFT", "{rows:?}");
    let same = rows.iter().find(|(c, _)| c.contains(">same</a>")).unwrap();
    assert_eq!(same.1, "ok");
    assert!(rows.iter().skip(1).all(|(_, v)| v == "ok"), "only the shifted column drifts: {rows:?}");
    assert!(html.contains("The dataset drifted") || html.contains("No drift"), "a dataset verdict");
    assert_eq!(html.matches("<svg ").count(), 4, "a chart per column");
    assert!(html.contains("id=\"drift-shifted\"") && html.contains("id=\"drift-city\""));
    // Hostile run, dataset and column names are text, never markup.
    assert!(!html.to_lowercase().contains("<script"), "a run name must never become markup");
    assert!(!html.contains("<img") && !html.contains("<b>"), "names must never become markup");
    assert!(html.contains("&lt;script&gt;alert(1)"), "the run name is shown, escaped");
    assert!(html.contains("serve|&lt;b&gt;`x`"), "the dataset name is shown, escaped");
    assert!(html.contains("&lt;img src=x&gt;|`c`"), "the column name is shown, escaped");

    // Markdown: a PNG per chart, linked; table cells keep their pipes escaped.
    env.ok(&["report", "--drift", "ref-run:train", &current, "-o", &path("d.md")]);
    let md = std::fs::read_to_string(dir.join("d.md")).unwrap();
    let mut pngs: Vec<String> = std::fs::read_dir(dir.join("d_files"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    pngs.sort();
    assert_eq!(pngs.len(), 4, "{pngs:?}");
    assert_eq!(pngs[0], "drift-01-shifted.png");
    for p in &pngs {
        assert!(md.contains(&format!("(d_files/{p})")), "{p} linked");
        assert_eq!(&std::fs::read(dir.join("d_files").join(p)).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    }
    let table: Vec<&str> =
        md.lines().skip_while(|l| !l.starts_with("| Column |")).take_while(|l| l.starts_with('|')).collect();
    assert!(table[2].starts_with("| shifted |") && table[2].contains("**DRIFT**"), "{md}");
    let same = table.iter().find(|l| l.starts_with("| same |")).unwrap();
    assert!(same.contains("| ok |"), "{same}");
    let cells = |l: &str| l.replace("\\|", "").matches('|').count();
    assert!(table.iter().all(|l| cells(l) == cells(table[0])), "a name broke the table: {table:#?}");
    let outside_code: String = md.split('`').step_by(2).collect();
    assert!(!outside_code.contains("<script") && !outside_code.contains("<img"), "{md}");
    assert!(md.contains("&lt;img src=x&gt;\\|\\`c\\` next"), "{md}");
    assert!(md.contains("serve\\|&lt;b&gt;\\`x\\`"), "{md}");

    // JSON carries the section, columns by severity; CSV its rows.
    env.ok(&["report", "--drift", "ref-run:train", &current, "-o", &path("d.json")]);
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("d.json")).unwrap()).unwrap();
    let d = &v["drift"];
    assert_eq!(v["runs"].as_array().map(Vec::len), Some(0));
    assert_eq!(d["columns"][0]["column"], "shifted");
    assert_eq!(d["columns"][0]["drift"], true);
    assert_eq!(d["columns"][0]["test"], "ks");
    assert_eq!(d["columns"][0]["chart"]["kind"], "histogram");
    let same = d["columns"].as_array().unwrap().iter().find(|c| c["column"] == "same").unwrap();
    assert_eq!(same["drift"], false);
    assert_eq!(d["current"]["run"], cur.as_str());
    assert_eq!(d["current"]["run_name"], XSS);
    assert_eq!(d["current"]["dataset"], HOSTILE_DATASET);
    assert_eq!((d["tested"].as_u64(), d["drifted"].as_u64()), (Some(4), Some(1)));
    env.ok(&["report", "--drift", "ref-run:train", &current, "-o", &path("d.csv")]);
    let csv = std::fs::read_to_string(dir.join("d.csv")).unwrap();
    assert!(csv.lines().any(|l| l == "drift_column,shifted,,drift,,true"), "{csv}");
    assert!(csv.lines().any(|l| l == "drift_column,same,,drift,,false"), "{csv}");
}

#[test]
fn drift_next_to_runs_with_a_chosen_test() {
    let env = Env::new();
    let cur = seeded(&env);
    let current = format!("{cur}:{HOSTILE_DATASET}");
    let out = env.dir.path().join("both.json");
    env.ok(&[
        "report",
        "ref-run",
        &cur,
        "--drift",
        "ref-run:train",
        &current,
        "--test",
        "psi",
        "--threshold",
        "psi=0.2",
        "--columns",
        "same,shifted",
        "-o",
        out.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["runs"].as_array().unwrap().len(), 2, "the runs' report is there too");
    assert_eq!(v["charts"].as_array().unwrap().len(), 1, "acc");
    let cols = v["drift"]["columns"].as_array().unwrap();
    assert_eq!(cols.len(), 2);
    assert_eq!((cols[0]["column"].as_str(), cols[0]["drift"].as_bool()), (Some("shifted"), Some(true)));
    assert_eq!((cols[1]["column"].as_str(), cols[1]["drift"].as_bool()), (Some("same"), Some(false)));
    assert_eq!(cols[0]["test"], "psi");
    assert_eq!(cols[0]["threshold"], 0.2);
    assert_eq!(cols[0]["reason"], "chosen with --test psi");

    let html = env.dir.path().join("both.html");
    env.ok(&["report", "--project", "data", "--drift", "ref-run:train", &current, "-o", html.to_str().unwrap()]);
    let html = std::fs::read_to_string(&html).unwrap();
    assert!(html.contains("id=\"runs\"") && html.contains("id=\"charts\"") && html.contains("id=\"drift\""));
    assert_eq!(html.matches("<svg ").count(), 1 + 4, "the acc chart and a chart per column");
}

#[test]
fn bad_drift_arguments_fail_and_write_nothing() {
    let env = Env::new();
    let cur = seeded(&env);
    let current = format!("{cur}:{HOSTILE_DATASET}");
    let out = env.dir.path().join("x.html");
    let o = out.to_str().unwrap();
    let cases: [(&[&str], i32, &str); 7] = [
        (&["report", "--drift", "train", &current, "-o", o], 2, "expected RUN:DATASET[@STEP]"),
        (&["report", "--drift", "nope:train", &current, "-o", o], 4, "run not found: nope"),
        (&["report", "--drift", "ref-run:test", &current, "-o", o], 1, "no dataset \"test\": the run has train"),
        (&["report", "--drift", "ref-run:train@9", &current, "-o", o], 1, "was not logged at step 9"),
        (&["report", "--drift", "ref-run:train", &current, "--threshold", "ks", "-o", o], 2, "expected NAME=VALUE"),
        (&["report", "--drift", "ref-run:train", &current, "--columns", "zzz", "-o", o], 2, "neither profile has zzz"),
        (&["report", "ref-run", "--threshold", "ks=0.01", "-o", o], 2, "need --drift REF CUR"),
    ];
    for (args, code, message) in cases {
        let r = env.cmd(args);
        assert_eq!(r.code, code, "{args:?}: {}\n{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(message), "{args:?}: {}", r.stderr);
        assert!(!out.exists(), "{args:?}: nothing written on error");
    }
    // One spec where two are needed is a usage error (clap's).
    let r = env.cmd(&["report", "--drift", "ref-run:train", "-o", o]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!out.exists());
}
