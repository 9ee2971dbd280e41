//! `trackbench report` through the real binary: every format, escaping, and the statistics
//! section when two groups are compared.

use trackbench_sdk::{Run, RunOptions};

use crate::util::Env;

fn seeds(env: &Env) {
    for seed in 1..=3 {
        for (lr, base) in [(0.01, 0.80), (0.03, 0.85)] {
            let name = if seed == 1 && lr == 0.01 {
                "<script>alert(1)</script>".to_string()
            } else {
                format!("lr{lr}-s{seed}")
            };
            let run = Run::start(RunOptions::new("ab").name(name).store_dir(env.store())).unwrap();
            run.log_params(&[("lr", lr.into()), ("seed", seed.into())]).unwrap();
            for step in 0..200 {
                let acc = base * (1.0 - (-(step as f64) / 40.0).exp()) + 0.002 * seed as f64;
                run.log_at(step, &[("acc", acc), ("loss", 1.0 - acc)]).unwrap();
            }
            run.finish().unwrap();
        }
    }
}

#[test]
fn html_report_with_groups_has_charts_stats_and_escapes_names() {
    let env = Env::new();
    seeds(&env);
    let out = env.dir.path().join("out/report.html");
    env.ok(&["report", "--project", "ab", "--group-by", "params.lr", "--metric", "acc", "-o", out.to_str().unwrap()]);
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") || html.starts_with("<!doctype html>"), "{}", &html[..80]);
    assert!(!html.contains("<script>alert(1)</script>"), "a run name must never become markup");
    assert!(html.contains("&lt;script&gt;alert(1)"), "the name is shown, escaped");
    assert!(html.contains("<svg"), "charts are inline SVG");
    assert!(html.contains("B is better than A"), "verdict of the two lr groups");
    assert!(!html.contains("<script"), "the report needs no script");
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("url(http"),
        "no network resources"
    );
}

#[test]
fn markdown_csv_and_json_formats() {
    let env = Env::new();
    seeds(&env);
    let dir = env.dir.path();
    let md = dir.join("r.md");
    env.ok(&["report", "--project", "ab", "-o", md.to_str().unwrap(), "--smooth", "0.5"]);
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.contains("r_files/"), "{text}");
    let pngs: Vec<_> = std::fs::read_dir(dir.join("r_files")).unwrap().flatten().collect();
    assert_eq!(pngs.len(), 2, "one PNG per metric (acc, loss)");
    for p in pngs {
        assert_eq!(&std::fs::read(p.path()).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    }
    let csv = dir.join("r.csv");
    env.ok(&["report", "--project", "ab", "-o", csv.to_str().unwrap()]);
    assert!(std::fs::read_to_string(&csv).unwrap().lines().count() > 100);
    let json = dir.join("r.out");
    env.ok(&["report", "--project", "ab", "--format", "json", "-o", json.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["runs"].as_array().unwrap().len(), 6);
    assert_eq!(v["charts"].as_array().unwrap().len(), 2);
}

#[test]
fn report_errors_exit_with_meaningful_codes() {
    let env = Env::new();
    seeds(&env);
    let out = env.dir.path().join("x.html");
    assert_eq!(env.cmd(&["report", "nosuchrun", "-o", out.to_str().unwrap()]).code, 4);
    assert_eq!(env.cmd(&["report", "--filter", "metrics.acc >", "-o", out.to_str().unwrap()]).code, 2);
    assert!(!out.exists(), "nothing written on error");
}
