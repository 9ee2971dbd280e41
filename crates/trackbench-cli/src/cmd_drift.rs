//! `trackbench drift REF CUR`: drift tests between two logged dataset profiles, as a CI gate.
//!
//! REF and CUR are `RUN:DATASET[@STEP]` (a run id, id prefix or name; a dataset logged with
//! `log_dataset`; the profile logged at STEP, else the one logged without a step, else the
//! latest step). The tests are `trackbench-data`'s; this file only finds the two profiles and
//! prints the report. Exit codes: 0 no drift, 1 drift, 2 an error (a run or dataset not found
//! included: a gate must not read "not found" as "no drift").
//!
//! `trackbench drift series RUN --dataset NAME --reference RUN:DATASET[@STEP]` tests each
//! profile of NAME logged at a step against the reference and writes the results to RUN as
//! metric series (`drift/<column>/<stat>`, see [`step_batch`]) through the store's one write, so
//! charts, filters and live views show them; `--fail-on-drift` exits 1 when a step drifts.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::json;
use trackbench_sdk::data::{DriftOptions, DriftReport, Profile, Test};
use trackbench_sdk::dataset::{self, LoggedDataset, Spec};
use trackbench_store::{Backend, Batch};

use crate::Ctx;
use crate::output;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct DriftArgs {
    #[command(subcommand)]
    pub cmd: Option<DriftCmd>,
    /// The reference: RUN:DATASET[@STEP]
    #[arg(value_name = "REF", required = true)]
    pub reference: Option<String>,
    /// The current data: RUN:DATASET[@STEP]
    #[arg(value_name = "CUR", required = true)]
    pub current: Option<String>,
    #[command(flatten)]
    pub tests: TestArgs,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand)]
pub enum DriftCmd {
    /// Drift per step: each profile of a dataset logged at steps tested against a reference,
    /// written to the run as metric series drift/<column>/<stat>
    Series(SeriesArgs),
}

/// How columns are tested (shared with `drift series`).
#[derive(Args, Clone)]
pub struct TestArgs {
    /// Only these columns (comma-separated; default: every column of the reference)
    #[arg(long, value_delimiter = ',', value_name = "A,B")]
    pub columns: Option<Vec<String>>,
    /// The test for every column; `auto` picks per column type and sample size
    #[arg(long, default_value = "auto", value_parser = ["auto", "ks", "psi", "js", "wasserstein", "chi2"])]
    pub test: String,
    /// A threshold: a test's (ks=0.01, wasserstein=0.2, …: a p-value for ks and chi2, a distance
    /// for the others) or `share`, the share of drifted columns at which the dataset drifts (0.5)
    #[arg(long = "threshold", value_name = "NAME=VALUE")]
    pub thresholds: Vec<String>,
}

impl TestArgs {
    /// The resolved drift options.
    pub fn options(&self) -> anyhow::Result<DriftOptions> {
        let mut o = DriftOptions {
            test: self.test.parse::<Test>().map_err(anyhow::Error::msg)?,
            columns: self.columns.clone(),
            ..DriftOptions::default()
        };
        for t in &self.thresholds {
            o.set_threshold(t).map_err(|e| anyhow::anyhow!("--threshold {e}"))?;
        }
        Ok(o)
    }
}

/// A run's dataset inputs.
pub fn logged(st: &dyn Backend, run: &str) -> anyhow::Result<Vec<LoggedDataset>> {
    Ok(st.run_inputs(run)?.iter().filter_map(LoggedDataset::from_input).collect())
}

/// The profile `spec` names, with the run's id and the step it was found at.
pub fn profile(st: &dyn Backend, spec: &Spec) -> anyhow::Result<(String, Option<i64>, Profile)> {
    let run = st.resolve_run(&spec.run).with_context(|| format!("finding run {:?}", spec.run))?;
    let inputs = logged(st, &run)?;
    let found = dataset::find(&inputs, &spec.dataset, spec.step).map_err(|e| anyhow::anyhow!("run {run}: {e}"))?;
    let p = found.parse_profile().map_err(|e| anyhow::anyhow!("run {run}: {e}"))?;
    Ok((run, found.step, p))
}

