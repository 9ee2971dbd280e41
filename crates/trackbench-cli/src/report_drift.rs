//! `trackbench report --drift REF CUR`: two logged dataset profiles tested for drift, turned
//! into the report's drift section.
//!
//! Glue only: the profiles are found as `trackbench drift` finds them (`cmd_drift::profile`,
//! the same `--test`/`--threshold`/`--columns`), the tests and the charts' numbers are
//! `trackbench-data`'s (`drift`, `chart`), and this file copies them into
//! `trackbench-report`'s plain [`DriftSection`], which the renderer draws. Everything goes
//! through `dyn Backend`, so it works on any store (`--store postgres://…` included).

use anyhow::Context;
use trackbench_report::{DriftChart, DriftColumn, DriftRule, DriftSection, DriftSide};
use trackbench_sdk::data::{self, ColumnDrift, Profile, PsiBand};
use trackbench_sdk::dataset::Spec;
use trackbench_store::{Backend, StoreError};

use crate::cmd_drift::{TestArgs, check_columns, profile};

/// Histogram bins of a numeric column's chart.
const BINS: usize = 30;
/// Categories of a categorical column's chart (the rest is "(other)").
const TOP: usize = 10;

/// A usage error (exit 2).
fn usage(why: String) -> anyhow::Error {
    anyhow::Error::new(StoreError::Invalid { what: "--drift", why })
}

/// The drift section of `reference` against `current` (each `RUN:DATASET[@STEP]`), its columns
/// in severity order.
pub fn drift_section(
    st: &dyn Backend,
    reference: &str,
    current: &str,
    tests: &TestArgs,
) -> anyhow::Result<DriftSection> {
    let options = tests.options().map_err(|e| usage(format!("{e:#}")))?;
    let spec = |what: &str, s: &str| -> anyhow::Result<Spec> { s.parse().map_err(|e| usage(format!("{what}: {e}"))) };
    let (r, c) = (spec("REF", reference)?, spec("CUR", current)?);
    let side = |what: &str, s: &Spec| -> anyhow::Result<(DriftSide, Profile)> {
        let (run, step, prof) = profile(st, s).with_context(|| format!("--drift {what} {s}"))?;
        let run_name = st.run(&run).map(|r| r.name).unwrap_or_default();
        Ok((DriftSide { run, run_name, dataset: s.dataset.clone(), step, rows: prof.rows }, prof))
    };
    let (r_side, r_prof) = side("REF", &r)?;
    let (c_side, c_prof) = side("CUR", &c)?;
    check_columns(&options, &r_prof, &c_prof).map_err(|e| usage(format!("{e:#}")))?;
    let report = data::drift(&r_prof, &c_prof, &options);
    let columns = report
        .columns
        .iter()
        .map(|d| {
            let chart = data::chart(&[r_prof.column(&d.column), c_prof.column(&d.column)], BINS, TOP);
            column(d, chart)
        })
        .collect();
    let mut section = DriftSection {
        reference: r_side,
        current: c_side,
        tested: report.tested,
        drifted: report.drifted,
        share: report.share,
        drift_share: report.drift_share,
        drift: report.drift,
        columns,
    };
    section.sort_by_severity();
    Ok(section)
}

fn column(d: &ColumnDrift, chart: data::Chart) -> DriftColumn {
    let reason = match d.test {
        Some(t) if d.reason == "chosen" => format!("chosen with --test {}", t.name()),
        _ => d.reason.clone(),
    };
    let mut notes = d.notes.clone();
    if let (Some(w), Some(_)) = (d.wasserstein, d.statistic) {
        notes.push(format!(
            "raw Wasserstein distance {} (the statistic is it divided by the reference's standard deviation)",
            trackbench_report::format_num(w)
        ));
    }
    if let Some(band) = d.psi_band {
        notes.push(
            match band {
                PsiBand::None => "PSI band: no shift (below 0.1)",
                PsiBand::Moderate => "PSI band: moderate shift (0.1 to 0.2)",
                PsiBand::Major => "PSI band: major shift (0.2 and above)",
            }
            .into(),
        );
    }
    DriftColumn {
        column: d.column.clone(),
        ref_dtype: d.ref_dtype.map(|t| t.to_string()),
        cur_dtype: d.cur_dtype.map(|t| t.to_string()),
        test: d.test.map(|t| t.name().to_string()),
        reason,
        statistic: d.statistic,
        p_value: d.p_value,
        threshold: d.threshold,
        rule: if d.test.is_some_and(|t| t.uses_p_value()) {
            DriftRule::PValueBelow
        } else {
            DriftRule::StatisticAtLeast
        },
        drift: d.drift,
        exact: d.exact,
        error_bound: d.error_bound,
        ref_n: d.ref_n,
        cur_n: d.cur_n,
        notes,
        chart: drift_chart(chart),
    }
}

/// `chart` over `[reference, current]` as the report draws it.
fn drift_chart(chart: data::Chart) -> DriftChart {
    let pair = |mut v: Vec<Vec<f64>>| {
        let current = v.pop().unwrap_or_default();
        let reference = v.pop().unwrap_or_default();
        (reference, current)
    };
    let at = |v: &[f64], i: usize| v.get(i).copied().unwrap_or(0.0);
    match chart {
        data::Chart::Numeric { edges, shares, error, .. } => {
            let (reference, current) = pair(shares);
            DriftChart::Histogram {
                edges,
                reference,
                current,
                reference_error: at(&error, 0),
                current_error: at(&error, 1),
            }
        }
        data::Chart::Categorical { labels, shares, other, error } => {
            let (reference, current) = pair(shares);
            DriftChart::Categories {
                labels,
                reference,
                current,
                reference_other: at(&other, 0),
                current_other: at(&other, 1),
                reference_error: at(&error, 0),
                current_error: at(&error, 1),
            }
        }
        data::Chart::None { why } => DriftChart::None { why },
    }
}
