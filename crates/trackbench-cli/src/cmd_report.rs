//! `trackbench report`: a comparison of runs exported as one self-contained HTML file, Markdown
//! with PNG charts, or the CSV/JSON numbers behind them.
//!
//! Glue only: runs are selected, compared and turned into a [`ReportInput`] by
//! `trackbench-compare` (`document`, shared with the server's report endpoints), and the
//! document is rendered by `trackbench-report`.
//!
//! `--drift REF CUR` adds a data drift section (two logged dataset profiles tested as
//! `trackbench drift` tests them, see `report_drift`): next to the runs' report, or, with no
//! runs chosen, as a report of its own. A bad spec, or a run or dataset that is not there, is
//! an error before anything is charted or written.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use trackbench_compare::{AxisKind, Direction, DocumentOptions, GroupBy, ab_selection, document};
use trackbench_report::ReportInput;
use trackbench_store::StoreError;

use crate::Ctx;
use crate::cmd_drift::TestArgs;
use crate::report_drift::drift_section;
use crate::selection::{DirectionArg, RunSelection, lift};

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Html,
    Md,
    Csv,
    Json,
}

#[derive(Args)]
pub struct ReportArgs {
    #[command(flatten)]
    select: RunSelection,
    /// Report an A/B comparison (`trackbench ab`): its runs grouped by arm, its verdict
    #[arg(long, value_name = "ID", conflicts_with_all = ["runs", "filter", "project", "group_by"])]
    ab: Option<String>,
    /// Output file (Markdown writes its PNG charts into a folder next to it)
    #[arg(long, short)]
    output: PathBuf,
    /// Output format [default: from the file extension, else html]
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Metrics to chart and summarise [default: every metric all runs logged]
    #[arg(long, short, value_delimiter = ',', value_name = "KEY")]
    metric: Vec<String>,
    /// Which way is better [default: guessed per metric]
    #[arg(long, value_enum)]
    direction: Option<DirectionArg>,
    /// Compare groups of runs (e.g. the seeds of two variants): by a param or by the run group
    #[arg(long, value_name = "params.KEY|group")]
    group_by: Option<String>,
    /// X axis of the charts
    #[arg(long, default_value = "step", value_parser = ["step", "relative", "wall"])]
    axis: String,
    /// EMA smoothing weight for run lines, 0 (none) to 0.99
    #[arg(long, default_value_t = 0.0)]
    smooth: f64,
    /// Logarithmic y axis
    #[arg(long)]
    log_y: bool,
    /// Points per chart line (series are downsampled; min/max kept per bucket)
    #[arg(long, default_value_t = 1000)]
    points: usize,
    /// Document title
    #[arg(long)]
    title: Option<String>,
    /// Add a data drift section: dataset profiles REF and CUR (RUN:DATASET[@STEP] each, as for
    /// `trackbench drift`) tested column by column, with a chart per column. Alone (no runs,
    /// --filter, --project or --ab), the report is that section only
    #[arg(long, num_args = 2, value_names = ["REF", "CUR"])]
    drift: Option<Vec<String>>,
    #[command(flatten, next_help_heading = "Data drift (with --drift)")]
    tests: TestArgs,
}

impl ReportArgs {
    /// Arguments as if typed after `trackbench report` (for the demo).
    pub fn parse_from(args: &[&str]) -> anyhow::Result<ReportArgs> {
        #[derive(clap::Parser)]
        struct Wrapper {
            #[command(flatten)]
            args: ReportArgs,
        }
        let argv = std::iter::once("report").chain(args.iter().copied());
        Ok(<Wrapper as clap::Parser>::try_parse_from(argv)?.args)
    }
}

fn format_of(a: &ReportArgs) -> Format {
    a.format.unwrap_or_else(|| match a.output.extension().and_then(|e| e.to_str()) {
        Some("md") | Some("markdown") => Format::Md,
        Some("csv") => Format::Csv,
        Some("json") => Format::Json,
        _ => Format::Html,
    })
}