/// Refuses `--columns` naming a column neither profile has (a typo would otherwise test
/// nothing and pass).
pub fn check_columns(options: &DriftOptions, reference: &Profile, current: &Profile) -> anyhow::Result<()> {
    if let Some(cols) = &options.columns {
        let missing: Vec<&str> = cols
            .iter()
            .filter(|n| reference.column(n).is_none() && current.column(n).is_none())
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            bail!("--columns: neither profile has {}", missing.join(", "));
        }
    }
    Ok(())
}

/// Prints `err` and exits 2: every error of `drift` is one (not the CLI's usual 1 or 4).
fn fail(err: anyhow::Error) -> ! {
    let _ = std::io::stdout().flush();
    eprintln!("error: {err:#}");
    std::process::exit(2)
}

pub fn drift(ctx: &Ctx, args: DriftArgs) -> anyhow::Result<()> {
    let drifted = match &args.cmd {
        Some(DriftCmd::Series(s)) => series(ctx, s),
        None => compare(ctx, &args),
    }
    .unwrap_or_else(|e| fail(e));
    let _ = std::io::stdout().flush();
    if drifted {
        std::process::exit(1);
    }
    Ok(())
}

fn compare(ctx: &Ctx, args: &DriftArgs) -> anyhow::Result<bool> {
    let options = args.tests.options()?;
    let (Some(r), Some(c)) = (&args.reference, &args.current) else {
        bail!("expected REF and CUR (RUN:DATASET[@STEP] each), or `drift series`");
    };
    let (r, c): (Spec, Spec) = (r.parse().map_err(anyhow::Error::msg)?, c.parse().map_err(anyhow::Error::msg)?);
    let st = ctx.open()?;
    let (r_run, r_step, r_prof) = profile(st.as_ref(), &r).context("the reference")?;
    let (c_run, c_step, c_prof) = profile(st.as_ref(), &c).context("the current data")?;
    check_columns(&options, &r_prof, &c_prof)?;
    let report = trackbench_sdk::data::drift(&r_prof, &c_prof, &options);
    let side = |s: &Spec, run: &str, step: Option<i64>, p: &Profile| json!({ "run": run, "dataset": s.dataset, "step": step, "rows": p.rows });
    if args.json {
        let out = json!({
            "reference": side(&r, &r_run, r_step, &r_prof),
            "current": side(&c, &c_run, c_step, &c_prof),
            "report": report,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let at = |s: Option<i64>| s.map(|s| format!("@{s}")).unwrap_or_default();
        println!(
            "reference {}:{}{} ({} rows)  vs  current {}:{}{} ({} rows)\n",
            r_run,
            output::escape(&r.dataset),
            at(r_step),
            r_prof.rows,
            c_run,
            output::escape(&c.dataset),
            at(c_step),
            c_prof.rows
        );
        print!("{}", render(&report));
    }
    Ok(report.drift)
}

/// `drift series`: drift per step, as metric series of the run.
#[derive(Args)]
pub struct SeriesArgs {
    /// The run whose dataset was logged at steps; the series are written to it
    #[arg(value_name = "RUN")]
    pub run: String,
    /// The dataset logged at steps
    #[arg(long, value_name = "NAME")]
    pub dataset: String,
    /// The reference: RUN:DATASET[@STEP]
    #[arg(long, value_name = "RUN:DATASET[@STEP]")]
    pub reference: String,
    #[command(flatten)]
    pub tests: TestArgs,
    /// Exit 1 when the dataset drifts at any step
    #[arg(long)]
    pub fail_on_drift: bool,
    /// Print the per-step reports as JSON
    #[arg(long)]
    pub json: bool,
}

/// The points of one step: `drift/<column>/<test>` (the statistic), `drift/<column>/p_value`
/// where the test has one and `drift/<column>/drift` (1 drifted, 0 not); for the dataset
/// `drift/share` and `drift/dataset` (1 drifted, 0 not).
pub fn step_batch(report: &DriftReport, step: i64, wall_ms: i64) -> Batch {
    let mut b = Batch::default();
    let flag = |d: bool| if d { 1.0 } else { 0.0 };
    for c in &report.columns {
        let (Some(test), Some(stat)) = (c.test, c.statistic) else { continue };
        b.push_metric(&format!("drift/{}/{}", c.column, test.name()), step, wall_ms, stat);
        if let Some(p) = c.p_value {
            b.push_metric(&format!("drift/{}/p_value", c.column), step, wall_ms, p);
        }
        if let Some(d) = c.drift {
            b.push_metric(&format!("drift/{}/drift", c.column), step, wall_ms, flag(d));
        }
    }
    if let Some(share) = report.share {
        b.push_metric("drift/share", step, wall_ms, share);
        b.push_metric("drift/dataset", step, wall_ms, flag(report.drift));
    }
    b
}

fn series(ctx: &Ctx, args: &SeriesArgs) -> anyhow::Result<bool> {
    let options = args.tests.options()?;
    let r: Spec = args.reference.parse().map_err(anyhow::Error::msg)?;
    let mut st = ctx.open()?;
    let (r_run, r_step, r_prof) = profile(st.as_ref(), &r).context("the reference")?;
    let run = st.resolve_run(&args.run).with_context(|| format!("finding run {:?}", args.run))?;
    let inputs = logged(st.as_ref(), &run)?;
    // By step; a step logged twice (different data): the later profile.
    let mut steps: BTreeMap<i64, &LoggedDataset> = BTreeMap::new();
    for d in inputs.iter().filter(|d| d.name == args.dataset) {
        if let Some(s) = d.step {
            steps.insert(s, d);
        }
    }
    if steps.is_empty() {
        match dataset::find(&inputs, &args.dataset, None) {
            Ok(_) => bail!(
                "run {run}: dataset {:?} was logged without a step; log one profile per batch with step= \
                 for a series",
                args.dataset
            ),
            Err(e) => bail!("run {run}: {e}"),
        }
    }
    // Each step's batch is marked with this writer and the step, so running the command again
    // writes only the steps not written before (the store never replaces a point); another
    // reference or other options are another writer.
    let what = format!("{r_run}\0{}\0{r_step:?}\0{}", r.dataset, serde_json::to_string(&options)?);
    let writer = format!("trackbench-drift-series-{}", dataset::digest(&args.dataset, None, &what));
    let wall = st.now();
    let (mut written, mut skipped, mut rejected) = (0usize, 0usize, Vec::new());
    let mut reports = Vec::with_capacity(steps.len());
    for (&step, d) in &steps {
        let prof = d.parse_profile().map_err(|e| anyhow::anyhow!("run {run}, step {step}: {e}"))?;
        let report = trackbench_sdk::data::drift(&r_prof, &prof, &options);
        let mut batch = step_batch(&report, step, wall);
        batch.mark = Some((writer.clone(), step));
        let got = st.log_batch(&run, &batch).with_context(|| format!("writing the drift series of step {step}"))?;
        if got.duplicate {
            skipped += 1;
        } else {
            written += got.points;
        }
        rejected.extend(got.rejected.into_iter().map(|x| format!("{} `{}`: {}", x.what, x.key, x.reason)));
        reports.push((step, prof.rows, report));
    }
    let drifted: Vec<i64> = reports.iter().filter(|(_, _, r)| r.drift).map(|(s, ..)| *s).collect();
    if args.json {
        let steps: Vec<serde_json::Value> = reports
            .iter()
            .map(|(step, rows, report)| json!({ "step": step, "rows": rows, "report": report }))
            .collect();
        let out = json!({
            "run": run,
            "dataset": args.dataset,
            "reference": { "run": r_run, "dataset": r.dataset, "step": r_step, "rows": r_prof.rows },
            "steps": steps,
            "drifted_steps": drifted,
            "points_written": written,
            "steps_already_written": skipped,
            "rejected": rejected,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let rows: Vec<Vec<String>> = reports
            .iter()
            .map(|(step, rows, r)| {
                let cols: Vec<&str> =
                    r.columns.iter().filter(|c| c.drift == Some(true)).map(|c| c.column.as_str()).collect();
                vec![
                    step.to_string(),
                    rows.to_string(),
                    format!("{}/{}", r.drifted, r.tested),
                    r.share.map_or("-".into(), |s| format!("{:.0}%", s * 100.0)),
                    if r.drift { "DRIFT".into() } else { "ok".into() },
                    cols.join(", "),
                ]
            })
            .collect();
        print!("{}", output::table(&["step", "rows", "drifted", "share", "verdict", "columns"], &rows));
        println!(
            "\n{} step(s) of {} against {}:{}: {} drifted; {} point(s) written to run {} as drift/<column>/<stat>{}",
            reports.len(),
            output::escape(&args.dataset),
            r_run,
            output::escape(&r.dataset),
            drifted.len(),
            written,
            run,
            if skipped > 0 { format!(" ({skipped} step(s) already written)") } else { String::new() },
        );
        for x in &rejected {
            eprintln!("warning: refused by the store: {}", output::escape(x));
        }
    }
    Ok(args.fail_on_drift && !drifted.is_empty())
}

fn num(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(x) if x != 0.0 && x.abs() < 1e-4 => format!("{x:.3e}"),
        Some(x) => format!("{x:.4}"),
    }
}

/// The per-column table, the notes and the dataset's verdict.
pub fn render(report: &DriftReport) -> String {
    let rows: Vec<Vec<String>> = report
        .columns
        .iter()
        .map(|c| {
            let ty = match (c.ref_dtype, c.cur_dtype) {
                (Some(a), Some(b)) if a == b => a.to_string(),
                (a, b) => {
                    format!("{}/{}", a.map_or("-".into(), |t| t.to_string()), b.map_or("-".into(), |t| t.to_string()))
                }
            };
            let threshold = match (c.test, c.threshold) {
                (Some(t), Some(v)) if t.uses_p_value() => format!("p < {}", num(Some(v))),
                (Some(_), Some(v)) => format!(">= {}", num(Some(v))),
                _ => "-".into(),
            };
            let verdict = match c.drift {
                Some(true) => "DRIFT",
                Some(false) => "ok",
                None => "untested",
            };
            let exact = match (c.test, c.exact, c.error_bound) {
                (None, _, _) => "-".into(),
                (_, true, _) => "exact".into(),
                (_, false, Some(b)) => format!("± {}", num(Some(b))),
                (_, false, None) => "sketch".into(),
            };
            vec![
                c.column.clone(),
                ty,
                c.test.map_or("-".into(), |t| t.name().to_string()),
                num(c.statistic),
                num(c.p_value),
                threshold,
                verdict.into(),
                exact,
            ]
        })
        .collect();
    let mut out = output::table(
        &["column", "type", "test", "statistic", "p-value", "threshold", "verdict", "exact/bound"],
        &rows,
    );
    let mut notes = String::new();
    for c in &report.columns {
        let why = std::iter::once(c.reason.as_str()).filter(|r| !r.is_empty() && *r != "chosen");
        for n in why.chain(c.notes.iter().map(String::as_str)) {
            notes.push_str(&format!("  {}: {}\n", output::escape(&c.column), output::escape(n)));
        }
    }
    if !notes.is_empty() {
        out.push_str("\nnotes:\n");
        out.push_str(&notes);
    }
    let drifted: Vec<&str> =
        report.columns.iter().filter(|c| c.drift == Some(true)).map(|c| c.column.as_str()).collect();
    out.push('\n');
    match report.share {
        None => out.push_str("dataset: no column could be tested: no drift verdict\n"),
        Some(share) => out.push_str(&format!(
            "dataset: {} of {} tested columns drifted ({:.0}%, drift at {:.0}%): {}{}\n",
            report.drifted,
            report.tested,
            share * 100.0,
            report.drift_share * 100.0,
            if report.drift { "DRIFT" } else { "no drift" },
            if drifted.is_empty() {
                String::new()
            } else {
                format!(" ({})", drifted.iter().map(|d| output::escape(d)).collect::<Vec<_>>().join(", "))
            },
        )),
    }
    out
}
