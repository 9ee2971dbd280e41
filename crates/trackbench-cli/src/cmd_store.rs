//! `trackbench store copy --from DIR|URL --to DIR|URL`: a whole store from one backend to
//! another (a folder to a team PostgreSQL database and its object store, and back) with a
//! progress bar, through `trackbench_store::copy`. Idempotent and resumable: kill it and run
//! it again, it completes and nothing is doubled. Exit 0 when the destination holds at least
//! what the source holds afterwards (more is fine: a team store with others' runs), 1 (saying
//! what is short) otherwise.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use trackbench_store::Backend;
use trackbench_store::copy::{CopyProgress, copy_store, counts, summary_line};

use crate::{Ctx, TeamSpec, is_postgres_url, output};

#[derive(Subcommand)]
pub enum StoreCmd {
    /// Copy every project, run, point, artifact, A/B and model from one store to another
    /// (resumable: run it again after an interruption)
    Copy(CopyArgs),
}

#[derive(Args)]
pub struct CopyArgs {
    /// The store to copy: a folder or postgres://USER@HOST:PORT/DB
    #[arg(long, value_name = "DIR|URL")]
    from: String,
    /// Where to copy it: a folder (created when missing) or postgres://…
    #[arg(long, value_name = "DIR|URL")]
    to: String,
    /// Where the source team store's artifacts live (s3://…, gs://…, az://…, file:///…)
    #[arg(long, value_name = "URL")]
    from_artifacts: Option<String>,
    /// Where the destination team store's artifacts go
    #[arg(long, value_name = "URL")]
    to_artifacts: Option<String>,
    /// Print the report and both sides' counts as JSON
    #[arg(long)]
    json: bool,
}

pub fn store(ctx: &Ctx, cmd: StoreCmd) -> anyhow::Result<()> {
    match cmd {
        StoreCmd::Copy(a) => copy(ctx, a),
    }
}

/// Opens `spec` (a folder or a PostgreSQL URL with its artifact store) with `ctx`'s options.
fn open(ctx: &Ctx, spec: &str, artifacts: Option<&str>, side: &str) -> anyhow::Result<Box<dyn Backend>> {
    let team =
        is_postgres_url(spec).then(|| TeamSpec { url: spec.to_string(), artifacts: artifacts.map(String::from) });
    if let Some(t) = &team
        && t.artifacts.is_none()
    {
        bail!("--{side} names a team store: give --{side}-artifacts URL too (where its artifacts live)");
    }
    let side_ctx = Ctx { store_dir: PathBuf::from(spec), team, opts: ctx.opts.clone() };
    side_ctx.open().with_context(|| format!("opening the {side} store"))
}

fn copy(ctx: &Ctx, a: CopyArgs) -> anyhow::Result<()> {
    if a.from == a.to {
        bail!("--from and --to name the same store");
    }
    let mut src = open(ctx, &a.from, a.from_artifacts.as_deref(), "from")?;
    let mut dst = open(ctx, &a.to, a.to_artifacts.as_deref(), "to")?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix:>8} [{bar:30}] {pos}/{len} runs  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let started = std::time::Instant::now();
    let report = copy_store(&mut *src, &mut *dst, &mut |p: &CopyProgress| {
        bar.set_prefix(p.phase);
        bar.set_length(p.runs_total);
        bar.set_position(p.runs_done);
        bar.set_message(format!("{} points, {} artifact bytes  {}", p.points, p.bytes, p.item));
        bar.tick();
        Ok(())
    })
    .context("copying the store (run the same command again to resume)")?;
    bar.finish_and_clear();
    let took = started.elapsed();
    let (from, to) = (counts(&*src)?, counts(&*dst)?);
    let differ = from.differences(&to);
    // A destination may hold more than the source (a team store with others' runs): the copy
    // failed only where it holds less.
    let short: Vec<_> = differ.iter().filter(|(_, x, y)| x > y).collect();
    if a.json {
        let v = serde_json::json!({
            "report": report,
            "seconds": took.as_secs_f64(),
            "from": from,
            "to": to,
            "agree": differ.is_empty(),
            "complete": short.is_empty(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        if report.is_noop() {
            println!("nothing to copy: the destination already holds everything ({} runs)", report.runs_skipped);
        } else {
            println!("copied in {:.1} s: {}", took.as_secs_f64(), summary_line(&report));
        }
        for w in &report.warnings {
            println!("warning: {}", output::escape(w));
        }
        let rows: Vec<Vec<String>> = from
            .rows()
            .into_iter()
            .zip(to.rows())
            .map(|((k, x), (_, y))| vec![k.to_string(), x.to_string(), y.to_string()])
            .collect();
        print!("{}", output::table(&["COUNT", "FROM", "TO"], &rows));
    }
    if !short.is_empty() {
        let what: Vec<String> = short.iter().map(|(k, x, y)| format!("{k}: {x} here, {y} there")).collect();
        bail!("the destination holds less than the source after the copy: {}", what.join("; "));
    }
    if !differ.is_empty() && !a.json {
        println!("(the destination holds more than the source: it had runs of its own)");
    }
    Ok(())
}