/// A usage error (exit 2).
fn usage(what: &'static str, why: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(StoreError::Invalid { what, why: why.into() })
}

pub fn report_cmd(ctx: &Ctx, a: ReportArgs) -> anyhow::Result<()> {
    let drift_only = a.drift.is_some() && a.ab.is_none() && a.select.is_empty();
    if a.drift.is_none() && (a.tests.columns.is_some() || !a.tests.thresholds.is_empty() || a.tests.test != "auto") {
        return Err(usage("arguments", "--test, --threshold and --columns need --drift REF CUR"));
    }
    if drift_only && (!a.metric.is_empty() || a.group_by.is_some()) {
        return Err(usage("arguments", "--metric and --group-by need runs: name runs, or give --filter or --project"));
    }
    let mut boxed = ctx.open()?;
    let store = boxed.as_mut();
    // Drift first: a bad spec fails before any run is charted.
    let drift = match a.drift.as_deref() {
        Some([reference, current]) => Some(drift_section(&*store, reference, current, &a.tests)?),
        Some(other) => return Err(usage("--drift", format!("expected REF and CUR, got {} values", other.len()))),
        None => None,
    };
    let generated_by = std::env::args().collect::<Vec<_>>().join(" ");
    if drift_only {
        let specs = a.drift.as_deref().unwrap_or_default().join(" vs ");
        let input = ReportInput {
            title: a.title.clone().unwrap_or_else(|| format!("Data drift: {specs}")),
            generated_at: trackbench_store::format_utc(trackbench_store::now_ms()) + " UTC",
            generated_by,
            drift,
            ..Default::default()
        };
        write(&input, format_of(&a), &a.output)?;
        eprintln!("wrote {}", a.output.display());
        return Ok(());
    }
    let ab = match &a.ab {
        Some(id) => Some(store.ab(&store.resolve_ab(id)?)?),
        None => None,
    };
    let (selection, runs) = match &ab {
        Some(ab) => ab_selection(&*store, ab).map_err(lift)?,
        None => a.select.resolve(&*store)?,
    };
    let opts = DocumentOptions {
        metrics: a.metric.clone(),
        direction: a.direction.map(Direction::from),
        group_by: a.group_by.as_deref().map(GroupBy::parse).transpose().map_err(lift)?,
        axis: AxisKind::parse(&a.axis).unwrap_or(AxisKind::Step),
        smooth: a.smooth,
        log_y: a.log_y,
        points: a.points,
        title: a.title.clone(),
        generated_at_ms: trackbench_store::now_ms(),
        generated_by,
    };
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{spinner} charting {pos}/{len} series {wide_bar} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut input = document(&mut *store, &selection, &runs, ab.as_ref(), &opts, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .map_err(lift)?;
    input.drift = drift;
    bar.finish_and_clear();
    write(&input, format_of(&a), &a.output)?;
    eprintln!("wrote {}", a.output.display());
    Ok(())
}

fn write(input: &ReportInput, format: Format, path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let write_file =
        |p: &Path, bytes: &[u8]| std::fs::write(p, bytes).with_context(|| format!("writing {}", p.display()));
    match format {
        Format::Html => write_file(path, trackbench_report::render_html(input)?.as_bytes()),
        Format::Csv => write_file(path, trackbench_report::render_csv(input)?.as_bytes()),
        Format::Json => write_file(path, trackbench_report::render_json(input)?.as_bytes()),
        Format::Md => {
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("report");
            let dir_name = format!("{stem}_files");
            let (md, pngs) = trackbench_report::render_markdown(input, &dir_name)?;
            let dir = path.with_file_name(&dir_name);
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            for (name, bytes) in pngs {
                write_file(&dir.join(name), &bytes)?;
            }
            write_file(path, md.as_bytes())
        }
    }
}
